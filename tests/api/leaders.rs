//! Unit leaders see their services' cases without content and move the relay at once; staff who leave
//! lose access from the date the municipality registers, and the cases they held surface to the leaders:
//! someone must keep a relay moving when its holder is away or gone.

use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::family::{family, Family, BARNEHAGE, SKOLE};
use crate::support::{fields, problem};

fn today() -> chrono::NaiveDate {
    stafettlogg::clock::today()
}

const CONCERN: &str = "Emma trekker seg unna leken.";
const ENTRY: &str = "Samtale med mor om søvnvansker";
const MEASURE: &str = "Trygghetsgruppe med fast voksen";

fn leader(f: &Family, service: &str) -> String {
    f.app.token("3805", "lea", &[Role::Leader], &[service])
}

async fn body(res: reqwest::Response, status: u16) -> String {
    let code = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_eq!(code, status, "{text}");
    text
}

async fn reassign(
    f: &Family,
    token: &str,
    to: &str,
    service: &str,
    reason: &str,
) -> reqwest::Response {
    f.post(
        "/holder/reassign",
        token,
        &json!({"to": {"user_id": to, "name": format!("Testperson {to}"), "service": service}, "reason": reason,
            "note": "Ola er sykmeldt i seks uker"}),
    )
    .await
}

/// Content the leader must never see: the concern, a log entry, a measure, a consent's purpose.
async fn with_content(f: &Family) {
    let res = f
        .post(
            "/entries",
            &f.ola,
            &json!({"kind": "conversation", "occurred_at": chrono::Utc::now(), "body": ENTRY}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = f.post("/measures", &f.ola, &json!({"title": MEASURE, "goal": "Trygghet", "responsible": {"kind": "service", "service": BARNEHAGE},
        "start_date": today() - chrono::Days::new(40), "evaluate_by": today() - chrono::Days::new(1), "state": "active"})).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE])
        .await;
}

/// The administrator registers that `user` left today.
async fn depart_today(f: &Family, admin: &str, user: &str) -> reqwest::Response {
    f.app
        .post(
            &format!("/api/v1/staff/{user}/departed"),
            admin,
            &json!({"on": today()}),
        )
        .await
}

/// The administrator takes a registered departure back.
async fn undo_departure(f: &Family, admin: &str, user: &str) -> reqwest::Response {
    f.app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/staff/{user}/departed"),
            Some(admin),
        )
        .send()
        .await
        .unwrap()
}

#[actix_web::test]
async fn a_leader_sees_the_services_cases_as_metadata_and_never_content() {
    let f = family().await;
    with_content(&f).await;
    let lea = leader(&f, BARNEHAGE);
    let list = body(
        f.app
            .get(&format!("/api/v1/services/{BARNEHAGE}/cases"), &lea)
            .await,
        200,
    )
    .await;
    let attention = body(
        f.app
            .get(&format!("/api/v1/services/{BARNEHAGE}/attention"), &lea)
            .await,
        200,
    )
    .await;
    let reassigned = body(reassign(&f, &lea, "kari", BARNEHAGE, "absence").await, 200).await;
    for (what, text) in [
        ("list", &list),
        ("attention", &attention),
        ("reassign", &reassigned),
    ] {
        for content in [CONCERN, ENTRY, MEASURE, "Samarbeid om Emma"] {
            assert!(
                !text.contains(content),
                "the leader's {what} shows content: {content}"
            );
        }
    }
    let list: Value = serde_json::from_str(&list).unwrap();
    let item = &list["items"][0];
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(item["id"], f.case_id.as_str());
    assert_eq!(item["subject"]["given_name"], "Emma");
    assert_eq!(item["subject"]["birth_date"], f.birth_date.as_str());
    assert_eq!(item["holder"]["user_id"], "ola");
    assert_eq!(item["holder"]["departed"], false);
    assert_eq!(item["level"], 0);
    assert_eq!(item["overdue_evaluations"], 1);
    assert!(item["decision_due"].is_string());
    let attention: Value = serde_json::from_str(&attention).unwrap();
    assert_eq!(
        attention["overdue_evaluations"][0]["case_id"],
        f.case_id.as_str()
    );
    assert!(attention["overdue_evaluations"][0].get("title").is_none());
    // Content stays closed: the case, its entries, and the caller's own case list.
    for rest in ["", "/entries", "/measures", "/consents", "/timeline"] {
        problem(f.get(rest, &lea).await, 404).await;
    }
    let mine: Value = f.app.get("/api/v1/cases", &lea).await.json().await.unwrap();
    assert_eq!(mine["items"], json!([]));
    // Every listing left an access event on the basis `leader`.
    let events = f.app.count(&format!(
        "access_events WHERE case_id = '{}' AND actor_user_id = 'lea' AND basis = 'leader'",
        f.case_id
    ));
    assert_eq!(events, 3, "list, attention and the reassign");
}

#[actix_web::test]
async fn a_leader_of_another_service_sees_nothing_and_a_professional_is_no_leader() {
    let f = family().await;
    let other = leader(&f, SKOLE);
    problem(
        f.app
            .get(&format!("/api/v1/services/{BARNEHAGE}/cases"), &other)
            .await,
        403,
    )
    .await;
    problem(
        f.app
            .get(&format!("/api/v1/services/{BARNEHAGE}/attention"), &other)
            .await,
        403,
    )
    .await;
    let own: Value = f
        .app
        .get(&format!("/api/v1/services/{SKOLE}/cases"), &other)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own["items"], json!([]));
    problem(
        reassign(&f, &other, "kari", BARNEHAGE, "absence").await,
        404,
    )
    .await;
    // Ola can read the case but leads nothing: 403, not 404.
    problem(
        f.app
            .get(&format!("/api/v1/services/{BARNEHAGE}/cases"), &f.ola)
            .await,
        403,
    )
    .await;
    problem(
        reassign(&f, &f.ola, "kari", BARNEHAGE, "absence").await,
        403,
    )
    .await;
    let ghost = leader(&f, "no-such-service");
    problem(
        f.app
            .get("/api/v1/services/no-such-service/cases", &ghost)
            .await,
        404,
    )
    .await;
    assert_eq!(f.app.count("access_events WHERE basis = 'leader'"), 0);
}

#[actix_web::test]
async fn reassign_moves_the_relay_at_once_with_timeline_access_log_and_feed() {
    let f = family().await;
    let lea = leader(&f, BARNEHAGE);
    let res = f.post("/handovers", &f.ola, &json!({"to": {"user_id": "knut", "name": "Knut", "service": BARNEHAGE}, "reason": "absence"})).await;
    assert_eq!(res.status(), 201);
    let hid = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Rule 3 and the plain conflicts first; nothing is written by a refused reassign.
    let before = f.app.table_counts();
    let p = problem(reassign(&f, &lea, "sara", SKOLE, "absence").await, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("rule 3"), "{p}");
    let p = problem(reassign(&f, &lea, "ola", BARNEHAGE, "absence").await, 409).await;
    assert!(
        p["detail"].as_str().unwrap().contains("already holds"),
        "{p}"
    );
    let p = problem(
        reassign(&f, &lea, "kari", "no-such-service", "absence").await,
        422,
    )
    .await;
    assert_eq!(fields(&p), vec!["to.service"]);
    let p = problem(f.post("/holder/reassign", &lea, &json!({"to": {"user_id": "kari", "name": "K", "service": BARNEHAGE}, "reason": "bored"})).await, 422).await;
    assert_eq!(fields(&p), vec!["reason"]);
    assert_eq!(f.app.table_counts(), before);

    let moved: Value = reassign(&f, &lea, "kari", BARNEHAGE, "absence")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(moved["holder"]["user_id"], "kari");
    assert_eq!(moved["pending_handover"], Value::Null);
    let kari = f
        .app
        .token("3805", "kari", &[Role::Professional], &[BARNEHAGE]);
    let case = f.json("", &kari).await;
    assert_eq!(case["holder"]["user_id"], "kari");
    // The pending handover was cancelled; Ola stays in the case (reason: absence).
    let handovers = f.json("/handovers", &kari).await;
    assert_eq!(handovers["items"][0]["id"], hid.as_str());
    assert_eq!(handovers["items"][0]["state"], "cancelled");
    assert_eq!(f.get("", &f.ola).await.status(), 200);
    // The family sees it in the timeline; the access log says who and why; the feed carries it.
    let timeline = f.json("/timeline", &f.mother).await;
    let item = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "holder.reassigned")
        .expect("in the timeline")
        .clone();
    assert!(
        item["summary"].as_str().unwrap().contains("absence"),
        "{item}"
    );
    let log = f.json("/access-log", &f.mother).await;
    let event = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "reassign")
        .expect("in the access log")
        .clone();
    assert_eq!(event["actor"]["user_id"], "lea");
    assert_eq!(event["basis"], "leader");
    assert!(
        event["resource"].as_str().unwrap().contains("absence"),
        "{event}"
    );
    let system = f
        .app
        .token("3805", "system", &[Role::Integration], &[BARNEHAGE]);
    let types = f.app.feed_types(&system).await;
    assert!(
        types.contains(&"holder.reassigned".to_string()),
        "{types:?}"
    );
    assert!(
        types.contains(&"handover.cancelled".to_string()),
        "{types:?}"
    );

    // Reason `left`: the old holder leaves the case.
    let res = reassign(&f, &lea, "per", BARNEHAGE, "left").await;
    assert_eq!(res.status(), 200);
    problem(f.get("", &kari).await, 404).await;
    assert_gap_free(&f);
}

fn assert_gap_free(f: &Family) {
    let id = &f.case_id;
    assert_eq!(f.app.count(&format!(
        "(SELECT lower(period) AS lo, lag(upper(period)) OVER (ORDER BY lower(period)) AS prev, \
                 row_number() OVER (ORDER BY lower(period)) AS n FROM holder_periods WHERE case_id = '{id}') p \
         WHERE n > 1 AND prev IS DISTINCT FROM lo")), 0, "gap");
    assert_eq!(f.app.count(&format!(
        "holder_periods hp JOIN cases c ON c.id = hp.case_id AND c.holder_participant_id = hp.participant_id \
         WHERE hp.case_id = '{id}' AND upper_inf(hp.period)")), 1, "one open period, the holder's");
    assert_eq!(
        f.app.count(&format!(
            "holder_periods WHERE case_id = '{id}' AND upper_inf(period)"
        )),
        1
    );
}

#[actix_web::test]
async fn a_reassign_racing_an_accept_leaves_exactly_one_holder() {
    let f = family().await;
    let lea = leader(&f, BARNEHAGE);
    let mut holder = f.ola.clone();
    for round in 0..8 {
        let recipient = format!("mottaker{round}");
        let stand_in = format!("vikar{round}");
        let res = f.post("/handovers", &holder, &json!({"to": {"user_id": recipient, "name": recipient, "service": BARNEHAGE}, "reason": "absence"})).await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        let hid = res.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let token = f
            .app
            .token("3805", &recipient, &[Role::Professional], &[BARNEHAGE]);
        let accept_path = format!("/handovers/{hid}/accept");
        let empty = json!({});
        let (accepted, reassigned) = tokio::join!(
            f.post(&accept_path, &token, &empty),
            reassign(&f, &lea, &stand_in, BARNEHAGE, "workload")
        );
        let (a, r) = (accepted.status().as_u16(), reassigned.status().as_u16());
        assert!(matches!(a, 200 | 409), "accept {a}");
        assert_eq!(r, 200, "the leader leads the service either way");
        let case: Value = f
            .app
            .get(&format!("/api/v1/cases/{}", f.case_id), &f.mother)
            .await
            .json()
            .await
            .unwrap();
        // Whatever the order, the reassign decided last or the accept lost: the stand-in holds it.
        assert_eq!(
            case["holder"]["user_id"],
            stand_in.as_str(),
            "round {round}: accept {a}"
        );
        assert_eq!(
            f.app.count(&format!(
                "handovers WHERE case_id = '{}' AND state = 'pending'",
                f.case_id
            )),
            0
        );
        assert_gap_free(&f);
        holder = f
            .app
            .token("3805", &stand_in, &[Role::Professional], &[BARNEHAGE]);
    }
}

#[actix_web::test]
async fn departed_staff_lose_access_at_once_and_their_cases_surface_to_the_leader() {
    let f = family().await;
    let admin = f.app.token("3805", "admin", &[Role::Admin], &[]);
    let lea = leader(&f, BARNEHAGE);
    // A second case, whose holder proposes the relay to Ola: the departure cancels it.
    let kari = f
        .app
        .token("3805", "kari", &[Role::Professional], &[BARNEHAGE]);
    let other = f.app.open_case(&kari, BARNEHAGE, "Noah").await;
    let other_id = other["id"].as_str().unwrap();
    let res = f.app.post(&format!("/api/v1/cases/{other_id}/handovers"), &kari,
        &json!({"to": {"user_id": "ola", "name": "Ola", "service": BARNEHAGE}, "reason": "absence"})).await;
    assert_eq!(res.status(), 201);
    problem(
        f.app
            .post("/api/v1/staff/ola/departed", &lea, &json!({"on": today()}))
            .await,
        403,
    )
    .await;
    problem(depart_today(&f, &admin, "nobody").await, 404).await;
    // Before he leaves, Ola writes an entry with an Idempotency-Key (a client may retry it later).
    let entry = json!({"kind": "note", "occurred_at": chrono::Utc::now(), "body": "Kort notat"});
    let send_entry = || {
        f.app
            .request(reqwest::Method::POST, &f.path("/entries"), Some(&f.ola))
            .header("idempotency-key", "ola-notat-1")
            .json(&entry)
            .send()
    };
    assert_eq!(send_entry().await.unwrap().status(), 201);
    // A date still to come: Ola still works, but the relay no longer passes to him.
    let later: Value = f
        .app
        .post(
            "/api/v1/staff/ola/departed",
            &admin,
            &json!({"on": today() + chrono::Days::new(7)}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(later["handovers_cancelled"], 1);
    assert_eq!(later["cases_held"], 1);
    assert_eq!(f.get("", &f.ola).await.status(), 200);
    let p = problem(
        f.app
            .post(
                &format!("/api/v1/cases/{other_id}/handovers"),
                &kari,
                &json!({"to": {"user_id": "ola", "name": "Ola", "service": BARNEHAGE}, "reason": "absence"}),
            )
            .await,
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("departed"), "{p}");
    let attention: Value = f
        .app
        .get(&format!("/api/v1/services/{BARNEHAGE}/attention"), &lea)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        attention["departed_holders"],
        json!([]),
        "not before the date"
    );

    let gone: Value = depart_today(&f, &admin, "ola").await.json().await.unwrap();
    assert_eq!(gone["handovers_cancelled"], 0);
    assert_eq!(gone["cases_held"], 1);
    // A stored answer is no way around it either.
    problem(send_entry().await.unwrap(), 403).await;
    // The next request: no case data at all.
    let p = problem(f.get("", &f.ola).await, 403).await;
    assert!(p["detail"].as_str().unwrap().contains("departed"), "{p}");
    problem(f.app.get("/api/v1/cases", &f.ola).await, 403).await;
    problem(f.app.get("/api/v1/me/attention", &f.ola).await, 403).await;
    let handover: Value = f
        .app
        .get(&format!("/api/v1/cases/{other_id}/handovers"), &kari)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(handover["items"][0]["state"], "cancelled");
    // The leader sees the case with `departed`, and cannot pass the relay to the person who left.
    let attention: Value = f
        .app
        .get(&format!("/api/v1/services/{BARNEHAGE}/attention"), &lea)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        attention["departed_holders"][0]["case_id"],
        f.case_id.as_str()
    );
    assert_eq!(attention["departed_holders"][0]["holder_user_id"], "ola");
    let departed: Value = f
        .app
        .get(
            &format!("/api/v1/services/{BARNEHAGE}/cases?departed=true"),
            &lea,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(departed["items"].as_array().unwrap().len(), 1);
    assert_eq!(departed["items"][0]["holder"]["departed"], true);
    let p = problem(f.app.post(&format!("/api/v1/cases/{other_id}/holder/reassign"), &lea,
        &json!({"to": {"user_id": "ola", "name": "Ola", "service": BARNEHAGE}, "reason": "other"})).await, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("departed"), "{p}");
    assert_eq!(
        reassign(&f, &lea, "kari", BARNEHAGE, "left").await.status(),
        200
    );
    let attention: Value = f
        .app
        .get(&format!("/api/v1/services/{BARNEHAGE}/attention"), &lea)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(attention["departed_holders"], json!([]));

    // A mistaken departure is undone.
    assert_eq!(undo_departure(&f, &admin, "ola").await.status(), 204);
    problem(undo_departure(&f, &admin, "ola").await, 404).await;
    let res = f.app.get("/api/v1/cases", &f.ola).await;
    assert_eq!(res.status(), 200);
}

/// `/me` is where a client checks that its token still works, so a departed person's token must be refused
/// there as everywhere else, naming the departure, while a guardian of the same case is unaffected.
#[actix_web::test]
async fn a_departed_staff_members_token_is_refused_on_me_too_until_the_departure_is_undone() {
    let f = family().await;
    let admin = f.app.token("3805", "admin", &[Role::Admin], &[]);
    let me: Value = f.app.get("/api/v1/me", &f.ola).await.json().await.unwrap();
    assert_eq!(me["user_id"], "ola");
    let res = depart_today(&f, &admin, "ola").await;
    assert_eq!(res.status(), 200);

    let p = problem(f.app.get("/api/v1/me", &f.ola).await, 403).await;
    assert!(p["detail"].as_str().unwrap().contains("departed"), "{p}");
    assert_eq!(f.app.get("/api/v1/me", &f.mother).await.status(), 200);
    assert_eq!(f.app.get("/api/v1/me", &admin).await.status(), 200);

    let undo = undo_departure(&f, &admin, "ola").await;
    assert_eq!(undo.status(), 204);
    let me: Value = f.app.get("/api/v1/me", &f.ola).await.json().await.unwrap();
    assert_eq!(me["user_id"], "ola");
}

#[actix_web::test]
async fn the_service_list_shows_a_pending_handover_and_whether_it_expired() {
    let f = family().await;
    let lea = leader(&f, BARNEHAGE);
    let res = f.post("/handovers", &f.ola, &json!({"to": {"user_id": "knut", "name": "Knut", "service": BARNEHAGE}, "reason": "absence", "answer_by": today()})).await;
    assert_eq!(res.status(), 201);
    let list: Value = f
        .app
        .get(&format!("/api/v1/services/{BARNEHAGE}/cases"), &lea)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["pending_handover"]["to_name"], "Knut");
    assert_eq!(list["items"][0]["pending_handover"]["expired"], false);
    let attention: Value = f
        .app
        .get(&format!("/api/v1/services/{BARNEHAGE}/attention"), &lea)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        attention["handovers_waiting"],
        json!([]),
        "neither a week old nor past its date"
    );
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE handovers SET answer_by = current_date - 1 WHERE case_id = '{}'",
            f.case_id
        )),
        &mut f.app.db(),
    )
    .unwrap();
    let list: Value = f
        .app
        .get(&format!("/api/v1/services/{BARNEHAGE}/cases"), &lea)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["pending_handover"]["expired"], true);
    let attention: Value = f
        .app
        .get(&format!("/api/v1/services/{BARNEHAGE}/attention"), &lea)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(attention["handovers_waiting"][0]["expired"], true);
    // A week-old proposal shows before its date too.
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!("UPDATE handovers SET answer_by = NULL, proposed_at = now() - interval '8 days' WHERE case_id = '{}'", f.case_id)),
        &mut f.app.db(),
    )
    .unwrap();
    let attention: Value = f
        .app
        .get(&format!("/api/v1/services/{BARNEHAGE}/attention"), &lea)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(attention["handovers_waiting"][0]["expired"], false);
    // Filters: level, holder, overdue.
    let none: Value = f
        .app
        .get(&format!("/api/v1/services/{BARNEHAGE}/cases?level=2"), &lea)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["items"], json!([]));
    let ola: Value = f
        .app
        .get(
            &format!("/api/v1/services/{BARNEHAGE}/cases?holder=ola"),
            &lea,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ola["items"].as_array().unwrap().len(), 1);
    let overdue: Value = f
        .app
        .get(
            &format!("/api/v1/services/{BARNEHAGE}/cases?overdue=true"),
            &lea,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        overdue["items"],
        json!([]),
        "the decision is not due yet and nothing is overdue"
    );
}

#[actix_web::test]
async fn a_leader_who_leaves_loses_the_overview_and_a_leader_alone_holds_no_relay() {
    let f = family().await;
    let admin = f.app.token("3805", "admin", &[Role::Admin], &[]);
    let lea = leader(&f, BARNEHAGE);
    let res = f
        .app
        .get(&format!("/api/v1/services/{BARNEHAGE}/cases"), &lea)
        .await;
    assert_eq!(res.status(), 200);
    // A leader-only token cannot make itself the holder: it works in no service.
    let p = problem(reassign(&f, &lea, "lea", BARNEHAGE, "workload").await, 409).await;
    assert!(
        p["detail"].as_str().unwrap().contains("professional"),
        "{p}"
    );
    // Known from her listing (an access event), Lea can be registered as departed; then she sees nothing.
    let res = depart_today(&f, &admin, "lea").await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    problem(
        f.app
            .get(&format!("/api/v1/services/{BARNEHAGE}/cases"), &lea)
            .await,
        403,
    )
    .await;
    problem(reassign(&f, &lea, "kari", BARNEHAGE, "absence").await, 403).await;
    assert_eq!(holder_user(&f).await, "ola");
}

async fn holder_user(f: &Family) -> String {
    f.json("", &f.ola).await["holder"]["user_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A record system may exchange cases but not cut people off: registering a departure needs the `staff`
/// scope in an integration's token (the municipality's HR or identity system has it).
#[actix_web::test]
async fn an_integration_registers_departures_only_with_the_staff_scope() {
    let f = family().await;
    let plain = f
        .app
        .token("3805", "fagsystem", &[Role::Integration], &[BARNEHAGE]);
    let p = problem(depart_today(&f, &plain, "ola").await, 403).await;
    assert!(
        p["detail"].as_str().unwrap().contains("`staff` scope"),
        "{p}"
    );
    assert_eq!(f.app.count("staff_departures"), 0);
    let mut claims = f.app.claims("3805", "hr-system", &[Role::Integration]);
    claims.scope = "cases staff".into();
    let hr = f.app.jwt.mint(&claims).unwrap();
    assert_eq!(depart_today(&f, &hr, "ola").await.status(), 200);
    assert_eq!(undo_departure(&f, &hr, "ola").await.status(), 204);
    assert_eq!(f.app.count("staff_departures"), 0);
}

/// A case moved to another municipality keeps the leaders' moves of its relay: the new municipality's
/// timeline shows them, and importing the document again changes nothing. The leader's note (about the
/// staff member) stays where it was written.
#[actix_web::test]
async fn a_reassignment_moves_with_the_case_without_the_leaders_note() {
    let f = family().await;
    let lea = leader(&f, BARNEHAGE);
    body(reassign(&f, &lea, "kari", BARNEHAGE, "absence").await, 200).await;
    let kari = f
        .app
        .token("3805", "kari", &[Role::Professional], &[BARNEHAGE]);
    let line = body(f.get("/export", &kari).await, 200).await;
    assert!(
        !line.contains("sykmeldt"),
        "the note is not in the document"
    );
    let doc: stafettlogg::documents::api::CaseDocument = serde_json::from_str(&line).unwrap();
    let moves: Vec<(&str, &str)> = doc
        .reassignments
        .iter()
        .map(|r| (r.by_user_id.as_str(), r.reason.as_str()))
        .collect();
    assert_eq!(moves, [("lea", "absence")]);

    f.app.service("5401", BARNEHAGE, "barnehage").await;
    let integration = f
        .app
        .token("5401", "flytt", &[Role::Integration], &[BARNEHAGE]);
    let line = serde_json::to_string(&doc).unwrap();
    let report =
        crate::integration::import(&f.app, &integration, std::slice::from_ref(&line)).await;
    assert_eq!(report["lines"][0]["status"], "created", "{report}");
    let new_id = report["lines"][0]["case_id"].as_str().unwrap();
    let kari_5401 = f
        .app
        .token("5401", "kari", &[Role::Professional], &[BARNEHAGE]);
    let timeline = f
        .app
        .json(&format!("/api/v1/cases/{new_id}/timeline"), &kari_5401)
        .await;
    let moved = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "holder.reassigned")
        .unwrap_or_else(|| panic!("in the timeline: {timeline}"));
    assert!(
        moved["summary"].as_str().unwrap().contains("absence"),
        "{moved}"
    );
    let export = format!("/api/v1/cases/{new_id}/export");
    let pdf = crate::archive::pdf_of(&f.app, &export, &kari_5401).await;
    let text = crate::archive::pdf_text(&pdf, "reassigned");
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("av leder Testperson lea (fravær)"),
        "{words}"
    );
    assert!(!text.contains("sykmeldt"), "{text}");
    let report = crate::integration::import(&f.app, &integration, &[line]).await;
    assert_eq!(report["lines"][0]["status"], "unchanged", "{report}");
}
