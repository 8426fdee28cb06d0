//! Where a run's time goes, as evidence of what limits the service: the CPU seconds the server process
//! and the database cluster spent during the run (from /proc, per request), and what the service's
//! database sessions were doing (pg_stat_activity sampled every 20 ms: on CPU, or waiting on what).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};

use crate::cluster::BenchCluster;
use crate::server::Server;

/// CPU seconds of one process: its own, and with `reaped` those of the children it has waited for.
fn cpu_seconds(pid: u32, reaped: bool) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // The fields after the command name, which is in parentheses and may contain spaces.
    let fields: Vec<f64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default()
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    // utime, stime, cutime, cstime are fields 14-17 of proc(5); here they start at index 11.
    let own = fields.get(11).unwrap_or(&0.0) + fields.get(12).unwrap_or(&0.0);
    let children = fields.get(13).unwrap_or(&0.0) + fields.get(14).unwrap_or(&0.0);
    (own + if reaped { children } else { 0.0 }) / ticks_per_second()
}

fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// CPU seconds of the postmaster and its backends so far: each live backend's by pid, and what the
/// postmaster has collected from the backends it reaped.
struct ClusterCpu {
    reaped: f64,
    live: BTreeMap<u32, f64>,
}

fn cluster_cpu(postmaster: u32) -> ClusterCpu {
    let live = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| parent_of(pid) == Some(postmaster))
        .map(|pid| (pid, cpu_seconds(pid, false)))
        .collect();
    ClusterCpu {
        reaped: cpu_seconds(postmaster, true),
        live,
    }
}

/// What the cluster spent between two readings. A backend that ended in between (the previous run's
/// connections close while this one starts) is in `reaped` with its whole life: what it had spent
/// before the first reading is taken off again.
fn cluster_cpu_between(before: &ClusterCpu, after: &ClusterCpu) -> f64 {
    let ended_before: f64 = before
        .live
        .iter()
        .filter(|(pid, _)| !after.live.contains_key(pid))
        .map(|(_, cpu)| cpu)
        .sum();
    let live: f64 = after
        .live
        .iter()
        .map(|(pid, cpu)| cpu - before.live.get(pid).unwrap_or(&0.0))
        .sum();
    after.reaped - before.reaped - ended_before + live
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[derive(QueryableByName)]
struct Activity {
    #[diesel(sql_type = Text)]
    what: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The service's sessions that are running a statement, by wait event (`CPU` when none).
fn sample_activity(conn: &mut diesel::PgConnection, into: &Mutex<BTreeMap<String, i64>>) {
    let rows: Vec<Activity> = diesel::sql_query(
        "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS what, count(*) AS n \
         FROM pg_stat_activity WHERE usename = 'stafettlogg_app' AND state = 'active' GROUP BY 1",
    )
    .load(conn)
    .unwrap_or_default();
    let mut map = into.lock().expect("samples");
    for row in rows {
        *map.entry(row.what).or_default() += row.n;
    }
}

/// Runs `f` (one measured run of `requests` the closure reports) and says where the time went.
pub fn while_profiling<T>(
    label: &str,
    cluster: &BenchCluster,
    server: &Server,
    requests: impl FnOnce(&T) -> f64,
    f: impl FnOnce() -> T,
) -> (T, String) {
    let postmaster = cluster.postmaster_pid();
    let (svc0, db0) = (cpu_seconds(server.pid(), true), cluster_cpu(postmaster));
    let running = AtomicBool::new(true);
    let samples = Mutex::new(BTreeMap::new());
    let out = std::thread::scope(|s| {
        s.spawn(|| {
            // One connection for the whole run: a new one per sample would fork a backend each time.
            let mut conn = cluster.bench_db();
            while running.load(Ordering::Relaxed) {
                sample_activity(&mut conn, &samples);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let out = f();
        running.store(false, Ordering::Relaxed);
        out
    });
    let (svc1, db1) = (cpu_seconds(server.pid(), true), cluster_cpu(postmaster));
    let n = requests(&out).max(1.0);
    let samples = samples.into_inner().expect("samples");
    let total: i64 = samples.values().sum::<i64>().max(1);
    let mut waits: Vec<(String, i64)> = samples.into_iter().collect();
    waits.sort_by_key(|w| std::cmp::Reverse(w.1));
    let waits: Vec<String> = waits
        .iter()
        .take(4)
        .map(|(what, k)| format!("{what} {:.0}%", 100.0 * *k as f64 / total as f64))
        .collect();
    let line = format!(
        "    {label:<8} CPU per request: service {:.2} ms, database {:.2} ms; active database sessions: {}",
        1000.0 * (svc1 - svc0) / n,
        1000.0 * cluster_cpu_between(&db0, &db1) / n,
        waits.join(", ")
    );
    (out, line)
}
