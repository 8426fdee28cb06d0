//! Rule 6: the stafettholder role changes hands only by an accepted handover, with no gap and never two.

use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::family::{family, Family, BARNEHAGE, PPT, SKOLE};
use crate::support::{fields, problem, Options, TestApp};

fn today() -> chrono::NaiveDate {
    stafettlogg::clock::today()
}

async fn propose(f: &Family, to_user: &str, service: &str) -> reqwest::Response {
    f.post("/handovers", &f.ola, &json!({"to": {"user_id": to_user, "name": format!("Testperson {to_user}"), "service": service},
        "reason": "transition", "note": "Emma begynner på skolen i august", "answer_by": today() + chrono::Days::new(14)})).await
}

fn holder_of(case: &Value) -> (String, String) {
    (
        case["holder"]["user_id"].as_str().unwrap().into(),
        case["holder"]["service"].as_str().unwrap().into(),
    )
}

/// SQL check of rule 6's history: periods never overlap, each starts where the previous ended, and an
/// open case has exactly one open period, held by its holder.
fn assert_history_sound(app: &TestApp, case_id: &str) {
    assert_eq!(app.count(&format!(
        "holder_periods a JOIN holder_periods b ON a.case_id = b.case_id AND a.period <> b.period AND a.period && b.period \
         WHERE a.case_id = '{case_id}'")), 0, "overlap");
    assert_eq!(app.count(&format!(
        "(SELECT lower(period) AS lo, lag(upper(period)) OVER (ORDER BY lower(period)) AS prev, \
                 row_number() OVER (ORDER BY lower(period)) AS n FROM holder_periods WHERE case_id = '{case_id}') p \
         WHERE n > 1 AND prev IS DISTINCT FROM lo")), 0, "gap");
    assert_eq!(app.count(&format!(
        "holder_periods hp JOIN cases c ON c.id = hp.case_id AND c.holder_participant_id = hp.participant_id \
         WHERE hp.case_id = '{case_id}' AND upper_inf(hp.period) AND c.status = 'open'")), 1, "one open period, the holder's");
    assert_eq!(
        app.count(&format!(
            "holder_periods WHERE case_id = '{case_id}' AND upper_inf(period)"
        )),
        1
    );
}

#[actix_web::test]
async fn rule_6_kindergarten_to_school_transition_at_level_2() {
    let f = family().await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, SKOLE])
        .await;
    assert_eq!(f.level(1).await.status(), 201);
    assert_eq!(f.level(2).await.status(), 201);
    let sara = f.app.token("3805", "sara", &[Role::Professional], &[SKOLE]);
    // Sara (the school) is not in the case yet: she cannot read it.
    problem(f.get("", &sara).await, 404).await;

    let res = propose(&f, "sara", SKOLE).await;
    assert_eq!(res.status(), 201);
    let h: Value = res.json().await.unwrap();
    assert_eq!(h["state"], "pending");
    let hid = h["id"].as_str().unwrap().to_string();
    // Until she accepts, Ola keeps the relay.
    assert_eq!(
        holder_of(&f.json("", &f.ola).await),
        ("ola".into(), BARNEHAGE.into())
    );
    // It waits in her inbox and in what needs her.
    let inbox: Value = f
        .app
        .get("/api/v1/handovers?status=pending", &sara)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox["items"][0]["id"], hid.as_str());
    let attention: Value = f
        .app
        .get("/api/v1/me/attention", &sara)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(attention["handovers_waiting"][0]["id"], hid.as_str());
    assert_eq!(attention["handovers_waiting"][0]["overdue"], false);

    let res = f
        .post(&format!("/handovers/{hid}/accept"), &sara, &json!({}))
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let case = f.json("", &sara).await;
    assert_eq!(holder_of(&case), ("sara".into(), SKOLE.into()));
    assert_eq!(
        case["level"], 2,
        "the level is carried across the transition"
    );
    // Ola stays in the case (the proposal did not say he leaves), no longer as holder.
    let participants = f.json("/participants", &sara).await;
    let ola = participants["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user_id"] == "ola")
        .unwrap();
    assert_eq!(ola["active"], true);
    assert_eq!(f.get("", &f.ola).await.status(), 200);
    problem(
        f.app
            .request(Method::PATCH, &f.path(""), Some(&f.ola))
            .header("if-match", f.version().await)
            .json(&json!({"concern": "x"}))
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    // Every step is in the timeline and the access log.
    let timeline = f.json("/timeline", &sara).await;
    let types = crate::support::item_types(&timeline);
    assert!(
        types.contains(&"handover.proposed") && types.contains(&"handover.accepted"),
        "{types:?}"
    );
    let log = f.json("/access-log", &f.mother).await;
    let actions: Vec<(&str, &str)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"]["user_id"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        actions.contains(&("ola", "propose")) && actions.contains(&("sara", "accept")),
        "{actions:?}"
    );
    assert_history_sound(&f.app, &f.case_id);
    // And in the change feed of a school system.
    let school_system = f
        .app
        .token("3805", "skolesystem", &[Role::Integration], &[SKOLE]);
    let types = f.app.feed_types(&school_system).await;
    assert!(
        types.ends_with(&["participant.added", "handover.accepted"].map(String::from)),
        "{types:?}"
    );
    // The inbox is empty now.
    let inbox: Value = f
        .app
        .get("/api/v1/handovers", &sara)
        .await
        .json()
        .await
        .unwrap();
    assert!(inbox["items"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn rule_6_the_previous_holder_leaves_when_the_proposal_says_so() {
    let f = family().await;
    let res = f
        .post(
            "/handovers",
            &f.ola,
            &json!({"to": {"user_id": "kari", "name": "Kari", "service": BARNEHAGE},
        "reason": "absence", "previous_holder_leaves": true}),
        )
        .await;
    let hid = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let kari = f
        .app
        .token("3805", "kari", &[Role::Professional], &[BARNEHAGE]);
    assert_eq!(
        f.post(&format!("/handovers/{hid}/accept"), &kari, &json!({}))
            .await
            .status(),
        200
    );
    problem(f.get("", &f.ola).await, 404).await;
    let participants = f.json("/participants", &kari).await;
    let ola = participants["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user_id"] == "ola")
        .unwrap();
    assert_eq!(ola["active"], false);
    assert_history_sound(&f.app, &f.case_id);
}

#[actix_web::test]
async fn rule_6_a_handover_to_an_uncovered_service_is_refused() {
    let f = family().await;
    let before = f.app.table_counts();
    let p = problem(propose(&f, "sara", SKOLE).await, 409).await;
    assert!(p["detail"].as_str().unwrap().contains(SKOLE));
    let p = problem(propose(&f, "sara", "ukjent").await, 422).await;
    assert_eq!(fields(&p), vec!["to.service"]);
    let p = problem(propose(&f, "ola", BARNEHAGE).await, 422).await;
    assert_eq!(fields(&p), vec!["to.user_id"]);
    assert_eq!(f.app.table_counts(), before);
    // Only the holder proposes.
    f.consent_ok(&[&f.mother_id, &f.father_id], &[PPT]).await;
    assert_eq!(f.add_professional("pia", PPT).await.status(), 201);
    let res = f
        .post(
            "/handovers",
            &f.pia,
            &json!({"to": {"user_id": "pia", "name": "Pia", "service": PPT}, "reason": "other"}),
        )
        .await;
    problem(res, 403).await;
}

#[actix_web::test]
async fn rule_6_decline_and_cancel_leave_the_holder_unchanged() {
    let f = family().await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, SKOLE])
        .await;
    let sara = f.app.token("3805", "sara", &[Role::Professional], &[SKOLE]);
    let hid = propose(&f, "sara", SKOLE)
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let p = problem(
        f.post(&format!("/handovers/{hid}/decline"), &sara, &json!({}))
            .await,
        422,
    )
    .await;
    assert_eq!(fields(&p), vec!["reason"]);
    let res = f
        .post(
            &format!("/handovers/{hid}/decline"),
            &sara,
            &json!({"reason": "Ikke min skole"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["state"], "declined");
    assert_eq!(holder_of(&f.json("", &f.ola).await).0, "ola");
    // Rule 9: the decline is in the access log, on the basis that let Sara answer at all.
    assert_eq!(
        f.app.count(&format!(
            "access_events WHERE case_id = '{}' AND action = 'decline' AND actor_user_id = 'sara' \
             AND basis = 'handover_recipient'",
            f.case_id
        )),
        1
    );
    problem(
        f.post(&format!("/handovers/{hid}/accept"), &sara, &json!({}))
            .await,
        409,
    )
    .await;

    let hid = propose(&f, "sara", SKOLE)
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = f
        .post(
            &format!("/handovers/{hid}/cancel"),
            &f.ola,
            &json!({"reason": "Venter til våren"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(holder_of(&f.json("", &f.ola).await).0, "ola");
    problem(
        f.post(&format!("/handovers/{hid}/accept"), &sara, &json!({}))
            .await,
        409,
    )
    .await;
    problem(f.get("", &sara).await, 404).await;
    let list = f.json("/handovers", &f.ola).await;
    let states: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["declined", "cancelled"]);
    assert_history_sound(&f.app, &f.case_id);
}

#[actix_web::test]
async fn rule_6_a_second_proposal_while_one_is_pending_is_refused() {
    let f = family().await;
    let first: Value = f.post("/handovers", &f.ola, &json!({"to": {"user_id": "kari", "name": "Kari", "service": BARNEHAGE}, "reason": "absence"}))
        .await.json().await.unwrap();
    let before = f.app.table_counts();
    let res = f.post("/handovers", &f.ola, &json!({"to": {"user_id": "knut", "name": "Knut", "service": BARNEHAGE}, "reason": "absence"})).await;
    let p = problem(res, 409).await;
    assert_eq!(p["conflicting_id"], first["id"]);
    assert_eq!(f.app.table_counts(), before);
    // The database refuses a second pending one too, whatever the code path.
    let dup = diesel::RunQueryDsl::execute(diesel::sql_query(format!(
        "INSERT INTO handovers (id, case_id, from_participant_id, from_user_id, to_user_id, to_name, to_service, reason, municipality) \
         SELECT '{}', case_id, from_participant_id, from_user_id, 'x', 'x', to_service, 'other', municipality FROM handovers WHERE id = '{}'",
        uuid::Uuid::now_v7(), first["id"].as_str().unwrap())), &mut f.app.db());
    let refused = dup
        .expect_err("a second pending handover must be refused")
        .to_string();
    assert!(refused.contains("handovers_one_pending"), "{refused}");
}

#[actix_web::test]
async fn rule_6_only_the_recipient_accepts() {
    let f = family().await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, SKOLE, PPT])
        .await;
    assert_eq!(f.add_professional("pia", PPT).await.status(), 201);
    let hid = propose(&f, "sara", SKOLE)
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/handovers/{hid}/accept");
    // In the case but not the recipient: 403. Outside the case: 404. The holder himself: 403.
    problem(f.post(&path, &f.pia, &json!({})).await, 403).await;
    problem(f.post(&path, &f.ola, &json!({})).await, 403).await;
    problem(f.post(&path, &f.mother, &json!({})).await, 403).await;
    let stranger = f
        .app
        .token("3805", "stian", &[Role::Professional], &[SKOLE]);
    problem(f.post(&path, &stranger, &json!({})).await, 404).await;
    // The right user id, but the token does not place her in the school: not her.
    let sara_elsewhere = f.app.token("3805", "sara", &[Role::Professional], &[PPT]);
    problem(f.post(&path, &sara_elsewhere, &json!({})).await, 404).await;
    let sara_5401 = f.app.token("5401", "sara", &[Role::Professional], &[SKOLE]);
    problem(f.post(&path, &sara_5401, &json!({})).await, 404).await;
    assert_eq!(holder_of(&f.json("", &f.ola).await).0, "ola");
}

#[actix_web::test]
async fn rule_5_withdrawal_cancels_a_pending_handover_to_the_uncovered_service() {
    let f = family().await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE])
        .await;
    let school = f.consent_ok(&[&f.mother_id, &f.father_id], &[SKOLE]).await;
    let hid = propose(&f, "sara", SKOLE)
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = f
        .post(
            &format!("/consents/{}/withdraw", school["id"].as_str().unwrap()),
            &f.father,
            &json!({"reason": "Ikke ennå"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let list = f.json("/handovers", &f.ola).await;
    assert_eq!(list["items"][0]["id"], hid.as_str());
    assert_eq!(list["items"][0]["state"], "cancelled");
    let sara = f.app.token("3805", "sara", &[Role::Professional], &[SKOLE]);
    problem(
        f.post(&format!("/handovers/{hid}/accept"), &sara, &json!({}))
            .await,
        409,
    )
    .await;
    assert_eq!(f.json("", &f.ola).await["status"], "open");
}

#[actix_web::test]
async fn a_handover_past_its_answer_by_date_expires_cannot_be_accepted_and_frees_the_slot() {
    let f = family().await;
    let h: Value = f
        .post(
            "/handovers",
            &f.ola,
            &json!({"to": {"user_id": "kari", "name": "Kari", "service": BARNEHAGE},
        "reason": "absence", "answer_by": today()}),
        )
        .await
        .json()
        .await
        .unwrap();
    let hid = h["id"].as_str().unwrap().to_string();
    let kari = f
        .app
        .token("3805", "kari", &[Role::Professional], &[BARNEHAGE]);
    // On its answer-by date it is still pending.
    let inbox = f
        .app
        .get("/api/v1/handovers", &kari)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(inbox["items"][0]["state"], "pending");
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE handovers SET answer_by = current_date - 3 WHERE id = '{hid}'"
        )),
        &mut f.app.db(),
    )
    .unwrap();
    // Computed when read: expired in every view, no longer waiting for the recipient.
    let attention: Value = f
        .app
        .get("/api/v1/me/attention", &kari)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(attention["handovers_waiting"], json!([]));
    let pending = f
        .app
        .get("/api/v1/handovers", &kari)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(pending["items"], json!([]));
    let expired = f
        .app
        .get("/api/v1/handovers?status=expired", &kari)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(expired["items"][0]["id"], hid.as_str());
    assert_eq!(expired["items"][0]["state"], "expired");
    assert_eq!(expired["items"][0]["overdue"], true);
    let of_case = f.json("/handovers", &f.ola).await;
    assert_eq!(of_case["items"][0]["state"], "expired");
    let p = problem(
        f.post(&format!("/handovers/{hid}/accept"), &kari, &json!({}))
            .await,
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("expired"), "{p}");
    assert_eq!(holder_of(&f.json("", &f.ola).await).0, "ola");
    // The case's one pending slot is free again: a new proposal stores the old one as expired.
    let res = f
        .post(
            "/handovers",
            &f.ola,
            &json!({"to": {"user_id": "knut", "name": "Knut", "service": BARNEHAGE}, "reason": "absence"}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let stored: Vec<(String,)> = diesel::RunQueryDsl::load(
        diesel::sql_query(format!("SELECT state FROM handovers WHERE id = '{hid}'")),
        &mut f.app.db(),
    )
    .map(|rows: Vec<StateRow>| rows.into_iter().map(|r| (r.state,)).collect())
    .unwrap();
    assert_eq!(stored, vec![("expired".to_string(),)]);
    let p = problem(
        f.post(
            "/handovers",
            &f.ola,
            &json!({"to": {"user_id": "knut", "name": "K", "service": BARNEHAGE},
        "reason": "absence", "answer_by": today() - chrono::Days::new(1)}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(fields(&p), vec!["answer_by"]);
}

#[derive(diesel::QueryableByName)]
struct StateRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    state: String,
}

#[actix_web::test]
async fn rule_6_five_handovers_leave_a_history_without_overlap_or_gap() {
    let f = family().await;
    let mut holder_token = f.ola.clone();
    for i in 0..5 {
        let next = format!("larer{i}");
        let res = f.post("/handovers", &holder_token, &json!({"to": {"user_id": next, "name": next, "service": BARNEHAGE}, "reason": "other"})).await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        let hid = res.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let token = f
            .app
            .token("3805", &next, &[Role::Professional], &[BARNEHAGE]);
        assert_eq!(
            f.post(&format!("/handovers/{hid}/accept"), &token, &json!({}))
                .await
                .status(),
            200
        );
        holder_token = token;
    }
    assert_eq!(
        f.app
            .count(&format!("holder_periods WHERE case_id = '{}'", f.case_id)),
        6
    );
    assert_history_sound(&f.app, &f.case_id);
    // Closing ends the last period; the history stays whole.
    let v = f.get("", &holder_token).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    let res = f
        .app
        .request(Method::POST, &f.path("/close"), Some(&holder_token))
        .header("if-match", v)
        .json(&json!({"reason": "goal_reached"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        f.app.count(&format!(
            "holder_periods WHERE case_id = '{}' AND upper_inf(period)",
            f.case_id
        )),
        0
    );
    // The database refuses a period that overlaps another, and one that leaves a gap.
    let mut db = f.app.db();
    let overlap = diesel::RunQueryDsl::execute(diesel::sql_query(format!(
        "INSERT INTO holder_periods (case_id, participant_id, period, municipality) SELECT case_id, participant_id, tstzrange(lower(period) + interval '1 microsecond', upper(period)), municipality \
         FROM holder_periods WHERE case_id = '{}' ORDER BY lower(period) LIMIT 1", f.case_id)), &mut db);
    let refused = overlap
        .expect_err("an overlapping period must be refused")
        .to_string();
    assert!(
        refused.contains("holder_periods_case_id_period_excl"),
        "{refused}"
    );
    // A period starting an hour after the last one ended overlaps nothing, but leaves a gap.
    let gap = diesel::RunQueryDsl::execute(diesel::sql_query(format!(
        "INSERT INTO holder_periods (case_id, participant_id, period, municipality) SELECT case_id, participant_id, tstzrange(upper(period) + interval '1 hour', upper(period) + interval '2 hours'), municipality \
         FROM holder_periods WHERE case_id = '{}' ORDER BY lower(period) DESC LIMIT 1", f.case_id)), &mut db);
    let refused = gap
        .expect_err("a period leaving a gap must be refused")
        .to_string();
    assert!(refused.contains("leave a gap"), "{refused}");
    assert_eq!(
        f.app
            .count(&format!("holder_periods WHERE case_id = '{}'", f.case_id)),
        6,
        "neither refused period was kept"
    );
}

#[actix_web::test]
async fn rule_6_race_of_50_accepts_and_cancels_always_has_exactly_one_winner() {
    let app = TestApp::spawn_with(Options {
        workers: 2,
        pool_size: 12,
        ..Default::default()
    })
    .await;
    app.service("3805", BARNEHAGE, "barnehage").await;
    let ola = app.token("3805", "ola", &[Role::Professional], &[BARNEHAGE]);
    let kari = app.token("3805", "kari", &[Role::Professional], &[BARNEHAGE]);
    for round in 0..20 {
        let case = app
            .open_case(&ola, BARNEHAGE, &format!("Barn{round}"))
            .await;
        let id = case["id"].as_str().unwrap().to_string();
        let h: Value = app.post(&format!("/api/v1/cases/{id}/handovers"), &ola,
            &json!({"to": {"user_id": "kari", "name": "Kari", "service": BARNEHAGE}, "reason": "other"})).await.json().await.unwrap();
        let hid = h["id"].as_str().unwrap().to_string();
        // All 50 wait at a barrier and are released together; each notes when it was sent and answered.
        let barrier = tokio::sync::Barrier::new(50);
        let requests = (0..50).map(|i| {
            let (path, token) = if i % 2 == 0 {
                (
                    format!("/api/v1/cases/{id}/handovers/{hid}/accept"),
                    kari.clone(),
                )
            } else {
                (
                    format!("/api/v1/cases/{id}/handovers/{hid}/cancel"),
                    ola.clone(),
                )
            };
            let (app, barrier) = (&app, &barrier);
            async move {
                barrier.wait().await;
                let sent = std::time::Instant::now();
                let status = app.post(&path, &token, &json!({})).await.status().as_u16();
                (i % 2 == 0, status, sent, std::time::Instant::now())
            }
        });
        let answers = futures_util::future::join_all(requests).await;
        let statuses: Vec<u16> = answers.iter().map(|a| a.1).collect();
        let winners = statuses.iter().filter(|s| **s == 200).count();
        let losers = statuses.iter().filter(|s| **s == 409).count();
        assert_eq!((winners, losers), (1, 49), "round {round}: {statuses:?}");
        // A race only if they overlapped: an accept and a cancel were in flight at the same time.
        let overlapped = answers.iter().any(|a| {
            answers
                .iter()
                .any(|b| a.0 && !b.0 && a.2 < b.3 && b.2 < a.3)
        });
        assert!(overlapped, "round {round}: no accept overlapped a cancel");
        // The request that won decides the outcome, and the handover and the holder say the same.
        let accept_won = answers.iter().find(|a| a.1 == 200).unwrap().0;
        let state: Value = app
            .get(&format!("/api/v1/cases/{id}/handovers"), &ola)
            .await
            .json()
            .await
            .unwrap();
        let expected = if accept_won { "accepted" } else { "cancelled" };
        assert_eq!(state["items"][0]["state"], expected, "round {round}");
        let holder_user = if accept_won { "kari" } else { "ola" };
        assert_eq!(app.count(&format!(
            "cases c JOIN case_participants p ON p.id = c.holder_participant_id WHERE c.id = '{id}' AND p.user_id = '{holder_user}' AND p.active")), 1);
        assert_history_sound(&app, &id);
    }
}

#[actix_web::test]
async fn closing_a_case_cancels_its_pending_handover_and_says_so_in_the_feed() {
    let f = family().await;
    let res = f.post("/handovers", &f.ola, &json!({"to": {"user_id": "kari", "name": "Kari", "service": BARNEHAGE}, "reason": "absence"})).await;
    assert_eq!(res.status(), 201);
    let v = f.version().await;
    let res = f
        .app
        .request(Method::POST, &f.path("/close"), Some(&f.ola))
        .header("if-match", v)
        .json(&json!({"reason": "no_need"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let list = f.json("/handovers", &f.ola).await;
    assert_eq!(list["items"][0]["state"], "cancelled");
    let integration = f
        .app
        .token("3805", "arkiv", &[Role::Integration], &[BARNEHAGE]);
    let types = f.app.feed_types(&integration).await;
    assert!(
        types.ends_with(&["handover.cancelled", "case.closed"].map(String::from)),
        "{types:?}"
    );
    assert_eq!(
        f.app.count(&format!(
            "holder_periods WHERE case_id = '{}' AND upper_inf(period)",
            f.case_id
        )),
        0
    );
}

#[actix_web::test]
async fn rule_9_the_inbox_and_what_needs_me_leave_access_events_for_the_proposals_they_show() {
    let f = family().await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, SKOLE])
        .await;
    assert_eq!(propose(&f, "sara", SKOLE).await.status(), 201);
    let sara = f.app.token("3805", "sara", &[Role::Professional], &[SKOLE]);
    let events = |resource: &str| {
        f.app.count(&format!(
            "access_events WHERE case_id = '{}' AND actor_user_id = 'sara' \
             AND basis = 'handover_recipient' AND resource = '{resource}'",
            f.case_id
        ))
    };
    assert_eq!(events("handovers.inbox"), 0);
    let inbox: Value = f
        .app
        .get("/api/v1/handovers?status=pending", &sara)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox["items"].as_array().unwrap().len(), 1);
    assert_eq!(events("handovers.inbox"), 1);
    let attention: Value = f
        .app
        .get("/api/v1/me/attention", &sara)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(attention["handovers_waiting"].as_array().unwrap().len(), 1);
    assert_eq!(events("me.attention"), 1);
    // The family sees it in the access log, and an empty inbox leaves nothing.
    let log: Value = f.json("/access-log", &f.mother).await;
    assert!(log["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["actor"]["user_id"] == "sara" && e["resource"] == "handovers.inbox"));
    let pia_inbox = f.app.get("/api/v1/handovers?status=pending", &f.pia).await;
    assert_eq!(pia_inbox.status(), 200);
    assert_eq!(
        f.app.count(&format!(
            "access_events WHERE actor_user_id = 'pia' AND case_id = '{}'",
            f.case_id
        )),
        0
    );
}

#[actix_web::test]
async fn what_needs_me_says_how_many_cases_it_looked_through_and_that_it_saw_them_all() {
    let f = family().await;
    let attention: Value = f
        .app
        .get("/api/v1/me/attention", &f.ola)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(attention["cases_checked"], 1);
    assert_eq!(attention["complete"], true);
}
