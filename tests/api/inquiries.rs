//! Inquiries: a family's way in, through the service's inbox, to an answer or a case;
//! what another service sees of it (nothing); the rules that refuse bad input; the erasure of another
//! family's child's text 90 days after closing (with the clock moved in the database, not by sleeping);
//! attention for inquiries that wait; and the access events every read leaves.

use chrono::{Duration, Utc};
use diesel::connection::SimpleConnection;
use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::support::{fields, owner_command, problem, synthetic_id, TestApp};

const HELSESTASJON: &str = "helsestasjon-sentrum";
const SKOLE: &str = "skole-bakke";

struct Family {
    app: TestApp,
    mother: String,
    mother_pid: String,
    nurse: String,
    teacher: String,
}

async fn family() -> Family {
    let app = TestApp::spawn().await;
    app.service("3805", HELSESTASJON, "helsestasjon").await;
    app.service("3805", SKOLE, "skole").await;
    let mother_pid = synthetic_id(701);
    Family {
        mother: app.citizen_token("kari", Role::Guardian, &mother_pid),
        nurse: app.token("3805", "hanne", &[Role::Professional], &[HELSESTASJON]),
        teacher: app.token("3805", "sara", &[Role::Professional], &[SKOLE]),
        mother_pid,
        app,
    }
}

async fn json_of(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

impl Family {
    async fn send(&self, token: &str, body: Value) -> Value {
        json_of(self.app.post("/api/v1/inquiries", token, &body).await, 201).await
    }

    async fn about_own_child(&self) -> Value {
        self.send(
            &self.mother,
            json!({"service": HELSESTASJON, "about": "own_child",
                   "child": {"given_name": "Emma", "birth_date": "2021-04-02", "national_id": synthetic_id(702)},
                   "message": "Emma sover dårlig og gråter mye. Kan vi snakke med noen?",
                   "contact": {"phone": "+47 400 00 000", "email": "kari@example.org"},
                   "wants": "conversation"}),
        )
        .await
    }

    async fn about_other_child(&self) -> Value {
        self.send(
            &self.mother,
            json!({"service": HELSESTASJON, "about": "other_child",
                   "child": {"given_name": "Noah"},
                   "message": "Nabobarnet er ofte alene ute sent på kvelden.",
                   "contact": {"phone": "+47 400 00 000"}, "wants": "advice"}),
        )
        .await
    }

    async fn answer(&self, id: &str, message: &str) -> Value {
        let path = format!("/api/v1/inquiries/{id}/answer");
        let body = json!({ "message": message });
        json_of(self.app.post(&path, &self.nurse, &body).await, 201).await
    }

    async fn close(&self, id: &str) -> Value {
        let path = format!("/api/v1/inquiries/{id}/close");
        let res = self
            .app
            .request(Method::POST, &path, Some(&self.nurse))
            .send()
            .await
            .unwrap();
        json_of(res, 200).await
    }

    /// A case opened from the inquiry by the nurse.
    async fn open_case(&self, id: &str, subject: Value, concern: &str) -> Value {
        let path = format!("/api/v1/inquiries/{id}/open-case");
        let body = json!({"subject": subject, "concern": concern});
        json_of(self.app.post(&path, &self.nurse, &body).await, 201).await
    }

    async fn read(&self, id: &str, token: &str) -> reqwest::Response {
        self.app
            .get(&format!("/api/v1/inquiries/{id}"), token)
            .await
    }

    fn events(&self, id: &str, action: &str) -> i64 {
        self.app.count(&format!(
            "inquiry_access_events WHERE inquiry_id = '{id}' AND action = '{action}'"
        ))
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn a_guardians_inquiry_goes_through_the_inbox_to_an_answer_and_a_case_she_is_in() {
    let f = family().await;
    let sent = f.about_own_child().await;
    let id = sent["id"].as_str().unwrap().to_string();
    assert_eq!(sent["status"], "open");
    assert_eq!(sent["answers"], json!([]));

    // The service's inbox lists it (the child's number masked); one read shows it in full.
    let inbox = json_of(
        f.app
            .get(
                &format!("/api/v1/inquiries?service={HELSESTASJON}&status=open"),
                &f.nurse,
            )
            .await,
        200,
    )
    .await;
    assert_eq!(ids(&inbox), [id.as_str()]);
    assert!(inbox["items"][0]["child"]["national_id"]
        .as_str()
        .unwrap()
        .ends_with("*****"));
    let one = json_of(f.read(&id, &f.nurse).await, 200).await;
    assert_eq!(one["child"]["national_id"], synthetic_id(702));
    assert_eq!(one["wants"], "conversation");

    let answered = f.answer(&id, "Velkommen til samtale tirsdag kl. 10.").await;
    assert_eq!(answered["status"], "answered");

    // The mother reads the answer in her own list.
    let mine = json_of(f.app.get("/api/v1/me/inquiries", &f.mother).await, 200).await;
    assert_eq!(ids(&mine), [id.as_str()]);
    let answer = &mine["items"][0]["answers"][0];
    assert_eq!(answer["message"], "Velkommen til samtale tirsdag kl. 10.");
    assert_eq!(answer["by_name"], "Testperson hanne");

    // A case from it, in the inquiry's service: the nurse holds it, the mother is in it.
    let case = f
        .open_case(
            &id,
            json!({"kind": "child", "given_name": "Emma", "family_name": "Testesen",
                   "birth_date": "2021-04-02", "national_id": synthetic_id(702)}),
            "Mor forteller om søvnvansker over lang tid.",
        )
        .await;
    let case_id = case["id"].as_str().unwrap().to_string();
    assert_eq!(case["level"], 0);
    assert_eq!(case["opened_in_service"], HELSESTASJON);
    assert_eq!(case["holder"]["user_id"], "hanne");
    let c = format!("/api/v1/cases/{case_id}");
    json_of(f.app.get(&c, &f.mother).await, 200).await;
    let people = json_of(f.app.get(&format!("{c}/participants"), &f.nurse).await, 200).await;
    let guardian = people["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "guardian")
        .expect("the mother joined as a guardian")
        .clone();
    assert_eq!(guardian["name"], "kari");
    assert!(
        guardian.get("parental_responsibility").is_none(),
        "to be confirmed by the holder: {guardian}"
    );
    assert!(guardian["national_id"]
        .as_str()
        .unwrap()
        .starts_with(&f.mother_pid[..6]));

    // The inquiry now names the case, for the mother too, and is done.
    let mine = json_of(f.app.get("/api/v1/me/inquiries", &f.mother).await, 200).await;
    assert_eq!(mine["items"][0]["status"], "case_opened");
    assert_eq!(mine["items"][0]["case_id"], case_id.as_str());
    let again = f
        .app
        .post(
            &format!("/api/v1/inquiries/{id}/answer"),
            &f.nurse,
            &json!({"message": "En til?"}),
        )
        .await;
    problem(again, 409).await;

    // Rule 4 holds: until the holder confirms her parental responsibility, she gives no consent...
    let consent = json!({"given_by": [guardian["id"]], "services": [HELSESTASJON],
                         "purpose": "Samarbeid", "valid_from": stafettlogg::clock::today(), "form": "written"});
    let refused = f
        .app
        .post(&format!("{c}/consents"), &f.nurse, &consent)
        .await;
    assert_eq!(fields(&problem(refused, 422).await), ["given_by[0]"]);
    // ...and once confirmed, she does, and it is effective.
    let pid = guardian["id"].as_str().unwrap();
    let res = f
        .app
        .request(
            Method::PATCH,
            &format!("{c}/participants/{pid}"),
            Some(&f.nurse),
        )
        .json(&json!({"parental_responsibility": true, "relation": "mother"}))
        .send()
        .await
        .unwrap();
    json_of(res, 200).await;
    json_of(
        f.app
            .post(&format!("{c}/consents"), &f.nurse, &consent)
            .await,
        201,
    )
    .await;
    let effective = json_of(
        f.app
            .get(&format!("{c}/consents/effective"), &f.nurse)
            .await,
        200,
    )
    .await;
    assert_eq!(effective["effective"], true, "{effective}");
    assert_eq!(effective["services"], json!([HELSESTASJON]));

    // The family's access log of the case works as before, and shows nothing of the inquiry's reads.
    let log = json_of(f.app.get(&format!("{c}/access-log"), &f.mother).await, 200).await;
    assert!(!log["items"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn an_unconfirmed_guardian_keeps_another_guardians_consent_from_being_effective() {
    let f = family().await;
    let id = f.about_own_child().await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let case = f
        .open_case(
            &id,
            json!({"kind": "child", "given_name": "Emma", "family_name": "Testesen"}),
            "Søvnvansker.",
        )
        .await;
    let c = format!("/api/v1/cases/{}", case["id"].as_str().unwrap());
    let father = json_of(
        f.app
            .post(
                &format!("{c}/participants"),
                &f.nurse,
                &json!({"kind": "guardian", "name": "Per Testesen", "relation": "father",
                        "parental_responsibility": true, "national_id": synthetic_id(703)}),
            )
            .await,
        201,
    )
    .await;
    let consent = json!({"given_by": [father["id"]], "services": [HELSESTASJON],
                         "purpose": "Samarbeid", "valid_from": stafettlogg::clock::today(), "form": "written"});
    json_of(
        f.app
            .post(&format!("{c}/consents"), &f.nurse, &consent)
            .await,
        201,
    )
    .await;
    let effective = json_of(
        f.app
            .get(&format!("{c}/consents/effective"), &f.nurse)
            .await,
        200,
    )
    .await;
    assert_eq!(effective["effective"], false, "{effective}");
    assert_eq!(effective["services"], json!([]));

    // Removing her, instead of settling her responsibility, would make the father's consent effective
    // without anyone deciding that she has none (rule 4).
    let people = json_of(f.app.get(&format!("{c}/participants"), &f.nurse).await, 200).await;
    let mother = people["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "guardian" && p["parental_responsibility"].is_null())
        .expect("the unconfirmed guardian")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = f
        .app
        .post(
            &format!("{c}/participants/{mother}/deactivate"),
            &f.nurse,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 409);
    let effective = json_of(
        f.app
            .get(&format!("{c}/consents/effective"), &f.nurse)
            .await,
        200,
    )
    .await;
    assert_eq!(effective["effective"], false, "{effective}");
}

#[actix_web::test]
async fn another_service_sees_nothing_of_an_inquiry() {
    let f = family().await;
    let id = f.about_other_child().await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other_town = f
        .app
        .token("5401", "hanne", &[Role::Professional], &[HELSESTASJON]);
    let neighbour = f
        .app
        .citizen_token("nabo", Role::Guardian, &synthetic_id(704));
    let admin = f.app.token("3805", "anne", &[Role::Admin], &[]);
    let integration = f
        .app
        .token("3805", "system", &[Role::Integration], &[HELSESTASJON]);
    for token in [&f.teacher, &other_town, &neighbour, &admin, &integration] {
        problem(f.read(&id, token).await, 404).await;
        for (action, body) in [
            ("answer", json!({"message": "Hei"})),
            (
                "open-case",
                json!({"subject": {"kind": "child", "given_name": "Noah", "family_name": "X"}, "concern": "Bekymring"}),
            ),
        ] {
            let path = format!("/api/v1/inquiries/{id}/{action}");
            let res = f.app.post(&path, token, &body).await;
            assert_eq!(res.status(), 404, "{action}");
        }
        let close = f
            .app
            .request(
                Method::POST,
                &format!("/api/v1/inquiries/{id}/close"),
                Some(token),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(close.status(), 404);
    }
    // The school's own inbox does not have it, and the health station's is not the school's to open.
    let inbox = json_of(f.app.get("/api/v1/inquiries", &f.teacher).await, 200).await;
    assert!(ids(&inbox).is_empty());
    let theirs = f
        .app
        .get(
            &format!("/api/v1/inquiries?service={HELSESTASJON}"),
            &f.teacher,
        )
        .await;
    problem(theirs, 403).await;
    // The inquirer reads her own, and may not act for the service.
    json_of(f.read(&id, &f.mother).await, 200).await;
    let res = f
        .app
        .post(
            &format!("/api/v1/inquiries/{id}/answer"),
            &f.mother,
            &json!({"message": "Hei"}),
        )
        .await;
    problem(res, 403).await;
    assert_eq!(f.events(&id, "read"), 1, "only the inquirer's read");
}

#[actix_web::test]
async fn bad_inquiries_are_refused_naming_the_rule_and_nothing_is_written() {
    let f = family().await;
    let admin = f.app.token("3805", "anne", &[Role::Admin], &[]);
    f.app.service("3805", "bup-nord", "bup").await;
    let services = json_of(f.app.get("/api/v1/services?limit=200", &admin).await, 200).await;
    let bup = services["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "bup-nord")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = f
        .app
        .request(
            Method::PATCH,
            &format!("/api/v1/services/{bup}"),
            Some(&admin),
        )
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    json_of(res, 200).await;
    let before = f.app.table_counts();
    let ok = json!({"service": HELSESTASJON, "about": "myself", "message": "Jeg trenger råd.", "wants": "advice"});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    for (body, field) in [
        (with("service", json!("finnes-ikke")), "service"),
        (with("service", json!("bup-nord")), "service"),
        (
            with("about", json!("other_child"))
                .as_object()
                .cloned()
                .map(|mut b| {
                    b.insert(
                        "child".into(),
                        json!({"given_name": "Noah", "national_id": synthetic_id(705)}),
                    );
                    Value::Object(b)
                })
                .unwrap(),
            "child.national_id",
        ),
        (with("child", json!({"given_name": "Emma"})), "child"),
        (with("message", json!("")), "message"),
        (
            with("contact", json!({"email": "ikke-en-adresse"})),
            "contact.email",
        ),
    ] {
        let res = f.app.post("/api/v1/inquiries", &f.mother, &body).await;
        assert_eq!(fields(&problem(res, 422).await), [field], "{body}");
    }
    // Without a national login (no `pid`), or as a professional: refused, naming the rule.
    let no_pid = f.app.token("3805", "kari", &[Role::Guardian], &[]);
    for token in [&no_pid, &f.nurse, &admin] {
        let p = problem(f.app.post("/api/v1/inquiries", token, &ok).await, 403).await;
        assert!(
            p["detail"].as_str().unwrap().contains("national login"),
            "{p}"
        );
    }
    let p = problem(f.app.get("/api/v1/me/inquiries", &no_pid).await, 403).await;
    assert!(p["detail"].as_str().unwrap().contains("national login"));
    assert_eq!(f.app.table_counts(), before, "nothing was written");
}

#[actix_web::test]
async fn the_text_about_another_familys_child_is_erased_90_days_after_it_was_closed() {
    let f = family().await;
    let due = f.about_other_child().await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let recent = f.about_other_child().await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let own = f.about_own_child().await["id"]
        .as_str()
        .unwrap()
        .to_string();
    f.answer(&due, "Takk, vi følger opp.").await;
    for id in [&due, &recent, &own] {
        f.close(id).await;
    }
    // The clock moved: closed 91 days ago (and 10 days ago for the recent one).
    f.app
        .db()
        .batch_execute(&format!(
            "UPDATE inquiries SET closed_at = now() - interval '91 days' WHERE id IN ('{due}', '{own}');
             UPDATE inquiries SET closed_at = now() - interval '10 days' WHERE id = '{recent}';"
        ))
        .unwrap();
    let erase = || stafettlogg::jobs::inquiry_erasure::erase_expired(&mut f.app.db(), Utc::now());
    assert_eq!(erase().unwrap(), 1);

    let gone = json_of(f.read(&due, &f.nurse).await, 200).await;
    assert!(gone["erased_at"].is_string(), "{gone}");
    for field in ["message", "child", "contact"] {
        assert!(gone[field].is_null(), "{field}: {gone}");
    }
    assert!(gone["answers"][0]["message"].is_null());
    assert_eq!(gone["answers"][0]["by_name"], "Testperson hanne");
    assert_eq!(gone["status"], "closed");
    for kept in [&recent, &own] {
        let v = json_of(f.read(kept, &f.nurse).await, 200).await;
        assert!(v["message"].is_string() && v["erased_at"].is_null(), "{v}");
    }
    assert_eq!(f.events(&due, "erase"), 1);
    // Again, later, or from another host at the same time: nothing more to do.
    assert_eq!(erase().unwrap(), 0);
    let later = Utc::now() + Duration::days(365);
    let erased_later =
        stafettlogg::jobs::inquiry_erasure::erase_expired(&mut f.app.db(), later).unwrap();
    assert_eq!(
        erased_later, 1,
        "the recent one, once its 90 days have passed"
    );
    assert_eq!(f.events(&due, "erase"), 1);
}

#[actix_web::test]
async fn an_inquiry_waiting_longer_than_the_municipality_allows_needs_the_services_attention() {
    let f = family().await;
    let waiting = f.about_other_child().await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let fresh = f.about_own_child().await["id"]
        .as_str()
        .unwrap()
        .to_string();
    f.app
        .db()
        .batch_execute(&format!(
            "UPDATE inquiries SET created_at = now() - interval '6 days' WHERE id = '{waiting}'"
        ))
        .unwrap();
    let shown = |a: &Value| -> Vec<String> {
        a["inquiries_waiting"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["inquiry_id"].as_str().unwrap().to_string())
            .collect()
    };
    let a = json_of(f.app.get("/api/v1/me/attention", &f.nurse).await, 200).await;
    assert_eq!(shown(&a), [waiting.as_str()], "{a}");
    assert!(a["inquiries_waiting"][0]["waiting_days"].as_i64().unwrap() >= 6);
    assert!(
        a["inquiries_waiting"][0].get("message").is_none(),
        "no text"
    );
    assert_eq!(f.events(&waiting, "list"), 1);
    assert_eq!(f.events(&fresh, "list"), 0);
    let a = json_of(f.app.get("/api/v1/me/attention", &f.teacher).await, 200).await;
    assert!(shown(&a).is_empty());

    // The municipality allows a week: it no longer waits too long; an answer also ends the wait.
    let admin = f.app.token("3805", "anne", &[Role::Admin], &[]);
    let res = f
        .app
        .request(Method::PATCH, "/api/v1/municipality", Some(&admin))
        .json(&json!({"inquiry_attention_days": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(res, 200).await["inquiry_attention_days"], 7);
    let a = json_of(f.app.get("/api/v1/me/attention", &f.nurse).await, 200).await;
    assert!(shown(&a).is_empty());
    let res = f
        .app
        .request(Method::PATCH, "/api/v1/municipality", Some(&admin))
        .json(&json!({"inquiry_attention_days": 5}))
        .send()
        .await
        .unwrap();
    json_of(res, 200).await;
    f.answer(&waiting, "Vi ringer deg.").await;
    let a = json_of(f.app.get("/api/v1/me/attention", &f.nurse).await, 200).await;
    assert!(shown(&a).is_empty());
}

#[actix_web::test]
async fn every_read_of_an_inquiry_leaves_an_access_event() {
    let f = family().await;
    let id = f.about_own_child().await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(f.events(&id, "create"), 1);
    json_of(f.read(&id, &f.nurse).await, 200).await;
    json_of(f.read(&id, &f.mother).await, 200).await;
    assert_eq!(f.events(&id, "read"), 2);
    json_of(f.app.get("/api/v1/inquiries", &f.nurse).await, 200).await;
    json_of(f.app.get("/api/v1/me/inquiries", &f.mother).await, 200).await;
    assert_eq!(f.events(&id, "list"), 2);
    f.answer(&id, "Hei").await;
    f.close(&id).await;
    assert_eq!(f.events(&id, "answer"), 1);
    assert_eq!(f.events(&id, "close"), 1);
    // Who did it, without what was read.
    assert_eq!(
        f.app.count(&format!(
            "inquiry_access_events WHERE inquiry_id = '{id}' AND actor_user_id = 'hanne' AND actor_role = 'professional'"
        )),
        4
    );
    // A refused read leaves none; a page past the last leaves none either.
    problem(f.read(&id, &f.teacher).await, 404).await;
    assert_eq!(f.events(&id, "read"), 2);
}

#[actix_web::test]
async fn the_erase_inquiries_command_erases_as_of_the_instant_it_is_given() {
    let f = family().await;
    let id = f.about_other_child().await["id"]
        .as_str()
        .unwrap()
        .to_string();
    f.close(&id).await;
    let run = |now: chrono::DateTime<Utc>| {
        let url = f.app.db_url.clone();
        actix_web::rt::task::spawn_blocking(move || {
            owner_command(&url, &["erase-inquiries", "--now", &now.to_rfc3339()])
        })
    };
    let (ok, said) = run(Utc::now() + Duration::days(89)).await.unwrap();
    assert!(ok, "{said}");
    assert!(json_of(f.read(&id, &f.nurse).await, 200).await["message"].is_string());
    let (ok, said) = run(Utc::now() + Duration::days(91)).await.unwrap();
    assert!(ok, "{said}");
    assert!(said.contains("Erased the text of 1 "), "{said}");
    let gone = json_of(f.read(&id, &f.nurse).await, 200).await;
    assert!(
        gone["message"].is_null() && gone["erased_at"].is_string(),
        "{gone}"
    );
}
