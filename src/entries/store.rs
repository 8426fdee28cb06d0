//! Queries for the log.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Uuid as SqlUuid};
use uuid::Uuid;

use super::api::EntryKind;
use crate::access_log::store::EventValues;
use crate::db::schema::log_entries;
use crate::http::error::AppError;

/// A new entry. A live one is recorded now (`recorded_at: None`: the database's clock); an imported one
/// keeps when it was recorded.
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
    pub recorded_at: Option<DateTime<Utc>>,
}

/// Entries with every column given, any number; a correction after the entry it corrects.
pub fn insert_all(conn: &mut PgConnection, rows: &[EntryInsert]) -> Result<(), AppError> {
    crate::db::bulk::insert(rows, |chunk| {
        diesel::insert_into(log_entries::table)
            .values(chunk)
            .execute(conn)
    })
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = log_entries)]
pub struct EntryRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: EntryKind,
    pub occurred_at: DateTime<Utc>,
    pub title: Option<String>,
    pub body: String,
    pub attendees: Vec<Uuid>,
    pub decisions: Option<String>,
    pub next_meeting: Option<DateTime<Utc>>,
    pub corrects: Option<Uuid>,
    pub author_participant_id: Uuid,
    pub author_name: String,
    pub recorded_at: DateTime<Utc>,
}

impl EntryRow {
    pub fn view(self, corrected_by: Option<Uuid>) -> super::api::EntryView {
        super::api::EntryView {
            id: self.id,
            kind: self.kind,
            occurred_at: self.occurred_at,
            title: self.title,
            body: self.body,
            attendees: self.attendees,
            decisions: self.decisions,
            next_meeting: self.next_meeting,
            corrects: self.corrects,
            corrected_by,
            author: super::api::Author {
                participant_id: self.author_participant_id,
                name: self.author_name,
            },
            recorded_at: self.recorded_at,
        }
    }
}

/// The entries among `ids` that are corrected, with the entry that corrects each.
pub fn corrections_of(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Uuid>, AppError> {
    Ok(log_entries::table
        .filter(log_entries::corrects.eq_any(ids))
        .select((log_entries::corrects.assume_not_null(), log_entries::id))
        .load::<(Uuid, Uuid)>(conn)?
        .into_iter()
        .collect())
}

/// A page of the log with the correction of each entry, and the read's access event, in one statement.
/// The case's corrections (few: most entries are never corrected) come first in one probe of their own
/// index, and each entry of the page looks its correction up among them; one index probe per entry cost
/// as many buffers as the page itself.
macro_rules! entries_page_sql {
    ($after:literal) => {
        concat!(
            "WITH ",
            crate::access_event_cte!(),
            ", corrections AS MATERIALIZED (SELECT x.corrects, x.id FROM log_entries x \
                WHERE x.case_id = $1 AND x.corrects IS NOT NULL) \
             SELECT e.id, e.case_id, e.kind, e.occurred_at, e.title, e.body, e.attendees, e.decisions, \
                e.next_meeting, e.corrects, e.author_participant_id, e.author_name, e.recorded_at, \
                (SELECT k.id FROM corrections k WHERE k.corrects = e.id) AS corrected_by \
             FROM log_entries e WHERE e.case_id = $1 ",
            $after,
            " ORDER BY e.id DESC LIMIT $2"
        )
    };
}

crate::prepared_statement! {
    struct EntriesPage<'a> { event: EventValues<'a>, case_id: Uuid, limit: i64 }
    binds {
        1 => case_id as SqlUuid,
        2 => limit as BigInt,
        101 => event.municipality as Text,
        102 => event.case_id as SqlUuid,
        103 => event.actor_user_id as Text,
        104 => event.actor_name as Text,
        105 => event.actor_role as Text,
        106 => event.action as Text,
        107 => event.resource as Text,
        108 => event.request_id as Text,
        109 => event.basis as Text,
    }
    = entries_page_sql!("");
}

crate::prepared_statement! {
    /// A later page: a plan of its own, so the first page's plan never carries an "or no cursor" branch.
    struct EntriesPageAfter<'a> { event: EventValues<'a>, case_id: Uuid, after: Uuid, limit: i64 }
    binds {
        1 => case_id as SqlUuid,
        2 => limit as BigInt,
        3 => after as SqlUuid,
        101 => event.municipality as Text,
        102 => event.case_id as SqlUuid,
        103 => event.actor_user_id as Text,
        104 => event.actor_name as Text,
        105 => event.actor_role as Text,
        106 => event.action as Text,
        107 => event.resource as Text,
        108 => event.request_id as Text,
        109 => event.basis as Text,
    }
    = entries_page_sql!("AND e.id < $3");
}

#[derive(QueryableByName)]
pub struct EntryPageRow {
    #[diesel(embed)]
    pub entry: EntryRow,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub corrected_by: Option<Uuid>,
}

/// A page of the log, newest first after `after`, with each entry's correction, and the read's access
/// event written by the same statement.
pub fn page(
    conn: &mut PgConnection,
    event: EventValues,
    case_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<EntryPageRow>, AppError> {
    Ok(match after {
        None => EntriesPage {
            event,
            case_id,
            limit,
        }
        .load(conn)?,
        Some(after) => EntriesPageAfter {
            event,
            case_id,
            after,
            limit,
        }
        .load(conn)?,
    })
}

/// One entry of the case.
pub fn find(
    conn: &mut PgConnection,
    case_id: Uuid,
    id: Uuid,
) -> Result<Option<EntryRow>, AppError> {
    Ok(log_entries::table
        .filter(log_entries::id.eq(id))
        .filter(log_entries::case_id.eq(case_id))
        .select(EntryRow::as_select())
        .first(conn)
        .optional()?)
}

/// One new entry, as written.
pub fn insert(conn: &mut PgConnection, row: &EntryInsert) -> Result<EntryRow, AppError> {
    Ok(diesel::insert_into(log_entries::table)
        .values(row)
        .returning(EntryRow::as_returning())
        .get_result(conn)?)
}
