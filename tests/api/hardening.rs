//! What an outside probe broke, one test per defect, named after it: NUL characters, extreme
//! timestamps, bodies that never end, lock timeouts, deadlocks and terminated connections, the 503 storm,
//! and what the spec says about `If-Match`, cursors and national ids.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;
use stafettlogg::db::pool::SessionLimits;

use crate::family::{family, BARNEHAGE};
use crate::support::{fields, problem, Options, TestApp};

fn today() -> chrono::NaiveDate {
    stafettlogg::clock::today()
}

fn entry(body: &str) -> Value {
    json!({"kind": "note", "occurred_at": chrono::Utc::now(), "body": body})
}

/// Runs blocking database work off the test's executor (the server answers on the same runtime).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    actix_web::rt::task::spawn_blocking(f).await.unwrap()
}

// ---- 2. NUL characters ---------------------------------------------------------------------------------

#[actix_web::test]
async fn a_nul_character_in_a_log_entry_body_is_422_naming_the_field() {
    let f = family().await;
    let before = f.app.table_counts();
    let p = problem(
        f.post("/entries", &f.ola, &entry("Samtale med mor\u{0}etterpå"))
            .await,
        422,
    )
    .await;
    assert_eq!(fields(&p), vec!["body"]);
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("NUL"));
    assert_eq!(f.app.table_counts(), before, "nothing is written");
}

#[actix_web::test]
async fn a_nul_character_in_a_subject_name_on_post_cases_is_422_naming_the_field() {
    let app = TestApp::spawn().await;
    app.service("3805", BARNEHAGE, "barnehage").await;
    let ola = app.token("3805", "ola", &[Role::Professional], &[BARNEHAGE]);
    let before = app.table_counts();
    let body = json!({"service": BARNEHAGE, "concern": "Trist",
        "subject": {"kind": "child", "given_name": "Em\u{0}ma", "family_name": "Testesen"}});
    let p = problem(app.post("/api/v1/cases", &ola, &body).await, 422).await;
    assert_eq!(fields(&p), vec!["subject.given_name"]);
    // Deeper in an array, and in a key, the path says where.
    let body = json!({"service": BARNEHAGE, "concern": "Trist",
        "subject": {"kind": "child", "given_name": "Emma", "family_name": "Testesen"},
        "external_refs": [{"system": "visma", "id": "B-17"}, {"system": "visma", "id": "\u{0}"}]});
    let p = problem(app.post("/api/v1/cases", &ola, &body).await, 422).await;
    assert_eq!(fields(&p), vec!["external_refs[1].id"]);
    let res = app
        .request(Method::POST, "/api/v1/cases", Some(&ola))
        .header("content-type", "application/json")
        .body(r#"{"service": "x", "con\u0000cern": "y"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(fields(&problem(res, 422).await), vec!["con\\u0000cern"]);
    assert_eq!(app.table_counts(), before, "nothing is written");
}

#[actix_web::test]
async fn a_nul_character_in_a_measure_description_is_422_naming_the_field() {
    let f = family().await;
    let before = f.app.table_counts();
    let body = json!({"title": "Språkgruppe", "goal": "Bedre ordforråd", "description": "To ganger\u{0} i uka",
        "responsible": {"kind": "service", "service": BARNEHAGE},
        "start_date": today(), "evaluate_by": today() + chrono::Days::new(30)});
    let p = problem(f.post("/measures", &f.ola, &body).await, 422).await;
    assert_eq!(fields(&p), vec!["description"]);
    assert_eq!(f.app.table_counts(), before, "nothing is written");
}

#[actix_web::test]
async fn a_nul_character_in_get_cases_ref_is_400_naming_the_parameter() {
    let f = family().await;
    let p = problem(f.app.get("/api/v1/cases?ref=visma:%00", &f.ola).await, 400).await;
    assert_eq!(fields(&p), vec!["ref"]);
    // A cursor is decoded before it reaches a query: one that decodes to a NUL is not ours.
    let admin = f.app.token("3805", "anne", &[Role::Admin], &[]);
    let p = problem(f.app.get("/api/v1/services?cursor=AA", &admin).await, 400).await;
    assert_eq!(fields(&p), vec!["cursor"]);
}

#[actix_web::test]
async fn a_nul_character_in_an_import_line_or_a_token_claim_never_reaches_postgresql() {
    let f = family().await;
    let export: Value = f.json("/export", &f.ola).await;
    let mut line = export.clone();
    line["case"]["external_refs"] = json!([{"system": "gammelt", "id": "1"}]);
    line["case"]["concern"] = json!("Bekymring\u{0}");
    let integration = f
        .app
        .token("3805", "sys", &[Role::Integration], &[BARNEHAGE]);
    let res = f
        .app
        .request(Method::POST, "/api/v1/imports", Some(&integration))
        .header("content-type", "application/x-ndjson")
        .body(format!("{line}\n"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["lines"][0]["status"], "error", "{report}");
    assert_eq!(
        report["lines"][0]["errors"][0]["field"], "case.concern",
        "{report}"
    );
    // A signed token whose name holds a NUL would end up in the access log.
    let mut claims = f.app.claims("3805", "ola", &[Role::Professional]);
    claims.services = vec![BARNEHAGE.into()];
    claims.name = "Ola\u{0}Nordmann".into();
    let token = f.app.jwt.mint(&claims).unwrap();
    problem(f.get("", &token).await, 401).await;
}

// ---- 3. Extreme timestamps -----------------------------------------------------------------------------

#[actix_web::test]
async fn an_extreme_timestamp_is_422_naming_the_field_never_a_500() {
    let f = family().await;
    let before = f.app.table_counts();
    for occurred_at in [
        "-262143-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "1899-12-31T23:59:59Z",
        "2200-01-01T00:00:00Z",
        "+262142-12-31T23:59:59Z",
    ] {
        let body = json!({"kind": "note", "occurred_at": occurred_at, "body": "Samtale"});
        let p = problem(f.post("/entries", &f.ola, &body).await, 422).await;
        assert_eq!(fields(&p), vec!["occurred_at"], "{occurred_at}");
    }
    // Inside the range but in the future: a log entry tells what happened.
    let body = json!({"kind": "note", "occurred_at": "2150-01-01T00:00:00Z", "body": "Samtale"});
    let p = problem(f.post("/entries", &f.ola, &body).await, 422).await;
    assert_eq!(fields(&p), vec!["occurred_at"]);
    // Dates too: a measure, a consent, an evaluation deadline.
    let measure = json!({"title": "Språkgruppe", "goal": "Bedre ordforråd",
        "responsible": {"kind": "service", "service": BARNEHAGE},
        "start_date": "0001-01-01", "evaluate_by": "9999-12-31"});
    let p = problem(f.post("/measures", &f.ola, &measure).await, 422).await;
    assert_eq!(fields(&p), vec!["evaluate_by", "start_date"]);
    let consent = json!({"given_by": [f.mother_id], "services": [BARNEHAGE], "purpose": "Samarbeid",
        "valid_from": today(), "valid_until": "+10000-01-01", "form": "written"});
    let p = problem(f.post("/consents", &f.ola, &consent).await, 422).await;
    assert_eq!(fields(&p), vec!["valid_until"]);
    assert_eq!(f.app.table_counts(), before, "nothing is written");
    // The edges of the range are fine.
    let body =
        json!({"kind": "note", "occurred_at": "1900-01-01T00:00:00Z", "body": "Gammel journal"});
    assert_eq!(f.post("/entries", &f.ola, &body).await.status(), 201);
}

#[actix_web::test]
async fn an_extreme_timestamp_in_an_import_line_is_that_lines_error() {
    let f = family().await;
    let mut line: Value = f.json("/export", &f.ola).await;
    line["case"]["external_refs"] = json!([{"system": "gammelt", "id": "2"}]);
    line["case"]["opened_at"] = json!("-262143-01-01T00:00:00Z");
    let integration = f
        .app
        .token("3805", "sys", &[Role::Integration], &[BARNEHAGE]);
    let res = f
        .app
        .request(Method::POST, "/api/v1/imports", Some(&integration))
        .header("content-type", "application/x-ndjson")
        .body(format!("{line}\n"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["lines"][0]["status"], "error", "{report}");
    assert_eq!(report["lines"][0]["errors"][0]["field"], "case.opened_at");
}

/// Every date and time a client sends, in the committed spec, says which range the server accepts.
#[test]
fn every_date_a_client_sends_states_its_range_in_the_spec() {
    let spec: Value = serde_json::from_str(&stafettlogg::api_doc_json()).unwrap();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let mut names: Vec<String> = vec!["CaseDocument".into()];
    let text = spec["paths"].to_string();
    for (name, _) in schemas {
        let reference = format!("\"#/components/schemas/{name}\"");
        // Request bodies refer to their schema directly; their parts are found below.
        if text.contains(&format!("\"requestBody\":{{\"content\":{{\"application/json\":{{\"schema\":{{\"$ref\":{reference}")) {
            names.push(name.clone());
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut undocumented = vec![];
    while let Some(name) = names.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let schema = &schemas[&name];
        let body = schema.to_string();
        for (other, _) in schemas {
            if body.contains(&format!("\"#/components/schemas/{other}\"")) {
                names.push(other.clone());
            }
        }
        fn dates(node: &Value, path: &str, out: &mut Vec<String>) {
            match node {
                Value::Object(map) => {
                    if matches!(
                        map.get("format").and_then(Value::as_str),
                        Some("date" | "date-time")
                    ) && !map
                        .get("description")
                        .and_then(Value::as_str)
                        .is_some_and(|d| d.contains("from 1900-01-01 to 2199-12-31"))
                    {
                        out.push(path.to_string());
                    }
                    for (k, v) in map {
                        dates(v, &format!("{path}/{k}"), out);
                    }
                }
                Value::Array(items) => items.iter().for_each(|v| dates(v, path, out)),
                _ => {}
            }
        }
        dates(schema, &name, &mut undocumented);
    }
    assert!(seen.contains("EntryInput") && seen.contains("MeasureInput"));
    assert!(undocumented.is_empty(), "{undocumented:?}");
}

// ---- 4. A body that never ends -------------------------------------------------------------------------

/// Sends `head` and `body_part` on a raw connection and reads until the server closes it, for at most
/// `bound`. Returns what came back and how long it took.
fn raw_exchange(addr: &str, head: String, body_part: &[u8], bound: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body_part).unwrap();
    stream.flush().unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while started.elapsed() < bound {
        match stream.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&answer).into(), started.elapsed()),
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            // A reset counts as closed.
            Err(_) => return (String::from_utf8_lossy(&answer).into(), started.elapsed()),
        }
    }
    panic!(
        "the connection was still open after {bound:?}; got so far: {}",
        String::from_utf8_lossy(&answer)
    );
}

#[actix_web::test]
async fn a_request_body_that_never_ends_is_408_and_the_connection_is_closed() {
    let app = TestApp::spawn().await;
    app.service("3805", BARNEHAGE, "barnehage").await;
    let ola = app.token("3805", "ola", &[Role::Professional], &[BARNEHAGE]);
    let addr = app.base.trim_start_matches("http://").to_string();
    // The timeout is 5 s (BODY_IDLE_TIMEOUT); 20 s only guards against waiting forever, it is no speed target.
    let bound = Duration::from_secs(20);
    let cases = [
        // The probe's case: Content-Length: 100 and one byte.
        (
            format!("POST /api/v1/cases HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {ola}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"),
            b"{".to_vec(),
            "408",
        ),
        // Through the Idempotency-Key middleware, which reads the body first.
        (
            format!("POST /api/v1/cases HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {ola}\r\nIdempotency-Key: k-1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"),
            b"{".to_vec(),
            "408",
        ),
        // A chunked body whose last chunk never comes.
        (
            format!("POST /api/v1/cases HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {ola}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"),
            b"1\r\n{\r\n".to_vec(),
            "408",
        ),
        // Refused before the body is read: answered, and the unread body does not keep the connection.
        (
            "POST /api/v1/cases HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n".to_string(),
            b"{".to_vec(),
            "401",
        ),
        // The same with a chunked body that never ends, which actix would otherwise drain forever.
        (
            "POST /api/v1/cases HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_string(),
            b"1\r\n{\r\n".to_vec(),
            "401",
        ),
    ];
    for (head, part, status) in cases {
        let addr = addr.clone();
        let (answer, took) = blocking(move || raw_exchange(&addr, head, &part, bound)).await;
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "expected {status}, got: {answer}"
        );
        let lower = answer.to_ascii_lowercase();
        assert!(
            lower.contains("content-type: application/problem+json"),
            "{answer}"
        );
        if status == "408" {
            assert!(lower.contains("connection: close"), "{answer}");
            assert!(
                answer.contains("urn:stafettlogg:problem:request-timeout"),
                "{answer}"
            );
            assert!(
                took >= Duration::from_secs(4),
                "answered before the body timed out: {took:?}"
            );
        }
    }
    assert_eq!(app.count("cases"), 0);
}

// ---- 5. Lock timeouts, deadlocks, terminated connections -----------------------------------------------

/// An app whose connections have these time limits, with one case and its holder's token.
async fn app_with_case(limits: SessionLimits) -> (TestApp, String, String) {
    let app = TestApp::spawn_with(Options {
        session_limits: limits,
        ..Default::default()
    })
    .await;
    app.service("3805", BARNEHAGE, "barnehage").await;
    let ola = app.token("3805", "ola", &[Role::Professional], &[BARNEHAGE]);
    let case = app.open_case(&ola, BARNEHAGE, "Emma").await;
    (app, ola, case["id"].as_str().unwrap().to_string())
}

/// A second connection holding the case's row lock, as a long transaction elsewhere would.
fn lock_case(app: &TestApp, case_id: &str) -> PgConnection {
    let mut conn = app.db();
    conn.batch_execute(&format!(
        "BEGIN; SELECT id FROM cases WHERE id = '{case_id}' FOR UPDATE"
    ))
    .unwrap();
    conn
}

/// Waits (bounded) until some backend of the test database waits for a lock: the API's request.
fn await_lock_waiter(db_url: &str) -> i32 {
    #[derive(QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    let mut conn = PgConnection::establish(db_url).unwrap();
    let started = Instant::now();
    loop {
        let waiting: Vec<Pid> = diesel::sql_query(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
        )
        .load(&mut conn)
        .unwrap();
        if let Some(p) = waiting.first() {
            return p.pid;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the API never waited for the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn retry_after(res: &reqwest::Response) -> u32 {
    res.headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[actix_web::test]
async fn a_lock_timeout_is_503_with_retry_after_and_writes_nothing() {
    let (app, ola, case_id) = app_with_case(SessionLimits {
        lock_timeout: Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    let before = app.table_counts();
    let holder = lock_case(&app, &case_id);
    let res = app
        .post(
            &format!("/api/v1/cases/{case_id}/entries"),
            &ola,
            &entry("Samtale"),
        )
        .await;
    assert!(retry_after(&res) >= 1);
    let p = problem(res, 503).await;
    assert_eq!(p["type"], "urn:stafettlogg:problem:unavailable");
    assert!(
        p["detail"].as_str().unwrap().contains("lock timeout"),
        "{p}"
    );
    drop(holder);
    assert_eq!(app.table_counts(), before, "nothing is written");
}

#[actix_web::test]
async fn a_statement_timeout_is_503_with_retry_after() {
    let (app, ola, case_id) = app_with_case(SessionLimits {
        statement_timeout: Duration::from_millis(300),
        lock_timeout: Duration::ZERO,
    })
    .await;
    let holder = lock_case(&app, &case_id);
    let res = app
        .post(
            &format!("/api/v1/cases/{case_id}/entries"),
            &ola,
            &entry("Samtale"),
        )
        .await;
    assert!(retry_after(&res) >= 1);
    let p = problem(res, 503).await;
    assert!(
        p["detail"].as_str().unwrap().contains("statement timeout"),
        "{p}"
    );
    drop(holder);
    assert_eq!(app.count("log_entries"), 0);
}

#[actix_web::test]
async fn a_deadlock_is_409_with_retry_after_and_writes_nothing() {
    let (app, ola, case_id) = app_with_case(SessionLimits::default()).await;
    let before = app.table_counts();
    // The test holds the change-feed counter, which a new entry updates after it locked its case.
    let mut other = app.db();
    other
        .batch_execute(
            "BEGIN; SET LOCAL deadlock_timeout = '60s'; SELECT * FROM feed_counters FOR UPDATE",
        )
        .unwrap();
    let request = {
        let rb = app
            .request(
                Method::POST,
                &format!("/api/v1/cases/{case_id}/entries"),
                Some(&ola),
            )
            .json(&entry("Samtale"));
        actix_web::rt::spawn(async move { rb.send().await.unwrap() })
    };
    let url = app.db_url.clone();
    blocking(move || await_lock_waiter(&url)).await;
    // Now the test asks for the case the request holds: a cycle. The request's backend has waited longer
    // (and checks after the default deadlock_timeout of 1 s), so PostgreSQL aborts the request.
    let case = case_id.clone();
    let other = blocking(move || {
        other
            .batch_execute(&format!(
                "SELECT id FROM cases WHERE id = '{case}' FOR UPDATE"
            ))
            .unwrap();
        other
    })
    .await;
    let res = request.await.unwrap();
    assert_eq!(retry_after(&res), 1);
    let p = problem(res, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("deadlock"), "{p}");
    drop(other);
    assert_eq!(app.table_counts(), before, "nothing is written");
    // Sent again, it succeeds.
    let res = app
        .post(
            &format!("/api/v1/cases/{case_id}/entries"),
            &ola,
            &entry("Samtale"),
        )
        .await;
    assert_eq!(res.status(), 201);
}

#[actix_web::test]
async fn a_connection_terminated_by_an_administrator_is_503_with_retry_after() {
    let (app, ola, case_id) = app_with_case(SessionLimits::default()).await;
    let holder = lock_case(&app, &case_id);
    let request = {
        let rb = app
            .request(
                Method::POST,
                &format!("/api/v1/cases/{case_id}/entries"),
                Some(&ola),
            )
            .json(&entry("Samtale"));
        actix_web::rt::spawn(async move { rb.send().await.unwrap() })
    };
    let url = app.db_url.clone();
    let pid = blocking(move || await_lock_waiter(&url)).await;
    app.db()
        .batch_execute(&format!("SELECT pg_terminate_backend({pid})"))
        .unwrap();
    let res = request.await.unwrap();
    assert!(retry_after(&res) >= 1);
    problem(res, 503).await;
    drop(holder);
    // The pool replaces the connection.
    let res = app
        .post(
            &format!("/api/v1/cases/{case_id}/entries"),
            &ola,
            &entry("Samtale"),
        )
        .await;
    assert_eq!(res.status(), 201);
}

#[actix_web::test]
async fn connections_lost_while_idle_are_replaced_without_a_503() {
    let (app, ola, case_id) = app_with_case(SessionLimits::default()).await;
    // Several requests at once, so the pool holds several idle connections afterwards.
    let path = format!("/api/v1/cases/{case_id}");
    let reads = (0..4).map(|_| app.get(&path, &ola));
    for res in futures_util::future::join_all(reads).await {
        assert_eq!(res.status(), 200);
    }
    // The database ends every connection of the service, as a restart would. The pool does not test a
    // connection before handing it out; the request finds it lost at `BEGIN` and takes another.
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let ended = diesel::sql_query(
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .get_result::<N>(&mut app.db())
    .unwrap();
    assert!(ended.n >= 1, "the pool had connections");
    for _ in 0..6 {
        let res = app.get(&format!("/api/v1/cases/{case_id}"), &ola).await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }
}

#[actix_web::test]
async fn a_database_that_cannot_be_reached_is_503_with_retry_after() {
    let app = TestApp::spawn_with(Options {
        database_url: Some(
            "postgres://postgres@/nowhere?host=/nonexistent-stafettlogg-socket-dir&port=5432"
                .into(),
        ),
        ..Default::default()
    })
    .await;
    let t = app.token("3805", "ola", &[Role::Professional], &[BARNEHAGE]);
    let res = app
        .get(&format!("/api/v1/cases/{}", uuid::Uuid::now_v7()), &t)
        .await;
    assert!(retry_after(&res) >= 1);
    problem(res, 503).await;
}

// ---- 6. The 503 storm ----------------------------------------------------------------------------------

/// A 503 for a busy pool leaves only after the checkout wait, and once a connection is
/// free every request is served again (nothing keeps failing requests fast, now that the pool no longer
/// tests a connection at checkout). The probe's fast "503s" were 401s for an expired token, which wrk
/// reports only as "Non-2xx" (see benches/wrk-status.lua).
#[actix_web::test]
async fn a_busy_pool_answers_503_only_after_the_checkout_wait_and_then_recovers() {
    let app = TestApp::spawn_with(Options {
        pool_size: 1,
        ..Default::default()
    })
    .await;
    app.service("3805", BARNEHAGE, "barnehage").await;
    let ola = app.token("3805", "ola", &[Role::Professional], &[BARNEHAGE]);
    let case = app.open_case(&ola, BARNEHAGE, "Emma").await;
    let case_id = case["id"].as_str().unwrap().to_string();
    // The pool's only connection waits for a row lock the test holds.
    let holder = lock_case(&app, &case_id);
    let writer = {
        let rb = app
            .request(
                Method::POST,
                &format!("/api/v1/cases/{case_id}/entries"),
                Some(&ola),
            )
            .json(&entry("Samtale"));
        actix_web::rt::spawn(async move { rb.send().await.unwrap() })
    };
    let url = app.db_url.clone();
    blocking(move || await_lock_waiter(&url)).await;

    let export = format!("/api/v1/cases/{case_id}/export");
    let started = Instant::now();
    let answers = futures_util::future::join_all((0..8).map(|_| async {
        let t = Instant::now();
        let res = app.get(&export, &ola).await;
        (t.elapsed(), res)
    }))
    .await;
    for (took, res) in answers {
        assert!(
            took >= Duration::from_millis(2900),
            "a 503 before the checkout wait: {took:?}"
        );
        assert!(took < Duration::from_secs(6), "{took:?}");
        assert!(retry_after(&res) >= 1);
        let p = problem(res, 503).await;
        assert_eq!(p["type"], "urn:stafettlogg:problem:unavailable");
    }
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "the waits overlap"
    );
    drop(holder);
    assert_eq!(writer.await.unwrap().status(), 201);
    // The connection serves again: no fast failures left behind.
    for _ in 0..8 {
        let res = app.get(&export, &ola).await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }
    assert_eq!(
        app.request(Method::GET, "/health/ready", None)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

// ---- 7. What the spec says -----------------------------------------------------------------------------

#[actix_web::test]
async fn if_match_star_empty_and_null_are_answered_as_the_spec_says() {
    let f = family().await;
    let path = f.path("");
    let patch = json!({"concern": "Endret"});
    let send = |value: &'static str| {
        f.app
            .request(Method::PATCH, &path, Some(&f.ola))
            .header("if-match", value)
            .json(&patch)
            .send()
    };
    // `*` names no version: where If-Match is required it is as if none was sent, and the answer says so.
    let p = problem(send("*").await.unwrap(), 428).await;
    assert!(p["detail"].as_str().unwrap().contains("If-Match: *"), "{p}");
    for malformed in ["", "null", "3"] {
        let p = problem(send(malformed).await.unwrap(), 400).await;
        assert_eq!(fields(&p), vec!["If-Match"], "{malformed:?}");
    }
    // A tag that is not the current version is 412, quoting what was sent.
    for other in ["W/\"1\"", "\"abc\"", "\"99\""] {
        let p = problem(send(other).await.unwrap(), 412).await;
        assert!(p["detail"].as_str().unwrap().contains(other), "{p}");
    }
    let etag = f.version().await;
    let res = f
        .app
        .send_if_match(Method::PATCH, &path, &f.ola, &etag, &patch)
        .await;
    assert_eq!(res.status(), 200);
    // A list matches when one of its tags does (RFC 9110).
    let etag = f.version().await;
    let res = f
        .app
        .send_if_match(
            Method::PATCH,
            &path,
            &f.ola,
            &format!("\"99\", {etag}"),
            &patch,
        )
        .await;
    assert_eq!(res.status(), 200);

    // The spec says the same: a required If-Match is a quoted version; `*` is not one.
    let spec: Value = serde_json::from_str(&stafettlogg::api_doc_json()).unwrap();
    let param = spec["paths"]["/api/v1/cases/{id}"]["patch"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "If-Match")
        .unwrap()
        .clone();
    assert_eq!(param["required"], true);
    assert_eq!(param["schema"]["type"], "string");
    let pattern = regex_lite::Regex::new(param["schema"]["pattern"].as_str().unwrap()).unwrap();
    assert!(pattern.is_match(&etag));
    for refused in ["*", "", "null", "3", "W/\"1\""] {
        assert!(!pattern.is_match(refused), "{refused:?}");
    }
    assert!(param["description"].as_str().unwrap().contains("428"));
}

#[actix_web::test]
async fn cursors_are_documented_as_opaque_and_every_issued_one_matches_the_spec() {
    let f = family().await;
    for _ in 0..3 {
        assert_eq!(
            f.post("/entries", &f.ola, &entry("Samtale")).await.status(),
            201
        );
    }
    let spec: Value = serde_json::from_str(&stafettlogg::api_doc_json()).unwrap();
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for op in item.as_object().unwrap().values() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["name"] == "cursor" {
                    assert!(
                        p["description"].as_str().unwrap().contains("Opaque"),
                        "{path}"
                    );
                    assert_eq!(
                        p["schema"]["pattern"],
                        stafettlogg::http::pagination::CURSOR_PATTERN,
                        "{path}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 5);
    let pattern = regex_lite::Regex::new(stafettlogg::http::pagination::CURSOR_PATTERN).unwrap();
    for rest in [
        "/entries?limit=1",
        "/timeline?limit=1",
        "/access-log?limit=1",
    ] {
        let page = f.json(rest, &f.ola).await;
        let cursor = page["next_cursor"].as_str().unwrap();
        assert!(pattern.is_match(cursor), "{rest}: {cursor}");
        assert!(cursor.len() <= stafettlogg::http::pagination::MAX_CURSOR_LENGTH);
        // A cursor that fits the pattern but was not issued here is 400 naming `cursor`.
        let path = rest.replace("limit=1", "cursor=Zm9v");
        let p = problem(f.get(&path, &f.ola).await, 400).await;
        assert_eq!(fields(&p), vec!["cursor"], "{rest}");
    }
}

#[actix_web::test]
async fn national_id_check_digits_are_verified_and_the_spec_says_so() {
    let f = family().await;
    // Eleven digits fit the pattern; the check digits do not match.
    let body = json!({"kind": "guardian", "name": "Mor", "relation": "mother",
        "parental_responsibility": true, "national_id": "14832010083"});
    let p = problem(f.post("/participants", &f.ola, &body).await, 422).await;
    assert_eq!(fields(&p), vec!["national_id"]);
    let spec: Value = serde_json::from_str(&stafettlogg::api_doc_json()).unwrap();
    let schemas = &spec["components"]["schemas"];
    let variant = |kind: &str| {
        schemas["NewParticipant"]["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["properties"]["kind"]["enum"][0] == kind)
            .unwrap_or_else(|| panic!("NewParticipant has a `{kind}` variant"))
            .clone()
    };
    for (name, schema) in [
        ("SubjectInput", schemas["SubjectInput"].clone()),
        ("SubjectPatch", schemas["SubjectPatch"].clone()),
        ("NewParticipant guardian", variant("guardian")),
        ("NewParticipant youth", variant("youth")),
    ] {
        let d = schema["properties"]["national_id"]["description"]
            .as_str()
            .unwrap_or_default();
        assert!(d.contains("check digits"), "{name}: {d}");
    }
}

#[actix_web::test]
async fn a_body_that_was_read_keeps_the_connection_open_for_the_next_request() {
    let app = TestApp::spawn().await;
    let ola = app.token("3805", "ola", &[Role::Professional], &[BARNEHAGE]);
    let addr = app.base.trim_start_matches("http://").to_string();
    let answers = blocking(move || {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let body = r#"{"service": "x"}"#;
        let request = format!(
            "POST /api/v1/cases HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {ola}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut answers = vec![];
        for _ in 0..2 {
            stream.write_all(request.as_bytes()).unwrap();
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap();
            answers.push(String::from_utf8_lossy(&buf[..n]).to_string());
        }
        answers
    })
    .await;
    for answer in &answers {
        assert!(answer.starts_with("HTTP/1.1 422"), "{answer}");
        assert!(
            !answer.to_ascii_lowercase().contains("connection: close"),
            "{answer}"
        );
    }
}
