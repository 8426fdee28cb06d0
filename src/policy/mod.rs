//! THE place that decides who may read or write a case: rule 8 of docs/rules.md, with the consent coverage of
//! rules 3-5 folded in. Handlers never decide access themselves: they ask `read_case` / `granted` /
//! `change_case` (one case, with the [`Need`] of the change: `writes`) or `list_batch` (a list). The
//! decision is made on the case's precomputed grants (`grants`: the database keeps them when the case
//! changes); `decide` below is the same rule computed from the facts, the definition the grants are tested
//! against (`tests/api/grants.rs`). Who may record, replace, withdraw or sign a consent is in `consents`; who
//! answers a handover in `handovers`; who sees a report to child welfare in `decisions`; a leader's reach
//! in `leaders`; inquiries in `inquiries`; the
//! overviews without a case (statistics, a citizen's own data) in `overviews`.
//!
//! Who may read a case:
//! - its active professional participants whose service is the holder's, or is covered by the effective
//!   consent (and who still work in that service according to their token);
//! - its active guardians, matched by the `pid` claim of a national login (they see everything);
//! - the subject youth at or above the municipality's self-consent age, matched by `pid`;
//! - nobody else: administrators see configuration and counts, never content; a unit leader sees the
//!   metadata of the cases held in the services they lead, never content (`leaders`);
//! - and no staff member the municipality registered as departed, from that date: their transactions
//!   are refused before they read anything (`crate::db::session::Session`, `crate::leaders::staff`).
//!
//! A case the caller may not see answers 404, never 403: its existence is itself sensitive.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Bytea, Text};
use uuid::Uuid;

use crate::access_log::store::{self as access_log, Action, Basis, EventValues, Resource};
use crate::auth::{Caller, Role};
use crate::cases::api::{CaseListQuery, HolderFilter};
use crate::cases::facts::{facts_of, CaseFacts};
use crate::cases::store::CaseFilter;
use crate::cases::store::CaseRow;
use crate::consents::effects::settled;
use crate::db::schema::cases;
use crate::http::error::AppError;
use crate::participants::store::ParticipantRow;

pub mod archive;
pub mod consents;
pub mod consultations;
pub mod decisions;
pub mod grants;
pub mod handovers;
pub mod inquiries;
pub mod leaders;
pub mod measures;
pub mod meetings;
pub mod overviews;
pub mod plans;
pub mod surveys;
mod writes;

pub use writes::{change_case, may_open_case_in, Need, Write};

/// What the caller is to a case they may read.
#[derive(Debug, Clone)]
pub struct CaseAccess {
    pub facts: CaseFacts,
    /// The caller's own participation (absent for a subject youth who is not listed as a participant).
    pub me: Option<ParticipantRow>,
    pub basis: Basis,
}

impl std::ops::Deref for CaseAccess {
    type Target = CaseFacts;
    fn deref(&self) -> &CaseFacts {
        &self.facts
    }
}

impl CaseAccess {
    pub fn is_holder(&self) -> bool {
        self.basis == Basis::HolderService
            && self
                .me
                .as_ref()
                .is_some_and(|p| p.id == self.case.holder_participant_id)
    }

    pub fn is_guardian(&self) -> bool {
        self.basis == Basis::Guardian
    }

    pub fn is_professional(&self) -> bool {
        matches!(self.basis, Basis::HolderService | Basis::Consent)
    }

    /// The participant who acts, for writes that name an author.
    pub fn actor(&self) -> Result<&ParticipantRow, AppError> {
        self.me.as_ref().ok_or_else(|| {
            AppError::forbidden("you are not listed as a participant of this case; ask the stafettholder to add you")
        })
    }

    /// National ids in full only for the stafettholder; everyone else sees them masked.
    pub fn shows_full_ids(&self) -> bool {
        self.is_holder()
    }

    /// Re-reads the facts after a change in this transaction, and recomputes coverage.
    pub fn refresh(&mut self, conn: &mut PgConnection) -> Result<(), AppError> {
        let loaded = crate::cases::load::one(conn, &self.case.municipality, self.case.id, false)?
            .ok_or_else(|| AppError::not_found("case"))?;
        self.facts = facts_of(loaded, self.today);
        if let Some(me) = &self.me {
            self.me = self.facts.participant(me.id).cloned();
        }
        Ok(())
    }

    /// A change of case data: its access event (rule 9) and its event in the change feed, together.
    pub fn changed(
        &self,
        conn: &mut PgConnection,
        caller: &Caller,
        action: Action,
        resource: Resource,
        change: crate::changes::api::ChangeType,
    ) -> Result<(), AppError> {
        access_log::record_change(
            conn,
            caller,
            (self.case.id, self.basis),
            action,
            resource,
            change,
        )
    }

    /// After a patch: [`Self::changed`] when it changed something, a read in the access log when it did
    /// not (`crate::patch`): the caller was shown the resource as it is.
    pub fn patched(
        &self,
        conn: &mut PgConnection,
        caller: &Caller,
        changed: bool,
        resource: Resource,
        change: crate::changes::api::ChangeType,
    ) -> Result<(), AppError> {
        if changed {
            self.changed(conn, caller, Action::Update, resource, change)
        } else {
            self.record(conn, caller, Action::Read, resource)
        }
    }

    /// Rule 9: the access event for what the caller just did, in the caller's transaction.
    pub fn record(
        &self,
        conn: &mut PgConnection,
        caller: &Caller,
        action: Action,
        resource: Resource,
    ) -> Result<(), AppError> {
        self.granted().record(conn, caller, action, resource)
    }

    /// The case and the basis the caller reads it on.
    pub fn granted(&self) -> Granted {
        Granted {
            case_id: self.case.id,
            basis: self.basis,
        }
    }
}

/// Rule 8 as a plain function of the facts: on which basis, if any, may this caller read this case? The
/// service decides on the precomputed grants (`by_grants`); this is the definition they are held to (the
/// grant property test compares the two over random histories of changes).
pub fn decide(
    caller: &Caller,
    f: &CaseFacts,
    self_consent_age: u32,
) -> Option<(Option<ParticipantRow>, Basis)> {
    if caller.tenant != f.case.municipality {
        return None;
    }
    if caller.has_role(Role::Professional) {
        let mine = f.participants.iter().find(|p| {
            p.active
                && p.kind == crate::participants::api::ParticipantKind::Professional
                && p.user_id.as_deref() == Some(caller.user_id.as_str())
        });
        if let Some(p) = mine {
            let service = p.service.as_deref().unwrap_or_default();
            // The token says where they work today; a participation in a service they left gives nothing.
            if caller.works_in(service) {
                if service == f.holder_service() {
                    return Some((Some(p.clone()), Basis::HolderService));
                }
                if f.effective.covers(service) {
                    return Some((Some(p.clone()), Basis::Consent));
                }
            }
        }
    }
    if caller.has_role(Role::Integration) {
        let covered_colleague = f.participants.iter().any(|p| {
            let service = p.service.as_deref().unwrap_or_default();
            p.active
                && p.kind == crate::participants::api::ParticipantKind::Professional
                && caller.works_in(service)
                && f.service_in_case(service)
        });
        if covered_colleague {
            return Some((None, Basis::Integration));
        }
    }
    let pid_hash = caller.pid_hash.as_deref()?;
    if caller.has_role(Role::Guardian) {
        if let Some(g) = f.participants.iter().find(|p| {
            p.active
                && p.kind == crate::participants::api::ParticipantKind::Guardian
                && p.national_id_hash.as_deref() == Some(pid_hash)
        }) {
            return Some((Some(g.clone()), Basis::Guardian));
        }
    }
    if caller.has_role(Role::Youth)
        && f.givers
            .subject_age
            .is_some_and(|age| age >= self_consent_age)
    {
        let listed = f.participants.iter().find(|p| {
            p.active
                && p.kind == crate::participants::api::ParticipantKind::Youth
                && p.national_id_hash.as_deref() == Some(pid_hash)
        });
        if listed.is_some() || f.case.subject_national_id_hash.as_deref() == Some(pid_hash) {
            return Some((listed.cloned(), Basis::SubjectYouth));
        }
    }
    None
}

/// Rule 8 on the grants the facts were loaded with: `decide`'s answer, read from `case_grants`.
fn by_grants(caller: &Caller, facts: &CaseFacts) -> Option<(Option<ParticipantRow>, Basis)> {
    if caller.tenant != facts.case.municipality {
        return None;
    }
    let (participant, basis) = grants::choose(caller, &facts.grants, facts.today)?;
    let me = match participant {
        Some(id) => Some(facts.participant(id)?.clone()),
        None => None,
    };
    Some((me, basis))
}

/// Whether the caller may read the case of these facts (loaded and settled by `load_facts`).
pub fn may_read(caller: &Caller, facts: &CaseFacts) -> bool {
    by_grants(caller, facts).is_some()
}

/// Rule 5 for expiry: a case whose holder's service lost coverage by a consent running out closes as
/// "consent expired" the first time anyone touches it (no job is needed). When a consent's day has come,
/// the grants are worked out again afterwards, so that the next reader takes the short path.
fn settle(conn: &mut PgConnection, facts: CaseFacts) -> Result<CaseFacts, AppError> {
    let mut facts = settled(conn, facts)?;
    if facts.grants.iter().any(|g| g.settle_due(facts.today)) {
        crate::cases::grants::refresh(conn, facts.case.id)?;
        facts.grants = crate::cases::grants::of_case(conn, facts.case.id)?;
    }
    Ok(facts)
}

/// The facts of `rows` (read again, with everything the rules need, in one statement), settled.
pub fn load_facts(conn: &mut PgConnection, rows: Vec<CaseRow>) -> Result<Vec<CaseFacts>, AppError> {
    let Some(municipality) = rows.first().map(|c| c.municipality.clone()) else {
        return Ok(vec![]);
    };
    let ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
    let today = crate::clock::today();
    crate::cases::load::many(conn, &municipality, &ids)?
        .into_iter()
        .map(|loaded| settle(conn, facts_of(loaded, today)))
        .collect()
}

/// The facts of one case of the caller's municipality, settled; 404 when there is no such case.
fn settled_case(
    conn: &mut PgConnection,
    caller: &Caller,
    case_id: Uuid,
    lock: bool,
) -> Result<CaseFacts, AppError> {
    let loaded = crate::cases::load::one(conn, &caller.tenant, case_id, lock)?
        .ok_or_else(|| AppError::not_found("case"))?;
    settle(conn, facts_of(loaded, crate::clock::today()))
}

pub(super) fn load_one(
    conn: &mut PgConnection,
    caller: &Caller,
    case_id: Uuid,
    lock: bool,
) -> Result<CaseAccess, AppError> {
    let facts = settled_case(conn, caller, case_id, lock)?;
    match by_grants(caller, &facts) {
        Some((me, basis)) => Ok(CaseAccess { facts, me, basis }),
        None => Err(AppError::not_found("case")),
    }
}

/// What a read that shows rows of a case, but not the case itself, needs of its access: on which basis
/// the caller reads it.
#[derive(Debug, Clone, Copy)]
pub struct Granted {
    pub case_id: Uuid,
    pub basis: Basis,
}

impl Granted {
    /// The values of the read's access event (rule 9), for a read that writes it in its own statement.
    pub fn read_event<'a>(&self, caller: &'a Caller, resource: Resource) -> EventValues<'a> {
        EventValues::new(caller, (self.case_id, self.basis), Action::Read, resource)
    }

    /// Rule 9: the access event for what the caller just read, in the caller's transaction.
    pub fn record(
        &self,
        conn: &mut PgConnection,
        caller: &Caller,
        action: Action,
        resource: Resource,
    ) -> Result<(), AppError> {
        access_log::record(
            conn,
            caller,
            &[(self.case_id, self.basis)],
            action,
            resource,
        )
    }
}

/// The caller's basis for reading a case, from the case's grants alone (one probe by index): for the log
/// and the timeline, which show the case's rows but not its facts. 404 when there is none. On the day a
/// consent runs out, the first reader takes the long path, which settles the expiry.
pub fn granted(
    conn: &mut PgConnection,
    caller: &Caller,
    case_id: Uuid,
) -> Result<Granted, AppError> {
    let today = crate::clock::today();
    let grants = crate::cases::grants::callers(conn, caller, case_id)?;
    let basis = if grants.iter().any(|g| g.settle_due(today)) {
        load_one(conn, caller, case_id, false)?.basis
    } else {
        grants::choose(caller, &grants, today)
            .ok_or_else(|| AppError::not_found("case"))?
            .1
    };
    Ok(Granted { case_id, basis })
}

/// Runs `f` in one transaction once the caller may read the case (404 otherwise), after the read's access
/// event (rule 9) for `seen`: an error in `f` rolls the event back with everything else.
pub async fn read_case<T, F>(
    pool: &crate::db::Pool,
    caller: Caller,
    case_id: Uuid,
    seen: Resource,
    f: F,
) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection, &Caller, CaseAccess) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    crate::db::transaction(pool, caller.session(), move |conn| {
        let access = case_for_read(conn, &caller, case_id)?;
        access.record(conn, &caller, Action::Read, seen)?;
        f(conn, &caller, access)
    })
    .await
}

/// The case, if the caller may read it; 404 otherwise.
pub fn case_for_read(
    conn: &mut PgConnection,
    caller: &Caller,
    case_id: Uuid,
) -> Result<CaseAccess, AppError> {
    load_one(conn, caller, case_id, false)
}

/// The readable ones among candidate rows, for lists (the same `decide` as for one case).
pub fn readable(
    conn: &mut PgConnection,
    caller: &Caller,
    rows: Vec<CaseRow>,
) -> Result<Vec<CaseAccess>, AppError> {
    let ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let loaded = crate::cases::load::many(conn, &caller.tenant, &ids)?;
    judge(conn, caller, loaded)
}

/// The readable ones among loaded cases (the same `decide` as for one case), in their order.
pub fn judge(
    conn: &mut PgConnection,
    caller: &Caller,
    loaded: Vec<crate::cases::load::Loaded>,
) -> Result<Vec<CaseAccess>, AppError> {
    let today = crate::clock::today();
    let mut out = Vec::with_capacity(loaded.len());
    for loaded in loaded {
        let facts = settle(conn, facts_of(loaded, today))?;
        if let Some((me, basis)) = by_grants(caller, &facts) {
            out.push(CaseAccess { facts, me, basis });
        }
    }
    Ok(out)
}

/// The person whose own grants find the caller's candidate cases (`load::FactsOfMyCases`); `None` for an
/// integration, whose candidates are its services' cases (`candidate_filter`).
pub fn person(caller: &Caller) -> Option<crate::cases::load::Person<'_>> {
    if caller.has_role(Role::Integration) {
        return None;
    }
    let pid_hash = caller.pid_hash.as_deref();
    let mut bases = Vec::new();
    if pid_hash.is_some() {
        if caller.has_role(Role::Guardian) {
            bases.push(Basis::Guardian.as_str());
        }
        if caller.has_role(Role::Youth) {
            bases.push(Basis::SubjectYouth.as_str());
        }
    }
    Some(crate::cases::load::Person {
        user_id: caller
            .has_role(Role::Professional)
            .then_some(caller.user_id.as_str()),
        bases,
        pid_hash,
    })
}

/// The cases the caller takes part in at all, as SQL: the index-friendly first cut for lists. `readable`
/// then applies the full rule, so consent coverage is decided in one place.
pub fn candidate_filter(caller: &Caller) -> CaseFilter {
    let mut filter: CaseFilter = Box::new(sql::<Bool>("FALSE"));
    if caller.has_role(Role::Professional) {
        // `= ANY(ARRAY(...))`, not `IN (...)`: the person's few cases are collected first and fetched by
        // key; `IN` lets the planner walk the municipality's cases newest first, testing each.
        filter = Box::new(
            filter.or(sql::<Bool>(
                "cases.id = ANY(ARRAY(SELECT p.case_id FROM case_participants p \
                 WHERE p.kind = 'professional' AND p.active AND p.user_id = ",
            )
            .bind::<Text, _>(caller.user_id.clone())
            .sql("))")),
        );
    }
    if caller.has_role(Role::Integration) {
        // Its services' grants: exactly the cases it may read today, but for a window that has ended.
        filter = Box::new(
            filter.or(sql::<Bool>(
                "cases.id = ANY(ARRAY(SELECT g.case_id FROM case_grants g \
                 WHERE g.basis = 'integration' AND g.municipality = ",
            )
            .bind::<Text, _>(caller.tenant.clone())
            .sql(" AND g.service = ANY(")
            .bind::<Array<Text>, _>(caller.services.clone())
            .sql(")))")),
        );
    }
    if let Some(hash) = caller.pid_hash.clone() {
        let mut kinds = Vec::new();
        if caller.has_role(Role::Guardian) {
            kinds.push("guardian");
        }
        if caller.has_role(Role::Youth) {
            kinds.push("youth");
            filter = Box::new(
                filter.or(cases::subject_national_id_hash
                    .eq(hash.clone())
                    .assume_not_null()),
            );
        }
        if !kinds.is_empty() {
            filter = Box::new(
                filter.or(sql::<Bool>(
                    "cases.id = ANY(ARRAY(SELECT p.case_id FROM case_participants p \
                     WHERE p.active AND p.kind = ANY(",
                )
                .bind::<Array<Text>, _>(kinds)
                .sql(") AND p.national_id_hash = ")
                .bind::<Bytea, _>(hash)
                .sql("))")),
            );
        }
    }
    Box::new(cases::municipality.eq(caller.tenant.clone()).and(filter))
}

/// One batch of a list: the readable cases among a page of candidates, how many candidates there were,
/// and the last of them (where the next batch starts).
pub struct ListBatch {
    pub readable: Vec<CaseAccess>,
    pub candidates: usize,
    pub last: Option<Uuid>,
}

/// The next batch of the caller's list after `after`. A person's own cases come with their access facts
/// in one statement; an integration's, or a search by reference, take a candidate query and then the
/// facts.
pub fn list_batch(
    conn: &mut PgConnection,
    caller: &Caller,
    q: &CaseListQuery,
    after: Option<Uuid>,
    limit: i64,
) -> Result<ListBatch, AppError> {
    let person = person(caller).filter(|_| q.external_ref.is_none());
    let (readable, candidates, last) = if let Some(person) = person {
        let page = crate::cases::load::MinePage {
            status: q.status,
            level: q.level,
            holder_me: matches!(q.holder, Some(HolderFilter::Me)),
            after,
            limit,
        };
        let loaded = crate::cases::load::mine(conn, &caller.tenant, &person, &page)?;
        let (candidates, last) = (loaded.len(), loaded.last().map(|l| l.case.id));
        (judge(conn, caller, loaded)?, candidates, last)
    } else {
        let rows = crate::cases::store::list_candidates(
            conn,
            caller,
            candidate_filter(caller),
            q,
            after,
            limit,
        )?;
        let (candidates, last) = (rows.len(), rows.last().map(|c| c.id));
        (readable(conn, caller, rows)?, candidates, last)
    };
    Ok(ListBatch {
        readable,
        candidates,
        last,
    })
}
