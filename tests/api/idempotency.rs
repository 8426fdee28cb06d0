//! `Idempotency-Key` on POST: a retried request replays the first answer instead of writing again.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bytea, Text};
use reqwest::{Method, Response};
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::support::{fields, problem, Options, TestApp};

const SERVICE: &str = "barnehage-solstua";

fn case_body(given_name: &str) -> Value {
    json!({
        "service": SERVICE,
        "subject": {"kind": "child", "given_name": given_name, "family_name": "Testesen", "birth_date": "2019-05-01"},
        "concern": "Barnet virker trist og trekker seg unna lek."
    })
}

async fn setup() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    app.service("3805", SERVICE, "barnehage").await;
    let ola = app.token("3805", "ola", &[Role::Professional], &[SERVICE]);
    (app, ola)
}

async fn post_keyed(app: &TestApp, path: &str, token: &str, key: &str, body: &Value) -> Response {
    app.request(Method::POST, path, Some(token))
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

fn header(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

/// Writes a key row as another instance would have left it, for the caller `ola` of tenant 3805.
fn insert_key(app: &TestApp, key: &str, body: &Value, state: &str, locked_ago: &str) {
    use stafettlogg::http::idempotency::rules::{claims_of, fingerprint};
    let ola =
        stafettlogg::auth::Caller::for_tests("3805", "ola", &[Role::Professional], &[SERVICE]);
    let fp = fingerprint(
        "POST",
        "/api/v1/cases",
        None,
        &claims_of(&ola),
        &serde_json::to_vec(body).unwrap(),
    );
    diesel::sql_query(format!(
        "INSERT INTO idempotency_keys (tenant, subject, key, fingerprint, state, claim, locked_at) \
         VALUES ('3805', 'ola', $1, $2, $3, gen_random_uuid(), now() - interval '{locked_ago}')"
    ))
    .bind::<Text, _>(key)
    .bind::<Bytea, _>(fp.to_vec())
    .bind::<Text, _>(state)
    .execute(&mut app.db())
    .unwrap();
}

#[actix_web::test]
async fn the_same_key_and_body_replay_the_first_answer_without_writing_again() {
    let (app, ola) = setup().await;
    let body = case_body("Emma");
    let first = post_keyed(&app, "/api/v1/cases", &ola, "retry-1", &body).await;
    assert_eq!(first.status(), 201);
    assert_eq!(header(&first, "idempotent-replayed"), None);
    let (location, etag, ct) = (
        header(&first, "location").unwrap(),
        header(&first, "etag").unwrap(),
        header(&first, "content-type").unwrap(),
    );
    let first_body = first.text().await.unwrap();

    let second = app
        .request(Method::POST, "/api/v1/cases", Some(&ola))
        .header("idempotency-key", "retry-1")
        .header("x-request-id", "the-retry")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 201);
    assert_eq!(
        header(&second, "idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(header(&second, "location"), Some(location));
    assert_eq!(header(&second, "etag"), Some(etag));
    assert_eq!(header(&second, "content-type"), Some(ct));
    // The request id is the retry's own, not the stored one.
    assert_eq!(
        header(&second, "x-request-id").as_deref(),
        Some("the-retry")
    );
    assert_eq!(second.text().await.unwrap(), first_body);

    assert_eq!(app.count("cases"), 1);
    assert_eq!(app.count("case_participants"), 1);
    assert_eq!(app.count("idempotency_keys WHERE state = 'completed'"), 1);
}

#[actix_web::test]
async fn a_stored_answer_is_sealed_and_one_that_cannot_be_opened_is_refused_not_replayed() {
    let (app, ola) = setup().await;
    let body = case_body("Emma");
    let first = post_keyed(&app, "/api/v1/cases", &ola, "sealed-1", &body).await;
    assert_eq!(first.status(), 201);
    // The child's name, as the answer shows it, is nowhere in the stored row.
    assert!(first.text().await.unwrap().contains("Emma"));
    assert_eq!(app.count("idempotency_keys WHERE key = 'sealed-1' AND position('Emma'::bytea in response_body) > 0"), 0);
    assert_eq!(
        app.count("idempotency_keys WHERE key = 'sealed-1' AND response_body IS NOT NULL"),
        1
    );
    // A body sealed under another key (or none) is not replayed as if it were the answer.
    diesel::connection::SimpleConnection::batch_execute(
        &mut app.db(),
        "UPDATE idempotency_keys SET response_body = '\\x00112233445566778899aabbccddeeff00' WHERE key = 'sealed-1'",
    )
    .unwrap();
    let res = post_keyed(&app, "/api/v1/cases", &ola, "sealed-1", &body).await;
    assert_eq!(fields(&problem(res, 409).await), ["Idempotency-Key"]);
    assert_eq!(app.count("cases"), 1);
}

#[actix_web::test]
async fn a_refused_post_is_replayed_too_even_when_it_would_now_succeed() {
    let app = TestApp::spawn().await;
    let ola = app.token("3805", "ola", &[Role::Professional], &[SERVICE]);
    let body = case_body("Emma");
    // The service is not registered yet: 422.
    let first = post_keyed(&app, "/api/v1/cases", &ola, "refused-1", &body).await;
    let first_problem = problem(first, 422).await;
    assert_eq!(fields(&first_problem), ["service"]);

    app.service("3805", SERVICE, "barnehage").await;
    let again = post_keyed(&app, "/api/v1/cases", &ola, "refused-1", &body).await;
    assert_eq!(
        header(&again, "idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(problem(again, 422).await, first_problem);
    assert_eq!(app.count("cases"), 0);

    // A new key is a new request, and it executes.
    let fresh = post_keyed(&app, "/api/v1/cases", &ola, "refused-2", &body).await;
    assert_eq!(fresh.status(), 201);
    assert_eq!(app.count("cases"), 1);
}

#[actix_web::test]
async fn the_same_key_for_another_request_is_422_naming_the_header_and_writes_nothing() {
    let (app, ola) = setup().await;
    let res = post_keyed(&app, "/api/v1/cases", &ola, "one-use", &case_body("Emma")).await;
    assert_eq!(res.status(), 201);
    let case: Value = res.json().await.unwrap();
    let before = app.table_counts();

    // Another body.
    let res = post_keyed(&app, "/api/v1/cases", &ola, "one-use", &case_body("Nora")).await;
    let p = problem(res, 422).await;
    assert_eq!(fields(&p), ["Idempotency-Key"]);
    assert!(p["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("another request"));

    // Another path.
    let res = post_keyed(
        &app,
        &format!("/api/v1/cases/{}/entries", case["id"].as_str().unwrap()),
        &ola,
        "one-use",
        &json!({"kind": "note", "occurred_at": "2026-11-20T10:00:00Z", "body": "Samtale med mor."}),
    )
    .await;
    assert_eq!(fields(&problem(res, 422).await), ["Idempotency-Key"]);

    // A query parameter the operation does not take is refused before the key is looked at.
    let res = post_keyed(
        &app,
        "/api/v1/cases?x=1",
        &ola,
        "one-use",
        &case_body("Emma"),
    )
    .await;
    assert_eq!(fields(&problem(res, 400).await), ["x"]);

    assert_eq!(app.table_counts(), before);
}

/// A change sent with `If-Match` of version 3 and retried with version 4 is another request: the second
/// is not answered with the first's result.
#[actix_web::test]
async fn the_same_key_with_another_if_match_is_another_request() {
    let (app, ola) = setup().await;
    let res = post_keyed(&app, "/api/v1/cases", &ola, "open", &case_body("Emma")).await;
    assert_eq!(res.status(), 201);
    let case: Value = res.json().await.unwrap();
    let path = format!("/api/v1/cases/{}/close", case["id"].as_str().unwrap());
    let close = |version: &'static str| {
        app.request(Method::POST, &path, Some(&ola))
            .header("idempotency-key", "close-it")
            .header("if-match", version)
            .json(&json!({"reason": "no_need"}))
            .send()
    };
    // The stale version: 412, kept as the key's answer (the client's own mistake).
    assert_eq!(close("\"0\"").await.unwrap().status(), 412);
    let res = close("\"1\"").await.unwrap();
    assert_eq!(fields(&problem(res, 422).await), ["Idempotency-Key"]);
}

#[actix_web::test]
async fn a_key_whose_first_request_is_still_running_is_409_with_retry_after() {
    let (app, ola) = setup().await;
    let body = case_body("Emma");
    insert_key(&app, "busy-1", &body, "in_flight", "5 seconds");
    let res = post_keyed(&app, "/api/v1/cases", &ola, "busy-1", &body).await;
    assert_eq!(header(&res, "retry-after").as_deref(), Some("1"));
    assert_eq!(fields(&problem(res, 409).await), ["Idempotency-Key"]);
    assert_eq!(app.count("cases"), 0);
    assert_eq!(app.count("idempotency_keys WHERE state = 'in_flight'"), 1);
}

#[actix_web::test]
async fn an_in_flight_key_not_refreshed_for_a_minute_is_abandoned_and_taken_over() {
    let (app, ola) = setup().await;
    let body = case_body("Emma");
    insert_key(&app, "crashed-1", &body, "in_flight", "2 minutes");
    let res = post_keyed(&app, "/api/v1/cases", &ola, "crashed-1", &body).await;
    assert_eq!(res.status(), 201);
    assert_eq!(header(&res, "idempotent-replayed"), None);
    assert_eq!(app.count("cases"), 1);
    assert_eq!(
        app.count("idempotency_keys WHERE state = 'completed' AND response_status = 201"),
        1
    );
    // Abandoned or not, the key still belongs to its first request.
    insert_key(&app, "crashed-2", &body, "in_flight", "2 minutes");
    let res = post_keyed(&app, "/api/v1/cases", &ola, "crashed-2", &case_body("Nora")).await;
    assert_eq!(fields(&problem(res, 422).await), ["Idempotency-Key"]);
}

#[actix_web::test]
async fn identical_requests_racing_with_one_key_execute_once() {
    let app = TestApp::spawn_with(Options {
        workers: 2,
        pool_size: 8,
        ..Default::default()
    })
    .await;
    app.service("3805", SERVICE, "barnehage").await;
    let ola = app.token("3805", "ola", &[Role::Professional], &[SERVICE]);
    let url = format!("{}/api/v1/cases", app.base);
    let body = case_body("Emma");
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let request = app
                .client
                .post(&url)
                .bearer_auth(&ola)
                .header("idempotency-key", "race-1")
                .json(&body);
            actix_web::rt::spawn(async move {
                let res = request.send().await.unwrap();
                let replayed = res.headers().contains_key("idempotent-replayed");
                (res.status().as_u16(), replayed, res.text().await.unwrap())
            })
        })
        .collect();
    let mut results = Vec::new();
    for racer in racers {
        results.push(racer.await.unwrap());
    }
    assert_eq!(app.count("cases"), 1, "{results:?}");
    let executed: Vec<_> = results.iter().filter(|(s, r, _)| *s == 201 && !r).collect();
    assert_eq!(executed.len(), 1, "{results:?}");
    for (status, replayed, text) in &results {
        match status {
            201 => assert_eq!(text, &executed[0].2),
            409 => assert!(!replayed),
            other => panic!("unexpected {other}: {text}"),
        }
    }
}

/// The issue's case: the record system gives up waiting, and retries. The first request still finishes and
/// stores its answer, and the retry gets that answer instead of a second case.
#[actix_web::test]
async fn a_client_that_times_out_and_retries_gets_the_first_answer() {
    let (app, ola) = setup().await;
    let body = case_body("Emma");
    // Hold the first request inside its handler: opening a case waits for this lock.
    let mut blocker = app.db();
    blocker
        .batch_execute("BEGIN; LOCK TABLE cases IN EXCLUSIVE MODE")
        .unwrap();
    let gave_up = app
        .request(Method::POST, "/api/v1/cases", Some(&ola))
        .header("idempotency-key", "slow-1")
        .json(&body)
        .timeout(std::time::Duration::from_millis(500))
        .send()
        .await;
    assert!(gave_up.unwrap_err().is_timeout());
    let early = post_keyed(&app, "/api/v1/cases", &ola, "slow-1", &body).await;
    assert_eq!(
        problem(early, 409).await["errors"][0]["field"],
        "Idempotency-Key"
    );

    blocker.batch_execute("COMMIT").unwrap();
    for _ in 0..100 {
        if app.count("idempotency_keys WHERE state = 'completed'") == 1 {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let retry = post_keyed(&app, "/api/v1/cases", &ola, "slow-1", &body).await;
    assert_eq!(retry.status(), 201);
    assert_eq!(
        header(&retry, "idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(app.count("cases"), 1);
}

#[actix_web::test]
async fn a_key_belongs_to_its_caller() {
    let (app, ola) = setup().await;
    app.service("5001", SERVICE, "barnehage").await;
    let kari = app.token("3805", "kari", &[Role::Professional], &[SERVICE]);
    let ola_elsewhere = app.token("5001", "ola", &[Role::Professional], &[SERVICE]);
    let body = case_body("Emma");
    let mut ids = Vec::new();
    for token in [&ola, &kari, &ola_elsewhere] {
        let res = post_keyed(&app, "/api/v1/cases", token, "shared-key", &body).await;
        assert_eq!(res.status(), 201);
        assert_eq!(header(&res, "idempotent-replayed"), None);
        let case: Value = res.json().await.unwrap();
        ids.push(case["id"].as_str().unwrap().to_string());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert_eq!(app.count("cases"), 3);
    assert_eq!(app.count("idempotency_keys WHERE key = 'shared-key'"), 3);
}

/// A replay runs no access rule, so it answers only the token that was answered: the same `sub` in a
/// token for a service the case was never shared with, or in a guardian's login, may not read the
/// entry, and gets 422 for the key instead of the stored entry. The first token still gets its replay.
#[actix_web::test]
async fn a_key_is_replayed_only_to_a_token_with_the_same_roles_services_and_national_id() {
    let (app, ola) = setup().await;
    app.service("3805", "helse-nord", "helsestasjon").await;
    let res = post_keyed(&app, "/api/v1/cases", &ola, "open-1", &case_body("Emma")).await;
    assert_eq!(res.status(), 201);
    let case: Value = res.json().await.unwrap();
    let entries = format!("/api/v1/cases/{}/entries", case["id"].as_str().unwrap());
    let note =
        json!({"kind": "note", "occurred_at": "2026-11-20T10:00:00Z", "body": "Samtale med mor."});
    let res = post_keyed(&app, &entries, &ola, "note-1", &note).await;
    assert_eq!(res.status(), 201);
    let entry: Value = res.json().await.unwrap();

    let ola_in_health = app.token("3805", "ola", &[Role::Professional], &["helse-nord"]);
    let ola_as_guardian = app.citizen_token("ola", Role::Guardian, "15868550187");
    for token in [&ola_in_health, &ola_as_guardian] {
        let res = app
            .get(
                &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
                token,
            )
            .await;
        assert_eq!(res.status(), 404, "this token may not read the case");
        let res = post_keyed(&app, &entries, token, "note-1", &note).await;
        assert_eq!(header(&res, "idempotent-replayed"), None);
        let p = problem(res, 422).await;
        assert_eq!(fields(&p), ["Idempotency-Key"]);
        assert!(!p.to_string().contains("Samtale"), "{p}");
    }
    assert_eq!(app.count("log_entries"), 1);

    let res = post_keyed(&app, &entries, &ola, "note-1", &note).await;
    assert_eq!(header(&res, "idempotent-replayed").as_deref(), Some("true"));
    let replayed: Value = res.json().await.unwrap();
    assert_eq!(replayed["id"], entry["id"]);
}

#[actix_web::test]
async fn a_key_that_is_empty_too_long_or_not_visible_ascii_is_400_naming_the_header() {
    let (app, ola) = setup().await;
    let body = case_body("Emma");
    let long = "k".repeat(256);
    let bad: [&[u8]; 5] = [
        b"",
        long.as_bytes(),
        b"with space",
        "bl\u{e5}b\u{e6}r".as_bytes(),
        b"tab\there",
    ];
    for key in bad {
        let res = app
            .request(Method::POST, "/api/v1/cases", Some(&ola))
            .header(
                "idempotency-key",
                reqwest::header::HeaderValue::from_bytes(key).unwrap(),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        let p = problem(res, 400).await;
        assert_eq!(fields(&p), ["Idempotency-Key"], "{key:?}");
    }
    let res = app
        .request(Method::POST, "/api/v1/cases", Some(&ola))
        .header("idempotency-key", "a")
        .header("idempotency-key", "b")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(fields(&problem(res, 400).await), ["Idempotency-Key"]);
    assert_eq!(app.count("cases"), 0);
    assert_eq!(app.count("idempotency_keys"), 0);

    let res = post_keyed(&app, "/api/v1/cases", &ola, &"k".repeat(255), &body).await;
    assert_eq!(res.status(), 201);
}

#[actix_web::test]
async fn a_key_used_through_one_instance_is_replayed_by_another() {
    let (app, ola) = setup().await;
    let body = case_body("Emma");
    let first = post_keyed(&app, "/api/v1/cases", &ola, "two-instances", &body).await;
    assert_eq!(first.status(), 201);
    let first_body = first.text().await.unwrap();

    let other = TestApp::spawn_with(Options {
        database_url: Some(app.db_url.clone()),
        ..Default::default()
    })
    .await;
    let res = post_keyed(&other, "/api/v1/cases", &ola, "two-instances", &body).await;
    assert_eq!(res.status(), 201);
    assert_eq!(header(&res, "idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(res.text().await.unwrap(), first_body);
    assert_eq!(app.count("cases"), 1);
}

#[actix_web::test]
async fn after_24_hours_a_key_executes_again() {
    let (app, ola) = setup().await;
    let body = case_body("Emma");
    let res = post_keyed(&app, "/api/v1/cases", &ola, "daily", &body).await;
    assert_eq!(res.status(), 201);
    // 23 hours on, it still replays.
    diesel::sql_query("UPDATE idempotency_keys SET created_at = now() - interval '23 hours'")
        .execute(&mut app.db())
        .unwrap();
    let res = post_keyed(&app, "/api/v1/cases", &ola, "daily", &body).await;
    assert_eq!(header(&res, "idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(app.count("cases"), 1);

    diesel::sql_query("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
        .execute(&mut app.db())
        .unwrap();
    let res = post_keyed(&app, "/api/v1/cases", &ola, "daily", &body).await;
    assert_eq!(res.status(), 201);
    assert_eq!(header(&res, "idempotent-replayed"), None);
    assert_eq!(app.count("cases"), 2);
    // The key now holds the new answer, kept another 24 hours.
    assert_eq!(
        app.count("idempotency_keys WHERE created_at > now() - interval '1 minute'"),
        1
    );
}

#[actix_web::test]
async fn expired_keys_are_cleaned_up_and_fresh_ones_kept() {
    let (app, ola) = setup().await;
    for key in ["old-1", "old-2", "new-1"] {
        let res = post_keyed(&app, "/api/v1/cases", &ola, key, &case_body(key)).await;
        assert_eq!(res.status(), 201);
    }
    diesel::sql_query(
        "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key LIKE 'old-%'",
    )
    .execute(&mut app.db())
    .unwrap();
    let deleted = stafettlogg::http::idempotency::store::delete_expired(&mut app.db()).unwrap();
    assert_eq!(deleted, 2);
    assert_eq!(app.count("idempotency_keys"), 1);
    assert_eq!(app.count("idempotency_keys WHERE key = 'new-1'"), 1);
}

#[actix_web::test]
async fn a_server_error_releases_the_key_so_a_retry_executes() {
    let (app, ola) = setup().await;
    let body = case_body("Emma");
    let mut db = app.db();
    diesel::sql_query("ALTER TABLE cases RENAME TO cases_elsewhere")
        .execute(&mut db)
        .unwrap();
    let res = post_keyed(&app, "/api/v1/cases", &ola, "after-500", &body).await;
    problem(res, 500).await;
    assert_eq!(app.count("idempotency_keys"), 0);

    diesel::sql_query("ALTER TABLE cases_elsewhere RENAME TO cases")
        .execute(&mut db)
        .unwrap();
    let res = post_keyed(&app, "/api/v1/cases", &ola, "after-500", &body).await;
    assert_eq!(res.status(), 201);
    assert_eq!(header(&res, "idempotent-replayed"), None);
    assert_eq!(app.count("cases"), 1);
}

#[actix_web::test]
async fn without_a_valid_token_nothing_is_stored_and_the_answer_is_401() {
    let (app, _) = setup().await;
    let body = case_body("Emma");
    for token in [None, Some("not-a-token")] {
        for key in ["k-1", ""] {
            let res = app
                .request(Method::POST, "/api/v1/cases", token)
                .header("idempotency-key", key)
                .json(&body)
                .send()
                .await
                .unwrap();
            problem(res, 401).await;
        }
    }
    assert_eq!(app.count("idempotency_keys"), 0);
}

#[actix_web::test]
async fn a_post_without_the_header_is_untouched() {
    let (app, ola) = setup().await;
    for _ in 0..2 {
        let res = app.post("/api/v1/cases", &ola, &case_body("Emma")).await;
        assert_eq!(res.status(), 201);
        assert_eq!(header(&res, "idempotent-replayed"), None);
    }
    assert_eq!(app.count("cases"), 2);
    assert_eq!(app.count("idempotency_keys"), 0);
}

#[actix_web::test]
async fn a_replay_and_a_refused_key_reach_a_browser_front_end() {
    let origin = "https://app.kommune.no";
    let app = TestApp::spawn_with(Options {
        cors_origins: vec![origin.into()],
        ..Default::default()
    })
    .await;
    app.service("3805", SERVICE, "barnehage").await;
    let ola = app.token("3805", "ola", &[Role::Professional], &[SERVICE]);
    let send = |key: &'static str| {
        app.request(Method::POST, "/api/v1/cases", Some(&ola))
            .header("origin", origin)
            .header("idempotency-key", key)
            .json(&case_body("Emma"))
            .send()
    };
    assert_eq!(send("browser-1").await.unwrap().status(), 201);
    for (key, status) in [("browser-1", 201), ("with space", 400)] {
        let res = send(key).await.unwrap();
        assert_eq!(res.status(), status);
        assert_eq!(
            header(&res, "access-control-allow-origin").as_deref(),
            Some(origin)
        );
        let exposed = header(&res, "access-control-expose-headers").unwrap_or_default();
        assert!(exposed.contains("idempotent-replayed"), "{exposed}");
    }
}
