//! Queries for cases: plain functions on a connection, called inside the handler's transaction.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::api::{CaseListQuery, CaseStatus, CloseReason, ExternalRef, HolderFilter, SubjectKind};
use crate::auth::Caller;
use crate::db::schema::{case_external_refs, case_participants, cases};
use crate::guide::rules::Placement;
use crate::http::error::AppError;
use crate::national_id::{NationalIdKey, SealedId};
use crate::participants::store::NewProfessional;

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Identifiable)]
#[diesel(table_name = cases)]
pub struct CaseRow {
    pub id: Uuid,
    pub municipality: String,
    pub subject_kind: SubjectKind,
    pub subject_given_name: String,
    pub subject_family_name: String,
    pub subject_birth_date: Option<NaiveDate>,
    pub subject_national_id_enc: Option<Vec<u8>>,
    pub subject_national_id_hash: Option<Vec<u8>>,
    pub concern: String,
    pub status: CaseStatus,
    pub level: i16,
    pub opened_in_service: String,
    pub holder_participant_id: Uuid,
    pub decision_due: Option<NaiveDate>,
    pub opened_at: DateTime<Utc>,
    pub opened_by: String,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<CloseReason>,
    pub close_note: Option<String>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
    pub guide_version: Option<i32>,
    pub guide_step_key: Option<String>,
    pub guide_step_title: Option<String>,
    pub guide_next_key: Option<String>,
    pub guide_next_title: Option<String>,
    /// When `stafettlogg purge` erased its personal data, the retention period being over.
    pub purged_at: Option<DateTime<Utc>>,
    pub archived_system: Option<String>,
    pub archived_reference: Option<String>,
    pub archived_on: Option<NaiveDate>,
    pub archived_by: Option<String>,
    /// The day the case was last reopened after a lost consent (`None`: never).
    pub reopened_on: Option<NaiveDate>,
}

impl CaseRow {
    /// Where the case was archived, if it was (the columns are all set or none: a CHECK says so).
    pub fn archived(&self) -> Option<crate::cases::api::Archived> {
        match (
            &self.archived_system,
            &self.archived_reference,
            self.archived_on,
            &self.archived_by,
        ) {
            (Some(system), Some(reference), Some(archived_on), Some(by)) => {
                Some(crate::cases::api::Archived {
                    system: system.clone(),
                    reference: reference.clone(),
                    archived_on,
                    archived_by: by.clone(),
                })
            }
            _ => None,
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = cases)]
pub struct NewCase<'a> {
    pub id: Uuid,
    pub municipality: &'a str,
    pub subject_kind: SubjectKind,
    pub subject_given_name: &'a str,
    pub subject_family_name: &'a str,
    pub subject_birth_date: Option<NaiveDate>,
    pub subject_national_id_enc: Option<Vec<u8>>,
    pub subject_national_id_hash: Option<Vec<u8>>,
    pub concern: &'a str,
    pub opened_in_service: &'a str,
    pub holder_participant_id: Uuid,
    pub decision_due: Option<NaiveDate>,
    pub opened_by: &'a str,
    pub guide_version: Option<i32>,
    pub guide_step_key: Option<&'a str>,
    pub guide_step_title: Option<&'a str>,
    pub guide_next_key: Option<&'a str>,
    pub guide_next_title: Option<&'a str>,
}

/// A case with every column given: an imported case keeps the state and the dates its history gave it.
#[derive(Debug, Insertable)]
#[diesel(table_name = cases)]
pub struct CaseInsert<'a> {
    pub id: Uuid,
    pub municipality: &'a str,
    pub subject_kind: SubjectKind,
    pub subject_given_name: &'a str,
    pub subject_family_name: &'a str,
    pub subject_birth_date: Option<NaiveDate>,
    pub subject_national_id_enc: Option<Vec<u8>>,
    pub subject_national_id_hash: Option<Vec<u8>>,
    pub concern: &'a str,
    pub status: CaseStatus,
    pub level: i16,
    pub opened_in_service: &'a str,
    pub holder_participant_id: Uuid,
    pub decision_due: Option<NaiveDate>,
    pub opened_at: DateTime<Utc>,
    pub opened_by: &'a str,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<CloseReason>,
    pub close_note: Option<&'a str>,
    pub archived_system: Option<&'a str>,
    pub archived_reference: Option<&'a str>,
    pub archived_on: Option<NaiveDate>,
    pub archived_by: Option<&'a str>,
    /// The day it was last reopened, as the imported document says (`reopen` sets it for a live case).
    pub reopened_on: Option<NaiveDate>,
}

/// Opens the closed case `id` again at level 0 with a new decision deadline; its closing and any archival
/// are history now (the log keeps them, and `case_closures` when and why it closed, for the timeline).
pub fn reopen(
    conn: &mut PgConnection,
    id: Uuid,
    decision_due: NaiveDate,
) -> Result<CaseRow, AppError> {
    use crate::db::schema::case_closures;
    let (holder, closed_at, close_reason): (Uuid, Option<DateTime<Utc>>, Option<CloseReason>) =
        cases::table
            .find(id)
            .select((
                cases::holder_participant_id,
                cases::closed_at,
                cases::close_reason,
            ))
            .first(conn)?;
    if let (Some(closed_at), Some(reason)) = (closed_at, close_reason) {
        diesel::insert_into(case_closures::table)
            .values((
                case_closures::id.eq(Uuid::now_v7()),
                case_closures::case_id.eq(id),
                case_closures::closed_at.eq(closed_at),
                case_closures::close_reason.eq(reason.as_str()),
            ))
            .execute(conn)?;
    }
    crate::handovers::store::resume_holder_period(conn, id, holder)?;
    Ok(diesel::update(cases::table.find(id))
        .filter(cases::status.eq(crate::cases::api::CaseStatus::Closed))
        .set((
            cases::status.eq(crate::cases::api::CaseStatus::Open),
            cases::closed_at.eq(None::<DateTime<Utc>>),
            cases::close_reason.eq(None::<CloseReason>),
            cases::close_note.eq(None::<String>),
            cases::level.eq(0),
            cases::decision_due.eq(Some(decision_due)),
            cases::archived_system.eq(None::<String>),
            cases::archived_reference.eq(None::<String>),
            cases::archived_on.eq(None::<NaiveDate>),
            cases::archived_by.eq(None::<String>),
            cases::reopened_on.eq(Some(crate::clock::today())),
            cases::version.eq(cases::version + 1),
        ))
        .returning(CaseRow::as_returning())
        .get_result(conn)?)
}

/// A closing that a reopening ended: when the case closed, why, and when it was opened again.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::case_closures)]
pub struct Closure {
    pub case_id: Uuid,
    pub closed_at: DateTime<Utc>,
    pub close_reason: CloseReason,
    pub reopened_at: DateTime<Utc>,
}

/// The earlier closings of these cases, each case's in the order they were reopened (the ids are
/// time-ordered; a closing time may come from another server's clock).
pub fn closures_of(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Closure>, AppError> {
    use crate::db::schema::case_closures;
    Ok(case_closures::table
        .filter(case_closures::case_id.eq_any(ids))
        .order((case_closures::case_id, case_closures::id))
        .select(Closure::as_select())
        .load(conn)?)
}

/// Earlier closings as a document brings them, any number (an imported case keeps its history).
pub fn insert_closures(conn: &mut PgConnection, rows: &[(Uuid, Closure)]) -> Result<(), AppError> {
    use crate::db::schema::case_closures;
    let rows: Vec<_> = rows
        .iter()
        .map(|(id, c)| (case_closures::id.eq(*id), c.clone()))
        .collect();
    crate::db::bulk::insert(&rows, |chunk| {
        diesel::insert_into(case_closures::table)
            .values(chunk)
            .execute(conn)
    })
}

/// Records where the closed case `id` was archived (a second report replaces the first).
pub fn set_archived(
    conn: &mut PgConnection,
    id: Uuid,
    a: &crate::cases::api::Archived,
) -> Result<CaseRow, AppError> {
    Ok(diesel::update(cases::table.find(id))
        .set((
            cases::archived_system.eq(&a.system),
            cases::archived_reference.eq(&a.reference),
            cases::archived_on.eq(a.archived_on),
            cases::archived_by.eq(&a.archived_by),
            cases::version.eq(cases::version + 1),
        ))
        .returning(CaseRow::as_returning())
        .get_result(conn)?)
}

/// Only the columns a PATCH may touch; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = cases)]
pub struct CaseChanges<'a> {
    pub concern: Option<&'a str>,
    pub subject_kind: Option<SubjectKind>,
    pub subject_given_name: Option<&'a str>,
    pub subject_family_name: Option<&'a str>,
    pub subject_birth_date: Option<Option<NaiveDate>>,
    pub subject_national_id_enc: Option<Option<Vec<u8>>>,
    pub subject_national_id_hash: Option<Option<Vec<u8>>>,
}

impl CaseChanges<'_> {
    /// Whether these changes would alter the stored case (`crate::patch`). A national id is compared by
    /// its lookup hash: its ciphertext differs on every sealing.
    pub fn alters(&self, row: &CaseRow) -> bool {
        use crate::patch::differs;
        differs(self.concern, row.concern.as_str())
            || differs(self.subject_kind.as_ref(), &row.subject_kind)
            || differs(self.subject_given_name, row.subject_given_name.as_str())
            || differs(self.subject_family_name, row.subject_family_name.as_str())
            || differs(self.subject_birth_date.as_ref(), &row.subject_birth_date)
            || differs(
                self.subject_national_id_hash.as_ref(),
                &row.subject_national_id_hash,
            )
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = case_external_refs)]
pub struct ExternalRefRow {
    pub municipality: String,
    pub system: String,
    pub ref_id: String,
    pub case_id: Uuid,
}

/// 409 when one of the references already names another case of the municipality.
pub fn ensure_refs_free(
    conn: &mut PgConnection,
    municipality: &str,
    refs: &[ExternalRef],
) -> Result<(), AppError> {
    for r in refs {
        let taken: Option<Uuid> = case_external_refs::table
            .filter(case_external_refs::municipality.eq(municipality))
            .filter(case_external_refs::system.eq(&r.system))
            .filter(case_external_refs::ref_id.eq(&r.id))
            .select(case_external_refs::case_id)
            .first(conn)
            .optional()?;
        if taken.is_some() {
            return Err(AppError::conflict(format!(
                "external reference {}:{} already names another case of this municipality",
                r.system, r.id
            )));
        }
    }
    Ok(())
}

pub struct OpenCase<'a> {
    pub case: NewCase<'a>,
    pub holder_name: &'a str,
    pub holder_title: Option<&'a str>,
    pub refs: &'a [ExternalRef],
}

/// Inserts the case, its first participant (the creator, as stafettholder) and its references. The
/// holder foreign key is deferred, so the case can name a participant inserted right after it.
pub fn insert(conn: &mut PgConnection, open: OpenCase) -> Result<CaseRow, AppError> {
    let case: CaseRow = diesel::insert_into(cases::table)
        .values(&open.case)
        .returning(CaseRow::as_returning())
        .get_result(conn)?;
    crate::participants::store::insert_professional(
        conn,
        &NewProfessional {
            id: open.case.holder_participant_id,
            case_id: case.id,
            kind: crate::participants::api::ParticipantKind::Professional,
            name: open.holder_name,
            user_id: open.case.opened_by,
            service: open.case.opened_in_service,
            title: open.holder_title,
        },
    )?;
    let refs: Vec<ExternalRefRow> = open
        .refs
        .iter()
        .map(|r| ExternalRefRow {
            municipality: case.municipality.clone(),
            system: r.system.clone(),
            ref_id: r.id.clone(),
            case_id: case.id,
        })
        .collect();
    insert_refs(conn, &refs)?;
    crate::handovers::store::open_holder_period(conn, case.id, open.case.holder_participant_id)?;
    Ok(case)
}

/// Cases with every column given, any number; the holder of each is checked at commit, so its
/// participants may follow in the same transaction.
pub fn insert_all(conn: &mut PgConnection, rows: &[CaseInsert]) -> Result<(), AppError> {
    crate::db::bulk::insert(rows, |chunk| {
        diesel::insert_into(cases::table)
            .values(chunk)
            .execute(conn)
    })
}

pub fn insert_refs(conn: &mut PgConnection, refs: &[ExternalRefRow]) -> Result<(), AppError> {
    crate::db::bulk::insert(refs, |chunk| {
        diesel::insert_into(case_external_refs::table)
            .values(chunk)
            .execute(conn)
    })
}

/// Locks these references of the municipality until the transaction ends, whether a case has them yet
/// or not: two imports bringing the same references queue here instead of both creating the case. One
/// statement, the locks taken in one order, so two batches never wait on each other in a circle.
pub fn lock_refs(
    conn: &mut PgConnection,
    municipality: &str,
    refs: &[&ExternalRef],
) -> Result<(), AppError> {
    use diesel::sql_types::{Array, Text};
    let keys: Vec<String> = refs
        .iter()
        .map(|r| format!("{municipality}\u{1f}{}\u{1f}{}", r.system, r.id))
        .collect();
    diesel::sql_query(
        "SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended(t, 7215002) AS k \
         FROM unnest($1::text[]) AS t) AS keys ORDER BY k",
    )
    .bind::<Array<Text>, _>(keys)
    .execute(conn)?;
    Ok(())
}

/// The cases these references name in the municipality, by `(system, id)`: one query for any number,
/// each reference an index probe. A reference to this municipality's own case id (`stafettlogg-<number>`,
/// what an export gives a case opened without references: `crate::documents::export::or_own_reference`)
/// names that case, also when another case was given the same reference as one of its own.
pub fn cases_by_refs(
    conn: &mut PgConnection,
    municipality: &str,
    refs: &[&ExternalRef],
) -> Result<HashMap<(String, String), Uuid>, AppError> {
    use diesel::sql_types::{Array, Text};
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Text)]
        system: String,
        #[diesel(sql_type = Text)]
        ref_id: String,
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        case_id: Uuid,
    }
    let systems: Vec<&str> = refs.iter().map(|r| r.system.as_str()).collect();
    let ids: Vec<&str> = refs.iter().map(|r| r.id.as_str()).collect();
    let found: Vec<Found> = diesel::sql_query(
        "SELECT DISTINCT ON (u.system, u.ref_id) u.system, u.ref_id, coalesce(c.id, r.case_id) AS case_id \
         FROM unnest($2::text[], $3::text[]) AS u(system, ref_id) \
         LEFT JOIN cases c ON u.system = $4 AND c.municipality = $1 \
          AND c.id = CASE WHEN u.ref_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' \
                          THEN u.ref_id::uuid END \
         LEFT JOIN case_external_refs r ON r.municipality = $1 AND r.system = u.system AND r.ref_id = u.ref_id \
         WHERE c.id IS NOT NULL OR r.case_id IS NOT NULL",
    )
    .bind::<Text, _>(municipality)
    .bind::<Array<Text>, _>(systems)
    .bind::<Array<Text>, _>(ids)
    .bind::<Text, _>(super::api::own_reference_system(municipality))
    .load(conn)?;
    Ok(found
        .into_iter()
        .map(|f| ((f.system, f.ref_id), f.case_id))
        .collect())
}

/// The case as it is.
pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<CaseRow, AppError> {
    Ok(cases::table
        .find(id)
        .select(CaseRow::as_select())
        .first(conn)?)
}

/// The case locked for the rest of the transaction, if it is open and no other transaction holds it
/// (without waiting for one that does).
pub fn lock_open_unless_busy(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<CaseRow>, AppError> {
    Ok(cases::table
        .find(id)
        .filter(cases::status.eq(CaseStatus::Open))
        .select(CaseRow::as_select())
        .for_update()
        .skip_locked()
        .first(conn)
        .optional()?)
}

/// These cases, as they are, in no particular order.
pub fn by_ids(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<CaseRow>, AppError> {
    Ok(cases::table
        .filter(cases::id.eq_any(ids))
        .select(CaseRow::as_select())
        .load(conn)?)
}

/// These cases, locked for the rest of the transaction, in the order of their ids (as every writer that
/// locks several takes them, so two never wait on each other in a circle).
pub fn locked(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<CaseRow>, AppError> {
    Ok(cases::table
        .filter(cases::id.eq_any(ids))
        .order(cases::id.asc())
        .select(CaseRow::as_select())
        .for_update()
        .load(conn)?)
}

/// One case of the municipality, locked for the rest of the transaction.
pub fn locked_one(
    conn: &mut PgConnection,
    municipality: &str,
    id: Uuid,
) -> Result<Option<CaseRow>, AppError> {
    Ok(cases::table
        .filter(cases::id.eq(id))
        .filter(cases::municipality.eq(municipality))
        .select(CaseRow::as_select())
        .for_update()
        .first(conn)
        .optional()?)
}

/// A condition on cases as SQL, for the policy to hand to a list query.
pub type CaseFilter = Box<
    dyn diesel::BoxableExpression<cases::table, diesel::pg::Pg, SqlType = diesel::sql_types::Bool>,
>;

/// Candidate cases for a list (the caller takes part in them), matching the filters, newest first,
/// after the cursor (`candidates`: the policy's first cut, as SQL). UUIDv7 ids sort by creation time, so the primary key is the keyset. The access rule
/// proper is applied afterwards by `policy::readable`.
pub fn list_candidates(
    conn: &mut PgConnection,
    caller: &Caller,
    candidates: CaseFilter,
    q: &CaseListQuery,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<CaseRow>, AppError> {
    let mut query = cases::table
        .filter(candidates)
        .select(CaseRow::as_select())
        .order(cases::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(status) = q.status {
        query = query.filter(cases::status.eq(status));
    }
    if let Some(level) = q.level {
        query = query.filter(cases::level.eq(level));
    }
    if let Some(HolderFilter::Me) = q.holder {
        query = query.filter(
            cases::holder_participant_id.eq_any(
                case_participants::table
                    .filter(
                        case_participants::kind
                            .eq(crate::participants::api::ParticipantKind::Professional),
                    )
                    .filter(case_participants::user_id.eq(caller.user_id.clone()))
                    .filter(case_participants::active.eq(true))
                    .select(case_participants::id),
            ),
        );
    }
    if let Some(after) = after {
        query = query.filter(cases::id.lt(after));
    }
    if let Some(r) = &q.external_ref {
        let (system, id) = parse_ref(r)?;
        query = query.filter(
            cases::id.eq_any(
                case_external_refs::table
                    .filter(case_external_refs::municipality.eq(caller.tenant.clone()))
                    .filter(case_external_refs::system.eq(system.to_string()))
                    .filter(case_external_refs::ref_id.eq(id.to_string()))
                    .select(case_external_refs::case_id),
            ),
        );
    }
    Ok(query.load(conn)?)
}

/// `SYSTEM:ID`, split at the first colon.
pub fn parse_ref(r: &str) -> Result<(&str, &str), AppError> {
    match r.split_once(':') {
        Some((system, id)) if !system.is_empty() && !id.is_empty() => Ok((system, id)),
        _ => {
            let mut e =
                AppError::malformed("query parameter ref: use SYSTEM:ID, e.g. visma-flyt:B-17");
            e.errors = vec![crate::http::error::FieldError {
                field: "ref".into(),
                message: "use SYSTEM:ID".into(),
            }];
            Err(e)
        }
    }
}

/// External references of these cases, in one query.
pub fn refs_for(
    conn: &mut PgConnection,
    case_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<ExternalRef>>, AppError> {
    let mut refs: HashMap<Uuid, Vec<ExternalRef>> = HashMap::new();
    for r in case_external_refs::table
        .filter(case_external_refs::case_id.eq_any(case_ids))
        .order((case_external_refs::system, case_external_refs::ref_id))
        .select(ExternalRefRow::as_select())
        .load(conn)?
    {
        refs.entry(r.case_id).or_default().push(ExternalRef {
            system: r.system,
            id: r.ref_id,
        });
    }
    Ok(refs)
}

/// The stored form of an optional subject national id (validated again here: never store an unchecked one).
pub fn seal(key: &NationalIdKey, raw: Option<&str>) -> Result<Option<SealedId>, AppError> {
    key.seal_field("subject.national_id", raw)
}

pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    changes: &CaseChanges,
) -> Result<CaseRow, AppError> {
    Ok(diesel::update(cases::table.find(id))
        .set((changes, cases::version.eq(cases::version + 1)))
        .returning(CaseRow::as_returning())
        .get_result(conn)?)
}

type GuideColumns<'a> = (
    diesel::dsl::Eq<cases::guide_version, Option<i32>>,
    diesel::dsl::Eq<cases::guide_step_key, Option<&'a str>>,
    diesel::dsl::Eq<cases::guide_step_title, Option<&'a str>>,
    diesel::dsl::Eq<cases::guide_next_key, Option<&'a str>>,
    diesel::dsl::Eq<cases::guide_next_title, Option<&'a str>>,
);

/// The case columns that hold a placement in the guide (the step is copied onto the case's row).
pub fn guide_columns(p: &Placement) -> GuideColumns<'_> {
    (
        cases::guide_version.eq(Some(p.version)),
        cases::guide_step_key.eq(Some(p.step.key.as_str())),
        cases::guide_step_title.eq(Some(p.step.title.as_str())),
        cases::guide_next_key.eq(p.next.as_ref().map(|n| n.key.as_str())),
        cases::guide_next_title.eq(p.next.as_ref().map(|n| n.title.as_str())),
    )
}

/// Puts new cases on a step, any number in one statement; their version stays their first.
pub fn place_on_step(conn: &mut PgConnection, ids: &[Uuid], p: &Placement) -> Result<(), AppError> {
    diesel::update(cases::table.filter(cases::id.eq_any(ids)))
        .set(guide_columns(p))
        .execute(conn)?;
    Ok(())
}

/// The case moved on to another step: a new version of it, returned.
pub fn move_to_step(conn: &mut PgConnection, id: Uuid, p: &Placement) -> Result<i32, AppError> {
    Ok(diesel::update(cases::table.find(id))
        .set((guide_columns(p), cases::version.eq(cases::version + 1)))
        .returning(cases::version)
        .get_result(conn)?)
}

/// Closes the case: the holder period ends and a pending handover is cancelled with it.
pub fn close(
    conn: &mut PgConnection,
    id: Uuid,
    reason: CloseReason,
    note: Option<&str>,
) -> Result<CaseRow, AppError> {
    crate::handovers::store::close_holder_period(conn, id)?;
    let cancelled = crate::handovers::store::cancel_pending(
        conn,
        id,
        crate::handovers::store::Receiving::NotIn(&[]),
        "the case was closed",
    )?;
    crate::meetings::store::cancel_planned(conn, id, "the case was closed")?;
    let row = diesel::update(cases::table.find(id))
        .filter(cases::status.eq(crate::cases::api::CaseStatus::Open))
        .set((
            cases::status.eq(crate::cases::api::CaseStatus::Closed),
            cases::closed_at.eq(diesel::dsl::now),
            cases::close_reason.eq(reason),
            cases::close_note.eq(note),
            cases::version.eq(cases::version + 1),
        ))
        .returning(CaseRow::as_returning())
        .get_result(conn)
        .optional()?
        .ok_or_else(|| AppError::conflict("the case is closed already"))?;
    if cancelled > 0 {
        crate::changes::store::emit(
            conn,
            &row.municipality,
            id,
            &[crate::changes::api::ChangeType::HandoverCancelled],
        )?;
    }
    Ok(row)
}
