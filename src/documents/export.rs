//! Builds the complete case document from the database: a handful of queries, one per kind of record.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::*;
use crate::cases::model::CaseRow;
use crate::db::schema::{access_events, evaluations, level_changes, log_entries, measures};
use crate::entries::api::EntryRow;
use crate::error::AppError;
use crate::handovers::api::HandoverRow;
use crate::measures::store::{EvaluationRow, MeasureRow};
use crate::national_id::NationalIdKey;

#[derive(QueryableByName)]
struct PeriodRow {
    #[diesel(sql_type = SqlUuid)]
    participant_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    lo: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    hi: Option<DateTime<Utc>>,
}

fn id(u: Uuid) -> String {
    u.to_string()
}

fn reveal(key: &NationalIdKey, enc: Option<&[u8]>, full: bool) -> Option<String> {
    enc.map(|e| match key.decrypt(e) {
        Some(n) if full => n.as_str().to_string(),
        Some(n) => n.masked(),
        None => "unreadable".into(),
    })
}

/// The whole case. National ids in full only when `full_ids` (the stafettholder's export, which is also
/// what an import needs); masked otherwise.
pub fn build(
    conn: &mut PgConnection,
    key: &NationalIdKey,
    case: &CaseRow,
    full_ids: bool,
) -> Result<CaseDocument, AppError> {
    let case_id = case.id;
    let refs = crate::cases::store::refs_for(conn, &[case_id])?
        .remove(&case_id)
        .unwrap_or_default();
    let participants = crate::participants::store::for_cases(conn, &[case_id])?;
    let ids: Vec<Uuid> = participants.iter().map(|p| p.id).collect();
    let mut participant_refs = crate::participants::store::refs_for(conn, &ids)?;
    let periods: Vec<PeriodRow> = diesel::sql_query(
        "SELECT participant_id, lower(period) AS lo, upper(period) AS hi FROM holder_periods WHERE case_id = $1 ORDER BY lower(period)",
    )
    .bind::<SqlUuid, _>(case_id)
    .load(conn)?;
    let consents = crate::consents::store::for_cases(conn, &[case_id])?;
    let measure_rows: Vec<MeasureRow> = measures::table
        .filter(measures::case_id.eq(case_id))
        .order(measures::id.asc())
        .select(MeasureRow::as_select())
        .load(conn)?;
    let evaluation_rows: Vec<EvaluationRow> = evaluations::table
        .filter(evaluations::case_id.eq(case_id))
        .order(evaluations::id.asc())
        .select(EvaluationRow::as_select())
        .load(conn)?;
    let level_rows: Vec<crate::level_changes::LevelChange> = level_changes::table
        .filter(level_changes::case_id.eq(case_id))
        .order(level_changes::id.asc())
        .select(crate::level_changes::LevelChange::as_select())
        .load(conn)?;
    let handover_rows: Vec<HandoverRow> = crate::handovers::store::of_case(conn, case_id)?;
    let entry_rows: Vec<EntryRow> = log_entries::table
        .filter(log_entries::case_id.eq(case_id))
        .order(log_entries::id.asc())
        .select(EntryRow::as_select())
        .load(conn)?;
    type AccessRow = (
        DateTime<Utc>,
        String,
        String,
        String,
        String,
        String,
        String,
    );
    let access_rows: Vec<AccessRow> = access_events::table
        .filter(access_events::case_id.eq(case_id))
        .order(access_events::id.asc())
        .select((
            access_events::at,
            access_events::actor_user_id,
            access_events::actor_name,
            access_events::actor_role,
            access_events::action,
            access_events::resource,
            access_events::basis,
        ))
        .load(conn)?;

    Ok(CaseDocument {
        format: FORMAT.into(),
        case: CaseRecord {
            id: id(case.id),
            external_refs: refs,
            opened_in_service: case.opened_in_service.clone(),
            subject: SubjectRecord {
                kind: case.subject_kind,
                given_name: case.subject_given_name.clone(),
                family_name: case.subject_family_name.clone(),
                birth_date: case.subject_birth_date,
                national_id: reveal(key, case.subject_national_id_enc.as_deref(), full_ids),
            },
            concern: case.concern.clone(),
            status: case.status,
            level: case.level,
            decision_due: case.decision_due,
            opened_at: case.opened_at,
            opened_by: case.opened_by.clone(),
            closed_at: case.closed_at,
            close_reason: case.close_reason,
            close_note: case.close_note.clone(),
        },
        holder: id(case.holder_participant_id),
        participants: participants
            .iter()
            .map(|p| ParticipantRecord {
                id: id(p.id),
                kind: p.kind,
                name: p.name.clone(),
                user_id: p.user_id.clone(),
                service: p.service.clone(),
                title: p.title.clone(),
                relation: p.relation,
                parental_responsibility: p.parental_responsibility,
                national_id: reveal(key, p.national_id_enc.as_deref(), full_ids),
                email: p.email.clone(),
                phone: p.phone.clone(),
                role: p.role.clone(),
                active: p.active,
                joined_at: p.joined_at,
                left_at: p.left_at,
                external_refs: participant_refs.remove(&p.id).unwrap_or_default(),
            })
            .collect(),
        holder_periods: periods
            .into_iter()
            .map(|p| HolderPeriodRecord {
                participant_id: id(p.participant_id),
                from: p.lo,
                to: p.hi,
            })
            .collect(),
        consents: consents
            .iter()
            .map(|c| ConsentRecord {
                id: id(c.row.id),
                given_by: c.givers.iter().map(|g| id(*g)).collect(),
                services: c.services.clone(),
                purpose: c.row.purpose.clone(),
                valid_from: c.row.valid_from,
                valid_until: c.row.valid_until,
                form: c.row.form,
                document_ref: c.row.document_ref.clone(),
                supersedes: c.row.supersedes.map(id),
                superseded_at: c.row.superseded_at,
                recorded_by_user: c.row.recorded_by_user.clone(),
                recorded_by_name: c.row.recorded_by_name.clone(),
                recorded_at: c.row.recorded_at,
                withdrawn_at: c.row.withdrawn_at,
                withdrawn_by: c.row.withdrawn_by_participant.map(id),
                withdrawal_reason: c.row.withdrawal_reason.clone(),
            })
            .collect(),
        measures: measure_rows
            .iter()
            .map(|m| MeasureRecord {
                id: id(m.id),
                title: m.title.clone(),
                goal: m.goal.clone(),
                description: m.description.clone(),
                responsible: match m.responsible() {
                    crate::measures::api::Responsible::Service { service } => {
                        ResponsibleRecord::Service { service }
                    }
                    crate::measures::api::Responsible::Participant { participant_id } => {
                        ResponsibleRecord::Participant {
                            participant_id: id(participant_id),
                        }
                    }
                    crate::measures::api::Responsible::Subject => ResponsibleRecord::Subject,
                },
                start_date: m.start_date,
                evaluate_by: m.evaluate_by,
                state: m.state(),
                created_by_user: m.created_by_user.clone(),
                created_at: m.created_at,
                evaluations: evaluation_rows
                    .iter()
                    .filter(|e| e.measure_id == m.id)
                    .map(|e| EvaluationRecord {
                        id: id(e.id),
                        evaluated_on: e.evaluated_on,
                        evaluated_by: id(e.evaluated_by_participant),
                        evaluated_by_name: e.evaluated_by_name.clone(),
                        assessment: e.assessment.clone(),
                        child_view: e.child_view.clone(),
                        outcome: e.outcome,
                        next_evaluate_by: e.next_evaluate_by,
                        recorded_at: e.recorded_at,
                    })
                    .collect(),
            })
            .collect(),
        level_changes: level_rows
            .into_iter()
            .map(|l| LevelChangeRecord {
                id: id(l.id),
                from_level: l.from_level,
                to_level: l.to_level,
                reason: l.reason,
                decided_on: l.decided_on,
                recorded_at: l.recorded_at,
                recorded_by: id(l.recorded_by_participant),
                recorded_by_name: l.recorded_by_name,
            })
            .collect(),
        handovers: handover_rows
            .into_iter()
            .map(|h| HandoverRecord {
                id: id(h.id),
                from: id(h.from_participant_id),
                from_user_id: h.from_user_id,
                to: HandoverTo {
                    user_id: h.to_user_id,
                    name: h.to_name,
                    service: h.to_service,
                },
                reason: h.reason,
                note: h.note,
                answer_by: h.answer_by,
                previous_holder_leaves: h.previous_holder_leaves,
                state: h.state,
                proposed_at: h.proposed_at,
                answered_at: h.answered_at,
                answered_by_user: h.answered_by_user,
                answer_reason: h.answer_reason,
            })
            .collect(),
        entries: entry_rows
            .into_iter()
            .map(|e| EntryRecord {
                id: id(e.id),
                kind: e.kind,
                occurred_at: e.occurred_at,
                title: e.title,
                body: e.body,
                attendees: e.attendees.into_iter().map(id).collect(),
                decisions: e.decisions,
                next_meeting: e.next_meeting,
                corrects: e.corrects.map(id),
                author: id(e.author_participant_id),
                author_name: e.author_name,
                recorded_at: e.recorded_at,
            })
            .collect(),
        access_log: access_rows
            .into_iter()
            .map(
                |(at, actor_user_id, actor_name, actor_role, action, resource, basis)| {
                    AccessRecord {
                        at,
                        actor_user_id,
                        actor_name,
                        actor_role,
                        action,
                        resource,
                        basis,
                    }
                },
            )
            .collect(),
    })
}
