//! The history of who held the relay. Periods are half-open ranges `[from, to)`; the open one is the
//! current holder's. Every change uses the transaction's own `now()`, so the old period ends exactly
//! where the new one begins: no gap, no overlap (both also enforced by the database).

use diesel::prelude::*;
use diesel::sql_types::Uuid as SqlUuid;
use uuid::Uuid;

use crate::error::AppError;

/// The first period, when a case opens (its `opened_at` is the same `now()`).
pub fn start(conn: &mut PgConnection, case_id: Uuid, participant_id: Uuid) -> Result<(), AppError> {
    diesel::sql_query("INSERT INTO holder_periods (case_id, participant_id, period) VALUES ($1, $2, tstzrange(now(), NULL, '[)'))")
        .bind::<SqlUuid, _>(case_id)
        .bind::<SqlUuid, _>(participant_id)
        .execute(conn)?;
    Ok(())
}

/// Ends the open period now; the case closes, or the relay passes on.
pub fn end(conn: &mut PgConnection, case_id: Uuid) -> Result<(), AppError> {
    diesel::sql_query(
        "UPDATE holder_periods SET period = tstzrange(lower(period), now(), '[)') WHERE case_id = $1 AND upper_inf(period)",
    )
    .bind::<SqlUuid, _>(case_id)
    .execute(conn)?;
    Ok(())
}

/// The relay passes to `participant_id`, starting exactly when the previous period ends.
pub fn pass(conn: &mut PgConnection, case_id: Uuid, participant_id: Uuid) -> Result<(), AppError> {
    end(conn, case_id)?;
    start(conn, case_id, participant_id)
}
