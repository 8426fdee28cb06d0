//! 401 for every way a token can be wrong; tenants never see each other's data.

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use stafettlogg::auth::Role;

use crate::support::{fixture_bytes, problem, TestApp, SECRET};

fn b64(v: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

async fn status_of(app: &TestApp, token: Option<&str>) -> u16 {
    app.request(Method::GET, "/api/v1/me", token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[actix_web::test]
async fn a_valid_token_is_accepted() {
    let app = TestApp::spawn().await;
    let t = app.token("3805", "ola", &[Role::Professional], &["barnehage-solstua"]);
    let res = app.get("/api/v1/me", &t).await;
    assert_eq!(res.status(), 200);
    let me: serde_json::Value = res.json().await.unwrap();
    assert_eq!(me["tenant"], "3805");
    assert_eq!(me["user_id"], "ola");
    assert_eq!(me["roles"], serde_json::json!(["professional"]));
}

#[actix_web::test]
async fn missing_token_is_401() {
    let app = TestApp::spawn().await;
    let res = app
        .request(Method::GET, "/api/v1/me", None)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    problem(res, 401).await;
    let res = app
        .request(Method::GET, "/api/v1/me", None)
        .header("authorization", "Basic b2xhOnB3")
        .send()
        .await
        .unwrap();
    problem(res, 401).await;
}

#[actix_web::test]
async fn expired_token_is_401() {
    let app = TestApp::spawn().await;
    let mut c = app.claims("3805", "ola", &[Role::Professional]);
    c.exp = jsonwebtoken::get_current_timestamp() - 300;
    let t = app.jwt.mint(&c).unwrap();
    let p = problem(app.get("/api/v1/me", &t).await, 401).await;
    assert!(p["detail"].as_str().unwrap().contains("expired"));
}

/// The development claims of `app` with `change` applied, signed with the development secret.
fn hs256_with(app: &TestApp, change: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut c = serde_json::to_value(app.claims("3805", "ola", &[Role::Professional])).unwrap();
    change(&mut c);
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &c,
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

#[actix_web::test]
async fn a_token_not_yet_valid_by_nbf_is_401() {
    let app = TestApp::spawn().await;
    let now = jsonwebtoken::get_current_timestamp();
    // The probe's case: valid only in an hour.
    let t = hs256_with(&app, |c| c["nbf"] = serde_json::json!(now + 3600));
    let p = problem(app.get("/api/v1/me", &t).await, 401).await;
    assert!(p["detail"].as_str().unwrap().contains("nbf"), "{p}");
    // Just past the 30-s leeway: refused; within it (clock skew): accepted.
    let t = hs256_with(&app, |c| c["nbf"] = serde_json::json!(now + 90));
    assert_eq!(status_of(&app, Some(&t)).await, 401);
    let t = hs256_with(&app, |c| c["nbf"] = serde_json::json!(now + 10));
    assert_eq!(status_of(&app, Some(&t)).await, 200);
    let t = hs256_with(&app, |c| c["nbf"] = serde_json::json!(now - 60));
    assert_eq!(status_of(&app, Some(&t)).await, 200);
    // An `nbf` that is not a number is not ignored.
    let t = hs256_with(&app, |c| c["nbf"] = serde_json::json!("tomorrow"));
    assert_eq!(status_of(&app, Some(&t)).await, 401);
}

#[actix_web::test]
async fn a_token_issued_in_the_future_is_401() {
    let app = TestApp::spawn().await;
    let now = jsonwebtoken::get_current_timestamp();
    // The probe's case: issued a year from now.
    let t = hs256_with(&app, |c| {
        c["iat"] = serde_json::json!(now + 365 * 24 * 3600)
    });
    let p = problem(app.get("/api/v1/me", &t).await, 401).await;
    assert!(p["detail"].as_str().unwrap().contains("iat"), "{p}");
    let t = hs256_with(&app, |c| c["iat"] = serde_json::json!(now + 90));
    assert_eq!(status_of(&app, Some(&t)).await, 401);
    let t = hs256_with(&app, |c| c["iat"] = serde_json::json!(now + 10));
    assert_eq!(status_of(&app, Some(&t)).await, 200);
}

#[actix_web::test]
async fn a_token_without_exp_is_401() {
    let app = TestApp::spawn().await;
    let t = hs256_with(&app, |c| {
        c.as_object_mut().unwrap().remove("exp");
    });
    let p = problem(app.get("/api/v1/me", &t).await, 401).await;
    assert!(p["detail"].as_str().unwrap().contains("claim"), "{p}");
}

#[actix_web::test]
async fn wrong_audience_is_401() {
    let app = TestApp::spawn().await;
    let mut c = app.claims("3805", "ola", &[Role::Professional]);
    c.aud = "another-service".into();
    let t = app.jwt.mint(&c).unwrap();
    let p = problem(app.get("/api/v1/me", &t).await, 401).await;
    assert!(p["detail"].as_str().unwrap().contains("audience"));
}

#[actix_web::test]
async fn wrong_issuer_is_401() {
    let app = TestApp::spawn().await;
    let mut c = app.claims("3805", "ola", &[Role::Professional]);
    c.iss = "https://evil.example".into();
    let t = app.jwt.mint(&c).unwrap();
    let p = problem(app.get("/api/v1/me", &t).await, 401).await;
    assert!(p["detail"].as_str().unwrap().contains("issuer"));
}

#[actix_web::test]
async fn alg_none_is_401() {
    let app = TestApp::spawn().await;
    let c = serde_json::to_value(app.claims("3805", "ola", &[Role::Professional])).unwrap();
    for alg in ["none", "None", "NONE"] {
        let t = format!(
            "{}.{}.",
            b64(&serde_json::json!({"alg": alg, "typ": "JWT"})),
            b64(&c)
        );
        assert_eq!(status_of(&app, Some(&t)).await, 401, "alg {alg}");
    }
}

#[actix_web::test]
async fn tampered_token_is_401() {
    let app = TestApp::spawn().await;
    let t = app.token("3805", "ola", &[Role::Professional], &[]);
    let parts: Vec<&str> = t.split('.').collect();
    // Same signature, but the payload now claims the admin role in another municipality.
    let mut c = serde_json::to_value(app.claims("5401", "ola", &[Role::Admin])).unwrap();
    c["exp"] = serde_json::json!(jsonwebtoken::get_current_timestamp() + 600);
    let forged = format!("{}.{}.{}", parts[0], b64(&c), parts[2]);
    assert_eq!(status_of(&app, Some(&forged)).await, 401);
    assert_eq!(status_of(&app, Some("not.a.token")).await, 401);
    assert_eq!(status_of(&app, Some(&format!("{t}x"))).await, 401);
}

#[actix_web::test]
async fn hs256_signed_with_another_secret_is_401() {
    let app = TestApp::spawn().await;
    let c = app.claims("3805", "ola", &[Role::Professional]);
    let t = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &c,
        &EncodingKey::from_secret(b"guessed-secret-guessed-secret-guessed"),
    )
    .unwrap();
    assert_eq!(status_of(&app, Some(&t)).await, 401);
    let ok = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &c,
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap();
    assert_eq!(status_of(&app, Some(&ok)).await, 200);
}

#[actix_web::test]
async fn rs256_and_es256_tokens_from_configured_keys_are_accepted() {
    let app = TestApp::spawn().await;
    let c = app.claims("3805", "ola", &[Role::Professional]);
    let rs = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &c,
        &EncodingKey::from_rsa_pem(&fixture_bytes("rsa-private.pem")).unwrap(),
    )
    .unwrap();
    assert_eq!(status_of(&app, Some(&rs)).await, 200);
    let es = jsonwebtoken::encode(
        &Header::new(Algorithm::ES256),
        &c,
        &EncodingKey::from_ec_pem(&fixture_bytes("ec-private.pem")).unwrap(),
    )
    .unwrap();
    assert_eq!(status_of(&app, Some(&es)).await, 200);
}

#[actix_web::test]
async fn algorithm_confusion_with_the_public_key_as_hmac_secret_is_401() {
    let app = TestApp::spawn().await;
    let c = app.claims("3805", "ola", &[Role::Professional]);
    let public_pem = fixture_bytes("rsa-public.pem");
    let t = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &c,
        &EncodingKey::from_secret(&public_pem),
    )
    .unwrap();
    assert_eq!(status_of(&app, Some(&t)).await, 401);
    // And an algorithm outside the allow-list, even with a key of the right family.
    let rs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::RS512),
        &c,
        &EncodingKey::from_rsa_pem(&fixture_bytes("rsa-private.pem")).unwrap(),
    )
    .unwrap();
    assert_eq!(status_of(&app, Some(&rs512)).await, 401);
}

#[actix_web::test]
async fn token_without_a_valid_tenant_is_401() {
    let app = TestApp::spawn().await;
    let c = app.claims("38O5", "ola", &[Role::Professional]);
    let t = app.jwt.mint(&c).unwrap();
    assert_eq!(status_of(&app, Some(&t)).await, 401);
}

#[actix_web::test]
async fn a_token_of_3805_never_sees_data_of_5401() {
    let app = TestApp::spawn().await;
    app.service("5401", "skole-tromsdalen", "skole").await;
    app.service("3805", "skole-tromsdalen", "skole").await;
    let kari_5401 = app.token("5401", "kari", &[Role::Professional], &["skole-tromsdalen"]);
    let case = app.open_case(&kari_5401, "skole-tromsdalen", "Nora").await;
    let id = case["id"].as_str().unwrap();

    // Same user id, same service code, same roles: only the municipality differs.
    let kari_3805 = app.token(
        "3805",
        "kari",
        &[Role::Professional, Role::Admin],
        &["skole-tromsdalen"],
    );
    problem(
        app.get(&format!("/api/v1/cases/{id}"), &kari_3805).await,
        404,
    )
    .await;
    let list: serde_json::Value = app
        .get("/api/v1/cases", &kari_3805)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let body = serde_json::json!({"concern": "overtatt"});
    let res = app
        .request(
            Method::PATCH,
            &format!("/api/v1/cases/{id}"),
            Some(&kari_3805),
        )
        .header("if-match", "\"1\"")
        .json(&body)
        .send()
        .await
        .unwrap();
    problem(res, 404).await;
    let services: serde_json::Value = app
        .get("/api/v1/services", &kari_3805)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(services["items"].as_array().unwrap().len(), 1);
    assert_ne!(services["items"][0]["id"], serde_json::Value::Null);
    // And the 5401 token still sees its own case.
    assert_eq!(
        app.get(&format!("/api/v1/cases/{id}"), &kari_5401)
            .await
            .status(),
        200
    );
}
