//! The municipality's settings, services and level definitions.

use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::support::{fields, problem, TestApp};

#[actix_web::test]
async fn a_municipality_is_created_with_defaults_and_the_four_standard_levels_on_first_use() {
    let app = TestApp::spawn().await;
    let t = app.token("3805", "ola", &[Role::Professional], &[]);
    let res = app.get("/api/v1/municipality", &t).await;
    assert_eq!(res.status(), 200);
    let m: Value = res.json().await.unwrap();
    assert_eq!(m["number"], "3805");
    assert_eq!(m["self_consent_age"], 15);
    assert_eq!(m["level0_deadline_days"], 14);
    assert_eq!(m["consent_validity_months"], 12);
    let levels: Value = app.get("/api/v1/levels", &t).await.json().await.unwrap();
    let names: Vec<&str> = levels["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Undring / bekymring",
            "Tiltak i egen tjeneste",
            "Tverrfaglig samarbeid",
            "Utvidet tverrfaglig samarbeid"
        ]
    );
}

#[actix_web::test]
async fn only_admins_change_settings_and_bounds_are_enforced() {
    let app = TestApp::spawn().await;
    let prof = app.token("3805", "ola", &[Role::Professional], &[]);
    let admin = app.token("3805", "admin", &[Role::Admin], &[]);
    let res = app
        .request(Method::PATCH, "/api/v1/municipality", Some(&prof))
        .json(&json!({"self_consent_age": 16}))
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
    let res = app
        .request(Method::PATCH, "/api/v1/municipality", Some(&admin))
        .json(&json!({"self_consent_age": 12, "level0_deadline_days": 0}))
        .send()
        .await
        .unwrap();
    let p = problem(res, 422).await;
    assert_eq!(fields(&p), vec!["level0_deadline_days", "self_consent_age"]);
    let res = app
        .request(Method::PATCH, "/api/v1/municipality", Some(&admin))
        .header("if-match", "\"1\"")
        .json(&json!({"self_consent_age": 16, "name": "Larvik"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let m: Value = res.json().await.unwrap();
    assert_eq!(
        (
            m["self_consent_age"].as_i64(),
            m["name"].as_str(),
            m["version"].as_i64()
        ),
        (Some(16), Some("Larvik"), Some(2))
    );
    let stale = app
        .request(Method::PATCH, "/api/v1/municipality", Some(&admin))
        .header("if-match", "\"1\"")
        .json(&json!({"name": "X"}))
        .send()
        .await
        .unwrap();
    problem(stale, 412).await;
}

#[actix_web::test]
async fn services_are_registered_by_admins_with_unique_codes() {
    let app = TestApp::spawn().await;
    let admin = app.token("3805", "admin", &[Role::Admin], &[]);
    let prof = app.token("3805", "ola", &[Role::Professional], &[]);
    let body = json!({"code": "skole-bakke", "name": "Bakke skole", "kind": "skole", "org_number": "123456789"});
    problem(app.post("/api/v1/services", &prof, &body).await, 403).await;
    let res = app.post("/api/v1/services", &admin, &body).await;
    assert_eq!(res.status(), 201);
    let s: Value = res.json().await.unwrap();
    problem(app.post("/api/v1/services", &admin, &body).await, 409).await;
    let p = problem(
        app.post(
            "/api/v1/services",
            &admin,
            &json!({"code": "Bad Code", "name": "x", "kind": "sykehus"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(fields(&p), vec!["kind"]);
    let p = problem(
        app.post(
            "/api/v1/services",
            &admin,
            &json!({"code": "Bad Code", "name": "x", "kind": "skole", "org_number": "12"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(fields(&p), vec!["code", "org_number"]);

    let path = format!("/api/v1/services/{}", s["id"].as_str().unwrap());
    let res = app
        .request(Method::PATCH, &path, Some(&admin))
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let list: Value = app
        .get("/api/v1/services?active=true", &prof)
        .await
        .json()
        .await
        .unwrap();
    assert!(list["items"].as_array().unwrap().is_empty());
    let list: Value = app
        .get("/api/v1/services", &prof)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["active"], false);
    problem(
        app.request(
            Method::PATCH,
            &format!("/api/v1/services/{}", uuid::Uuid::now_v7()),
            Some(&admin),
        )
        .json(&json!({"active": true}))
        .send()
        .await
        .unwrap(),
        404,
    )
    .await;
}

#[actix_web::test]
async fn an_admin_renames_a_level_and_writes_guidance() {
    let app = TestApp::spawn().await;
    let admin = app.token("3805", "admin", &[Role::Admin], &[]);
    let body = json!({"name": "Nivå 2: Samarbeid", "description": "To tjenester", "guidance": "1. Kall inn til stafettmøte."});
    let res = app
        .request(Method::PUT, "/api/v1/levels/2", Some(&admin))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let levels: Value = app
        .get("/api/v1/levels", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(levels["items"][2]["name"], "Nivå 2: Samarbeid");
    assert_eq!(
        levels["items"][2]["guidance"],
        "1. Kall inn til stafettmøte."
    );
    problem(
        app.request(Method::PUT, "/api/v1/levels/7", Some(&admin))
            .json(&body)
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    let prof = app.token("3805", "ola", &[Role::Professional], &[]);
    problem(
        app.request(Method::PUT, "/api/v1/levels/1", Some(&prof))
            .json(&body)
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
}
