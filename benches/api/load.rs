//! The scenarios, driven by wrk against the service and by pgbench against the database with the minimal
//! SQL of the same job. Both pick uniformly random cases from the same sample (`bench.sample`), act as
//! the case's stafettholder, and write the access event the read or write must leave (rule 9).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cluster::BenchCluster;
use crate::seed::{SeedData, MUNICIPALITY};
use crate::server::Server;
use crate::Settings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// `GET /me`: the token, then an empty transaction (the departure check rides on its `BEGIN`). The
    /// least an authenticated request costs the service, so the floor under every other scenario.
    Me,
    Read,
    Entries,
    Timeline,
    List,
    /// The public guide of the seeded municipality (no token): the in-process cache's case.
    Guide,
    Append,
}

/// One side's figures for one scenario at one client count.
#[derive(Debug, Default, Clone, Copy)]
pub struct Measured {
    pub rps: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// wrk: non-2xx answers and socket errors; pgbench: failed or aborted transactions.
    pub errors: u64,
    pub requests: f64,
    /// Service: from its metric (`None` in a build without it); pgbench: counted from the script.
    pub round_trips_per_request: Option<f64>,
    /// Service: from pg_stat_statements.
    pub statements_per_request: Option<f64>,
    /// Shared buffers touched (hit or read) per request, from pg_stat_statements.
    pub blocks_per_request: Option<f64>,
    /// The server's largest VmRSS seen during the run (service side only).
    pub rss_kb: u64,
}

impl Scenario {
    /// Appends last: the reads then see the data as seeded.
    pub const ALL: [Scenario; 7] = [
        Scenario::Me,
        Scenario::Read,
        Scenario::Entries,
        Scenario::Timeline,
        Scenario::List,
        Scenario::Guide,
        Scenario::Append,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Me => "me",
            Scenario::Read => "read",
            Scenario::Entries => "entries",
            Scenario::Timeline => "timeline",
            Scenario::List => "list",
            Scenario::Guide => "guide",
            Scenario::Append => "append",
        }
    }

    /// The body of wrk's `request()`: `id` and `auth` are a random case and its holder's header.
    fn wrk_request(self) -> &'static str {
        match self {
            Scenario::Me => r#"return wrk.format("GET", "/api/v1/me", { Authorization = auth })"#,
            Scenario::Read => {
                r#"return wrk.format("GET", "/api/v1/cases/" .. id, { Authorization = auth })"#
            }
            Scenario::Entries => {
                r#"return wrk.format("GET", "/api/v1/cases/" .. id .. "/entries?limit=50", { Authorization = auth })"#
            }
            Scenario::Timeline => {
                r#"return wrk.format("GET", "/api/v1/cases/" .. id .. "/timeline?limit=50", { Authorization = auth })"#
            }
            Scenario::List => {
                r#"return wrk.format("GET", "/api/v1/cases?holder=me&status=open&limit=50", { Authorization = auth })"#
            }
            Scenario::Guide => {
                r#"return wrk.format("GET", "/public/v1/municipalities/MUNI/guide?audience=adult")"#
            }
            Scenario::Append => {
                r#"return wrk.format("POST", "/api/v1/cases/" .. id .. "/entries",
    { Authorization = auth, ["Content-Type"] = "application/json" }, append_body)"#
            }
        }
    }
}

/// The minimal SQL per scenario, as the service's role under row-level security (the municipality comes
/// from PGOPTIONS, where the service names it with BEGIN). `CASE` and `HOLDER` are the picked case and
/// its holder's user id: see [`with_picked_case`].
fn pgbench_sql(scenario: Scenario, feed_per_municipality: bool) -> String {
    let event = |action: &str, resource: &str| {
        format!(
            "INSERT INTO access_events (municipality, case_id, actor_user_id, actor_name, actor_role, action, \
             resource, request_id, basis) SELECT '{MUNICIPALITY}', case_id, holder, 'Pgbench', 'professional', \
             '{action}', '{resource}', 'pgbench', 'holder_service' FROM bench.sample WHERE n = :n;"
        )
    };
    // The caller is an active participant of the case: the least of the access check.
    let member = "EXISTS (SELECT 1 FROM case_participants m WHERE m.case_id = CASE AND m.user_id = HOLDER AND m.active)";
    let body = match scenario {
        // The departure check the service sends behind `BEGIN`, here a round trip of its own.
        Scenario::Me => {
            "SELECT stafettlogg_staff_present(encode(convert_to(HOLDER, 'UTF8'), 'hex'));".to_string()
        }
        // What the case's view shows: the case, its participants, the consent summary (each consent's
        // dates, services and whether every giver has signed) and the references in other systems.
        Scenario::Read => format!(
            "SELECT c.*, p.*, k.consents, r.refs FROM cases c JOIN case_participants p ON p.case_id = c.id, {} \
             WHERE c.id = CASE;\n{}",
            shown_with_case("c"),
            event("read", "case")
        ),
        Scenario::Entries => format!(
            "SELECT e.* FROM log_entries e WHERE e.case_id = CASE AND {member} ORDER BY e.id DESC LIMIT 51;\n{}",
            event("read", "case.entries")
        ),
        Scenario::Timeline => format!(
            "{}\n{}",
            timeline_sql().replace("ACCESS", member),
            event("read", "case.timeline")
        ),
        Scenario::List => LIST_SQL.replace("SHOWN", &shown_with_case("page")),
        Scenario::Guide => GUIDE_SQL.to_string(),
        Scenario::Append => format!(
            "{APPEND_SQL}\n{}\n{}",
            event("create", "case.entries"),
            if feed_per_municipality { FEED_SQL } else { GLOBAL_FEED_SQL }
        ),
    };
    let body: Vec<String> = body.lines().map(with_picked_case).collect();
    let body = body.join("\n").replace("MUNI", MUNICIPALITY);
    format!("\\set n random(1, :ncases)\nBEGIN;\n{body}\nCOMMIT;\n")
}

/// pgbench draws numbers, not uuids: a statement that names `CASE` or `HOLDER` looks the picked case up
/// once, in a common table expression of its own (one primary-key probe), which costs less than a
/// round trip to fetch it first and keeps the statement's shape (a parameter used many times) as the
/// service's.
fn with_picked_case(statement: &str) -> String {
    if !statement.contains("CASE") && !statement.contains("HOLDER") {
        return statement.to_string();
    }
    let pick = "k AS MATERIALIZED (SELECT case_id, holder FROM bench.sample WHERE n = :n)";
    let statement = match statement.strip_prefix("WITH ") {
        Some(rest) => format!("WITH {pick}, {rest}"),
        None => format!("WITH {pick} {statement}"),
    };
    statement
        .replace("CASE", "(SELECT case_id FROM k)")
        .replace("HOLDER", "(SELECT holder FROM k)")
}

/// The service's timeline query (`stafettlogg::timeline::store::PAGE_SQL`, every source it reads) for the
/// first page, with the access check in place of the cursor, on one line (the picked case is substituted
/// per line).
fn timeline_sql() -> String {
    let sql = stafettlogg::timeline::store::PAGE_SQL
        .replace("$1", "CASE")
        .replace(
            "$2::timestamptz IS NULL OR (at, item_type, ref_id) < ($2, $3, $4)",
            "ACCESS",
        )
        .replace("$5", "51")
        // pgbench reads `:MI` as a variable; to_char prints a quoted ":" as it is.
        .replace("HH24:MI", "HH24\":\"MI");
    assert!(
        !sql.contains('$'),
        "a parameter of the timeline the bench does not fill: {sql}"
    );
    sql.split_whitespace().collect::<Vec<_>>().join(" ") + ";"
}

/// What the service reads for the public guide when its cached copy is stale (src/guide/public.rs): the
/// newest version, the level names and the services with their contact details. The service sends these
/// once per municipality and half minute; every other request is served from memory.
const GUIDE_SQL: &str = "SELECT number, document, published_at FROM guide_versions WHERE municipality = 'MUNI' ORDER BY number DESC LIMIT 1;
SELECT level, name FROM level_definitions WHERE municipality = 'MUNI';
SELECT code, name, kind, contact_phone, contact_email, contact_address, contact_web FROM services WHERE municipality = 'MUNI' AND active ORDER BY code;";

/// What a case's view shows besides the case row (and the list's item is the same view): the consent
/// summary (each consent's dates, services and whether every giver has signed) and the references in
/// other systems, as lateral joins on the case `case`.
fn shown_with_case(case: &str) -> String {
    format!(
        "LATERAL (SELECT array_agg(ROW(k.id, k.valid_from, k.valid_until, k.withdrawn_at, k.superseded_by, \
         ARRAY(SELECT s.service FROM consent_services s WHERE s.consent_id = k.id), \
         (SELECT bool_and(g.signed_at IS NOT NULL) FROM consent_givers g WHERE g.consent_id = k.id))) AS consents \
         FROM consents k WHERE k.case_id = {case}.id) k, \
         LATERAL (SELECT array_agg(ROW(x.system, x.ref_id)) AS refs FROM case_external_refs x \
         WHERE x.case_id = {case}.id) r"
    )
}

/// The holder's open cases, newest first, each with the view's consent summary and references (`SHOWN`)
/// and the holder's name, and one access event per case shown.
const LIST_SQL: &str = "WITH page AS (SELECT c.*, p.name AS holder_name \
FROM case_participants p JOIN cases c ON c.id = p.case_id AND c.holder_participant_id = p.id \
WHERE p.kind = 'professional' AND p.active AND p.user_id = HOLDER AND c.status = 'open' \
ORDER BY c.id DESC LIMIT 51), \
shown AS (INSERT INTO access_events (municipality, case_id, actor_user_id, actor_name, actor_role, action, \
resource, request_id, basis) SELECT municipality, id, HOLDER, 'Pgbench', 'professional', 'list', 'case', \
'pgbench', 'holder_service' FROM (SELECT * FROM page ORDER BY id DESC LIMIT 50) s) \
SELECT page.*, k.consents, r.refs FROM page, SHOWN ORDER BY page.id DESC;";

/// The entry, written by the holder into an open case locked for the write (as the service locks it),
/// with a time-ordered id like the service's UUIDv7 (PostgreSQL 15 has no uuidv7()).
const APPEND_SQL: &str = "INSERT INTO log_entries (id, case_id, kind, occurred_at, body, author_participant_id, author_name) \
SELECT (lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0') || substr(md5(random()::text), 1, 20))::uuid, \
c.id, 'note', '2024-06-01T10:00:00Z', 'Samtale med foreldrene. Avtalt ny samtale om to uker.', c.holder_participant_id, 'Pgbench' \
FROM cases c WHERE c.id = CASE AND c.status = 'open' FOR UPDATE OF c;";

/// The change-feed event, numbered per municipality (migration feed_per_municipality) ...
const FEED_SQL: &str = "WITH counter AS (INSERT INTO feed_counters AS f (municipality, last_seq) VALUES ('MUNI', 1) \
ON CONFLICT (municipality) DO UPDATE SET last_seq = f.last_seq + 1 RETURNING last_seq) \
INSERT INTO change_events (seq, municipality, case_id, type) SELECT last_seq, 'MUNI', CASE, 'entry.added' FROM counter;";

/// ... or from the one global counter row of the schema before it.
const GLOBAL_FEED_SQL: &str = "WITH counter AS (UPDATE change_counter SET last_seq = last_seq + 1 RETURNING last_seq) \
INSERT INTO change_events (seq, municipality, case_id, type) SELECT last_seq, 'MUNI', CASE, 'entry.added' FROM counter;";

/// Shared by every wrk script: the sample and the tokens, a per-thread random seed, and a result line
/// the bench parses instead of wrk's human-readable report.
const WRK_PRELUDE: &str = r#"
local ids, holders, tokens = {}, {}, {}
for line in io.lines("CASES_FILE") do
  local id, user = line:match("^(%S+) (%S+)$")
  ids[#ids + 1] = id
  holders[#holders + 1] = user
end
for line in io.lines("TOKENS_FILE") do
  local user, token = line:match("^(%S+) (%S+)$")
  tokens[user] = "Bearer " .. token
end
append_body = '{"kind": "note", "occurred_at": "2024-06-01T10:00:00Z", "body": "Samtale med foreldrene. Avtalt ny samtale om to uker."}'

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end

function init(args)
  -- Every thread would otherwise draw the same sequence of cases.
  math.randomseed(os.time() * 100 + (thread_no or 0))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH requests=%.0f duration_us=%.0f p50_us=%.0f p99_us=%.0f status_errors=%.0f socket_errors=%.0f\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end

function request()
  local i = math.random(#ids)
  local id, auth = ids[i], tokens[holders[i]]
"#;

/// Says how to get a missing load generator before anything is started.
pub fn check_tools() {
    for (tool, hint) in [
        (
            "wrk",
            "install it: `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`",
        ),
        (
            "pgbench",
            "it comes with the PostgreSQL server packages: `apt-get install postgresql`",
        ),
    ] {
        let found = Command::new(tool).arg("--version").output().is_ok();
        assert!(found, "`{tool}` was not found on PATH; {hint}");
    }
}

fn write_wrk_script(scenario: Scenario, data: &SeedData, dir: &Path) -> PathBuf {
    let script = WRK_PRELUDE
        .replace("CASES_FILE", &data.cases_file.display().to_string())
        .replace("TOKENS_FILE", &data.tokens_file.display().to_string())
        + "  "
        + scenario.wrk_request()
        + "\nend\n";
    let script = script.replace("MUNI", MUNICIPALITY);
    let path = dir.join(format!("{}.lua", scenario.name()));
    std::fs::write(&path, script).expect("wrk script");
    path
}

fn write_pgbench_script(scenario: Scenario, cluster: &BenchCluster, dir: &Path) -> PathBuf {
    let per_municipality = cluster.count(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'feed_counters'",
    ) > 0;
    let path = dir.join(format!("{}.sql", scenario.name()));
    std::fs::write(&path, pgbench_sql(scenario, per_municipality)).expect("pgbench script");
    path
}

/// One wrk run at `clients` connections on two threads.
fn wrk(script: &Path, base: &str, clients: u32, seconds: u64) -> Measured {
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{clients}"),
            &format!("-d{seconds}s"),
            "--timeout",
            "10s",
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(base)
        .output()
        .expect("wrk");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("BENCH "))
        .unwrap_or_else(|| {
            panic!(
                "wrk gave no result: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let field = |name: &str| -> f64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
            .unwrap_or_else(|| panic!("wrk result without {name}: {line}"))
    };
    let requests = field("requests");
    Measured {
        rps: requests / (field("duration_us") / 1e6),
        p50_us: field("p50_us"),
        p99_us: field("p99_us"),
        errors: (field("status_errors") + field("socket_errors")) as u64,
        requests,
        ..Measured::default()
    }
}

/// One pgbench run with the same client count; latencies from its per-transaction log (`-l`).
fn pgbench(
    script: &Path,
    cluster: &BenchCluster,
    data: &SeedData,
    clients: u32,
    seconds: u64,
    log: Option<&Path>,
) -> Measured {
    let mut cmd = Command::new("pgbench");
    cmd.args([
        "-n",
        "-M",
        "prepared",
        "-j",
        "2",
        "-c",
        &clients.to_string(),
        "-T",
        &seconds.to_string(),
    ])
    .args(["-D", &format!("ncases={}", data.sample), "-f"])
    .arg(script)
    .env("PGOPTIONS", format!("-c app.municipality={MUNICIPALITY}"));
    if let Some(prefix) = log {
        cmd.arg("-l")
            .arg(format!("--log-prefix={}", prefix.display()));
    }
    let out = cmd.arg(cluster.service_url()).output().expect("pgbench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let value = |key: &str| -> Option<f64> {
        let rest = stdout.lines().find_map(|l| l.trim().strip_prefix(key))?;
        rest.split_whitespace().next()?.parse().ok()
    };
    let tps =
        value("tps = ").unwrap_or_else(|| panic!("pgbench gave no result:\n{stdout}\n{stderr}"));
    let aborted = stderr.matches("aborted in command").count() as u64;
    let failed = value("number of failed transactions:").unwrap_or(0.0) as u64;
    let mut m = Measured {
        rps: tps,
        errors: failed + aborted,
        requests: value("number of transactions actually processed:").unwrap_or(0.0),
        ..Measured::default()
    };
    if let Some(prefix) = log {
        let mut latencies = pgbench_latencies(prefix);
        m.p50_us = percentile(&mut latencies, 50.0);
        m.p99_us = percentile(&mut latencies, 99.0);
    }
    m
}

/// The latency column (µs) of every log file pgbench wrote for `prefix` (one per thread), then removed.
fn pgbench_latencies(prefix: &Path) -> Vec<f64> {
    let dir = prefix.parent().expect("a directory");
    let stem = format!("{}.", prefix.file_name().expect("a name").to_string_lossy());
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("the log directory").flatten() {
        if !entry.file_name().to_string_lossy().starts_with(&stem) {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        out.extend(
            text.lines()
                .filter_map(|l| l.split_whitespace().nth(2)?.parse::<f64>().ok()),
        );
        let _ = std::fs::remove_file(entry.path());
    }
    out
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

/// Round trips of one pgbench transaction: its SQL lines, one statement each. Counted from the script
/// because pg_stat_statements (PostgreSQL 15) does not see BEGIN and COMMIT sent as prepared statements.
fn round_trips(script: &Path) -> f64 {
    let text = std::fs::read_to_string(script).expect("the pgbench script");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('\\'))
        .count() as f64
}

/// Runs `f` while a second thread reads the server's VmRSS every 100 ms; the largest is kept.
fn while_sampling_rss(server: &Server, f: impl FnOnce() -> Measured) -> Measured {
    let running = std::sync::atomic::AtomicBool::new(true);
    let peak = std::sync::atomic::AtomicU64::new(0);
    let mut m = std::thread::scope(|s| {
        s.spawn(|| {
            while running.load(std::sync::atomic::Ordering::Relaxed) {
                peak.fetch_max(server.rss().rss_kb, std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        });
        let m = f();
        running.store(false, std::sync::atomic::Ordering::Relaxed);
        m
    });
    m.rss_kb = peak.into_inner();
    m
}

fn per(delta: f64, requests: f64) -> Option<f64> {
    (requests > 0.0).then(|| delta / requests)
}

/// The service's wrk run against the baseline build (`BENCH_BASELINE`), warmed up the same way.
pub fn baseline(
    scenario: Scenario,
    clients: u32,
    settings: &Settings,
    cluster: &BenchCluster,
    baseline: &Server,
    data: &SeedData,
) -> Measured {
    let dir = data.cases_file.parent().expect("the bench directory");
    let lua = write_wrk_script(scenario, data, dir);
    warm_up(&lua, baseline, clients, settings);
    let (measured, profile) = profiled_wrk("baseline", &lua, baseline, clients, settings, cluster);
    println!(
        "  {:<9} c={clients:<3} baseline {:>6.0} rps\n{profile}",
        scenario.name(),
        measured.rps
    );
    measured
}

fn warm_up(lua: &Path, server: &Server, clients: u32, settings: &Settings) {
    if settings.warmup > 0 {
        wrk(lua, &server.base, clients, settings.warmup);
    }
}

/// One measured wrk run against `server`, with where its time went and the server's memory.
fn profiled_wrk(
    label: &str,
    lua: &Path,
    server: &Server,
    clients: u32,
    settings: &Settings,
    cluster: &BenchCluster,
) -> (Measured, String) {
    crate::profile::while_profiling(
        label,
        cluster,
        server,
        |m: &Measured| m.requests,
        || while_sampling_rss(server, || wrk(lua, &server.base, clients, settings.seconds)),
    )
}

/// Service then pgbench, each warmed up first; the statement counters are read around the measured runs
/// only (metrics scrape outside the pg_stat_statements window, as the scrape itself queries the pool).
pub fn compare(
    scenario: Scenario,
    clients: u32,
    settings: &Settings,
    cluster: &BenchCluster,
    server: &Server,
    data: &SeedData,
) -> (Scenario, u32, Measured, Measured) {
    let dir = data.cases_file.parent().expect("the bench directory");
    let lua = write_wrk_script(scenario, data, dir);
    let sql = write_pgbench_script(scenario, cluster, dir);
    warm_up(&lua, server, clients, settings);
    let (before, stmts_before) = (server.counters(), cluster.statements_of_service_role());
    let (mut svc, svc_profile) = profiled_wrk("service", &lua, server, clients, settings, cluster);
    let (stmts_after, after) = (cluster.statements_of_service_role(), server.counters());
    let requests = match after.requests - before.requests {
        r if r > 0.0 => r,
        _ => svc.requests,
    };
    svc.round_trips_per_request = match (before.round_trips, after.round_trips) {
        (Some(b), Some(a)) => per(a - b, requests),
        (None, Some(a)) => per(a, requests),
        _ => None,
    };
    svc.statements_per_request = per((stmts_after.0 - stmts_before.0) as f64, requests);
    svc.blocks_per_request = per((stmts_after.1 - stmts_before.1) as f64, requests);
    if settings.warmup > 0 {
        pgbench(&sql, cluster, data, clients, settings.warmup, None);
    }
    let prefix = dir.join(format!("pgbench-{}-{clients}", scenario.name()));
    let pgb_before = cluster.statements_of_service_role();
    let (mut pgb, pgb_profile) = crate::profile::while_profiling(
        "pgbench",
        cluster,
        server,
        |m: &Measured| m.requests,
        || {
            pgbench(
                &sql,
                cluster,
                data,
                clients,
                settings.seconds,
                Some(&prefix),
            )
        },
    );
    pgb.round_trips_per_request = Some(round_trips(&sql));
    let pgb_after = cluster.statements_of_service_role();
    pgb.blocks_per_request = per((pgb_after.1 - pgb_before.1) as f64, pgb.requests);
    println!(
        "  {:<9} c={clients:<3} service {:>6.0} rps, pgbench {:>6.0} tps",
        scenario.name(),
        svc.rps,
        pgb.rps
    );
    println!("{svc_profile}\n{pgb_profile}");
    (scenario, clients, svc, pgb)
}
