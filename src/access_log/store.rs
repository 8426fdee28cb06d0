//! Rule 9: every read and change of case data leaves an access event, written in the same transaction as
//! the read or the change, so there is no change without its trace. Only ids, roles and the actor's name
//! are stored: never the content that was read.

use diesel::prelude::*;
use diesel::sql_types::{Array, Text, Uuid as SqlUuid};
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::schema::access_events;
use crate::http::error::AppError;

crate::text_enum! {
    /// On which basis a caller reads a case; recorded with every access event.
    pub enum Basis {
        /// A professional of the stafettholder's own service.
        HolderService,
        /// A professional of a service the effective consent covers.
        Consent,
        Guardian,
        SubjectYouth,
        /// An integration acting for services of which a professional with access is in the case.
        Integration,
        /// A professional shown a handover of the stafettholder role proposed to them.
        HandoverRecipient,
        /// A unit leader of the stafettholder's service: metadata, and reassigning the relay.
        Leader,
        /// An administrator or the municipality's systems acting on staff (a departure cancels handovers).
        Administration,
        /// No one's access decides: the service itself acted (closing a case whose consent expired), or
        /// the event was written before the bases were told apart. The access rules never give it.
        Participant,
    }
}

crate::text_enum! {
    /// What an access event says was done.
    pub enum Action {
        Read,
        List,
        Create,
        Update,
        Close,
        Export,
        Withdraw,
        Deactivate,
        Propose,
        Accept,
        Decline,
        Cancel,
        Import,
        /// A leader moved the stafettholder role at once.
        Reassign,
        /// A giver signed a digital consent.
        Sign,
        /// The retention period was over and the service erased the case's personal data.
        Purge,
    }
}

crate::text_enum! {
    /// What an access event says was read or changed: the case, one part of it, or a list that showed
    /// it. The family reads these words in the access log.
    pub enum Resource {
        Case,
        CaseAccessLog = "case.access_log",
        CaseConsents = "case.consents",
        CaseEntries = "case.entries",
        CaseHandovers = "case.handovers",
        CaseLevelChanges = "case.level_changes",
        CaseMeasures = "case.measures",
        CaseMyData = "case.my_data",
        CaseParticipants = "case.participants",
        CaseSteps = "case.steps",
        CaseTimeline = "case.timeline",
        CasePlans = "case.plans",
        CaseMeetings = "case.meetings",
        /// The level-0 decisions (rule 12).
        CaseDecisions = "case.decisions",
        /// A report to child welfare recorded as a level-0 decision: rule 11 keeps this event out of what
        /// the family reads (`crate::policy::decisions`).
        ChildWelfareReport = "case.child_welfare_report",
        /// The stafettholder role, moved by a leader, with the reason given: the family reads why.
        CaseHolderAbsence = "case.holder (reason: absence)",
        CaseHolderLeft = "case.holder (reason: left)",
        CaseHolderWorkload = "case.holder (reason: workload)",
        CaseHolderOther = "case.holder (reason: other)",
        /// A professional's list of handovers proposed to them.
        HandoversInbox = "handovers.inbox",
        /// What waits for the caller (`GET /me/attention`).
        MeAttention = "me.attention",
        /// The caller's coming meetings (`GET /me/meetings`).
        MeMeetings = "me.meetings",
        /// The caller's calendar subscription, read by their calendar app.
        MeCalendar = "me.calendar",
        /// What waits in a service a leader leads.
        ServiceAttention = "service.attention",
        /// The cases of a service a leader leads.
        ServiceCases = "service.cases",
    }
}

#[derive(Insertable)]
#[diesel(table_name = access_events)]
struct NewAccessEvent<'a> {
    municipality: &'a str,
    case_id: Uuid,
    actor_user_id: &'a str,
    actor_name: &'a str,
    actor_role: &'static str,
    action: &'static str,
    resource: &'static str,
    request_id: &'a str,
    basis: &'static str,
}

crate::prepared_statement! {
    /// Access events of one caller, one action and one resource, for any number of cases (a list).
    struct RecordEvents<'a> {
        1 => municipality: &'a str as Text,
        2 => case_ids: &'a [Uuid] as Array<SqlUuid>,
        3 => actor_user_id: &'a str as Text,
        4 => actor_name: &'a str as Text,
        5 => actor_role: &'a str as Text,
        6 => action: &'a str as Text,
        7 => resource: &'a str as Text,
        8 => request_id: &'a str as Text,
        9 => bases: &'a [&'a str] as Array<Text>,
    }
    = "INSERT INTO access_events (municipality, case_id, actor_user_id, actor_name, actor_role, action, \
           resource, request_id, basis) \
       SELECT $1, e.case_id, $3, $4, $5, $6, $7, $8, e.basis \
       FROM unnest($2::uuid[], $9::text[]) AS e(case_id, basis)";
}

crate::prepared_statement! {
    /// The access event of a change and the change's event in the feed, in one statement: a change costs
    /// one round trip for both (the feed numbering as in `crate::changes::store::emit_many`).
    struct RecordChange<'a> {
        1 => municipality: &'a str as Text,
        2 => case_id: &'a Uuid as SqlUuid,
        3 => actor_user_id: &'a str as Text,
        4 => actor_name: &'a str as Text,
        5 => actor_role: &'a str as Text,
        6 => action: &'a str as Text,
        7 => resource: &'a str as Text,
        8 => request_id: &'a str as Text,
        9 => basis: &'a str as Text,
        10 => change: &'a str as Text,
    }
    = "WITH event AS ( \
         INSERT INTO access_events (municipality, case_id, actor_user_id, actor_name, actor_role, action, \
             resource, request_id, basis) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)), \
       counter AS ( \
         INSERT INTO feed_counters AS f (municipality, last_seq) VALUES ($1, 1) \
         ON CONFLICT (municipality) DO UPDATE SET last_seq = f.last_seq + 1 RETURNING last_seq) \
       INSERT INTO change_events (seq, municipality, case_id, type) \
       SELECT counter.last_seq, $1, $2, $10 FROM counter";
}

/// The columns of one access event, for statements that write it together with what was read
/// (`access_event_cte!`).
pub struct EventValues<'a> {
    pub municipality: &'a str,
    pub case_id: Uuid,
    pub actor_user_id: &'a str,
    pub actor_name: &'a str,
    pub actor_role: &'static str,
    pub action: &'static str,
    pub resource: &'static str,
    pub request_id: &'a str,
    pub basis: &'static str,
}

impl<'a> EventValues<'a> {
    pub fn new(
        caller: &'a Caller,
        (case_id, basis): (Uuid, Basis),
        action: Action,
        resource: Resource,
    ) -> EventValues<'a> {
        EventValues {
            municipality: &caller.tenant,
            case_id,
            actor_user_id: &caller.user_id,
            actor_name: &caller.name,
            actor_role: caller.primary_role().as_str(),
            action: action.as_str(),
            resource: resource.as_str(),
            request_id: &caller.request_id,
            basis: basis.as_str(),
        }
    }
}

/// `event AS (INSERT ...)`: a read's access event as a common table expression of the read itself, so
/// the read and its trace cost one round trip. The event's values are the binds `$101`-`$109`, in the
/// order of [`EventValues`]; see `crate::entries::handlers` for a statement that uses it.
#[macro_export]
macro_rules! access_event_cte {
    () => {
        "event AS (INSERT INTO access_events (municipality, case_id, actor_user_id, actor_name, \
            actor_role, action, resource, request_id, basis) \
            VALUES ($101, $102, $103, $104, $105, $106, $107, $108, $109))"
    };
}

/// Records that `caller` did `action` on `resource` of each case, on the given basis: one prepared
/// statement, however many cases a list showed.
pub fn record(
    conn: &mut PgConnection,
    caller: &Caller,
    case_ids: &[(Uuid, Basis)],
    action: Action,
    resource: Resource,
) -> Result<(), AppError> {
    if case_ids.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = case_ids.iter().map(|(id, _)| *id).collect();
    let bases: Vec<&str> = case_ids.iter().map(|(_, b)| b.as_str()).collect();
    RecordEvents {
        municipality: &caller.tenant,
        case_ids: &ids,
        actor_user_id: &caller.user_id,
        actor_name: &caller.name,
        actor_role: caller.primary_role().as_str(),
        action: action.as_str(),
        resource: resource.as_str(),
        request_id: &caller.request_id,
        bases: &bases,
    }
    .execute(conn)?;
    Ok(())
}

/// [`record`] for one case, together with the change's event in the feed. Call it last in the
/// transaction: it takes the municipality's feed counter lock, held until commit.
pub fn record_change(
    conn: &mut PgConnection,
    caller: &Caller,
    (case_id, basis): (Uuid, Basis),
    action: Action,
    resource: Resource,
    change: crate::changes::api::ChangeType,
) -> Result<(), AppError> {
    crate::db::listen::written(&caller.tenant);
    RecordChange {
        municipality: &caller.tenant,
        case_id: &case_id,
        actor_user_id: &caller.user_id,
        actor_name: &caller.name,
        actor_role: caller.primary_role().as_str(),
        action: action.as_str(),
        resource: resource.as_str(),
        request_id: &caller.request_id,
        basis: basis.as_str(),
        change: change.as_str(),
    }
    .execute(conn)?;
    Ok(())
}

/// An access event as another system recorded it: an imported case brings the family's history along.
#[derive(Insertable)]
#[diesel(table_name = access_events)]
pub struct PastAccessEvent<'a> {
    pub municipality: &'a str,
    pub case_id: Uuid,
    pub actor_user_id: &'a str,
    pub actor_name: &'a str,
    pub actor_role: &'a str,
    pub action: &'a str,
    pub resource: &'a str,
    pub request_id: &'a str,
    pub basis: &'a str,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Writes past access events, any number, oldest first (their ids keep that order).
pub fn record_past(conn: &mut PgConnection, events: &[PastAccessEvent]) -> Result<(), AppError> {
    crate::db::bulk::insert(events, |chunk| {
        diesel::insert_into(access_events::table)
            .values(chunk)
            .execute(conn)
    })
}

/// Whether `word` is an [`Action`] this service records.
pub fn known_action(word: &str) -> bool {
    word.parse::<Action>().is_ok()
}

/// Whether `word` is a [`Basis`] an access event can have.
pub fn known_basis(word: &str) -> bool {
    word.parse::<Basis>().is_ok()
}

/// Whether `word` is a [`Resource`] this service records.
pub fn known_resource(word: &str) -> bool {
    word.parse::<Resource>().is_ok()
}

/// What the service itself did to a case (closing it when its consent expired), in the same log, so
/// the family sees it too.
pub fn record_system(
    conn: &mut PgConnection,
    case: &crate::cases::store::CaseRow,
    action: Action,
    resource: Resource,
) -> Result<(), AppError> {
    diesel::insert_into(access_events::table)
        .values(NewAccessEvent {
            municipality: &case.municipality,
            case_id: case.id,
            actor_user_id: "stafettlogg",
            actor_name: "Stafettlogg",
            actor_role: "system",
            action: action.as_str(),
            resource: resource.as_str(),
            request_id: "",
            basis: Basis::Participant.as_str(),
        })
        .execute(conn)?;
    Ok(())
}

/// An access event as the family and the stafettholder read it back.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = access_events)]
pub struct EventRow {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor_user_id: String,
    pub actor_name: String,
    pub actor_role: String,
    pub action: Action,
    pub resource: Resource,
    pub basis: Basis,
}

/// The case's events before the event `before` (ids increase), newest first, at most `limit`; events of
/// the resources in `hidden` are left out (rule 11: the family does not see a report's trace).
pub fn page(
    conn: &mut PgConnection,
    case_id: Uuid,
    before: Option<i64>,
    limit: i64,
    hidden: &[Resource],
) -> Result<Vec<EventRow>, AppError> {
    let mut q = access_events::table
        .filter(access_events::case_id.eq(case_id))
        .filter(access_events::resource.ne_all(hidden.iter().map(|r| r.as_str())))
        .order(access_events::id.desc())
        .limit(limit)
        .select(EventRow::as_select())
        .into_boxed();
    if let Some(before) = before {
        q = q.filter(access_events::id.lt(before));
    }
    Ok(q.load(conn)?)
}

#[cfg(test)]
mod basis_tests {
    use super::{known_basis, Basis};
    use strum::VariantArray;

    #[test]
    fn every_basis_the_service_writes_is_one_an_import_accepts() {
        for basis in Basis::VARIANTS {
            assert!(known_basis((*basis).into()), "{basis:?}");
        }
        assert!(known_basis("participant"));
        assert!(!known_basis("friend_of_the_family"));
    }
}
