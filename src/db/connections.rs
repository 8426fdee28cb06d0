//! What the pool knows about each connection without asking PostgreSQL: whether it was lost, and how many
//! round trips requests send.
//!
//! The pool does not test a connection with a query at every checkout (that was one round trip of every
//! request). A connection is instead watched: diesel's instrumentation sees every statement finish, and a
//! failure that means the connection is gone (`crate::http::error::classify` says `Unreachable`) marks it, so the
//! pool drops it when it comes back instead of handing it out again. A connection that died while idle
//! (the database restarted) fails on its first statement, the `BEGIN` batch; `super::transaction` then
//! takes another connection, as nothing was done on that one.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::r2d2::{ConnectionManager, ManageConnection};
use diesel::result::Error;
use diesel::{Connection, PgConnection};

use crate::http::error::{classify, DbFailure};

/// The pool's connection manager: diesel's, plus the watch.
#[derive(Debug)]
pub struct Manager(ConnectionManager<PgConnection>);

impl Manager {
    pub fn new(url: impl Into<String>) -> Manager {
        Manager(ConnectionManager::new(url))
    }
}

impl ManageConnection for Manager {
    type Connection = PgConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgConnection, Self::Error> {
        let mut conn = self.0.connect()?;
        conn.set_instrumentation(Watch::default());
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut PgConnection) -> Result<(), Self::Error> {
        self.0.is_valid(conn)
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        self.0.has_broken(conn) || is_lost(conn)
    }
}

/// Whether a statement on this connection failed in a way that means the connection is gone.
pub fn is_lost(conn: &mut PgConnection) -> bool {
    conn.instrumentation()
        .downcast_ref::<Watch>()
        .is_some_and(|w| w.lost)
}

/// Marks the connection so the pool drops it when it comes back, e.g. one to a server that turned
/// read-only in a failover: a new one, with `target_session_attrs=read-write`, finds the new primary.
pub fn mark_lost(conn: &mut PgConnection) {
    if let Some(watch) = conn.instrumentation().downcast_mut::<Watch>() {
        watch.lost = true;
    }
}

/// The instrumentation of every pooled connection.
#[derive(Debug, Default)]
pub struct Watch {
    lost: bool,
}

impl Instrumentation for Watch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => {
                THREAD_ROUND_TRIPS.with(|n| n.set(n.get() + 1));
            }
            InstrumentationEvent::FinishQuery {
                error: Some(Error::DatabaseError(kind, info)),
                ..
            } if classify(*kind, info.message()) == DbFailure::Unreachable => {
                self.lost = true;
            }
            _ => {}
        }
    }
}

thread_local! {
    /// Statements sent from this thread (a batch is one): a connection is used by one thread at a time,
    /// the blocking thread that runs a request's database work.
    static THREAD_ROUND_TRIPS: Cell<u64> = const { Cell::new(0) };
}

/// Round trips this thread has sent so far; the difference across a piece of work is what it cost.
pub fn thread_round_trips() -> u64 {
    THREAD_ROUND_TRIPS.with(Cell::get)
}

tokio::task_local! {
    /// The round trips of the request being served (see [`counting_round_trips`]).
    static REQUEST_ROUND_TRIPS: Arc<AtomicU32>;
}

/// Runs a request's future with a round-trip counter that its database work adds to.
pub async fn counting_round_trips<F: std::future::Future>(
    counter: Arc<AtomicU32>,
    f: F,
) -> F::Output {
    REQUEST_ROUND_TRIPS.scope(counter, f).await
}

/// The counter of the request being served, if any (the database helpers take it to their thread).
pub fn request_counter() -> Option<Arc<AtomicU32>> {
    REQUEST_ROUND_TRIPS.try_with(Arc::clone).ok()
}

/// Adds what `f` sent from this thread to `counter`.
pub fn counted<T>(counter: Option<&Arc<AtomicU32>>, f: impl FnOnce() -> T) -> T {
    let before = thread_round_trips();
    let out = f();
    if let Some(counter) = counter {
        let sent = thread_round_trips().saturating_sub(before);
        counter.fetch_add(sent as u32, Ordering::Relaxed);
    }
    out
}
