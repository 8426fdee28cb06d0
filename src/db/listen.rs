//! How instances of the service wake each other: each listens on PostgreSQL's `stafettlogg_changes` and
//! `stafettlogg_guide` channels on one connection of its own, outside the pool.
//!
//! `stafettlogg_guide` is notified by triggers (migration 000020): guides, services and level names change
//! rarely. `stafettlogg_changes` is notified by the listener itself, after commit: a transaction that
//! notifies makes PostgreSQL commit it in turn with every other notifying one (a global lock held through
//! the commit's flush and the synchronous standby's): measured here, a feed-writing transaction's commit
//! rate fell from 6,500 to 2,650 a second with a NOTIFY in it, and it would cap the writes of the whole
//! service. So a write only notes its municipality ([`written`]); once it has committed
//! ([`committed`]) the listener sends one `pg_notify` per municipality per tick, from its own connection.
//!
//! A notification is a hint, never the truth: a waiter that is woken reads the database, and waiters still
//! poll (slowly while the listener is connected, as before when it is not), so a notification lost in a
//! reconnect or a failover costs latency, never an event. A storm of notifications is folded: the listener
//! drains what arrived, wakes each municipality once per tick, and a woken waiter reads at most every
//! [`MIN_READ_SPACING`], so a storm never costs the database more than plain polling did.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::sql_types::{Array, Text};
use diesel::{Connection, PgConnection, RunQueryDsl};
use tokio::sync::Notify;

/// The channel of committed change events; the payload is a municipality number.
pub const CHANGES: &str = "stafettlogg_changes";
/// The channel of changes to what the public guide shows; the payload is a municipality number.
pub const GUIDE: &str = "stafettlogg_guide";

/// How often the listener drains its connection (a non-blocking read of the socket).
const TICK: Duration = Duration::from_millis(20);
/// How often an idle listener checks that its connection is alive (a failover may leave it half-open).
const PING_EVERY: Duration = Duration::from_secs(5);
/// How long the listener waits before connecting again.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);
/// The least time between two reads of one waiter, however often it is woken.
pub const MIN_READ_SPACING: Duration = Duration::from_millis(100);

thread_local! {
    /// The municipalities whose change events the transaction running on this thread wrote.
    static WRITTEN: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Committed writes whose municipalities the listener has still to notify. One per process: a process
/// runs one service instance (the in-process test servers run none, see [`LISTENERS`]).
static PENDING: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Mutex::default);
/// Listener threads running in this process; without one nobody would empty [`PENDING`].
static LISTENERS: AtomicUsize = AtomicUsize::new(0);

/// The running transaction wrote change events of `municipality` (crate::changes, crate::access_log).
pub fn written(municipality: &str) {
    WRITTEN.with(|w| w.borrow_mut().push(municipality.to_string()));
}

/// The running transaction committed: its municipalities are notified at the listener's next tick.
pub fn committed() {
    let written = WRITTEN.with(RefCell::take);
    if !written.is_empty() && LISTENERS.load(Ordering::Relaxed) > 0 {
        PENDING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(written);
    }
}

/// The running transaction rolled back: nothing it wrote happened.
pub fn rolled_back() {
    WRITTEN.with(|w| w.borrow_mut().clear());
}

/// What the listener of this instance has heard, for the waiters.
#[derive(Default)]
pub struct Wakeups {
    changes: Mutex<HashMap<String, Arc<Notify>>>,
    connected: AtomicBool,
}

impl Wakeups {
    /// What a long poll of `municipality` waits on.
    pub fn changes_of(&self, municipality: &str) -> Arc<Notify> {
        let mut map = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(municipality.to_string()).or_default().clone()
    }

    /// Whether notifications arrive now; while not, waiters poll at the old pace.
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    fn wake(&self, municipality: &str) {
        let map = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get(municipality) {
            n.notify_waiters();
        }
    }

    /// After a reconnect: anything may have been missed, so every waiter reads again.
    fn wake_all(&self) {
        let map = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        for n in map.values() {
            n.notify_waiters();
        }
    }
}

/// Starts the listener thread of this instance. It stops when `wakeups` is dropped (the server is gone).
/// `on_guide` is called with a municipality whose public guide changed. `url` should carry the pool's
/// network limits (`db::network::with_network_limits`): in a failover an unreachable host must not stall the
/// reconnect.
pub fn spawn(
    url: String,
    wakeups: &Arc<Wakeups>,
    on_guide: impl Fn(&str) + Send + 'static,
) -> std::io::Result<()> {
    let weak = Arc::downgrade(wakeups);
    std::thread::Builder::new()
        .name("stafettlogg-listen".into())
        .spawn(move || {
            LISTENERS.fetch_add(1, Ordering::Relaxed);
            run(&url, &weak, &on_guide);
            LISTENERS.fetch_sub(1, Ordering::Relaxed);
        })
        .map(drop)
}

/// Notifies the municipalities of the writes committed since the last tick; on failure they wait for the
/// next connection (the waiters' own looks cover the gap).
fn notify_pending(conn: &mut PgConnection) -> bool {
    let pending: Vec<String> = {
        let mut set = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        set.drain().collect()
    };
    if pending.is_empty() {
        return true;
    }
    let sent = diesel::sql_query("SELECT pg_notify($1, m) FROM unnest($2::text[]) AS m")
        .bind::<Text, _>(CHANGES)
        .bind::<Array<Text>, _>(&pending)
        .execute(conn);
    if sent.is_err() {
        PENDING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(pending);
        return false;
    }
    true
}

fn run(url: &str, wakeups: &Weak<Wakeups>, on_guide: &dyn Fn(&str)) {
    while wakeups.strong_count() > 0 {
        match PgConnection::establish(url).and_then(|mut conn| {
            conn.batch_execute(&format!("LISTEN {CHANGES}; LISTEN {GUIDE}"))
                .map(|()| conn)
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)
        }) {
            Ok(mut conn) => {
                if let Some(w) = wakeups.upgrade() {
                    w.connected.store(true, Ordering::Relaxed);
                    w.wake_all();
                }
                tracing::info!("listening for other instances' changes");
                listen(&mut conn, wakeups, on_guide);
                if let Some(w) = wakeups.upgrade() {
                    w.connected.store(false, Ordering::Relaxed);
                }
                tracing::warn!("lost the connection that listens for other instances' changes");
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for other instances' changes"),
        }
        std::thread::sleep(RECONNECT_AFTER);
    }
}

/// Drains notifications until the connection fails or the server is gone.
fn listen(conn: &mut PgConnection, wakeups: &Weak<Wakeups>, on_guide: &dyn Fn(&str)) {
    let mut pinged = Instant::now();
    loop {
        let Some(w) = wakeups.upgrade() else { return };
        let mut heard: HashSet<(String, String)> = HashSet::new();
        let mut failed = false;
        for n in conn.notifications_iter() {
            match n {
                Ok(n) => {
                    heard.insert((n.channel, n.payload));
                }
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        for (channel, municipality) in &heard {
            match channel.as_str() {
                CHANGES => w.wake(municipality),
                GUIDE => on_guide(municipality),
                _ => {}
            }
        }
        drop(w);
        if failed || !notify_pending(conn) {
            return;
        }
        if pinged.elapsed() >= PING_EVERY {
            if conn.batch_execute("SELECT 1").is_err() {
                return;
            }
            pinged = Instant::now();
        }
        std::thread::sleep(TICK);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests change the process's listener count: one at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn pending_has(municipality: &str) -> bool {
        PENDING.lock().unwrap().contains(municipality)
    }

    /// Counts as a listener thread of this process while it lives, also when its test fails.
    struct AListener;

    impl AListener {
        fn start() -> AListener {
            LISTENERS.fetch_add(1, Ordering::Relaxed);
            AListener
        }
    }

    impl Drop for AListener {
        fn drop(&mut self) {
            LISTENERS.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// The serial lock, held: a test that failed while holding it poisoned it, which is no reason to fail
    /// the next one (its listener count was restored by [`AListener`]'s drop).
    fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[test]
    fn a_write_is_notified_only_once_its_transaction_committed() {
        let _one = one_at_a_time();
        let _listener = AListener::start();
        written("9901");
        rolled_back();
        committed();
        assert!(
            !pending_has("9901"),
            "a rolled back write is never notified"
        );
        written("9902");
        assert!(!pending_has("9902"), "not before the commit");
        committed();
        assert!(pending_has("9902"));
        PENDING.lock().unwrap().remove("9902");
    }

    #[test]
    fn without_a_listener_in_the_process_nothing_waits_to_be_notified() {
        // The in-process test servers: nobody would ever send it.
        let _one = one_at_a_time();
        assert_eq!(
            LISTENERS.load(Ordering::Relaxed),
            0,
            "no listener thread runs in the unit tests' process (none is started here, and the \
             other test's count ends with it)"
        );
        written("9903");
        committed();
        assert!(
            !pending_has("9903"),
            "queued although no listener would send it"
        );
        // Dropped, not kept for later: a listener that starts afterwards has nothing of it to send.
        let _listener = AListener::start();
        committed();
        assert!(
            !pending_has("9903"),
            "kept and sent by a listener that started after its commit"
        );
    }
}
