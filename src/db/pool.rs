//! The connection pool: how a connection is opened (its role, clock and time limits in one batch) and how
//! a request waits for one, bounded, and counted while it waits.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::r2d2::CustomizeConnection;
use diesel::PgConnection;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::connections::Manager;
use super::network::with_network_limits;
use crate::http::error::AppError;

/// The connection pool, with a gate of as many permits as it has connections. A request waits for its
/// turn at the gate as a task on the executor, holding no thread; only a request that will find a free
/// connection goes to the blocking pool. Without it, every request in flight parked a blocking thread in
/// the pool's queue: at 64 clients and 8 connections, 56 threads woke and slept again on every release
/// (the service's CPU went to the kernel's scheduler), and each kept its stack and allocator arena.
#[derive(Clone)]
pub struct Pool {
    connections: diesel::r2d2::Pool<Manager>,
    gate: Arc<Semaphore>,
}

impl std::ops::Deref for Pool {
    type Target = diesel::r2d2::Pool<Manager>;
    fn deref(&self) -> &Self::Target {
        &self.connections
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("connections", &self.connections.state())
            .field("turns_free", &self.gate.available_permits())
            .finish()
    }
}

impl Pool {
    /// Waits, without a thread, for a turn at the database (a connection that will be free), until
    /// `deadline`; 503 after it. The turn ends when the permit is dropped.
    pub async fn turn(&self, deadline: Instant) -> Result<OwnedSemaphorePermit, AppError> {
        WAITING_FOR_CONNECTION.fetch_add(1, Ordering::Relaxed);
        let permit =
            tokio::time::timeout_at(deadline.into(), self.gate.clone().acquire_owned()).await;
        WAITING_FOR_CONNECTION.fetch_sub(1, Ordering::Relaxed);
        match permit {
            Ok(Ok(permit)) => Ok(permit),
            // The gate is never closed; a timeout is the only way here.
            _ => Err(no_connection()),
        }
    }
}

fn no_connection() -> AppError {
    log::warn!("no database connection: the request waited {CHECKOUT_TIMEOUT:?} for one");
    AppError::busy(format!(
        "no database connection became free within {} s; nothing was written, try again shortly",
        CHECKOUT_TIMEOUT.as_secs()
    ))
}

pub type Pooled = diesel::r2d2::PooledConnection<Manager>;
pub type Conn = PgConnection;

/// How long a request waits for a connection before answering 503: long enough to ride out a burst,
/// short enough that a database that is down never makes a client hang.
pub(super) const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(3);

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

/// Who every pooled connection acts as, and its clock; sent with its time limits ([`SessionLimits`]) as one
/// batch when the connection is opened, so one round trip. No parallel workers: every statement of the
/// service reads a few index ranges, and PostgreSQL starts the workers a plan names before it finds that a
/// branch has nothing to do (a list of one's own cases spent 5 of its 14 ms at 1M cases starting two
/// workers for the branch of a youth's own case, which a professional's list never runs).
pub const SESSION_SETTINGS: &str =
    "SET ROLE stafettlogg_app; SET TIME ZONE 'UTC'; SET max_parallel_workers_per_gather = 0";

#[derive(Debug)]
struct SessionSettings(SessionLimits);

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        // English error messages where the login may choose them, before it becomes the service role:
        // `crate::http::error::classify` tells a lock timeout from a deadlock by the message, as diesel exposes no
        // SQLSTATE. A login that may not set it keeps the server's default, which is English on most servers.
        // Then the role: a login that may not act as the service role gets no connection at all (when the
        // login is the service role itself, `SET ROLE` to it changes nothing). Then the time limits: a
        // runaway statement must not hold a connection (and a client) forever.
        conn.batch_execute(&format!(
            "DO $$ BEGIN SET lc_messages = 'C'; EXCEPTION WHEN insufficient_privilege THEN NULL; END $$; \
             {SESSION_SETTINGS}; SET statement_timeout = {}; SET lock_timeout = {}",
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
    let connections = diesel::r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(CHECKOUT_TIMEOUT)
        // No `SELECT 1` before every request: a lost connection is noticed when it fails (see
        // `connections`), and a request whose first statement finds it lost takes another.
        .test_on_check_out(false)
        .connection_customizer(Box::new(SessionSettings(limits)))
        .build_unchecked(Manager::new(with_network_limits(url)));
    Pool {
        connections,
        gate: Arc::new(Semaphore::new(size as usize)),
    }
}

/// Requests of this process waiting for a pooled connection right now (a metric: a pool too small for the
/// load shows here before it shows as 503s).
pub static WAITING_FOR_CONNECTION: AtomicI64 = AtomicI64::new(0);

/// Checks a connection out of the pool, counted in [`WAITING_FOR_CONNECTION`] while it waits.
pub fn checkout(pool: &Pool) -> Result<Pooled, AppError> {
    checkout_by(pool, Instant::now() + CHECKOUT_TIMEOUT)
}

/// [`checkout`] that gives up at `deadline`: the time a request may wait for a connection counts from
/// when it asked, not from when a blocking thread got round to it.
pub(super) fn checkout_by(pool: &Pool, deadline: Instant) -> Result<Pooled, AppError> {
    let Some(left) = deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
    else {
        return Err(no_connection());
    };
    WAITING_FOR_CONNECTION.fetch_add(1, Ordering::Relaxed);
    let conn = pool.get_timeout(left);
    WAITING_FOR_CONNECTION.fetch_sub(1, Ordering::Relaxed);
    Ok(conn?)
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
        assert_eq!(e.kind, crate::http::error::ProblemType::Unavailable);
        assert!(e.retry_after.is_some());
        let e = checkout_by(&pool, started + Duration::from_millis(300))
            .err()
            .expect("no connection");
        assert_eq!(e.kind, crate::http::error::ProblemType::Unavailable);
        // Not CHECKOUT_TIMEOUT from the start of the wait: what was left of it.
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
}
