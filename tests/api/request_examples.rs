//! Every request schema of the contract can be satisfied: for each one a body that an independent JSON
//! Schema validator accepts against the committed spec, and that the server accepts in a world where the
//! operation can succeed. A request schema added without an example here fails the test.

use std::collections::BTreeSet;

use chrono::{Days, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::support::{synthetic_id, TestApp};

pub struct Examples<'a> {
    app: &'a TestApp,
    sent: Vec<Value>,
    /// Every request as it was sent, to send again with one field changed (`tests/api/bounds.rs`).
    pub probes: Vec<Probe>,
}

/// One request of the examples: its schema, and what was sent.
#[derive(Clone)]
pub struct Probe {
    pub schema: String,
    pub method: Method,
    pub path: String,
    pub token: String,
    pub if_match: Option<String>,
    pub body: Value,
}

impl Examples<'_> {
    /// Sends `body` (validated later against `schema`) and expects `status`; returns the answer's JSON
    /// and its ETag.
    async fn send(
        &mut self,
        schema: &str,
        (method, path): (Method, String),
        token: &str,
        if_match: Option<&str>,
        body: Value,
        status: u16,
    ) -> (Value, String) {
        let mut rb = self
            .app
            .request(method.clone(), &path, Some(token))
            .json(&body);
        if let Some(etag) = if_match {
            rb = rb.header("if-match", etag);
        }
        self.probes.push(Probe {
            schema: schema.to_string(),
            method: method.clone(),
            path: path.clone(),
            token: token.to_string(),
            if_match: if_match.map(String::from),
            body: body.clone(),
        });
        let res = rb.send().await.unwrap();
        let got = res.status().as_u16();
        let etag = res
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let answer: Value = res.json().await.unwrap_or(Value::Null);
        assert_eq!(got, status, "{method} {path} with {schema}: {answer}");
        self.sent.push(json!({
            "schema": format!("#/components/schemas/{schema}"),
            "label": format!("{method} {path}"),
            "body": body,
        }));
        (answer, etag)
    }

    async fn etag(&self, path: &str, token: &str) -> String {
        let res = self.app.get(path, token).await;
        assert_eq!(res.status(), 200, "{path}");
        res.headers()["etag"].to_str().unwrap().to_string()
    }
}

fn post(path: impl Into<String>) -> (Method, String) {
    (Method::POST, path.into())
}
fn patch(path: impl Into<String>) -> (Method, String) {
    (Method::PATCH, path.into())
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// Sends an example of every request schema, each in a world where it succeeds, in one municipality.
pub async fn send_every_example(app: &TestApp) -> Examples<'_> {
    let mut ex = Examples {
        app,
        sent: vec![],
        probes: vec![],
    };
    let today = stafettlogg::clock::today();
    let in_days = |n| today.checked_add_days(Days::new(n)).unwrap().to_string();
    let admin = app.token("3805", "anne", &[Role::Admin], &[]);
    let ola = app.token("3805", "ola", &[Role::Professional], &["barnehage-solstua"]);
    let pia = app.token("3805", "pia", &[Role::Professional], &["ppt-vest"]);
    let sara = app.token("3805", "sara", &[Role::Professional], &["skole-bakke"]);
    let mother_id = synthetic_id(501);
    let kari = app.citizen_token("kari", Role::Guardian, &mother_id);

    // Configuration, by the municipality's administrator.
    let mut services = vec![];
    for (code, kind) in [
        ("barnehage-solstua", "barnehage"),
        ("ppt-vest", "ppt"),
        ("skole-bakke", "skole"),
    ] {
        let (s, _) = ex
            .send("NewServiceRequest", post("/api/v1/services"), &admin, None,
                  json!({"code": code, "name": format!("Tjeneste {code}"), "kind": kind, "org_number": "974760673"}), 201)
            .await;
        services.push(s);
    }
    ex.send(
        "ServicePatch",
        patch(format!("/api/v1/services/{}", id(&services[0]))),
        &admin,
        None,
        json!({"name": "Solstua barnehage", "active": true,
               "contact": {"phone": "+47 77 00 00 00", "email": "solstua@kommune.no",
                           "address": "Solstuveien 1, 9000 Tromsø", "web": "https://kommune.no/solstua"}}),
        200,
    )
    .await;
    // The guide: the default guide (exported as any municipality's) as this one's draft.
    let guide: Value = app
        .request(
            Method::GET,
            "/public/v1/municipalities/9999/guide/document",
            None,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    ex.send(
        "GuideDocument",
        (Method::PUT, "/api/v1/guide/draft".into()),
        &admin,
        None,
        guide,
        200,
    )
    .await;
    ex.send(
        "MunicipalityPatch",
        patch("/api/v1/municipality"),
        &admin,
        None,
        json!({"level0_deadline_days": 21, "consent_validity_months": 12, "survey_retention_years": 5}),
        200,
    )
    .await;
    ex.send("LevelDefinitionInput", (Method::PUT, "/api/v1/levels/1".into()), &admin, None,
            json!({"name": "Nivå 1", "description": "Tiltak i egen tjeneste", "guidance": "Snakk med foreldrene."}), 200).await;

    // A case, its family and its consent.
    let (case, etag) = ex
        .send(
            "OpenCaseRequest",
            post("/api/v1/cases"),
            &ola,
            None,
            json!({"service": "barnehage-solstua", "concern": "Barnet virker trist.",
                     "subject": {"kind": "child", "given_name": "Emma", "family_name": "Testesen",
                                 "birth_date": "2020-03-14", "national_id": "14832010082"},
                     "external_refs": [{"system": "visma-flyt", "id": "B-17"}]}),
            201,
        )
        .await;
    let c = format!("/api/v1/cases/{}", id(&case));
    ex.send(
        "CasePatch",
        patch(&c),
        &ola,
        Some(&etag),
        json!({"concern": "Oppdatert etter samtale.", "subject": {"given_name": "Emma"}}),
        200,
    )
    .await;
    let participants = format!("{c}/participants");
    let (mother, _) = ex
        .send("NewParticipant", post(&participants), &ola, None,
              json!({"kind": "guardian", "name": "Kari Testesen", "relation": "mother",
                     "parental_responsibility": true, "national_id": mother_id, "email": "kari@example.org"}), 201)
        .await;
    ex.send(
        "NewParticipant",
        post(&participants),
        &ola,
        None,
        json!({"kind": "youth", "name": "Emma Testesen"}),
        201,
    )
    .await;
    let (other, _) = ex
        .send(
            "NewParticipant",
            post(&participants),
            &ola,
            None,
            json!({"kind": "other", "name": "Mormor", "role": "besteforelder"}),
            201,
        )
        .await;
    ex.send(
        "ParticipantPatch",
        patch(format!("{participants}/{}", id(&other))),
        &ola,
        None,
        json!({"role": "bestemor", "name": "Mormor Testesen"}),
        200,
    )
    .await;
    let (consent, _) = ex
        .send("ConsentInput", post(format!("{c}/consents")), &ola, None,
              json!({"given_by": [id(&mother)], "services": ["barnehage-solstua", "ppt-vest", "skole-bakke"],
                     "purpose": "Samarbeid om trivsel", "valid_from": today.to_string(), "form": "written",
                     "document_ref": "arkiv-2026/17"}), 201)
        .await;
    ex.send(
        "NewParticipant",
        post(&participants),
        &ola,
        None,
        json!({"kind": "professional", "user_id": "pia", "name": "Pia Rådgiver",
                   "service": "ppt-vest", "title": "PP-rådgiver"}),
        201,
    )
    .await;

    // Case work.
    let etag = ex.etag(&c, &ola).await;
    ex.send(
        "DecisionInput",
        post(format!("{c}/decision")),
        &ola,
        Some(&etag),
        json!({"outcome": "report_child_welfare", "decided_on": today.to_string(),
               "note": "Meldt etter drøfting med helsesykepleier"}),
        201,
    )
    .await;
    let etag = ex.etag(&c, &ola).await;
    ex.send(
        "LevelChangeInput",
        post(format!("{c}/level-changes")),
        &ola,
        Some(&etag),
        json!({"to_level": 1, "reason": "Avklart med foreldrene", "decided_on": today.to_string()}),
        201,
    )
    .await;
    let etag = ex.etag(&c, &ola).await;
    ex.send(
        "StepMoveInput",
        post(format!("{c}/steps")),
        &ola,
        Some(&etag),
        json!({"key": "1.2", "note": "Planen er laget sammen med foreldrene"}),
        201,
    )
    .await;
    let (measure, measure_etag) = ex
        .send("MeasureInput", post(format!("{c}/measures")), &ola, None,
              json!({"title": "Språkgruppe", "goal": "Flere ord i lek", "responsible": {"kind": "service", "service": "ppt-vest"},
                     "start_date": today.to_string(), "evaluate_by": in_days(42), "state": "planned"}), 201)
        .await;
    let m = format!("{c}/measures/{}", id(&measure));
    let measure_etag = if measure_etag.is_empty() {
        ex.etag(&m, &ola).await
    } else {
        measure_etag
    };
    ex.send(
        "MeasurePatch",
        patch(&m),
        &ola,
        Some(&measure_etag),
        json!({"state": "active"}),
        200,
    )
    .await;
    ex.send("EvaluationInput", post(format!("{m}/evaluations")), &pia, None,
            json!({"evaluated_on": today.to_string(), "assessment": "Tydelig fremgang", "child_view": "Gøy",
                   "outcome": "continue", "next_evaluate_by": in_days(90)}), 201).await;
    ex.send("EntryInput", post(format!("{c}/entries")), &ola, None,
            json!({"kind": "meeting", "occurred_at": Utc::now().to_rfc3339(), "title": "Stafettmøte",
                   "body": "Foreldre, barnehage og PPT møttes.", "attendees": [id(&mother)],
                   "decisions": "Språkgruppe to ganger i uka", "next_meeting": format!("{}T09:00:00+01:00", in_days(14))}), 201).await;

    // A plan with its group, one ended; a meeting answered, changed and minuted, another cancelled.
    let pia_id = ex
        .app
        .get(&participants, &ola)
        .await
        .json::<Value>()
        .await
        .unwrap()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user_id"] == "pia")
        .unwrap()["id"]
        .clone();
    let (plan, plan_etag) = ex
        .send("PlanInput", post(format!("{c}/plans")), &ola, None,
              json!({"kind": "ip", "owner_service": "barnehage-solstua", "starts_on": today.to_string(),
                     "ends_on": in_days(365), "goals": ["Emma leker med andre barn"]}), 201)
        .await;
    let p = format!("{c}/plans/{}", id(&plan));
    ex.send(
        "PlanPatch",
        patch(&p),
        &ola,
        Some(&plan_etag),
        json!({"coordinator": pia_id}),
        200,
    )
    .await;
    ex.send(
        "PlanMemberInput",
        post(format!("{p}/members")),
        &ola,
        None,
        json!({"participant_id": id(&mother), "role": "forelder"}),
        200,
    )
    .await;
    let (iup, _) = ex
        .send("PlanInput", post(format!("{c}/plans")), &ola, None,
              json!({"kind": "iup", "owner_service": "barnehage-solstua", "starts_on": today.to_string()}), 201)
        .await;
    ex.send(
        "PlanEndInput",
        post(format!("{c}/plans/{}/end", id(&iup))),
        &ola,
        None,
        json!({"reason": "Erstattet av en individuell plan"}),
        200,
    )
    .await;
    let soon = |days: u64, hour: u32| format!("{}T{hour:02}:00:00+01:00", in_days(days));
    let (meeting, meeting_etag) = ex
        .send("MeetingInput", post(format!("{c}/meetings")), &ola, None,
              json!({"kind": "ansvarsgruppe", "starts_at": soon(7, 9), "ends_at": soon(7, 10),
                     "place": "Solstua, møterom", "agenda": "Planen", "invitees": [id(&mother), pia_id]}), 201)
        .await;
    let mt = format!("{c}/meetings/{}", id(&meeting));
    ex.send(
        "MeetingPatch",
        patch(&mt),
        &ola,
        Some(&meeting_etag),
        json!({"starts_at": soon(8, 9), "ends_at": soon(8, 10)}),
        200,
    )
    .await;
    ex.send(
        "InvitationAnswerInput",
        post(format!("{mt}/respond")),
        &kari,
        None,
        json!({"response": "accepted"}),
        200,
    )
    .await;
    ex.send(
        "MeetingCancelInput",
        post(format!("{mt}/cancel")),
        &ola,
        None,
        json!({"reason": "Sykdom"}),
        200,
    )
    .await;
    let now = Utc::now();
    let (held, _) = ex
        .send("MeetingInput", post(format!("{c}/meetings")), &ola, None,
              json!({"kind": "samarbeidsmote", "starts_at": now.to_rfc3339(),
                     "ends_at": (now + chrono::Duration::hours(1)).to_rfc3339(), "invitees": [id(&mother)]}), 201)
        .await;
    ex.send(
        "MinutesInput",
        post(format!("{c}/meetings/{}/minutes", id(&held))),
        &ola,
        None,
        json!({"body": "Vi ble enige om neste steg.", "decisions": "Nytt møte i mars",
                   "attendees": [id(&mother)], "next_meeting": soon(40, 9)}),
        200,
    )
    .await;
    ex.send(
        "CalendarInput",
        post("/api/v1/me/calendar"),
        &kari,
        None,
        json!({"include_place": false}),
        201,
    )
    .await;

    let (consultation, _) = ex
        .send("ConsultationInput", post("/api/v1/consultations"), &ola, None,
              json!({"to_service": "ppt-vest", "question": "Hvordan snakker vi med foreldre om språk?",
                     "age_group": "0-5", "from_service": "barnehage-solstua"}), 201)
        .await;
    ex.send(
        "ConsultationAnswerInput",
        post(format!(
            "/api/v1/consultations/{}/answers",
            id(&consultation)
        )),
        &pia,
        None,
        json!({"text": "Vis konkrete eksempler fra leken."}),
        201,
    )
    .await;

    // A survey of the employees: one planned and changed, one open today and answered.
    let questions = json!([
        {"key": "kjenner", "text": {"nb": "Kjenner du handlingsveilederen?", "nn": "Kjenner du handlingsrettleiaren?"}, "kind": "yes_no"},
        {"key": "samarbeid", "text": {"nb": "Samarbeidet fungerer godt."}, "kind": "scale_1_5"}]);
    let (planned, etag) = ex
        .send("SurveyInput", post("/api/v1/surveys"), &admin, None,
              json!({"title": "Kartlegging til høsten", "opens_on": in_days(1), "closes_on": in_days(15),
                     "by_service": true, "questions": questions}), 201)
        .await;
    ex.send("SurveyPatch", patch(format!("/api/v1/surveys/{}", id(&planned))), &admin, Some(&etag),
            json!({"title": "Kartlegging til høsten 2027", "opens_on": in_days(2), "closes_on": in_days(16),
                   "by_service": false, "questions": questions}), 200)
        .await;
    let (open, _) = ex
        .send(
            "SurveyInput",
            post("/api/v1/surveys"),
            &admin,
            None,
            json!({"title": "Kartlegging nå", "opens_on": in_days(0), "closes_on": in_days(14),
                     "questions": questions}),
            201,
        )
        .await;
    ex.send(
        "SurveyAnswers",
        post(format!("/api/v1/surveys/{}/responses", id(&open))),
        &ola,
        None,
        json!({"service": "barnehage-solstua", "answers": {"kjenner": true, "samarbeid": 4}}),
        200,
    )
    .await;

    // The relay: declined, cancelled, then accepted.
    let handover = json!({"to": {"user_id": "sara", "name": "Sara Kontaktlærer", "service": "skole-bakke"},
                          "reason": "transition", "note": "Skolestart", "answer_by": in_days(14)});
    let handovers = format!("{c}/handovers");
    let (h1, _) = ex
        .send(
            "HandoverInput",
            post(&handovers),
            &ola,
            None,
            handover.clone(),
            201,
        )
        .await;
    ex.send(
        "DeclineInput",
        post(format!("{handovers}/{}/decline", id(&h1))),
        &sara,
        None,
        json!({"reason": "Ikke min elev ennå"}),
        200,
    )
    .await;
    let (h2, _) = ex
        .send(
            "HandoverInput",
            post(&handovers),
            &ola,
            None,
            handover.clone(),
            201,
        )
        .await;
    ex.send(
        "CancelInput",
        post(format!("{handovers}/{}/cancel", id(&h2))),
        &ola,
        None,
        json!({"reason": "Venter til august"}),
        200,
    )
    .await;
    let (h3, _) = ex
        .send("HandoverInput", post(&handovers), &ola, None, handover, 201)
        .await;
    ex.send(
        "AcceptInput",
        post(format!("{handovers}/{}/accept", id(&h3))),
        &sara,
        None,
        json!({}),
        200,
    )
    .await;

    // The family ends it: a withdrawal on this case, a closure of another.
    ex.send(
        "WithdrawRequest",
        post(format!("{c}/consents/{}/withdraw", id(&consent))),
        &kari,
        None,
        json!({"reason": "Vi ønsker ikke mer samarbeid"}),
        200,
    )
    .await;
    // The withdrawal closed the case (Sara's school lost its coverage); she, its last holder, reopens it.
    let etag = ex.etag(&c, &sara).await;
    ex.send(
        "ReopenRequest",
        post(format!("{c}/reopen")),
        &sara,
        Some(&etag),
        json!({"reason": "Foreldrene samtykker igjen"}),
        200,
    )
    .await;
    let second = app.open_case(&ola, "barnehage-solstua", "Nora").await;
    let c2 = format!("/api/v1/cases/{}", id(&second));
    // The unit leader moves Lina's relay while Ola is away; later Tor leaves the municipality.
    let third = app.open_case(&ola, "barnehage-solstua", "Lina").await;
    let c3 = format!("/api/v1/cases/{}", id(&third));
    let lea = app.token("3805", "lea", &[Role::Leader], &["barnehage-solstua"]);
    ex.send(
        "ReassignInput",
        post(format!("{c3}/holder/reassign")),
        &lea,
        None,
        json!({"to": {"user_id": "tor", "name": "Tor Pedagog", "service": "barnehage-solstua"},
               "reason": "absence", "note": "Ola er sykmeldt i seks uker"}),
        200,
    )
    .await;
    let admin = app.token("3805", "admin", &[Role::Admin], &[]);
    ex.send(
        "DepartedInput",
        post("/api/v1/staff/tor/departed"),
        &admin,
        None,
        json!({"on": in_days(30)}),
        200,
    )
    .await;
    let etag = ex.etag(&c2, &ola).await;
    ex.send(
        "CloseCaseRequest",
        post(format!("{c2}/close")),
        &ola,
        Some(&etag),
        json!({"reason": "no_need", "note": "Avklart"}),
        200,
    )
    .await;
    ex.send(
        "ArchivedInput",
        post(format!("{c2}/archived")),
        &admin,
        None,
        json!({"system": "elements", "reference": "2026/1234-5", "archived_on": today.to_string()}),
        200,
    )
    .await;

    // A family's inquiry, answered, and a case opened from it.
    let (inquiry, _) = ex
        .send(
            "NewInquiry",
            post("/api/v1/inquiries"),
            &kari,
            None,
            json!({"service": "barnehage-solstua", "about": "own_child",
                   "child": {"given_name": "Emma", "birth_date": "2020-03-14", "national_id": "14832010082"},
                   "message": "Emma gruer seg til barnehagen. Kan vi snakke med noen?",
                   "contact": {"phone": "+47 400 00 000", "email": "kari@example.org"},
                   "wants": "conversation"}),
            201,
        )
        .await;
    let q = format!("/api/v1/inquiries/{}", id(&inquiry));
    ex.send(
        "AnswerRequest",
        post(format!("{q}/answer")),
        &ola,
        None,
        json!({"message": "Velkommen til en samtale tirsdag kl. 10."}),
        201,
    )
    .await;
    ex.send(
        "CaseFromInquiryRequest",
        post(format!("{q}/open-case")),
        &ola,
        None,
        json!({"subject": {"kind": "child", "given_name": "Emma", "family_name": "Testesen",
                           "birth_date": "2020-03-14"},
               "concern": "Mor forteller at Emma gruer seg til barnehagen.",
               "external_refs": [{"system": "visma-flyt", "id": "B-18"}]}),
        201,
    )
    .await;

    // Notification settings (anyone's), and an integration's webhook to a public address.
    ex.send(
        "NotificationSettings",
        (Method::PUT, "/api/v1/me/notifications".to_string()),
        &ola,
        None,
        json!({"email": "ola.pedagog@barnehage.kommune.no", "phone": "+4791234567",
               "channels": {"email": true, "sms": false}, "surveys": true}),
        200,
    )
    .await;
    let system = app.token(
        "3805",
        "fagsystem",
        &[Role::Integration],
        &["barnehage-solstua"],
    );
    ex.send(
        "WebhookInput",
        post("/api/v1/webhooks"),
        &system,
        None,
        json!({"url": "https://192.0.43.10/stafettlogg/hooks",
               "events": ["case.opened", "handover.proposed", "holder.reassigned"]}),
        201,
    )
    .await;
    ex
}

#[actix_web::test]
async fn every_request_schema_has_an_example_the_validator_and_the_server_accept() {
    let app = TestApp::spawn().await;
    let ex = send_every_example(&app).await;

    // Every request schema of the spec (and every kind of participant) has had its example.
    let spec: Value = serde_json::from_str(&stafettlogg::api_doc_json()).unwrap();
    let mut wanted = BTreeSet::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            if let Some(r) =
                op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
            {
                wanted.insert(r.to_string());
            }
        }
    }
    let covered: BTreeSet<String> = ex
        .sent
        .iter()
        .map(|s| s["schema"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(wanted, covered, "request schemas without an example here");
    let kinds: BTreeSet<&str> = ex
        .sent
        .iter()
        .filter_map(|s| s["body"]["kind"].as_str())
        .collect();
    for k in ["professional", "guardian", "youth", "other"] {
        assert!(kinds.contains(k), "no participant example of kind {k}");
    }

    // And an independent validator agrees that each body fits its schema in the committed spec.
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("request-examples.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&ex.sent).unwrap()).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(crate::tools::python())
        .arg(root.join("tests/contract/check_spec.py"))
        .arg(root.join("openapi/openapi.json"))
        .arg("--bodies")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
