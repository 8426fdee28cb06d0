use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::api::{
    EvaluationInput, EvaluationView, Evaluator, MeasureInput, MeasureState, MeasureView,
    Responsible,
};
use crate::db::schema::{evaluations, measures};
use crate::http::error::AppError;
use crate::patch::{differs, Patched};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = measures)]
pub struct MeasureRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub title: String,
    pub goal: String,
    pub description: Option<String>,
    pub responsible_kind: String,
    pub responsible_service: Option<String>,
    pub responsible_participant_id: Option<Uuid>,
    pub start_date: NaiveDate,
    pub evaluate_by: NaiveDate,
    pub state: MeasureState,
    pub created_by_user: String,
    pub created_at: DateTime<Utc>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
    pub plan_id: Option<Uuid>,
}

impl MeasureRow {
    pub fn responsible(&self) -> Responsible {
        match (
            self.responsible_kind.as_str(),
            &self.responsible_service,
            self.responsible_participant_id,
        ) {
            ("service", Some(s), _) => Responsible::Service { service: s.clone() },
            ("participant", _, Some(p)) => Responsible::Participant { participant_id: p },
            ("subject", None, None) => Responsible::Subject,
            // The table's CHECK allows exactly the three shapes above.
            (kind, _, _) => {
                unreachable!("a measure's responsible party `{kind}` the schema forbids")
            }
        }
    }

    pub fn state(&self) -> MeasureState {
        self.state
    }

    pub fn view(&self) -> MeasureView {
        MeasureView {
            id: self.id,
            case_id: self.case_id,
            title: self.title.clone(),
            goal: self.goal.clone(),
            description: self.description.clone(),
            responsible: self.responsible(),
            start_date: self.start_date,
            evaluate_by: self.evaluate_by,
            state: self.state(),
            plan_id: self.plan_id,
            created_at: self.created_at,
            version: self.version,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = evaluations)]
pub struct EvaluationRow {
    pub id: Uuid,
    pub measure_id: Uuid,
    pub case_id: Uuid,
    pub evaluated_on: NaiveDate,
    pub evaluated_by_participant: Uuid,
    pub evaluated_by_name: String,
    pub assessment: String,
    pub child_view: Option<String>,
    pub outcome: crate::measures::api::Outcome,
    pub next_evaluate_by: Option<NaiveDate>,
    pub recorded_at: DateTime<Utc>,
}

impl EvaluationRow {
    pub fn view(&self) -> EvaluationView {
        EvaluationView {
            id: self.id,
            measure_id: self.measure_id,
            evaluated_on: self.evaluated_on,
            evaluated_by: Evaluator {
                participant_id: self.evaluated_by_participant,
                name: self.evaluated_by_name.clone(),
            },
            assessment: self.assessment.clone(),
            child_view: self.child_view.clone(),
            outcome: self.outcome,
            next_evaluate_by: self.next_evaluate_by,
            recorded_at: self.recorded_at,
        }
    }
}

fn responsible_columns(r: &Responsible) -> (&'static str, Option<String>, Option<Uuid>) {
    match r {
        Responsible::Service { service } => ("service", Some(service.clone()), None),
        Responsible::Participant { participant_id } => ("participant", None, Some(*participant_id)),
        Responsible::Subject => ("subject", None, None),
    }
}

pub fn list(conn: &mut PgConnection, case_id: Uuid) -> Result<Vec<MeasureRow>, AppError> {
    Ok(measures::table
        .filter(measures::case_id.eq(case_id))
        .order(measures::id.asc())
        .select(MeasureRow::as_select())
        .load(conn)?)
}

pub fn find(
    conn: &mut PgConnection,
    case_id: Uuid,
    id: Uuid,
    lock: bool,
) -> Result<MeasureRow, AppError> {
    let q = measures::table
        .filter(measures::id.eq(id))
        .filter(measures::case_id.eq(case_id))
        .select(MeasureRow::as_select());
    if lock {
        q.for_update().first(conn)
    } else {
        q.first(conn)
    }
    .optional()?
    .ok_or_else(|| AppError::not_found("measure"))
}

/// A measure with every column given: an imported one keeps its state and when it was created.
#[derive(Debug, Insertable)]
#[diesel(table_name = measures)]
pub struct MeasureInsert<'a> {
    pub id: Uuid,
    pub case_id: Uuid,
    pub title: &'a str,
    pub goal: &'a str,
    pub description: Option<&'a str>,
    pub responsible_kind: &'static str,
    pub responsible_service: Option<&'a str>,
    pub responsible_participant_id: Option<Uuid>,
    pub start_date: NaiveDate,
    pub evaluate_by: NaiveDate,
    pub state: MeasureState,
    pub created_by_user: &'a str,
    pub created_at: DateTime<Utc>,
    pub plan_id: Option<Uuid>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = evaluations)]
pub struct EvaluationInsert<'a> {
    pub id: Uuid,
    pub measure_id: Uuid,
    pub case_id: Uuid,
    pub evaluated_on: NaiveDate,
    pub evaluated_by_participant: Uuid,
    pub evaluated_by_name: &'a str,
    pub assessment: &'a str,
    pub child_view: Option<&'a str>,
    pub outcome: crate::measures::api::Outcome,
    pub next_evaluate_by: Option<NaiveDate>,
    pub recorded_at: DateTime<Utc>,
    /// The deadline this evaluation answered (`crate::measures::rules::answered_deadlines`).
    pub due_on: Option<NaiveDate>,
}

/// Measures with every column given, any number (an import brings whole cases).
pub fn insert_all(conn: &mut PgConnection, rows: &[MeasureInsert]) -> Result<(), AppError> {
    crate::db::bulk::insert(rows, |chunk| {
        diesel::insert_into(measures::table)
            .values(chunk)
            .execute(conn)
    })
}

/// Evaluations with every column given, any number, after their measures.
pub fn insert_evaluations(
    conn: &mut PgConnection,
    rows: &[EvaluationInsert],
) -> Result<(), AppError> {
    crate::db::bulk::insert(rows, |chunk| {
        diesel::insert_into(evaluations::table)
            .values(chunk)
            .execute(conn)
    })
}

pub fn insert(
    conn: &mut PgConnection,
    case_id: Uuid,
    by_user: &str,
    m: &MeasureInput,
) -> Result<MeasureRow, AppError> {
    let (kind, service, participant) = responsible_columns(&m.responsible);
    Ok(diesel::insert_into(measures::table)
        .values((
            measures::id.eq(Uuid::now_v7()),
            measures::case_id.eq(case_id),
            measures::title.eq(&m.title),
            measures::goal.eq(&m.goal),
            measures::description.eq(&m.description),
            measures::responsible_kind.eq(kind),
            measures::responsible_service.eq(service),
            measures::responsible_participant_id.eq(participant),
            measures::start_date.eq(m.start_date),
            measures::evaluate_by.eq(m.evaluate_by),
            measures::state.eq(<&'static str>::from(
                m.state.unwrap_or(MeasureState::Planned),
            )),
            measures::created_by_user.eq(by_user),
            measures::plan_id.eq(m.plan_id),
        ))
        .returning(MeasureRow::as_returning())
        .get_result(conn)?)
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = measures)]
pub struct MeasureChanges {
    pub title: Option<String>,
    pub goal: Option<String>,
    pub description: Option<String>,
    pub responsible_kind: Option<&'static str>,
    pub responsible_service: Option<Option<String>>,
    pub responsible_participant_id: Option<Option<Uuid>>,
    pub evaluate_by: Option<NaiveDate>,
    pub state: Option<MeasureState>,
    pub plan_id: Option<Uuid>,
}

impl MeasureChanges {
    pub fn responsible(mut self, r: &Responsible) -> Self {
        let (kind, service, participant) = responsible_columns(r);
        self.responsible_kind = Some(kind);
        self.responsible_service = Some(service);
        self.responsible_participant_id = Some(participant);
        self
    }

    /// Whether these changes would alter the stored measure (`crate::patch`).
    pub fn alters(&self, row: &MeasureRow) -> bool {
        differs(self.title.as_deref(), row.title.as_str())
            || differs(self.goal.as_deref(), row.goal.as_str())
            || differs(
                self.description.as_deref().map(Some).as_ref(),
                &row.description.as_deref(),
            )
            || differs(self.responsible_kind, row.responsible_kind.as_str())
            || differs(self.responsible_service.as_ref(), &row.responsible_service)
            || differs(
                self.responsible_participant_id.as_ref(),
                &row.responsible_participant_id,
            )
            || differs(self.evaluate_by.as_ref(), &row.evaluate_by)
            || differs(self.state.as_ref(), &row.state)
            || differs(self.plan_id.map(Some).as_ref(), &row.plan_id)
    }
}

/// Applies `changes` and moves the version on (an evaluation does, even when the measure's columns stay:
/// the measure's view shows its evaluations).
pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    changes: &MeasureChanges,
) -> Result<MeasureRow, AppError> {
    Ok(diesel::update(measures::table.find(id))
        .set((changes, measures::version.eq(measures::version + 1)))
        .returning(MeasureRow::as_returning())
        .get_result(conn)?)
}

/// A patch of `current`: [`update`], unless the changes alter nothing (`crate::patch`).
pub fn patch(
    conn: &mut PgConnection,
    current: MeasureRow,
    changes: &MeasureChanges,
) -> Result<Patched<MeasureRow>, AppError> {
    let alter = changes.alters(&current);
    Patched::unless_unchanged(current, alter, |c| update(conn, c.id, changes))
}

pub fn evaluations_of(
    conn: &mut PgConnection,
    measure_id: Uuid,
) -> Result<Vec<EvaluationRow>, AppError> {
    Ok(evaluations::table
        .filter(evaluations::measure_id.eq(measure_id))
        .order(evaluations::id.asc())
        .select(EvaluationRow::as_select())
        .load(conn)?)
}

pub fn insert_evaluation(
    conn: &mut PgConnection,
    measure: &MeasureRow,
    by: (Uuid, &str),
    e: &EvaluationInput,
) -> Result<EvaluationRow, AppError> {
    Ok(diesel::insert_into(evaluations::table)
        .values((
            evaluations::id.eq(Uuid::now_v7()),
            evaluations::measure_id.eq(measure.id),
            evaluations::case_id.eq(measure.case_id),
            evaluations::evaluated_on.eq(e.evaluated_on),
            evaluations::evaluated_by_participant.eq(by.0),
            evaluations::evaluated_by_name.eq(by.1),
            evaluations::assessment.eq(&e.assessment),
            evaluations::child_view.eq(&e.child_view),
            evaluations::outcome.eq(e.outcome),
            evaluations::next_evaluate_by.eq(e.next_evaluate_by),
            // The deadline in force when it is recorded: the statistics count it as met or missed.
            evaluations::due_on.eq(measure.evaluate_by),
        ))
        .returning(EvaluationRow::as_returning())
        .get_result(conn)?)
}
