//! The municipality's survey of its employees (rule 15): an administrator starts from the default
//! questionnaire, employees answer once each while it is open, and the results, once it has closed, never
//! show a group of fewer than five. What is stored cannot be joined back to who answered.

use diesel::connection::SimpleConnection;
use diesel::RunQueryDsl;
use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::receivers::{eventually, free_port, MailSink};
use crate::support::{fields, owner_command, problem, Options, TestApp};

const BARNEHAGE: &str = "barnehage-solstua";
const BARNEHAGE_2: &str = "barnehage-maurtua";
const PPT: &str = "ppt";

struct Town {
    app: TestApp,
    admin: String,
}

async fn town_with(app: TestApp) -> Town {
    app.service("3805", BARNEHAGE, "barnehage").await;
    app.service("3805", BARNEHAGE_2, "barnehage").await;
    app.service("3805", PPT, "ppt").await;
    Town {
        admin: app.token("3805", "anne", &[Role::Admin], &[]),
        app,
    }
}

async fn town() -> Town {
    town_with(TestApp::spawn().await).await
}

async fn status_json(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn today() -> chrono::NaiveDate {
    stafettlogg::clock::today()
}

/// A survey of the default questionnaire, open from today for two weeks.
async fn open_survey(t: &Town, by_service: bool) -> (String, Vec<Value>) {
    let default = status_json(
        t.app
            .get("/api/v1/surveys/default-questionnaire", &t.admin)
            .await,
        200,
    )
    .await;
    let mut body = default.clone();
    body["opens_on"] = json!(today());
    body["closes_on"] = json!(today() + chrono::Days::new(14));
    body["by_service"] = json!(by_service);
    let survey = status_json(t.app.post("/api/v1/surveys", &t.admin, &body).await, 201).await;
    assert_eq!(survey["state"], "open");
    let questions = default["questions"].as_array().unwrap().clone();
    (survey["id"].as_str().unwrap().to_string(), questions)
}

/// Answers to every question: `yes` for the yes/no ones, `scale` for the others.
fn answers(questions: &[Value], yes: bool, scale: i64) -> Value {
    let mut out = serde_json::Map::new();
    for q in questions {
        let value = if q["kind"] == "yes_no" {
            json!(yes)
        } else {
            json!(scale)
        };
        out.insert(q["key"].as_str().unwrap().to_string(), value);
    }
    json!({ "answers": out })
}

fn employee(t: &Town, sub: &str, service: &str) -> String {
    t.app.token("3805", sub, &[Role::Professional], &[service])
}

async fn answer(t: &Town, survey: &str, token: &str, body: &Value) -> reqwest::Response {
    t.app
        .post(&format!("/api/v1/surveys/{survey}/responses"), token, body)
        .await
}

async fn close(t: &Town, survey: &str) {
    status_json(
        t.app
            .post(
                &format!("/api/v1/surveys/{survey}/close"),
                &t.admin,
                &json!({}),
            )
            .await,
        200,
    )
    .await;
}

async fn results(t: &Town, survey: &str, query: &str, token: &str) -> reqwest::Response {
    t.app
        .get(&format!("/api/v1/surveys/{survey}/results{query}"), token)
        .await
}

fn group<'a>(results: &'a Value, key: &str) -> &'a Value {
    results["round"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == key)
        .unwrap_or_else(|| panic!("no group {key}: {results}"))
}

#[actix_web::test]
async fn six_kindergarten_and_two_ppt_employees_answer_and_the_ppt_group_comes_back_suppressed() {
    let t = town().await;
    let (survey, questions) = open_survey(&t, false).await;
    for i in 0..6 {
        let token = employee(&t, &format!("bh{i}"), BARNEHAGE);
        let answered = status_json(
            answer(&t, &survey, &token, &answers(&questions, i % 2 == 0, 4)).await,
            200,
        )
        .await;
        assert_eq!(answered["you_answered"], true);
    }
    for i in 0..2 {
        let token = employee(&t, &format!("ppt{i}"), PPT);
        status_json(
            answer(&t, &survey, &token, &answers(&questions, true, 2)).await,
            200,
        )
        .await;
    }
    // Once each.
    let again = answer(
        &t,
        &survey,
        &employee(&t, "bh0", BARNEHAGE),
        &answers(&questions, true, 1),
    )
    .await;
    problem(again, 409).await;

    // Not while it is open: counts moving answer by answer would tell what the last one said.
    problem(results(&t, &survey, "", &t.admin).await, 409).await;
    close(&t, &survey).await;
    let late = answer(
        &t,
        &survey,
        &employee(&t, "late", BARNEHAGE),
        &answers(&questions, true, 1),
    )
    .await;
    problem(late, 409).await;

    let r = status_json(results(&t, &survey, "", &t.admin).await, 200).await;
    assert_eq!(r["by"], "service_kind");
    assert_eq!(r["suppressed_below"], 5);
    let ppt = group(&r, "ppt");
    assert_eq!(ppt["answers"], Value::Null, "{r}");
    assert!(ppt["questions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|q| q["mean"].is_null() && q["distribution"].is_null()));
    // The total (8) minus the kindergartens would give PPT away, so they are suppressed too.
    assert_eq!(group(&r, "barnehage")["answers"], Value::Null);
    let total = &r["round"]["total"];
    assert_eq!(total["answers"], 8);
    let scale = questions
        .iter()
        .position(|q| q["kind"] == "scale_1_5")
        .unwrap();
    let q = &total["questions"][scale];
    assert_eq!(q["mean"], 3.5, "(6 x 4 + 2 x 2) / 8: {q}");
    let dist: Vec<i64> = q["distribution"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["count"].as_i64().unwrap())
        .collect();
    assert_eq!(dist, [0, 2, 0, 6, 0]);
    assert!(!r.to_string().contains("bh0"), "no author is named: {r}");

    // A leader sees the groups of their services only; the same as CSV.
    let leader = t.app.token("3805", "lise", &[Role::Leader], &[PPT]);
    let led = status_json(results(&t, &survey, "", &leader).await, 200).await;
    let keys: Vec<&str> = led["round"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["ppt"]);
    let csv = t
        .app
        .request(
            Method::GET,
            &format!("/api/v1/surveys/{survey}/results"),
            Some(&t.admin),
        )
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "survey,group,answers,question,mean,1,2,3,4,5,yes,no"
    );
    assert_eq!(lines.len(), 1 + 3 * questions.len(), "{csv}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{survey},ppt,,"))),
        "{csv}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{survey},total,8,"))),
        "{csv}"
    );
}

#[actix_web::test]
async fn the_stored_answers_cannot_be_joined_back_to_their_authors() {
    let t = town().await;
    let (survey, questions) = open_survey(&t, true).await;
    let tallies = |t: &Town| {
        t.app
            .count(&format!("survey_tallies WHERE survey_id = '{survey}'"))
    };
    let mut rows_after = Vec::new();
    for i in 0..6 {
        let token = employee(&t, &format!("bh{i}"), BARNEHAGE);
        status_json(
            answer(&t, &survey, &token, &answers(&questions, i < 3, 1 + i % 5)).await,
            200,
        )
        .await;
        rows_after.push(tallies(&t));
    }
    // No row per answer: one row for the kind and one for the service, however many answer, so there
    // is no insertion order, id or time of an answer to line up with the record of who answered.
    assert_eq!(rows_after, [2; 6]);
    assert_eq!(tallies(&t), 2);
    assert_eq!(
        t.app
            .count(&format!("survey_respondents WHERE survey_id = '{survey}'")),
        6
    );

    let columns = |table: &str| -> Vec<(String, String)> {
        let mut conn = t.app.db();
        diesel::sql_query(format!(
            "SELECT column_name::text AS name, data_type::text AS kind FROM information_schema.columns \
              WHERE table_name = '{table}' ORDER BY column_name"
        ))
        .load::<Column>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.kind))
        .collect()
    };
    let who = columns("survey_respondents");
    let what = columns("survey_tallies");
    let shared: Vec<&String> = who
        .iter()
        .filter(|(name, _)| what.iter().any(|(n, _)| n == name))
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        shared,
        ["municipality", "survey_id"],
        "only the survey joins them"
    );
    // The record of who answered names nobody by itself: a keyed hash, not the login.
    assert_eq!(
        t.app.count(&format!(
            "survey_respondents WHERE survey_id = '{survey}' \
               AND (position('bh' IN encode(respondent, 'escape')) > 0 OR length(respondent) <> 32)"
        )),
        0
    );
    for (name, kind) in who.iter().chain(&what) {
        assert!(
            !kind.contains("time") && kind != "date",
            "{name} is a {kind}: no time goes with an answer or its author"
        );
    }
    // Nothing of an answer is kept to replay it, not even when its path is escaped.
    let escaped = t
        .app
        .request(
            Method::POST,
            &format!("/api/v1/surveys/{survey}/respons%65s"),
            Some(&employee(&t, "kari", PPT)),
        )
        .header("Idempotency-Key", "svar-1")
        .json(&answers(&questions, true, 3))
        .send()
        .await
        .unwrap();
    assert_eq!(escaped.status(), 200);
    assert_eq!(t.app.count("idempotency_keys"), 0);
    let answers_counted = t.app.count(&format!(
        "survey_tallies WHERE survey_id = '{survey}' AND answers = 6"
    ));
    assert_eq!(answers_counted, 2);
}

#[derive(diesel::QueryableByName)]
struct Column {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
}

#[actix_web::test]
async fn bad_answers_are_422_naming_the_question() {
    let t = town().await;
    let (survey, questions) = open_survey(&t, false).await;
    let ola = employee(&t, "ola", BARNEHAGE);
    let yes_no = questions.iter().find(|q| q["kind"] == "yes_no").unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    let scale = questions.iter().find(|q| q["kind"] == "scale_1_5").unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();

    let mut body = answers(&questions, true, 3);
    body["answers"][&scale] = json!(6);
    body["answers"][&yes_no] = json!(2);
    body["answers"]["ukjent"] = json!(true);
    let p = problem(answer(&t, &survey, &ola, &body).await, 422).await;
    let mut got = fields(&p);
    got.sort();
    let mut want = vec![
        format!("answers.{scale}"),
        format!("answers.{yes_no}"),
        "answers.ukjent".to_string(),
    ];
    want.sort();
    assert_eq!(got, want, "{p}");

    let mut missing = answers(&questions, true, 3);
    missing["answers"].as_object_mut().unwrap().remove(&scale);
    let p = problem(answer(&t, &survey, &ola, &missing).await, 422).await;
    assert_eq!(fields(&p), [format!("answers.{scale}")]);

    // An answer given twice is ambiguous: refused, naming the question (serde would keep the last).
    let twice = serde_json::to_string(&answers(&questions, true, 3))
        .unwrap()
        .replacen(
            "\"answers\":{",
            &format!("\"answers\":{{\"{yes_no}\":false,"),
            1,
        );
    assert!(
        twice.matches(&format!("\"{yes_no}\"")).count() == 2,
        "{twice}"
    );
    let res = t
        .app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/surveys/{survey}/responses"),
            Some(&ola),
        )
        .header("content-type", "application/json")
        .body(twice)
        .send()
        .await
        .unwrap();
    let p = problem(res, 422).await;
    assert_eq!(fields(&p), [format!("answers.{yes_no}")], "{p}");

    let mut text = answers(&questions, true, 3);
    text["answers"][&scale] = json!("Barnet heter Emma");
    let res = answer(&t, &survey, &ola, &text).await;
    assert!(
        [400, 422].contains(&res.status().as_u16()),
        "free text is refused"
    );

    // Nothing was counted, and the employee may still answer.
    assert_eq!(
        t.app
            .count(&format!("survey_tallies WHERE survey_id = '{survey}'")),
        0
    );
    status_json(
        answer(&t, &survey, &ola, &answers(&questions, true, 3)).await,
        200,
    )
    .await;

    // A service that is not the caller's is refused, naming it.
    let two = t
        .app
        .token("3805", "kari", &[Role::Professional], &[BARNEHAGE, PPT]);
    let p = problem(
        answer(&t, &survey, &two, &answers(&questions, true, 3)).await,
        422,
    )
    .await;
    assert_eq!(fields(&p), ["service"]);
}

#[actix_web::test]
async fn guardians_and_integrations_have_no_part_in_a_survey() {
    let t = town().await;
    let (survey, questions) = open_survey(&t, false).await;
    let guardian = t
        .app
        .citizen_token("mor", Role::Guardian, &crate::support::synthetic_id(7));
    let integration = t
        .app
        .token("3805", "visma", &[Role::Integration], &[BARNEHAGE]);
    for token in [&guardian, &integration] {
        problem(
            answer(&t, &survey, token, &answers(&questions, true, 3)).await,
            403,
        )
        .await;
        problem(t.app.get("/api/v1/surveys", token).await, 403).await;
        problem(results(&t, &survey, "", token).await, 403).await;
    }
    // A professional answers but does not read results; nor does she write surveys.
    let ola = employee(&t, "ola", BARNEHAGE);
    problem(results(&t, &survey, "", &ola).await, 403).await;
    problem(
        t.app
            .get("/api/v1/surveys/default-questionnaire", &ola)
            .await,
        403,
    )
    .await;
    // Nor does a guardian choose to hear of surveys.
    let res = t
        .app
        .request(Method::PUT, "/api/v1/me/notifications", Some(&guardian))
        .json(&json!({"email": "mor@example.no", "channels": {"email": true, "sms": false}, "surveys": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(fields(&problem(res, 422).await), ["surveys"]);
}

#[actix_web::test]
async fn a_planned_survey_changes_until_it_opens_and_employees_do_not_see_it() {
    let t = town().await;
    let tomorrow = today() + chrono::Days::new(1);
    let body = json!({"title": "Kartlegging våren", "opens_on": tomorrow, "closes_on": tomorrow + chrono::Days::new(7),
        "questions": [{"key": "kjenner", "text": {"nb": "Kjenner du veilederen?"}, "kind": "yes_no"}]});
    let created = t.app.post("/api/v1/surveys", &t.admin, &body).await;
    assert_eq!(created.status(), 201);
    let etag = created.headers()["etag"].to_str().unwrap().to_string();
    let survey: Value = created.json().await.unwrap();
    assert_eq!(survey["state"], "planned");
    let id = survey["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/surveys/{id}");

    let ola = employee(&t, "ola", BARNEHAGE);
    problem(t.app.get(&path, &ola).await, 404).await;
    let listed = status_json(t.app.get("/api/v1/surveys", &ola).await, 200).await;
    assert_eq!(listed["items"], json!([]));
    problem(
        answer(&t, &id, &ola, &json!({"answers": {"kjenner": true}})).await,
        404,
    )
    .await;

    // Duplicate keys and dates in the past are refused, naming the field.
    let dup = json!({"questions": [{"key": "a", "text": {"nb": "A"}, "kind": "yes_no"},
                                  {"key": "a", "text": {"nb": "B"}, "kind": "yes_no"}]});
    let res = t
        .app
        .request(Method::PATCH, &path, Some(&t.admin))
        .header("If-Match", &etag)
        .json(&dup)
        .send()
        .await
        .unwrap();
    assert_eq!(fields(&problem(res, 422).await), ["questions[1].key"]);
    let past = json!({"opens_on": today() - chrono::Days::new(1)});
    let res = t
        .app
        .request(Method::PATCH, &path, Some(&t.admin))
        .header("If-Match", &etag)
        .json(&past)
        .send()
        .await
        .unwrap();
    assert_eq!(fields(&problem(res, 422).await), ["opens_on"]);

    let change = json!({"title": "Kartlegging våren 2027", "by_service": true,
        "questions": [{"key": "samarbeid", "text": {"nb": "Samarbeidet fungerer godt.", "nn": "Samarbeidet fungerer godt."}, "kind": "scale_1_5"}]});
    let res = t
        .app
        .request(Method::PATCH, &path, Some(&t.admin))
        .header("If-Match", &etag)
        .json(&change)
        .send()
        .await
        .unwrap();
    let changed = status_json(res, 200).await;
    assert_eq!(
        (changed["version"].as_i64(), changed["by_service"].as_bool()),
        (Some(2), Some(true))
    );
    assert_eq!(changed["questions"][0]["key"], "samarbeid");
    // A stale ETag is 412.
    let res = t
        .app
        .request(Method::PATCH, &path, Some(&t.admin))
        .header("If-Match", &etag)
        .json(&json!({"title": "X"}))
        .send()
        .await
        .unwrap();
    problem(res, 412).await;

    // Once it has opened (its day moved to today here), it no longer changes and is not deleted.
    t.app
        .db()
        .batch_execute(&format!(
            "UPDATE surveys SET opens_on = current_date WHERE id = '{id}'"
        ))
        .unwrap();
    let res = t
        .app
        .request(Method::PATCH, &path, Some(&t.admin))
        .header("If-Match", "\"2\"")
        .json(&json!({"title": "X"}))
        .send()
        .await
        .unwrap();
    problem(res, 409).await;
    let res = t
        .app
        .request(Method::DELETE, &path, Some(&t.admin))
        .send()
        .await
        .unwrap();
    problem(res, 409).await;
    let seen = status_json(t.app.get(&path, &ola).await, 200).await;
    assert_eq!(
        (seen["state"].as_str(), seen["you_answered"].as_bool()),
        (Some("open"), Some(false))
    );

    // A planned one is deleted.
    let other = status_json(t.app.post("/api/v1/surveys", &t.admin, &body).await, 201).await;
    let other_path = format!("/api/v1/surveys/{}", other["id"].as_str().unwrap());
    let res = t
        .app
        .request(Method::DELETE, &other_path, Some(&t.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    problem(t.app.get(&other_path, &t.admin).await, 404).await;
}

/// `n` employees of `service` answer, each `yes` and `scale`.
async fn answered_by(
    t: &Town,
    survey: &str,
    questions: &[Value],
    service: &str,
    n: usize,
    scale: i64,
) {
    for i in 0..n {
        let token = employee(t, &format!("{service}-{i}-{survey}"), service);
        status_json(
            answer(t, survey, &token, &answers(questions, true, scale)).await,
            200,
        )
        .await;
    }
}

#[actix_web::test]
async fn results_by_service_and_two_rounds_side_by_side() {
    let t = town().await;
    let (first, questions) = open_survey(&t, true).await;
    answered_by(&t, &first, &questions, BARNEHAGE, 5, 2).await;
    answered_by(&t, &first, &questions, BARNEHAGE_2, 6, 3).await;
    close(&t, &first).await;
    let (second, _) = open_survey(&t, false).await;
    answered_by(&t, &second, &questions, BARNEHAGE, 7, 4).await;
    answered_by(&t, &second, &questions, PPT, 5, 5).await;
    close(&t, &second).await;

    let by_service = status_json(results(&t, &first, "?by=service", &t.admin).await, 200).await;
    assert_eq!(group(&by_service, BARNEHAGE)["answers"], 5);
    assert_eq!(group(&by_service, BARNEHAGE_2)["answers"], 6);
    assert_eq!(by_service["round"]["total"]["answers"], 11);
    // The second round records only the kind.
    let p = problem(results(&t, &second, "?by=service", &t.admin).await, 422).await;
    assert_eq!(fields(&p), ["by"]);

    let compared = status_json(
        results(&t, &second, &format!("?compare={first}"), &t.admin).await,
        200,
    )
    .await;
    assert_eq!(group(&compared, "barnehage")["answers"], 7);
    let earlier = &compared["compared_with"];
    assert_eq!(earlier["survey"], first.as_str());
    let scale = questions
        .iter()
        .position(|q| q["kind"] == "scale_1_5")
        .unwrap();
    let kindergartens = earlier["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "barnehage")
        .unwrap();
    assert_eq!(kindergartens["answers"], 11);
    assert_eq!(
        kindergartens["questions"][scale]["mean"], 2.55,
        "(5 x 2 + 6 x 3) / 11"
    );
    assert_eq!(
        compared["round"]["groups"][0]["questions"][scale]["mean"],
        4.0
    );

    // A round that is still open is not compared; an unknown id is named.
    let (open, _) = open_survey(&t, false).await;
    problem(
        results(&t, &second, &format!("?compare={open}"), &t.admin).await,
        409,
    )
    .await;
    let p = problem(
        results(
            &t,
            &second,
            &format!("?compare={}", uuid::Uuid::nil()),
            &t.admin,
        )
        .await,
        422,
    )
    .await;
    assert_eq!(fields(&p), ["compare"]);
}

#[actix_web::test]
async fn the_purge_forgets_who_answered_and_later_keeps_only_the_counts_per_kind() {
    let t = town().await;
    let (survey, questions) = open_survey(&t, true).await;
    answered_by(&t, &survey, &questions, BARNEHAGE, 5, 4).await;
    answered_by(&t, &survey, &questions, PPT, 5, 2).await;
    close(&t, &survey).await;

    // A dry run says what the purge would do, and does none of it.
    let (ok, out) = owner_command(&t.app.db_url, &["purge", "--dry-run"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("Surveys: would erase 10 record(s) of who answered"),
        "{out}"
    );
    assert_eq!(
        t.app
            .count(&format!("survey_respondents WHERE survey_id = '{survey}'")),
        10
    );

    let (ok, out) = owner_command(&t.app.db_url, &["purge"]);
    assert!(ok, "{out}");
    assert_eq!(
        t.app
            .count(&format!("survey_respondents WHERE survey_id = '{survey}'")),
        0,
        "{out}"
    );
    assert_eq!(
        t.app
            .count(&format!("survey_tallies WHERE survey_id = '{survey}'")),
        4
    );
    status_json(results(&t, &survey, "?by=service", &t.admin).await, 200).await;

    // Six years on (the default retention is five), only the counts per service kind remain.
    let later = (chrono::Utc::now() + chrono::Duration::days(6 * 366)).to_rfc3339();
    let (ok, out) = owner_command(&t.app.db_url, &["purge", "--now", &later]);
    assert!(ok, "{out}");
    assert!(out.contains("1 survey(s) past their retention"), "{out}");
    assert_eq!(
        t.app.count(&format!(
            "survey_tallies WHERE survey_id = '{survey}' AND service IS NOT NULL"
        )),
        0
    );
    problem(results(&t, &survey, "?by=service", &t.admin).await, 409).await;
    let by_kind = status_json(results(&t, &survey, "", &t.admin).await, 200).await;
    assert_eq!(group(&by_kind, "barnehage")["answers"], 5);
    assert_eq!(group(&by_kind, "ppt")["answers"], 5);
    let seen = status_json(
        t.app
            .get(&format!("/api/v1/surveys/{survey}"), &t.admin)
            .await,
        200,
    )
    .await;
    assert!(seen["reduced_on"].is_string(), "{seen}");
}

#[actix_web::test]
async fn employees_who_chose_to_hear_of_surveys_get_one_message_when_one_opens() {
    let sink = MailSink::start(free_port());
    let app = TestApp::spawn_with(Options {
        delivery: crate::notifications::delivery(Some(sink.port)),
        ..Options::default()
    })
    .await;
    let t = town_with(app).await;
    let ola = employee(&t, "ola", BARNEHAGE);
    let pia = employee(&t, "pia", PPT);
    for (token, surveys) in [(&ola, true), (&pia, false)] {
        let res = t
            .app
            .request(Method::PUT, "/api/v1/me/notifications", Some(token))
            .json(&json!({"email": "ansatt@kommune.no", "channels": {"email": true, "sms": false}, "surveys": surveys}))
            .send()
            .await
            .unwrap();
        assert_eq!(status_json(res, 200).await["surveys"], surveys);
    }
    let (survey, _) = open_survey(&t, false).await;
    let mail = eventually(30, "the mail", || sink.messages().pop()).await;
    assert!(mail.contains(&format!("/surveys/{survey}")), "{mail}");
    // The reminders' pass runs again and again: still one message, and none to the one who did not ask.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(
        t.app.count("notifications WHERE event = 'survey.opened'"),
        1
    );
}
