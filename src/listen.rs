//! How instances of the service wake each other: each listens on PostgreSQL's `stafettlogg_changes` and
//! `stafettlogg_guide` channels (migration 000020 notifies them from triggers, at commit) on one connection
//! of its own, outside the pool.
//!
//! A notification is a hint, never the truth: a waiter that is woken reads the database, and waiters still
//! poll (slowly while the listener is connected, as before when it is not), so a notification lost in a
//! reconnect or a failover costs latency, never an event. A storm of notifications is folded: the listener
//! drains what arrived, wakes each municipality once per tick, and a woken waiter reads at most every
//! [`MIN_READ_SPACING`], so a storm never costs the database more than plain polling did.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
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
/// `on_guide` is called with a municipality whose public guide changed.
pub fn spawn(
    url: String,
    wakeups: &Arc<Wakeups>,
    on_guide: impl Fn(&str) + Send + 'static,
) -> std::io::Result<()> {
    let weak = Arc::downgrade(wakeups);
    // Bounded like the pool's connections: in a failover an unreachable host must not stall the reconnect.
    let url = crate::db::with_network_limits(&url);
    std::thread::Builder::new()
        .name("stafettlogg-listen".into())
        .spawn(move || run(&url, &weak, &on_guide))
        .map(drop)
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
        if failed {
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
