//! Rule 13: plans beside the log. Owners fit their kind, an individual plan needs a coordinator before it
//! is in force, the school's activity plan stays with the school when the relay moves, only the plan's own
//! professionals change it, the family reads it, and closing into a plan needs one in force.

use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::family::{family, Family, BARNEHAGE, PPT, SKOLE};
use crate::support::{fields, problem};

fn today() -> String {
    stafettlogg::clock::today().to_string()
}

async fn send(
    f: &Family,
    method: Method,
    rest: &str,
    token: &str,
    if_match: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut req = f.app.request(method, &f.path(rest), Some(token)).json(body);
    if let Some(v) = if_match {
        req = req.header("if-match", v);
    }
    req.send().await.unwrap()
}

async fn created(res: reqwest::Response) -> Value {
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, 201, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn ok(res: reqwest::Response) -> Value {
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// Pia from PPT joins the case once the guardians consented to PPT; returns her participant id.
async fn with_pia(f: &Family, services: &[&str]) -> String {
    f.consent_ok(&[&f.mother_id, &f.father_id], services).await;
    let res = f.add_professional("pia", PPT).await;
    created(res).await["id"].as_str().unwrap().to_string()
}

fn etag(v: &Value) -> String {
    format!("\"{}\"", v["version"])
}

#[actix_web::test]
async fn a_level_three_case_gets_an_individual_plan_with_a_coordinator() {
    let f = family().await;
    let pia_id = with_pia(&f, &[BARNEHAGE, PPT]).await;
    for level in [1, 2, 3] {
        assert_eq!(f.level(level).await.status(), 201, "level {level}");
    }
    let plan = created(
        f.post(
            "/plans",
            &f.ola,
            &json!({"kind": "ip", "owner_service": BARNEHAGE,
        "starts_on": today(), "goals": ["Emma leker med andre barn"]}),
        )
        .await,
    )
    .await;
    assert_eq!(plan["state"], "draft");
    let pid = plan["id"].as_str().unwrap().to_string();

    // An individual plan is not in force without its coordinator.
    let p = problem(
        f.post(&format!("/plans/{pid}/activate"), &f.ola, &json!({}))
            .await,
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("rule 13"), "{p}");
    // A guardian is no coordinator.
    let res = send(
        &f,
        Method::PATCH,
        &format!("/plans/{pid}"),
        &f.ola,
        Some(&etag(&plan)),
        &json!({"coordinator": f.mother_id}),
    )
    .await;
    assert_eq!(fields(&problem(res, 422).await), ["coordinator"]);
    let plan = ok(send(
        &f,
        Method::PATCH,
        &format!("/plans/{pid}"),
        &f.ola,
        Some(&etag(&plan)),
        &json!({"coordinator": pia_id}),
    )
    .await)
    .await;
    assert_eq!(plan["coordinator"], pia_id.as_str());
    // The coordinator is one of the plan's own people: she builds the ansvarsgruppe and puts it in force.
    ok(f.post(
        &format!("/plans/{pid}/members"),
        &f.pia,
        &json!({"participant_id": f.mother_id, "role": "forelder"}),
    )
    .await)
    .await;
    let plan = ok(f
        .post(&format!("/plans/{pid}/activate"), &f.pia, &json!({}))
        .await)
    .await;
    assert_eq!(plan["state"], "active");
    assert_eq!(plan["members"][0]["participant_id"], f.mother_id.as_str());
    assert_eq!(plan["members"][0]["role"], "forelder");

    // The family reads the plan and cannot change it.
    let list = f.json("/plans", &f.mother).await;
    assert_eq!(list["items"][0]["id"], pid.as_str());
    let res = send(
        &f,
        Method::PATCH,
        &format!("/plans/{pid}"),
        &f.mother,
        Some(&etag(&plan)),
        &json!({"goals": ["x"]}),
    )
    .await;
    problem(res, 403).await;

    // A measure belongs to the plan.
    let measure = created(f.post("/measures", &f.ola, &json!({"title": "Lekegruppe", "goal": "Leke med andre",
        "responsible": {"kind": "subject"}, "start_date": today(), "evaluate_by": today(), "plan_id": pid})).await).await;
    assert_eq!(measure["plan_id"], pid.as_str());

    let types = f
        .app
        .feed_types(
            &f.app
                .token("3805", "arkiv", &[Role::Integration], &[BARNEHAGE]),
        )
        .await;
    assert!(
        types.contains(&"plan.created".to_string())
            && types.contains(&"plan.activated".to_string()),
        "{types:?}"
    );
    let timeline = f.json("/timeline", &f.ola).await;
    let kinds = crate::support::item_types(&timeline);
    assert!(kinds.contains(&"plan.activated"), "{kinds:?}");
    assert_eq!(
        f.app.count(&format!(
            "access_events WHERE case_id = '{}' AND resource = 'case.plans' AND action = 'read'",
            f.case_id
        )),
        1
    );
}

#[actix_web::test]
async fn a_plan_is_owned_by_a_service_of_its_kind_in_the_case() {
    let f = family().await;
    // An iop is a school's.
    let res = f
        .post(
            "/plans",
            &f.ola,
            &json!({"kind": "iop", "owner_service": BARNEHAGE, "starts_on": today()}),
        )
        .await;
    assert_eq!(fields(&problem(res, 422).await), ["owner_service"]);
    // A school the family has not consented to is not in the case.
    let res = f
        .post(
            "/plans",
            &f.ola,
            &json!({"kind": "aktivitetsplan", "owner_service": SKOLE, "starts_on": today()}),
        )
        .await;
    assert_eq!(fields(&problem(res, 422).await), ["owner_service"]);
    // No such service.
    let res = f
        .post(
            "/plans",
            &f.ola,
            &json!({"kind": "ip", "owner_service": "finnes-ikke", "starts_on": today()}),
        )
        .await;
    assert_eq!(fields(&problem(res, 422).await), ["owner_service"]);
    // An iup is the kindergarten's; one unfinished plan of a kind per case.
    created(
        f.post(
            "/plans",
            &f.ola,
            &json!({"kind": "iup", "owner_service": BARNEHAGE, "starts_on": today()}),
        )
        .await,
    )
    .await;
    problem(
        f.post(
            "/plans",
            &f.ola,
            &json!({"kind": "iup", "owner_service": BARNEHAGE, "starts_on": today()}),
        )
        .await,
        409,
    )
    .await;
    let res = f.post("/plans", &f.ola, &json!({"kind": "ip", "owner_service": BARNEHAGE, "starts_on": today(), "ends_on": "2000-01-01"})).await;
    assert_eq!(fields(&problem(res, 422).await), ["ends_on"]);
    let res = f.post("/plans", &f.ola, &json!({"kind": "ip", "owner_service": BARNEHAGE, "starts_on": today(), "goals": [" "]})).await;
    assert_eq!(fields(&problem(res, 422).await), ["goals"]);
    // A guardian reads plans but does not start one; a stranger does not learn that the case exists.
    problem(
        f.post(
            "/plans",
            &f.mother,
            &json!({"kind": "ip", "owner_service": BARNEHAGE, "starts_on": today()}),
        )
        .await,
        403,
    )
    .await;
    problem(f.get("/plans", &f.pia).await, 404).await;
}

#[actix_web::test]
async fn the_activity_plan_stays_with_the_school_after_the_relay_moves_to_ppt() {
    let f = family().await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, SKOLE, PPT])
        .await;
    created(f.add_professional("tora", SKOLE).await).await;
    let tora = f.app.token("3805", "tora", &[Role::Professional], &[SKOLE]);
    // The school starts its own plan without holding the relay.
    let plan = created(
        f.post(
            "/plans",
            &tora,
            &json!({"kind": "aktivitetsplan", "owner_service": SKOLE,
        "starts_on": today(), "goals": ["Trygt skolemiljø"]}),
        )
        .await,
    )
    .await;
    let pid = plan["id"].as_str().unwrap().to_string();
    ok(f.post(&format!("/plans/{pid}/activate"), &tora, &json!({}))
        .await)
    .await;

    let proposed = created(
        f.post(
            "/handovers",
            &f.ola,
            &json!({"to": {"user_id": "pia", "name": "Testperson pia", "service": PPT},
        "reason": "transition", "answer_by": stafettlogg::clock::today() + chrono::Days::new(14)}),
        )
        .await,
    )
    .await;
    let hid = proposed["id"].as_str().unwrap();
    ok(
        f.post(&format!("/handovers/{hid}/accept"), &f.pia, &json!({}))
            .await,
    )
    .await;

    let plan = f.json(&format!("/plans/{pid}"), &f.pia).await;
    assert_eq!(
        plan["owner_service"], SKOLE,
        "the relay moved, the plan did not"
    );
    // The new holder cannot hand the school's plan to PPT.
    let p = problem(
        send(
            &f,
            Method::PATCH,
            &format!("/plans/{pid}"),
            &f.pia,
            Some(&etag(&plan)),
            &json!({"owner_service": PPT}),
        )
        .await,
        409,
    )
    .await;
    assert!(
        p["detail"].as_str().unwrap().contains("aktivitetsplan"),
        "{p}"
    );
    // The school keeps working on it.
    let plan = ok(send(
        &f,
        Method::PATCH,
        &format!("/plans/{pid}"),
        &tora,
        Some(&etag(&plan)),
        &json!({"goals": ["Trygt skolemiljø", "Venner i friminuttet"]}),
    )
    .await)
    .await;
    assert_eq!(plan["goals"].as_array().unwrap().len(), 2);
    // Ola no longer holds the relay nor works in the school: not one of the plan's people.
    let ola_now = f
        .app
        .token("3805", "ola", &[Role::Professional], &[BARNEHAGE]);
    problem(
        send(
            &f,
            Method::PATCH,
            &format!("/plans/{pid}"),
            &ola_now,
            Some(&etag(&plan)),
            &json!({"goals": ["x"]}),
        )
        .await,
        403,
    )
    .await;
}

#[actix_web::test]
async fn closing_into_an_individual_plan_needs_one_in_force() {
    let f = family().await;
    let close = |f: &Family, v: String| {
        let req = f
            .app
            .request(Method::POST, &f.path("/close"), Some(&f.ola))
            .header("if-match", v);
        req.json(&json!({"reason": "moved_to_individual_plan"}))
            .send()
    };
    let p = problem(close(&f, f.version().await).await.unwrap(), 409).await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("moved_to_individual_plan"),
        "{p}"
    );
    let plan = created(
        f.post(
            "/plans",
            &f.ola,
            &json!({"kind": "iup", "owner_service": BARNEHAGE, "starts_on": today()}),
        )
        .await,
    )
    .await;
    let pid = plan["id"].as_str().unwrap();
    ok(
        f.post(&format!("/plans/{pid}/activate"), &f.ola, &json!({}))
            .await,
    )
    .await;
    let res = close(&f, f.version().await).await.unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

#[actix_web::test]
async fn an_ended_plan_keeps_its_reason_and_no_longer_changes() {
    let f = family().await;
    let plan = created(
        f.post(
            "/plans",
            &f.ola,
            &json!({"kind": "iup", "owner_service": BARNEHAGE, "starts_on": today()}),
        )
        .await,
    )
    .await;
    let pid = plan["id"].as_str().unwrap();
    // A change without the version it was made against is asked for it.
    problem(
        send(
            &f,
            Method::PATCH,
            &format!("/plans/{pid}"),
            &f.ola,
            None,
            &json!({"goals": ["x"]}),
        )
        .await,
        428,
    )
    .await;
    let res = f
        .post(&format!("/plans/{pid}/end"), &f.ola, &json!({}))
        .await;
    assert_eq!(fields(&problem(res, 422).await), ["reason"]);
    let ended = ok(f
        .post(
            &format!("/plans/{pid}/end"),
            &f.ola,
            &json!({"reason": "Erstattet av IOP"}),
        )
        .await)
    .await;
    assert_eq!(ended["state"], "ended");
    assert_eq!(ended["end_reason"], "Erstattet av IOP");
    problem(
        send(
            &f,
            Method::PATCH,
            &format!("/plans/{pid}"),
            &f.ola,
            Some(&etag(&ended)),
            &json!({"goals": ["x"]}),
        )
        .await,
        409,
    )
    .await;
    problem(
        f.post(&format!("/plans/{pid}/activate"), &f.ola, &json!({}))
            .await,
        409,
    )
    .await;
    // A measure does not join an ended plan, nor one of another case.
    let body = json!({"title": "T", "goal": "G", "responsible": {"kind": "subject"}, "start_date": today(), "evaluate_by": today(), "plan_id": pid});
    problem(f.post("/measures", &f.ola, &body).await, 409).await;
    let mut other = body.clone();
    other["plan_id"] = json!(uuid::Uuid::now_v7());
    assert_eq!(
        fields(&problem(f.post("/measures", &f.ola, &other).await, 422).await),
        ["plan_id"]
    );
    problem(
        f.get(&format!("/plans/{}", uuid::Uuid::now_v7()), &f.ola)
            .await,
        404,
    )
    .await;
}

#[actix_web::test]
async fn plans_and_meetings_are_in_the_archive_document_the_familys_own_data_and_the_figures() {
    let f = family().await;
    let plan = created(
        f.post(
            "/plans",
            &f.ola,
            &json!({"kind": "iup", "owner_service": BARNEHAGE, "starts_on": today(),
        "goals": ["Emma leker med flere barn"]}),
        )
        .await,
    )
    .await;
    let pid = plan["id"].as_str().unwrap();
    ok(f.post(
        &format!("/plans/{pid}/members"),
        &f.ola,
        &json!({"participant_id": f.mother_id, "role": "mor"}),
    )
    .await)
    .await;
    let soon = chrono::Utc::now() + chrono::Duration::days(2);
    created(
        f.post(
            "/meetings",
            &f.ola,
            &json!({"kind": "ansvarsgruppe", "starts_at": soon,
        "ends_at": soon + chrono::Duration::hours(1), "invitees": [f.mother_id]}),
        )
        .await,
    )
    .await;

    let pdf = crate::archive::pdf_of(&f.app, &f.path("/export"), &f.ola).await;
    let text = crate::archive::pdf_text(&pdf, "plans.pdf");
    for shown in [
        "Planer",
        "individuell utviklingsplan (IUP)",
        "Emma leker med flere barn",
        "Møter",
        "ansvarsgruppemøte",
    ] {
        assert!(
            text.contains(shown),
            "{shown} in the archive document:\n{text}"
        );
    }
    let mine = ok(f.app.get("/api/v1/me/data", &f.mother).await).await;
    assert_eq!(mine["cases"][0]["plans_you_are_in"][0]["kind"], "iup");
    assert_eq!(
        mine["cases"][0]["meetings_you_are_invited_to"][0]["kind"],
        "ansvarsgruppe"
    );
    let dad = ok(f.app.get("/api/v1/me/data", &f.father).await).await;
    assert_eq!(dad["cases"][0]["plans_you_are_in"], json!([]));

    // Figures: one plan is too few to show; six are shown.
    let admin = f.app.token("3805", "admin", &[Role::Admin], &[]);
    let iup = |s: &Value| {
        s["plans_by_kind"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["kind"] == "iup")
            .cloned()
            .unwrap()
    };
    let figures = ok(f.app.get("/api/v1/statistics", &admin).await).await;
    assert_eq!(
        (
            iup(&figures)["started"].clone(),
            iup(&figures)["in_force_at_end"].clone()
        ),
        (Value::Null, json!(0))
    );
    for name in ["Ada", "Bo", "Cai", "Dag", "Eli"] {
        let case = f.app.open_case(&f.ola, BARNEHAGE, name).await;
        let path = format!("/api/v1/cases/{}/plans", case["id"].as_str().unwrap());
        created(
            f.app
                .post(
                    &path,
                    &f.ola,
                    &json!({"kind": "iup", "owner_service": BARNEHAGE, "starts_on": today()}),
                )
                .await,
        )
        .await;
    }
    let figures = ok(f.app.get("/api/v1/statistics", &admin).await).await;
    assert_eq!(iup(&figures)["started"], 6);
    assert_eq!(figures["plans_by_kind"].as_array().unwrap().len(), 4);
}
