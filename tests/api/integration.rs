//! Integration: find by reference, export -> import round trip, idempotent import, line errors, the CLI,
//! and the change feed.

use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;
use stafettlogg::cases::api::CloseReason;
use stafettlogg::documents::api::CaseDocument;

use crate::family::{family, Family, BARNEHAGE, PPT, SKOLE};
use crate::support::{problem, synthetic_id, TestApp};

fn today() -> chrono::NaiveDate {
    stafettlogg::clock::today()
}

pub(crate) async fn import(app: &TestApp, token: &str, lines: &[String]) -> Value {
    let res = app
        .request(Method::POST, "/api/v1/imports", Some(token))
        .header("content-type", "application/x-ndjson")
        .body(lines.join("\n"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// A case with every kind of record: guardians, a youth, another person, professionals of two services,
/// consents (one withdrawn and replaced), measures with evaluations, level changes, an accepted handover,
/// log entries with a meeting and a correction, and external references.
async fn rich_case() -> (Family, String) {
    let f = family().await;
    f.post(
        "/participants",
        &f.ola,
        &json!({"kind": "other", "name": "Bestemor Testesen", "role": "besteforelder",
        "external_refs": [{"system": "gammel", "id": "p-bestemor"}]}),
    )
    .await;
    let first = f
        .consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, PPT])
        .await;
    f.post(
        "/consents",
        &f.ola,
        &json!({"given_by": [f.mother_id, f.father_id], "services": [BARNEHAGE, PPT, SKOLE],
        "purpose": "Utvidet", "valid_from": today(), "form": "written", "supersedes": first["id"]}),
    )
    .await;
    let ppt_only = f.consent_ok(&[&f.mother_id, &f.father_id], &[PPT]).await;
    f.post(
        &format!("/consents/{}/withdraw", ppt_only["id"].as_str().unwrap()),
        &f.mother,
        &json!({"reason": "Dobbelt"}),
    )
    .await;
    assert_eq!(f.add_professional("pia", PPT).await.status(), 201);
    assert_eq!(f.level(1).await.status(), 201);
    assert_eq!(f.level(2).await.status(), 201);
    let m: Value = f.post("/measures", &f.ola, &json!({"title": "Språkgruppe", "goal": "Flere ord", "responsible": {"kind": "participant", "participant_id": f.mother_id},
        "start_date": today(), "evaluate_by": today() + chrono::Days::new(30), "state": "active"})).await.json().await.unwrap();
    f.post(&format!("/measures/{}/evaluations", m["id"].as_str().unwrap()), &f.mother,
        &json!({"evaluated_on": today(), "assessment": "Bedre", "child_view": "Gøy", "outcome": "continue", "next_evaluate_by": today() + chrono::Days::new(60)})).await;
    f.post("/measures", &f.ola, &json!({"title": "Samtaler", "goal": "Trygghet", "responsible": {"kind": "service", "service": PPT},
        "start_date": today(), "evaluate_by": today()})).await;
    let meeting: Value = f.post("/entries", &f.ola, &json!({"kind": "meeting", "occurred_at": chrono::Utc::now(), "title": "Stafettmøte",
        "body": "Møte", "attendees": [f.mother_id, f.father_id], "decisions": "Språkgruppe", "next_meeting": chrono::Utc::now()})).await.json().await.unwrap();
    f.post("/entries", &f.father, &json!({"kind": "note", "occurred_at": chrono::Utc::now(), "body": "Rettelse", "corrects": meeting["id"]})).await;
    f.post(
        "/entries",
        &f.mother,
        &json!({"kind": "lysglimt", "occurred_at": chrono::Utc::now(), "body": "Emma lo"}),
    )
    .await;
    plans_and_meetings(&f).await;
    let h: Value = f.post("/handovers", &f.ola, &json!({"to": {"user_id": "sara", "name": "Sara", "service": SKOLE}, "reason": "transition"})).await.json().await.unwrap();
    let sara = f.app.token("3805", "sara", &[Role::Professional], &[SKOLE]);
    // Sara looks at her inbox first: the access log gets a handover_recipient event, which must travel too.
    assert_eq!(f.app.get("/api/v1/handovers", &sara).await.status(), 200);
    assert_eq!(
        f.post(
            &format!("/handovers/{}/accept", h["id"].as_str().unwrap()),
            &sara,
            &json!({})
        )
        .await
        .status(),
        200
    );
    f.post("/handovers", &sara, &json!({"to": {"user_id": "knut", "name": "Knut", "service": SKOLE}, "reason": "absence", "note": "Permisjon"})).await;
    diesel::RunQueryDsl::execute(diesel::sql_query(format!(
        "INSERT INTO case_external_refs (municipality, system, ref_id, case_id) VALUES ('3805', 'gammel', 'sak-1', '{}')", f.case_id)), &mut f.app.db()).unwrap();
    (f, sara)
}

/// An iup in force with the mother in its group and a measure in it; a meeting held (its minutes in the
/// log) and one cancelled.
async fn plans_and_meetings(f: &Family) {
    let plan: Value = f
        .post(
            "/plans",
            &f.ola,
            &json!({"kind": "iup", "owner_service": BARNEHAGE, "starts_on": today(),
        "goals": ["Flere ord i lek"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let plan_id = plan["id"].as_str().unwrap();
    f.post(
        &format!("/plans/{plan_id}/members"),
        &f.ola,
        &json!({"participant_id": f.mother_id, "role": "mor"}),
    )
    .await;
    assert_eq!(
        f.post(&format!("/plans/{plan_id}/activate"), &f.ola, &json!({}))
            .await
            .status(),
        200
    );
    let res = f
        .post(
            "/measures",
            &f.ola,
            &json!({"title": "Lesestund", "goal": "Glede", "responsible": {"kind": "subject"},
        "start_date": today(), "evaluate_by": today(), "plan_id": plan_id}),
        )
        .await;
    assert_eq!(res.status(), 201);
    for cancelled in [false, true] {
        let soon = chrono::Utc::now() + chrono::Duration::minutes(1);
        let m: Value = f.post("/meetings", &f.ola, &json!({"kind": "ansvarsgruppe", "starts_at": soon,
            "ends_at": soon + chrono::Duration::hours(1), "place": "Solstua", "invitees": [f.mother_id, f.father_id]}))
            .await.json().await.unwrap();
        let mid = m["id"].as_str().unwrap();
        f.post(
            &format!("/meetings/{mid}/respond"),
            &f.mother,
            &json!({"response": "accepted"}),
        )
        .await;
        let (next, body) = if cancelled {
            ("cancel", json!({"reason": "Syk"}))
        } else {
            ("minutes", json!({"body": "Referat"}))
        };
        let res = f
            .post(&format!("/meetings/{mid}/{next}"), &f.ola, &body)
            .await;
        assert_eq!(res.status(), 200, "{next}");
    }
}

async fn services_in(app: &TestApp, tenant: &str) {
    for (code, kind) in [(BARNEHAGE, "barnehage"), (SKOLE, "skole"), (PPT, "ppt")] {
        app.service(tenant, code, kind).await;
    }
}

#[actix_web::test]
async fn export_import_export_round_trips_a_case_with_every_kind_of_record() {
    let (f, sara) = rich_case().await;
    let res = f.get("/export", &sara).await;
    assert_eq!(res.status(), 200);
    let first: CaseDocument = res.json().await.unwrap();
    assert_eq!(first.participants.len(), 6);
    assert_eq!(first.consents.len(), 3);
    assert_eq!((first.plans.len(), first.plans[0].members.len()), (1, 1));
    assert_eq!(
        first.measures.iter().filter(|m| m.plan.is_some()).count(),
        1
    );
    assert_eq!(first.meetings.len(), 2);
    assert!(first.meetings.iter().any(|m| m.minutes_entry.is_some()));
    assert_eq!(
        first
            .measures
            .iter()
            .map(|m| m.evaluations.len())
            .sum::<usize>(),
        1
    );
    assert!(
        first
            .participants
            .iter()
            .any(|p| p.national_id.as_deref() == Some(synthetic_id(2).as_str())),
        "the holder's export has ids in full"
    );

    services_in(&f.app, "5401").await;
    let integration = f.app.token("5401", "flytt", &[Role::Integration], &[SKOLE]);
    let report = import(
        &f.app,
        &integration,
        &[serde_json::to_string(&first).unwrap()],
    )
    .await;
    assert_eq!(report["lines"][0]["status"], "created", "{report}");
    let new_id = report["lines"][0]["case_id"].as_str().unwrap().to_string();
    assert_ne!(new_id, f.case_id);

    let sara_5401 = f.app.token("5401", "sara", &[Role::Professional], &[SKOLE]);
    let second: CaseDocument = f
        .app
        .get(&format!("/api/v1/cases/{new_id}/export"), &sara_5401)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        stafettlogg::documents::import::canonical(&first),
        stafettlogg::documents::import::canonical(&second)
    );
    // The access history moved along, and the import itself was recorded.
    assert_eq!(
        &second.access_log[..first.access_log.len()],
        &first.access_log[..]
    );
    let added: Vec<&str> = second.access_log[first.access_log.len()..]
        .iter()
        .map(|a| a.action.as_str())
        .collect();
    assert_eq!(added, ["import"]);
    // The holder periods came along too, without gap or overlap.
    assert_eq!(second.holder_periods.len(), 2);
    assert_eq!(
        second.holder_periods[0].to,
        Some(second.holder_periods[1].from)
    );
    // Municipality 3805 still has only its own case.
    assert_eq!(f.app.count("cases WHERE municipality = '5401'"), 1);
}

/// A case reopened after its consent ran out moves with its earlier closing: the importing municipality
/// shows the closing and the reopening in the timeline, and does not settle the old expiry a second time
/// (that would close the case again on its first read there). Imported again, it is the same case.
#[actix_web::test]
async fn a_reopened_case_moves_with_its_earlier_closing_and_stays_open() {
    let f = family().await;
    let consent = f
        .consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE])
        .await;
    crate::casework::expire(&f, &consent);
    assert_eq!(f.json("", &f.ola).await["close_reason"], "consent_expired");
    let res = crate::casework::reopen(&f, &f.ola, &f.version().await).await;
    assert_eq!(res.status(), 200);
    let doc: CaseDocument = f.get("/export", &f.ola).await.json().await.unwrap();
    let reasons: Vec<CloseReason> = doc.closings.iter().map(|c| c.close_reason).collect();
    assert_eq!(reasons, [CloseReason::ConsentExpired]);
    assert_eq!(doc.case.reopened_on, Some(today()));

    services_in(&f.app, "5401").await;
    let integration = f
        .app
        .token("5401", "flytt", &[Role::Integration], &[BARNEHAGE]);
    let line = serde_json::to_string(&doc).unwrap();
    let report = import(&f.app, &integration, std::slice::from_ref(&line)).await;
    assert_eq!(report["lines"][0]["status"], "created", "{report}");
    let new_id = report["lines"][0]["case_id"].as_str().unwrap().to_string();
    let ola = f
        .app
        .token("5401", "ola", &[Role::Professional], &[BARNEHAGE]);
    let path = format!("/api/v1/cases/{new_id}");
    let case = f.app.json(&path, &ola).await;
    assert_eq!(
        (case["status"].as_str(), case["close_reason"].as_str()),
        (Some("open"), None),
        "{case}"
    );
    let timeline = f.app.json(&format!("{path}/timeline"), &ola).await;
    let types = crate::support::item_types(&timeline);
    assert!(
        types.contains(&"case.closed") && types.contains(&"case.reopened"),
        "{types:?}"
    );
    let again: CaseDocument = f
        .app
        .get(&format!("{path}/export"), &ola)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again.closings, doc.closings);
    let pdf = crate::archive::pdf_of(&f.app, &format!("{path}/export"), &ola).await;
    let text = crate::archive::pdf_text(&pdf, "reopened");
    assert!(
        text.contains("Avsluttet før") && text.contains("samtykket utløp"),
        "{text}"
    );
    let report = import(&f.app, &integration, &[line]).await;
    assert_eq!(report["lines"][0]["status"], "unchanged", "{report}");

    // A document of an older build does not say when the case was reopened: its closings do.
    let mut older = doc.clone();
    older.case.reopened_on = None;
    services_in(&f.app, "5402").await;
    let integration = f
        .app
        .token("5402", "flytt", &[Role::Integration], &[BARNEHAGE]);
    let report = import(
        &f.app,
        &integration,
        &[serde_json::to_string(&older).unwrap()],
    )
    .await;
    assert_eq!(report["lines"][0]["status"], "created", "{report}");
    let ola = f
        .app
        .token("5402", "ola", &[Role::Professional], &[BARNEHAGE]);
    let path = format!(
        "/api/v1/cases/{}",
        report["lines"][0]["case_id"].as_str().unwrap()
    );
    let case = f.app.json(&path, &ola).await;
    assert_eq!(case["status"], "open", "{case}");
}

/// A case opened without references is exported with its own id as one (an import finds cases by their
/// references): imported again into its municipality it is found and left as it is, imported into
/// another it is created there, once.
#[actix_web::test]
async fn a_case_without_references_is_exported_with_its_own_id_and_imports_anywhere_once() {
    let f = family().await;
    let doc: Value = f.get("/export", &f.ola).await.json().await.unwrap();
    let own = json!([{"system": "stafettlogg-3805", "id": f.case_id}]);
    assert_eq!(doc["case"]["external_refs"], own);
    let line = serde_json::to_string(&doc).unwrap();

    let here = f.app.token(
        "3805",
        "barnehagesystem",
        &[Role::Integration],
        &[BARNEHAGE],
    );
    let report = import(&f.app, &here, std::slice::from_ref(&line)).await;
    assert_eq!(report["lines"][0]["status"], "unchanged", "{report}");
    assert_eq!(report["lines"][0]["case_id"], f.case_id.as_str());
    assert_eq!(f.app.count("cases"), 1);
    assert_eq!(
        f.app.count("case_external_refs"),
        0,
        "nothing stored for it"
    );

    services_in(&f.app, "5401").await;
    let there = f
        .app
        .token("5401", "flytt", &[Role::Integration], &[BARNEHAGE]);
    for expected in ["created", "unchanged"] {
        let report = import(&f.app, &there, std::slice::from_ref(&line)).await;
        assert_eq!(report["lines"][0]["status"], expected, "{report}");
    }
    assert_eq!(f.app.count("cases WHERE municipality = '5401'"), 1);
}

#[actix_web::test]
async fn export_is_for_the_holder_and_the_guardians_with_ids_masked_for_guardians() {
    let (f, sara) = rich_case().await;
    let doc: CaseDocument = f.get("/export", &f.mother).await.json().await.unwrap();
    assert_eq!(
        doc.case.subject.national_id,
        Some(format!("{}*****", &synthetic_id(1)[..6]))
    );
    problem(f.get("/export", &f.ola).await, 403).await;
    problem(f.get("/export", &f.pia).await, 403).await;
    assert_eq!(f.get("/export", &sara).await.status(), 200);
    let events = f.app.count(&format!(
        "access_events WHERE case_id = '{}' AND action = 'export'",
        f.case_id
    ));
    assert_eq!(events, 2);
}

fn numbered(template: &CaseDocument, n: usize) -> String {
    let mut doc = template.clone();
    doc.case.external_refs = vec![stafettlogg::cases::api::ExternalRef {
        system: "gammelt-system".into(),
        id: format!("sak-{n}"),
    }];
    for p in &mut doc.participants {
        p.external_refs.clear();
    }
    doc.case.subject.given_name = format!("Barn{n}");
    serde_json::to_string(&doc).unwrap()
}

#[actix_web::test]
async fn importing_500_cases_twice_creates_500_then_nothing() {
    let (f, sara) = rich_case().await;
    let template: CaseDocument = f.get("/export", &sara).await.json().await.unwrap();
    services_in(&f.app, "5401").await;
    let lines: Vec<String> = (0..500).map(|n| numbered(&template, n)).collect();
    let dir = std::env::temp_dir().join(format!("stafettlogg-import-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("cases.ndjson");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let token = f.app.token("5401", "flytt", &[Role::Integration], &[SKOLE]);
    let run = |file: std::path::PathBuf, url: String, token: String| {
        actix_web::rt::task::spawn_blocking(move || {
            let opts = stafettlogg::jobs::import::Options {
                batch_lines: 120,
                concurrency: 3,
                progress: false,
                ..Default::default()
            };
            stafettlogg::jobs::import::run(&file, &url, &token, &opts).unwrap()
        })
    };
    let first = run(file.clone(), f.app.base.clone(), token.clone())
        .await
        .unwrap();
    assert_eq!(
        (first.created, first.unchanged, first.failed.len()),
        (500, 0, 0),
        "{:?}",
        first.failed
    );
    let counts = f.app.table_counts();
    let second = run(file.clone(), f.app.base.clone(), token.clone())
        .await
        .unwrap();
    assert_eq!(
        (second.created, second.unchanged, second.failed.len()),
        (0, 500, 0)
    );
    assert_eq!(f.app.table_counts(), counts, "the second run wrote nothing");
    assert_eq!(f.app.count("cases WHERE municipality = '5401'"), 500);
    // A changed concern is an update, and only that.
    let mut changed: CaseDocument = serde_json::from_str(&lines[7]).unwrap();
    changed.case.concern = "Ny beskrivelse".into();
    let report = import(&f.app, &token, &[serde_json::to_string(&changed).unwrap()]).await;
    assert_eq!(report["lines"][0]["status"], "updated");
    // Anything else that differs is the line's error, naming the part.
    changed
        .entries
        .retain(|e| e.kind != stafettlogg::entries::api::EntryKind::Lysglimt);
    let report = import(&f.app, &token, &[serde_json::to_string(&changed).unwrap()]).await;
    assert_eq!(report["lines"][0]["status"], "error");
    assert_eq!(report["lines"][0]["errors"][0]["field"], "entries");
    std::fs::remove_dir_all(dir).ok();
}

#[actix_web::test]
async fn broken_lines_are_reported_by_number_and_field_and_the_rest_imported() {
    let (f, sara) = rich_case().await;
    let template: CaseDocument = f.get("/export", &sara).await.json().await.unwrap();
    services_in(&f.app, "5401").await;
    let token = f.app.token("5401", "flytt", &[Role::Integration], &[SKOLE]);
    let mutate = |n: usize, change: &dyn Fn(&mut CaseDocument)| {
        let mut doc: CaseDocument = serde_json::from_str(&numbered(&template, n)).unwrap();
        change(&mut doc);
        serde_json::to_string(&doc).unwrap()
    };
    let non_guardian = template
        .participants
        .iter()
        .find(|p| p.role.is_some())
        .unwrap()
        .id
        .clone();
    let lines = vec![
        numbered(&template, 1),
        "{\"format\": \"stafettlogg.case/1\", ".to_string(),
        mutate(3, &|d| d.holder = "nobody".into()),
        serde_json::to_string(&{
            let mut v: Value = serde_json::from_str(&numbered(&template, 4)).unwrap();
            v["case"]["level"] = json!(7);
            v
        })
        .unwrap(),
        mutate(5, &|d| {
            d.participants[1].national_id = Some("12345678901".into())
        }),
        mutate(6, &|d| d.consents[0].given_by = vec![non_guardian.clone()]),
        numbered(&template, 7),
    ];
    let before = f.app.table_counts();
    let report = import(&f.app, &token, &lines).await;
    let summary = &report["summary"];
    assert_eq!(
        (summary["created"].as_i64(), summary["failed"].as_i64()),
        (Some(2), Some(5)),
        "{report}"
    );
    let errors: Vec<(i64, String)> = report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["status"] == "error")
        .map(|l| {
            (
                l["line"].as_i64().unwrap(),
                l["errors"]
                    .get(0)
                    .map(|e| e["field"].as_str().unwrap().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            (2, String::new()),
            (3, "holder".to_string()),
            (4, "case.level".to_string()),
            (5, "participants[1].national_id".to_string()),
            (6, "consents[0].given_by[0]".to_string()),
        ]
    );
    let after = f.app.table_counts();
    let cases_before = before.iter().find(|(t, _)| t == "cases").unwrap().1;
    let cases_after = after.iter().find(|(t, _)| t == "cases").unwrap().1;
    assert_eq!(cases_after - cases_before, 2, "no half cases");
    // An integration brings in cases of its own services only, and learns nothing of cases it may not read.
    let outsider = f.app.token(
        "5401",
        "helse-system",
        &[Role::Integration],
        &["helsestasjon-nord"],
    );
    let report = import(
        &f.app,
        &outsider,
        &[numbered(&template, 100), lines[0].clone()],
    )
    .await;
    assert_eq!(report["lines"][0]["errors"][0]["field"], "holder");
    assert_eq!(
        report["lines"][1]["errors"][0]["field"],
        "case.external_refs"
    );
    assert!(!report["lines"][1]["detail"]
        .as_str()
        .unwrap()
        .contains("differs"));
    // A line that is not UTF-8 is that line's error only.
    let mut body = lines[0].clone().into_bytes();
    body.extend_from_slice(b"\n\xe6\xf8\xe5\n");
    body.extend_from_slice(numbered(&template, 8).as_bytes());
    let res = f
        .app
        .request(Method::POST, "/api/v1/imports", Some(&token))
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap();
    let report: Value = res.json().await.unwrap();
    let statuses: Vec<&str> = report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["unchanged", "error", "created"]);
    // Only the integration role imports.
    let prof = f.app.token("5401", "x", &[Role::Professional], &[SKOLE]);
    let res = f
        .app
        .request(Method::POST, "/api/v1/imports", Some(&prof))
        .header("content-type", "application/x-ndjson")
        .body(lines[0].clone())
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
    let res = f
        .app
        .request(Method::POST, "/api/v1/imports", Some(&token))
        .header("content-type", "application/json")
        .body(lines[0].clone())
        .send()
        .await
        .unwrap();
    problem(res, 415).await;
}

#[actix_web::test]
async fn lines_of_one_request_naming_the_same_references_are_imported_one_after_the_other() {
    let (f, sara) = rich_case().await;
    let template: CaseDocument = f.get("/export", &sara).await.json().await.unwrap();
    services_in(&f.app, "5401").await;
    let token = f.app.token("5401", "flytt", &[Role::Integration], &[SKOLE]);
    let grandma = template
        .participants
        .iter()
        .position(|p| p.role.is_some())
        .unwrap();
    let with_grandma_ref = |n: usize, change: &dyn Fn(&mut CaseDocument)| {
        let mut doc: CaseDocument = serde_json::from_str(&numbered(&template, n)).unwrap();
        doc.participants[grandma].external_refs = vec![stafettlogg::cases::api::ExternalRef {
            system: "gammel".into(),
            id: "p-bestemor".into(),
        }];
        change(&mut doc);
        serde_json::to_string(&doc).unwrap()
    };
    let lines = vec![
        with_grandma_ref(1, &|_| {}),
        // The same case again: it finds what the line above created.
        with_grandma_ref(1, &|_| {}),
        with_grandma_ref(1, &|d| d.case.concern = "Ny beskrivelse".into()),
        // Another case whose participant claims the reference of the first case's: the database refuses
        // it, and the lines around it are imported all the same.
        with_grandma_ref(2, &|_| {}),
        numbered(&template, 3),
        // Two references naming two different stored cases.
        with_grandma_ref(1, &|d| {
            d.case
                .external_refs
                .push(stafettlogg::cases::api::ExternalRef {
                    system: "gammelt-system".into(),
                    id: "sak-3".into(),
                })
        }),
    ];
    let before = f.app.count("cases WHERE municipality = '5401'");
    let report = import(&f.app, &token, &lines).await;
    let statuses: Vec<&str> = report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "created",
            "unchanged",
            "updated",
            "error",
            "created",
            "error"
        ],
        "{report}"
    );
    assert_eq!(report["lines"][0]["case_id"], report["lines"][2]["case_id"]);
    assert_eq!(report["lines"][3]["line"], 4);
    assert_eq!(
        report["lines"][5]["errors"][0]["field"], "case.external_refs",
        "{report}"
    );
    assert_eq!(f.app.count("cases WHERE municipality = '5401'") - before, 2);
    let first = report["lines"][0]["case_id"].as_str().unwrap();
    assert_eq!(
        f.app.count(&format!(
            "access_events WHERE case_id = '{first}' AND action = 'import'"
        )),
        2,
        "created and updated leave an access event; unchanged leaves none"
    );
    assert_eq!(
        f.app.count(&format!(
            "cases WHERE id = '{first}' AND concern = 'Ny beskrivelse'"
        )),
        1
    );
}

#[actix_web::test]
async fn a_body_longer_than_one_group_keeps_its_line_numbers_and_later_groups_see_earlier_ones() {
    let (f, sara) = rich_case().await;
    let template: CaseDocument = f.get("/export", &sara).await.json().await.unwrap();
    services_in(&f.app, "5401").await;
    let token = f.app.token("5401", "flytt", &[Role::Integration], &[SKOLE]);
    let group = stafettlogg::documents::import::CASES_PER_TRANSACTION;
    let mut lines: Vec<String> = (0..group + 5).map(|n| numbered(&template, n)).collect();
    // A blank line keeps its place in the numbering, in whichever group it falls.
    lines.insert(3, String::new());
    // In the second group: a broken line, and the first line's case again with a new concern.
    lines.push("{\"case\": 1}".into());
    let mut again: CaseDocument = serde_json::from_str(&lines[0]).unwrap();
    again.case.concern = "Ny beskrivelse".into();
    lines.push(serde_json::to_string(&again).unwrap());
    let before = f.app.count("cases WHERE municipality = '5401'");
    let report = import(&f.app, &token, &lines).await;
    let reported = report["lines"].as_array().unwrap();
    assert_eq!(reported.len(), group + 7, "every non-blank line, once");
    let numbers: Vec<u64> = reported
        .iter()
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    let expected: Vec<u64> = (1..=lines.len() as u64).filter(|n| *n != 4).collect();
    assert_eq!(numbers, expected);
    let last = &reported[group + 6];
    assert_eq!(last["status"], "updated", "{last}");
    assert_eq!(last["case_id"], reported[0]["case_id"]);
    assert_eq!(reported[group + 5]["status"], "error");
    assert_eq!(reported[group + 5]["line"], lines.len() as u64 - 1);
    assert_eq!(
        f.app.count("cases WHERE municipality = '5401'") - before,
        group as i64 + 5
    );
}

#[actix_web::test]
async fn import_refuses_professionals_and_pending_handovers_outside_the_effective_consent() {
    let (f, sara) = rich_case().await;
    let template: CaseDocument = f.get("/export", &sara).await.json().await.unwrap();
    services_in(&f.app, "5401").await;
    f.app
        .service("5401", "helsestasjon-nord", "helsestasjon")
        .await;
    let token = f.app.token("5401", "flytt", &[Role::Integration], &[SKOLE]);
    let mutate = |n: usize, change: &dyn Fn(&mut CaseDocument)| {
        let mut doc: CaseDocument = serde_json::from_str(&numbered(&template, n)).unwrap();
        change(&mut doc);
        serde_json::to_string(&doc).unwrap()
    };
    let pia = template
        .participants
        .iter()
        .position(|p| p.user_id.as_deref() == Some("pia"))
        .unwrap();
    let pending = template
        .handovers
        .iter()
        .position(|h| h.answered_at.is_none())
        .unwrap();
    let lines = vec![
        // PPT's adviser is active, but no consent covers PPT any more.
        mutate(1, &|d| {
            for k in d.consents.iter_mut().filter(|k| k.services.len() > 1) {
                k.services.retain(|s| s != PPT);
            }
        }),
        // The pending handover goes to a service no consent covers.
        mutate(2, &|d| {
            d.handovers[pending].to.service = "helsestasjon-nord".into()
        }),
        numbered(&template, 3),
    ];
    let report = import(&f.app, &token, &lines).await;
    let first = |i: usize| {
        report["lines"][i]["errors"][0]["field"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(first(0), format!("participants[{pia}].service"), "{report}");
    assert_eq!(
        first(1),
        format!("handovers[{pending}].to.service"),
        "{report}"
    );
    assert_eq!(report["summary"]["created"], 1, "{report}");
}

#[actix_web::test]
async fn a_case_is_found_by_its_external_reference() {
    let (f, sara) = rich_case().await;
    let found: Value = f
        .app
        .get("/api/v1/cases?ref=gammel:sak-1", &sara)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"][0]["id"], f.case_id.as_str());
    let none: Value = f
        .app
        .get("/api/v1/cases?ref=gammel:sak-2", &sara)
        .await
        .json()
        .await
        .unwrap();
    assert!(none["items"].as_array().unwrap().is_empty());
    problem(f.app.get("/api/v1/cases?ref=gammel", &sara).await, 400).await;
    let integration = f
        .app
        .token("3805", "skolesystem", &[Role::Integration], &[SKOLE]);
    let found: Value = f
        .app
        .get("/api/v1/cases?ref=gammel:sak-1", &integration)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        found["items"][0]["id"],
        f.case_id.as_str(),
        "an integration of the school finds it too"
    );
    let participants = f.json("/participants", &sara).await;
    let grandma = participants["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "other")
        .unwrap();
    assert_eq!(
        grandma["external_refs"],
        json!([{"system": "gammel", "id": "p-bestemor"}])
    );
}

async fn feed(app: &TestApp, token: &str, after: i64, wait: u64) -> Value {
    let res = app
        .get(&format!("/api/v1/changes?after={after}&wait={wait}"), token)
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[actix_web::test]
async fn the_feed_lists_changes_in_commit_order_without_gaps() {
    let f = family().await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE])
        .await;
    assert_eq!(f.level(1).await.status(), 201);
    f.post(
        "/entries",
        &f.ola,
        &json!({"kind": "note", "occurred_at": chrono::Utc::now(), "body": "x"}),
    )
    .await;
    let integration = f
        .app
        .token("3805", "arkiv", &[Role::Integration], &[BARNEHAGE]);
    let page = feed(&f.app, &integration, 0, 0).await;
    let items = page["items"].as_array().unwrap();
    let seqs: Vec<i64> = items.iter().map(|i| i["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "dense and increasing"
    );
    let types: Vec<&str> = items.iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "case.opened",
            "participant.added",
            "participant.added",
            "consent.recorded",
            "level.changed",
            "entry.added"
        ]
    );
    assert!(items.iter().all(|i| i["case_id"] == f.case_id.as_str()));
    assert_eq!(page["next_after"], *seqs.last().unwrap());
    // A consumer that stored the last seq sees nothing again, and then only what is new.
    let last = *seqs.last().unwrap();
    assert!(feed(&f.app, &integration, last, 0).await["items"]
        .as_array()
        .unwrap()
        .is_empty());
    f.post(
        "/entries",
        &f.ola,
        &json!({"kind": "note", "occurred_at": chrono::Utc::now(), "body": "y"}),
    )
    .await;
    let next = feed(&f.app, &integration, last, 0).await;
    assert_eq!(next["items"][0]["seq"], last + 1);
    // Refused changes leave no event.
    problem(
        f.post(
            "/entries",
            &f.ola,
            &json!({"kind": "barnevern_report", "occurred_at": chrono::Utc::now(), "body": "x"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(
        feed(&f.app, &integration, last + 1, 0).await["items"],
        json!([])
    );
    // Only the integration role reads the feed.
    problem(f.app.get("/api/v1/changes", &f.ola).await, 403).await;
}

#[actix_web::test]
async fn a_feed_client_of_another_service_sees_nothing_of_a_case_it_may_not_read() {
    let f = family().await;
    let ppt_system = f
        .app
        .token("3805", "ppt-system", &[Role::Integration], &[PPT]);
    let page = feed(&f.app, &ppt_system, 0, 0).await;
    assert_eq!(page["items"], json!([]));
    assert!(
        page["next_after"].as_i64().unwrap() > 0,
        "it moves past what it may not see"
    );
    problem(f.get("", &ppt_system).await, 404).await;
    // Once a PPT adviser is in the case under consent, the PPT system may read it, and sees its events.
    f.consent_ok(&[&f.mother_id, &f.father_id], &[PPT]).await;
    assert_eq!(f.add_professional("pia", PPT).await.status(), 201);
    let page = feed(&f.app, &ppt_system, 0, 0).await;
    assert!(!page["items"].as_array().unwrap().is_empty());
    assert_eq!(f.get("", &ppt_system).await.status(), 200);
    // Another municipality's integration sees nothing at all.
    let other = f
        .app
        .token("5401", "ppt-system", &[Role::Integration], &[PPT]);
    assert_eq!(feed(&f.app, &other, 0, 0).await["items"], json!([]));
}

#[actix_web::test]
async fn wait_returns_as_soon_as_an_event_arrives() {
    let f = family().await;
    let integration = f
        .app
        .token("3805", "arkiv", &[Role::Integration], &[BARNEHAGE]);
    let last = feed(&f.app, &integration, 0, 0).await["next_after"]
        .as_i64()
        .unwrap();
    let started = std::time::Instant::now();
    let app = &f.app;
    let poll = feed(app, &integration, last, 20);
    let write = async {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(700)).await;
        f.post(
            "/entries",
            &f.ola,
            &json!({"kind": "lysglimt", "occurred_at": chrono::Utc::now(), "body": "Smil"}),
        )
        .await;
    };
    let (page, _) = futures_util::future::join(poll, write).await;
    assert_eq!(page["items"][0]["type"], "entry.added");
    // Not a speed target: it answered on the event, long before its 20 s were up.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // With nothing new it waits its time and answers empty.
    let started = std::time::Instant::now();
    let quiet = feed(
        &f.app,
        &integration,
        page["next_after"].as_i64().unwrap(),
        1,
    )
    .await;
    assert_eq!(quiet["items"], json!([]));
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
}

#[actix_web::test]
async fn an_import_naming_references_of_a_case_the_token_may_not_read_learns_nothing_of_that_case()
{
    let f = family().await;
    let own = f.app.token(
        "3805",
        "barnehage-system",
        &[Role::Integration],
        &[BARNEHAGE],
    );
    // Two stored cases of the kindergarten, one open and one closed, each with a reference.
    let mut doc = f.json("/export", &f.ola).await;
    doc["access_log"] = json!([]);
    let mut lines = vec![];
    for (n, closed) in [(1, false), (2, true)] {
        let mut d = doc.clone();
        d["case"]["external_refs"] = json!([{"system": "skolesys", "id": format!("elev-{n}")}]);
        if closed {
            d["case"]["status"] = json!("closed");
            d["case"]["closed_at"] = json!(chrono::Utc::now());
            d["case"]["close_reason"] = json!("no_need");
            d["holder_periods"] = json!([]);
        }
        lines.push(d.to_string());
    }
    let report = import(&f.app, &own, &lines).await;
    let ids: Vec<String> = (0..2)
        .map(|i| {
            assert_eq!(report["lines"][i]["status"], "created", "{report}");
            report["lines"][i]["case_id"].as_str().unwrap().to_string()
        })
        .collect();
    // PPT's integration names those references: the answer is the same for both cases, a case that is
    // not found, and says nothing of them (not that they exist, their ids, services or states).
    let outsider = f
        .app
        .token("3805", "ppt-system", &[Role::Integration], &[PPT]);
    let report = import(&f.app, &outsider, &lines).await;
    let answers: Vec<Value> = (0..2)
        .map(|i| {
            let mut line = report["lines"][i].clone();
            line.as_object_mut().unwrap().remove("line");
            line
        })
        .collect();
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0]["status"], "error");
    assert_eq!(answers[0]["errors"][0]["field"], "case.external_refs");
    let text = answers[0].to_string();
    for secret in [
        ids[0].as_str(),
        ids[1].as_str(),
        BARNEHAGE,
        "already",
        "exist",
        "closed",
        "open",
    ] {
        assert!(
            !text.contains(secret),
            "the answer shows `{secret}`: {text}"
        );
    }
}

#[actix_web::test]
async fn a_json_export_streams_a_long_access_log_in_pages_and_can_leave_it_out() {
    let f = family().await;
    // 2,500 reads by the mother: the log runs over three pages of the stream.
    let mut db = f.app.db();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "INSERT INTO access_events (municipality, case_id, actor_user_id, actor_name, actor_role, action, \
             resource, request_id, basis) SELECT '3805', '{}', 'kari', 'Kari Testesen', 'guardian', 'read', \
             'case', 'r' || n, 'guardian' FROM generate_series(1, 2500) AS n",
            f.case_id
        )),
        &mut db,
    )
    .unwrap();
    let events = |f: &Family| {
        f.app
            .count(&format!("access_events WHERE case_id = '{}'", f.case_id))
    };
    let before = events(&f);
    let res = f.get("/export", &f.ola).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert!(
        res.content_length().is_none(),
        "streamed, not sized up front"
    );
    let doc: Value = res.json().await.unwrap();
    let log = doc["access_log"].as_array().unwrap();
    assert_eq!(
        log.len() as i64,
        before,
        "every event before the export, none after"
    );
    assert_eq!(events(&f), before + 1, "the export's own event");
    assert_eq!(
        log.iter().filter(|e| e["actor_user_id"] == "kari").count(),
        2500
    );
    let times: Vec<&str> = log.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "oldest first");
    serde_json::from_value::<CaseDocument>(doc.clone()).expect("a whole case document");

    let without: Value = f.json("/export?access_log=false", &f.ola).await;
    assert_eq!(without["access_log"], json!([]));
    let (mut a, mut b) = (doc.clone(), without.clone());
    a["access_log"] = json!([]);
    b["access_log"] = json!([]);
    assert_eq!(a, b, "the rest of the document is the same");
    let p = problem(f.get("/export?access_log=maybe", &f.ola).await, 400).await;
    assert!(p["detail"].as_str().unwrap().contains("access_log"), "{p}");
}
