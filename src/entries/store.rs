//! Queries for the log.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::api::EntryKind;
use crate::db::schema::log_entries;
use crate::http::error::AppError;

/// An entry with every column given: an imported one keeps its author and when it was recorded.
#[derive(Debug, Insertable)]
#[diesel(table_name = log_entries)]
pub struct EntryInsert<'a> {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: EntryKind,
    pub occurred_at: DateTime<Utc>,
    pub title: Option<&'a str>,
    pub body: &'a str,
    pub attendees: Vec<Uuid>,
    pub decisions: Option<&'a str>,
    pub next_meeting: Option<DateTime<Utc>>,
    pub corrects: Option<Uuid>,
    pub author_participant_id: Uuid,
    pub author_name: &'a str,
    pub recorded_at: DateTime<Utc>,
}

/// Entries with every column given, any number; a correction after the entry it corrects.
pub fn insert_all(conn: &mut PgConnection, rows: &[EntryInsert]) -> Result<(), AppError> {
    crate::db::bulk::insert(rows, |chunk| {
        diesel::insert_into(log_entries::table)
            .values(chunk)
            .execute(conn)
    })
}
