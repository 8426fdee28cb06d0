//! The database: the connection pool, migrations, the managed local cluster, and the one helper through
//! which every handler reaches PostgreSQL (off the async executor, in a transaction of one municipality):
//! [`transaction`], or [`transaction_for_case`] to change one case, in this file.
//!
//! Row-level security is the second wall between municipalities, behind the access checks in the code:
//! the service acts as [`role::APP_ROLE`], which owns no table and may not bypass row-level security, and
//! every transaction names its municipality in `app.municipality`. A query that forgets its
//! `municipality` filter then still sees only that municipality's rows (migration `2026-11-26-000008`).
//!
//! What the transactions build on: `pool.rs` the pool and its connections' settings, `network.rs` the
//! network limits of every URL, `session.rs` who a transaction is for, `begin.rs` its first batch and its
//! end; besides them `role.rs` the start-up check that row-level security holds, `migrate.rs` the
//! migrations, `bulk.rs` inserts of any number of rows.

pub mod begin;
pub mod bulk;
pub mod connections;
pub mod embedded;
pub mod listen;
pub mod migrate;
pub mod network;
pub mod partitions;
pub mod pool;
pub mod prepared;
pub mod role;
pub mod schema;
pub mod session;

use std::time::Instant;

use diesel::PgConnection;
use uuid::Uuid;

use self::begin::{begin_with, checkout_begun, run_begun, Begin};
use self::pool::{checkout_by, CHECKOUT_TIMEOUT};
use self::session::Session;
use crate::http::error::AppError;
pub use connections::blocking;
/// Every handler names the pool together with [`transaction`], so it keeps their short path.
pub use pool::Pool;

/// Runs `f` in one transaction of `municipality` on a pooled connection, on the blocking thread pool. Every
/// database call of a handler goes through here, so a handler cannot block the executor, half-write, or
/// see another municipality's rows.
///
/// The wait for a connection is bounded by [`CHECKOUT_TIMEOUT`] from this call, including the time the
/// work waited for a blocking thread, so an overloaded instance answers 503 within that bound instead of
/// after an ever longer queue.
pub async fn transaction<T, F>(
    pool: &Pool,
    session: impl Into<Session>,
    f: F,
) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    let deadline = Instant::now() + CHECKOUT_TIMEOUT;
    let begin = Begin {
        session: session.into(),
        lock_case: None,
    };
    let turn = pool.turn(deadline).await?;
    blocking(move || {
        let _turn = turn;
        let mut pooled = checkout_begun(&pool, deadline, begin)?;
        run_begun(&mut pooled, f)
    })
    .await?
}

/// [`transaction`] for work on one case that changes it: the case's row is locked (`FOR UPDATE`) in the
/// same batch as `BEGIN`, so the lock costs no round trip of its own, and everything `f` reads afterwards
/// is read after the lock was granted, i.e. after any concurrent writer of the case committed.
/// `crate::policy::change_case` is the one caller that changes a case, and relies on this lock.
pub async fn transaction_for_case<T, F>(
    pool: &Pool,
    session: impl Into<Session>,
    case_id: Uuid,
    f: F,
) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    let deadline = Instant::now() + CHECKOUT_TIMEOUT;
    let begin = Begin {
        session: session.into(),
        lock_case: Some(case_id),
    };
    let turn = pool.turn(deadline).await?;
    blocking(move || {
        let _turn = turn;
        let mut pooled = checkout_begun(&pool, deadline, begin)?;
        run_begun(&mut pooled, f)
    })
    .await?
}

/// [`transaction`] on a connection the caller holds already (the import runs one per line): `BEGIN` and
/// `app.municipality` in one batch, then `f`, then `COMMIT`, or `ROLLBACK` when `f` fails. Diesel's
/// transaction manager is told about the transaction (`begin_transaction_sql`), so a nested
/// `conn.transaction` inside `f` becomes a savepoint as usual.
pub fn in_municipality<T, F>(
    conn: &mut PgConnection,
    session: impl Into<Session>,
    f: F,
) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError>,
{
    let begin = Begin {
        session: session.into(),
        lock_case: None,
    };
    begin_with(conn, &begin)?;
    run_begun(conn, f)
}

/// Runs `f` on a pooled connection outside any municipality, on the blocking thread pool: for statements
/// that touch no municipality's rows (readiness, the delivery claims). Row-level security hides every
/// municipality's rows here, so a mistake reads nothing rather than everything. Work that commits in
/// several transactions of its own (the import, a group of lines each, with [`in_municipality`]) takes its
/// connection here too.
pub async fn without_municipality<T, F>(pool: &Pool, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    let deadline = Instant::now() + CHECKOUT_TIMEOUT;
    let turn = pool.turn(deadline).await?;
    blocking(move || {
        let _turn = turn;
        let mut pooled = checkout_by(&pool, deadline)?;
        f(&mut pooled)
    })
    .await?
}
