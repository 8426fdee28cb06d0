//! The action guide: the public guide, editing and publishing it, and each case's step.

use std::net::TcpListener;

use reqwest::{Method, Response};
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::support::{fields, problem, synthetic_id, Options, TestApp};

const BARNEHAGE: &str = "barnehage-solstua";

fn admin(app: &TestApp, tenant: &str) -> String {
    app.token(tenant, "anne", &[Role::Admin], &[])
}

async fn public(app: &TestApp, path: &str) -> Response {
    app.request(Method::GET, path, None).send().await.unwrap()
}

async fn public_json(app: &TestApp, path: &str) -> Value {
    let res = public(app, path).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

/// The project's default guide, as an admin starts from it.
pub async fn default_document(app: &TestApp) -> Value {
    public_json(app, "/public/v1/municipalities/9999/guide/document").await
}

async fn put_draft(app: &TestApp, token: &str, etag: Option<&str>, doc: &Value) -> Response {
    let mut rb = app
        .request(Method::PUT, "/api/v1/guide/draft", Some(token))
        .json(doc);
    if let Some(etag) = etag {
        rb = rb.header("if-match", etag);
    }
    rb.send().await.unwrap()
}

fn etag_of(res: &Response) -> String {
    res.headers()["etag"].to_str().unwrap().to_string()
}

/// Writes `doc` as the draft (whatever its version) and publishes it; returns the version number.
pub async fn publish(app: &TestApp, tenant: &str, doc: &Value) -> i64 {
    let token = admin(app, tenant);
    let res = app.get("/api/v1/guide/draft", &token).await;
    let etag = res
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string());
    let res = put_draft(app, &token, etag.as_deref(), doc).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let res = app
        .request(Method::POST, "/api/v1/guide/publish", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let v: Value = res.json().await.unwrap();
    v["version"].as_i64().unwrap()
}

fn step_keys(guide: &Value, level: usize) -> Vec<String> {
    guide["levels"][level]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn the_default_guide_is_served_to_a_valid_unknown_municipality_and_a_malformed_number_is_404()
{
    let app = TestApp::spawn().await;
    let res = public(&app, "/public/v1/municipalities/9999/guide").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "public, max-age=60");
    assert!(res.headers().contains_key("etag"));
    let guide: Value = res.json().await.unwrap();
    assert_eq!(guide["municipality"], "9999");
    assert_eq!(guide["version"], 0);
    assert_eq!(guide["published_at"], Value::Null);
    assert_eq!(
        (guide["audience"].as_str(), guide["lang"].as_str()),
        (Some("employee"), Some("nb"))
    );
    let levels: Vec<i64> = guide["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["level"].as_i64().unwrap())
        .collect();
    assert_eq!(levels, [0, 1, 2, 3]);
    assert_eq!(guide["levels"][0]["name"], "Undring / bekymring");
    assert_eq!(step_keys(&guide, 0), ["0.1", "0.2", "0.3", "0.4", "0.5"]);
    assert_eq!(guide["services"], json!([]));
    for bad in ["38a5", "03805", "380", "3805%20"] {
        let res = public(&app, &format!("/public/v1/municipalities/{bad}/guide")).await;
        problem(res, 404).await;
    }
    problem(
        public(&app, "/public/v1/municipalities/3805/guide?audience=parent").await,
        400,
    )
    .await;
}

#[actix_web::test]
async fn audience_and_language_select_the_texts_with_nynorsk_falling_back_to_bokmal() {
    let app = TestApp::spawn().await;
    let youth = public_json(
        &app,
        "/public/v1/municipalities/3805/guide?audience=youth&lang=nn",
    )
    .await;
    assert_eq!(step_keys(&youth, 0), ["0.u1", "0.u2"]);
    assert_eq!(
        youth["levels"][0]["steps"][0]["title"],
        "Sei det til ein vaksen"
    );
    let adult = public_json(&app, "/public/v1/municipalities/3805/guide?audience=adult").await;
    assert_eq!(step_keys(&adult, 0), ["0.v1", "0.v2"]);
    assert_eq!(
        adult["levels"][0]["steps"][0]["title"],
        "Snakk med noen du stoler på"
    );

    // A municipality's own text without nynorsk: nynorsk readers get bokmål there.
    let mut doc = default_document(&app).await;
    doc["levels"][0]["steps"][0]["title"] = json!({"nb": "Bare på bokmål"});
    publish(&app, "3805", &doc).await;
    let nn = public_json(&app, "/public/v1/municipalities/3805/guide?lang=nn").await;
    assert_eq!(nn["lang"], "nn");
    assert_eq!(nn["levels"][0]["steps"][0]["title"], "Bare på bokmål");
    assert_eq!(
        nn["levels"][0]["steps"][1]["title"],
        "Drøft med ein kollega eller leiar"
    );
}

#[actix_web::test]
async fn publishing_makes_a_new_version_and_leaves_the_old_readable() {
    let app = TestApp::spawn().await;
    let anne = admin(&app, "3805");
    // Before any draft, the draft is where an edit starts: the default guide.
    let draft: Value = app
        .get("/api/v1/guide/draft", &anne)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (draft["source"].as_str(), &draft["version"]),
        (Some("default"), &Value::Null)
    );
    let mut doc = draft["document"].clone();
    doc["levels"][1]["steps"][0]["title"]["nb"] = json!("Første utgave");
    let res = put_draft(&app, &anne, None, &doc).await;
    assert_eq!(res.status(), 200);
    assert_eq!(etag_of(&res), "\"1\"");
    // Once a draft exists, a change must name the version it changes.
    problem(put_draft(&app, &anne, None, &doc).await, 428).await;
    problem(put_draft(&app, &anne, Some("\"7\""), &doc).await, 412).await;
    let res = app
        .request(Method::POST, "/api/v1/guide/publish", Some(&anne))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["location"], "/api/v1/guide/versions/1");

    doc["levels"][1]["steps"][0]["title"]["nb"] = json!("Andre utgave");
    let res = put_draft(&app, &anne, Some("\"1\""), &doc).await;
    assert_eq!(etag_of(&res), "\"2\"");
    let res = app
        .request(Method::POST, "/api/v1/guide/publish", Some(&anne))
        .header("if-match", "\"2\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let versions: Value = app
        .get("/api/v1/guide/versions", &anne)
        .await
        .json()
        .await
        .unwrap();
    let numbers: Vec<i64> = versions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1]);
    let old: Value = app
        .get("/api/v1/guide/versions/1", &anne)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        old["document"]["levels"][1]["steps"][0]["title"]["nb"],
        "Første utgave"
    );
    problem(app.get("/api/v1/guide/versions/3", &anne).await, 404).await;
    // The public guide shows the new version at once on this instance.
    let guide = public_json(&app, "/public/v1/municipalities/3805/guide").await;
    assert_eq!(guide["version"], 2);
    assert_eq!(guide["levels"][1]["steps"][0]["title"], "Andre utgave");

    // Another municipality starts from this one's published guide: export, import as its draft.
    let exported = public_json(&app, "/public/v1/municipalities/3805/guide/document").await;
    let other = admin(&app, "5401");
    let res = put_draft(&app, &other, None, &exported).await;
    assert_eq!(res.status(), 200);
    let draft: Value = res.json().await.unwrap();
    assert_eq!(draft["document"], exported);
}

#[actix_web::test]
async fn a_non_admin_cannot_edit_or_publish_the_guide() {
    let app = TestApp::spawn().await;
    app.service("3805", BARNEHAGE, "barnehage").await;
    let ola = app.token("3805", "ola", &[Role::Professional], &[BARNEHAGE]);
    let doc = default_document(&app).await;
    problem(put_draft(&app, &ola, None, &doc).await, 403).await;
    let res = app
        .request(Method::POST, "/api/v1/guide/publish", Some(&ola))
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
    problem(app.get("/api/v1/guide/draft", &ola).await, 403).await;
    let res = app
        .request(Method::PUT, "/api/v1/guide/draft", None)
        .json(&doc)
        .send()
        .await
        .unwrap();
    problem(res, 401).await;
    assert_eq!(app.count("guide_drafts"), 0);
}

#[actix_web::test]
async fn if_none_match_gives_304_until_the_guide_changes() {
    let app = TestApp::spawn().await;
    let path = "/public/v1/municipalities/3805/guide?audience=adult";
    let first = public(&app, path).await;
    let etag = etag_of(&first);
    let res = app
        .request(Method::GET, path, None)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    assert_eq!(etag_of(&res), etag);
    assert_eq!(res.headers()["cache-control"], "public, max-age=60");
    assert!(res.bytes().await.unwrap().is_empty());

    // A service with contact details joins the page: the tag changes.
    let anne = admin(&app, "3805");
    let res = app
        .post(
            "/api/v1/services",
            &anne,
            &json!({"code": "helsestasjon", "name": "Helsestasjonen", "kind": "helsestasjon",
                "contact": {"phone": "+47 77 00 00 00", "email": "helsestasjon@kommune.no"}}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let res = app
        .request(Method::GET, path, None)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_ne!(etag_of(&res), etag);
    let guide: Value = res.json().await.unwrap();
    assert_eq!(
        guide["services"],
        json!([{"code": "helsestasjon", "name": "Helsestasjonen", "kind": "helsestasjon",
            "contact": {"phone": "+47 77 00 00 00", "email": "helsestasjon@kommune.no"}}])
    );
}

/// The round trips the public guide's requests sent, from the service's own metric.
async fn guide_round_trips(url: &str) -> u64 {
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    text.lines()
        .filter(|l| l.starts_with("stafettlogg_db_round_trips_total{"))
        .filter(|l| l.contains("route=\"/public/v1/municipalities/{number}/guide\""))
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
        .sum()
}

#[actix_web::test]
async fn the_public_guide_costs_no_round_trip_while_its_cached_version_is_current() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/metrics", listener.local_addr().unwrap());
    let app = TestApp::spawn_with(Options {
        metrics_listener: Some(listener),
        ..Default::default()
    })
    .await;
    public_json(&app, "/public/v1/municipalities/3805/guide").await;
    let after_first = guide_round_trips(&url).await;
    assert!(after_first > 0, "the first request reads the database");
    for audience in ["employee", "adult", "youth", "employee"] {
        public_json(
            &app,
            &format!("/public/v1/municipalities/3805/guide?audience={audience}"),
        )
        .await;
    }
    assert_eq!(
        guide_round_trips(&url).await,
        after_first,
        "cached answers send no statement"
    );
}

/// A case whose guardians consented to the kindergarten, so it may leave level 0.
async fn case_with_consent(app: &TestApp) -> (String, String) {
    app.service("3805", BARNEHAGE, "barnehage").await;
    let ola = app.token("3805", "ola", &[Role::Professional], &[BARNEHAGE]);
    let case = app.open_case(&ola, BARNEHAGE, "Emma").await;
    let id = case["id"].as_str().unwrap().to_string();
    let mother: Value = app
        .post(
            &format!("/api/v1/cases/{id}/participants"),
            &ola,
            &json!({"kind": "guardian", "name": "Kari Testesen", "relation": "mother",
                "parental_responsibility": true, "national_id": synthetic_id(2)}),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = app
        .post(
            &format!("/api/v1/cases/{id}/consents"),
            &ola,
            &json!({"given_by": [mother["id"]], "services": [BARNEHAGE], "purpose": "Samarbeid",
                "valid_from": stafettlogg::clock::today(), "form": "written"}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    (ola, id)
}

async fn read_case(app: &TestApp, token: &str, id: &str) -> (Value, String) {
    let res = app.get(&format!("/api/v1/cases/{id}"), token).await;
    assert_eq!(res.status(), 200);
    let etag = etag_of(&res);
    (res.json().await.unwrap(), etag)
}

async fn move_step(
    app: &TestApp,
    token: &str,
    id: &str,
    etag: Option<&str>,
    key: &str,
) -> Response {
    let mut rb = app
        .request(
            Method::POST,
            &format!("/api/v1/cases/{id}/steps"),
            Some(token),
        )
        .json(&json!({"key": key, "note": "Snakket med foreldrene"}));
    if let Some(etag) = etag {
        rb = rb.header("if-match", etag);
    }
    rb.send().await.unwrap()
}

#[actix_web::test]
async fn a_case_walks_the_steps_of_its_level_and_a_level_change_starts_at_the_first_step() {
    let app = TestApp::spawn().await;
    let (ola, id) = case_with_consent(&app).await;
    let (case, etag) = read_case(&app, &ola, &id).await;
    assert_eq!(
        case["guide_step"],
        json!({"level": 0, "key": "0.1", "title": "Legg merke til undringen", "guide_version": 0})
    );
    assert_eq!(
        case["next_step"],
        json!({"key": "0.2", "title": "Drøft med en kollega eller leder"})
    );

    problem(move_step(&app, &ola, &id, None, "0.3").await, 428).await;
    for wrong in ["1.1", "0.v1", "7.7"] {
        let p = problem(move_step(&app, &ola, &id, Some(&etag), wrong).await, 422).await;
        assert_eq!(fields(&p), ["key"]);
    }
    let res = move_step(&app, &ola, &id, Some(&etag), "0.3").await;
    assert_eq!(res.status(), 201);
    let moved: Value = res.json().await.unwrap();
    assert_eq!(
        (moved["key"].as_str(), moved["next_step"]["key"].as_str()),
        (Some("0.3"), Some("0.4"))
    );
    let (case, etag) = read_case(&app, &ola, &id).await;
    assert_eq!(case["guide_step"]["key"], "0.3");
    assert_eq!(case["next_step"]["key"], "0.4");

    let timeline: Value = app
        .get(&format!("/api/v1/cases/{id}/timeline"), &ola)
        .await
        .json()
        .await
        .unwrap();
    let step = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "step.moved")
        .unwrap();
    assert_eq!(step["summary"], "Step 0.3: Snakk med barnet og foreldrene");
    let feed = app.token("3805", "skolesystem", &[Role::Integration], &[BARNEHAGE]);
    assert!(app
        .feed_types(&feed)
        .await
        .contains(&"step.moved".to_string()));

    // Level 1: the case stands on the first step of level 1, in the same change.
    let res = app
        .send_if_match(
            Method::POST,
            &format!("/api/v1/cases/{id}/level-changes"),
            &ola,
            &etag,
            &json!({"to_level": 1, "reason": "Tiltak i barnehagen", "decided_on": stafettlogg::clock::today()}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let (case, etag) = read_case(&app, &ola, &id).await;
    assert_eq!(case["guide_step"]["level"], 1);
    assert_eq!(case["guide_step"]["key"], "1.1");
    assert_eq!(case["next_step"]["key"], "1.2");
    // The last step of a level has no next step.
    let res = move_step(&app, &ola, &id, Some(&etag), "1.3").await;
    assert_eq!(res.status(), 201);
    let (case, _) = read_case(&app, &ola, &id).await;
    assert_eq!(case["next_step"], Value::Null);
}

#[actix_web::test]
async fn a_case_on_a_step_removed_in_a_newer_version_still_reads() {
    let app = TestApp::spawn().await;
    let doc = default_document(&app).await;
    assert_eq!(publish(&app, "3805", &doc).await, 1);
    let (ola, id) = case_with_consent(&app).await;
    let (case, etag) = read_case(&app, &ola, &id).await;
    assert_eq!(case["guide_step"]["guide_version"], 1);
    assert_eq!(
        move_step(&app, &ola, &id, Some(&etag), "0.5")
            .await
            .status(),
        201
    );

    // Version 2 drops step 0.5 and renames 0.4.
    let mut newer = doc.clone();
    newer["levels"][0]["steps"]
        .as_array_mut()
        .unwrap()
        .retain(|s| s["key"] != "0.5");
    newer["levels"][0]["steps"][3]["title"]["nb"] = json!("Samtykke før noe deles");
    assert_eq!(publish(&app, "3805", &newer).await, 2);

    let (case, etag) = read_case(&app, &ola, &id).await;
    assert_eq!(
        case["guide_step"],
        json!({"level": 0, "key": "0.5", "title": "Bestem videre handling", "guide_version": 1})
    );
    let p = problem(move_step(&app, &ola, &id, Some(&etag), "0.5").await, 422).await;
    assert_eq!(fields(&p), ["key"]);
    assert_eq!(
        move_step(&app, &ola, &id, Some(&etag), "0.4")
            .await
            .status(),
        201
    );
    let (case, _) = read_case(&app, &ola, &id).await;
    assert_eq!(
        case["guide_step"],
        json!({"level": 0, "key": "0.4", "title": "Samtykke før noe deles", "guide_version": 2})
    );
    assert_eq!(case["next_step"], Value::Null);
}

#[actix_web::test]
async fn bad_drafts_are_422_naming_the_field_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let anne = admin(&app, "3805");
    let doc = default_document(&app).await;
    let mut cases: Vec<(Value, &str)> = vec![];
    let mut dup = doc.clone();
    dup["levels"][1]["steps"][0]["key"] = json!("0.1");
    cases.push((dup, "levels[1].steps[0].key"));
    let mut untitled = doc.clone();
    untitled["levels"][0]["steps"][1]["title"] = json!({"nb": ""});
    cases.push((untitled, "levels[0].steps[1].title.nb"));
    let mut no_title = doc.clone();
    no_title["levels"][0]["steps"][1]
        .as_object_mut()
        .unwrap()
        .remove("title");
    cases.push((no_title, "levels[0].steps[1].title"));
    let mut kind = doc.clone();
    kind["levels"][0]["steps"][0]["tools"][0]["kind"] = json!("video");
    cases.push((kind, "levels[0].steps[0].tools[0].kind"));
    let mut level = doc.clone();
    level["levels"][2]["level"] = json!(4);
    cases.push((level, "levels[2].level"));
    let mut long = doc.clone();
    long["levels"][3]["steps"][0]["body"]["nb"] = json!("x".repeat(20_001));
    cases.push((long, "levels[3].steps[0].body.nb"));
    for (bad, field) in cases {
        let p = problem(put_draft(&app, &anne, None, &bad).await, 422).await;
        assert!(fields(&p).contains(&field.to_string()), "{field}: {p}");
    }
    assert_eq!(app.count("guide_drafts"), 0);
    assert_eq!(app.count("guide_versions"), 0);
    // Nothing to publish yet.
    let res = app
        .request(Method::POST, "/api/v1/guide/publish", Some(&anne))
        .send()
        .await
        .unwrap();
    problem(res, 409).await;
}
