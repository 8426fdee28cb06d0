//! The first batch of every transaction: `BEGIN`, the municipality, the departure check and, for a change
//! of one case, its row lock, sent as one round trip; and the end of the transaction, `COMMIT` or
//! `ROLLBACK`, that tells the listener whether anything was written.

use std::time::Instant;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::PgConnection;
use uuid::Uuid;

use super::connections;
use super::pool::{checkout_by, Pool, Pooled};
use super::session::{Session, SET_MUNICIPALITY, STAFF_PRESENT};
use crate::http::error::AppError;

/// The case's row lock that rides in the `BEGIN` batch of a change (`super::transaction_for_case`).
const LOCK_CASE: &str = "SELECT FROM cases WHERE municipality = ";

/// How the statements that ride behind `BEGIN` in a transaction's first batch begin: the service sends them
/// nowhere else. A counter of statements (`pg_stat_statements`) sees each of them, the service's count of
/// round trips sees the batch once, so these are what tells the two counts apart.
pub const SENT_ONLY_BEHIND_BEGIN: [&str; 3] = [SET_MUNICIPALITY, STAFF_PRESENT, LOCK_CASE];

/// What the first batch of a transaction does.
#[derive(Debug, Clone)]
pub(super) struct Begin {
    pub(super) session: Session,
    /// Lock this case's row.
    pub(super) lock_case: Option<Uuid>,
}

impl Begin {
    fn sql(&self) -> String {
        let mut sql = self.session.begin_sql();
        if let Some(id) = self.lock_case {
            // A `Uuid` prints as hex digits and dashes only: nothing to escape.
            sql.push_str(&format!(
                "; {LOCK_CASE}'{}' AND id = '{id}' FOR UPDATE",
                self.session.municipality().as_str()
            ));
        }
        sql
    }
}

/// A pooled connection on which `BEGIN` (with the municipality) went through. A connection that turns
/// out lost at `BEGIN` (it died while idle: the database restarted, an administrator ended it) is dropped
/// and another taken, until the deadline: nothing was done on it, so nothing is done twice.
pub(super) fn checkout_begun(
    pool: &Pool,
    deadline: Instant,
    begin: Begin,
) -> Result<Pooled, AppError> {
    loop {
        let mut pooled = checkout_by(pool, deadline)?;
        match begin_sql(&mut pooled, &begin) {
            Ok(()) => return Ok(pooled),
            // A read-only server (the case lock's `FOR UPDATE` is a write): another connection to it
            // would be refused the same way, so answer now. This one is dropped (see `connections`).
            Err(e) if crate::http::error::is_read_only_error(&e) => return Err(e.into()),
            Err(_) if connections::is_lost(&mut pooled) => {
                log::info!("a pooled connection was lost while idle; taking another");
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// `BEGIN`, `app.municipality` and the case lock if any, one batch.
pub(super) fn begin_with(conn: &mut PgConnection, begin: &Begin) -> Result<(), AppError> {
    Ok(begin_sql(conn, begin)?)
}

fn begin_sql(conn: &mut PgConnection, begin: &Begin) -> Result<(), diesel::result::Error> {
    if let Err(e) = AnsiTransactionManager::begin_transaction_sql(conn, &begin.sql()) {
        // `BEGIN` may have run before the batch failed: never leave a transaction open on the connection.
        let _ = conn.batch_execute("ROLLBACK");
        return Err(e);
    }
    Ok(())
}

/// `f` in the transaction [`begin_with`] or [`checkout_begun`] opened, then `COMMIT`, or `ROLLBACK` when `f` fails.
pub(super) fn run_begun<T, F>(conn: &mut PgConnection, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError>,
{
    match f(conn) {
        Ok(value) => {
            if let Err(e) = AnsiTransactionManager::commit_transaction(conn) {
                crate::db::listen::rolled_back();
                return Err(e.into());
            }
            crate::db::listen::committed();
            Ok(value)
        }
        Err(user_error) => {
            crate::db::listen::rolled_back();
            match AnsiTransactionManager::rollback_transaction(conn) {
                // A broken transaction manager: the original error says more.
                Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(user_error),
                Err(rollback_error) => Err(rollback_error.into()),
            }
        }
    }
}
