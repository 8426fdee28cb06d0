//! Webhooks: a real HTTP receiver (tests/tools/webhook_receiver.py) verifies every delivery's signature with
//! the Standard Webhooks reference library; retries keep their `webhook-id`; a case the integration may no
//! longer read is not delivered; private addresses are refused.

use std::time::Duration;

use diesel::RunQueryDsl;
use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::family::{family_on, Family, BARNEHAGE, PPT};
use crate::notifications::delivery;
use crate::receivers::{eventually, eventually_async, free_port, Behaviour, Receiver};
use crate::support::{fields, problem, Options, TestApp};

/// A server whose webhooks may reach the receivers on this machine.
async fn family_with_local_webhooks() -> Family {
    let mut d = delivery(None);
    d.webhook_allow_http = true;
    d.webhook_allow_private = true;
    d.retries = vec![Duration::from_millis(300); 3];
    let app = TestApp::spawn_with(Options {
        delivery: d,
        ..Options::default()
    })
    .await;
    let born = stafettlogg::clock::today()
        .checked_sub_months(chrono::Months::new(12 * 6))
        .unwrap();
    family_on(app, &born.to_string()).await
}

fn ppt_system(f: &Family) -> String {
    f.app
        .token("3805", "ppt-system", &[Role::Integration], &[PPT])
}

async fn subscribe(f: &Family, token: &str, port: u16, events: &[&str]) -> Value {
    let res = f
        .app
        .post(
            "/api/v1/webhooks",
            token,
            &json!({"url": format!("http://127.0.0.1:{port}/hooks"), "events": events}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

fn receiver(port: u16, secret: &str, fail_first: u32, fail_always: bool) -> Receiver {
    Receiver::start(
        port,
        Behaviour {
            secret: Some(secret),
            fail_first,
            fail_always,
        },
    )
}

/// PPT covered by its own consent, and a PPT adviser in the case: the PPT system may read the case.
async fn ppt_in_case(f: &Family) -> Value {
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE])
        .await;
    let ppt = f.consent_ok(&[&f.mother_id, &f.father_id], &[PPT]).await;
    assert_eq!(f.add_professional("pia", PPT).await.status(), 201);
    ppt
}

/// A server, a case the PPT system may read, and its webhook (not yet listening) for `events`.
async fn subscribed(events: &[&str]) -> (Family, String, u16, Value) {
    let f = family_with_local_webhooks().await;
    ppt_in_case(&f).await;
    let token = ppt_system(&f);
    let port = free_port();
    let hook = subscribe(&f, &token, port, events).await;
    (f, token, port, hook)
}

/// The webhook's list of deliveries, as its integration reads it.
async fn deliveries(f: &Family, token: &str, id: &str) -> Value {
    let res = f
        .app
        .get(&format!("/api/v1/webhooks/{id}/deliveries"), token)
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// The webhooks `token` sees in its list.
async fn listed(f: &Family, token: &str) -> Value {
    let res = f.app.get("/api/v1/webhooks", token).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn add_entry(f: &Family) {
    let res = f
        .post(
            "/entries",
            &f.ola,
            &json!({"kind": "lysglimt", "occurred_at": chrono::Utc::now(), "body": "Emma lo i dag"}),
        )
        .await;
    assert_eq!(res.status(), 201);
}

#[actix_web::test]
async fn a_delivery_carries_ids_only_and_its_signature_verifies_with_the_reference_library() {
    let (f, token, port, hook) = subscribed(&["entry.added"]).await;
    let secret = hook["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(hook["state"], "active");
    let r = receiver(port, secret, 0, false);
    add_entry(&f).await;
    let got = eventually(30, "the delivery", || r.requests().pop()).await;
    assert_eq!(got["verified"], true, "{got}");
    assert!(got["id"].as_str().unwrap().starts_with("msg_"));
    let body: Value = serde_json::from_str(got["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["type"], "entry.added");
    assert_eq!(body["data"]["case_id"], f.case_id.as_str());
    assert!(body["data"]["seq"].as_i64().unwrap() > 0);
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["type", "timestamp", "data"]);
    assert!(!got["body"].as_str().unwrap().contains("Emma"));
    // The secret is shown once: the webhook as listed has none.
    let listed = listed(&f, &token).await;
    assert_eq!(listed["items"][0]["id"], hook["id"]);
    assert!(listed["items"][0].get("secret").is_none());
    assert!(!listed.to_string().contains(secret));
    // A test delivery reaches the receiver, signed the same way.
    let id = hook["id"].as_str().unwrap();
    let res = f
        .app
        .post(&format!("/api/v1/webhooks/{id}/test"), &token, &json!({}))
        .await;
    assert_eq!(res.status(), 202);
    let test = eventually(30, "the test delivery", || {
        r.requests()
            .into_iter()
            .find(|q| q["body"].as_str().unwrap().contains("webhook.test"))
    })
    .await;
    assert_eq!(test["verified"], true);
}

#[actix_web::test]
async fn a_failed_delivery_is_retried_with_the_same_webhook_id_and_repeated_failure_disables_it() {
    let (f, token, port, hook) = subscribed(&["entry.added"]).await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    let r = receiver(port, &secret, 1, false);
    add_entry(&f).await;
    let tries = eventually(30, "two tries", || {
        let all = r.requests();
        (all.len() >= 2).then_some(all)
    })
    .await;
    assert_eq!(tries[0]["status"], 500);
    assert_eq!(tries[1]["status"], 200);
    assert_eq!(
        tries[0]["id"], tries[1]["id"],
        "a retry keeps its webhook-id"
    );
    assert_eq!(tries[1]["verified"], true);
    let id = hook["id"].as_str().unwrap();
    let d = deliveries(&f, &token, id).await;
    assert_eq!(d["items"][0]["state"], "delivered", "{d}");
    assert_eq!(d["items"][0]["attempts"], 2);
    assert_eq!(d["items"][0]["id"], tries[0]["id"]);
    drop(r);
    // A receiver that always fails: after the last retry the webhook is disabled and says why.
    let _r = receiver(port, &secret, 0, true);
    add_entry(&f).await;
    let disabled = eventually_async(30, "the webhook disabled", || async {
        let w: Value = f
            .app
            .get(&format!("/api/v1/webhooks/{id}"), &token)
            .await
            .json()
            .await
            .unwrap();
        (w["state"] == "disabled").then_some(w)
    })
    .await;
    assert!(
        disabled["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("HTTP 500"),
        "{disabled}"
    );
    let res = f
        .app
        .post(&format!("/api/v1/webhooks/{id}/enable"), &token, &json!({}))
        .await;
    assert_eq!(res.status(), 200);
}

#[actix_web::test]
async fn an_integration_whose_service_loses_consent_gets_no_further_events_of_the_case() {
    let f = family_with_local_webhooks().await;
    let ppt = ppt_in_case(&f).await;
    let token = ppt_system(&f);
    let port = free_port();
    let hook = subscribe(&f, &token, port, &["entry.added", "consent.withdrawn"]).await;
    let r = receiver(port, hook["secret"].as_str().unwrap(), 0, false);
    add_entry(&f).await;
    eventually(30, "the first delivery", || r.requests().pop()).await;
    let res = f
        .post(
            &format!("/consents/{}/withdraw", ppt["id"].as_str().unwrap()),
            &f.mother,
            &json!({"reason": "Vil ikke lenger"}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    add_entry(&f).await;
    let id = hook["id"].as_str().unwrap();
    let of_hook = format!("webhook_deliveries WHERE webhook_id = '{id}'");
    eventually(30, "the later deliveries settled", || {
        let pending = f.app.count(&format!("{of_hook} AND state = 'pending'"));
        (f.app.count(&of_hook) == 3 && pending == 0).then_some(())
    })
    .await;
    // Skipped, and forgetting which case they were about; the list shows only the delivered one.
    let skipped = format!("{of_hook} AND state = 'skipped' AND case_id IS NULL AND seq IS NULL");
    assert_eq!(f.app.count(&skipped), 2);
    let d = deliveries(&f, &token, id).await;
    let items = d["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{d}");
    assert_eq!(items[0]["state"], "delivered");
    assert_eq!(items[0]["case_id"], f.case_id.as_str());
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        r.requests().len(),
        1,
        "nothing after the consent was withdrawn"
    );
}

/// A webhook acts for the services of the token that created it: a token of the same `sub` that does
/// not name them all neither sees nor manages it (its deliveries name cases of those services); one
/// that names them and more does.
#[actix_web::test]
async fn a_webhook_is_managed_only_by_a_token_that_names_all_its_services() {
    let (f, _token, _port, hook) = subscribed(&["entry.added"]).await;
    let id = hook["id"].as_str().unwrap();
    let path = format!("/api/v1/webhooks/{id}");
    let elsewhere = f
        .app
        .token("3805", "ppt-system", &[Role::Integration], &[BARNEHAGE]);
    assert_eq!(f.app.get(&path, &elsewhere).await.status(), 404);
    let deliveries = format!("{path}/deliveries");
    assert_eq!(f.app.get(&deliveries, &elsewhere).await.status(), 404);
    let list = listed(&f, &elsewhere).await;
    assert_eq!(list["items"], json!([]));
    let res = f
        .app
        .request(reqwest::Method::DELETE, &path, Some(&elsewhere))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    let wider = f.app.token(
        "3805",
        "ppt-system",
        &[Role::Integration],
        &[PPT, BARNEHAGE],
    );
    assert_eq!(f.app.get(&path, &wider).await.status(), 200);
    let list = listed(&f, &wider).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

/// A token naming no services would make a webhook that every token of its login could manage (no
/// service to compare): it is refused, and nothing is stored.
#[actix_web::test]
async fn a_token_that_names_no_services_cannot_make_a_webhook() {
    let (f, _token, port, _hook) = subscribed(&["entry.added"]).await;
    let none = f.app.token("3805", "ppt-system", &[Role::Integration], &[]);
    let before = f.app.table_counts();
    let res = f
        .app
        .post(
            "/api/v1/webhooks",
            &none,
            &json!({"url": format!("http://127.0.0.1:{port}/hooks"), "events": ["case.opened"]}),
        )
        .await;
    let p = problem(res, 403).await;
    assert!(p["detail"].as_str().unwrap().contains("services"), "{p}");
    assert_eq!(f.app.table_counts(), before);
}

/// A webhook that acts for no service (an older build let a token naming none create one) is nobody's to
/// see or manage: the empty list of services is contained in every token's.
#[actix_web::test]
async fn a_webhook_that_acts_for_no_service_is_managed_by_no_token_and_is_disabled() {
    use diesel_migrations::MigrationHarness;
    let (f, token, _port, hook) = subscribed(&["entry.added"]).await;
    let path = format!("/api/v1/webhooks/{}", hook["id"].as_str().unwrap());
    assert_eq!(f.app.get(&path, &token).await.status(), 200);
    // The database refuses an active webhook for no service...
    let refused = diesel::sql_query("UPDATE webhooks SET services = '{}'").execute(&mut f.app.db());
    assert!(refused.is_err(), "an active webhook for no service");
    // ...which an older build, before the constraint, let a token naming no services create.
    f.app
        .db()
        .revert_last_migration(stafettlogg::db::migrate::MIGRATIONS)
        .unwrap();
    diesel::sql_query("UPDATE webhooks SET services = '{}'")
        .execute(&mut f.app.db())
        .unwrap();
    stafettlogg::db::migrate::run_migrations(&f.app.db_url).unwrap();
    assert_eq!(
        f.app.count(
            "webhooks WHERE state = 'disabled' AND disabled_reason LIKE 'acts for no service%'"
        ),
        1
    );
    assert_eq!(f.app.get(&path, &token).await.status(), 404);
    let list = listed(&f, &token).await;
    assert_eq!(list["items"], json!([]));
}

#[actix_web::test]
async fn a_webhook_to_a_private_address_or_over_http_is_refused_without_the_settings() {
    let app = TestApp::spawn().await;
    let token = app.token("3805", "arkiv", &[Role::Integration], &[BARNEHAGE]);
    for url in [
        "https://127.0.0.1/hooks",
        "https://[::1]/hooks",
        "https://10.0.0.5/hooks",
        "https://169.254.169.254/latest",
        "https://localhost/hooks",
        "http://fagsystem.example.org/hooks",
        "https://user:pw@fagsystem.example.org/hooks",
        "not a url at all",
    ] {
        let res = app
            .post(
                "/api/v1/webhooks",
                &token,
                &json!({"url": url, "events": ["case.opened"]}),
            )
            .await;
        let p = problem(res, 422).await;
        assert_eq!(fields(&p), ["url"], "{url}: {p}");
    }
    for (body, field) in [
        (
            json!({"url": "https://x.example.org/", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://x.example.org/", "events": ["case.eaten"]}),
            "events[0]",
        ),
        (
            json!({"url": "https://x.example.org/", "events": ["case.opened"], "secret": "x"}),
            "secret",
        ),
        (
            json!({"url": "https://x.example.org/", "events": ["case.opened", "entry.added", "case.opened"]}),
            "events[2]",
        ),
    ] {
        let p = problem(app.post("/api/v1/webhooks", &token, &body).await, 422).await;
        assert_eq!(fields(&p), [field], "{body}");
    }
    let professional = app.token("3805", "ola", &[Role::Professional], &[BARNEHAGE]);
    let res = app
        .post(
            "/api/v1/webhooks",
            &professional,
            &json!({"url": "https://x.example.org/", "events": ["case.opened"]}),
        )
        .await;
    problem(res, 403).await;
    assert_eq!(app.count("webhooks"), 0);
    // Another integration's webhook is not there for this one.
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/v1/webhooks/{}", uuid::Uuid::now_v7()),
            Some(&token),
        )
        .send()
        .await
        .unwrap();
    problem(res, 404).await;
}
