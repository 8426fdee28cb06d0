//! Rules 1-11 of docs/rules.md as behaviour of the API, each test named after the rule it guards.

use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::family::{family, family_with_subject, Family, BARNEHAGE, PPT, SKOLE};
use crate::support::{fields, problem, synthetic_id};

fn today() -> chrono::NaiveDate {
    stafettlogg::clock::today()
}

async fn with_pia_in_case(f: &Family) {
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, PPT])
        .await;
    assert_eq!(f.add_professional("pia", PPT).await.status(), 201);
}

// Rule 1 is in cases.rs (rule_1_opening_a_case_starts_at_level_0_with_the_creator_as_holder).

#[actix_web::test]
async fn rule_2_level_1_needs_effective_consent_covering_the_holders_service() {
    let f = family().await;
    let p = problem(f.level(1).await, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("rule 2"));
    // A consent for another service does not help.
    f.consent_ok(&[&f.mother_id, &f.father_id], &[PPT]).await;
    problem(f.level(2).await, 409).await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE])
        .await;
    let res = f.level(1).await;
    assert_eq!(res.status(), 201);
    let case = f.json("", &f.ola).await;
    assert_eq!(case["level"], 1);
    assert_eq!(
        case["decision_due"],
        Value::Null,
        "the level-0 deadline is gone above level 0"
    );
    assert_eq!(case["consent"]["effective"], true);
}

#[actix_web::test]
async fn rule_2_level_changes_go_both_ways_with_reason_back_dated_decision_and_history() {
    let f = family().await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE])
        .await;
    let decided = today() - chrono::Days::new(3);
    let v = f.version().await;
    let res = f
        .app
        .request(Method::POST, &f.path("/level-changes"), Some(&f.ola))
        .header("if-match", &v)
        .json(&json!({"to_level": 2, "reason": "Stafettmøte med PPT", "decided_on": decided}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let change: Value = res.json().await.unwrap();
    assert_eq!(change["decided_on"], decided.to_string());
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(change["recorded_at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono_tz::Europe::Oslo)
            .date_naive(),
        today()
    );
    assert_eq!(f.level(1).await.status(), 201);
    let history = f.json("/level-changes", &f.ola).await;
    assert_eq!(history["level"], 1);
    let moves: Vec<(i64, i64)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["from_level"].as_i64().unwrap(),
                c["to_level"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(moves, [(0, 2), (2, 1)]);
    // Stale If-Match, same level, a level outside 0-3, a future date: refused, nothing written.
    let stale_version = v;
    let v = f.version().await;
    let before = f.app.table_counts();
    let stale = f
        .app
        .request(Method::POST, &f.path("/level-changes"), Some(&f.ola))
        .header("if-match", &stale_version)
        .json(&json!({"to_level": 3, "reason": "x", "decided_on": today()}))
        .send()
        .await
        .unwrap();
    problem(stale, 412).await;
    for (body, status, field) in [
        (
            json!({"to_level": 7, "reason": "x", "decided_on": today()}),
            422,
            Some("to_level"),
        ),
        (
            json!({"to_level": 1, "reason": "x", "decided_on": today()}),
            409,
            None,
        ),
        (
            json!({"to_level": 2, "reason": "x", "decided_on": today() + chrono::Days::new(2)}),
            422,
            Some("decided_on"),
        ),
        (
            json!({"to_level": 2, "reason": "", "decided_on": today()}),
            422,
            Some("reason"),
        ),
    ] {
        let res = f
            .app
            .send_if_match(Method::POST, &f.path("/level-changes"), &f.ola, &v, &body)
            .await;
        let p = problem(res, status).await;
        if let Some(field) = field {
            assert_eq!(fields(&p), vec![field]);
        }
    }
    assert_eq!(f.app.table_counts(), before);
    // Only the holder moves levels.
    with_pia_in_case(&f).await;
    let res = f
        .app
        .request(Method::POST, &f.path("/level-changes"), Some(&f.pia))
        .header("if-match", f.version().await)
        .json(&json!({"to_level": 2, "reason": "x", "decided_on": today()}))
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
}

#[actix_web::test]
async fn rule_3_a_professional_of_another_service_joins_only_under_consent() {
    let f = family().await;
    let before = f.app.table_counts();
    let p = problem(f.add_professional("pia", PPT).await, 409).await;
    assert!(
        p["detail"].as_str().unwrap().contains(PPT),
        "the problem names the service"
    );
    assert_eq!(f.app.table_counts(), before);
    // Same service as the holder needs no consent.
    let kari = f
        .app
        .token("3805", "kari", &[Role::Professional], &[BARNEHAGE]);
    assert_eq!(f.add_professional("kari", BARNEHAGE).await.status(), 201);
    assert_eq!(f.get("", &kari).await.status(), 200);
    // Consent to the service (not the person) lets anyone of it join.
    f.consent_ok(&[&f.mother_id, &f.father_id], &[PPT]).await;
    assert_eq!(f.add_professional("pia", PPT).await.status(), 201);
    assert_eq!(f.get("", &f.pia).await.status(), 200);
    problem(f.add_professional("pia", PPT).await, 409).await;
    let p = problem(f.add_professional("per", "ukjent").await, 422).await;
    assert_eq!(fields(&p), vec!["service"]);
}

#[actix_web::test]
async fn rule_4_consent_signed_by_one_of_two_guardians_is_recorded_but_not_effective() {
    let f = family().await;
    let c = f.consent_ok(&[&f.mother_id], &[PPT]).await;
    assert_eq!(c["state"], "active");
    let e = f.json("/consents/effective", &f.ola).await;
    assert_eq!(e["effective"], false);
    assert_eq!(e["services"], json!([]));
    assert_eq!(
        e["not_effective"],
        json!([{"consent_id": c["id"], "reasons": ["missing_giver"], "missing_signatures": []}])
    );
    problem(f.add_professional("pia", PPT).await, 409).await;
    // The second guardian's consent, recorded digitally by herself, is not enough alone either.
    let res = f
        .post(
            "/consents",
            &f.father,
            &json!({"given_by": [f.father_id], "services": [PPT], "purpose": "PPT",
        "valid_from": today(), "form": "digital"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        f.json("/consents/effective", &f.ola).await["effective"],
        false
    );
    // Both on one consent: effective.
    f.consent_ok(&[&f.mother_id, &f.father_id], &[PPT]).await;
    let e = f.json("/consents/effective", &f.ola).await;
    assert_eq!(e["effective"], true);
    assert_eq!(e["services"], json!([PPT]));
}

#[actix_web::test]
async fn rule_4_a_youth_at_the_self_consent_age_consents_alone() {
    let birth = (today() - chrono::Months::new(12 * 15)).to_string();
    let f = family_with_subject(&birth).await;
    let youth_pid = synthetic_id(1);
    let res = f
        .post(
            "/participants",
            &f.ola,
            &json!({"kind": "youth", "name": "Emma Testesen", "national_id": youth_pid}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let youth_id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    f.consent_ok(&[&youth_id], &[BARNEHAGE, PPT]).await;
    assert_eq!(
        f.json("/consents/effective", &f.ola).await["services"],
        json!([BARNEHAGE, PPT])
    );
    // At 16 in a municipality that says 16, the same 15-year-old's consent is not effective.
    let admin = f.app.token("3805", "admin", &[Role::Admin], &[]);
    f.app
        .request(Method::PATCH, "/api/v1/municipality", Some(&admin))
        .json(&json!({"self_consent_age": 16}))
        .send()
        .await
        .unwrap();
    let e = f.json("/consents/effective", &f.ola).await;
    assert_eq!(e["effective"], false);
    assert_eq!(e["not_effective"][0]["reasons"], json!(["missing_giver"]));
}

#[actix_web::test]
async fn rule_5_withdrawing_consent_cuts_access_in_the_very_next_request() {
    let f = family().await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[PPT]).await;
    let consent = f
        .consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE])
        .await;
    assert_eq!(f.add_professional("pia", PPT).await.status(), 201);
    let ppt_consent = f.json("/consents", &f.ola).await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for rest in [
        "",
        "/participants",
        "/consents",
        "/measures",
        "/entries",
        "/timeline",
        "/level-changes",
    ] {
        assert_eq!(f.get(rest, &f.pia).await.status(), 200, "{rest}");
    }
    // The mother withdraws the PPT consent herself.
    let res = f
        .post(
            &format!("/consents/{ppt_consent}/withdraw"),
            &f.mother,
            &json!({"reason": "Vi ønsker ikke PPT inne nå"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let withdrawn: Value = res.json().await.unwrap();
    assert_eq!(withdrawn["state"], "withdrawn");
    assert_eq!(withdrawn["withdrawn_by"], f.mother_id.as_str());
    for rest in [
        "",
        "/participants",
        "/consents",
        "/consents/effective",
        "/measures",
        "/entries",
        "/timeline",
        "/level-changes",
    ] {
        problem(f.get(rest, &f.pia).await, 404).await;
    }
    let list: Value = f
        .app
        .get("/api/v1/cases", &f.pia)
        .await
        .json()
        .await
        .unwrap();
    assert!(list["items"].as_array().unwrap().is_empty());
    // She stays listed, inactive; the case stays open because the kindergarten is still covered.
    let participants = f.json("/participants", &f.ola).await;
    let pia = participants["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user_id"] == "pia")
        .unwrap();
    assert_eq!(pia["active"], false);
    assert!(pia["left_at"].is_string());
    assert_eq!(f.json("", &f.ola).await["status"], "open");
    // The kindergarten's own consent, read again after the withdrawal, is untouched by it.
    let consents = f.json("/consents", &f.ola).await;
    let kept = consents["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == consent["id"])
        .expect("the kindergarten's consent is still listed");
    assert_eq!(kept["state"], "active");
    // A second withdrawal of the same consent is a conflict.
    problem(
        f.post(
            &format!("/consents/{ppt_consent}/withdraw"),
            &f.mother,
            &json!({"reason": "igjen"}),
        )
        .await,
        409,
    )
    .await;
}

#[actix_web::test]
async fn rule_5_the_case_closes_when_the_holders_own_service_loses_coverage() {
    let f = family().await;
    let c = f
        .consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, PPT])
        .await;
    assert_eq!(f.add_professional("pia", PPT).await.status(), 201);
    assert_eq!(f.level(1).await.status(), 201);
    // The holder withdraws on the father's behalf, as he asked on the phone.
    let path = format!("/consents/{}/withdraw", c["id"].as_str().unwrap());
    let p = problem(
        f.post(&path, &f.ola, &json!({"reason": "Far trekker samtykket"}))
            .await,
        422,
    )
    .await;
    assert_eq!(fields(&p), vec!["on_behalf_of"]);
    let res = f
        .post(
            &path,
            &f.ola,
            &json!({"reason": "Far trekker samtykket", "on_behalf_of": f.father_id}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let case = f.json("", &f.ola).await;
    assert_eq!(case["status"], "closed");
    assert_eq!(case["close_reason"], "consent_withdrawn");
    problem(f.get("", &f.pia).await, 404).await;
    // Withdrawal stops future sharing; it never erases what was recorded.
    assert_eq!(
        f.json("/consents", &f.ola).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[actix_web::test]
async fn the_feed_tells_a_withdrawal_before_the_closure_and_deactivations_it_causes() {
    let f = family().await;
    let c = f
        .consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, PPT])
        .await;
    assert_eq!(f.add_professional("pia", PPT).await.status(), 201);
    let res = f
        .post(
            &format!("/consents/{}/withdraw", c["id"].as_str().unwrap()),
            &f.mother,
            &json!({"reason": "Slutt"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let integration = f
        .app
        .token("3805", "system", &[Role::Integration], &[BARNEHAGE]);
    let types = f.app.feed_types(&integration).await;
    let at = |t: &str| {
        types
            .iter()
            .position(|x| x == t)
            .unwrap_or_else(|| panic!("{t} in {types:?}"))
    };
    assert!(at("consent.withdrawn") < at("case.closed"), "{types:?}");
    assert!(
        at("consent.withdrawn") < at("participant.deactivated"),
        "{types:?}"
    );
}

#[actix_web::test]
async fn rule_5_expiry_by_date_works_without_any_background_job() {
    let f = family().await;
    let c = f
        .consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, PPT])
        .await;
    assert_eq!(f.add_professional("pia", PPT).await.status(), 201);
    assert_eq!(f.get("", &f.pia).await.status(), 200);
    // Time passes: the consent's last day was yesterday. No job runs; the next read knows.
    expire(&f, &c);
    problem(f.get("", &f.pia).await, 404).await;
    let consents = f.json("/consents", &f.ola).await;
    assert_eq!(consents["items"][0]["state"], "expired");
    let e = f.json("/consents/effective", &f.ola).await;
    assert_eq!(e["not_effective"][0]["reasons"], json!(["expired"]));
    let case = f.json("", &f.ola).await;
    assert_eq!(case["status"], "closed");
    assert_eq!(case["close_reason"], "consent_expired");
}

/// Backdates a consent so that its last day was yesterday.
pub(crate) fn expire(f: &Family, consent: &Value) {
    let yesterday = today() - chrono::Days::new(1);
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE consents SET valid_from = '{}', valid_until = '{yesterday}' WHERE id = '{}'",
            yesterday - chrono::Days::new(30),
            consent["id"].as_str().unwrap()
        )),
        &mut f.app.db(),
    )
    .unwrap();
}

#[actix_web::test]
async fn rule_5_expiry_for_another_service_removes_its_professionals_and_cancels_handovers_to_it() {
    let f = family().await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE])
        .await;
    let other = f
        .consent_ok(&[&f.mother_id, &f.father_id], &[PPT, SKOLE])
        .await;
    assert_eq!(f.add_professional("pia", PPT).await.status(), 201);
    let res = f
        .post(
            "/handovers",
            &f.ola,
            &json!({"to": {"user_id": "sara", "name": "Sara", "service": SKOLE}, "reason": "transition"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let handover: Value = res.json().await.unwrap();
    expire(&f, &other);

    // The holder's own service is still covered: the case stays open, and the first touch settles rule 5.
    let case = f.json("", &f.ola).await;
    assert_eq!(case["status"], "open");
    let participants = f.json("/participants", &f.ola).await;
    let pia = participants["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user_id"] == "pia")
        .unwrap();
    assert_eq!(
        pia["active"], false,
        "PPT's professional left with the coverage"
    );
    let handovers = f.json("/handovers", &f.ola).await;
    let h = handovers["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == handover["id"])
        .unwrap();
    assert_eq!(h["state"], "cancelled");
    problem(f.get("", &f.pia).await, 404).await;
    // Settled once: further reads change nothing more.
    let events = f.app.count("change_events");
    f.json("", &f.ola).await;
    f.json("/participants", &f.ola).await;
    assert_eq!(f.app.count("change_events"), events);
}

#[actix_web::test]
async fn rule_5_replacing_a_consent_with_a_narrower_one_cuts_the_dropped_service() {
    let f = family().await;
    let c = f
        .consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, PPT])
        .await;
    assert_eq!(f.add_professional("pia", PPT).await.status(), 201);
    let res = f.post("/consents", &f.ola, &json!({"given_by": [f.mother_id, f.father_id], "services": [BARNEHAGE],
        "purpose": "Bare barnehagen", "valid_from": today(), "form": "written", "supersedes": c["id"]})).await;
    assert_eq!(res.status(), 201);
    let consents = f.json("/consents", &f.ola).await;
    assert_eq!(consents["items"][0]["state"], "superseded");
    assert_eq!(consents["items"][1]["state"], "active");
    problem(f.get("", &f.pia).await, 404).await;
    assert_eq!(f.json("", &f.ola).await["status"], "open");
}

#[actix_web::test]
async fn rule_6_one_holder_who_cannot_leave_and_who_alone_coordinates() {
    let f = family().await;
    with_pia_in_case(&f).await;
    let holder = f.json("", &f.ola).await["holder"]["participant_id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = f
        .app
        .post(
            &f.path(&format!("/participants/{holder}/deactivate")),
            &f.ola,
            &json!({}),
        )
        .await;
    problem(res, 409).await;
    // Another professional may read but not coordinate.
    let res = f
        .post(
            "/participants",
            &f.pia,
            &json!({"kind": "other", "name": "Bestemor", "role": "besteforelder"}),
        )
        .await;
    problem(res, 403).await;
    let res = f
        .app
        .request(Method::PATCH, &f.path(""), Some(&f.pia))
        .header("if-match", f.version().await)
        .json(&json!({"concern": "x"}))
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
}

#[actix_web::test]
async fn rule_7_measures_have_exactly_one_responsible_party_in_the_case_and_a_deadline() {
    let f = family().await;
    let start = today();
    let by = today() + chrono::Days::new(30);
    let measure = |responsible: Value| {
        json!({"title": "Språkgruppe", "goal": "Bedre ordforråd", "responsible": responsible,
        "start_date": start, "evaluate_by": by})
    };
    let before = f.app.table_counts();
    for (responsible, field) in [
        (
            json!({"kind": "service", "service": PPT}),
            "responsible.service",
        ),
        (
            json!({"kind": "participant", "participant_id": uuid::Uuid::now_v7()}),
            "responsible.participant_id",
        ),
    ] {
        let p = problem(
            f.post("/measures", &f.ola, &measure(responsible)).await,
            422,
        )
        .await;
        assert_eq!(fields(&p), vec![field]);
    }
    let p = problem(
        f.post(
            "/measures",
            &f.ola,
            &measure(json!({"kind": "service", "service": PPT, "participant_id": f.mother_id})),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(
        fields(&p),
        vec!["responsible.participant_id"],
        "one responsible party, not two"
    );
    let p = problem(
        f.post(
            "/measures",
            &f.ola,
            &json!({"title": "x", "goal": "y", "responsible": {"kind": "subject"},
        "start_date": start, "evaluate_by": start - chrono::Days::new(1)}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(fields(&p), vec!["evaluate_by"]);
    assert_eq!(f.app.table_counts(), before);
    // A guardian can be responsible, and evaluates that measure herself.
    let res = f
        .post(
            "/measures",
            &f.ola,
            &measure(json!({"kind": "participant", "participant_id": f.mother_id})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let m: Value = res.json().await.unwrap();
    assert_eq!(m["state"], "planned");
    let mid = m["id"].as_str().unwrap();
    let eval = json!({"evaluated_on": today(), "assessment": "Hun bruker flere ord hjemme", "child_view": "Gøy", "outcome": "continue",
        "next_evaluate_by": today() + chrono::Days::new(60)});
    let res = f
        .post(&format!("/measures/{mid}/evaluations"), &f.mother, &eval)
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let m = f.json(&format!("/measures/{mid}"), &f.ola).await;
    assert_eq!(m["state"], "active");
    assert_eq!(
        m["evaluate_by"],
        (today() + chrono::Days::new(60)).to_string()
    );
    // The father is not responsible for it.
    problem(
        f.post(&format!("/measures/{mid}/evaluations"), &f.father, &eval)
            .await,
        403,
    )
    .await;
    // Continuing needs a next deadline.
    let p = problem(
        f.post(
            &format!("/measures/{mid}/evaluations"),
            &f.ola,
            &json!({"evaluated_on": today(), "assessment": "x", "outcome": "adjust"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(fields(&p), vec!["next_evaluate_by"]);
    // Completed: then no more evaluations, and no going back.
    let res = f.post(&format!("/measures/{mid}/evaluations"), &f.ola, &json!({"evaluated_on": today(), "assessment": "Målet er nådd", "outcome": "completed"})).await;
    assert_eq!(res.status(), 201);
    let v = f.get(&format!("/measures/{mid}"), &f.ola).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    let before = f.app.table_counts();
    problem(
        f.post(
            &format!("/measures/{mid}/evaluations"),
            &f.ola,
            &json!({"evaluated_on": today(), "assessment": "x", "outcome": "stop"}),
        )
        .await,
        409,
    )
    .await;
    let res = f
        .app
        .request(
            Method::PATCH,
            &f.path(&format!("/measures/{mid}")),
            Some(&f.ola),
        )
        .header("if-match", v)
        .json(&json!({"state": "active"}))
        .send()
        .await
        .unwrap();
    problem(res, 409).await;
    assert_eq!(f.app.table_counts(), before);
    let evals = f
        .json(&format!("/measures/{mid}/evaluations"), &f.ola)
        .await;
    assert_eq!(evals["items"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn rule_7_patching_a_measure_needs_if_match_and_follows_the_state_machine() {
    let f = family().await;
    let res = f.post("/measures", &f.ola, &json!({"title": "Samtalegruppe", "goal": "Trygghet", "responsible": {"kind": "subject"},
        "start_date": today(), "evaluate_by": today() + chrono::Days::new(14), "state": "active"})).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let m: Value = res.json().await.unwrap();
    let path = f.path(&format!("/measures/{}", m["id"].as_str().unwrap()));
    problem(
        f.app
            .request(Method::PATCH, &path, Some(&f.ola))
            .json(&json!({"state": "completed"}))
            .send()
            .await
            .unwrap(),
        428,
    )
    .await;
    let res = f
        .app
        .request(Method::PATCH, &path, Some(&f.ola))
        .header("if-match", &etag)
        .json(&json!({"state": "stopped", "goal": "Ny"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    problem(
        f.app
            .request(Method::PATCH, &path, Some(&f.ola))
            .header("if-match", &etag)
            .json(&json!({"title": "x"}))
            .send()
            .await
            .unwrap(),
        412,
    )
    .await;
    // Guardians do not write measures.
    problem(
        f.post(
            "/measures",
            &f.mother,
            &json!({"title": "x", "goal": "y", "responsible": {"kind": "subject"},
        "start_date": today(), "evaluate_by": today()}),
        )
        .await,
        403,
    )
    .await;
}

#[actix_web::test]
async fn rule_7_what_needs_me_lists_overdue_evaluations_decisions_and_expiring_consents() {
    let f = family().await;
    let c = f
        .consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE])
        .await;
    let m: Value = f.post("/measures", &f.ola, &json!({"title": "Språkgruppe", "goal": "x", "responsible": {"kind": "service", "service": BARNEHAGE},
        "start_date": today() - chrono::Days::new(40), "evaluate_by": today() - chrono::Days::new(1), "state": "active"})).await.json().await.unwrap();
    let mut db = f.app.db();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE cases SET decision_due = current_date - 2 WHERE id = '{}'",
            f.case_id
        )),
        &mut db,
    )
    .unwrap();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE consents SET valid_until = current_date + 10 WHERE id = '{}'",
            c["id"].as_str().unwrap()
        )),
        &mut db,
    )
    .unwrap();
    let a: Value = f
        .app
        .get("/api/v1/me/attention", &f.ola)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["overdue_evaluations"][0]["measure_id"], m["id"]);
    assert_eq!(
        a["overdue_level0_decisions"][0]["case_id"],
        f.case_id.as_str()
    );
    assert_eq!(a["consents_expiring"][0]["consent_id"], c["id"]);
    // Nothing for a professional outside the case; guardians are not professionals here.
    let per = f
        .app
        .token("3805", "per", &[Role::Professional], &[BARNEHAGE]);
    let a: Value = f
        .app
        .get("/api/v1/me/attention", &per)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["overdue_evaluations"], json!([]));
    problem(f.app.get("/api/v1/me/attention", &f.mother).await, 403).await;
}

#[actix_web::test]
async fn rule_8_a_guardian_of_case_a_cannot_see_case_b() {
    let f = family().await;
    assert_eq!(f.get("", &f.mother).await.status(), 200);
    let b = f.app.open_case(&f.ola, BARNEHAGE, "Jonas").await;
    let b_path = format!("/api/v1/cases/{}", b["id"].as_str().unwrap());
    problem(f.app.get(&b_path, &f.mother).await, 404).await;
    problem(
        f.app.get(&format!("{b_path}/entries"), &f.mother).await,
        404,
    )
    .await;
    let list: Value = f
        .app
        .get("/api/v1/cases", &f.mother)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![f.case_id.as_str()]);
    // A pid that matches no guardian, or a guardian token without pid, sees nothing.
    let stranger = f.app.citizen_token("x", Role::Guardian, &synthetic_id(40));
    problem(f.get("", &stranger).await, 404).await;
    let no_pid = f.app.token("3805", "mor", &[Role::Guardian], &[]);
    problem(f.get("", &no_pid).await, 404).await;
}

#[actix_web::test]
async fn rule_8_a_professional_outside_the_consent_gets_404_on_the_case_and_all_sub_resources() {
    let f = family().await;
    let consent = f.consent_ok(&[&f.mother_id], &[BARNEHAGE]).await;
    let m: Value = f
        .post(
            "/measures",
            &f.ola,
            &json!({"title": "x", "goal": "y", "responsible": {"kind": "subject"},
        "start_date": today(), "evaluate_by": today()}),
        )
        .await
        .json()
        .await
        .unwrap();
    let e: Value = f
        .post(
            "/entries",
            &f.ola,
            &json!({"kind": "note", "occurred_at": chrono::Utc::now(), "body": "x"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let (mid, eid, cid) = (
        m["id"].as_str().unwrap(),
        e["id"].as_str().unwrap(),
        consent["id"].as_str().unwrap(),
    );
    // Pia works in PPT, which no consent covers; even listed as a participant she sees nothing.
    diesel::RunQueryDsl::execute(diesel::sql_query(format!(
        "INSERT INTO case_participants (id, case_id, kind, name, user_id, service, municipality) VALUES ('{}', '{1}', 'professional', 'Pia', 'pia', '{PPT}', (SELECT municipality FROM cases WHERE id = '{1}'))",
        uuid::Uuid::now_v7(), f.case_id)), &mut f.app.db()).unwrap();
    for rest in [
        "",
        "/participants",
        "/consents",
        "/consents/effective",
        "/measures",
        "/entries",
        "/timeline",
        "/level-changes",
        "/access-log",
        "/handovers",
        &format!("/measures/{mid}"),
        &format!("/measures/{mid}/evaluations"),
        &format!("/entries/{eid}"),
    ] {
        assert_eq!(
            f.get(rest, &f.ola).await.status(),
            200,
            "the holder reads {rest}"
        );
        problem(f.get(rest, &f.pia).await, 404).await;
    }
    for (rest, body) in [
        (format!("/consents/{cid}/withdraw"), json!({"reason": "x"})),
        (
            format!("/measures/{mid}/evaluations"),
            json!({"evaluated_on": today(), "assessment": "x", "outcome": "stop"}),
        ),
        (
            "/participants".to_string(),
            json!({"kind": "other", "name": "x", "role": "y"}),
        ),
        (
            "/measures".to_string(),
            json!({"title": "x", "goal": "y", "responsible": {"kind": "subject"}, "start_date": today(), "evaluate_by": today()}),
        ),
    ] {
        problem(f.post(&rest, &f.pia, &body).await, 404).await;
    }
    problem(
        f.post(
            "/entries",
            &f.pia,
            &json!({"kind": "note", "occurred_at": chrono::Utc::now(), "body": "x"}),
        )
        .await,
        404,
    )
    .await;
    // An administrator of the municipality sees configuration, never content.
    let admin = f.app.token("3805", "admin", &[Role::Admin], &[]);
    problem(f.get("", &admin).await, 404).await;
    assert_eq!(f.app.get("/api/v1/services", &admin).await.status(), 200);
    // A professional who left the service (token no longer lists it) loses access.
    let ola_moved = f.app.token("3805", "ola", &[Role::Professional], &[SKOLE]);
    problem(f.get("", &ola_moved).await, 404).await;
}

#[actix_web::test]
async fn rule_8_guardians_see_everything_and_national_ids_are_masked_except_for_the_holder() {
    let f = family().await;
    let case = f.json("", &f.mother).await;
    let full = synthetic_id(1);
    assert_eq!(
        case["subject"]["national_id"],
        format!("{}*****", &full[..6])
    );
    assert_eq!(f.json("", &f.ola).await["subject"]["national_id"], full);
    let participants = f.json("/participants", &f.mother).await;
    let mother = participants["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == f.mother_id.as_str())
        .unwrap();
    assert!(mother["national_id"].as_str().unwrap().ends_with("*****"));
    let participants = f.json("/participants", &f.ola).await;
    let mother = participants["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == f.mother_id.as_str())
        .unwrap();
    assert_eq!(mother["national_id"], synthetic_id(2));
    for rest in [
        "/consents",
        "/measures",
        "/entries",
        "/timeline",
        "/level-changes",
        "/consents/effective",
    ] {
        assert_eq!(f.get(rest, &f.mother).await.status(), 200, "{rest}");
    }
    // Nothing in the participants table holds a national id in clear.
    assert_eq!(
        f.app.count(&format!(
            "case_participants WHERE position('{}' in encode(national_id_enc, 'escape')) > 0",
            synthetic_id(2)
        )),
        0
    );
}

#[actix_web::test]
async fn rule_8_the_subject_youth_reads_the_case_once_old_enough() {
    let f = family_with_subject(&(today() - chrono::Months::new(12 * 14)).to_string()).await;
    let youth = f.app.citizen_token("emma", Role::Youth, &synthetic_id(1));
    problem(f.get("", &youth).await, 404).await;
    diesel::RunQueryDsl::execute(diesel::sql_query(format!(
        "UPDATE cases SET subject_birth_date = current_date - interval '15 years 1 day' WHERE id = '{}'", f.case_id)), &mut f.app.db()).unwrap();
    assert_eq!(f.get("", &youth).await.status(), 200);
}

#[actix_web::test]
async fn rule_9_the_holder_and_the_guardians_see_who_accessed_the_case() {
    let f = family().await;
    with_pia_in_case(&f).await;
    f.get("/entries", &f.pia).await;
    let log = f.json("/access-log", &f.mother).await;
    let items = log["items"].as_array().unwrap();
    let pia_read = items
        .iter()
        .find(|e| e["actor"]["user_id"] == "pia")
        .unwrap();
    assert_eq!(pia_read["action"], "read");
    assert_eq!(
        pia_read["basis"], "consent",
        "Pia reads because the consent covers PPT"
    );
    assert!(items
        .iter()
        .any(|e| e["actor"]["user_id"] == "ola" && e["basis"] == "holder_service"));
    assert_eq!(pia_read["resource"], "case.entries");
    assert_eq!(pia_read["actor"]["role"], "professional");
    assert!(items
        .iter()
        .any(|e| e["actor"]["user_id"] == "ola" && e["action"] == "create"));
    assert_eq!(f.get("/access-log", &f.ola).await.status(), 200);
    problem(f.get("/access-log", &f.pia).await, 403).await;
    // Reading the log is itself logged.
    let again = f.json("/access-log", &f.mother).await;
    assert!(again["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["actor"]["user_id"] == "mor"
            && e["resource"] == "case.access_log"
            && e["basis"] == "guardian"));
}

#[actix_web::test]
async fn rule_10_log_entries_cannot_be_changed_or_deleted_by_any_caller() {
    let f = family().await;
    let res = f.post("/entries", &f.mother, &json!({"kind": "lysglimt", "occurred_at": chrono::Utc::now(), "body": "Emma sang hele veien hjem"})).await;
    assert_eq!(res.status(), 201);
    let entry: Value = res.json().await.unwrap();
    assert_eq!(entry["author"]["participant_id"], f.mother_id.as_str());
    let path = f.path(&format!("/entries/{}", entry["id"].as_str().unwrap()));
    for token in [&f.ola, &f.mother, &f.father] {
        for method in [Method::PUT, Method::PATCH, Method::DELETE] {
            let res = f
                .app
                .request(method.clone(), &path, Some(token))
                .json(&json!({"body": "endret"}))
                .send()
                .await
                .unwrap();
            problem(res, 405).await;
        }
    }
    let mut db = f.app.db();
    assert!(diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE log_entries SET body = 'endret'"),
        &mut db
    )
    .is_err());
    assert!(
        diesel::RunQueryDsl::execute(diesel::sql_query("DELETE FROM log_entries"), &mut db)
            .is_err()
    );
    assert!(diesel::RunQueryDsl::execute(
        diesel::sql_query("DELETE FROM case_participants"),
        &mut db
    )
    .is_err());
    assert_eq!(
        f.json(
            &format!("/entries/{}", entry["id"].as_str().unwrap()),
            &f.ola
        )
        .await["body"],
        "Emma sang hele veien hjem"
    );
}

#[actix_web::test]
async fn rule_10_a_correction_is_a_new_entry_and_the_corrected_one_shows_it() {
    let f = family().await;
    let first: Value = f.post("/entries", &f.ola, &json!({"kind": "meeting", "occurred_at": chrono::Utc::now(), "title": "Stafettmøte",
        "body": "Møte med foreldrene", "attendees": [f.mother_id, f.father_id], "decisions": "Språkgruppe to ganger i uka",
        "next_meeting": chrono::Utc::now() + chrono::Duration::days(30)})).await.json().await.unwrap();
    let fix = f.post("/entries", &f.ola, &json!({"kind": "note", "occurred_at": chrono::Utc::now(), "body": "Rettelse: tre ganger i uka",
        "corrects": first["id"]})).await;
    assert_eq!(fix.status(), 201);
    let fix: Value = fix.json().await.unwrap();
    assert_eq!(
        f.json(
            &format!("/entries/{}", first["id"].as_str().unwrap()),
            &f.mother
        )
        .await["corrected_by"],
        fix["id"]
    );
    let list = f.json("/entries", &f.father).await;
    assert_eq!(list["items"][0]["id"], fix["id"], "newest first");
    assert_eq!(list["items"][1]["corrected_by"], fix["id"]);
    problem(f.post("/entries", &f.ola, &json!({"kind": "note", "occurred_at": chrono::Utc::now(), "body": "x", "corrects": first["id"]})).await, 409).await;
    // A correction of an entry from another case is refused, and nothing is written.
    let other = f.app.open_case(&f.ola, BARNEHAGE, "Jonas").await;
    let before = f.app.table_counts();
    let res = f.app.post(&format!("/api/v1/cases/{}/entries", other["id"].as_str().unwrap()), &f.ola,
        &json!({"kind": "note", "occurred_at": chrono::Utc::now(), "body": "x", "corrects": first["id"]})).await;
    assert_eq!(fields(&problem(res, 422).await), vec!["corrects"]);
    // Attendees only on meetings, and only people of the case.
    let p = problem(f.post("/entries", &f.ola, &json!({"kind": "note", "occurred_at": chrono::Utc::now(), "body": "x", "attendees": [f.mother_id]})).await, 422).await;
    assert_eq!(fields(&p), vec!["attendees"]);
    let p = problem(f.post("/entries", &f.ola, &json!({"kind": "meeting", "occurred_at": chrono::Utc::now(), "body": "x", "attendees": [uuid::Uuid::now_v7()]})).await, 422).await;
    assert_eq!(fields(&p), vec!["attendees[0]"]);
    assert_eq!(f.app.table_counts(), before);
}

#[actix_web::test]
async fn rule_10_an_entry_on_a_closed_case_is_refused() {
    let f = family().await;
    let v = f.version().await;
    let res = f
        .app
        .request(Method::POST, &f.path("/close"), Some(&f.mother))
        .header("if-match", v)
        .json(&json!({"reason": "guardians_ended"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "guardians can always end the log");
    let before = f.app.table_counts();
    problem(
        f.post(
            "/entries",
            &f.ola,
            &json!({"kind": "note", "occurred_at": chrono::Utc::now(), "body": "x"}),
        )
        .await,
        409,
    )
    .await;
    problem(f.post("/measures", &f.ola, &json!({"title": "x", "goal": "y", "responsible": {"kind": "subject"}, "start_date": today(), "evaluate_by": today()})).await, 409).await;
    assert_eq!(f.app.table_counts(), before);
    assert_eq!(
        f.get("/entries", &f.mother).await.status(),
        200,
        "the record stays readable"
    );
}

#[actix_web::test]
async fn rule_11_a_report_to_barnevern_is_no_kind_of_entry_in_the_family_readable_log() {
    let f = family().await;
    let before = f.app.table_counts();
    // It is a level-0 decision the family does not read (`POST /cases/{id}/decision`), not an entry.
    let res = f.post("/entries", &f.ola, &json!({"kind": "barnevern_report", "occurred_at": chrono::Utc::now(), "body": "Bekymringsmelding sendt"})).await;
    let p = problem(res, 422).await;
    assert_eq!(fields(&p), vec!["kind"]);
    assert_eq!(f.app.table_counts(), before);
    // And no consent is needed to be at level 0, where such a report is decided.
    assert_eq!(f.json("", &f.ola).await["consent"]["effective"], false);
}

/// A consent whose period ended before the day it is recorded never covered the case: recording it would
/// settle its expiry at once and close the case (rule 5). It is refused, naming `valid_until`, and the
/// case at level 0 stays open.
#[actix_web::test]
async fn rule_5_a_consent_that_ran_out_before_it_was_recorded_is_refused_and_the_case_stays_open() {
    let f = family().await;
    let before = f.app.table_counts();
    let body = json!({"given_by": [f.mother_id, f.father_id], "services": [BARNEHAGE, PPT], "purpose": "PPT",
                      "valid_from": "2025-01-01", "valid_until": "2025-06-01", "form": "written"});
    let p = problem(f.post("/consents", &f.ola, &body).await, 422).await;
    assert_eq!(fields(&p), vec!["valid_until"]);
    // Without valid_until it ends after the municipality's validity (12 months): ran out long ago.
    let mut defaulted = body.clone();
    defaulted.as_object_mut().unwrap().remove("valid_until");
    defaulted["valid_from"] = json!("2024-01-01");
    let p = problem(f.post("/consents", &f.ola, &defaulted).await, 422).await;
    assert_eq!(fields(&p), vec!["valid_from"]);
    assert_eq!(f.app.table_counts(), before);
    let case = f.json("", &f.ola).await;
    assert_eq!(case["status"], "open");
    assert_eq!(case["level"], 0);
}

#[actix_web::test]
async fn bad_consents_are_refused_naming_the_field_and_nothing_is_written() {
    let f = family().await;
    let res = f.post("/participants", &f.ola, &json!({"kind": "guardian", "name": "Steffar", "relation": "other", "parental_responsibility": false})).await;
    let stepfather = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let base = |patch: Value| {
        let mut body = json!({"given_by": [f.mother_id, f.father_id], "services": [PPT], "purpose": "PPT", "valid_from": today(), "form": "written"});
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let before = f.app.table_counts();
    for (patch, field) in [
        (json!({"services": ["ukjent-tjeneste"]}), "services[0]"),
        (
            json!({"given_by": [f.mother_id, uuid::Uuid::now_v7()]}),
            "given_by[1]",
        ),
        (json!({"given_by": [stepfather]}), "given_by[0]"),
        (
            json!({"valid_until": today() - chrono::Days::new(1)}),
            "valid_until",
        ),
        (json!({"supersedes": uuid::Uuid::now_v7()}), "supersedes"),
        (json!({"form": "telepathic"}), "form"),
        (json!({"given_by": []}), "given_by"),
    ] {
        let p = problem(f.post("/consents", &f.ola, &base(patch.clone())).await, 422).await;
        assert_eq!(fields(&p), vec![field], "{patch}");
    }
    // A guardian records a digital consent she gives herself (the other givers then sign it); another
    // professional records none.
    let p = problem(
        f.post(
            "/consents",
            &f.mother,
            &base(json!({"form": "digital", "given_by": [f.father_id]})),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(fields(&p), vec!["given_by"]);
    assert_eq!(f.app.table_counts(), before);
}

#[actix_web::test]
async fn the_timeline_lists_everything_newest_first_in_pages() {
    let f = family().await;
    let c = f
        .consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, PPT])
        .await;
    assert_eq!(f.add_professional("pia", PPT).await.status(), 201);
    assert_eq!(f.level(2).await.status(), 201);
    let m: Value = f
        .post(
            "/measures",
            &f.ola,
            &json!({"title": "Språkgruppe", "goal": "x", "responsible": {"kind": "subject"},
        "start_date": today(), "evaluate_by": today()}),
        )
        .await
        .json()
        .await
        .unwrap();
    f.post(
        &format!("/measures/{}/evaluations", m["id"].as_str().unwrap()),
        &f.ola,
        &json!({"evaluated_on": today(), "assessment": "Bra", "outcome": "completed"}),
    )
    .await;
    f.post(
        "/entries",
        &f.father,
        &json!({"kind": "conversation", "occurred_at": chrono::Utc::now(), "body": "Samtale"}),
    )
    .await;
    f.post(
        &format!("/consents/{}/withdraw", c["id"].as_str().unwrap()),
        &f.mother,
        &json!({"reason": "Slutt"}),
    )
    .await;

    let mut seen = Vec::new();
    let mut next = Some(f.path("/timeline?limit=3"));
    while let Some(url) = next {
        let page: Value = f.app.get(&url, &f.ola).await.json().await.unwrap();
        seen.extend(page["items"].as_array().unwrap().iter().cloned());
        next = page["next_cursor"]
            .as_str()
            .map(|c| f.path(&format!("/timeline?limit=3&cursor={c}")));
    }
    let types: Vec<&str> = seen.iter().map(|i| i["type"].as_str().unwrap()).collect();
    for t in [
        "case.opened",
        "participant.added",
        "consent.recorded",
        "level.changed",
        "measure.created",
        "evaluation.added",
        "entry.added",
        "consent.withdrawn",
        "participant.deactivated",
        "case.closed",
    ] {
        assert!(types.contains(&t), "{t} in {types:?}");
    }
    let times: Vec<&str> = seen.iter().map(|i| i["at"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first");
    let unique: std::collections::HashSet<String> = seen
        .iter()
        .map(|i| format!("{}{}", i["type"], i["ref"]["id"]))
        .collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates across pages");
    assert_eq!(types.last(), Some(&"case.opened"));
}

#[actix_web::test]
async fn rule_4_the_holder_cannot_remove_a_guardian_who_must_consent() {
    let f = family().await;
    f.consent_ok(&[&f.mother_id], &[BARNEHAGE]).await;
    let before = f.app.table_counts();
    let res = f
        .post(
            &format!("/participants/{}/deactivate", f.father_id),
            &f.ola,
            &json!({}),
        )
        .await;
    assert!(problem(res, 409).await["detail"]
        .as_str()
        .unwrap()
        .contains("rule 4"));
    let res = f
        .app
        .request(
            Method::PATCH,
            &f.path(&format!("/participants/{}", f.father_id)),
            Some(&f.ola),
        )
        .json(&json!({"parental_responsibility": false}))
        .send()
        .await
        .unwrap();
    problem(res, 409).await;
    assert_eq!(f.app.table_counts(), before);
    problem(f.level(1).await, 409).await;
    // The father still reads his child's case.
    assert_eq!(f.get("", &f.father).await.status(), 200);
}

#[actix_web::test]
async fn rule_5_only_a_giver_or_the_holder_replaces_a_consent() {
    let birth = (today() - chrono::Months::new(12 * 16)).to_string();
    let f = family_with_subject(&birth).await;
    let res = f
        .post(
            "/participants",
            &f.ola,
            &json!({"kind": "youth", "name": "Emma Testesen", "national_id": synthetic_id(1)}),
        )
        .await;
    let youth_id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let own = f.consent_ok(&[&youth_id], &[BARNEHAGE, PPT]).await;
    let before = f.app.table_counts();
    let res = f
        .post(
            "/consents",
            &f.mother,
            &json!({"given_by": [f.mother_id], "services": [BARNEHAGE], "purpose": "x",
        "valid_from": today(), "form": "digital", "supersedes": own["id"]}),
        )
        .await;
    problem(res, 403).await;
    assert_eq!(f.app.table_counts(), before);
    // The holder may replace it; replacing it again is a conflict, not a server error.
    let body = json!({"given_by": [youth_id], "services": [BARNEHAGE], "purpose": "x", "valid_from": today(), "form": "written", "supersedes": own["id"]});
    assert_eq!(f.post("/consents", &f.ola, &body).await.status(), 201);
    problem(f.post("/consents", &f.ola, &body).await, 409).await;
}

#[actix_web::test]
async fn rule_5_expiry_closes_the_case_once_however_many_read_it_at_once() {
    let f = family().await;
    let c = f
        .consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE])
        .await;
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!("UPDATE consents SET valid_from = current_date - 30, valid_until = current_date - 1 WHERE id = '{}'",
            c["id"].as_str().unwrap())),
        &mut f.app.db(),
    ).unwrap();
    // Released together at a barrier; each read notes when it was sent and answered.
    let barrier = tokio::sync::Barrier::new(20);
    let reads = (0..20).map(|i| {
        let token = if i % 2 == 0 {
            f.ola.clone()
        } else {
            f.mother.clone()
        };
        let path = f.path("");
        let (app, barrier) = (&f.app, &barrier);
        async move {
            barrier.wait().await;
            let sent = std::time::Instant::now();
            let status = app.get(&path, &token).await.status().as_u16();
            (status, sent, std::time::Instant::now())
        }
    });
    let answers = futures_util::future::join_all(reads).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    // "At once": the last read was sent before the first answer came back, so all were in flight together.
    let last_sent = answers.iter().map(|a| a.1).max().unwrap();
    let first_answered = answers.iter().map(|a| a.2).min().unwrap();
    assert!(last_sent < first_answered, "the reads did not overlap");
    let case = f.json("", &f.ola).await;
    assert_eq!(
        (
            case["status"].as_str(),
            case["close_reason"].as_str(),
            case["version"].as_i64()
        ),
        (Some("closed"), Some("consent_expired"), Some(2))
    );
    assert_eq!(
        f.app.count(&format!(
            "access_events WHERE case_id = '{}' AND actor_role = 'system' AND action = 'close'",
            f.case_id
        )),
        1
    );
}

/// The family withdraws the only consent: the kindergarten loses coverage and the case closes.
async fn closed_by_withdrawal(f: &Family) -> Value {
    let consent = f
        .consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE])
        .await;
    assert_eq!(f.level(1).await.status(), 201);
    let res = f
        .post(
            &format!("/consents/{}/withdraw", consent["id"].as_str().unwrap()),
            &f.mother,
            &json!({"reason": "Vi vil tenke oss om"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let case = f.json("", &f.ola).await;
    assert_eq!(case["close_reason"], "consent_withdrawn");
    case
}

pub(crate) async fn reopen(f: &Family, token: &str, if_match: &str) -> reqwest::Response {
    f.app
        .request(Method::POST, &f.path("/reopen"), Some(token))
        .header("if-match", if_match)
        .json(&json!({"reason": "Foreldrene samtykker igjen"}))
        .send()
        .await
        .unwrap()
}

#[actix_web::test]
async fn a_case_closed_by_a_withdrawn_consent_is_reopened_by_its_last_holder_with_its_history() {
    let f = family().await;
    closed_by_withdrawal(&f).await;
    let v = f.version().await;
    // Only the last stafettholder reopens it.
    problem(reopen(&f, &f.mother, &v).await, 403).await;
    problem(reopen(&f, &f.pia, &v).await, 404).await;
    problem(reopen(&f, &f.ola, "\"1\"").await, 412).await;
    let res = reopen(&f, &f.ola, &v).await;
    assert_eq!(res.status(), 200);
    let case: Value = res.json().await.unwrap();
    assert_eq!(
        (case["status"].as_str(), case["level"].as_i64()),
        (Some("open"), Some(0))
    );
    assert_eq!(case["close_reason"], Value::Null);
    assert!(case["decision_due"].is_string());
    assert_eq!(case["guide_step"]["level"], 0);
    // Its history stays: the level back to 0, and the log says when and why it closed.
    let levels = f.json("/level-changes", &f.ola).await;
    let last = levels["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["from_level"].as_i64(), last["to_level"].as_i64()),
        (Some(1), Some(0))
    );
    let entries = f.json("/entries", &f.mother).await;
    let reopened = entries["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["title"] == "Saken er gjenåpnet")
        .cloned()
        .unwrap();
    assert!(
        reopened["body"]
            .as_str()
            .unwrap()
            .contains("consent_withdrawn"),
        "{reopened}"
    );
    let types = f
        .app
        .feed_types(
            &f.app
                .token("3805", "arkiv", &[Role::Integration], &[BARNEHAGE]),
        )
        .await;
    assert!(types.contains(&"case.reopened".to_string()), "{types:?}");
    // The timeline the family reads still shows the closing, then the reopening.
    let timeline = f.json("/timeline", &f.mother).await;
    let types = crate::support::item_types(&timeline);
    let at = |t: &str| {
        types
            .iter()
            .position(|x| *x == t)
            .unwrap_or_else(|| panic!("{t}: {types:?}"))
    };
    // Newest first.
    assert!(at("case.reopened") < at("case.closed"), "{types:?}");
    let closed = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "case.closed")
        .unwrap();
    assert!(
        closed["summary"]
            .as_str()
            .unwrap()
            .contains("consent_withdrawn"),
        "{closed}"
    );
    // Until a new consent is effective, level 0's rules apply; a new one lets it move on.
    problem(f.level(1).await, 409).await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE])
        .await;
    assert_eq!(f.level(1).await.status(), 201);
    // An open case is not reopened.
    problem(reopen(&f, &f.ola, &f.version().await).await, 409).await;
}

#[actix_web::test]
async fn a_case_closed_for_another_reason_is_not_reopened() {
    let f = family().await;
    let v = f.version().await;
    let res = f
        .app
        .request(Method::POST, &f.path("/close"), Some(&f.ola))
        .header("if-match", v)
        .json(&json!({"reason": "goal_reached"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let p = problem(reopen(&f, &f.ola, &f.version().await).await, 409).await;
    assert!(
        p["detail"].as_str().unwrap().contains("goal_reached"),
        "{p}"
    );
}

#[actix_web::test]
async fn a_case_reopened_after_its_consent_expired_stays_open_and_takes_a_new_consent() {
    let f = family().await;
    let consent = f
        .consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE])
        .await;
    // The consent ran out yesterday: the next touch settles it, and the case closes.
    diesel::connection::SimpleConnection::batch_execute(
        &mut f.app.db(),
        &format!(
            "UPDATE consents SET valid_from = current_date - 400, valid_until = current_date - 1 WHERE id = '{}'",
            consent["id"].as_str().unwrap()
        ),
    )
    .unwrap();
    assert_eq!(f.json("", &f.ola).await["close_reason"], "consent_expired");
    let res = reopen(&f, &f.ola, &f.version().await).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    // The old expiry was settled by the close: touching the case does not close it again.
    for _ in 0..2 {
        assert_eq!(f.json("", &f.ola).await["status"], "open");
    }
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE])
        .await;
    assert_eq!(f.level(1).await.status(), 201);
    assert_eq!(f.json("", &f.mother).await["status"], "open");
}
