//! A PATCH that changes nothing: `{}`, or a body that names only the values a resource has, is answered
//! with the resource as it is: the same version (`ETag`), nothing in the change feed, nobody notified, and
//! no `update` in the access log. A patch that does change something still moves the version on, so the
//! comparison above could fail.

use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::world::Town;

/// One PATCH endpoint of the world, and how to send back what it answered.
struct Patchable {
    name: &'static str,
    path: String,
    token: String,
    /// The statement that reads the resource's version from the database.
    version_sql: String,
    /// The fields of the answer to send back unchanged (each as it was answered).
    fields: &'static [&'static str],
    /// A body that does change the resource.
    changed: Value,
}

async fn patch(town: &Town, p: &Patchable, version: i32, body: &Value) -> (i32, Value) {
    let res = town
        .app
        .request(Method::PATCH, &p.path, Some(&p.token))
        .header("if-match", format!("\"{version}\""))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let etag = res.headers().get("etag").map(|v| {
        v.to_str()
            .unwrap()
            .trim_matches('"')
            .parse::<i32>()
            .unwrap()
    });
    let text = res.text().await.unwrap();
    assert_eq!(status, 200, "{}: PATCH {body}: {text}", p.name);
    let etag = etag.unwrap_or_else(|| panic!("{}: no ETag", p.name));
    (etag, serde_json::from_str(&text).unwrap())
}

fn version(town: &Town, sql: &str) -> i32 {
    #[derive(diesel::QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        version: i32,
    }
    use diesel::RunQueryDsl;
    diesel::sql_query(sql)
        .get_result::<V>(&mut town.app.db())
        .unwrap()
        .version
}

/// What a patch may have left behind: the feed, notifications, and `update` events in the access log.
fn traces(town: &Town) -> (i64, i64, i64) {
    (
        town.feed_position(),
        town.app.count("notifications"),
        town.app.count("access_events WHERE action = 'update'"),
    )
}

fn patchables(town: &Town, w: &crate::world::World) -> Vec<Patchable> {
    let holder = town.cast.holder.clone().unwrap();
    let admin = town.cast.admin.clone().unwrap();
    let case = &w.case;
    let item =
        |name, path: String, token: &str, table: &str, id: &str, fields, changed| Patchable {
            name,
            path,
            token: token.to_string(),
            version_sql: format!("SELECT version FROM {table} WHERE {id}"),
            fields,
            changed,
        };
    vec![
        item(
            "case",
            format!("/api/v1/cases/{case}"),
            &holder,
            "cases",
            &format!("id = '{case}'"),
            &["concern"],
            json!({"concern": "Bekymring, skrevet om"}),
        ),
        item(
            "participant",
            format!("/api/v1/cases/{case}/participants/{}", w.grandmother),
            &holder,
            "case_participants",
            &format!("id = '{}'", w.grandmother),
            &["name", "role"],
            json!({"role": "nabo"}),
        ),
        item(
            "measure",
            format!("/api/v1/cases/{case}/measures/{}", w.measure),
            &holder,
            "measures",
            &format!("id = '{}'", w.measure),
            &["title", "goal", "responsible", "evaluate_by", "state"],
            json!({"goal": "Et annet mål"}),
        ),
        item(
            "plan",
            format!("/api/v1/cases/{case}/plans/{}", w.plan),
            &holder,
            "plans",
            &format!("id = '{}'", w.plan),
            &["owner_service", "starts_on", "goals"],
            json!({"goals": ["Et nytt mål"]}),
        ),
        item(
            "meeting",
            format!("/api/v1/cases/{case}/meetings/{}", w.meeting),
            &holder,
            "meetings",
            &format!("id = '{}'", w.meeting),
            &["kind", "ends_at", "invitees"],
            json!({"agenda": "En annen dagsorden"}),
        ),
        item(
            "service",
            format!("/api/v1/services/{}", town.bup_service),
            &admin,
            "services",
            &format!("id = '{}'", town.bup_service),
            &["name", "kind", "active"],
            json!({"name": "BUP Nord, nytt navn"}),
        ),
        item(
            "municipality",
            "/api/v1/municipality".to_string(),
            &admin,
            "municipalities",
            "number = '3805'",
            &["name", "retention_years", "purge_unarchived"],
            json!({"name": "Nytt navn kommune"}),
        ),
        item(
            "survey",
            format!("/api/v1/surveys/{}", w.planned_survey),
            &admin,
            "surveys",
            &format!("id = '{}'", w.planned_survey),
            &["title", "opens_on", "closes_on", "questions"],
            json!({"title": "Kartlegging, nytt navn"}),
        ),
    ]
}

/// `fields` of an answer, as a patch body; a meeting's invitees go back as their ids.
fn sent_back(answer: &Value, fields: &[&str]) -> Value {
    let mut body = Map::new();
    for &field in fields {
        let value = match field {
            "invitees" => Value::Array(
                answer["invitees"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["participant_id"].clone())
                    .collect(),
            ),
            _ => answer[field].clone(),
        };
        assert!(!value.is_null(), "the answer has no {field}: {answer}");
        body.insert(field.to_string(), value);
    }
    Value::Object(body)
}

#[actix_web::test]
async fn a_patch_that_changes_nothing_keeps_the_version_and_tells_nobody() {
    let town = Town::setup().await;
    let w = town.world().await;
    // The mother, invited to the world's meeting, wants to hear of changes to it: a change notifies her.
    let res = town
        .app
        .request(
            Method::PUT,
            "/api/v1/me/notifications",
            town.cast.guardian.as_deref(),
        )
        .json(&json!({"email": "mor@example.org", "channels": {"email": true, "sms": false}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    for p in patchables(&town, &w) {
        let v0 = version(&town, &p.version_sql);
        let before = traces(&town);
        let (etag, answer) = patch(&town, &p, v0, &json!({})).await;
        assert_eq!(etag, v0, "{}: an empty patch moved the version", p.name);
        let unchanged = sent_back(&answer, p.fields);
        let (etag, _) = patch(&town, &p, v0, &unchanged).await;
        assert_eq!(
            etag, v0,
            "{}: sending back {unchanged} moved the version",
            p.name
        );
        assert_eq!(version(&town, &p.version_sql), v0, "{}", p.name);
        assert_eq!(
            traces(&town),
            before,
            "{}: (feed, notifications, updates in the access log)",
            p.name
        );

        let (etag, _) = patch(&town, &p, v0, &p.changed).await;
        assert_eq!(etag, v0 + 1, "{}: a real change keeps the version", p.name);
        let after = traces(&town);
        if p.name == "meeting" {
            assert!(after.1 > before.1, "a new agenda notified nobody");
        }
        if p.path.starts_with("/api/v1/cases/") {
            assert!(
                after.0 > before.0 && after.2 > before.2,
                "{}: {after:?}",
                p.name
            );
        }
    }
}

/// PATCHes `body` against the resource's current version; whether it moved the version on.
async fn moves(town: &Town, p: &Patchable, body: Value) -> bool {
    let v0 = version(town, &p.version_sql);
    let (etag, _) = patch(town, p, v0, &body).await;
    assert_eq!(version(town, &p.version_sql), etag, "{}", p.name);
    etag != v0
}

#[actix_web::test]
async fn a_value_cleared_or_replaced_is_a_change_and_sending_it_again_is_not() {
    let town = Town::setup().await;
    let w = town.world().await;
    let all = patchables(&town, &w);
    let case = &all[0];
    let (_, answer) = patch(&town, case, version(&town, &case.version_sql), &json!({})).await;
    let subject_id = answer["subject"]["national_id"].clone();
    assert!(
        subject_id.is_string(),
        "the holder sees the subject's id: {answer}"
    );
    let nid = |v: Value| json!({"subject": {"national_id": v}});
    assert!(
        !moves(&town, case, nid(subject_id.clone())).await,
        "the same id, sealed again"
    );
    assert!(moves(&town, case, nid(json!(crate::support::synthetic_id(40)))).await);
    assert!(
        moves(&town, case, nid(Value::Null)).await,
        "removing the id"
    );
    assert!(
        !moves(&town, case, nid(Value::Null)).await,
        "removing it again"
    );

    let mother = Patchable {
        name: "mother",
        path: format!("/api/v1/cases/{}/participants/{}", w.case, w.mother),
        version_sql: format!(
            "SELECT version FROM case_participants WHERE id = '{}'",
            w.mother
        ),
        ..patchables(&town, &w).remove(1)
    };
    let nid = |v: Value| json!({"national_id": v});
    assert!(!moves(&town, &mother, nid(json!(town.mother_pid))).await);
    assert!(moves(&town, &mother, nid(Value::Null)).await);
    assert!(!moves(&town, &mother, nid(Value::Null)).await);

    // A meeting that has begun, sent back with its time: the time was checked when it was set, and an
    // unchanged form is not refused for the time having passed.
    let meeting = &all[4];
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE meetings SET starts_at = now() - interval '5 minutes' WHERE id = '{}'",
            w.meeting
        )),
        &mut town.app.db(),
    )
    .unwrap();
    let (_, answer) = patch(
        &town,
        meeting,
        version(&town, &meeting.version_sql),
        &json!({}),
    )
    .await;
    let starts_at = json!({"starts_at": answer["starts_at"]});
    assert!(
        !moves(&town, meeting, starts_at).await,
        "a begun meeting's own time"
    );
    // The same people named twice is not the same list: it is checked, and refused.
    let invited = answer["invitees"][0]["participant_id"].clone();
    let res = town
        .app
        .request(Method::PATCH, &meeting.path, Some(&meeting.token))
        .header(
            "if-match",
            format!("\"{}\"", version(&town, &meeting.version_sql)),
        )
        .json(&json!({"invitees": [invited, invited]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422, "{}", res.text().await.unwrap());

    let service = &all[5];
    let contact = json!({"contact": {"phone": "55 00 00 00", "email": "bup@example.org"}});
    assert!(moves(&town, service, contact.clone()).await);
    assert!(
        !moves(&town, service, contact).await,
        "the same contact again"
    );
    assert!(
        moves(&town, service, json!({"contact": {}})).await,
        "a contact replaces all four"
    );
    assert!(!moves(&town, service, json!({"contact": {}})).await);
}

#[actix_web::test]
async fn an_unchanged_patch_of_a_case_is_logged_as_a_read() {
    let town = Town::setup().await;
    let w = town.world().await;
    let p = &patchables(&town, &w)[0];
    let v0 = version(&town, &p.version_sql);
    patch(&town, p, v0, &json!({})).await;
    let last = town.app.count(&format!(
        "(SELECT action, resource FROM access_events WHERE case_id = '{}' ORDER BY id DESC LIMIT 1) e \
         WHERE action = 'read' AND resource = 'case'",
        w.case
    ));
    assert_eq!(
        last, 1,
        "the case's last access event is not a read of the case"
    );
}

#[actix_web::test]
async fn an_unchanged_patch_against_an_old_version_is_still_refused() {
    let town = Town::setup().await;
    let w = town.world().await;
    let p = &patchables(&town, &w)[0];
    let v0 = version(&town, &p.version_sql);
    let res = town
        .app
        .request(Method::PATCH, &p.path, Some(&p.token))
        .header("if-match", format!("\"{}\"", v0 - 1))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 412);
}
