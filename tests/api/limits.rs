//! Rate limits (OWASP API4): a caller's reads and writes, and the routes without a token per client
//! address, each a token bucket; over it, 429 with `Retry-After`; every counted answer says where the
//! caller stands (`RateLimit-Policy`, `RateLimit`), and the spec says so too.

use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;
use stafettlogg::http::rate_limit::{Budget, RateLimits};

use crate::support::{problem, Options, TestApp};

const GUIDE: &str = "/public/v1/municipalities/3805/guide";

fn budget(burst: u32) -> Option<Budget> {
    Some(Budget {
        per_minute: 6,
        burst,
    })
}

async fn limited(trusted_proxies: Vec<std::net::IpAddr>) -> TestApp {
    TestApp::spawn_with(Options {
        rate_limits: RateLimits {
            reads: budget(5),
            writes: budget(3),
            public: budget(4),
            trusted_proxies,
        },
        ..Default::default()
    })
    .await
}

fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[actix_web::test]
async fn a_burst_over_a_callers_budget_is_429_with_retry_after_and_a_second_caller_is_not_slowed() {
    let app = limited(vec![]).await;
    let ola = app.token("3805", "ola", &[Role::Professional], &["barnehage-solstua"]);
    let kari = app.token(
        "3805",
        "kari",
        &[Role::Professional],
        &["barnehage-solstua"],
    );
    for left in (0..5).rev() {
        let res = app.get("/api/v1/me", &ola).await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            header(&res, "ratelimit-policy"),
            "\"reads\";q=6;w=60;burst=5"
        );
        assert!(
            header(&res, "ratelimit").starts_with(&format!("\"reads\";r={left};t=")),
            "{}",
            header(&res, "ratelimit")
        );
    }
    let res = app.get("/api/v1/me", &ola).await;
    let retry: u64 = header(&res, "retry-after").parse().unwrap();
    assert!((1..=10).contains(&retry), "{retry}");
    let p = problem(res, 429).await;
    assert_eq!(p["type"], "urn:stafettlogg:problem:too-many-requests");
    assert!(p["detail"].as_str().unwrap().contains("reads"), "{p}");
    // Another caller has a budget of her own; the same caller's writes are counted apart from reads.
    assert_eq!(app.get("/api/v1/me", &kari).await.status(), 200);
    let res = app
        .post(
            "/api/v1/webhooks",
            &ola,
            &json!({"url": "https://192.0.2.1/h", "events": ["case.opened"]}),
        )
        .await;
    assert_ne!(res.status(), 429);
    assert_eq!(
        header(&res, "ratelimit-policy"),
        "\"writes\";q=6;w=60;burst=3"
    );
    // A request without a valid token is not counted against anyone.
    let res = app
        .request(Method::GET, "/api/v1/me", Some("not-a-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[actix_web::test]
async fn the_public_guide_is_limited_per_client_address() {
    let app = limited(vec![]).await;
    for _ in 0..4 {
        let res = app.request(Method::GET, GUIDE, None).send().await.unwrap();
        assert_ne!(res.status(), 429);
        assert!(header(&res, "ratelimit").starts_with("\"public\";"));
    }
    // A forwarded address from a peer that is no trusted proxy changes nothing.
    let res = app
        .request(Method::GET, GUIDE, None)
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(!header(&res, "retry-after").is_empty());
    // An authenticated caller's budget is her own, not the address's.
    let ola = app.token("3805", "ola", &[Role::Professional], &["barnehage-solstua"]);
    assert_eq!(app.get("/api/v1/me", &ola).await.status(), 200);
}

#[actix_web::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let app = limited(vec!["127.0.0.1".parse().unwrap()]).await;
    for client in ["203.0.113.1", "203.0.113.2"] {
        for _ in 0..4 {
            let res = app
                .request(Method::GET, GUIDE, None)
                .header("x-forwarded-for", client)
                .send()
                .await
                .unwrap();
            assert_ne!(res.status(), 429, "{client}");
        }
    }
    let res = app
        .request(Method::GET, GUIDE, None)
        .header("x-forwarded-for", "203.0.113.1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
}

#[actix_web::test]
async fn every_operation_declares_its_rate_limit_headers_and_its_429() {
    let spec: Value = serde_json::from_str(&stafettlogg::api_doc_json()).expect("the spec is JSON");
    let mut missing = vec![];
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            if !responses.contains_key("429") {
                missing.push(format!("{method} {path}: 429"));
            }
            for (code, response) in responses {
                let response = match response.get("$ref").and_then(Value::as_str) {
                    Some(r) => &spec["components"]["responses"][r.rsplit('/').next().unwrap()],
                    None => response,
                };
                if (code.starts_with('2') || code.starts_with('4'))
                    && response["headers"].get("RateLimit").is_none()
                {
                    missing.push(format!("{method} {path} {code}: RateLimit"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
    let too_many = &spec["components"]["responses"]["TooManyRequests"];
    assert!(too_many["headers"].get("Retry-After").is_some());
}
