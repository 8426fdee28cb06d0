//! API benchmark: the service against pgbench running the minimal SQL of the same job, on the same
//! cluster, schema and data, in the same run.
//!
//!     cargo bench --bench api                        # 100,000 cases, 10 s per run
//!     BENCH_CASES=1000000 cargo bench --bench api    # or: cargo bench --bench api -- --cases 1000000
//!     BENCH_CASES=2000 BENCH_SECONDS=3 cargo bench --bench api   # a quick look
//!     BENCH_BASELINE=/tmp/before cargo bench --bench api          # against another build, run by run
//!
//! It starts a throwaway PostgreSQL (with pg_stat_statements) and the release binary as its own process
//! (pool of 8, the shipped default), seeds cases through `POST /api/v1/imports`, then runs each scenario
//! with wrk and with pgbench at each client count, and prints one table. Everything it started is
//! stopped and removed when it ends, also on failure. Needs `wrk` (`apt-get install wrk`) and `pgbench`
//! (comes with the PostgreSQL server packages). Settings: see `Settings::from_env`.

mod cluster;
mod load;
mod profile;
mod seed;
mod server;

use std::path::PathBuf;
use std::time::Instant;

use load::{Measured, Scenario};

/// What to run; every field has an environment variable (README, "Benchmarks").
pub struct Settings {
    pub cases: usize,
    pub seconds: u64,
    pub warmup: u64,
    pub clients: Vec<u32>,
    pub scenarios: Vec<Scenario>,
    pub seed_concurrency: usize,
    pub seed_batch: usize,
    pub server_log: String,
    /// Another build of the binary to measure beside this one (`BENCH_BASELINE`), on the same database.
    pub baseline: Option<PathBuf>,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a valid value")),
        Err(_) => default,
    }
}

impl Settings {
    fn from_env() -> Settings {
        let clients: String = env_or("BENCH_CLIENTS", "16,64".to_string());
        let scenarios: String = env_or("BENCH_SCENARIOS", String::new());
        Settings {
            cases: cases_flag().unwrap_or_else(|| env_or("BENCH_CASES", 100_000)),
            seconds: env_or("BENCH_SECONDS", 10),
            warmup: env_or("BENCH_WARMUP", 2),
            clients: clients
                .split(',')
                .map(|c| {
                    c.trim()
                        .parse()
                        .expect("BENCH_CLIENTS: numbers, e.g. 16,64")
                })
                .collect(),
            scenarios: Scenario::ALL
                .into_iter()
                .filter(|s| scenarios.is_empty() || scenarios.split(',').any(|n| n == s.name()))
                .collect(),
            seed_concurrency: env_or("BENCH_SEED_CONCURRENCY", 4),
            seed_batch: env_or("BENCH_SEED_BATCH", 200),
            // Per-request log lines at `info` would measure the log sink as much as the service.
            server_log: env_or("BENCH_SERVER_LOG", "warn".to_string()),
            baseline: std::env::var_os("BENCH_BASELINE").map(PathBuf::from),
        }
    }
}

/// `--cases N` after `cargo bench --bench api --`; cargo itself adds `--bench`, which is ignored.
fn cases_flag() -> Option<usize> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == "--cases")?;
    let n = args
        .get(at + 1)
        .and_then(|n| n.replace('_', "").parse().ok());
    Some(n.expect("--cases takes a number, e.g. --cases 1000000"))
}

/// A directory for scripts, data files and logs, removed when the guard goes out of scope.
pub struct TempDir(pub PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("stafettlogg-apibench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn main() {
    let started = Instant::now();
    let settings = Settings::from_env();
    load::check_tools();
    // Declared first, dropped last: the server and the cluster are gone before their files are removed.
    let tmp = TempDir::new();
    let cluster = cluster::BenchCluster::start("bench");
    let server = server::Server::start(&cluster, &tmp.0, &settings.server_log);
    let data = seed::seed(&settings, &cluster, &server, &tmp.0);
    let baseline = settings.baseline.as_deref().map(|binary| {
        server::Server::start_build(binary, "baseline", &cluster, &tmp.0, &settings.server_log)
    });
    println!(
        "scenarios: {} s each after {} s of warm-up, clients {:?}; service pool 8, wrk -t2, pgbench -j2 -M prepared",
        settings.seconds, settings.warmup, settings.clients
    );
    let mut rows = Vec::new();
    let mut baseline_rows = Vec::new();
    for &scenario in &settings.scenarios {
        for &c in &settings.clients {
            let row = load::compare(scenario, c, &settings, &cluster, &server, &data);
            if let Some(b) = &baseline {
                let measured = load::baseline(scenario, c, &settings, &cluster, b, &data);
                baseline_rows.push((scenario, c, row.2.rps, measured));
            }
            rows.push(row);
        }
    }
    print_table(&settings, &rows);
    print_baseline(&baseline_rows);
    let top = settings.clients.iter().max().copied().unwrap_or_default();
    let rss = rows.iter().filter(|r| r.1 == top).map(|r| r.2.rss_kb).max();
    println!(
        "server memory: VmRSS up to {} MB during the c={top} runs; VmHWM {} MB (peak since start, seeding included)",
        rss.unwrap_or_default() / 1024,
        server.rss().hwm_kb / 1024
    );
    println!("total time {:.0} s", started.elapsed().as_secs_f64());
    if std::env::var_os("BENCH_KEEP").is_some() {
        keep_until_released(&cluster, &tmp.0);
    }
    drop(baseline);
    drop(server);
    drop(cluster);
    drop(tmp);
}

fn ms(us: f64) -> String {
    format!("{:.2}", us / 1000.0)
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map(|v| format!("{v:.digits$}"))
        .unwrap_or_else(|| "n/a".into())
}

fn print_table(settings: &Settings, rows: &[(Scenario, u32, Measured, Measured)]) {
    println!();
    println!(
        "{} cases, {} s per run. rt/req: the service's round trips to PostgreSQL per request, from its \
         metric stafettlogg_db_round_trips_total (a batch is one; n/a: the build has no such metric); \
         stmts/req: its statements per request from pg_stat_statements (each statement of a batch counts); \
         pgb rt/tx: the round trips of one pgbench transaction (its script's statements); \
         blk/req: shared buffers touched per request or transaction (pg_stat_statements), which do not \
         depend on the machine's cache.",
        settings.cases, settings.seconds
    );
    println!(
        "{:<10} {:>3} | {:>8} {:>7} {:>7} {:>5} | {:>8} {:>7} {:>7} {:>5} | {:>5} | {:>6} {:>9} {:>8} | {:>7} {:>7}",
        "scenario", "c", "svc rps", "p50 ms", "p99 ms", "errs", "pgb rps", "p50 ms", "p99 ms", "errs",
        "ratio", "rt/req", "stmts/req", "pgb rt/tx", "blk/req", "pgb blk"
    );
    for (scenario, c, svc, pgb) in rows {
        println!(
            "{:<10} {:>3} | {:>8.0} {:>7} {:>7} {:>5} | {:>8.0} {:>7} {:>7} {:>5} | {:>5.2} | {:>6} {:>9} {:>8} | {:>7} {:>7}",
            scenario.name(),
            c,
            svc.rps,
            ms(svc.p50_us),
            ms(svc.p99_us),
            svc.errors,
            pgb.rps,
            ms(pgb.p50_us),
            ms(pgb.p99_us),
            pgb.errors,
            svc.rps / pgb.rps,
            opt(svc.round_trips_per_request, 1),
            opt(svc.statements_per_request, 1),
            opt(pgb.round_trips_per_request, 0),
            opt(svc.blocks_per_request, 0),
            opt(pgb.blocks_per_request, 0),
        );
    }
    print_scaling(settings, rows);
}

/// This build against the baseline build, each run right after the other on the same data: on a machine
/// whose speed drifts between runs (a shared virtual machine), closer than two benchmark runs apart.
fn print_baseline(rows: &[(Scenario, u32, f64, Measured)]) {
    if rows.is_empty() {
        return;
    }
    println!("this build against BENCH_BASELINE, each run after the other (CPU per request: the lines above)");
    println!(
        "{:<10} {:>3} | {:>8} {:>8} {:>5} | {:>5}",
        "scenario", "c", "svc rps", "base rps", "errs", "ratio"
    );
    for (scenario, c, rps, base) in rows {
        println!(
            "{:<10} {:>3} | {:>8.0} {:>8.0} {:>5} | {:>5.2}",
            scenario.name(),
            c,
            rps,
            base.rps,
            base.errors,
            rps / base.rps
        );
    }
}

/// Throughput at the highest client count relative to the lowest: below 1 means the service (or the
/// database) collapses under more concurrency instead of queueing.
fn print_scaling(settings: &Settings, rows: &[(Scenario, u32, Measured, Measured)]) {
    let (Some(&low), Some(&high)) = (settings.clients.iter().min(), settings.clients.iter().max())
    else {
        return;
    };
    if low == high {
        return;
    }
    let at = |s: Scenario, c: u32| rows.iter().find(|r| r.0 == s && r.1 == c);
    let parts: Vec<String> = settings
        .scenarios
        .iter()
        .filter_map(|&s| {
            let (l, h) = (at(s, low)?, at(s, high)?);
            Some(format!(
                "{} {:.2} (pgbench {:.2})",
                s.name(),
                h.2.rps / l.2.rps,
                h.3.rps / l.3.rps
            ))
        })
        .collect();
    println!("throughput c={high} / c={low}: {}", parts.join(", "));
}

/// `BENCH_KEEP=1`: the seeded cluster stays up after the runs, to look at plans with psql, until the
/// file this prints is removed.
fn keep_until_released(cluster: &cluster::BenchCluster, dir: &std::path::Path) {
    let hold = dir.join("keep");
    std::fs::write(&hold, "remove this file to stop the bench\n").expect("the hold file");
    println!(
        "BENCH_KEEP: psql '{}' (as the service: SET ROLE stafettlogg_app; SET app.municipality = '{}'); \
         rm {} to stop and clean up",
        cluster.owner_url(),
        seed::MUNICIPALITY,
        hold.display()
    );
    while hold.exists() {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}
