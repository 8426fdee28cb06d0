//! Rule 15: an anonymous consultation carries no person. A kindergarten asks PPT about a worry; only PPT
//! answers, nobody else learns it exists, a national identity number is refused, and the daily erasure
//! takes it 90 days after its last answer.

use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::family::{BARNEHAGE, PPT};
use crate::support::{fields, owner_command, problem, TestApp};

struct Town {
    app: TestApp,
    ola: String,
    pia: String,
}

async fn town() -> Town {
    let app = TestApp::spawn().await;
    app.service("3805", BARNEHAGE, "barnehage").await;
    app.service("3805", PPT, "ppt").await;
    Town {
        ola: app.token("3805", "ola", &[Role::Professional], &[BARNEHAGE]),
        pia: app.token("3805", "pia", &[Role::Professional], &[PPT]),
        app,
    }
}

async fn status_json(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn ask(t: &Town, question: &str) -> Value {
    let res = t
        .app
        .post(
            "/api/v1/consultations",
            &t.ola,
            &json!({"to_service": PPT, "question": question, "age_group": "6-12"}),
        )
        .await;
    status_json(res, 201).await
}

#[actix_web::test]
async fn a_kindergarten_asks_ppt_anonymously_and_only_ppt_answers() {
    let t = town().await;
    let asked = ask(
        &t,
        "Et barn er stille og trekker seg unna. Når bør vi melde bekymring?",
    )
    .await;
    assert_eq!(
        (asked["from_service"].as_str(), asked["yours"].as_bool()),
        (Some(BARNEHAGE), Some(true))
    );
    let id = asked["id"].as_str().unwrap();
    let path = format!("/api/v1/consultations/{id}");

    // PPT sees it without learning who asked, and answers.
    let list = status_json(t.app.get("/api/v1/consultations", &t.pia).await, 200).await;
    assert_eq!(list["items"][0]["id"], id);
    assert_eq!(list["items"][0]["yours"], false);
    assert!(
        !list.to_string().contains("ola"),
        "the asker is not named: {list}"
    );
    let answered = status_json(
        t.app
            .post(
                &format!("{path}/answers"),
                &t.pia,
                &json!({"text": "Drøft med helsesykepleier først."}),
            )
            .await,
        201,
    )
    .await;
    assert_eq!(answered["answers"][0]["yours"], true);
    let seen = status_json(t.app.get(&path, &t.ola).await, 200).await;
    assert_eq!(
        seen["answers"][0]["text"],
        "Drøft med helsesykepleier først."
    );
    assert!(
        !seen.to_string().contains("pia"),
        "the answerer is not named: {seen}"
    );

    // The asker does not answer for PPT; a PPT leader may; a colleague of the asker does not see it.
    problem(
        t.app
            .post(&format!("{path}/answers"), &t.ola, &json!({"text": "x"}))
            .await,
        403,
    )
    .await;
    let leader = t.app.token("3805", "leder", &[Role::Leader], &[PPT]);
    status_json(
        t.app
            .post(
                &format!("{path}/answers"),
                &leader,
                &json!({"text": "Vi kan komme på besøk."}),
            )
            .await,
        201,
    )
    .await;
    let nils = t
        .app
        .token("3805", "nils", &[Role::Professional], &[BARNEHAGE]);
    problem(t.app.get(&path, &nils).await, 404).await;
    let nils_list = status_json(t.app.get("/api/v1/consultations", &nils).await, 200).await;
    assert_eq!(nils_list["items"], json!([]));
    let other = t.app.token("1103", "pia", &[Role::Professional], &[PPT]);
    problem(t.app.get(&path, &other).await, 404).await;
    // No family, administrator or integration takes part.
    let mother = t
        .app
        .citizen_token("mor", Role::Guardian, &crate::support::synthetic_id(2));
    for token in [
        mother,
        t.app.token("3805", "admin", &[Role::Admin], &[]),
        t.app.token("3805", "sys", &[Role::Integration], &[PPT]),
    ] {
        problem(t.app.get("/api/v1/consultations", &token).await, 403).await;
        problem(t.app.get(&path, &token).await, 403).await;
    }
    // Nothing about it reaches a case's access log or the statistics: there is no case.
    assert_eq!(t.app.count("access_events"), 0);
}

#[actix_web::test]
async fn a_consultation_with_a_national_id_or_between_the_wrong_services_is_refused_naming_the_field(
) {
    let t = town().await;
    let id = crate::support::synthetic_id(3);
    let spaced = format!("{} {}", &id[..6], &id[6..]);
    // As a word processor writes it (an en dash), with the date as a date and its year in full.
    let dashed = format!("{}\u{2013}{}", &id[..6], &id[6..]);
    let dated = format!("{}.{}.20{} {}", &id[..2], &id[2..4], &id[4..6], &id[6..]);
    for text in [
        format!("Gjelder {id}"),
        format!("Gjelder {spaced}"),
        format!("Gjelder {dashed}"),
        format!("Gjelder {dated}"),
    ] {
        let res = t
            .app
            .post(
                "/api/v1/consultations",
                &t.ola,
                &json!({"to_service": PPT, "question": text}),
            )
            .await;
        assert_eq!(fields(&problem(res, 422).await), ["question"]);
    }
    let res = t
        .app
        .post(
            "/api/v1/consultations",
            &t.ola,
            &json!({"to_service": BARNEHAGE, "question": "x"}),
        )
        .await;
    assert_eq!(fields(&problem(res, 422).await), ["to_service"]);
    let res = t
        .app
        .post(
            "/api/v1/consultations",
            &t.ola,
            &json!({"to_service": "finnes-ikke", "question": "x"}),
        )
        .await;
    assert_eq!(fields(&problem(res, 422).await), ["to_service"]);
    let res = t
        .app
        .post(
            "/api/v1/consultations",
            &t.ola,
            &json!({"to_service": PPT, "from_service": "skole", "question": "x"}),
        )
        .await;
    assert_eq!(fields(&problem(res, 422).await), ["from_service"]);
    let res = t
        .app
        .post(
            "/api/v1/consultations",
            &t.ola,
            &json!({"to_service": PPT, "question": "x", "age_group": "7"}),
        )
        .await;
    assert_eq!(fields(&problem(res, 422).await), ["age_group"]);
    let asked = ask(&t, "Et spørsmål uten navn").await;
    let res = t
        .app
        .post(
            &format!(
                "/api/v1/consultations/{}/answers",
                asked["id"].as_str().unwrap()
            ),
            &t.pia,
            &json!({"text": format!("Er det {id}?")}),
        )
        .await;
    assert_eq!(fields(&problem(res, 422).await), ["text"]);
    assert_eq!(t.app.count("consultation_answers"), 0);
    assert_eq!(t.app.count("consultations"), 1);
}

#[actix_web::test]
async fn a_consultation_is_erased_90_days_after_its_last_answer_by_the_daily_job() {
    let t = town().await;
    let old = ask(&t, "Gammelt spørsmål").await;
    let fresh = ask(&t, "Nytt spørsmål").await;
    for c in [&old, &fresh] {
        let res = t
            .app
            .post(
                &format!(
                    "/api/v1/consultations/{}/answers",
                    c["id"].as_str().unwrap()
                ),
                &t.pia,
                &json!({"text": "Svar"}),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    diesel::connection::SimpleConnection::batch_execute(
        &mut t.app.db(),
        &format!(
            "UPDATE consultations SET asked_at = now() - interval '120 days', last_answer_at = now() - interval '91 days' \
              WHERE id = '{}'; \
             UPDATE consultations SET asked_at = now() - interval '120 days', last_answer_at = now() - interval '89 days' \
              WHERE id = '{}'",
            old["id"].as_str().unwrap(),
            fresh["id"].as_str().unwrap()
        ),
    )
    .unwrap();
    let (ok, said) = owner_command(&t.app.db_url, &["erase-inquiries"]);
    assert!(ok, "{said}");
    assert!(
        said.contains("Erased 1 anonymous consultation(s)"),
        "{said}"
    );
    assert_eq!(
        t.app.count(&format!(
            "consultations WHERE id = '{}'",
            old["id"].as_str().unwrap()
        )),
        0
    );
    assert_eq!(t.app.count("consultations"), 1);
    assert_eq!(t.app.count("consultation_answers"), 1);
}

#[actix_web::test]
async fn a_consultation_holds_at_most_100_answers_as_the_spec_says_and_the_next_is_409() {
    let t = town().await;
    let asked = ask(&t, "Hvordan snakker vi med foreldrene om en bekymring?").await;
    let path = format!(
        "/api/v1/consultations/{}/answers",
        asked["id"].as_str().unwrap()
    );
    for i in 0..100 {
        let res = t
            .app
            .post(&path, &t.pia, &json!({"text": format!("Svar {i}")}))
            .await;
        assert_eq!(res.status().as_u16(), 201, "{}", res.text().await.unwrap());
    }
    let p = problem(
        t.app.post(&path, &t.pia, &json!({"text": "Ett til"})).await,
        409,
    )
    .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("at most 100 answers to a consultation"),
        "{p}"
    );
    let read = status_json(
        t.app
            .get(
                &format!("/api/v1/consultations/{}", asked["id"].as_str().unwrap()),
                &t.pia,
            )
            .await,
        200,
    )
    .await;
    assert_eq!(read["answers"].as_array().unwrap().len(), 100);
    let spec: Value = serde_json::from_str(&stafettlogg::api_doc_json()).unwrap();
    assert_eq!(
        spec["components"]["schemas"]["Consultation"]["properties"]["answers"]["maxItems"],
        100
    );
}
