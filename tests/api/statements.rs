//! The statement budget of the hot paths: round trips a request sends to PostgreSQL, as the service itself
//! counts them (`stafettlogg_db_round_trips_total`). Every statement or batch sent on a pooled connection
//! for the request counts once, whichever code checked the connection out (the request's transaction, the
//! idempotency layer's own statements), and so does every statement diesel prepares before its first
//! execution on a connection. A read of one case may cost at most 4 round trips (`BEGIN` with the
//! municipality, the access facts, the read with its access event, `COMMIT`), a list of one's own cases 4
//! too, a write 5 (`BEGIN` with the case lock, the facts, the write, its access and feed events, `COMMIT`),
//! so the budget cannot silently grow back.
//!
//! The service's count is checked against PostgreSQL's own: the test runs on a cluster of its own with
//! `pg_stat_statements`, and for the same requests the statements PostgreSQL executed for the service must
//! be exactly the round trips the service counted, once the statements that ride in one batch behind a
//! `BEGIN` are told apart. A statement sent on a connection the count misses breaks that equality.

use std::collections::HashMap;
use std::net::TcpListener;

use diesel::connection::SimpleConnection;
use diesel::sql_types::{Array, BigInt, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;
use stafettlogg::db::embedded::Cluster;

use crate::support::{synthetic_id, Options, TestApp};

const BARNEHAGE: &str = "barnehage-solstua";
const PPT: &str = "ppt-vest";

/// (round trips, requests) per (method, route) from the metrics text.
fn counters(text: &str) -> HashMap<(String, String), (u64, u64)> {
    let mut out: HashMap<(String, String), (u64, u64)> = HashMap::new();
    for line in text.lines() {
        let (trips, name) =
            if let Some(rest) = line.strip_prefix("stafettlogg_db_round_trips_total{") {
                (true, rest)
            } else if let Some(rest) = line.strip_prefix("stafettlogg_http_requests_total{") {
                (false, rest)
            } else {
                continue;
            };
        let (labels, value) = name.rsplit_once("} ").unwrap();
        let label = |key: &str| {
            labels
                .split(',')
                .find_map(|l| l.strip_prefix(&format!("{key}=\"")))
                .map(|v| v.trim_end_matches('"').to_string())
                .unwrap()
        };
        let entry = out.entry((label("method"), label("route"))).or_default();
        let value: u64 = value.parse().unwrap();
        if trips {
            entry.0 += value;
        } else {
            entry.1 += value;
        }
    }
    out
}

async fn metrics(url: &str) -> HashMap<(String, String), (u64, u64)> {
    counters(&reqwest::get(url).await.unwrap().text().await.unwrap())
}

/// A case as the hot paths see it: a holder, two guardians with a consent covering PPT, a PPT adviser,
/// some log entries.
async fn world(app: &TestApp) -> (String, String) {
    app.service("3805", BARNEHAGE, "barnehage").await;
    app.service("3805", PPT, "ppt").await;
    let ola = app.token("3805", "ola", &[Role::Professional], &[BARNEHAGE]);
    let case = app.open_case(&ola, BARNEHAGE, "Emma").await;
    let id = case["id"].as_str().unwrap().to_string();
    let mut guardians = Vec::new();
    for (n, relation) in [(2, "mother"), (3, "father")] {
        let p: Value = app
            .post(
                &format!("/api/v1/cases/{id}/participants"),
                &ola,
                &json!({"kind": "guardian", "name": "Forelder Testesen", "relation": relation,
                    "parental_responsibility": true, "national_id": synthetic_id(n)}),
            )
            .await
            .json()
            .await
            .unwrap();
        guardians.push(p["id"].as_str().unwrap().to_string());
    }
    let res = app
        .post(
            &format!("/api/v1/cases/{id}/consents"),
            &ola,
            &json!({"given_by": guardians, "services": [PPT], "purpose": "Samarbeid med PPT",
                "valid_from": stafettlogg::clock::today(), "form": "written"}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let res = app
        .post(
            &format!("/api/v1/cases/{id}/participants"),
            &ola,
            &json!({"kind": "professional", "user_id": "pia", "name": "Pia Rådgiver", "service": PPT}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    for i in 0..3 {
        let res = app
            .post(
                &format!("/api/v1/cases/{id}/entries"),
                &ola,
                &json!({"kind": "note", "occurred_at": chrono::Utc::now(), "body": format!("Samtale {i}")}),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    (ola, id)
}

/// Requests measured per scenario, after one that warms the connection up.
const REQUESTS: u64 = 5;

/// Whether and how a request carries an `Idempotency-Key`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    None,
    /// A new key for every request: the first request under it, which runs and stores its answer.
    Fresh,
    /// The key of a request that completed: each request is answered from the stored answer.
    Replay,
}

#[derive(Clone)]
struct Scenario {
    name: &'static str,
    method: Method,
    path: String,
    route: &'static str,
    body: Option<Value>,
    key: Key,
    budget: u64,
}

impl Scenario {
    fn read(name: &'static str, path: String, route: &'static str, budget: u64) -> Scenario {
        Scenario {
            name,
            method: Method::GET,
            path,
            route,
            body: None,
            key: Key::None,
            budget,
        }
    }

    fn append(name: &'static str, case: &str, key: Key, budget: u64) -> Scenario {
        Scenario {
            name,
            method: Method::POST,
            path: format!("/api/v1/cases/{case}/entries"),
            route: "/api/v1/cases/{id}/entries",
            body: Some(
                json!({"kind": "note", "occurred_at": chrono::Utc::now(), "body": "Ny samtale"}),
            ),
            key,
            budget,
        }
    }
}

/// The hot paths and their budgets. The idempotency layer adds a round trip before the handler (claiming
/// the key) and one after it (storing the answer). A replay costs 4, as the code is today: the claim's
/// upsert finds the key completed and takes nothing, a second statement reads the stored answer, then the
/// replay passes the door every request of its caller passes (`BEGIN` with the staff check, `COMMIT`).
fn scenarios(case: &str) -> Vec<Scenario> {
    vec![
        Scenario::read(
            "read case",
            format!("/api/v1/cases/{case}"),
            "/api/v1/cases/{id}",
            4,
        ),
        Scenario::read(
            "entries page",
            format!("/api/v1/cases/{case}/entries?limit=50"),
            "/api/v1/cases/{id}/entries",
            4,
        ),
        Scenario::read(
            "timeline page",
            format!("/api/v1/cases/{case}/timeline?limit=50"),
            "/api/v1/cases/{id}/timeline",
            4,
        ),
        // A person's list reads its candidates with their facts in one statement.
        Scenario::read(
            "list my cases",
            "/api/v1/cases".to_string(),
            "/api/v1/cases",
            4,
        ),
        Scenario::read(
            "list the open cases I hold",
            "/api/v1/cases?status=open&holder=me".to_string(),
            "/api/v1/cases",
            4,
        ),
        Scenario::append("append entry", case, Key::None, 5),
        Scenario::append("append entry with an Idempotency-Key", case, Key::Fresh, 7),
        Scenario::append("replay of an appended entry", case, Key::Replay, 4),
    ]
}

/// A throwaway cluster of this test's own with `pg_stat_statements` loaded: on the shared test cluster,
/// every other test's databases would crowd this one's statements out of the extension's table (it keeps
/// a bounded number and evicts the least used).
struct CountingCluster {
    cluster: Cluster,
    database: &'static str,
}

impl CountingCluster {
    fn start() -> CountingCluster {
        let cluster =
            Cluster::start_throwaway_with("shared_preload_libraries = 'pg_stat_statements'")
                .expect("a throwaway PostgreSQL cluster");
        let counting = CountingCluster {
            cluster,
            database: "budget",
        };
        // The extension's views live in the `postgres` database: the service refuses to start where its
        // role may read a relation without row-level security.
        let mut admin = PgConnection::establish(&counting.admin_url()).expect("the cluster");
        admin
            .batch_execute("CREATE EXTENSION pg_stat_statements")
            .expect("pg_stat_statements (contrib of the PostgreSQL server package)");
        admin
            .batch_execute(&format!("CREATE DATABASE {}", counting.database))
            .expect("CREATE DATABASE");
        stafettlogg::db::migrate::run_migrations(&counting.cluster.url(counting.database))
            .expect("migrations");
        counting
    }

    fn admin_url(&self) -> String {
        self.cluster.url("postgres")
    }

    /// The service role's own login, as the shared test cluster gives it.
    fn service_url(&self) -> String {
        self.cluster
            .service_url(self.database)
            .expect("a login for the service role")
    }

    /// What PostgreSQL has executed for the service in the database so far.
    async fn executed(&self) -> Executed {
        let (url, database) = (self.admin_url(), self.database);
        actix_web::rt::task::spawn_blocking(move || {
            diesel::sql_query(EXECUTED)
                .bind::<Text, _>(database)
                .bind::<Text, _>(stafettlogg::db::role::APP_ROLE)
                .bind::<Array<Text>, _>(stafettlogg::db::begin::SENT_ONLY_BEHIND_BEGIN.to_vec())
                .bind::<Text, _>(EXPIRED_KEYS_CLEANUP)
                .get_result::<Executed>(&mut PgConnection::establish(&url).unwrap())
                .expect("pg_stat_statements")
        })
        .await
        .unwrap()
    }
}

/// How the idempotency layer's opportunistic cleanup begins: one request in 32 that stores an answer also
/// deletes a bounded batch of expired keys, at random, so the budget leaves it out and counts it apart.
const EXPIRED_KEYS_CLEANUP: &str = "DELETE FROM idempotency_keys WHERE ctid";

/// Every statement of a batch is an execution of its own to pg_stat_statements (with `track = top`, the
/// default, statements run inside functions are not).
const EXECUTED: &str = "\
SELECT coalesce(sum(s.calls), 0)::bigint AS calls,
       coalesce(sum(s.calls) FILTER (WHERE EXISTS (SELECT FROM unnest($3::text[]) p
                                                   WHERE starts_with(s.query, p))), 0)::bigint AS behind_begin,
       coalesce(sum(s.calls) FILTER (WHERE starts_with(s.query, $4)), 0)::bigint AS cleanups
FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = $1) AND r.rolname = $2";

#[derive(QueryableByName, Clone, Copy, Debug, Default)]
struct Executed {
    #[diesel(sql_type = BigInt)]
    calls: i64,
    /// Statements that rode in a `BEGIN` batch (the municipality, the staff check, the case lock).
    #[diesel(sql_type = BigInt)]
    behind_begin: i64,
    #[diesel(sql_type = BigInt)]
    cleanups: i64,
}

impl Executed {
    fn since(self, before: Executed) -> Executed {
        Executed {
            calls: self.calls - before.calls,
            behind_begin: self.behind_begin - before.behind_begin,
            cleanups: self.cleanups - before.cleanups,
        }
    }

    /// Round trips as PostgreSQL saw them: each batch once.
    fn round_trips(self) -> u64 {
        (self.calls - self.behind_begin) as u64
    }
}

async fn send(app: &TestApp, token: &str, s: &Scenario, key: Option<&str>) {
    let mut rb = app.request(s.method.clone(), &s.path, Some(token));
    if let Some(body) = &s.body {
        rb = rb.json(body);
    }
    if let Some(key) = key {
        rb = rb.header("Idempotency-Key", key);
    }
    let res = rb.send().await.unwrap();
    assert!(res.status().is_success(), "{}: {}", s.name, res.status());
    assert_eq!(
        res.headers().contains_key("idempotent-replayed"),
        s.key == Key::Replay,
        "{}",
        s.name
    );
}

/// One scenario's figures: the round trips of its first request (`cold`: it also prepares the statements
/// of the route the connection had not prepared yet), then those of [`REQUESTS`] more, by the service's
/// count and by PostgreSQL's.
struct Measured {
    cold: u64,
    requests: u64,
    round_trips: u64,
    executed: Executed,
}

async fn measure(
    app: &TestApp,
    pg: &CountingCluster,
    metrics_url: &str,
    token: &str,
    s: &Scenario,
) -> Measured {
    let replayed = uuid::Uuid::now_v7().to_string();
    let key = || match s.key {
        Key::None => None,
        Key::Fresh => Some(uuid::Uuid::now_v7().to_string()),
        Key::Replay => Some(replayed.clone()),
    };
    if s.key == Key::Replay {
        // The request whose answer the measured ones replay.
        let first = Scenario {
            key: Key::Fresh,
            ..s.clone()
        };
        send(app, token, &first, Some(&replayed)).await;
    }
    let labels = (s.method.to_string(), s.route.to_string());
    let at_start = metrics(metrics_url)
        .await
        .get(&labels)
        .copied()
        .unwrap_or_default();
    send(app, token, s, key().as_deref()).await;
    let warm = metrics(metrics_url).await[&labels];
    // The scrape queries the database too: PostgreSQL's figures are read inside the scrapes.
    let executed_before = pg.executed().await;
    for _ in 0..REQUESTS {
        send(app, token, s, key().as_deref()).await;
    }
    let executed = pg.executed().await.since(executed_before);
    let end = metrics(metrics_url).await[&labels];
    Measured {
        cold: warm.0 - at_start.0,
        requests: end.1 - warm.1,
        round_trips: end.0 - warm.0,
        executed,
    }
}

/// The relation between the two counts, for the measured requests: PostgreSQL's executed statements, less
/// those that rode behind a `BEGIN` in the same batch, equal the round trips the service counted. It holds
/// exactly because the pool has one connection: after a scenario's first request every statement the
/// route uses is prepared on it, so the measured requests prepare nothing (a prepare is a round trip the
/// service counts and pg_stat_statements does not see). A request on a fresh connection of a larger pool
/// pays those prepares on top (`cold`, printed, not budgeted: each connection pays them once). The
/// budget is per request, less the idempotency layer's random cleanup of expired keys.
#[actix_web::test]
async fn the_hot_paths_stay_within_their_statement_budget() {
    let pg = CountingCluster::start();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let metrics_url = format!("http://{}/metrics", listener.local_addr().unwrap());
    let app = TestApp::spawn_with(Options {
        metrics_listener: Some(listener),
        database_url: Some(pg.service_url()),
        pool_size: 1,
        ..Default::default()
    })
    .await;
    let (ola, case) = world(&app).await;
    let mut report = Vec::new();
    let mut wrong = Vec::new();
    for s in scenarios(&case) {
        let m = measure(&app, &pg, &metrics_url, &ola, &s).await;
        assert_eq!(m.requests, REQUESTS, "{}", s.name);
        let per_request =
            m.round_trips.saturating_sub(m.executed.cleanups as u64) as f64 / REQUESTS as f64;
        report.push(format!(
            "{}: {per_request} round trips per request (budget {}; first on the connection {}); \
             PostgreSQL: {} statements, {} of them behind BEGIN, {} cleanups of expired keys",
            s.name,
            s.budget,
            m.cold,
            m.executed.calls,
            m.executed.behind_begin,
            m.executed.cleanups
        ));
        if m.round_trips != m.executed.round_trips() {
            wrong.push(format!(
                "{}: the service counted {} round trips, PostgreSQL executed {}",
                s.name,
                m.round_trips,
                m.executed.round_trips()
            ));
        }
        if per_request > s.budget as f64 {
            wrong.push(format!("{}: over budget", s.name));
        }
    }
    println!("{}", report.join("\n"));
    assert!(
        wrong.is_empty(),
        "{}\n{}",
        wrong.join("\n"),
        report.join("\n")
    );
}

/// PostgreSQL starts the parallel workers a plan names even for a branch that turns out to have nothing to
/// do, which cost a list of one's own cases a third of its time at 1M cases; the service's statements read
/// a few index ranges each and never need them.
#[actix_web::test]
async fn pooled_connections_start_no_parallel_workers() {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        max_parallel_workers_per_gather: String,
    }
    let app = TestApp::spawn().await;
    let pool = stafettlogg::db::pool::build_pool(&app.service_db_url, 1);
    let mut conn = stafettlogg::db::pool::checkout(&pool).unwrap();
    let setting: Setting = diesel::sql_query("SHOW max_parallel_workers_per_gather")
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(setting.max_parallel_workers_per_gather, "0");
}
