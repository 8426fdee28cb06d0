//! The SQL of level-0 decisions.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::api::{Decision, DecisionOutcome};
use crate::db::schema::level0_decisions;
use crate::http::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = level0_decisions)]
pub struct DecisionRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub period_started_at: DateTime<Utc>,
    pub outcome: DecisionOutcome,
    pub decided_on: NaiveDate,
    pub note: Option<String>,
    pub service: String,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by_participant: Uuid,
    pub recorded_by_name: String,
}

impl DecisionRow {
    pub fn view(&self) -> Decision {
        Decision {
            id: self.id,
            outcome: self.outcome,
            decided_on: self.decided_on,
            note: self.note.clone(),
            service: self.service.clone(),
            recorded_at: self.recorded_at,
            recorded_by: self.recorded_by_participant,
            recorded_by_name: self.recorded_by_name.clone(),
        }
    }
}

/// A new decision; a live one is recorded now (`recorded_at: None`), an imported one keeps its time.
#[derive(Debug, Insertable)]
#[diesel(table_name = level0_decisions)]
pub struct DecisionInsert<'a> {
    pub id: Uuid,
    pub case_id: Uuid,
    pub period_started_at: DateTime<Utc>,
    pub outcome: DecisionOutcome,
    pub decided_on: NaiveDate,
    pub note: Option<&'a str>,
    pub service: &'a str,
    pub recorded_at: Option<DateTime<Utc>>,
    pub recorded_by_participant: Uuid,
    pub recorded_by_name: &'a str,
}

/// One new decision, as written; a second one for the same level-0 period is 409 (the database's
/// `level0_decisions_one_per_period` holds it against a race the case lock already prevents).
pub fn insert(conn: &mut PgConnection, row: &DecisionInsert) -> Result<DecisionRow, AppError> {
    diesel::insert_into(level0_decisions::table)
        .values(row)
        .returning(DecisionRow::as_returning())
        .get_result(conn)
        .map_err(|e| match e {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => AppError::conflict("rule 12: this level-0 period has its decision already"),
            e => e.into(),
        })
}

/// Decisions with every column given, any number (an import brings whole histories).
pub fn insert_all(conn: &mut PgConnection, rows: &[DecisionInsert]) -> Result<(), AppError> {
    crate::db::bulk::insert(rows, |chunk| {
        diesel::insert_into(level0_decisions::table)
            .values(chunk)
            .execute(conn)
    })
}

/// The decisions of some cases, oldest first.
pub fn of_cases(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<DecisionRow>, AppError> {
    Ok(level0_decisions::table
        .filter(level0_decisions::case_id.eq_any(ids))
        .order((level0_decisions::case_id, level0_decisions::id))
        .select(DecisionRow::as_select())
        .load(conn)?)
}

/// Imported cases take the beginning of their current level-0 period from their documents.
pub fn set_periods(
    conn: &mut PgConnection,
    periods: &[(Uuid, DateTime<Utc>)],
) -> Result<(), AppError> {
    if periods.is_empty() {
        return Ok(());
    }
    let (ids, since): (Vec<Uuid>, Vec<DateTime<Utc>>) = periods.iter().copied().unzip();
    diesel::sql_query(
        "UPDATE cases c SET level0_since = v.since \
           FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, since) WHERE c.id = v.id",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(&ids)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Timestamptz>, _>(&since)
    .execute(conn)?;
    Ok(())
}

/// The case's current level-0 period: when it began, and whether it has its decision.
#[derive(Debug, QueryableByName)]
pub struct Period {
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub since: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub decided: bool,
}

/// The current level-0 period of a case (`cases.level0_since` is the database's: kept by a trigger).
pub fn current_period(conn: &mut PgConnection, case_id: Uuid) -> Result<Period, AppError> {
    Ok(diesel::sql_query(
        "SELECT c.level0_since AS since, EXISTS (SELECT FROM level0_decisions d \
           WHERE d.case_id = c.id AND d.period_started_at = c.level0_since) AS decided \
           FROM cases c WHERE c.id = $1",
    )
    .bind::<diesel::sql_types::Uuid, _>(case_id)
    .get_result(conn)?)
}

#[derive(QueryableByName)]
struct Since {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    since: DateTime<Utc>,
}

/// When the current level-0 period of each of these cases began.
pub fn periods_of(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, DateTime<Utc>>, AppError> {
    let rows: Vec<Since> =
        diesel::sql_query("SELECT id, level0_since AS since FROM cases WHERE id = ANY($1)")
            .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(ids)
            .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.id, r.since)).collect())
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
}

/// Which of these cases have the decision of their current level-0 period.
pub fn decided_now(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<std::collections::HashSet<Uuid>, AppError> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<Id> = diesel::sql_query(
        "SELECT c.id FROM cases c JOIN level0_decisions d \
           ON d.case_id = c.id AND d.period_started_at = c.level0_since WHERE c.id = ANY($1)",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(ids)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}
