//! The committed OpenAPI document is what the code generates. Rewrite it with
//! `UPDATE_OPENAPI=1 cargo test contract`.

use serde_json::Value;

#[test]
fn committed_spec_equals_the_generated_one() {
    let generated = stafettlogg::api_doc_json();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test contract` and commit the result"
    );
}

#[test]
fn every_api_operation_documents_security_and_its_errors() {
    let spec: Value = serde_json::from_str(&stafettlogg::api_doc_json()).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.contains_key("500"), "{method} {path}: 500");
            if path.starts_with("/api/") {
                assert!(op["security"].is_array(), "{method} {path}: security");
                for code in ["401", "503"] {
                    assert!(responses.contains_key(code), "{method} {path}: {code}");
                }
            }
            if op.get("requestBody").is_some() {
                for code in ["400", "413", "415", "422"] {
                    assert!(responses.contains_key(code), "{method} {path}: {code}");
                }
            }
        }
    }
    let problem_types = spec["components"]["schemas"]["ProblemType"]["enum"]
        .as_array()
        .unwrap();
    assert!(problem_types.len() >= 12);
}

#[test]
fn validator_bounds_are_in_the_schema() {
    let spec: Value = serde_json::from_str(&stafettlogg::api_doc_json()).unwrap();
    let settings = &spec["components"]["schemas"]["MunicipalityPatch"]["properties"];
    assert_eq!(settings["self_consent_age"]["minimum"], 15);
    assert_eq!(settings["self_consent_age"]["maximum"], 16);
    let subject = &spec["components"]["schemas"]["SubjectInput"]["properties"];
    assert_eq!(subject["given_name"]["maxLength"], 200);
}

#[actix_web::test]
async fn the_server_serves_the_spec_and_the_docs_offline() {
    let app = crate::support::TestApp::spawn().await;
    let res = app
        .request(reqwest::Method::GET, "/openapi.json", None)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let served: Value = res.json().await.unwrap();
    assert_eq!(
        served,
        serde_json::from_str::<Value>(&stafettlogg::api_doc_json()).unwrap()
    );
    let res = app
        .request(reqwest::Method::GET, "/docs/", None)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui"));
    // The page's script and styles come from this server, not a CDN.
    assert!(!html.contains("https://"), "no external assets");
    let res = app
        .request(reqwest::Method::GET, "/docs/swagger-ui-bundle.js", None)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 308);
    assert_eq!(res.headers()["location"], "/docs/");
}
