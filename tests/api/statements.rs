//! The statement budget of the hot paths (issue 11): round trips a request sends to PostgreSQL, as the
//! service itself counts them (`stafettlogg_db_round_trips_total`; statements sent as one batch count
//! once). A read of one case may cost at most 4 (`BEGIN` with the municipality, the access facts, the
//! read with its access event, `COMMIT`), a list of one's own cases 4 too, a write 5 (`BEGIN` with
//! the case lock, the facts, the write, its access and feed events, `COMMIT`), so the budget cannot
//! silently grow back.

use std::collections::HashMap;
use std::net::TcpListener;

use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;

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

struct Scenario {
    name: &'static str,
    method: Method,
    path: String,
    route: &'static str,
    body: Option<Value>,
    budget: u64,
}

#[actix_web::test]
async fn the_hot_paths_stay_within_their_statement_budget() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/metrics", listener.local_addr().unwrap());
    let app = TestApp::spawn_with(Options {
        metrics_listener: Some(listener),
        ..Default::default()
    })
    .await;
    let (ola, id) = world(&app).await;
    let read = |name, path: String, route, budget| Scenario {
        name,
        method: Method::GET,
        path,
        route,
        body: None,
        budget,
    };
    let scenarios = [
        read(
            "read case",
            format!("/api/v1/cases/{id}"),
            "/api/v1/cases/{id}",
            4,
        ),
        read(
            "entries page",
            format!("/api/v1/cases/{id}/entries?limit=50"),
            "/api/v1/cases/{id}/entries",
            4,
        ),
        read(
            "timeline page",
            format!("/api/v1/cases/{id}/timeline?limit=50"),
            "/api/v1/cases/{id}/timeline",
            4,
        ),
        // A person's list reads its candidates with their facts in one statement.
        read(
            "list my cases",
            "/api/v1/cases".to_string(),
            "/api/v1/cases",
            4,
        ),
        read(
            "list the open cases I hold",
            "/api/v1/cases?status=open&holder=me".to_string(),
            "/api/v1/cases",
            4,
        ),
        Scenario {
            name: "append entry",
            method: Method::POST,
            path: format!("/api/v1/cases/{id}/entries"),
            route: "/api/v1/cases/{id}/entries",
            body: Some(
                json!({"kind": "note", "occurred_at": chrono::Utc::now(), "body": "Ny samtale"}),
            ),
            budget: 5,
        },
    ];
    let mut report = Vec::new();
    let mut over = Vec::new();
    for Scenario {
        name,
        method,
        path,
        route,
        body,
        budget,
    } in scenarios
    {
        let key = (method.to_string(), route.to_string());
        let before = metrics(&url).await.get(&key).copied().unwrap_or_default();
        for _ in 0..5 {
            let mut rb = app.request(method.clone(), &path, Some(&ola));
            if let Some(body) = &body {
                rb = rb.json(body);
            }
            let res = rb.send().await.unwrap();
            assert!(res.status().is_success(), "{name}: {}", res.status());
        }
        let after = metrics(&url).await[&key];
        let (trips, requests) = (after.0 - before.0, after.1 - before.1);
        assert_eq!(requests, 5, "{name}");
        let per_request = trips as f64 / requests as f64;
        report.push(format!(
            "{name}: {per_request} round trips (budget {budget})"
        ));
        if per_request > budget as f64 {
            over.push(name);
        }
    }
    println!("{}", report.join("\n"));
    assert!(
        over.is_empty(),
        "over budget: {over:?}\n{}",
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
    let pool = stafettlogg::db::build_pool(&app.service_db_url, 1);
    let mut conn = stafettlogg::db::checkout(&pool).unwrap();
    let setting: Setting = diesel::sql_query("SHOW max_parallel_workers_per_gather")
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(setting.max_parallel_workers_per_gather, "0");
}
