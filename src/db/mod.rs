//! The database: the connection pool, migrations, the managed local cluster, and the one helper through
//! which every handler reaches PostgreSQL (off the async executor, in a transaction).

pub mod embedded;
pub mod schema;

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use actix_web::web;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection};
use diesel::{Connection, PgConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::AppError;

pub type Pool = diesel::r2d2::Pool<ConnectionManager<PgConnection>>;
pub type Conn = PgConnection;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// How long a request waits for a connection before answering 503: long enough to ride out a burst,
/// short enough that a database that is down never makes a client hang.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(3);

/// The time limits every pooled connection runs with. A lock held by another transaction for longer than
/// `lock_timeout`, or a statement running longer than `statement_timeout`, ends the request with 503 and
/// `Retry-After` instead of holding a connection (and a client) indefinitely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            statement_timeout: Duration::from_secs(30),
            lock_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug)]
struct SessionSettings(SessionLimits);

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        // English error messages where the role may choose them: `crate::error::classify` tells a lock
        // timeout from a deadlock by the message, as diesel exposes no SQLSTATE. A role that may not set
        // it (not a superuser, no GRANT SET) keeps the server's default, which is English on most servers.
        conn.batch_execute(&format!(
            "SET statement_timeout = {}; SET lock_timeout = {}; SET TIME ZONE 'UTC'; \
             DO $$ BEGIN SET lc_messages = 'C'; EXCEPTION WHEN insufficient_privilege THEN NULL; END $$",
            self.0.statement_timeout.as_millis(),
            self.0.lock_timeout.as_millis(),
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Builds the pool without connecting, so the server can start (and answer 503 on readiness) while the
/// database is still coming up.
pub fn build_pool(url: &str, size: u32) -> Pool {
    build_pool_with(url, size, SessionLimits::default())
}

/// [`build_pool`] with other time limits (tests provoke lock timeouts with short ones).
pub fn build_pool_with(url: &str, size: u32, limits: SessionLimits) -> Pool {
    diesel::r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(CHECKOUT_TIMEOUT)
        .connection_customizer(Box::new(SessionSettings(limits)))
        .build_unchecked(ConnectionManager::new(with_connect_timeout(url)))
}

/// libpq waits for an unreachable host for a long time by default; bound it.
fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&connect_timeout=3")
    } else {
        format!("{url}?connect_timeout=3")
    }
}

/// Requests of this process waiting for a pooled connection right now (a metric: a pool too small for the
/// load shows here before it shows as 503s).
pub static WAITING_FOR_CONNECTION: AtomicI64 = AtomicI64::new(0);

/// Checks a connection out of the pool, counted in [`WAITING_FOR_CONNECTION`] while it waits.
pub fn checkout(
    pool: &Pool,
) -> Result<diesel::r2d2::PooledConnection<ConnectionManager<PgConnection>>, AppError> {
    checkout_by(pool, Instant::now() + CHECKOUT_TIMEOUT)
}

/// [`checkout`] that gives up at `deadline`: the time a request may wait for a connection counts from
/// when it asked, not from when a blocking thread got round to it.
fn checkout_by(
    pool: &Pool,
    deadline: Instant,
) -> Result<diesel::r2d2::PooledConnection<ConnectionManager<PgConnection>>, AppError> {
    let Some(left) = deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
    else {
        log::warn!("no database connection: the request waited {CHECKOUT_TIMEOUT:?} for a thread");
        return Err(AppError::busy(format!(
            "no database connection became free within {} s; nothing was written, try again shortly",
            CHECKOUT_TIMEOUT.as_secs()
        )));
    };
    WAITING_FOR_CONNECTION.fetch_add(1, Ordering::Relaxed);
    let conn = pool.get_timeout(left);
    WAITING_FOR_CONNECTION.fetch_sub(1, Ordering::Relaxed);
    Ok(conn?)
}

/// Runs `f` in one transaction on a pooled connection, on the blocking thread pool. Every database call
/// of a handler goes through here, so a handler cannot block the executor or half-write.
///
/// The wait for a connection is bounded by [`CHECKOUT_TIMEOUT`] from this call, including the time the
/// work waited for a blocking thread, so an overloaded instance answers 503 within that bound instead of
/// after an ever longer queue.
pub async fn transaction<T, F>(pool: &Pool, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    let deadline = Instant::now() + CHECKOUT_TIMEOUT;
    // The blocking thread logs inside the request's span, so a database error carries its request id.
    let span = tracing::Span::current();
    web::block(move || {
        let _entered = span.enter();
        let mut pooled = checkout_by(&pool, deadline)?;
        let conn: &mut PgConnection = &mut pooled;
        conn.transaction(f)
    })
    .await?
}

/// Applies pending migrations. An advisory lock serialises concurrent migrators (several instances
/// starting at once, or parallel test processes on one server).
pub fn run_migrations(url: &str) -> Result<Vec<String>, String> {
    let mut conn = PgConnection::establish(&with_connect_timeout(url))
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    conn.batch_execute("SELECT pg_advisory_lock(7215001)")
        .map_err(|e| format!("cannot take the migration lock: {e}"))?;
    let result = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|applied| applied.iter().map(|m| m.to_string()).collect())
        .map_err(|e| format!("migration failed: {e}"));
    let _ = conn.batch_execute("SELECT pg_advisory_unlock(7215001)");
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_for_a_connection_counts_from_when_the_request_asked() {
        // Nothing listens there: every checkout waits until its deadline.
        let pool = build_pool(
            "postgres://postgres@/nowhere?host=/nonexistent-stafettlogg-socket-dir&port=5432",
            1,
        );
        let started = Instant::now();
        let e = checkout_by(&pool, started).err().expect("no connection");
        assert_eq!(e.kind, crate::error::ProblemType::Unavailable);
        assert!(e.retry_after.is_some());
        let e = checkout_by(&pool, started + Duration::from_millis(300))
            .err()
            .expect("no connection");
        assert_eq!(e.kind, crate::error::ProblemType::Unavailable);
        // Not CHECKOUT_TIMEOUT from the start of the wait: what was left of it.
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
}
