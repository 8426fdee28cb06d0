//! Builds complete case documents from the database: one query per kind of record, however many cases
//! (the import compares hundreds of stored cases with their lines at once).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Nullable, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::api::*;
use crate::cases::store::CaseRow;
use crate::consents::store::Consent;
use crate::db::schema::{
    access_events, evaluations, handovers, level_changes, log_entries, measures,
};
use crate::decisions::api::DecisionOutcome;
use crate::decisions::store::DecisionRow;
use crate::entries::store::EntryRow;
use crate::handovers::api::HandoverTo;
use crate::handovers::store::HandoverRow;
use crate::http::error::AppError;
use crate::level_changes::api::LevelChange;
use crate::measures::store::{EvaluationRow, MeasureRow};
use crate::meetings::store::{InviteeRow, MeetingRow};
use crate::national_id::NationalIdKey;
use crate::participants::store::ParticipantRow;
use crate::plans::store::{MemberRow, PlanRow};

/// What a document shows besides the case's records.
#[derive(Debug, Clone, Copy)]
pub struct Shown {
    /// National ids in full (the stafettholder's export, which is also what an import needs); masked
    /// otherwise.
    pub full_ids: bool,
    /// Who accessed the case; a comparison of documents leaves it out, so it need not be read.
    pub access_log: bool,
    /// Reports to child welfare and the trace of recording them (rule 11): in the stafettholder's
    /// document (and so in the archive), never in a family's.
    pub reports: bool,
}

#[derive(QueryableByName)]
struct PeriodRow {
    #[diesel(sql_type = SqlUuid)]
    case_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    participant_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    lo: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    hi: Option<DateTime<Utc>>,
}

/// Every record of some cases, by the case (evaluations by their measure).
#[derive(Default)]
struct Records {
    refs: HashMap<Uuid, Vec<crate::cases::api::ExternalRef>>,
    participants: HashMap<Uuid, Vec<ParticipantRow>>,
    participant_refs: HashMap<Uuid, Vec<crate::cases::api::ExternalRef>>,
    periods: HashMap<Uuid, Vec<PeriodRow>>,
    consents: HashMap<Uuid, Vec<Consent>>,
    measures: HashMap<Uuid, Vec<MeasureRow>>,
    evaluations: HashMap<Uuid, Vec<EvaluationRow>>,
    level_changes: HashMap<Uuid, Vec<LevelChange>>,
    handovers: HashMap<Uuid, Vec<HandoverRow>>,
    entries: HashMap<Uuid, Vec<EntryRow>>,
    plans: HashMap<Uuid, Vec<PlanRow>>,
    plan_members: HashMap<Uuid, Vec<MemberRow>>,
    meetings: HashMap<Uuid, Vec<MeetingRow>>,
    invitees: HashMap<Uuid, Vec<InviteeRow>>,
    decisions: HashMap<Uuid, Vec<DecisionRow>>,
    closings: HashMap<Uuid, Vec<crate::cases::store::Closure>>,
    reassignments: HashMap<Uuid, Vec<crate::handovers::store::ReassignmentRow>>,
    level0_since: HashMap<Uuid, DateTime<Utc>>,
    access: HashMap<Uuid, Vec<AccessRecord>>,
}

/// Rows grouped by a key, each group in the order the rows came.
fn by<T>(rows: Vec<T>, key: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Vec<T>> {
    let mut out: HashMap<Uuid, Vec<T>> = HashMap::new();
    for row in rows {
        out.entry(key(&row)).or_default().push(row);
    }
    out
}

fn take<T>(map: &mut HashMap<Uuid, Vec<T>>, key: Uuid) -> Vec<T> {
    map.remove(&key).unwrap_or_default()
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

/// The documents of these cases, in their order.
pub fn build_many(
    conn: &mut PgConnection,
    key: &NationalIdKey,
    cases: &[CaseRow],
    shown: Shown,
) -> Result<Vec<CaseDocument>, AppError> {
    if cases.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<Uuid> = cases.iter().map(|c| c.id).collect();
    let mut records = load(conn, &ids, shown)?;
    Ok(cases
        .iter()
        .map(|case| document(key, case, &mut records, shown))
        .collect())
}

fn load(conn: &mut PgConnection, ids: &[Uuid], shown: Shown) -> Result<Records, AppError> {
    let participants = crate::participants::store::for_cases(conn, ids)?;
    let participant_ids: Vec<Uuid> = participants.iter().map(|p| p.id).collect();
    let periods: Vec<PeriodRow> = diesel::sql_query(
        "SELECT case_id, participant_id, lower(period) AS lo, upper(period) AS hi FROM holder_periods \
         WHERE case_id = ANY($1) ORDER BY case_id, lower(period)",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .load(conn)?;
    let measure_rows: Vec<MeasureRow> = measures::table
        .filter(measures::case_id.eq_any(ids))
        .order(measures::id.asc())
        .select(MeasureRow::as_select())
        .load(conn)?;
    let evaluation_rows: Vec<EvaluationRow> = evaluations::table
        .filter(evaluations::case_id.eq_any(ids))
        .order(evaluations::id.asc())
        .select(EvaluationRow::as_select())
        .load(conn)?;
    let level_rows: Vec<(Uuid, LevelChange)> = level_changes::table
        .filter(level_changes::case_id.eq_any(ids))
        .order(level_changes::id.asc())
        .select((level_changes::case_id, LevelChange::as_select()))
        .load(conn)?;
    let handover_rows: Vec<HandoverRow> = handovers::table
        .filter(handovers::case_id.eq_any(ids))
        .order(handovers::id.asc())
        .select(HandoverRow::as_select())
        .load(conn)?;
    let entry_rows: Vec<EntryRow> = log_entries::table
        .filter(log_entries::case_id.eq_any(ids))
        .order(log_entries::id.asc())
        .select(EntryRow::as_select())
        .load(conn)?;
    let meeting_rows = crate::meetings::store::for_cases(conn, ids)?;
    let meeting_ids: Vec<Uuid> = meeting_rows.iter().map(|m| m.id).collect();
    let invitee_rows = crate::meetings::store::invitees_of(conn, &meeting_ids)?;
    let decisions = crate::decisions::store::of_cases(conn, ids)?
        .into_iter()
        .filter(|d| shown.reports || d.outcome != DecisionOutcome::ReportChildWelfare);
    Ok(Records {
        decisions: by(decisions.collect(), |d| d.case_id),
        closings: by(crate::cases::store::closures_of(conn, ids)?, |c| c.case_id),
        reassignments: by(crate::handovers::store::reassignments_of(conn, ids)?, |r| {
            r.case_id
        }),
        level0_since: crate::decisions::store::periods_of(conn, ids)?,
        plans: by(crate::plans::store::for_cases(conn, ids)?, |p| p.case_id),
        plan_members: by(crate::plans::store::members_of_cases(conn, ids)?, |m| {
            m.plan_id
        }),
        meetings: by(meeting_rows, |m| m.case_id),
        invitees: by(invitee_rows, |i| i.meeting_id),
        refs: crate::cases::store::refs_for(conn, ids)?,
        participant_refs: crate::participants::store::refs_for(conn, &participant_ids)?,
        participants: by(participants, |p| p.case_id),
        periods: by(periods, |p| p.case_id),
        consents: by(crate::consents::store::for_cases(conn, ids)?, |c| {
            c.row.case_id
        }),
        measures: by(measure_rows, |m| m.case_id),
        evaluations: by(evaluation_rows, |e| e.measure_id),
        level_changes: by(level_rows, |(case, _)| *case)
            .into_iter()
            .map(|(case, rows)| (case, rows.into_iter().map(|(_, l)| l).collect()))
            .collect(),
        handovers: by(handover_rows, |h| h.case_id),
        entries: by(entry_rows, |e| e.case_id),
        access: if shown.access_log {
            access_records(conn, ids, shown.reports)?
        } else {
            HashMap::new()
        },
    })
}

/// The access events' resources a document leaves out: a report's, unless it shows reports (rule 11).

#[derive(Queryable, Selectable)]
#[diesel(table_name = access_events)]
struct AccessRow {
    id: i64,
    case_id: Uuid,
    at: DateTime<Utc>,
    actor_user_id: String,
    actor_name: String,
    actor_role: String,
    action: String,
    resource: String,
    basis: String,
}

impl AccessRow {
    fn record(self) -> AccessRecord {
        AccessRecord {
            at: self.at,
            actor_user_id: self.actor_user_id,
            actor_name: self.actor_name,
            actor_role: self.actor_role,
            action: self.action,
            resource: self.resource,
            basis: self.basis,
        }
    }
}

/// Who read or changed the cases, oldest first.
fn access_records(
    conn: &mut PgConnection,
    ids: &[Uuid],
    reports: bool,
) -> Result<HashMap<Uuid, Vec<AccessRecord>>, AppError> {
    let rows: Vec<AccessRow> = access_events::table
        .filter(access_events::case_id.eq_any(ids))
        .filter(
            access_events::resource.ne_all(
                crate::policy::decisions::hidden_resources(reports)
                    .iter()
                    .map(|r| r.as_str()),
            ),
        )
        .order(access_events::id.asc())
        .select(AccessRow::as_select())
        .load(conn)?;
    let mut out: HashMap<Uuid, Vec<AccessRecord>> = HashMap::new();
    for row in rows {
        out.entry(row.case_id).or_default().push(row.record());
    }
    Ok(out)
}

/// The newest access event of a case (0 if none): where a streamed document's access log ends.
pub fn last_access_event(conn: &mut PgConnection, case_id: Uuid) -> Result<i64, AppError> {
    let last: Option<i64> = access_events::table
        .filter(access_events::case_id.eq(case_id))
        .select(diesel::dsl::max(access_events::id))
        .get_result(conn)?;
    Ok(last.unwrap_or(0))
}

/// A page of a case's access log for a streamed document, oldest first: the events after `after` up to
/// `upto`, at most `limit`, each with its id (the next page starts after the last).
pub fn access_page(
    conn: &mut PgConnection,
    case_id: Uuid,
    (after, upto): (i64, i64),
    reports: bool,
    limit: i64,
) -> Result<Vec<(i64, AccessRecord)>, AppError> {
    let rows: Vec<AccessRow> = access_events::table
        .filter(access_events::case_id.eq(case_id))
        .filter(access_events::id.gt(after))
        .filter(access_events::id.le(upto))
        .filter(
            access_events::resource.ne_all(
                crate::policy::decisions::hidden_resources(reports)
                    .iter()
                    .map(|r| r.as_str()),
            ),
        )
        .order(access_events::id.asc())
        .limit(limit)
        .select(AccessRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.id, r.record())).collect())
}

/// One case's document, taking its records out of `records`.
fn document(
    key: &NationalIdKey,
    case: &CaseRow,
    records: &mut Records,
    shown: Shown,
) -> CaseDocument {
    let full_ids = shown.full_ids;
    let participants = take(&mut records.participants, case.id);
    let participants = participants
        .into_iter()
        .map(|p| {
            let refs = records.participant_refs.remove(&p.id).unwrap_or_default();
            participant_record(key, p, refs, full_ids)
        })
        .collect();
    let measures = take(&mut records.measures, case.id)
        .iter()
        .map(|m| measure_record(m, take(&mut records.evaluations, m.id)))
        .collect();
    let mut case_rec = case_record(key, case, take(&mut records.refs, case.id), full_ids);
    case_rec.level0_since = records.level0_since.remove(&case.id);
    CaseDocument {
        format: FORMAT.into(),
        case: case_rec,
        holder: id(case.holder_participant_id),
        participants,
        holder_periods: take(&mut records.periods, case.id)
            .into_iter()
            .map(|p| HolderPeriodRecord {
                participant_id: id(p.participant_id),
                from: p.lo,
                to: p.hi,
            })
            .collect(),
        consents: take(&mut records.consents, case.id)
            .iter()
            .map(consent_record)
            .collect(),
        measures,
        level_changes: take(&mut records.level_changes, case.id)
            .into_iter()
            .map(level_change_record)
            .collect(),
        handovers: take(&mut records.handovers, case.id)
            .into_iter()
            .map(handover_record)
            .collect(),
        entries: take(&mut records.entries, case.id)
            .into_iter()
            .map(entry_record)
            .collect(),
        plans: take(&mut records.plans, case.id)
            .into_iter()
            .map(|p| {
                let members = take(&mut records.plan_members, p.id);
                plan_record(p, members)
            })
            .collect(),
        meetings: take(&mut records.meetings, case.id)
            .into_iter()
            .map(|m| {
                let invitees = take(&mut records.invitees, m.id);
                meeting_record(m, invitees)
            })
            .collect(),
        decisions: take(&mut records.decisions, case.id)
            .into_iter()
            .map(decision_record)
            .collect(),
        reassignments: take(&mut records.reassignments, case.id)
            .into_iter()
            .map(reassignment_record)
            .collect(),
        closings: take(&mut records.closings, case.id)
            .into_iter()
            .map(closing_record)
            .collect(),
        access_log: take(&mut records.access, case.id),
    }
}

fn case_record(
    key: &NationalIdKey,
    case: &CaseRow,
    external_refs: Vec<crate::cases::api::ExternalRef>,
    full_ids: bool,
) -> CaseRecord {
    CaseRecord {
        id: id(case.id),
        external_refs: or_own_reference(external_refs, case),
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
        purged_at: case.purged_at,
        archived: case.archived(),
        level0_since: None,
        reopened_on: case.reopened_on,
    }
}

/// The case's references, or for a case opened without any its own id in this service
/// (`stafettlogg-<municipality>`): an import finds a case again by its references, so a document without
/// one could not be imported (a move to another municipality), nor imported again without making a
/// second case (`crate::cases::store::cases_by_refs` finds a case by its own reference too).
pub fn or_own_reference(
    refs: Vec<crate::cases::api::ExternalRef>,
    case: &CaseRow,
) -> Vec<crate::cases::api::ExternalRef> {
    if !refs.is_empty() {
        return refs;
    }
    vec![crate::cases::api::ExternalRef {
        system: crate::cases::api::own_reference_system(&case.municipality),
        id: case.id.to_string(),
    }]
}

fn participant_record(
    key: &NationalIdKey,
    p: ParticipantRow,
    external_refs: Vec<crate::cases::api::ExternalRef>,
    full_ids: bool,
) -> ParticipantRecord {
    ParticipantRecord {
        id: id(p.id),
        kind: p.kind,
        national_id: reveal(key, p.national_id_enc.as_deref(), full_ids),
        name: p.name,
        user_id: p.user_id,
        service: p.service,
        title: p.title,
        relation: p.relation,
        parental_responsibility: p.parental_responsibility,
        email: p.email,
        phone: p.phone,
        role: p.role,
        active: p.active,
        joined_at: p.joined_at,
        left_at: p.left_at,
        external_refs,
    }
}

fn consent_record(c: &Consent) -> ConsentRecord {
    ConsentRecord {
        id: id(c.row.id),
        given_by: c.givers.iter().map(|g| id(*g)).collect(),
        missing_signatures: c
            .givers
            .iter()
            .filter(|g| !c.signed.contains(g))
            .map(|g| id(*g))
            .collect(),
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
    }
}

fn measure_record(m: &MeasureRow, evaluations: Vec<EvaluationRow>) -> MeasureRecord {
    use crate::measures::api::Responsible;
    MeasureRecord {
        id: id(m.id),
        title: m.title.clone(),
        goal: m.goal.clone(),
        description: m.description.clone(),
        responsible: match m.responsible() {
            Responsible::Service { service } => ResponsibleRecord::Service { service },
            Responsible::Participant { participant_id } => ResponsibleRecord::Participant {
                participant_id: id(participant_id),
            },
            Responsible::Subject => ResponsibleRecord::Subject,
        },
        start_date: m.start_date,
        evaluate_by: m.evaluate_by,
        state: m.state(),
        created_by_user: m.created_by_user.clone(),
        created_at: m.created_at,
        plan: m.plan_id.map(id),
        evaluations: evaluations
            .into_iter()
            .map(|e| EvaluationRecord {
                id: id(e.id),
                evaluated_on: e.evaluated_on,
                evaluated_by: id(e.evaluated_by_participant),
                evaluated_by_name: e.evaluated_by_name,
                assessment: e.assessment,
                child_view: e.child_view,
                outcome: e.outcome,
                next_evaluate_by: e.next_evaluate_by,
                recorded_at: e.recorded_at,
            })
            .collect(),
    }
}

fn decision_record(d: DecisionRow) -> DecisionRecord {
    DecisionRecord {
        id: id(d.id),
        outcome: d.outcome,
        decided_on: d.decided_on,
        note: d.note,
        service: d.service,
        period_started_at: d.period_started_at,
        recorded_at: d.recorded_at,
        recorded_by: id(d.recorded_by_participant),
        recorded_by_name: d.recorded_by_name,
    }
}

fn level_change_record(l: LevelChange) -> LevelChangeRecord {
    LevelChangeRecord {
        id: id(l.id),
        from_level: l.from_level,
        to_level: l.to_level,
        reason: l.reason,
        decided_on: l.decided_on,
        recorded_at: l.recorded_at,
        recorded_by: id(l.recorded_by_participant),
        recorded_by_name: l.recorded_by_name,
    }
}

fn closing_record(c: crate::cases::store::Closure) -> ClosingRecord {
    ClosingRecord {
        closed_at: c.closed_at,
        close_reason: c.close_reason,
        reopened_at: c.reopened_at,
    }
}

fn reassignment_record(r: crate::handovers::store::ReassignmentRow) -> ReassignmentRecord {
    ReassignmentRecord {
        from_participant: id(r.from_participant_id),
        to_participant: id(r.to_participant_id),
        to_name: r.to_name,
        to_service: r.to_service,
        reason: r.reason,
        by_user_id: r.by_user_id,
        by_name: r.by_name,
        at: r.at,
    }
}

fn handover_record(h: HandoverRow) -> HandoverRecord {
    HandoverRecord {
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
    }
}

fn entry_record(e: EntryRow) -> EntryRecord {
    EntryRecord {
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
    }
}

fn plan_record(p: PlanRow, members: Vec<MemberRow>) -> PlanRecord {
    PlanRecord {
        id: id(p.id),
        kind: p.kind,
        owner_service: p.owner_service,
        coordinator: p.coordinator_participant_id.map(id),
        state: p.state,
        starts_on: p.starts_on,
        ends_on: p.ends_on,
        goals: p.goals,
        end_reason: p.end_reason,
        members: members
            .into_iter()
            .map(|m| PlanMemberRecord {
                participant_id: id(m.participant_id),
                role: m.role,
                added_at: m.added_at,
            })
            .collect(),
        created_by_user: p.created_by_user,
        created_at: p.created_at,
        activated_at: p.activated_at,
        ended_at: p.ended_at,
    }
}

fn meeting_record(m: MeetingRow, invitees: Vec<InviteeRow>) -> MeetingRecord {
    MeetingRecord {
        id: id(m.id),
        kind: m.kind,
        starts_at: m.starts_at,
        ends_at: m.ends_at,
        place: m.place,
        agenda: m.agenda,
        state: m.state,
        minutes_entry: m.minutes_entry_id.map(id),
        cancel_reason: m.cancel_reason,
        created_by_user: m.created_by_user,
        created_at: m.created_at,
        cancelled_at: m.cancelled_at,
        sequence: m.sequence,
        invitees: invitees
            .into_iter()
            .map(|i| InviteeRecord {
                participant_id: id(i.participant_id),
                response: i.response,
                responded_at: i.responded_at,
            })
            .collect(),
    }
}
