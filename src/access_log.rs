//! Rule 9: every read and change of case data leaves an access event, written in the same transaction as
//! the read or the change, so there is no change without its trace. Only ids, roles and the actor's name
//! are stored: never the content that was read.

use diesel::prelude::*;
use diesel::sql_types::{Array, Text, Uuid as SqlUuid};
use uuid::Uuid;

use crate::access::Basis;
use crate::auth::Caller;
use crate::db::schema::access_events;
use crate::http::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
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
    resource: &'a str,
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
    /// one round trip for both (the feed numbering as in `crate::changes::emit_many`).
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
    pub resource: &'a str,
    pub request_id: &'a str,
    pub basis: &'static str,
}

impl<'a> EventValues<'a> {
    pub fn new(
        caller: &'a Caller,
        (case_id, basis): (Uuid, Basis),
        action: Action,
        resource: &'a str,
    ) -> EventValues<'a> {
        EventValues {
            municipality: &caller.tenant,
            case_id,
            actor_user_id: &caller.user_id,
            actor_name: &caller.name,
            actor_role: caller.primary_role().into(),
            action: action.into(),
            resource,
            request_id: &caller.request_id,
            basis: basis.into(),
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

/// Records that `caller` did `action` on `resource` (e.g. `case`, `case.participants`) of each case, on
/// the given basis: one prepared statement, however many cases a list showed.
pub fn record(
    conn: &mut PgConnection,
    caller: &Caller,
    case_ids: &[(Uuid, Basis)],
    action: Action,
    resource: &str,
) -> Result<(), AppError> {
    if case_ids.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = case_ids.iter().map(|(id, _)| *id).collect();
    let bases: Vec<&str> = case_ids.iter().map(|(_, b)| <&str>::from(*b)).collect();
    RecordEvents {
        municipality: &caller.tenant,
        case_ids: &ids,
        actor_user_id: &caller.user_id,
        actor_name: &caller.name,
        actor_role: caller.primary_role().into(),
        action: action.into(),
        resource,
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
    resource: &str,
    change: crate::changes::ChangeType,
) -> Result<(), AppError> {
    crate::jobs::listen::written(&caller.tenant);
    RecordChange {
        municipality: &caller.tenant,
        case_id: &case_id,
        actor_user_id: &caller.user_id,
        actor_name: &caller.name,
        actor_role: caller.primary_role().into(),
        action: action.into(),
        resource,
        request_id: &caller.request_id,
        basis: basis.into(),
        change: change.into(),
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
    crate::bulk::insert(events, |chunk| {
        diesel::insert_into(access_events::table)
            .values(chunk)
            .execute(conn)
    })
}

/// Whether `word` is an [`Action`] this service records.
pub fn known_action(word: &str) -> bool {
    word.parse::<Action>().is_ok()
}

/// Whether `word` is a basis an access event can have: one of [`Basis`], or `participant`, which events
/// written before the bases were told apart carry.
pub fn known_basis(word: &str) -> bool {
    word == "participant" || word.parse::<Basis>().is_ok()
}

/// What the service itself did to a case (closing it when its consent expired), in the same log, so
/// the family sees it too.
pub fn record_system(
    conn: &mut PgConnection,
    case: &crate::cases::model::CaseRow,
    action: Action,
    resource: &str,
) -> Result<(), AppError> {
    diesel::insert_into(access_events::table)
        .values(NewAccessEvent {
            municipality: &case.municipality,
            case_id: case.id,
            actor_user_id: "stafettlogg",
            actor_name: "Stafettlogg",
            actor_role: "system",
            action: action.into(),
            resource,
            request_id: "",
            basis: "participant",
        })
        .execute(conn)?;
    Ok(())
}

/// Rule 9, the family's side: who read or changed what in the case, for the stafettholder and the
/// guardians.
pub mod api {
    use actix_web::{get, web, HttpRequest, HttpResponse};
    use chrono::{DateTime, Utc};
    use diesel::prelude::*;
    use serde::{Deserialize, Serialize};
    use utoipa::{IntoParams, ToSchema};
    use uuid::Uuid;
    use validator::Validate;

    use super::Action;
    use crate::access;
    use crate::auth::Caller;
    use crate::db::schema::access_events;
    use crate::db::{self, Pool};
    use crate::http::error::AppError;
    use crate::http::extract::ValidQuery;
    use crate::http::pagination::{self, Page};

    pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
        cfg.service(access_log);
    }

    #[derive(Debug, Serialize, ToSchema)]
    pub struct Actor {
        pub user_id: String,
        pub name: String,
        pub role: String,
    }

    #[derive(Debug, Serialize, ToSchema)]
    pub struct AccessEvent {
        /// Opaque, increasing: the cursor key.
        pub id: i64,
        pub at: DateTime<Utc>,
        pub actor: Actor,
        /// read, list, create, update, close, withdraw, deactivate, export
        pub action: String,
        /// What was touched: case, case.participants, case.consents, case.entries, ...
        pub resource: String,
        /// On which basis: participant, holder_service, consent, guardian, subject_youth, integration,
        /// handover_recipient.
        pub basis: String,
    }

    #[derive(Debug, Deserialize, Validate, IntoParams)]
    #[serde(deny_unknown_fields)]
    #[into_params(parameter_in = Query)]
    pub struct AccessLogQuery {
        #[validate(range(min = 1, max = 200))]
        #[param(minimum = 1, maximum = 200, default = 50)]
        pub limit: Option<i64>,
        /// From `next_cursor` of the previous page.
        pub cursor: Option<String>,
    }

    type EventRow = (
        i64,
        DateTime<Utc>,
        String,
        String,
        String,
        String,
        String,
        String,
    );

    /// Who read or changed what in the case, newest first (the stafettholder and the guardians).
    #[utoipa::path(
        tag = "access log",
        security(("bearer" = [])),
        params(("id" = Uuid, Path, description = "The case id"), AccessLogQuery),
        responses(
            (status = 200, description = "A page of access events", body = Page<AccessEvent>),
            (status = 403, response = crate::http::openapi::Forbidden),
        )
    )]
    #[get("/cases/{id}/access-log")]
    pub async fn access_log(
        req: HttpRequest,
        caller: Caller,
        pool: web::Data<Pool>,
        path: web::Path<Uuid>,
        query: ValidQuery<AccessLogQuery>,
    ) -> Result<HttpResponse, AppError> {
        let id = path.into_inner();
        let limit = pagination::effective_limit(query.0.limit);
        let after: Option<i64> = match query.0.cursor.as_deref() {
            Some(c) => Some(
                pagination::decode_cursor(c)?
                    .parse()
                    .map_err(|_| pagination::not_issued())?,
            ),
            None => None,
        };
        let items = db::transaction(&pool, caller.session(), move |conn| {
            let access = access::case_for_read(conn, &caller, id)?;
            if !(access.is_holder() || access.is_guardian()) {
                return Err(AppError::forbidden(
                    "the access log is for the stafettholder and the guardians",
                ));
            }
            // Reading the log is itself recorded, after the page is read so it does not show on it.
            let mut q = access_events::table
                .filter(access_events::case_id.eq(id))
                .order(access_events::id.desc())
                .limit(limit + 1)
                .select((
                    access_events::id,
                    access_events::at,
                    access_events::actor_user_id,
                    access_events::actor_name,
                    access_events::actor_role,
                    access_events::action,
                    access_events::resource,
                    access_events::basis,
                ))
                .into_boxed();
            if let Some(after) = after {
                q = q.filter(access_events::id.lt(after));
            }
            let rows: Vec<EventRow> = q.load(conn)?;
            access.record(conn, &caller, Action::Read, "case.access_log")?;
            Ok(rows
                .into_iter()
                .map(
                    |(id, at, user_id, name, role, action, resource, basis)| AccessEvent {
                        id,
                        at,
                        actor: Actor {
                            user_id,
                            name,
                            role,
                        },
                        action,
                        resource,
                        basis,
                    },
                )
                .collect::<Vec<_>>())
        })
        .await?;
        Ok(pagination::respond(
            &req,
            pagination::page(items, limit, |e| e.id),
        ))
    }
}

#[cfg(test)]
mod basis_tests {
    use super::known_basis;
    use crate::access::Basis;
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
