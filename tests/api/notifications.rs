//! Notifications: settings, the outbox and its sender, over a real SMTP conversation with a sink the test
//! starts (aiosmtpd) and a real HTTP SMS gateway (tests/tools/webhook_receiver.py).

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{json, Value};
use stafettlogg::auth::Role;
use stafettlogg::config::Delivery;

use crate::family::{family_on, Family, BARNEHAGE, PPT, SKOLE};
use crate::receivers::{eventually, free_port, Behaviour, MailSink, Receiver};
use crate::support::{fields, problem, synthetic_id, Options, TestApp};
use crate::tools;

const BASE: &str = "https://stafett.test.kommune.no";
const FROM: &str = "Stafettlogg Testkommune <stafett@test.kommune.no>";

/// Fast senders: they look every 100 ms and retry every half second.
pub fn delivery(smtp_port: Option<u16>) -> Delivery {
    Delivery {
        smtp_url: smtp_port.map(|p| SecretString::from(format!("smtp://127.0.0.1:{p}"))),
        from: FROM.into(),
        public_base_url: BASE.into(),
        poll: Duration::from_millis(100),
        retries: vec![Duration::from_millis(500); 30],
        reminders_every: Duration::from_millis(300),
        ..Delivery::default()
    }
}

async fn family_with(delivery: Delivery) -> Family {
    let app = TestApp::spawn_with(Options {
        delivery,
        ..Options::default()
    })
    .await;
    let born = stafettlogg::clock::today()
        .checked_sub_months(chrono::Months::new(12 * 6))
        .unwrap();
    family_on(app, &born.to_string()).await
}

async fn save(app: &TestApp, token: &str, settings: Value) {
    let res = app
        .request(Method::PUT, "/api/v1/me/notifications", Some(token))
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

fn email_on(address: &str) -> Value {
    json!({"email": address, "channels": {"email": true, "sms": false}})
}

async fn sent(app: &TestApp, token: &str) -> Vec<Value> {
    let res = app.get("/api/v1/me/notifications/sent", token).await;
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

async fn propose_to_sara(f: &Family) -> Value {
    let res = f
        .post(
            "/handovers",
            &f.ola,
            &json!({"to": {"user_id": "sara", "name": "Sara Lærer", "service": SKOLE},
                    "reason": "transition"}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

fn sara(f: &Family) -> String {
    f.app.token("3805", "sara", &[Role::Professional], &[SKOLE])
}

async fn scrape(metrics_url: &str) -> String {
    reqwest::get(metrics_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Every part of a raw message decoded (headers, plain text and HTML), by Python's e-mail parser.
fn decoded(raw: &str) -> Vec<(String, String)> {
    let script = "import email, email.policy, json, sys\n\
                  m = email.message_from_string(sys.stdin.read(), policy=email.policy.default)\n\
                  out = [['headers', '\\n'.join(f'{k}: {v}' for k, v in m.items())]]\n\
                  out += [[p.get_content_type(), p.get_content()] for p in m.walk() if not p.is_multipart()]\n\
                  print(json.dumps(out))";
    let mut child = std::process::Command::new(tools::python())
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
        .write_all(raw.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Rule 14: what leaves the municipality carries no person.
#[actix_web::test]
async fn one_handover_gives_exactly_one_mail_with_no_name_national_id_or_concern_in_any_part() {
    let sink = MailSink::start(free_port());
    let f = family_with(delivery(Some(sink.port))).await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, SKOLE])
        .await;
    save(&f.app, &sara(&f), email_on("sara@skole.test.kommune.no")).await;
    // The proposer has settings too: nobody hears of their own act.
    save(&f.app, &f.ola, email_on("ola@barnehage.test.kommune.no")).await;
    let started = Instant::now();
    let h = propose_to_sara(&f).await;
    let mail = eventually(30, "the mail", || sink.messages().pop()).await;
    eprintln!("commit to SMTP sink: {} ms", started.elapsed().as_millis());
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.messages().len(), 1, "exactly one mail");
    let parts = decoded(&mail);
    let kinds: Vec<&str> = parts.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["headers", "text/plain", "text/html"]);
    let headers = &parts[0].1;
    assert!(headers.contains(&format!("From: {FROM}")), "{headers}");
    assert!(
        headers.contains("To: sara@skole.test.kommune.no"),
        "{headers}"
    );
    let link = format!(
        "{BASE}/cases/{}/handovers/{}",
        f.case_id,
        h["id"].as_str().unwrap()
    );
    assert!(parts[1]
        .1
        .contains("En overføring av stafettholderrollen venter på svaret ditt"));
    for (kind, text) in &parts[1..] {
        assert!(text.contains(&link), "{kind} links to the handover: {text}");
    }
    let forbidden = [
        "Emma",
        "Testesen",
        "trekker seg unna",
        "Sara Lærer",
        "Testperson",
        &synthetic_id(1),
        &synthetic_id(2),
        &synthetic_id(3),
    ];
    for (kind, text) in parts
        .iter()
        .chain([(String::from("raw"), mail.clone())].iter())
    {
        for word in forbidden {
            assert!(!text.contains(word), "{kind} holds {word:?}: {text}");
        }
    }
    let mine = sent(&f.app, &sara(&f)).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["event"], "handover.proposed");
    assert_eq!(mine[0]["channel"], "email");
    assert_eq!(mine[0]["state"], "sent");
    assert_eq!(mine[0]["case_id"], f.case_id.as_str());
    assert!(sent(&f.app, &f.ola).await.is_empty());
}

#[actix_web::test]
async fn two_instances_on_one_database_send_each_message_once() {
    let sink = MailSink::start(free_port());
    let f = family_with(delivery(Some(sink.port))).await;
    let second = TestApp::spawn_with(Options {
        database_url: Some(f.app.service_db_url.clone()),
        delivery: delivery(Some(sink.port)),
        ..Options::default()
    })
    .await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, SKOLE])
        .await;
    save(&f.app, &sara(&f), email_on("sara@skole.test.kommune.no")).await;
    save(&second, &f.ola, email_on("ola@barnehage.test.kommune.no")).await;
    // Three proposals, each declined: three mails to Sara, three answers to Ola.
    for _ in 0..3 {
        let h = propose_to_sara(&f).await;
        let decline = format!("/handovers/{}/decline", h["id"].as_str().unwrap());
        let res = f
            .post(&decline, &sara(&f), &json!({"reason": "Ikke nå"}))
            .await;
        assert_eq!(res.status(), 200);
    }
    eventually(30, "six mails", || {
        (sink.messages().len() >= 6).then_some(())
    })
    .await;
    actix_web::rt::time::sleep(Duration::from_millis(2000)).await;
    let mails = sink.messages();
    assert_eq!(mails.len(), 6, "each message once");
    let to_ola = mails.iter().filter(|m| m.contains("ola@barnehage")).count();
    assert_eq!(to_ola, 3);
    for token in [sara(&f), f.ola.clone()] {
        let list = sent(&f.app, &token).await;
        assert_eq!(list.len(), 3);
        assert!(
            list.iter()
                .all(|m| m["state"] == "sent" && m["attempts"] == 1),
            "{list:?}"
        );
    }
}

#[actix_web::test]
async fn a_change_that_rolls_back_notifies_nobody() {
    let sink = MailSink::start(free_port());
    let f = family_with(delivery(Some(sink.port))).await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, SKOLE])
        .await;
    save(&f.app, &sara(&f), email_on("sara@skole.test.kommune.no")).await;
    // The change feed refuses every event: the proposal fails after its notification was written.
    f.app
        .db()
        .batch_execute(
            "CREATE FUNCTION refuse_event() RETURNS trigger LANGUAGE plpgsql AS \
               $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$; \
             CREATE TRIGGER refuse BEFORE INSERT ON change_events FOR EACH ROW EXECUTE FUNCTION refuse_event();",
        )
        .unwrap();
    let res = f
        .post(
            "/handovers",
            &f.ola,
            &json!({"to": {"user_id": "sara", "name": "Sara Lærer", "service": SKOLE}, "reason": "transition"}),
        )
        .await;
    assert!(res.status().is_server_error(), "{}", res.status());
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    assert!(sink.messages().is_empty());
    assert_eq!(f.app.count("notifications"), 0);
    f.app
        .db()
        .batch_execute("DROP TRIGGER refuse ON change_events")
        .unwrap();
    // The same proposal, committed: now it is heard.
    propose_to_sara(&f).await;
    eventually(30, "the mail", || sink.messages().pop()).await;
}

#[actix_web::test]
async fn a_mail_is_retried_while_the_smtp_server_is_down_and_sent_when_it_is_back() {
    let port = free_port();
    let metrics = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let metrics_url = format!("http://{}/metrics", metrics.local_addr().unwrap());
    let app = TestApp::spawn_with(Options {
        delivery: delivery(Some(port)),
        metrics_listener: Some(metrics),
        ..Options::default()
    })
    .await;
    let born = stafettlogg::clock::today()
        .checked_sub_months(chrono::Months::new(12 * 6))
        .unwrap();
    let f = family_on(app, &born.to_string()).await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, SKOLE])
        .await;
    let sara = sara(&f);
    save(&f.app, &sara, email_on("sara@skole.test.kommune.no")).await;
    propose_to_sara(&f).await;
    // Tried, failed, waiting for the next try.
    let mut waiting = Value::Null;
    for _ in 0..100 {
        let list = sent(&f.app, &sara).await;
        if list
            .first()
            .is_some_and(|m| m["attempts"].as_i64() >= Some(2))
        {
            waiting = list[0].clone();
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(waiting["state"], "queued", "{waiting}");
    assert!(
        waiting["reason"].as_str().unwrap().contains("SMTP"),
        "{waiting}"
    );
    let scraped = scrape(&metrics_url).await;
    assert!(
        scraped.contains("stafettlogg_outbox_queued{channel=\"email\"} 1"),
        "{scraped}"
    );
    assert!(
        scraped.contains("stafettlogg_outbox_tries_total{channel=\"email\",outcome=\"retried\"}")
    );
    let sink = MailSink::start(port);
    eventually(30, "the mail after the server came back", || {
        sink.messages().pop()
    })
    .await;
    let list = sent(&f.app, &sara).await;
    assert_eq!(list[0]["state"], "sent");
    assert!(list[0]["reason"].is_null());
    assert_eq!(sink.messages().len(), 1);
    let scraped = scrape(&metrics_url).await;
    assert!(
        scraped.contains("stafettlogg_outbox_tries_total{channel=\"email\",outcome=\"sent\"} 1"),
        "{scraped}"
    );
    assert!(
        scraped.contains("stafettlogg_outbox_queued{channel=\"email\"} 0"),
        "{scraped}"
    );
}

#[actix_web::test]
async fn without_smtp_nothing_is_sent_and_the_list_says_why() {
    let f = family_with(delivery(None)).await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, SKOLE])
        .await;
    let sara = sara(&f);
    save(&f.app, &sara, email_on("sara@skole.test.kommune.no")).await;
    propose_to_sara(&f).await;
    let m = {
        let mut found = None;
        for _ in 0..100 {
            let list = sent(&f.app, &sara).await;
            if list.first().is_some_and(|m| m["state"] == "failed") {
                found = Some(list[0].clone());
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        found.expect("the message failed")
    };
    assert!(m["reason"].as_str().unwrap().contains("SMTP_URL"), "{m}");
    assert_eq!(m["attempts"], 1, "not retried: it cannot get better");
}

#[actix_web::test]
async fn settings_are_validated_naming_the_field_and_kept_per_person() {
    let f = family_with(delivery(None)).await;
    let app = &f.app;
    let put = |token: String, body: Value| async move {
        app.request(Method::PUT, "/api/v1/me/notifications", Some(&token))
            .json(&body)
            .send()
            .await
            .unwrap()
    };
    let cases = [
        (
            json!({"email": "ikke-en-adresse", "channels": {"email": true, "sms": false}}),
            vec!["email"],
        ),
        (
            json!({"phone": "91234567", "channels": {"email": false, "sms": true}}),
            vec!["phone"],
        ),
        (
            json!({"channels": {"email": false, "sms": true}}),
            vec!["channels.sms"],
        ),
        (
            json!({"channels": {"email": true, "sms": false}}),
            vec!["channels.email"],
        ),
        (
            json!({"email": "a@b.no", "channels": {"email": true}}),
            vec!["channels.sms"],
        ),
        (
            json!({"email": "a@b.no", "channels": {"email": true, "sms": false}, "extra": 1}),
            vec!["extra"],
        ),
    ];
    for (body, want) in cases {
        let p = problem(put(f.ola.clone(), body.clone()).await, 422).await;
        assert_eq!(fields(&p), want, "{body}");
    }
    // Nothing saved yet: all off.
    let mine: Value = app
        .get("/api/v1/me/notifications", &f.ola)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["channels"], json!({"email": false, "sms": false}));
    // A guardian keeps their own address; the e-mail on their participant row is never used.
    let theirs = json!({"email": "mor@hjemme.test", "phone": "+4791234567", "channels": {"email": true, "sms": true},
        "surveys": false});
    assert_eq!(put(f.mother.clone(), theirs.clone()).await.status(), 200);
    let back: Value = app
        .get("/api/v1/me/notifications", &f.mother)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(back, theirs);
    let other: Value = app
        .get("/api/v1/me/notifications", &f.father)
        .await
        .json()
        .await
        .unwrap();
    assert!(other["email"].is_null());
    assert_eq!(
        app.count("notification_settings WHERE user_id = 'mor' AND pid_hash IS NOT NULL AND 'guardian' = ANY(roles)"),
        1
    );
}

/// Who hears of what: a digital consent asks its other givers (found by their national id), an
/// inquiry reaches its service's professionals and its answer the family, a reassignment the new holder.
#[actix_web::test]
async fn each_event_reaches_the_people_it_concerns_and_nobody_else() {
    let f = family_with(delivery(None)).await;
    let app = &f.app;
    let everyone = [&f.ola, &f.mother, &f.father, &f.pia];
    for (token, address) in everyone
        .iter()
        .zip(["ola@x.no", "mor@x.no", "far@x.no", "pia@x.no"])
    {
        save(app, token, email_on(address)).await;
    }
    let sara = sara(&f);
    save(app, &sara, email_on("sara@x.no")).await;
    // The mother consents digitally for both guardians: the father's signature is awaited.
    let res = f
        .post(
            "/consents",
            &f.mother,
            &json!({"given_by": [f.mother_id, f.father_id], "services": [BARNEHAGE, SKOLE],
                    "purpose": "Samarbeid", "valid_from": stafettlogg::clock::today(), "form": "digital"}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let consent: Value = res.json().await.unwrap();
    let inquiry: Value = app
        .post(
            "/api/v1/inquiries",
            &f.mother,
            &json!({"service": SKOLE, "about": "own_child", "message": "Kan vi snakke sammen?",
                    "wants": "conversation"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let iid = inquiry["id"].as_str().unwrap();
    let res = app
        .post(
            &format!("/api/v1/inquiries/{iid}/answer"),
            &sara,
            &json!({"message": "Ja, ring meg."}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let events = |list: Vec<Value>| -> Vec<String> {
        let mut e: Vec<String> = list
            .iter()
            .map(|m| m["event"].as_str().unwrap().to_string())
            .collect();
        e.sort();
        e
    };
    assert_eq!(events(sent(app, &f.mother).await), ["inquiry.answered"]);
    assert_eq!(events(sent(app, &f.father).await), ["signature.awaited"]);
    assert_eq!(events(sent(app, &sara).await), ["inquiry.received"]);
    assert!(sent(app, &f.ola).await.is_empty());
    assert!(sent(app, &f.pia).await.is_empty());
    let signature = &sent(app, &f.father).await[0];
    assert_eq!(signature["case_id"], f.case_id.as_str());
    let _ = consent;
    // With a written consent covering the school, a leader reassigns the relay to Sara.
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, SKOLE])
        .await;
    let leader = app.token("3805", "leder", &[Role::Leader], &[BARNEHAGE]);
    let res = app
        .post(
            &format!("/api/v1/cases/{}/holder/reassign", f.case_id),
            &leader,
            &json!({"to": {"user_id": "sara", "name": "Sara Lærer", "service": SKOLE}, "reason": "absence"}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(
        events(sent(app, &sara).await),
        ["holder.reassigned", "inquiry.received"]
    );
    let _ = PPT;
}

#[actix_web::test]
async fn a_reminder_comes_once_however_often_the_pass_runs() {
    let f = family_with(delivery(None)).await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE])
        .await;
    save(&f.app, &f.ola, email_on("ola@x.no")).await;
    let due = stafettlogg::clock::today() + chrono::Days::new(3);
    let res = f
        .post(
            "/measures",
            &f.ola,
            &json!({"title": "Språkgruppe", "goal": "Flere ord", "responsible": {"kind": "service", "service": BARNEHAGE},
                    "start_date": stafettlogg::clock::today(), "evaluate_by": due, "state": "active"}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let measure: Value = res.json().await.unwrap();
    // The pass runs every 300 ms here: after several passes, one reminder.
    let reminded = format!(
        "notifications WHERE event = 'evaluation.due' AND case_id = '{}'",
        f.case_id
    );
    eventually(20, "the reminder", || {
        (f.app.count(&reminded) > 0).then_some(())
    })
    .await;
    actix_web::rt::time::sleep(Duration::from_millis(2000)).await;
    let mine = sent(&f.app, &f.ola).await;
    let due: Vec<&Value> = mine
        .iter()
        .filter(|m| m["event"] == "evaluation.due")
        .collect();
    assert_eq!(due.len(), 1, "{mine:?}");
    assert_eq!(due[0]["case_id"], f.case_id.as_str());
    assert_eq!(
        f.app.count(&format!(
            "notifications WHERE event = 'evaluation.due' AND subject_id = '{}'",
            measure["id"].as_str().unwrap()
        )),
        1
    );
}

#[actix_web::test]
async fn an_sms_goes_to_the_gateway_as_to_and_text_without_names() {
    let gateway = Receiver::start(
        free_port(),
        Behaviour {
            secret: None,
            fail_first: 0,
            fail_always: false,
        },
    );
    let mut d = delivery(None);
    d.sms_url = Some(SecretString::from(format!(
        "http://127.0.0.1:{}/sms",
        gateway.port
    )));
    let f = family_with(d).await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, SKOLE])
        .await;
    save(
        &f.app,
        &sara(&f),
        json!({"phone": "+4791234567", "channels": {"email": false, "sms": true}}),
    )
    .await;
    propose_to_sara(&f).await;
    let got = eventually(30, "the SMS", || gateway.requests().pop()).await;
    let body: Value = serde_json::from_str(got["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["to"], "+4791234567");
    let text = body["text"].as_str().unwrap();
    eprintln!("SMS text: {text}");
    assert!(text.starts_with(
        "Stafettlogg: En overføring av stafettholderrollen venter på svaret ditt: https://"
    ));
    assert!(!text.contains("Emma") && !text.contains("Sara"), "{text}");
    assert_eq!(got["path"], "/sms");
}

/// A sender that claimed a message and died before sending it: when its lease runs out, another sender
/// takes the message and it goes out once.
#[actix_web::test]
async fn a_message_held_by_a_sender_that_died_goes_out_once_its_lease_runs_out() {
    let sink = MailSink::start(free_port());
    let f = family_with(delivery(Some(sink.port))).await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, SKOLE])
        .await;
    save(&f.app, &sara(&f), email_on("sara@skole.test.kommune.no")).await;
    // A change writes the message and, in the same transaction, the dead sender claims it for one second
    // (so the live sender cannot take it first); it never sends or records anything.
    let mut db = f.app.db();
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let claimed: N = diesel::Connection::transaction(&mut db, |db| {
        diesel::RunQueryDsl::execute(
            diesel::sql_query(format!(
                "INSERT INTO notifications (id, municipality, user_id, event, channel, case_id) \
                 VALUES (uuid_v7(), '3805', 'sara', 'holder.reassigned', 'email', '{}')",
                f.case_id
            )),
            db,
        )?;
        diesel::RunQueryDsl::get_result(
            diesel::sql_query(
                "SELECT count(*) AS n FROM claim_notifications(10, interval '1 second')",
            ),
            db,
        )
    })
    .unwrap();
    assert_eq!(claimed.n, 1, "the dead sender holds the message");
    let mail = eventually(30, "the mail after the lease ran out", || {
        sink.messages().pop()
    })
    .await;
    assert!(mail.contains("To: sara@skole.test.kommune.no"));
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.messages().len(), 1);
    let list = sent(&f.app, &sara(&f)).await;
    assert_eq!(list[0]["state"], "sent");
    assert_eq!(
        list[0]["attempts"], 2,
        "one claim by the dead sender, one by the live one"
    );
}

/// Someone the municipality registered as departed hears nothing more of its cases.
#[actix_web::test]
async fn a_departed_professional_gets_no_more_messages() {
    let f = family_with(delivery(None)).await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, SKOLE])
        .await;
    let sara = sara(&f);
    save(&f.app, &sara, email_on("sara@skole.test.kommune.no")).await;
    // A teacher in the case, so the municipality knows her.
    assert_eq!(f.add_professional("sara", SKOLE).await.status(), 201);
    let admin = f.app.token("3805", "anne", &[Role::Admin], &[]);
    let res = f
        .app
        .post(
            "/api/v1/staff/sara/departed",
            &admin,
            &json!({"on": stafettlogg::clock::today()}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    // A proposal to her is refused anyway (she is leaving); an inquiry to her service is not.
    let res = f
        .app
        .post(
            "/api/v1/inquiries",
            &f.mother,
            &json!({"service": SKOLE, "about": "own_child", "message": "Kan vi snakke sammen?",
                    "wants": "conversation"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(f.app.count("notifications WHERE user_id = 'sara'"), 0);
    // Taken back: she hears of the next one.
    let res = f
        .app
        .request(Method::DELETE, "/api/v1/staff/sara/departed", Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = f
        .app
        .post(
            "/api/v1/inquiries",
            &f.mother,
            &json!({"service": SKOLE, "about": "myself", "message": "Og en til.", "wants": "advice"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(f.app.count("notifications WHERE user_id = 'sara'"), 1);
}
