//! The table of keys. No transaction: each statement stands alone, and the row itself is the lock.

use diesel::dsl::{now, IntervalDsl};
use diesel::prelude::*;
use diesel::sql_types::Timestamptz;
use diesel::upsert::excluded;
use uuid::Uuid;

use super::rules::{judge, KeyState, Stored, Verdict};
use crate::db::schema::idempotency_keys as k;
use crate::http::error::AppError;

/// Keys are kept at least this long; after that the key may be used for another request.
const KEPT_HOURS: i32 = 24;
/// An in-flight key not refreshed for this long belongs to an execution that died.
const ABANDONED_AFTER_SECONDS: i32 = 60;

/// Whose key: keys of one caller never meet another caller's.
#[derive(Debug, Clone)]
pub struct Scope {
    pub tenant: String,
    pub subject: String,
    pub key: String,
}

#[derive(Debug)]
pub enum Claim {
    /// This request executes; `Uuid` identifies the execution, which alone may complete or release the key.
    Acquired(Uuid),
    Replay(Stored),
    InFlight,
    Mismatch,
}

type StoredRow = (
    Vec<u8>,
    KeyState,
    Option<i16>,
    Option<serde_json::Value>,
    Option<Vec<u8>>,
);

/// Takes the key for this request, or says why not. A fresh key is inserted; an expired key (any
/// request) or an abandoned in-flight key (the same request) is taken over by a conditional update in
/// the same statement. Two racing requests meet at the primary key: exactly one of them sees one row.
pub fn claim(conn: &mut PgConnection, scope: &Scope, fp: &[u8]) -> Result<Claim, AppError> {
    // The row can vanish between the two statements (a 5xx released it); then the key is free again.
    for _ in 0..3 {
        let token = Uuid::now_v7();
        let expired = k::created_at.lt(now.into_sql::<Timestamptz>() - KEPT_HOURS.hours());
        let abandoned = k::state
            .eq(KeyState::InFlight)
            .and(k::locked_at.lt(now.into_sql::<Timestamptz>() - ABANDONED_AFTER_SECONDS.seconds()))
            .and(k::fingerprint.eq(excluded(k::fingerprint)));
        let upsert = diesel::insert_into(k::table)
            .values((
                k::tenant.eq(&scope.tenant),
                k::subject.eq(&scope.subject),
                k::key.eq(&scope.key),
                k::fingerprint.eq(fp),
                k::state.eq(KeyState::InFlight),
                k::claim.eq(token),
            ))
            .on_conflict((k::tenant, k::subject, k::key))
            .do_update()
            .set((
                k::fingerprint.eq(excluded(k::fingerprint)),
                k::state.eq(KeyState::InFlight),
                k::claim.eq(excluded(k::claim)),
                k::created_at.eq(now),
                k::locked_at.eq(now),
                k::completed_at.eq(None::<chrono::DateTime<chrono::Utc>>),
                k::response_status.eq(None::<i16>),
                k::response_headers.eq(None::<serde_json::Value>),
                k::response_body.eq(None::<Vec<u8>>),
            ));
        // `filter` on an upsert is the `WHERE` of `ON CONFLICT DO UPDATE`.
        let taken = diesel::query_dsl::methods::FilterDsl::filter(upsert, expired.or(abandoned))
            .execute(conn)?;
        if taken == 1 {
            return Ok(Claim::Acquired(token));
        }
        let row: Option<StoredRow> = k::table
            .find((&scope.tenant, &scope.subject, &scope.key))
            .select((
                k::fingerprint,
                k::state,
                k::response_status,
                k::response_headers,
                k::response_body,
            ))
            .first(conn)
            .optional()?;
        let Some((stored_fp, state, status, headers, body)) = row else {
            continue;
        };
        return Ok(match judge(&stored_fp, state, fp) {
            Verdict::Mismatch => Claim::Mismatch,
            Verdict::InFlight => Claim::InFlight,
            Verdict::Replay => Claim::Replay(stored(status, headers, body)?),
        });
    }
    Ok(Claim::InFlight)
}

fn stored(
    status: Option<i16>,
    headers: Option<serde_json::Value>,
    body: Option<Vec<u8>>,
) -> Result<Stored, AppError> {
    let corrupt = || {
        log::error!("idempotency: a completed key lacks its stored answer");
        AppError::internal()
    };
    let (Some(status), Some(headers), Some(body)) = (status, headers, body) else {
        return Err(corrupt());
    };
    Ok(Stored {
        status: u16::try_from(status).map_err(|_| corrupt())?,
        headers: serde_json::from_value(headers).map_err(|_| corrupt())?,
        body,
    })
}

/// Stores the answer. False when the key is no longer this execution's (taken over meanwhile).
pub fn complete(
    conn: &mut PgConnection,
    scope: &Scope,
    token: Uuid,
    answer: &Stored,
) -> Result<bool, AppError> {
    let status = i16::try_from(answer.status).map_err(|_| AppError::internal())?;
    let headers = serde_json::to_value(&answer.headers).map_err(|_| AppError::internal())?;
    let n = diesel::update(
        k::table
            .find((&scope.tenant, &scope.subject, &scope.key))
            .filter(k::claim.eq(token))
            .filter(k::state.eq(KeyState::InFlight)),
    )
    .set((
        k::state.eq(KeyState::Completed),
        k::completed_at.eq(now),
        k::response_status.eq(status),
        k::response_headers.eq(headers),
        k::response_body.eq(&answer.body),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Frees the key after an answer that is not kept (5xx), so a retry executes.
pub fn release(conn: &mut PgConnection, scope: &Scope, token: Uuid) -> Result<(), AppError> {
    diesel::delete(
        k::table
            .find((&scope.tenant, &scope.subject, &scope.key))
            .filter(k::claim.eq(token))
            .filter(k::state.eq(KeyState::InFlight)),
    )
    .execute(conn)?;
    Ok(())
}

/// Shows that this execution is alive, so no other request takes its key over.
pub fn refresh(conn: &mut PgConnection, scope: &Scope, token: Uuid) -> Result<(), AppError> {
    diesel::update(
        k::table
            .find((&scope.tenant, &scope.subject, &scope.key))
            .filter(k::claim.eq(token))
            .filter(k::state.eq(KeyState::InFlight)),
    )
    .set(k::locked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Deletes a bounded batch of expired keys, oldest first, skipping rows another request holds.
pub fn delete_expired(conn: &mut PgConnection) -> Result<usize, AppError> {
    Ok(diesel::sql_query(
        "DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(\
             SELECT ctid FROM idempotency_keys WHERE created_at < now() - interval '24 hours' \
             ORDER BY created_at LIMIT 100 FOR UPDATE SKIP LOCKED)) \
         AND created_at < now() - interval '24 hours'",
    )
    .execute(conn)?)
}
