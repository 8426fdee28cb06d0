//! A closed case past its municipality's retention loses its personal data to
//! `stafettlogg purge`; the structure stays, an open case is never touched, and a second run is a no-op.

use chrono::Utc;
use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::family::{family, Family, BARNEHAGE, PPT};
use crate::support::{fields, owner_command, problem, synthetic_id};

const ENTRY: &str = "Emma fortalte om en vanskelig helg hjemme";
const MEASURE: &str = "Språkgruppe med Emma";

/// Everything a case records: consent, level 1, a measure with its evaluation, an entry.
async fn with_content(f: &Family) {
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, PPT])
        .await;
    // Level 0 ends in a decision whose note names the child.
    let res = f
        .app
        .request(reqwest::Method::POST, &f.path("/decision"), Some(&f.ola))
        .header("if-match", f.version().await)
        .json(
            &json!({"outcome": "level_1", "decided_on": stafettlogg::clock::today(),
            "note": format!("{ENTRY} (beslutning)")}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let m: Value = f.post("/measures", &f.ola, &json!({"title": MEASURE, "goal": "Flere ord", "responsible": {"kind": "service", "service": BARNEHAGE},
        "start_date": stafettlogg::clock::today(), "evaluate_by": stafettlogg::clock::today()})).await.json().await.unwrap();
    let res = f.post(&format!("/measures/{}/evaluations", m["id"].as_str().unwrap()), &f.ola,
        &json!({"evaluated_on": stafettlogg::clock::today(), "assessment": "Emma bruker flere ord", "child_view": "Gøy",
            "outcome": "completed"})).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let res = f
        .post(
            "/entries",
            &f.ola,
            &json!({"kind": "conversation", "occurred_at": Utc::now(), "body": ENTRY}),
        )
        .await;
    assert_eq!(res.status(), 201);
    // A plan with a goal, and a meeting whose place and agenda name the child, cancelled with a reason.
    let res = f
        .post(
            "/plans",
            &f.ola,
            &json!({"kind": "iup", "owner_service": BARNEHAGE,
        "starts_on": stafettlogg::clock::today(), "goals": [format!("{ENTRY} (mål)")]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let soon = Utc::now() + chrono::Duration::days(1);
    let m: Value = f
        .post(
            "/meetings",
            &f.ola,
            &json!({"kind": "samarbeidsmote", "starts_at": soon,
        "ends_at": soon + chrono::Duration::hours(1), "place": format!("{ENTRY} (sted)"),
        "agenda": format!("{ENTRY} (saksliste)"), "invitees": [f.mother_id]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = f
        .post(
            &format!("/meetings/{}/cancel", m["id"].as_str().unwrap()),
            &f.ola,
            &json!({"reason": format!("{ENTRY} (avlyst)")}),
        )
        .await;
    assert_eq!(res.status(), 200);
}

pub async fn close(f: &Family) {
    let res = f
        .app
        .request(Method::POST, &f.path("/close"), Some(&f.ola))
        .header("if-match", f.version().await)
        .json(&json!({"reason": "goal_reached", "note": "Emma har det bra nå"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// The archive system reports the case taken in, through `token`.
async fn archive(f: &Family, case: &str, token: &str) -> reqwest::Response {
    let body = json!({"system": "elements", "reference": "2026/1234-5", "archived_on": stafettlogg::clock::today()});
    let res = f
        .app
        .post(&format!("/api/v1/cases/{case}/archived"), token, &body)
        .await;
    assert_eq!(res.status(), 200, "archived");
    res
}

fn purge(f: &Family, args: &[&str]) -> (bool, String) {
    let args = [&["purge"], args].concat();
    owner_command(&f.app.db_url, &args)
}

/// Rows of the case that still hold this text, in any of the tables a purge erases.
fn holding(f: &Family, case: &str, text: &str) -> i64 {
    f.app.count(&format!(
        "(SELECT concern AS t FROM cases WHERE id = '{case}' \
          UNION ALL SELECT body FROM log_entries WHERE case_id = '{case}' \
          UNION ALL SELECT title FROM measures WHERE case_id = '{case}' \
          UNION ALL SELECT assessment FROM evaluations WHERE case_id = '{case}' \
          UNION ALL SELECT purpose FROM consents WHERE case_id = '{case}' \
          UNION ALL SELECT reason FROM level_changes WHERE case_id = '{case}' \
          UNION ALL SELECT concat_ws(' ', note, recorded_by_name) FROM level0_decisions WHERE case_id = '{case}' \
          UNION ALL SELECT array_to_string(goals, ' ') FROM plans WHERE case_id = '{case}' \
          UNION ALL SELECT concat_ws(' ', place, agenda, cancel_reason) FROM meetings WHERE case_id = '{case}' \
          UNION ALL SELECT name FROM case_participants WHERE case_id = '{case}') x WHERE t LIKE '%{text}%'"
    ))
}

#[actix_web::test]
async fn purge_erases_closed_cases_past_retention_keeps_their_structure_and_never_touches_an_open_one(
) {
    let f = family().await;
    with_content(&f).await;
    close(&f).await;
    let case = f.case_id.clone();
    // A second, open case of the same family, with the same kind of content.
    let open = f.app.open_case(&f.ola, BARNEHAGE, "Emil").await;
    let open_id = open["id"].as_str().unwrap().to_string();
    f.app
        .post(
            &format!("/api/v1/cases/{open_id}/entries"),
            &f.ola,
            &json!({"kind": "note", "occurred_at": Utc::now(), "body": ENTRY}),
        )
        .await;
    // Closed eleven years ago (the default retention is ten).
    diesel::connection::SimpleConnection::batch_execute(
        &mut f.app.db(),
        &format!(
            "UPDATE cases SET closed_at = closed_at - interval '11 years' WHERE id = '{case}'"
        ),
    )
    .unwrap();
    let before_levels = f
        .app
        .count(&format!("level_changes WHERE case_id = '{case}'"));
    // What the outboxes hold about the case: a message to its holder, and a webhook delivery.
    diesel::connection::SimpleConnection::batch_execute(
        &mut f.app.db(),
        &format!(
            "INSERT INTO notifications (id, municipality, user_id, event, channel, case_id) \
               VALUES (gen_random_uuid(), '3805', 'ola', 'decision.overdue', 'email', '{case}'); \
             INSERT INTO webhooks (id, municipality, owner_user_id, services, url, events, secret_enc) \
               VALUES ('{hook}', '3805', 'arkiv', '{{barnehage-solstua}}', 'https://192.0.43.10/h', '{{entry.added}}', '\\x00'); \
             INSERT INTO webhook_deliveries (id, webhook_id, municipality, seq, type, case_id) \
               VALUES (gen_random_uuid(), '{hook}', '3805', 1, 'entry.added', '{case}');",
            hook = uuid::Uuid::now_v7()
        ),
    )
    .unwrap();

    // The archive took the case in; the purge waits for that.
    archive(&f, &case, &f.app.token("3805", "anne", &[Role::Admin], &[])).await;
    // A dry run counts and changes nothing.
    let (ok, said) = purge(&f, &["--dry-run"]);
    assert!(ok, "{said}");
    assert!(
        said.contains("would erase the personal data of 1 case(s)"),
        "{said}"
    );
    assert!(holding(&f, &case, ENTRY) > 0);

    let (ok, said) = purge(&f, &[]);
    assert!(ok, "{said}");
    assert!(
        said.contains("erased the personal data of 1 case(s)"),
        "{said}"
    );
    for text in [
        ENTRY,
        MEASURE,
        "Emma",
        "Testesen",
        "Samarbeid",
        "Drøftet",
        "bruker flere ord",
    ] {
        assert_eq!(holding(&f, &case, text), 0, "{text} is still there");
    }
    assert_eq!(f.app.count(&format!("cases WHERE id = '{case}' AND subject_national_id_hash IS NULL AND subject_birth_date IS NULL AND purged_at IS NOT NULL")), 1);
    assert_eq!(
        f.app
            .count(&format!("notifications WHERE case_id = '{case}'")),
        0
    );
    assert_eq!(
        f.app.count(&format!(
            "webhook_deliveries WHERE case_id = '{case}' AND type <> 'case.purged'"
        )),
        0
    );
    assert_eq!(
        f.app.count(&format!(
            "case_participants WHERE case_id = '{case}' AND national_id_hash IS NOT NULL"
        )),
        0
    );
    assert_eq!(
        f.app
            .count(&format!("case_external_refs WHERE case_id = '{case}'")),
        0
    );
    // The structure the statistics need stays: the level history, the measures and evaluations as rows.
    assert_eq!(
        f.app
            .count(&format!("level_changes WHERE case_id = '{case}'")),
        before_levels
    );
    assert_eq!(
        f.app.count(&format!(
            "cases WHERE id = '{case}' AND level = 1 AND status = 'closed'"
        )),
        1
    );
    assert_eq!(
        f.app.count(&format!(
            "access_events WHERE case_id = '{case}' AND action = 'purge'"
        )),
        1
    );
    let system = f
        .app
        .token("3805", "system", &[Role::Integration], &[BARNEHAGE]);
    assert!(f
        .app
        .feed_types(&system)
        .await
        .contains(&"case.purged".to_string()));
    // The open case keeps everything.
    assert_eq!(holding(&f, &open_id, ENTRY), 1);
    assert_eq!(
        f.app.count(&format!(
            "cases WHERE id = '{open_id}' AND subject_given_name = 'Emil' AND purged_at IS NULL"
        )),
        1
    );
    // The export says it was purged.
    let export: Value = f
        .app
        .get(&format!("/api/v1/cases/{case}/export"), &f.ola)
        .await
        .json()
        .await
        .unwrap();
    assert!(export["case"]["purged_at"].is_string(), "{export}");
    assert_eq!(export["case"]["subject"]["given_name"], "[slettet]");
    assert!(!export.to_string().contains(&synthetic_id(1)));
    let pdf = crate::archive::pdf_of(&f.app, &format!("/api/v1/cases/{case}/export"), &f.ola).await;
    let text = crate::archive::pdf_text(&pdf, "purged");
    assert!(text.contains("oppbevaringstiden er ute"), "{text}");
    assert!(!text.contains(ENTRY));
    // A second run finds nothing to do.
    let (ok, said) = purge(&f, &[]);
    assert!(ok, "{said}");
    assert!(said.contains("erased 0 case(s) in all"), "{said}");
    assert_eq!(
        f.app.count(&format!(
            "access_events WHERE case_id = '{case}' AND action = 'purge'"
        )),
        1
    );
}

#[actix_web::test]
async fn the_administrator_sets_the_retention_and_sees_what_a_purge_would_do() {
    let f = family().await;
    let admin = f.app.token("3805", "anne", &[Role::Admin], &[]);
    let patch = |body: Value| {
        f.app
            .request(Method::PATCH, "/api/v1/municipality", Some(&admin))
            .json(&body)
            .send()
    };
    for bad in [0, 101] {
        let p = problem(patch(json!({"retention_years": bad})).await.unwrap(), 422).await;
        assert_eq!(fields(&p), vec!["retention_years"]);
    }
    let res = patch(json!({"retention_years": 2})).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["retention_years"], 2);
    close(&f).await;
    let preview: Value = f
        .app
        .get("/api/v1/retention", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(preview["retention_years"], 2);
    assert_eq!(preview["cases"], 0, "closed today");
    diesel::connection::SimpleConnection::batch_execute(
        &mut f.app.db(),
        &format!(
            "UPDATE cases SET closed_at = closed_at - interval '3 years' WHERE id = '{}'",
            f.case_id
        ),
    )
    .unwrap();
    let preview: Value = f
        .app
        .get("/api/v1/retention", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            preview["cases"].clone(),
            preview["waiting_for_archive"].clone()
        ),
        (json!(0), json!(1))
    );
    // A municipality that archives some other way lets unarchived cases go.
    let res = patch(json!({"purge_unarchived": true})).await.unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["purge_unarchived"], true);
    let preview: Value = f
        .app
        .get("/api/v1/retention", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            preview["cases"].clone(),
            preview["waiting_for_archive"].clone()
        ),
        (json!(1), json!(0))
    );
    problem(f.app.get("/api/v1/retention", &f.ola).await, 403).await;
    // The preview changed nothing.
    assert_eq!(
        f.app.count(&format!(
            "cases WHERE id = '{}' AND purged_at IS NULL",
            f.case_id
        )),
        1
    );
}

/// Closes a case of the family's with its own content, closed eleven years ago; returns its id.
async fn old_closed_case(f: &Family, name: &str) -> String {
    let case = f.app.open_case(&f.ola, BARNEHAGE, name).await;
    let id = case["id"].as_str().unwrap().to_string();
    let version = f
        .app
        .get(&format!("/api/v1/cases/{id}"), &f.ola)
        .await
        .headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    let res = f
        .app
        .request(
            Method::POST,
            &format!("/api/v1/cases/{id}/close"),
            Some(&f.ola),
        )
        .header("if-match", version)
        .json(&json!({"reason": "no_need"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    diesel::connection::SimpleConnection::batch_execute(
        &mut f.app.db(),
        &format!("UPDATE cases SET closed_at = closed_at - interval '11 years' WHERE id = '{id}'"),
    )
    .unwrap();
    id
}

#[actix_web::test]
async fn the_purge_erases_an_archived_case_and_waits_for_the_archive_with_an_unarchived_one() {
    let f = family().await;
    let archived = old_closed_case(&f, "Arkivert").await;
    let waiting = old_closed_case(&f, "Venter").await;
    let integration = f.app.token_with_scope(
        "3805",
        "arkivsystem",
        &[Role::Integration],
        &[BARNEHAGE],
        "archive",
    );
    archive(&f, &archived, &integration).await;
    let (ok, said) = purge(&f, &[]);
    assert!(ok, "{said}");
    assert!(
        said.contains("1 case(s) past their retention wait for the archive"),
        "{said}"
    );
    let purged = |id: &str| {
        f.app.count(&format!(
            "cases WHERE id = '{id}' AND purged_at IS NOT NULL"
        ))
    };
    assert_eq!((purged(&archived), purged(&waiting)), (1, 0));
    let waiting_case = f
        .app
        .get(&format!("/api/v1/cases/{waiting}"), &f.ola)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(waiting_case["subject"]["given_name"], "Venter");
    // The archival shows on the case and in its export, and the feed told the archive system.
    let shown = f
        .app
        .get(&format!("/api/v1/cases/{archived}"), &f.ola)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(shown["archived"]["reference"], "2026/1234-5");
    assert_eq!(shown["archived"]["archived_by"], "arkivsystem");
    let export = f
        .app
        .get(&format!("/api/v1/cases/{archived}/export"), &f.ola)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(export["case"]["archived"]["system"], "elements");
    assert!(f
        .app
        .feed_types(&integration)
        .await
        .contains(&"case.archived".to_string()));
}

#[actix_web::test]
async fn an_archival_is_reported_for_a_closed_case_by_its_administrator_or_archive_integration() {
    let f = family().await;
    let admin = f.app.token("3805", "anne", &[Role::Admin], &[]);
    let path = f.path("/archived");
    let body = |on: chrono::NaiveDate| json!({"system": "elements", "reference": "2026/77", "archived_on": on});
    let today = stafettlogg::clock::today();
    // An open case is not archived.
    let p = problem(f.app.post(&path, &admin, &body(today)).await, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("closed"), "{p}");
    close(&f).await;
    let res = f
        .app
        .post(&path, &admin, &body(today - chrono::Days::new(1)))
        .await;
    assert_eq!(fields(&problem(res, 422).await), ["archived_on"]);
    let res = f
        .app
        .post(&path, &admin, &body(today + chrono::Days::new(1)))
        .await;
    assert_eq!(fields(&problem(res, 422).await), ["archived_on"]);
    // Not the stafettholder, not the family; an integration of a service outside the case does not see it.
    problem(f.app.post(&path, &f.ola, &body(today)).await, 403).await;
    problem(f.app.post(&path, &f.mother, &body(today)).await, 403).await;
    let bup = f.app.token_with_scope(
        "3805",
        "bup-arkiv",
        &[Role::Integration],
        &["bup-nord"],
        "archive",
    );
    problem(f.app.post(&path, &bup, &body(today)).await, 404).await;
    // An integration of the case's own service reports nothing without the `archive` scope.
    let record_system = f
        .app
        .token("3805", "fagsystem", &[Role::Integration], &[BARNEHAGE]);
    problem(f.app.post(&path, &record_system, &body(today)).await, 403).await;
    let other = f.app.token("1103", "anne", &[Role::Admin], &[]);
    problem(f.app.post(&path, &other, &body(today)).await, 404).await;
    // The administrator reports it; a second report replaces the first.
    let first: Value = f
        .app
        .post(&path, &admin, &body(today))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["reference"], "2026/77");
    let mut again = body(today);
    again["reference"] = json!("2026/78");
    let second: Value = f
        .app
        .post(&path, &admin, &again)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["reference"], "2026/78");
    assert_eq!(f.app.count(&format!("access_events WHERE case_id = '{}' AND actor_user_id = 'anne' AND basis = 'administration'", f.case_id)), 2);
}
