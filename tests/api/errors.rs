//! Every class of failure answers with problem+json that names what is wrong.

use reqwest::Method;
use serde_json::json;
use stafettlogg::auth::Role;

use crate::support::{fields, problem, Options, TestApp};

async fn professional(app: &TestApp) -> String {
    app.service("3805", "barnehage-solstua", "barnehage").await;
    app.token("3805", "ola", &[Role::Professional], &["barnehage-solstua"])
}

#[actix_web::test]
async fn malformed_json_is_400() {
    let app = TestApp::spawn().await;
    let t = professional(&app).await;
    let res = app
        .request(Method::POST, "/api/v1/cases", Some(&t))
        .header("content-type", "application/json")
        .body("{\"service\": ")
        .send()
        .await
        .unwrap();
    let p = problem(res, 400).await;
    assert_eq!(p["type"], "urn:stafettlogg:problem:malformed-request");
}

#[actix_web::test]
async fn unknown_field_is_422_naming_it() {
    let app = TestApp::spawn().await;
    let t = professional(&app).await;
    let body = json!({"service": "barnehage-solstua", "concern": "x", "sevrice": "typo",
        "subject": {"kind": "child", "given_name": "A", "family_name": "B"}});
    let p = problem(app.post("/api/v1/cases", &t, &body).await, 422).await;
    assert_eq!(fields(&p), vec!["sevrice"]);
}

#[actix_web::test]
async fn unknown_nested_field_is_422_with_its_path() {
    let app = TestApp::spawn().await;
    let t = professional(&app).await;
    let body = json!({"service": "barnehage-solstua", "concern": "x",
        "subject": {"kind": "child", "given_name": "A", "family_name": "B", "shoe_size": 30}});
    let p = problem(app.post("/api/v1/cases", &t, &body).await, 422).await;
    assert_eq!(fields(&p), vec!["subject.shoe_size"]);
}

#[actix_web::test]
async fn wrong_type_is_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let t = professional(&app).await;
    let body = json!({"service": "barnehage-solstua", "concern": 42,
        "subject": {"kind": "child", "given_name": "A", "family_name": "B"}});
    let p = problem(app.post("/api/v1/cases", &t, &body).await, 422).await;
    assert_eq!(fields(&p), vec!["concern"]);
}

#[actix_web::test]
async fn missing_field_and_bad_enum_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let t = professional(&app).await;
    let body = json!({"service": "barnehage-solstua", "subject": {"kind": "child", "given_name": "A", "family_name": "B"}});
    let p = problem(app.post("/api/v1/cases", &t, &body).await, 422).await;
    assert_eq!(fields(&p), vec!["concern"]);
    let body = json!({"service": "barnehage-solstua", "concern": "x",
        "subject": {"kind": "alien", "given_name": "A", "family_name": "B"}});
    let p = problem(app.post("/api/v1/cases", &t, &body).await, 422).await;
    assert_eq!(fields(&p), vec!["subject.kind"]);
}

#[actix_web::test]
async fn validation_bounds_are_422_naming_each_field() {
    let app = TestApp::spawn().await;
    let t = professional(&app).await;
    let body = json!({"service": "barnehage-solstua", "concern": "",
        "subject": {"kind": "child", "given_name": "", "family_name": "B", "birth_date": "2999-01-01"}});
    let p = problem(app.post("/api/v1/cases", &t, &body).await, 422).await;
    assert_eq!(
        fields(&p),
        vec!["concern", "subject.birth_date", "subject.given_name"]
    );
}

#[actix_web::test]
async fn bad_uuid_in_path_is_400() {
    let app = TestApp::spawn().await;
    let t = professional(&app).await;
    let p = problem(app.get("/api/v1/cases/not-a-uuid", &t).await, 400).await;
    assert_eq!(fields(&p), vec!["path"]);
}

#[actix_web::test]
async fn bad_query_parameters_are_400_naming_them() {
    let app = TestApp::spawn().await;
    let t = professional(&app).await;
    let p = problem(app.get("/api/v1/cases?level=high", &t).await, 400).await;
    assert_eq!(fields(&p), vec!["level"]);
    let p = problem(app.get("/api/v1/cases?stauts=open", &t).await, 400).await;
    assert_eq!(fields(&p), vec!["stauts"]);
    let p = problem(app.get("/api/v1/cases?limit=500", &t).await, 400).await;
    assert_eq!(fields(&p), vec!["limit"]);
    let p = problem(app.get("/api/v1/cases?cursor=%%%", &t).await, 400).await;
    assert_eq!(fields(&p), vec!["cursor"]);
    let p = problem(app.get("/api/v1/cases?limit=1&limit=2", &t).await, 400).await;
    assert_eq!(fields(&p), vec!["limit"]);
    // Operations that take no query parameters, or other ones, refuse a misspelt one alike.
    for (path, field) in [
        ("/api/v1/consultations?limt=10", "limt"),
        ("/api/v1/levels?x=1", "x"),
        ("/api/v1/c%61ses?limit=1&x=1", "x"),
        ("/api/v1/me/meetings?from=2026-01-01", "from"),
        (
            "/public/v1/municipalities/3805/guide?audience=adult&sprak=nn",
            "sprak",
        ),
    ] {
        let p = problem(app.get(path, &t).await, 400).await;
        assert_eq!(fields(&p), vec![field], "{path}");
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("not a query parameter"),
            "{p}"
        );
    }
    // Declared ones pass.
    assert_eq!(app.get("/api/v1/cases?limit=1", &t).await.status(), 200);
}

#[actix_web::test]
async fn unknown_route_is_404_and_wrong_method_is_405_with_allow() {
    let app = TestApp::spawn().await;
    let t = professional(&app).await;
    problem(app.get("/api/v1/nothing-here", &t).await, 404).await;
    let res = app
        .request(Method::DELETE, "/api/v1/cases", Some(&t))
        .send()
        .await
        .unwrap();
    let allow = res
        .headers()
        .get("allow")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    problem(res, 405).await;
    let res = app
        .request(
            Method::PUT,
            &format!("/api/v1/cases/{}", uuid::Uuid::now_v7()),
            Some(&t),
        )
        .send()
        .await
        .unwrap();
    problem(res, 405).await;
}

#[actix_web::test]
async fn wrong_content_type_is_415() {
    let app = TestApp::spawn().await;
    let t = professional(&app).await;
    let res = app
        .request(Method::POST, "/api/v1/cases", Some(&t))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    problem(res, 415).await;
}

#[actix_web::test]
async fn body_over_the_limit_is_413_and_writes_nothing() {
    let app = TestApp::spawn_with(Options {
        body_limit: 4096,
        ..Default::default()
    })
    .await;
    let t = professional(&app).await;
    let body = json!({"service": "barnehage-solstua", "concern": "x".repeat(5000),
        "subject": {"kind": "child", "given_name": "A", "family_name": "B"}});
    problem(app.post("/api/v1/cases", &t, &body).await, 413).await;
    assert_eq!(app.count("cases"), 0);
}

#[actix_web::test]
async fn database_down_answers_503_fast() {
    let app = TestApp::spawn_with(Options {
        database_url: Some(
            "postgres://postgres@/nowhere?host=/nonexistent-stafettlogg-socket-dir&port=5432"
                .into(),
        ),
        ..Default::default()
    })
    .await;
    let t = app.token("3805", "ola", &[Role::Professional], &["barnehage-solstua"]);
    let started = std::time::Instant::now();
    problem(
        app.request(Method::GET, "/health/ready", None)
            .send()
            .await
            .unwrap(),
        503,
    )
    .await;
    problem(
        app.get(&format!("/api/v1/cases/{}", uuid::Uuid::now_v7()), &t)
            .await,
        503,
    )
    .await;
    // Not a speed target: a guard that the answer comes at all instead of hanging.
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[actix_web::test]
async fn every_response_carries_a_request_id_and_echoes_a_given_one() {
    let app = TestApp::spawn().await;
    let res = app
        .request(Method::GET, "/health/live", None)
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");
    let res = app
        .request(Method::GET, "/health/live", None)
        .header("x-request-id", "bad id <script>")
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], "bad id <script>");
}
