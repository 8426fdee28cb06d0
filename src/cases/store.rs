//! Queries for cases: plain functions on a connection, called inside the handler's transaction.

use std::collections::HashMap;

use diesel::prelude::*;
use uuid::Uuid;

use super::api::{
    CaseListQuery, CaseStatus, CaseView, CloseReason, ExternalRef, HolderFilter, HolderView,
    SubjectView,
};
use super::model::{CaseChanges, CaseRow, ExternalRefRow, NewCase};
use crate::auth::Caller;
use crate::db::schema::{case_external_refs, case_participants, cases};
use crate::error::AppError;
use crate::national_id::{NationalId, NationalIdKey, SealedId};
use crate::participants::model::{NewProfessional, ParticipantRow};

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
    diesel::insert_into(case_participants::table)
        .values(NewProfessional {
            id: open.case.holder_participant_id,
            case_id: case.id,
            kind: "professional",
            name: open.holder_name,
            user_id: open.case.opened_by,
            service: open.case.opened_in_service,
            title: open.holder_title,
        })
        .execute(conn)?;
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
    diesel::insert_into(case_external_refs::table)
        .values(&refs)
        .execute(conn)?;
    Ok(case)
}

/// The visible cases matching the filters, newest first, after the cursor. UUIDv7 ids sort by creation
/// time, so the primary key is the keyset.
pub fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    q: &CaseListQuery,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<CaseRow>, AppError> {
    let mut query = cases::table
        .filter(cases::id.eq_any(crate::access::visible_cases(caller)))
        .select(CaseRow::as_select())
        .order(cases::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(status) = q.status {
        query = query.filter(cases::status.eq(<&'static str>::from(status)));
    }
    if let Some(level) = q.level {
        query = query.filter(cases::level.eq(level));
    }
    if let Some(HolderFilter::Me) = q.holder {
        query = query.filter(
            cases::holder_participant_id.eq_any(
                case_participants::table
                    .filter(case_participants::kind.eq("professional"))
                    .filter(case_participants::user_id.eq(caller.user_id.clone()))
                    .filter(case_participants::active.eq(true))
                    .select(case_participants::id),
            ),
        );
    }
    if let Some(after) = after {
        query = query.filter(cases::id.lt(after));
    }
    Ok(query.load(conn)?)
}

/// Builds the API view of cases with two queries in all (holders, references), whatever the count.
pub fn views(
    conn: &mut PgConnection,
    caller: &Caller,
    key: &NationalIdKey,
    rows: Vec<CaseRow>,
) -> Result<Vec<CaseView>, AppError> {
    let holder_ids: Vec<Uuid> = rows.iter().map(|c| c.holder_participant_id).collect();
    let case_ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
    let holders: HashMap<Uuid, ParticipantRow> = case_participants::table
        .filter(case_participants::id.eq_any(&holder_ids))
        .select(ParticipantRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut refs: HashMap<Uuid, Vec<ExternalRef>> = HashMap::new();
    for r in case_external_refs::table
        .filter(case_external_refs::case_id.eq_any(&case_ids))
        .order((case_external_refs::system, case_external_refs::ref_id))
        .select(ExternalRefRow::as_select())
        .load(conn)?
    {
        refs.entry(r.case_id).or_default().push(ExternalRef {
            system: r.system,
            id: r.ref_id,
        });
    }
    rows.into_iter()
        .map(|c| {
            let holder = holders
                .get(&c.holder_participant_id)
                .ok_or_else(AppError::internal)?;
            let caller_holds =
                holder.user_id.as_deref() == Some(caller.user_id.as_str()) && holder.active;
            let external_refs = refs.remove(&c.id).unwrap_or_default();
            Ok(view(c, holder, caller_holds, key, external_refs))
        })
        .collect()
}

fn view(
    c: CaseRow,
    holder: &ParticipantRow,
    caller_holds: bool,
    key: &NationalIdKey,
    external_refs: Vec<ExternalRef>,
) -> CaseView {
    let national_id = c
        .subject_national_id_enc
        .as_deref()
        .map(|enc| match key.decrypt(enc) {
            Some(id) if caller_holds => id.as_str().to_string(),
            Some(id) => id.masked(),
            // Written with another key: say so rather than fail the whole read.
            None => "unreadable".to_string(),
        });
    CaseView {
        id: c.id,
        municipality: c.municipality,
        subject: SubjectView {
            kind: c
                .subject_kind
                .parse()
                .unwrap_or(super::api::SubjectKind::Child),
            given_name: c.subject_given_name,
            family_name: c.subject_family_name,
            birth_date: c.subject_birth_date,
            national_id,
        },
        concern: c.concern,
        status: c.status.parse().unwrap_or(CaseStatus::Open),
        level: c.level,
        holder: HolderView {
            participant_id: holder.id,
            user_id: holder.user_id.clone().unwrap_or_default(),
            name: holder.name.clone(),
            service: holder.service.clone().unwrap_or_default(),
        },
        opened_in_service: c.opened_in_service,
        decision_due: c.decision_due,
        opened_at: c.opened_at,
        closed_at: c.closed_at,
        close_reason: c.close_reason.and_then(|r| r.parse().ok()),
        close_note: c.close_note,
        version: c.version,
        external_refs,
    }
}

/// The stored form of an optional subject national id (validated again here: never store an unchecked one).
pub fn seal(key: &NationalIdKey, raw: Option<&str>) -> Result<Option<SealedId>, AppError> {
    raw.map(|raw| {
        NationalId::parse(raw)
            .map(|id| key.seal(&id))
            .map_err(|e| AppError::invalid("subject.national_id", e.to_string()))
    })
    .transpose()
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

pub fn close(
    conn: &mut PgConnection,
    id: Uuid,
    reason: CloseReason,
    note: Option<&str>,
) -> Result<CaseRow, AppError> {
    Ok(diesel::update(cases::table.find(id))
        .set((
            cases::status.eq("closed"),
            cases::closed_at.eq(diesel::dsl::now),
            cases::close_reason.eq(<&'static str>::from(reason)),
            cases::close_note.eq(note),
            cases::version.eq(cases::version + 1),
        ))
        .returning(CaseRow::as_returning())
        .get_result(conn)?)
}
