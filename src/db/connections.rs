//! What the pool knows about each connection without asking PostgreSQL: whether it was lost, and how many
//! round trips requests send.
//!
//! The pool does not test a connection with a query at every checkout (that was one round trip of every
//! request). A connection is instead watched: diesel's instrumentation sees every statement finish, and a
//! failure that means the connection is gone (`crate::http::error::classify` says `Unreachable`) marks it, so the
//! pool drops it when it comes back instead of handing it out again. A connection that died while idle
//! (the database restarted) fails on its first statement, the `BEGIN` batch; `super::transaction` then
//! takes another connection, as nothing was done on that one.
//!
//! The same watch counts the round trips of the request a connection works for, on every connection the
//! pool hands out, so no code path that checks one out can send statements the request's count misses.

use std::cell::RefCell;
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

/// The instrumentation of every pooled connection: it watches for a lost connection and counts every round
/// trip the connection makes for the request it serves, whichever code path checked it out (a transaction,
/// the idempotency layer's own statements, a raw `pool.get()`, readiness).
#[derive(Debug, Default)]
pub struct Watch {
    lost: bool,
}

impl Instrumentation for Watch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            // A statement, or a batch of them sent as one string: one round trip.
            InstrumentationEvent::StartQuery { .. } => count_round_trip(),
            // Diesel prepares a statement it caches (`PQprepare`) before it first executes it on this
            // connection: a round trip of its own, before the execution's.
            InstrumentationEvent::CacheQuery { .. } => count_round_trip(),
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
    /// The counter of the request whose database work this thread runs (see [`blocking`]). A connection is
    /// used by one thread at a time, so the thread that sends a statement says whose it is.
    static THREAD_REQUEST: RefCell<Option<Arc<AtomicU32>>> = const { RefCell::new(None) };
}

tokio::task_local! {
    /// The round trips of the request being served (see [`counting_round_trips`]).
    static REQUEST_ROUND_TRIPS: Arc<AtomicU32>;
}

/// Adds one round trip to the request this thread works for: the one [`blocking`] carried here, else the
/// request whose task runs on this thread (a checkout on the executor itself). Work of no request (the
/// pool opening a connection on its own threads, the metrics scrape) counts for none.
fn count_round_trip() {
    let carried = THREAD_REQUEST.with(|current| {
        current
            .borrow()
            .as_ref()
            .map(|counter| counter.fetch_add(1, Ordering::Relaxed))
            .is_some()
    });
    if !carried {
        let _ = REQUEST_ROUND_TRIPS.try_with(|counter| counter.fetch_add(1, Ordering::Relaxed));
    }
}

/// Runs a request's future with a round-trip counter that its database work adds to.
pub async fn counting_round_trips<F: std::future::Future>(
    counter: Arc<AtomicU32>,
    f: F,
) -> F::Output {
    REQUEST_ROUND_TRIPS.scope(counter, f).await
}

/// The counter of the request being served, if any.
pub fn request_counter() -> Option<Arc<AtomicU32>> {
    REQUEST_ROUND_TRIPS.try_with(Arc::clone).ok()
}

/// `f` as a future of the request being served: a task spawned for the request (so a client that goes
/// away cannot cancel it) loses the request's task-locals, and its round trips would count for nobody.
pub fn of_this_request<F: std::future::Future>(
    f: F,
) -> impl std::future::Future<Output = F::Output> {
    let counter = request_counter();
    async move {
        match counter {
            Some(counter) => REQUEST_ROUND_TRIPS.scope(counter, f).await,
            None => f.await,
        }
    }
}

/// Runs `f` on the blocking thread pool as work of the request being served: its statements count toward
/// the request's round trips, and its log lines carry the request's span (so its request id).
pub async fn blocking<T, F>(f: F) -> Result<T, actix_web::error::BlockingError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let counter = request_counter();
    let span = tracing::Span::current();
    actix_web::web::block(move || {
        let _entered = span.enter();
        let _request = ThreadRequest::set(counter);
        f()
    })
    .await
}

/// The request a blocking thread works for, until dropped (the thread goes back to the pool afterwards).
struct ThreadRequest(Option<Arc<AtomicU32>>);

impl ThreadRequest {
    fn set(counter: Option<Arc<AtomicU32>>) -> ThreadRequest {
        ThreadRequest(THREAD_REQUEST.with(|current| current.replace(counter)))
    }
}

impl Drop for ThreadRequest {
    fn drop(&mut self) {
        let previous = self.0.take();
        THREAD_REQUEST.with(|current| *current.borrow_mut() = previous);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn a_round_trip_counts_for_the_request_whichever_thread_or_task_sends_it() {
        let counter = Arc::new(AtomicU32::new(0));
        counting_round_trips(counter.clone(), async {
            // A checkout on the executor, in the request's own task.
            count_round_trip();
            // Work the request sent to the blocking pool (a transaction, the idempotency layer).
            blocking(|| {
                count_round_trip();
                count_round_trip();
            })
            .await
            .unwrap();
            // A task spawned for the request (the idempotency layer runs the handler in one).
            actix_web::rt::spawn(of_this_request(async { count_round_trip() }))
                .await
                .unwrap();
            // Without being carried, a spawned task's work is nobody's: why the layer carries it.
            actix_web::rt::spawn(async { count_round_trip() })
                .await
                .unwrap();
        })
        .await;
        // Work of no request counts for none, also on a blocking thread that worked for one before
        // (the pool has a few threads, so these land on the ones used above).
        for _ in 0..8 {
            actix_web::web::block(count_round_trip).await.unwrap();
        }
        assert_eq!(counter.load(Ordering::Relaxed), 4);
    }
}
