//! Rule 12: the level-0 period ends in one recorded decision of the stafettholder (close, level 1,
//! level 2, or a report to child welfare), and rule 11: a report to child welfare is the reporting
//! service's record, never a trace in what the family, other services or integrations read.

use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::archive::{pdf_of, pdf_text};
use crate::family::{family, Family, BARNEHAGE, PPT};
use crate::support::{fields, problem};

fn today() -> chrono::NaiveDate {
    stafettlogg::clock::today()
}

/// Records a decision as `token` with the case's current ETag.
async fn decide(f: &Family, token: &str, body: Value) -> reqwest::Response {
    let v = f.version().await;
    f.app
        .request(Method::POST, &f.path("/decision"), Some(token))
        .header("if-match", v)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The stafettholder records a decision, which must succeed; the decision.
async fn holder_decides(f: &Family, body: Value) -> Value {
    decided(decide(f, &f.ola, body).await).await
}

async fn decided(res: reqwest::Response) -> Value {
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, 201, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn outcomes(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["outcome"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn rule_12_a_decision_for_level_1_goes_through_the_level_rules_once_per_level_0_period() {
    let f = family().await;
    // Reading the case's ETag leaves an access event: compare everything else.
    let written = |f: &Family| {
        let mut counts = f.app.table_counts();
        counts.retain(|(t, _)| !t.starts_with("access_events"));
        counts
    };
    let before = written(&f);
    // Level 1 needs a consent covering the holder's service (rule 2): nothing is written without it.
    let p = problem(
        decide(
            &f,
            &f.ola,
            json!({"outcome": "level_1", "decided_on": today()}),
        )
        .await,
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("rule 2"), "{p}");
    assert_eq!(written(&f), before, "no half-written decision");
    // Not in the future, not before the level-0 period began.
    for day in [today().succ_opt().unwrap(), today().pred_opt().unwrap()] {
        let res = decide(&f, &f.ola, json!({"outcome": "close", "decided_on": day})).await;
        assert_eq!(fields(&problem(res, 422).await), ["decided_on"]);
    }
    // The holder's alone, with the case's version.
    let res = decide(
        &f,
        &f.mother,
        json!({"outcome": "close", "decided_on": today()}),
    )
    .await;
    problem(res, 403).await;
    let res = f
        .post(
            "/decision",
            &f.ola,
            &json!({"outcome": "close", "decided_on": today()}),
        )
        .await;
    problem(res, 428).await;
    let res = decide(
        &f,
        &f.ola,
        json!({"outcome": "barnevern", "decided_on": today()}),
    )
    .await;
    assert!(res.status().is_client_error());

    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE])
        .await;
    let d = holder_decides(
        &f,
        json!({"outcome": "level_1", "decided_on": today(), "note": "Foreldrene ønsker tiltak"}),
    )
    .await;
    assert_eq!(d["outcome"], "level_1");
    assert_eq!(d["service"], BARNEHAGE);
    let case = f.json("", &f.mother).await;
    assert_eq!(case["level"], 1);
    assert!(case["decision_due"].is_null());
    let levels = f.json("/level-changes", &f.ola).await;
    assert_eq!(levels["items"][0]["reason"], "Foreldrene ønsker tiltak");
    // A decision ends level 0: at level 1 there is none to take.
    let res = decide(
        &f,
        &f.ola,
        json!({"outcome": "level_2", "decided_on": today()}),
    )
    .await;
    problem(res, 409).await;
    // The family reads the decision.
    assert_eq!(
        outcomes(&f.json("/decisions", &f.mother).await),
        ["level_1"]
    );
    // Back at level 0, a new period begins, and with it room for its own decision.
    assert_eq!(f.level(0).await.status(), 201);
    holder_decides(&f, json!({"outcome": "level_2", "decided_on": today()})).await;
    assert_eq!(f.json("", &f.ola).await["level"], 2);
    assert_eq!(
        outcomes(&f.json("/decisions", &f.mother).await),
        ["level_1", "level_2"]
    );
}

#[actix_web::test]
async fn rule_12_a_decision_to_close_closes_the_case_for_no_further_need() {
    let f = family().await;
    let d = holder_decides(
        &f,
        json!({"outcome": "close", "decided_on": today(), "note": "Ingen videre bekymring"}),
    )
    .await;
    assert_eq!(d["outcome"], "close");
    let case = f.json("", &f.ola).await;
    assert_eq!(case["status"], "closed");
    assert_eq!(case["close_reason"], "no_need");
    assert!(f
        .app
        .feed_types(
            &f.app
                .token("3805", "arkiv", &[Role::Integration], &[BARNEHAGE])
        )
        .await
        .contains(&"case.closed".to_string()));
}

#[actix_web::test]
async fn rule_12_an_overdue_decision_waits_in_what_needs_me_until_it_is_recorded() {
    let f = family().await;
    let mut db = f.app.db();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE cases SET decision_due = current_date - 3 WHERE id = '{}'",
            f.case_id
        )),
        &mut db,
    )
    .unwrap();
    // Ola wants e-mail: the reminders' pass tells him of the overdue decision.
    diesel::RunQueryDsl::execute(
        diesel::sql_query(
            "INSERT INTO notification_settings (municipality, user_id, email, email_on, roles, services) \
             VALUES ('3805', 'ola', 'ola@example.org', true, '{professional}', '{barnehage-solstua}')",
        ),
        &mut db,
    )
    .unwrap();
    let reminded = |f: &Family, db: &mut diesel::PgConnection| {
        diesel::RunQueryDsl::execute(
            diesel::sql_query("SELECT enqueue_reminders(current_date)"),
            db,
        )
        .unwrap();
        let n = f.app.count(&format!(
            "notifications WHERE event = 'decision.overdue' AND case_id = '{}'",
            f.case_id
        ));
        diesel::RunQueryDsl::execute(diesel::sql_query("DELETE FROM notifications"), db).unwrap();
        n
    };
    assert_eq!(reminded(&f, &mut db), 1);
    let overdue = |a: &Value| a["overdue_level0_decisions"].as_array().unwrap().len();
    let attention: Value = f
        .app
        .get("/api/v1/me/attention", &f.ola)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(overdue(&attention), 1);
    let lea = f.app.token("3805", "lea", &[Role::Leader], &[BARNEHAGE]);
    let path = format!("/api/v1/services/{BARNEHAGE}/cases");
    let listed: Value = f.app.get(&path, &lea).await.json().await.unwrap();
    assert!(listed["items"][0]["decision_due"].is_string());
    assert!(listed["items"][0]["reported_to_child_welfare"].is_null());

    holder_decides(
        &f,
        json!({"outcome": "report_child_welfare", "decided_on": today()}),
    )
    .await;
    let attention: Value = f
        .app
        .get("/api/v1/me/attention", &f.ola)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(overdue(&attention), 0);
    // The leader of the holder's service sees that it was reported (never what), and nothing is overdue.
    let listed: Value = f.app.get(&path, &lea).await.json().await.unwrap();
    assert!(listed["items"][0]["decision_due"].is_null());
    assert_eq!(
        listed["items"][0]["reported_to_child_welfare"],
        json!(today())
    );
    // One decision per level-0 period: the case stays at level 0, and a second decision is refused.
    let res = decide(
        &f,
        &f.ola,
        json!({"outcome": "close", "decided_on": today()}),
    )
    .await;
    let p = problem(res, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("already"), "{p}");
    // The reminders' pass does not remind of it either.
    assert_eq!(reminded(&f, &mut db), 0);
}

/// Every read of the case that the family, the other services and the integrations make, as text.
async fn family_facing_reads(f: &Family, pia: &str, integration: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (who, token) in [("mother", &f.mother), ("pia", &pia.to_string())] {
        for rest in ["", "/timeline", "/entries", "/decisions", "/level-changes"] {
            let res = f.get(rest, token).await;
            assert_eq!(res.status(), 200, "{who} GET {rest}");
            out.push((format!("{who} {rest}"), res.text().await.unwrap()));
        }
    }
    for rest in ["/access-log", "/export"] {
        out.push((
            format!("mother {rest}"),
            f.get(rest, &f.mother).await.text().await.unwrap(),
        ));
    }
    let me: Value = f
        .app
        .get("/api/v1/me/data", &f.mother)
        .await
        .json()
        .await
        .unwrap();
    out.push(("mother /me/data".into(), me.to_string()));
    let pdf = pdf_of(&f.app, &f.path("/export"), &f.mother).await;
    out.push(("mother PDF".into(), pdf_text(&pdf, "decisions-family.pdf")));
    let my_pdf = pdf_of(&f.app, "/api/v1/me/data", &f.mother).await;
    out.push((
        "mother /me/data PDF".into(),
        pdf_text(&my_pdf, "decisions-me.pdf"),
    ));
    let feed: Value = f
        .app
        .get("/api/v1/changes?after=0&limit=1000", integration)
        .await
        .json()
        .await
        .unwrap();
    out.push(("integration feed".into(), feed.to_string()));
    let res = f.get("", integration).await;
    out.push(("integration case".into(), res.text().await.unwrap()));
    out
}

#[actix_web::test]
async fn rule_11_a_report_to_child_welfare_leaves_no_trace_in_what_the_family_reads() {
    let f = family().await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, PPT])
        .await;
    assert_eq!(f.add_professional("pia", PPT).await.status(), 201);
    let integration = f
        .app
        .token("3805", "ppt-system", &[Role::Integration], &[PPT]);
    let changes_before = f
        .app
        .count(&format!("change_events WHERE case_id = '{}'", f.case_id));
    let etag_before = f.version().await;
    let case_before = f.json("", &f.mother).await;

    let marker = "Meldt etter samtale med helsesykepleier";
    let d = holder_decides(
        &f,
        json!({"outcome": "report_child_welfare", "decided_on": today(), "note": marker}),
    )
    .await;
    let id = d["id"].as_str().unwrap().to_string();

    // The case is as it was: same version, same view, no change in the feed (so no webhook either).
    assert_eq!(f.version().await, etag_before);
    let mut case_after = f.json("", &f.mother).await;
    case_after["version"] = case_before["version"].clone();
    assert_eq!(case_after, case_before);
    assert_eq!(
        f.app
            .count(&format!("change_events WHERE case_id = '{}'", f.case_id)),
        changes_before
    );
    for (read, text) in family_facing_reads(&f, &f.pia, &integration).await {
        for trace in [
            marker,
            &id,
            "report_child_welfare",
            "child_welfare",
            "barnevern",
        ] {
            assert!(!text.contains(trace), "{read} shows `{trace}`");
        }
    }
    // The integration, the youth's side and other services do not list it; the holder does.
    assert_eq!(
        outcomes(&f.json("/decisions", &f.mother).await),
        Vec::<String>::new()
    );
    assert_eq!(
        outcomes(&f.json("/decisions", &f.pia).await),
        Vec::<String>::new()
    );
    assert_eq!(
        outcomes(&f.json("/decisions", &integration).await),
        Vec::<String>::new()
    );
    assert_eq!(
        outcomes(&f.json("/decisions", &f.ola).await),
        ["report_child_welfare"]
    );
    // The stafettholder's export and the archive document hold it, with the trace of recording it.
    let export = f.json("/export", &f.ola).await;
    assert_eq!(export["decisions"][0]["note"], marker);
    assert!(export["access_log"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["resource"] == "case.child_welfare_report"));
    let log = f.json("/access-log", &f.ola).await;
    assert!(log["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["resource"] == "case.child_welfare_report"));
    let archive = pdf_text(
        &pdf_of(&f.app, &f.path("/export"), &f.ola).await,
        "decisions-holder.pdf",
    );
    assert!(archive.contains("Beslutninger på nivå 0"), "{archive}");
    assert!(
        archive.contains("bekymringsmelding sendt til barnevernet"),
        "{archive}"
    );
}

async fn import(f: &Family, token: &str, line: &Value) -> Value {
    let res = f
        .app
        .request(Method::POST, "/api/v1/imports", Some(token))
        .header("content-type", "application/x-ndjson")
        .body(line.to_string())
        .send()
        .await
        .unwrap();
    let report: Value = res.json().await.unwrap();
    report["lines"][0].clone()
}

#[actix_web::test]
async fn a_decision_travels_with_the_stafettholders_export_and_imports_again() {
    let f = family().await;
    let integration = f
        .app
        .token("3805", "flytt", &[Role::Integration], &[BARNEHAGE]);
    // The kindergarten's record system brought the case in before anything was decided.
    let mut before = f.json("/export", &f.ola).await;
    before["case"]["external_refs"] = json!([{"system": "flytting", "id": "ny-1"}]);
    before["access_log"] = json!([]);
    let line = import(&f, &integration, &before).await;
    assert_eq!(line["status"], "created", "{line}");
    let copy = Family {
        case_id: line["case_id"].as_str().unwrap().to_string(),
        ..f
    };
    holder_decides(
        &copy,
        json!({"outcome": "report_child_welfare", "decided_on": today(), "note": "Meldt"}),
    )
    .await;
    // Its old line is still the same case: the report it cannot read makes no difference (rule 11).
    let line = import(&copy, &integration, &before).await;
    assert_eq!(line["status"], "unchanged", "{line}");
    // The holder's export carries the report and imports as the same case; so does a document without
    // `level0_since` (an older one, another system's).
    let mut after = copy.json("/export", &copy.ola).await;
    assert_eq!(after["decisions"][0]["outcome"], "report_child_welfare");
    after["access_log"] = json!([]);
    let mut older = after.clone();
    older["case"]
        .as_object_mut()
        .unwrap()
        .remove("level0_since");
    for doc in [&after, &older] {
        let line = import(&copy, &integration, doc).await;
        assert_eq!(line["status"], "unchanged", "{line}");
    }
    // A new case from the holder's document keeps the decision of its level-0 period: a second is refused.
    after["case"]["external_refs"] = json!([{"system": "flytting", "id": "ny-2"}]);
    let line = import(&copy, &integration, &after).await;
    assert_eq!(line["status"], "created", "{line}");
    let second = Family {
        case_id: line["case_id"].as_str().unwrap().to_string(),
        ..copy
    };
    let listed = second.json("/decisions", &second.ola).await;
    assert_eq!(outcomes(&listed), ["report_child_welfare"]);
    let res = decide(
        &second,
        &second.ola,
        json!({"outcome": "close", "decided_on": today()}),
    )
    .await;
    problem(res, 409).await;
}
