//! Meetings with the family: invitations within the consent, each invitee's own answer, changes that ask
//! again, minutes that become the log's `meeting` entry, a person's coming meetings, and a calendar feed
//! read back by a real RFC 5545 parser that names no one (rule 14).

use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::family::{family, Family};
use crate::support::{fields, problem};
use crate::tools::python;

async fn ok(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn at(minutes_from_now: i64) -> String {
    (Utc::now() + Duration::minutes(minutes_from_now))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

async fn holder_id(f: &Family) -> String {
    f.json("", &f.ola).await["holder"]["participant_id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn plan_meeting(f: &Family, starts_in: i64, invitees: &[&str]) -> Value {
    let res = f
        .post(
            "/meetings",
            &f.ola,
            &json!({"kind": "samarbeidsmote", "starts_at": at(starts_in),
        "ends_at": at(starts_in + 60), "place": "Møterom Lerka, Solstua barnehage",
        "agenda": "Emma og overgangen til skolen", "invitees": invitees}),
        )
        .await;
    ok(res, 201).await
}

async fn patch(f: &Family, mid: &str, version: &Value, body: Value) -> reqwest::Response {
    f.app
        .request(
            Method::PATCH,
            &f.path(&format!("/meetings/{mid}")),
            Some(&f.ola),
        )
        .header("if-match", format!("\"{version}\""))
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn response_of(meeting: &Value, participant: &str) -> String {
    let invitee = meeting["invitees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["participant_id"] == participant);
    invitee.unwrap()["response"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn a_guardian_answers_her_invitation_and_the_minutes_go_into_the_log() {
    let f = family().await;
    let ola_id = holder_id(&f).await;
    let m = plan_meeting(&f, 2, &[&f.mother_id, &ola_id]).await;
    let mid = m["id"].as_str().unwrap().to_string();
    assert_eq!(m["state"], "planned");
    assert_eq!(response_of(&m, &f.mother_id), "pending");

    // The mother answers for herself; the father, not invited, cannot answer for her.
    let m = ok(
        f.post(
            &format!("/meetings/{mid}/respond"),
            &f.mother,
            &json!({"response": "accepted"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(response_of(&m, &f.mother_id), "accepted");
    problem(
        f.post(
            &format!("/meetings/{mid}/respond"),
            &f.father,
            &json!({"response": "declined"}),
        )
        .await,
        403,
    )
    .await;
    let res = f
        .post(
            &format!("/meetings/{mid}/respond"),
            &f.mother,
            &json!({"response": "pending"}),
        )
        .await;
    assert_eq!(fields(&problem(res, 422).await), ["response"]);

    // Her coming meetings, across her cases; the father's list is empty.
    let mine = ok(f.app.get("/api/v1/me/meetings", &f.mother).await, 200).await;
    assert_eq!(mine["items"][0]["id"], mid.as_str());
    let his = ok(f.app.get("/api/v1/me/meetings", &f.father).await, 200).await;
    assert_eq!(his["items"].as_array().unwrap().len(), 0);
    // A guardian does not plan or cancel meetings; a stranger does not see them.
    problem(
        f.post(&format!("/meetings/{mid}/cancel"), &f.mother, &json!({}))
            .await,
        403,
    )
    .await;
    problem(f.get("/meetings", &f.pia).await, 404).await;

    // The minutes become a `meeting` entry with the ones who accepted, and the meeting is held.
    let held = ok(
        f.post(
            &format!("/meetings/{mid}/minutes"),
            &f.ola,
            &json!({"body": "Vi ble enige om tett dialog.",
        "decisions": "Nytt møte om seks uker."}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(held["state"], "held");
    let entry = f
        .json(
            &format!("/entries/{}", held["minutes_entry_id"].as_str().unwrap()),
            &f.mother,
        )
        .await;
    assert_eq!(entry["kind"], "meeting");
    assert_eq!(entry["attendees"], json!([f.mother_id]));
    assert_eq!(entry["title"], "Samarbeidsmøte");
    problem(
        f.post(
            &format!("/meetings/{mid}/minutes"),
            &f.ola,
            &json!({"body": "Igjen"}),
        )
        .await,
        409,
    )
    .await;
    problem(
        f.post(
            &format!("/meetings/{mid}/respond"),
            &f.mother,
            &json!({"response": "declined"}),
        )
        .await,
        409,
    )
    .await;

    let types = f
        .app
        .feed_types(&f.app.token(
            "3805",
            "arkiv",
            &[stafettlogg::auth::Role::Integration],
            &[crate::family::BARNEHAGE],
        ))
        .await;
    for t in [
        "meeting.planned",
        "meeting.answered",
        "meeting.held",
        "entry.added",
    ] {
        assert!(types.contains(&t.to_string()), "{t} in {types:?}");
    }
}

#[actix_web::test]
async fn invitations_stay_within_the_case_and_its_consent() {
    let f = family().await;
    let stranger = uuid::Uuid::now_v7().to_string();
    let body = |invitees: Value, starts: String, ends: String| json!({"kind": "ansvarsgruppe", "starts_at": starts, "ends_at": ends, "invitees": invitees});
    let res = f
        .post(
            "/meetings",
            &f.ola,
            &body(json!([stranger]), at(60), at(120)),
        )
        .await;
    assert_eq!(fields(&problem(res, 422).await), ["invitees[0]"]);
    let res = f
        .post(
            "/meetings",
            &f.ola,
            &body(json!([f.mother_id, f.mother_id]), at(60), at(120)),
        )
        .await;
    assert_eq!(fields(&problem(res, 422).await), ["invitees[1]"]);
    let res = f
        .post(
            "/meetings",
            &f.ola,
            &body(json!([f.mother_id]), at(60), at(30)),
        )
        .await;
    assert_eq!(fields(&problem(res, 422).await), ["ends_at"]);
    let res = f
        .post(
            "/meetings",
            &f.ola,
            &body(json!([f.mother_id]), at(-600), at(-540)),
        )
        .await;
    assert_eq!(fields(&problem(res, 422).await), ["starts_at"]);
    let res = f
        .post("/meetings", &f.ola, &body(json!([]), at(60), at(120)))
        .await;
    assert_eq!(fields(&problem(res, 422).await), ["invitees"]);
    // A professional whose service the family has not consented to is not drawn in.
    f.consent_ok(
        &[&f.mother_id, &f.father_id],
        &[crate::family::BARNEHAGE, crate::family::PPT],
    )
    .await;
    let pia: Value = ok(f.add_professional("pia", crate::family::PPT).await, 201).await;
    let pia_id = pia["id"].as_str().unwrap();
    ok(
        f.post("/meetings", &f.ola, &body(json!([pia_id]), at(60), at(120)))
            .await,
        201,
    )
    .await;
    let m = plan_meeting(&f, 60, &[&f.mother_id]).await;
    // Minutes wait for the meeting.
    problem(
        f.post(
            &format!("/meetings/{}/minutes", m["id"].as_str().unwrap()),
            &f.ola,
            &json!({"body": "x"}),
        )
        .await,
        409,
    )
    .await;
}

/// The feed, parsed by Python's `icalendar`: per event its UID, start, end, sequence, status, summary and
/// whether it has a location, and the text as served.
fn parse_calendar(text: &str) -> Vec<Value> {
    let script = r#"
import json, sys
from icalendar import Calendar
cal = Calendar.from_ical(sys.stdin.read())
out = []
for e in cal.walk("VEVENT"):
    out.append({"uid": str(e["UID"]), "start": e["DTSTART"].dt.isoformat(), "end": e["DTEND"].dt.isoformat(),
                "sequence": int(e.get("SEQUENCE", 0)), "status": str(e.get("STATUS", "")),
                "summary": str(e["SUMMARY"]), "location": str(e["LOCATION"]) if "LOCATION" in e else None,
                "url": str(e.get("URL", ""))})
print(json.dumps(out))
"#;
    let mut child = std::process::Command::new(python())
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the calendar does not parse:\n{text}");
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn feed(url: &str) -> (u16, String) {
    let res = reqwest::get(url).await.unwrap();
    let status = res.status().as_u16();
    if status == 200 {
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar"));
    }
    (status, res.text().await.unwrap())
}

fn same_instant(a: &str, b: &str) {
    let a: chrono::DateTime<Utc> = a.parse().unwrap();
    let b: chrono::DateTime<Utc> = b.parse().unwrap();
    assert_eq!(a, b);
}

#[actix_web::test]
async fn a_calendar_feed_follows_changes_and_cancellations_and_names_no_one() {
    let f = family().await;
    let sub = ok(
        f.app
            .post("/api/v1/me/calendar", &f.mother, &json!({}))
            .await,
        201,
    )
    .await;
    let url = sub["url"].as_str().unwrap().to_string();
    assert!(url.contains("/public/v1/calendar/"), "{url}");
    let m = plan_meeting(&f, 60 * 24, &[&f.mother_id]).await;
    let mid = m["id"].as_str().unwrap().to_string();
    let m = ok(
        f.post(
            &format!("/meetings/{mid}/respond"),
            &f.mother,
            &json!({"response": "accepted"}),
        )
        .await,
        200,
    )
    .await;

    let (status, text) = feed(&url).await;
    assert_eq!(status, 200);
    let events = parse_calendar(&text);
    assert_eq!(events.len(), 1, "{text}");
    assert_eq!(events[0]["uid"], format!("{mid}@stafettlogg"));
    same_instant(
        events[0]["start"].as_str().unwrap(),
        m["starts_at"].as_str().unwrap(),
    );
    same_instant(
        events[0]["end"].as_str().unwrap(),
        m["ends_at"].as_str().unwrap(),
    );
    assert_eq!(events[0]["sequence"], 0);
    assert_eq!(
        events[0]["location"],
        Value::Null,
        "the place only when asked for"
    );
    for personal in ["Emma", "Testesen", "Lerka", "overgangen"] {
        assert!(
            !text.contains(personal),
            "{personal} in the calendar:\n{text}"
        );
    }
    assert!(events[0]["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/meetings/{mid}")));

    // A new time asks her again and moves the calendar's sequence; a cancellation shows as such.
    let moved = ok(
        patch(
            &f,
            &mid,
            &m["version"],
            json!({"starts_at": at(60 * 48), "ends_at": at(60 * 49)}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(response_of(&moved, &f.mother_id), "pending");
    let events = parse_calendar(&feed(&url).await.1);
    assert_eq!(events[0]["sequence"], 1);
    same_instant(
        events[0]["start"].as_str().unwrap(),
        moved["starts_at"].as_str().unwrap(),
    );
    problem(
        patch(&f, &mid, &m["version"], json!({"place": "Et annet rom"})).await,
        412,
    )
    .await;
    ok(
        f.post(
            &format!("/meetings/{mid}/cancel"),
            &f.ola,
            &json!({"reason": "Sykdom"}),
        )
        .await,
        200,
    )
    .await;
    let events = parse_calendar(&feed(&url).await.1);
    assert_eq!(
        (events[0]["status"].as_str(), events[0]["sequence"].as_i64()),
        (Some("CANCELLED"), Some(2))
    );
    problem(
        patch(
            &f,
            &mid,
            &json!(moved["version"].as_i64().unwrap() + 1),
            json!({"place": "x"}),
        )
        .await,
        409,
    )
    .await;

    // Each read leaves an access event in the case; a new address retires the old, and the place is
    // there once she asked for it.
    let reads = f.app.count(&format!(
        "access_events WHERE case_id = '{}' AND resource = 'me.calendar'",
        f.case_id
    ));
    assert_eq!(reads, 3);
    let again = ok(
        f.app
            .post(
                "/api/v1/me/calendar",
                &f.mother,
                &json!({"include_place": true}),
            )
            .await,
        201,
    )
    .await;
    assert_eq!(feed(&url).await.0, 404);
    let events = parse_calendar(&feed(again["url"].as_str().unwrap()).await.1);
    assert_eq!(events[0]["location"], "Møterom Lerka, Solstua barnehage");
    let res = f
        .app
        .request(Method::DELETE, "/api/v1/me/calendar", Some(&f.mother))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(feed(again["url"].as_str().unwrap()).await.0, 404);
    assert_eq!(
        feed(&format!(
            "{}/public/v1/calendar/not-a-secret.ics",
            f.app.base
        ))
        .await
        .0,
        404
    );
}

#[actix_web::test]
async fn invitees_hear_of_an_invitation_a_change_and_a_cancellation() {
    let f = family().await;
    let settings = json!({"email": "mor@example.org", "channels": {"email": true, "sms": false}});
    let res = f
        .app
        .request(Method::PUT, "/api/v1/me/notifications", Some(&f.mother))
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let m = plan_meeting(&f, 60, &[&f.mother_id]).await;
    let mid = m["id"].as_str().unwrap();
    ok(
        patch(&f, mid, &m["version"], json!({"place": "Gymsalen"})).await,
        200,
    )
    .await;
    ok(
        f.post(&format!("/meetings/{mid}/cancel"), &f.ola, &json!({}))
            .await,
        200,
    )
    .await;
    let events = |e: &str| {
        f.app.count(&format!(
            "notifications WHERE user_id = 'mor' AND event = '{e}' AND subject_id = '{mid}'"
        ))
    };
    assert_eq!(
        (
            events("meeting.invited"),
            events("meeting.changed"),
            events("meeting.cancelled")
        ),
        (1, 1, 1)
    );
    // The father, not invited, hears nothing.
    assert_eq!(f.app.count("notifications WHERE user_id = 'far'"), 0);
}

#[actix_web::test]
async fn closing_a_case_cancels_its_planned_meetings_and_a_calendar_address_is_never_kept() {
    let f = family().await;
    let m = plan_meeting(&f, 60 * 24, &[&f.mother_id]).await;
    let res = f
        .app
        .request(Method::POST, &f.path("/close"), Some(&f.ola))
        .header("if-match", f.version().await)
        .json(&json!({"reason": "no_need"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let after = f
        .json(
            &format!("/meetings/{}", m["id"].as_str().unwrap()),
            &f.mother,
        )
        .await;
    assert_eq!(after["state"], "cancelled");
    // The answer that holds the address is not stored for a retry: the same key gives a new address.
    let subscribe = || {
        f.app
            .request(Method::POST, "/api/v1/me/calendar", Some(&f.mother))
            .header("idempotency-key", "kalender-1")
            .json(&json!({}))
            .send()
    };
    let first = ok(subscribe().await.unwrap(), 201).await;
    let res = subscribe().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    let second = ok(res, 201).await;
    assert_ne!(first["url"], second["url"]);
    assert_eq!(f.app.count("idempotency_keys WHERE key = 'kalender-1'"), 0);
    let events = parse_calendar(&feed(second["url"].as_str().unwrap()).await.1);
    assert_eq!(events[0]["status"], "CANCELLED");
}
