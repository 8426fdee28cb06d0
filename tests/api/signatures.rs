//! A digital consent names every giver the rule requires and is effective only once
//! each has signed it themselves.

use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::family::{family, Family, BARNEHAGE, PPT};
use crate::support::{fields, problem};

async fn mothers_consent(f: &Family, givers: &[&str]) -> reqwest::Response {
    f.post(
        "/consents",
        &f.mother,
        &json!({"given_by": givers, "services": [BARNEHAGE, PPT], "purpose": "Samarbeid om Emma",
            "valid_from": stafettlogg::clock::today(), "form": "digital"}),
    )
    .await
}

async fn sign(f: &Family, consent: &str, token: &str) -> reqwest::Response {
    f.post(&format!("/consents/{consent}/sign"), token, &json!({}))
        .await
}

#[actix_web::test]
async fn two_guardians_consent_is_effective_only_after_both_signed_and_only_then_allows_level_1() {
    let f = family().await;
    let res = mothers_consent(&f, &[&f.mother_id, &f.father_id]).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let c: Value = res.json().await.unwrap();
    let cid = c["id"].as_str().unwrap().to_string();
    assert_eq!(c["state"], "pending_signatures");
    assert_eq!(c["signed_by"], json!([f.mother_id]));
    assert_eq!(c["missing_signatures"], json!([f.father_id]));
    let effective = f.json("/consents/effective", &f.ola).await;
    assert_eq!(effective["effective"], false);
    assert_eq!(
        effective["not_effective"][0]["reasons"],
        json!(["pending_signatures"])
    );
    assert_eq!(
        effective["not_effective"][0]["missing_signatures"],
        json!([f.father_id])
    );
    // Rule 2: no level 1 on a consent still collecting signatures.
    let p = problem(f.level(1).await, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("consent"), "{p}");

    let signed: Value = sign(&f, &cid, &f.father).await.json().await.unwrap();
    assert_eq!(signed["state"], "active");
    assert_eq!(signed["missing_signatures"], json!([]));
    let effective = f.json("/consents/effective", &f.ola).await;
    assert_eq!(effective["effective"], true);
    assert_eq!(effective["services"], json!([BARNEHAGE, PPT]));
    assert_eq!(f.level(1).await.status(), 201);
    let timeline = f.json("/timeline", &f.mother).await;
    assert!(timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["type"] == "consent.signed"
            && i["summary"].as_str().unwrap().contains("Far Testesen")));
    let system = f
        .app
        .token("3805", "system", &[Role::Integration], &[BARNEHAGE]);
    assert!(f
        .app
        .feed_types(&system)
        .await
        .contains(&"consent.signed".to_string()));
    let log = f.json("/access-log", &f.mother).await;
    assert!(log["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "sign" && e["actor"]["user_id"] == "far"));
}

#[actix_web::test]
async fn nobody_signs_for_another_nor_twice_nor_a_paper_or_withdrawn_consent() {
    let f = family().await;
    let c: Value = mothers_consent(&f, &[&f.mother_id, &f.father_id])
        .await
        .json()
        .await
        .unwrap();
    let cid = c["id"].as_str().unwrap().to_string();
    // The stafettholder (who can read the case) may not sign for the father; nor can a stranger.
    let p = problem(sign(&f, &cid, &f.ola).await, 403).await;
    assert!(p["detail"].as_str().unwrap().contains("given_by"), "{p}");
    let neighbour = f
        .app
        .citizen_token("nabo", Role::Guardian, &crate::support::synthetic_id(9));
    problem(sign(&f, &cid, &neighbour).await, 404).await;
    // The recorder signed by recording: twice is a conflict.
    problem(sign(&f, &cid, &f.mother).await, 409).await;
    // A written consent the holder recorded is given by all; there is nothing to sign.
    let written = f
        .consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE])
        .await;
    problem(
        sign(&f, written["id"].as_str().unwrap(), &f.father).await,
        409,
    )
    .await;
    // Withdrawn by the mother (any giver may withdraw): the father's signature comes too late.
    let res = f
        .post(
            &format!("/consents/{cid}/withdraw"),
            &f.mother,
            &json!({"reason": "Vi tenker oss om"}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let p = problem(sign(&f, &cid, &f.father).await, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("withdrawn"), "{p}");
    assert_eq!(
        f.app.count(&format!(
            "consent_givers WHERE consent_id = '{cid}' AND signed_at IS NOT NULL"
        )),
        1,
        "only the mother's signature"
    );
}

#[actix_web::test]
async fn a_guardian_records_a_digital_consent_she_gives_herself() {
    let f = family().await;
    let p = problem(mothers_consent(&f, &[&f.father_id]).await, 422).await;
    assert_eq!(fields(&p), vec!["given_by"]);
    // Alone, as before: signed by recording it, but not effective without the father (rule 4).
    let c: Value = mothers_consent(&f, &[&f.mother_id])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["state"], "active");
    assert_eq!(c["missing_signatures"], json!([]));
    let effective = f.json("/consents/effective", &f.ola).await;
    assert_eq!(
        effective["not_effective"][0]["reasons"],
        json!(["missing_giver"])
    );
}
