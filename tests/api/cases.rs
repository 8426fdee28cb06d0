//! Cases: open, list with keyset pages, read with ETag, change with If-Match, close; the access log.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::support::{fields, problem, synthetic_id, TestApp};

const SERVICE: &str = "barnehage-solstua";

async fn setup() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    app.service("3805", SERVICE, "barnehage").await;
    let t = app.token("3805", "ola", &[Role::Professional], &[SERVICE]);
    (app, t)
}

#[actix_web::test]
async fn rule_1_opening_a_case_starts_at_level_0_with_the_creator_as_holder() {
    let (app, ola) = setup().await;
    let res = app
        .post(
            "/api/v1/cases",
            &ola,
            &json!({"service": SERVICE, "concern": "Bekymring for språk.",
                "subject": {"kind": "child", "given_name": "Emma", "family_name": "Testesen", "birth_date": "2020-02-03"},
                "external_refs": [{"system": "visma-flyt", "id": "B-17"}]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(res.headers()["etag"], "\"1\"");
    let case: Value = res.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/v1/cases/{}", case["id"].as_str().unwrap())
    );
    assert_eq!(case["level"], 0);
    assert_eq!(case["status"], "open");
    assert_eq!(case["holder"]["user_id"], "ola");
    assert_eq!(case["holder"]["service"], SERVICE);
    assert_eq!(case["opened_in_service"], SERVICE);
    assert_eq!(
        case["external_refs"],
        json!([{"system": "visma-flyt", "id": "B-17"}])
    );
    // The level-0 deadline comes from the municipality's default of 14 days.
    let due = chrono::NaiveDate::parse_from_str(case["decision_due"].as_str().unwrap(), "%Y-%m-%d")
        .unwrap();
    assert_eq!((due - stafettlogg::clock::today()).num_days(), 14);
    assert_eq!(
        app.count("case_participants WHERE kind = 'professional' AND user_id = 'ola' AND active"),
        1
    );
}

#[actix_web::test]
async fn the_level0_deadline_follows_the_municipality_setting() {
    let (app, ola) = setup().await;
    let admin = app.token("3805", "admin", &[Role::Admin], &[]);
    let res = app
        .request(Method::PATCH, "/api/v1/municipality", Some(&admin))
        .json(&json!({"level0_deadline_days": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let case = app.open_case(&ola, SERVICE, "Emma").await;
    let due = chrono::NaiveDate::parse_from_str(case["decision_due"].as_str().unwrap(), "%Y-%m-%d")
        .unwrap();
    assert_eq!((due - stafettlogg::clock::today()).num_days(), 7);
}

#[actix_web::test]
async fn a_case_opens_only_in_one_of_the_callers_services_and_a_registered_one() {
    let (app, ola) = setup().await;
    let body = |service: &str| json!({"service": service, "concern": "x", "subject": {"kind": "child", "given_name": "A", "family_name": "B"}});
    let p = problem(
        app.post("/api/v1/cases", &ola, &body("skole-annen")).await,
        403,
    )
    .await;
    assert_eq!(fields(&p), vec!["service"]);
    let ghost = app.token("3805", "ola", &[Role::Professional], &["ukjent-tjeneste"]);
    let p = problem(
        app.post("/api/v1/cases", &ghost, &body("ukjent-tjeneste"))
            .await,
        422,
    )
    .await;
    assert_eq!(fields(&p), vec!["service"]);
    let guardian = app.token("3805", "mor", &[Role::Guardian], &[SERVICE]);
    problem(
        app.post("/api/v1/cases", &guardian, &body(SERVICE)).await,
        403,
    )
    .await;
    assert_eq!(app.count("cases"), 0);
}

#[actix_web::test]
async fn an_external_reference_names_one_case_only() {
    let (app, ola) = setup().await;
    let body = json!({"service": SERVICE, "concern": "x", "subject": {"kind": "child", "given_name": "A", "family_name": "B"},
        "external_refs": [{"system": "skole", "id": "1"}]});
    assert_eq!(app.post("/api/v1/cases", &ola, &body).await.status(), 201);
    let before = app.table_counts();
    problem(app.post("/api/v1/cases", &ola, &body).await, 409).await;
    let twice = json!({"service": SERVICE, "concern": "x", "subject": {"kind": "child", "given_name": "A", "family_name": "B"},
        "external_refs": [{"system": "skole", "id": "2"}, {"system": "skole", "id": "2"}]});
    let p = problem(app.post("/api/v1/cases", &ola, &twice).await, 422).await;
    assert_eq!(fields(&p), vec!["external_refs[1]"]);
    assert_eq!(app.table_counts(), before);
}

#[actix_web::test]
async fn national_id_is_validated_stored_encrypted_and_masked_for_non_holders() {
    let (app, ola) = setup().await;
    let nid = synthetic_id(5);
    let res = app
        .post("/api/v1/cases", &ola, &json!({"service": SERVICE, "concern": "x",
            "subject": {"kind": "child", "given_name": "A", "family_name": "B", "national_id": nid}}))
        .await;
    assert_eq!(res.status(), 201);
    let case: Value = res.json().await.unwrap();
    assert_eq!(
        case["subject"]["national_id"], nid,
        "the holder sees the number in full"
    );
    // Nothing in the table holds the digits in clear.
    assert_eq!(
        app.count(&format!(
            "cases WHERE position('{nid}' in encode(subject_national_id_enc, 'escape')) > 0"
        )),
        0
    );
    assert_eq!(app.count("cases WHERE subject_national_id_enc IS NOT NULL AND subject_national_id_hash IS NOT NULL"), 1);

    // A second professional in the case (inserted directly until participants have their API) sees it masked.
    let id = case["id"].as_str().unwrap();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "INSERT INTO case_participants (id, case_id, kind, name, user_id, service, municipality) VALUES ('{}', '{id}', 'professional', 'Kari', 'kari', '{SERVICE}', (SELECT municipality FROM cases WHERE id = '{id}'))",
            uuid::Uuid::now_v7()
        )),
        &mut app.db(),
    )
    .unwrap();
    let kari = app.token("3805", "kari", &[Role::Professional], &[SERVICE]);
    let seen: Value = app
        .get(&format!("/api/v1/cases/{id}"), &kari)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        seen["subject"]["national_id"],
        format!("{}*****", &nid[..6])
    );
}

#[actix_web::test]
async fn invalid_national_ids_are_refused_and_nothing_is_written() {
    let (app, ola) = setup().await;
    let good = synthetic_id(9);
    let mut bad_check = good.clone().into_bytes();
    bad_check[10] = b'0' + (bad_check[10] - b'0' + 1) % 10;
    let bad_check = String::from_utf8(bad_check).unwrap();
    let before = app.table_counts();
    for (nid, why) in [
        (bad_check.as_str(), "check digit"),
        ("32138112345", "date"),
        ("31048112345", "date"),
        ("1234567890", "length"),
        ("123456789012", "length"),
        ("1234567890a", "digits"),
        ("", "length"),
    ] {
        let res = app
            .post("/api/v1/cases", &ola, &json!({"service": SERVICE, "concern": "x",
                "subject": {"kind": "child", "given_name": "A", "family_name": "B", "national_id": nid}}))
            .await;
        let p = problem(res, 422).await;
        assert_eq!(fields(&p), vec!["subject.national_id"], "{why}: {nid}");
    }
    assert_eq!(app.table_counts(), before);
}

#[actix_web::test]
async fn get_returns_an_etag_and_patch_needs_a_fresh_if_match() {
    let (app, ola) = setup().await;
    let case = app.open_case(&ola, SERVICE, "Emma").await;
    let path = format!("/api/v1/cases/{}", case["id"].as_str().unwrap());
    let res = app.get(&path, &ola).await;
    assert_eq!(res.headers()["etag"], "\"1\"");

    let patch = json!({"concern": "Oppdatert bekymring.", "subject": {"given_name": "Emma Sofie"}});
    let missing = app
        .request(Method::PATCH, &path, Some(&ola))
        .json(&patch)
        .send()
        .await
        .unwrap();
    problem(missing, 428).await;

    let ok = app
        .send_if_match(Method::PATCH, &path, &ola, "\"1\"", &patch)
        .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["etag"], "\"2\"");
    let changed: Value = ok.json().await.unwrap();
    assert_eq!(changed["concern"], "Oppdatert bekymring.");
    assert_eq!(changed["subject"]["given_name"], "Emma Sofie");
    assert_eq!(changed["subject"]["family_name"], "Testesen");

    let stale = app
        .send_if_match(Method::PATCH, &path, &ola, "\"1\"", &patch)
        .await;
    problem(stale, 412).await;
    let weak = app
        .send_if_match(Method::PATCH, &path, &ola, "W/\"2\"", &patch)
        .await;
    problem(weak, 412).await;
    let star = app
        .send_if_match(Method::PATCH, &path, &ola, "*", &patch)
        .await;
    problem(star, 428).await;
}

#[actix_web::test]
async fn patch_can_clear_the_birth_date_with_null() {
    let (app, ola) = setup().await;
    let case = app.open_case(&ola, SERVICE, "Emma").await;
    let path = format!("/api/v1/cases/{}", case["id"].as_str().unwrap());
    let res = app
        .request(Method::PATCH, &path, Some(&ola))
        .header("if-match", "\"1\"")
        .json(&json!({"subject": {"birth_date": null}}))
        .send()
        .await
        .unwrap();
    let changed: Value = res.json().await.unwrap();
    assert_eq!(changed["subject"]["birth_date"], Value::Null);
}

#[actix_web::test]
async fn only_the_holder_may_patch() {
    let (app, ola) = setup().await;
    let case = app.open_case(&ola, SERVICE, "Emma").await;
    let id = case["id"].as_str().unwrap();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "INSERT INTO case_participants (id, case_id, kind, name, user_id, service, municipality) VALUES ('{}', '{id}', 'professional', 'Kari', 'kari', '{SERVICE}', (SELECT municipality FROM cases WHERE id = '{id}'))",
            uuid::Uuid::now_v7()
        )),
        &mut app.db(),
    )
    .unwrap();
    let kari = app.token("3805", "kari", &[Role::Professional], &[SERVICE]);
    let res = app
        .request(Method::PATCH, &format!("/api/v1/cases/{id}"), Some(&kari))
        .header("if-match", "\"1\"")
        .json(&json!({"concern": "x"}))
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
}

#[actix_web::test]
async fn a_closed_case_refuses_changes_with_409() {
    let (app, ola) = setup().await;
    let case = app.open_case(&ola, SERVICE, "Emma").await;
    let path = format!("/api/v1/cases/{}", case["id"].as_str().unwrap());
    let res = app
        .request(Method::POST, &format!("{path}/close"), Some(&ola))
        .header("if-match", "\"1\"")
        .json(&json!({"reason": "no_need", "note": "Avklart i samtale med foresatte."}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let closed: Value = res.json().await.unwrap();
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["close_reason"], "no_need");
    assert!(closed["closed_at"].is_string());

    let before = app.table_counts();
    let patch = app
        .request(Method::PATCH, &path, Some(&ola))
        .header("if-match", "\"2\"")
        .json(&json!({"concern": "x"}))
        .send()
        .await
        .unwrap();
    problem(patch, 409).await;
    let again = app
        .request(Method::POST, &format!("{path}/close"), Some(&ola))
        .header("if-match", "\"2\"")
        .json(&json!({"reason": "other"}))
        .send()
        .await
        .unwrap();
    problem(again, 409).await;
    assert_eq!(app.table_counts(), before);
    // Still readable by its participants: closing keeps the record.
    assert_eq!(app.get(&path, &ola).await.status(), 200);
}

#[actix_web::test]
async fn close_reason_must_come_from_the_fixed_list() {
    let (app, ola) = setup().await;
    let case = app.open_case(&ola, SERVICE, "Emma").await;
    let path = format!("/api/v1/cases/{}/close", case["id"].as_str().unwrap());
    let res = app
        .request(Method::POST, &path, Some(&ola))
        .header("if-match", "\"1\"")
        .json(&json!({"reason": "bored"}))
        .send()
        .await
        .unwrap();
    let p = problem(res, 422).await;
    assert_eq!(fields(&p), vec!["reason"]);
}

#[actix_web::test]
async fn a_case_is_invisible_to_professionals_who_are_not_participants() {
    let (app, ola) = setup().await;
    let case = app.open_case(&ola, SERVICE, "Emma").await;
    let path = format!("/api/v1/cases/{}", case["id"].as_str().unwrap());
    // Same service, but not in the case: 404, not 403, so the case's existence is not revealed.
    let kari = app.token("3805", "kari", &[Role::Professional], &[SERVICE]);
    problem(app.get(&path, &kari).await, 404).await;
    let admin = app.token("3805", "admin", &[Role::Admin], &[]);
    problem(app.get(&path, &admin).await, 404).await;
    let list: Value = app.get("/api/v1/cases", &kari).await.json().await.unwrap();
    assert!(list["items"].as_array().unwrap().is_empty());
    problem(
        app.get(&format!("/api/v1/cases/{}", uuid::Uuid::now_v7()), &ola)
            .await,
        404,
    )
    .await;
}

#[actix_web::test]
async fn pagination_walks_120_cases_without_duplicates_or_gaps() {
    let (app, ola) = setup().await;
    let mut created = HashSet::new();
    for i in 0..120 {
        let case = app.open_case(&ola, SERVICE, &format!("Barn{i}")).await;
        created.insert(case["id"].as_str().unwrap().to_string());
    }
    let mut seen = Vec::new();
    let mut next = Some("/api/v1/cases?limit=25".to_string());
    let mut pages = 0;
    while let Some(url) = next {
        let res = app.get(&url, &ola).await;
        assert_eq!(res.status(), 200);
        let link = res
            .headers()
            .get("link")
            .map(|v| v.to_str().unwrap().to_string());
        let page: Value = res.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 25);
        seen.extend(items.iter().map(|c| c["id"].as_str().unwrap().to_string()));
        next = page["next_cursor"]
            .as_str()
            .map(|c| format!("/api/v1/cases?limit=25&cursor={c}"));
        assert_eq!(
            link.is_some(),
            next.is_some(),
            "Link header iff there is a next page"
        );
        if let Some(link) = link {
            assert!(
                link.ends_with("rel=\"next\"") && link.contains("limit=25"),
                "{link}"
            );
        }
        pages += 1;
    }
    assert_eq!(pages, 5);
    assert_eq!(seen.len(), 120);
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique, created);
    // Newest first.
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted);
}

#[actix_web::test]
async fn list_filters_by_status_level_and_holder() {
    let (app, ola) = setup().await;
    let a = app.open_case(&ola, SERVICE, "A").await;
    let _b = app.open_case(&ola, SERVICE, "B").await;
    let path = format!("/api/v1/cases/{}/close", a["id"].as_str().unwrap());
    app.request(Method::POST, &path, Some(&ola))
        .header("if-match", "\"1\"")
        .json(&json!({"reason": "goal_reached"}))
        .send()
        .await
        .unwrap();
    let ids = |v: Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["subject"]["given_name"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(app
            .get("/api/v1/cases?status=open", &ola)
            .await
            .json()
            .await
            .unwrap()),
        vec!["B"]
    );
    assert_eq!(
        ids(app
            .get("/api/v1/cases?status=closed", &ola)
            .await
            .json()
            .await
            .unwrap()),
        vec!["A"]
    );
    assert_eq!(
        ids(app
            .get("/api/v1/cases?level=0&holder=me", &ola)
            .await
            .json()
            .await
            .unwrap()),
        vec!["B", "A"]
    );
    assert!(ids(app
        .get("/api/v1/cases?level=2", &ola)
        .await
        .json()
        .await
        .unwrap())
    .is_empty());
}

/// The ids of every case `token` lists with `query`, page by page of one.
async fn listed_one_by_one(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/cases?limit=1&{query}&cursor={c}"),
            None => format!("/api/v1/cases?limit=1&{query}"),
        };
        let page: Value = app.get(&path, token).await.json().await.unwrap();
        for c in page["items"].as_array().unwrap() {
            ids.push(c["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return ids,
        }
        assert!(ids.len() < 10, "the pages do not end: {ids:?}");
    }
}

#[actix_web::test]
async fn a_case_the_caller_reads_on_two_grants_is_listed_once() {
    let (app, ola) = setup().await;
    let older = app.open_case(&ola, SERVICE, "Eldre").await;
    let older = older["id"].as_str().unwrap().to_string();
    let case = app.open_case(&ola, SERVICE, "Emma").await;
    let id = case["id"].as_str().unwrap().to_string();
    // The stafettholder is also the child's guardian: a grant by user id and one by national id.
    let pid = synthetic_id(41);
    let res = app
        .post(
            &format!("/api/v1/cases/{id}/participants"),
            &ola,
            &json!({"kind": "guardian", "name": "Ola Testesen", "relation": "father",
                "parental_responsibility": true, "national_id": pid}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    // The national id's grant alone finds the case.
    let as_guardian = app.citizen_token("ola-privat", Role::Guardian, &pid);
    assert_eq!(
        listed_one_by_one(&app, &as_guardian, "").await,
        [id.as_str()]
    );
    let mut claims = app.claims("3805", "ola", &[Role::Professional, Role::Guardian]);
    claims.services = vec![SERVICE.to_string()];
    claims.pid = Some(pid);
    let both = app.jwt.mint(&claims).unwrap();
    for query in ["", "holder=me", "status=open"] {
        let page: Value = app
            .get(&format!("/api/v1/cases?{query}"), &both)
            .await
            .json()
            .await
            .unwrap();
        let ids: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [id.as_str(), older.as_str()], "{query}: {page}");
        assert_eq!(
            listed_one_by_one(&app, &both, query).await,
            [id.clone(), older.clone()],
            "{query}, a page of one at a time"
        );
    }
}

#[actix_web::test]
async fn held_by_me_leaves_out_the_cases_the_caller_takes_part_in_but_does_not_hold() {
    let (app, ola) = setup().await;
    let mine = app.open_case(&ola, SERVICE, "Min").await;
    let kari = app.token("3805", "kari", &[Role::Professional], &[SERVICE]);
    let theirs = app.open_case(&kari, SERVICE, "Karis").await;
    let theirs_id = theirs["id"].as_str().unwrap();
    let res = app
        .post(
            &format!("/api/v1/cases/{theirs_id}/participants"),
            &kari,
            &json!({"kind": "professional", "user_id": "ola", "name": "Testperson ola", "service": SERVICE}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let all = listed_one_by_one(&app, &ola, "").await;
    assert_eq!(all, [theirs_id, mine["id"].as_str().unwrap()]);
    assert_eq!(
        listed_one_by_one(&app, &ola, "holder=me").await,
        [mine["id"].as_str().unwrap()]
    );
    assert_eq!(
        listed_one_by_one(&app, &kari, "holder=me").await,
        [theirs_id]
    );
}

#[actix_web::test]
async fn rule_9_every_case_read_and_write_leaves_an_access_event() {
    let (app, ola) = setup().await;
    let case = app.open_case(&ola, SERVICE, "Emma").await;
    let id = case["id"].as_str().unwrap();
    let events = |action: &str| {
        app.count(&format!("access_events WHERE case_id = '{id}' AND action = '{action}' AND actor_user_id = 'ola'"))
    };
    assert_eq!(events("create"), 1);
    for n in 1..=3 {
        let res = app
            .request(Method::GET, &format!("/api/v1/cases/{id}"), Some(&ola))
            .header("x-request-id", format!("read-{n}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(events("read"), n);
    }
    assert_eq!(app.count(&format!("access_events WHERE case_id = '{id}' AND request_id = 'read-2' AND municipality = '3805' AND actor_role = 'professional'")), 1);
    app.get("/api/v1/cases", &ola).await;
    assert_eq!(events("list"), 1);
    app.request(Method::PATCH, &format!("/api/v1/cases/{id}"), Some(&ola))
        .header("if-match", "\"1\"")
        .json(&json!({"concern": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(events("update"), 1);
    // A refused change leaves no trace of a change, and the log itself cannot be rewritten.
    app.request(Method::PATCH, &format!("/api/v1/cases/{id}"), Some(&ola))
        .header("if-match", "\"1\"")
        .json(&json!({"concern": "z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(events("update"), 1);
    let tamper = diesel::RunQueryDsl::execute(
        diesel::sql_query("DELETE FROM access_events"),
        &mut app.db(),
    );
    assert!(tamper.is_err(), "access events are append-only");
}

#[actix_web::test]
async fn the_database_refuses_an_open_case_without_an_active_professional_holder() {
    let (app, ola) = setup().await;
    let case = app.open_case(&ola, SERVICE, "Emma").await;
    let id = case["id"].as_str().unwrap();
    let holder = case["holder"]["participant_id"].as_str().unwrap();
    let deactivate = diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE case_participants SET active = false, left_at = now() WHERE id = '{holder}'"
        )),
        &mut app.db(),
    );
    assert!(
        deactivate.is_err(),
        "the holder of an open case cannot be deactivated"
    );
    let dangling = diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE cases SET holder_participant_id = '{}' WHERE id = '{id}'",
            uuid::Uuid::now_v7()
        )),
        &mut app.db(),
    );
    assert!(
        dangling.is_err(),
        "the holder must be a participant of the case"
    );
}
