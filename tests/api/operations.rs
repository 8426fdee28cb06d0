//! What operators see: metrics on their own listener, JSON log lines that carry the request id, the cause
//! of a 500 next to that id, and never a national id in a log line.

use std::collections::BTreeSet;
use std::net::TcpListener;

use diesel::connection::SimpleConnection;
use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::support::{logs, synthetic_id, Options, TestApp};

/// The JSON log lines whose span carries `request_id`.
/// The log lines of one request, once one of them is `wanted`, or whatever there is after 5 s: the
/// access line is written as the response finishes, which may be after the client has read it.
async fn lines_of(request_id: &str, wanted: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let lines: Vec<Value> = logs()
            .text()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("every log line is one JSON object"))
            .filter(|v| v["span"]["request_id"] == request_id)
            .collect();
        if lines.iter().any(&wanted) || std::time::Instant::now() > deadline {
            return lines;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn is_database_error(l: &Value) -> bool {
    l["level"] == "ERROR"
        && l["message"]
            .as_str()
            .unwrap_or_default()
            .contains("database error")
}

#[actix_web::test]
async fn metrics_are_served_on_the_private_listener_and_not_on_the_public_port() {
    let metrics = TcpListener::bind("127.0.0.1:0").unwrap();
    let metrics_url = format!("http://{}/metrics", metrics.local_addr().unwrap());
    let app = TestApp::spawn_with(Options {
        metrics_listener: Some(metrics),
        ..Default::default()
    })
    .await;
    let ola = app.token("3805", "ola", &[Role::Professional], &["barnehage-solstua"]);
    app.service("3805", "barnehage-solstua", "barnehage").await;
    let case = app.open_case(&ola, "barnehage-solstua", "Emma").await;
    let res = app
        .get(
            &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
            &ola,
        )
        .await;
    assert_eq!(res.status(), 200);

    let public = app
        .request(Method::GET, "/metrics", None)
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404, "metrics never on the public port");

    let res = reqwest::get(&metrics_url).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = res.text().await.unwrap();
    for expected in [
        r#"stafettlogg_http_requests_total{method="GET",route="/api/v1/cases/{id}",status="200"} 1"#,
        r#"stafettlogg_http_requests_total{method="POST",route="/api/v1/cases",status="201"} 1"#,
        r#"stafettlogg_http_request_duration_seconds_count{method="GET",route="/api/v1/cases/{id}",status="200"} 1"#,
        r#"stafettlogg_db_pool_connections{state="in_use"}"#,
        r#"stafettlogg_db_pool_connections{state="idle"}"#,
        r#"stafettlogg_db_pool_connections{state="waiting"}"#,
        r#"stafettlogg_build_info{version=""#,
    ] {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }
    // The case opening wrote at least one change event; the gauge sums the municipalities' sequences.
    let seq = text
        .lines()
        .find_map(|l| l.strip_prefix("stafettlogg_feed_events "))
        .expect("feed sequence gauge");
    assert!(seq.parse::<i64>().unwrap() >= 1, "feed sequence {seq}");
    // Unknown paths share one label instead of one series per URL.
    assert!(!text.contains("/metrics\""));
}

#[actix_web::test]
async fn a_json_log_line_parses_and_carries_the_request_id_the_client_saw() {
    let app = TestApp::spawn().await;
    let ola = app.token("3805", "ola", &[Role::Professional], &[]);
    // Letters for the uuid's digits: 11 digits in a row (a possible national id) would be replaced.
    let id: String = format!("log-{}", uuid::Uuid::now_v7().simple())
        .chars()
        .map(|c| c.to_digit(10).map_or(c, |d| char::from(b'g' + d as u8)))
        .collect();
    let res = app
        .request(Method::GET, "/api/v1/me", Some(&ola))
        .header("x-request-id", &id)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], id.as_str());
    let lines = lines_of(&id, |l| l["message"] == "request").await;
    let access = lines
        .iter()
        .find(|l| l["message"] == "request")
        .unwrap_or_else(|| panic!("no access line for {id}: {lines:?}"));
    assert_eq!(access["status"], 200);
    assert_eq!(access["span"]["route"], "/api/v1/me");
    assert_eq!(access["span"]["method"], "GET");
    assert!(access["timestamp"].is_string() && access["level"] == "INFO");
}

#[actix_web::test]
async fn the_cause_of_a_500_is_logged_with_the_request_id_the_client_saw() {
    let app = TestApp::spawn().await;
    app.service("3805", "barnehage-solstua", "barnehage").await;
    let ola = app.token("3805", "ola", &[Role::Professional], &["barnehage-solstua"]);
    let case = app.open_case(&ola, "barnehage-solstua", "Emma").await;
    // Break this test's own database under the server: reading a case writes an access event.
    app.db()
        .batch_execute("ALTER TABLE access_events RENAME TO access_events_gone")
        .unwrap();
    let res = app
        .get(
            &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
            &ola,
        )
        .await;
    assert_eq!(res.status(), 500);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    let lines = lines_of(&id, is_database_error).await;
    let cause = lines
        .iter()
        .find(|l| is_database_error(l))
        .unwrap_or_else(|| panic!("no logged cause for {id}: {lines:?}"));
    assert_eq!(cause["span"]["request_id"], id.as_str());
    assert!(lines
        .iter()
        .any(|l| l["level"] == "ERROR" && l["status"] == 500));
}

/// 11-digit runs in `text` that pass the national-id check digits.
fn national_ids_in(text: &str) -> Vec<String> {
    // UUIDs (request ids, case ids) are not national ids, even when 11 of their hex digits are decimal.
    let uuid = regex_lite::Regex::new(
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    )
    .unwrap();
    let text = uuid.replace_all(text, "-");
    let re = regex_lite::Regex::new(r"\d{11,}").unwrap();
    re.find_iter(&text)
        .map(|m| m.as_str())
        .filter(|s| s.len() == 11 && stafettlogg::national_id::NationalId::parse(s).is_ok())
        .map(str::to_string)
        .collect()
}

#[actix_web::test]
async fn no_national_id_or_name_reaches_a_log_line() {
    let app = TestApp::spawn().await;
    app.service("3805", "barnehage-solstua", "barnehage").await;
    let ola = app.token("3805", "ola", &[Role::Professional], &["barnehage-solstua"]);
    let child = synthetic_id(301);
    let mother = synthetic_id(302);
    let res = app
        .post(
            "/api/v1/cases",
            &ola,
            &json!({"service": "barnehage-solstua", "concern": "Hemmelig bekymring Zyxwvu",
                    "subject": {"kind": "child", "given_name": "Qwertine", "family_name": "Logtestesen",
                                "national_id": child}}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let case: Value = res.json().await.unwrap();
    let cid = case["id"].as_str().unwrap();
    let res = app
        .post(
            &format!("/api/v1/cases/{cid}/participants"),
            &ola,
            &json!({"kind": "guardian", "name": "Qwertine Mor", "relation": "mother",
                    "parental_responsibility": true, "national_id": mother}),
        )
        .await;
    assert_eq!(res.status(), 201);
    // A refused national id (wrong check digits) and a guardian's token carrying one as `pid`.
    let res = app
        .post(
            &format!("/api/v1/cases/{cid}/participants"),
            &ola,
            &json!({"kind": "guardian", "name": "X", "relation": "father",
                    "parental_responsibility": true, "national_id": "14832010083"}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let kari = app.citizen_token("kari", Role::Guardian, &mother);
    assert_eq!(
        app.get(&format!("/api/v1/cases/{cid}"), &kari)
            .await
            .status(),
        200
    );
    let res = app
        .request(
            Method::GET,
            "/api/v1/cases?ref=visma:14832010082",
            Some(&ola),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let text = logs().text();
    assert!(!text.is_empty());
    assert_eq!(national_ids_in(&text), Vec::<String>::new());
    for secret in [
        &child,
        &mother,
        "14832010083",
        "Qwertine",
        "Logtestesen",
        "Zyxwvu",
    ] {
        assert!(!text.contains(secret), "{secret} appears in a log line");
    }
}

#[test]
fn the_national_id_scan_finds_one() {
    assert_eq!(
        national_ids_in("x 14832010082 y 12345678901 01a21844-a5f6-7593-8be0-a14832010082"),
        vec!["14832010082"]
    );
}

/// States are enums end to end: a word the code does not know, read from the database, is an error that is
/// logged (and a 500), never silently taken for some default.
#[actix_web::test]
async fn an_unknown_word_in_the_database_is_an_error_not_a_silent_default() {
    let app = TestApp::spawn().await;
    app.service("3805", "barnehage-solstua", "barnehage").await;
    let admin = app.token("3805", "anne", &[Role::Admin], &[]);
    assert_eq!(app.get("/api/v1/services", &admin).await.status(), 200);
    app.db()
        .batch_execute(
            "ALTER TABLE services DROP CONSTRAINT services_kind_check; \
             UPDATE services SET kind = 'skolebuss'",
        )
        .unwrap();
    let res = app.get("/api/v1/services", &admin).await;
    assert_eq!(res.status(), 500);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(lines_of(&id, is_database_error)
        .await
        .iter()
        .any(is_database_error));
}

/// A number out of its range is an error when read, as an unknown word is: a self-consent age read as 0
/// would let every youth consent alone and read every case their family is in.
#[actix_web::test]
async fn a_self_consent_age_out_of_range_in_the_database_is_an_error_not_0() {
    let app = TestApp::spawn().await;
    app.service("3805", "barnehage-solstua", "barnehage").await;
    let ola = app.token("3805", "ola", &[Role::Professional], &["barnehage-solstua"]);
    let case = app.open_case(&ola, "barnehage-solstua", "Emma").await;
    let path = format!("/api/v1/cases/{}", case["id"].as_str().unwrap());
    let admin = app.token("3805", "anne", &[Role::Admin], &[]);
    assert_eq!(app.get(&path, &ola).await.status(), 200);
    assert_eq!(app.get("/api/v1/municipality", &admin).await.status(), 200);
    let refused = app
        .db()
        .batch_execute("UPDATE municipalities SET self_consent_age = -1");
    assert!(refused.is_err(), "the database refuses it by its CHECK");
    app.db()
        .batch_execute(
            "ALTER TABLE municipalities DROP CONSTRAINT municipalities_self_consent_age_check; \
             UPDATE municipalities SET self_consent_age = -1",
        )
        .unwrap();
    let res = app.get(&path, &ola).await;
    assert_eq!(res.status(), 500);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(lines_of(&id, is_database_error)
        .await
        .iter()
        .any(is_database_error));
    assert_eq!(app.get("/api/v1/municipality", &admin).await.status(), 500);
}

/// The words of a CHECK constraint of the form `column IN ('a', 'b')`, as PostgreSQL prints it back.
fn words_allowed_by(app: &TestApp, table: &str, constraint: &str) -> BTreeSet<String> {
    #[derive(diesel::QueryableByName)]
    struct Definition {
        #[diesel(sql_type = diesel::sql_types::Text)]
        definition: String,
    }
    let found: Vec<Definition> = diesel::RunQueryDsl::load(
        diesel::sql_query(format!(
            "SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint \
             WHERE conrelid = '{table}'::regclass AND conname = '{constraint}'"
        )),
        &mut app.db(),
    )
    .unwrap();
    assert_eq!(found.len(), 1, "{table} has one {constraint}");
    let word = regex_lite::Regex::new(r"'([^']*)'::text").unwrap();
    word.captures_iter(&found[0].definition)
        .map(|c| c[1].to_string())
        .collect()
}

/// Every word of a text enum, as the code writes and reads it.
fn words_of<T: strum::VariantArray + Copy + Into<&'static str>>() -> BTreeSet<String> {
    T::VARIANTS
        .iter()
        .map(|v| (*v).into().to_string())
        .collect()
}

/// What the code writes and what the database allows are one list: a word the code writes but the
/// constraint refuses fails a request, and a word the constraint allows but the enum lacks fails every
/// later read of that row.
#[actix_web::test]
async fn each_stored_enum_spells_exactly_the_words_its_check_constraint_allows() {
    use stafettlogg::access_log::store::{Action, Basis, Resource};
    use stafettlogg::changes::api::ChangeType;
    use stafettlogg::http::idempotency::rules::KeyState;
    use stafettlogg::meetings::api::{InviteeResponse, MeetingKind, MeetingState};
    use stafettlogg::notifications::api::{Channel, NotificationEvent, NotificationState};
    use stafettlogg::plans::api::{PlanKind, PlanState};
    use stafettlogg::webhooks::api::{DeliveryState, WebhookState};
    let app = TestApp::spawn().await;
    let columns = [
        (
            "access_events",
            "access_events_action_check",
            words_of::<Action>(),
        ),
        (
            "access_events",
            "access_events_basis_check",
            words_of::<Basis>(),
        ),
        (
            "access_events",
            "access_events_resource_check",
            words_of::<Resource>(),
        ),
        (
            "change_events",
            "change_events_type_check",
            words_of::<ChangeType>(),
        ),
        (
            "idempotency_keys",
            "idempotency_keys_state_check",
            words_of::<KeyState>(),
        ),
        (
            "notifications",
            "notifications_event_check",
            words_of::<NotificationEvent>(),
        ),
        (
            "notifications",
            "notifications_channel_check",
            words_of::<Channel>(),
        ),
        (
            "notifications",
            "notifications_state_check",
            words_of::<NotificationState>(),
        ),
        (
            "webhooks",
            "webhooks_state_check",
            words_of::<WebhookState>(),
        ),
        (
            "webhook_deliveries",
            "webhook_deliveries_state_check",
            words_of::<DeliveryState>(),
        ),
        ("plans", "plans_kind_check", words_of::<PlanKind>()),
        (
            "level0_decisions",
            "level0_decisions_outcome_check",
            words_of::<stafettlogg::decisions::api::DecisionOutcome>(),
        ),
        (
            "log_entries",
            "log_entries_kind_check",
            words_of::<stafettlogg::entries::api::EntryKind>(),
        ),
        (
            "consultations",
            "consultations_age_group_check",
            words_of::<stafettlogg::consultations::api::AgeGroup>(),
        ),
        (
            "survey_questions",
            "survey_questions_kind_check",
            words_of::<stafettlogg::surveys::api::QuestionKind>(),
        ),
        ("plans", "plans_state_check", words_of::<PlanState>()),
        ("meetings", "meetings_kind_check", words_of::<MeetingKind>()),
        (
            "meetings",
            "meetings_state_check",
            words_of::<MeetingState>(),
        ),
        (
            "meeting_invitees",
            "meeting_invitees_response_check",
            words_of::<InviteeResponse>(),
        ),
    ];
    for (table, constraint, words) in columns {
        let allowed = words_allowed_by(&app, table, constraint);
        assert!(words.len() >= 2, "{constraint}: {words:?}");
        assert_eq!(allowed, words, "{constraint}");
    }
}
