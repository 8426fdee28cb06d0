//! The SQL of level changes, and of the case's level that each change moves.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::api::LevelChange;
use crate::db::schema::{cases, level_changes};
use crate::guide::rules::Placement;
use crate::http::error::AppError;

/// A new level change. A live one is recorded now (`recorded_at: None`: the database's clock); an
/// imported one keeps when it was recorded and by whom.
#[derive(Debug, Insertable)]
#[diesel(table_name = level_changes)]
pub struct LevelChangeInsert<'a> {
    pub id: Uuid,
    pub case_id: Uuid,
    pub from_level: i16,
    pub to_level: i16,
    pub reason: &'a str,
    pub decided_on: NaiveDate,
    pub recorded_at: Option<DateTime<Utc>>,
    pub recorded_by_participant: Uuid,
    pub recorded_by_name: &'a str,
}

/// Level changes with every column given, any number (an import brings whole histories).
pub fn insert_all(conn: &mut PgConnection, rows: &[LevelChangeInsert]) -> Result<(), AppError> {
    crate::db::bulk::insert(rows, |chunk| {
        diesel::insert_into(level_changes::table)
            .values(chunk)
            .execute(conn)
    })
}

/// One new level change, as written.
pub fn insert(conn: &mut PgConnection, row: &LevelChangeInsert) -> Result<LevelChange, AppError> {
    Ok(diesel::insert_into(level_changes::table)
        .values(row)
        .returning(LevelChange::as_returning())
        .get_result(conn)?)
}

/// The case's level history, oldest first.
pub fn of_case(conn: &mut PgConnection, case_id: Uuid) -> Result<Vec<LevelChange>, AppError> {
    Ok(level_changes::table
        .filter(level_changes::case_id.eq(case_id))
        .order(level_changes::id.asc())
        .select(LevelChange::as_select())
        .load(conn)?)
}

/// The case moves to `level`, on the first step `step` of that level, with its level-0 decision due date;
/// returns the case's new version.
pub fn set_case_level(
    conn: &mut PgConnection,
    case_id: Uuid,
    level: i16,
    decision_due: Option<NaiveDate>,
    step: &Placement,
) -> Result<i32, AppError> {
    Ok(diesel::update(cases::table.find(case_id))
        .set((
            cases::level.eq(level),
            cases::decision_due.eq(decision_due),
            crate::cases::store::guide_columns(step),
            cases::version.eq(cases::version + 1),
        ))
        .returning(cases::version)
        .get_result(conn)?)
}
