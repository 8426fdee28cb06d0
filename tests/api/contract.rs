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
fn every_api_post_documents_the_idempotency_key() {
    let spec: Value = serde_json::from_str(&stafettlogg::api_doc_json()).unwrap();
    let mut posts = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(op) = item.get("post").filter(|_| path.starts_with("/api/")) else {
            continue;
        };
        if stafettlogg::http::idempotency::not_stored(path) {
            // Its answer holds a secret shown once, or its request an anonymous answer: no key is
            // taken, so none is documented.
            assert!(!op.to_string().contains("Idempotency-Key"), "POST {path}");
            continue;
        }
        posts += 1;
        let header = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == "Idempotency-Key")
            .unwrap_or_else(|| panic!("POST {path}: Idempotency-Key"));
        assert_eq!(header["in"], "header", "POST {path}");
        assert_eq!(header["required"], false, "POST {path}");
        assert_eq!(header["schema"]["minLength"], 1, "POST {path}");
        assert_eq!(header["schema"]["maxLength"], 255, "POST {path}");
        let responses = op["responses"].as_object().unwrap();
        for code in ["400", "409", "422"] {
            assert!(responses.contains_key(code), "POST {path}: {code}");
        }
    }
    assert!(posts >= 10, "{posts} POST operations");
    // Only POST takes the key.
    assert!(spec["paths"]["/api/v1/cases"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["name"] != "Idempotency-Key"));
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
    let init = app
        .request(reqwest::Method::GET, "/docs/swagger-initializer.js", None)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        init.contains(r#""validatorUrl": "none""#),
        "the online validator is off: {init}"
    );
    for page in [&html, &init] {
        assert_eq!(external_hosts(page), Vec::<String>::new(), "{page}");
    }
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

fn check_spec(spec: &std::path::Path) -> std::process::Output {
    let python = crate::tools::python();
    std::process::Command::new(python)
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/contract/check_spec.py"))
        .arg(spec)
        .output()
        .expect("run tests/contract/check_spec.py")
}

#[test]
fn the_committed_spec_is_valid_openapi_3_1_by_an_independent_validator() {
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    let out = check_spec(&spec);
    assert!(
        out.status.success(),
        "openapi-spec-validator and the $ref/example checks refuse the spec:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The checker must be able to fail: a dangling `$ref` and a closed variant under `allOf` (the two
/// defects clients met) are both reported.
#[test]
fn the_spec_check_refuses_a_dangling_ref_and_an_unsatisfiable_schema() {
    let mut spec: Value = serde_json::from_str(&stafettlogg::api_doc_json()).unwrap();
    let schemas = spec["components"]["schemas"].as_object_mut().unwrap();
    schemas.remove("HolderFilter");
    schemas.insert(
        "Broken".into(),
        serde_json::json!({"oneOf": [{"allOf": [
            {"$ref": "#/components/schemas/ArchivedInput"},
            {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}}}
        ]}]}),
    );
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("broken-openapi.json");
    std::fs::write(&path, serde_json::to_vec(&spec).unwrap()).unwrap();
    let out = check_spec(&path);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "a broken spec passed: {report}");
    assert!(
        report.contains("HolderFilter resolves to nothing"),
        "{report}"
    );
    assert!(report.contains("ArchivedInput is closed"), "{report}");
}

/// Examples in the spec pass the server's own validation, not only their pattern.
#[test]
fn national_id_examples_pass_the_check_digits() {
    let spec: Value = serde_json::from_str(&stafettlogg::api_doc_json()).unwrap();
    let mut seen = 0;
    let mut stack = vec![&spec];
    while let Some(node) = stack.pop() {
        match node {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    if let Some(example) = props.get("national_id").and_then(|p| p.get("example")) {
                        let id = example.as_str().unwrap();
                        assert!(
                            stafettlogg::national_id::NationalId::parse(id).is_ok(),
                            "example national id {id} fails the check digits"
                        );
                        seen += 1;
                    }
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    assert!(seen > 0, "the spec shows an example national id");
}

/// Hosts other than this machine named in a page (`http(s)://host`).
fn external_hosts(text: &str) -> Vec<String> {
    let re = regex_lite::Regex::new(r"(?i)\b(?:https?:)?//([a-z0-9.-]+\.[a-z]{2,})").unwrap();
    re.captures_iter(text)
        .map(|c| c[1].to_string())
        .filter(|h| h != "localhost")
        .collect()
}

#[test]
fn the_external_host_check_sees_the_swagger_validator() {
    assert_eq!(
        external_hosts(r#"validatorUrl: "https://validator.swagger.io/validator""#),
        vec!["validator.swagger.io"]
    );
    assert!(external_hosts("url: \"/openapi.json\", http://127.0.0.1:8080").is_empty());
}

/// The words the spec allows in `schema`'s `field`: its enum, directly or behind a `$ref`.
fn enum_of_field(spec: &Value, schema: &str, field: &str) -> Vec<String> {
    let mut property = &spec["components"]["schemas"][schema]["properties"][field];
    if let Some(target) = property["$ref"].as_str() {
        let name = target.trim_start_matches("#/components/schemas/");
        property = &spec["components"]["schemas"][name];
    }
    property["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{schema}.{field} is an enum in the spec: {property}"))
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

/// Every word of a text enum, in its order.
fn words_of<T: strum::VariantArray + Copy + Into<&'static str>>() -> Vec<String> {
    T::VARIANTS
        .iter()
        .map(|v| (*v).into().to_string())
        .collect()
}

/// A generated client gets closed lists where the service writes closed lists, every word of them.
#[test]
fn the_words_the_service_writes_are_closed_lists_in_the_spec() {
    use stafettlogg::access_log::store::{Action, Basis, Resource};
    use stafettlogg::changes::api::ChangeType;
    let spec: Value = serde_json::from_str(&stafettlogg::api_doc_json()).unwrap();
    assert_eq!(
        enum_of_field(&spec, "Change", "type"),
        words_of::<ChangeType>()
    );
    assert_eq!(
        enum_of_field(&spec, "AccessEvent", "action"),
        words_of::<Action>()
    );
    assert_eq!(
        enum_of_field(&spec, "AccessEvent", "resource"),
        words_of::<Resource>()
    );
    assert_eq!(
        enum_of_field(&spec, "AccessEvent", "basis"),
        words_of::<Basis>()
    );
}
