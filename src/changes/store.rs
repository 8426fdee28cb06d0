//! Writing the change feed's events, numbered per municipality in commit order, and reading them back.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::api::ChangeType;
use crate::db::schema::change_events;
use crate::http::error::AppError;

/// An event as stored: its number in the municipality's feed, what changed, in which case, when.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = change_events)]
pub struct EventRow {
    pub seq: i64,
    #[diesel(column_name = event_type)]
    pub change_type: ChangeType,
    pub case_id: Uuid,
    pub at: DateTime<Utc>,
}

/// The municipality's events after `after`, in feed order, at most `limit`.
pub fn read_after(
    conn: &mut PgConnection,
    municipality: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<EventRow>, AppError> {
    Ok(change_events::table
        .filter(change_events::municipality.eq(municipality))
        .filter(change_events::seq.gt(after))
        .order(change_events::seq.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?)
}

/// Writes events for one case. Call it last in the transaction: it takes the municipality's counter row
/// lock, which is held until commit, so the shorter the rest of the transaction after it, the better.
pub fn emit(
    conn: &mut PgConnection,
    municipality: &str,
    case_id: Uuid,
    types: &[ChangeType],
) -> Result<(), AppError> {
    let events: Vec<(Uuid, ChangeType)> = types.iter().map(|t| (case_id, *t)).collect();
    emit_many(conn, municipality, &events)
}

/// Writes events of any number of cases of one municipality, numbered in the order given, in one
/// statement. The numbers come from the municipality's row of `feed_counters`, updated in this
/// transaction: numbers follow commit order within the municipality (which is all one feed reader sees),
/// and writers of other municipalities never wait on this one.
pub fn emit_many(
    conn: &mut PgConnection,
    municipality: &str,
    events: &[(Uuid, ChangeType)],
) -> Result<(), AppError> {
    if events.is_empty() {
        return Ok(());
    }
    crate::db::listen::written(municipality);
    let cases: Vec<Uuid> = events.iter().map(|(case, _)| *case).collect();
    let names: Vec<&'static str> = events
        .iter()
        .map(|(_, t)| <&'static str>::from(*t))
        .collect();
    // One round trip: take the next numbers and write the events in the same statement.
    diesel::sql_query(
        "WITH counter AS (
             INSERT INTO feed_counters AS f (municipality, last_seq) VALUES ($1, cardinality($3::text[]))
             ON CONFLICT (municipality) DO UPDATE SET last_seq = f.last_seq + cardinality($3::text[])
             RETURNING last_seq)
         INSERT INTO change_events (seq, municipality, case_id, type)
         SELECT counter.last_seq - cardinality($3::text[]) + t.n, $1, t.case_id, t.name
         FROM counter, unnest($2::uuid[], $3::text[]) WITH ORDINALITY AS t(case_id, name, n)",
    )
    .bind::<diesel::sql_types::Text, _>(municipality)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(cases)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(names)
    .execute(conn)?;
    Ok(())
}
