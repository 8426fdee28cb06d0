use diesel::connection::SimpleConnection;
use reqwest::{Method, Response};
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::support::{problem, Options, TestApp};

#[actix_web::test]
async fn live_and_ready_answer_200_with_a_database() {
    let app = TestApp::spawn().await;
    for path in ["/health/live", "/health/ready"] {
        let res = app.request(Method::GET, path, None).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["status"], "ok");
    }
}

const BARNEHAGE: &str = "barnehage-solstua";

fn entry(body: &str) -> Value {
    json!({"kind": "note", "occurred_at": chrono::Utc::now(), "body": body})
}

/// A 503 with `Retry-After` whose problem says no writable database was found; returns its detail.
async fn no_writable_database(res: Response) -> String {
    let seconds: u32 = res
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(seconds >= 1);
    let p = problem(res, 503).await;
    assert_eq!(p["type"], "urn:stafettlogg:problem:unavailable");
    let detail = p["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("no writable database"), "{detail}");
    detail
}

/// Turns the test's database read-only (or back) for new sessions, and ends the service's sessions, as a
/// failover does to the clients of a node it demotes (pg_auto_failover sets `default_transaction_read_only`
/// on a node while it stops replication, and restarts a demoted primary as a standby).
fn set_read_only(app: &TestApp, on: bool) {
    let setting = if on {
        "SET default_transaction_read_only = on"
    } else {
        "RESET default_transaction_read_only"
    };
    let mut db = app.db();
    // Its own statement: a batch is one transaction, read-only from its start.
    db.batch_execute("SET default_transaction_read_only = off")
        .unwrap();
    db.batch_execute(&format!(
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I {setting}', current_database()); END $$; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()"
    ))
    .unwrap();
}

async fn ready(app: &TestApp) -> Response {
    app.request(Method::GET, "/health/ready", None)
        .send()
        .await
        .unwrap()
}

/// A database that answers but refuses writes (a standby, a primary being demoted) is no
/// database for this service, whose every request writes. Writes answer 503 with `Retry-After` and write
/// nothing, readiness says there is no writable database, and once the database takes writes again the
/// same server serves them: the pool drops the read-only connections instead of handing them out again.
#[actix_web::test]
async fn a_read_only_database_is_503_with_retry_after_and_readiness_says_so() {
    let app = TestApp::spawn().await;
    app.service("3805", BARNEHAGE, "barnehage").await;
    let ola = app.token("3805", "ola", &[Role::Professional], &[BARNEHAGE]);
    let case = app.open_case(&ola, BARNEHAGE, "Emma").await;
    let entries = format!("/api/v1/cases/{}/entries", case["id"].as_str().unwrap());
    assert_eq!(ready(&app).await.status(), 200);

    set_read_only(&app, true);
    let before = app.count("log_entries");
    no_writable_database(app.post(&entries, &ola, &entry("Samtale")).await).await;
    no_writable_database(ready(&app).await).await;
    // A read writes its access event: it cannot be served either.
    no_writable_database(app.get(&entries, &ola).await).await;
    assert_eq!(app.count("log_entries"), before, "nothing was written");

    set_read_only(&app, false);
    let res = app.post(&entries, &ola, &entry("Samtale")).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    assert_eq!(ready(&app).await.status(), 200);
}

/// With `target_session_attrs=read-write` (how a multi-host URL names the primary of a failover
/// formation) libpq refuses a read-only server at connect: no host is writable, so requests answer 503
/// with `Retry-After` within the checkout wait, never hang, and readiness says so.
#[actix_web::test]
async fn no_writable_host_for_target_session_attrs_read_write_is_503_and_not_ready() {
    let app = TestApp::spawn().await;
    app.service("3805", BARNEHAGE, "barnehage").await;
    set_read_only(&app, true);
    let sep = if app.service_db_url.contains('?') {
        '&'
    } else {
        '?'
    };
    let only_writable = TestApp::spawn_with(Options {
        database_url: Some(format!(
            "{}{sep}target_session_attrs=read-write",
            app.service_db_url
        )),
        ..Default::default()
    })
    .await;
    let ola = only_writable.token("3805", "ola", &[Role::Professional], &[BARNEHAGE]);
    let started = std::time::Instant::now();
    no_writable_database(ready(&only_writable).await).await;
    let body = json!({"service": BARNEHAGE, "concern": "Bekymring",
        "subject": {"kind": "child", "given_name": "Emma", "family_name": "Testesen", "birth_date": "2019-05-01"}});
    no_writable_database(only_writable.post("/api/v1/cases", &ola, &body).await).await;
    // A guard that the answers come at all, not a speed target.
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(app.count("cases"), 0);
}
