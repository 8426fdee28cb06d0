//! Statistics: figures that match a hand-counted fixture, small cells and the cell that
//! would give one away suppressed, CSV, a leader's services only, and who may ask.

use diesel::connection::SimpleConnection;
use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::support::{fields, problem, TestApp};

const KINDERGARTEN: &str = "barnehage-a";
const SCHOOL: &str = "skole-b";
/// January to March 2026, long before today.
const PERIOD: &str = "from=2026-01-01&to=2026-03-31";

struct Fixture {
    app: TestApp,
    admin: String,
}

async fn json_of(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// The hand-counted fixture, in the period January-March 2026 (times in Oslo):
/// - kindergarten, cases A1-A5: opened 5 January, moved from level 0 to 1 on 7, 9, 11, 13, 15 January
///   (2, 4, 6, 8, 10 days); A1 moved on to level 2 on 10 April, after the period.
/// - kindergarten, A6 and A7: opened 20 January, closed at level 0 on 10 February (`no_need`, 21 days).
/// - school, B1-B3: opened 15 February, still at level 0; B4 opened in June 2025, still open.
/// - evaluation deadlines in February-March, all on kindergarten cases at level 1: five evaluations
///   answered deadlines (four on time, one late) and one planned deadline still waits: 6 due, 4 on time.
/// - one deadline after the period and one evaluation of a deadline before it, which do not count.
async fn fixture() -> Fixture {
    let app = TestApp::spawn().await;
    app.service("3805", KINDERGARTEN, "barnehage").await;
    app.service("3805", SCHOOL, "skole").await;
    let ola = app.token("3805", "ola", &[Role::Professional], &[KINDERGARTEN]);
    let sara = app.token("3805", "sara", &[Role::Professional], &[SCHOOL]);
    let mut a = Vec::new();
    for n in 1..=7 {
        a.push(id(&app
            .open_case(&ola, KINDERGARTEN, &format!("A{n}"))
            .await));
    }
    let mut b = Vec::new();
    for n in 1..=4 {
        b.push(id(&app.open_case(&sara, SCHOOL, &format!("B{n}")).await));
    }
    for case in &a[5..7] {
        let res = app
            .request(
                Method::POST,
                &format!("/api/v1/cases/{case}/close"),
                Some(&ola),
            )
            .header("if-match", "\"1\"")
            .json(&json!({"reason": "no_need"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let list = |ids: &[String]| {
        ids.iter()
            .map(|i| format!("'{i}'"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let (a15, a67, b13) = (list(&a[..5]), list(&a[5..7]), list(&b[..3]));
    let mut sql = format!(
        "UPDATE cases SET opened_at = '2026-01-05 12:00+01' WHERE id IN ({a15});
         UPDATE cases SET opened_at = '2026-01-20 09:00+01', closed_at = '2026-02-10 15:00+01' WHERE id IN ({a67});
         UPDATE cases SET opened_at = '2026-02-15 10:00+01' WHERE id IN ({b13});
         UPDATE cases SET opened_at = '2025-06-01 10:00+02' WHERE id = '{b4}';
         UPDATE cases SET level = 1 WHERE id IN ({a15});
         UPDATE cases SET level = 2 WHERE id = '{a1}';",
        b4 = b[3],
        a1 = a[0],
    );
    let change = |case: &str, from: u8, to: u8, on: &str| {
        format!(
            "INSERT INTO level_changes (id, case_id, from_level, to_level, reason, decided_on, recorded_at,
               recorded_by_participant, recorded_by_name, municipality)
             SELECT gen_random_uuid(), id, {from}, {to}, 'Avklart', '{on}', '{on} 16:00+01', holder_participant_id,
               'Ola', municipality FROM cases WHERE id = '{case}';"
        )
    };
    for (case, day) in a[..5].iter().zip(["07", "09", "11", "13", "15"]) {
        sql.push_str(&change(case, 0, 1, &format!("2026-01-{day}")));
    }
    sql.push_str(&change(&a[0], 1, 2, "2026-04-10"));
    // (case, deadline, state, evaluated on): None is a deadline still waiting.
    let deadlines = [
        (&a[0], "2026-02-01", "completed", Some("2026-01-30")),
        (&a[1], "2026-02-05", "completed", Some("2026-02-05")),
        (&a[2], "2026-02-10", "completed", Some("2026-02-01")),
        (&a[3], "2026-03-01", "completed", Some("2026-02-27")),
        (&a[4], "2026-03-02", "completed", Some("2026-03-09")),
        (&a[1], "2026-03-10", "planned", None),
        (&a[2], "2026-04-15", "planned", None),
        (&a[3], "2025-12-20", "completed", Some("2025-12-19")),
    ];
    for (n, (case, due, state, evaluated)) in deadlines.iter().enumerate() {
        let measure = format!("00000000-0000-7000-8000-{n:012}");
        sql.push_str(&format!(
            "INSERT INTO measures (id, case_id, title, goal, responsible_kind, start_date, evaluate_by, state,
               created_by_user, municipality)
             VALUES ('{measure}', '{case}', 'Tiltak', 'Trivsel', 'subject', '2025-12-01', '{due}', '{state}',
               'ola', '3805');"
        ));
        if let Some(on) = evaluated {
            sql.push_str(&format!(
                "INSERT INTO evaluations (id, measure_id, case_id, evaluated_on, evaluated_by_participant,
                   evaluated_by_name, assessment, outcome, due_on, municipality)
                 SELECT gen_random_uuid(), '{measure}', id, '{on}', holder_participant_id, 'Ola', 'Fullført',
                   'completed', '{due}', municipality FROM cases WHERE id = '{case}';"
            ));
        }
    }
    app.db().batch_execute(&sql).unwrap();
    let admin = app.token("3805", "anne", &[Role::Admin], &[]);
    Fixture { app, admin }
}

impl Fixture {
    async fn get(&self, query: &str, token: &str) -> Value {
        json_of(
            self.app
                .get(&format!("/api/v1/statistics?{query}"), token)
                .await,
            200,
        )
        .await
    }
}

fn row<'a>(answer: &'a Value, key: &str) -> &'a Value {
    if key == "total" {
        return &answer["total"];
    }
    answer["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no row {key} in {answer}"))
}

/// The figures of a row in the order of the JSON, as one comparable value.
fn figures(r: &Value) -> Value {
    json!([
        r["cases_opened"],
        r["cases_closed"],
        r["open_at_end"],
        r["median_days_to_decision"],
        r["evaluations_due"],
        r["evaluations_on_time"],
        r["handovers_accepted"],
        r["median_days_to_accept"],
        r["consents_withdrawn"]
    ])
}

#[actix_web::test]
async fn by_level_the_figures_match_the_hand_count_with_small_cells_suppressed() {
    let f = fixture().await;
    let events_before = f.app.count("access_events");
    let s = f.get(&format!("{PERIOD}&by=level"), &f.admin).await;
    assert_eq!(
        (&s["from"], &s["to"], &s["by"], &s["suppressed_below"]),
        (
            &json!("2026-01-01"),
            &json!("2026-03-31"),
            &json!("level"),
            &json!(5)
        )
    );
    let keys: Vec<&str> = s["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["0", "1", "2", "3"]);
    // Level 0: A6, A7, B1-B3 opened (5); A6, A7 closed (2: suppressed); B1-B4 open (4: suppressed);
    // two decisions (a median over 2 cases: suppressed).
    assert_eq!(
        figures(row(&s, "0")),
        json!([5, null, null, null, 0, 0, 0, null, 0])
    );
    // Level 1 at the end of March (A1 moved to 2 only in April): A1-A5 opened, open at the end (5, but
    // suppressed: with the total 9 it would give level 0's 4 away), median of 2, 4, 6, 8, 10 days;
    // 6 deadlines, 4 on time (suppressed).
    assert_eq!(
        figures(row(&s, "1")),
        json!([5, 0, null, 6.0, 6, null, 0, null, 0])
    );
    assert_eq!(
        figures(row(&s, "2")),
        json!([0, 0, 0, null, 0, 0, 0, null, 0])
    );
    // In total: 10 opened, 2 closed (suppressed), 9 open; decisions after 2, 4, 6, 8, 10, 21, 21 days.
    assert_eq!(row(&s, "total")["key"], "total");
    assert_eq!(
        figures(row(&s, "total")),
        json!([10, null, 9, 8.0, 6, null, 0, null, 0])
    );
    assert_eq!(
        f.app.count("access_events"),
        events_before,
        "statistics show no case and leave no access events"
    );
}

#[actix_web::test]
async fn by_service_a_single_small_cell_takes_the_next_smallest_with_it() {
    let f = fixture().await;
    let s = f.get(&format!("{PERIOD}&by=service"), &f.admin).await;
    assert_eq!(s["rows"].as_array().unwrap().len(), 2, "{s}");
    // Opened: kindergarten 7, school 3 (suppressed), total 10: 7 goes too, or 10 - 7 = 3.
    // Open at the end: kindergarten 5, school 4 (suppressed), total 9: 5 goes too.
    assert_eq!(
        figures(row(&s, KINDERGARTEN)),
        json!([null, null, null, 8.0, 6, null, 0, null, 0])
    );
    assert_eq!(
        figures(row(&s, SCHOOL)),
        json!([null, 0, null, null, 0, 0, 0, null, 0])
    );
    assert_eq!(
        figures(row(&s, "total")),
        json!([10, null, 9, 8.0, 6, null, 0, null, 0])
    );
}

#[actix_web::test]
async fn a_leader_counts_only_the_cases_of_the_services_they_lead() {
    let f = fixture().await;
    let leader = f
        .app
        .token("3805", "lise", &[Role::Leader], &[KINDERGARTEN]);
    let s = f.get(&format!("{PERIOD}&by=service"), &leader).await;
    let keys: Vec<&Value> = s["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["key"])
        .collect();
    assert_eq!(keys, [KINDERGARTEN]);
    // Alone in its column the row is the total: nothing to subtract, so 7 and 5 are shown.
    assert_eq!(
        figures(row(&s, KINDERGARTEN)),
        json!([7, null, 5, 8.0, 6, null, 0, null, 0])
    );
    assert_eq!(figures(&s["total"]), figures(row(&s, KINDERGARTEN)));
    let by_level = f.get(&format!("{PERIOD}&by=level"), &leader).await;
    // Level 0 holds only A6 and A7 for her: 2 opened, suppressed.
    assert_eq!(row(&by_level, "0")["cases_opened"], Value::Null);
    assert_eq!(by_level["total"]["cases_opened"], 7);
    let school_leader = f.app.token("3805", "stig", &[Role::Leader], &[SCHOOL]);
    let school = f.get(&format!("{PERIOD}&by=level"), &school_leader).await;
    assert_eq!(
        figures(&school["total"]),
        json!([null, 0, null, null, 0, 0, 0, null, 0])
    );
}

#[actix_web::test]
async fn by_month_each_event_counts_in_its_month_and_open_at_end_only_in_total() {
    let f = fixture().await;
    let s = f.get(&format!("{PERIOD}&by=month"), &f.admin).await;
    let keys: Vec<&Value> = s["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["key"])
        .collect();
    assert_eq!(keys, ["2026-01", "2026-02", "2026-03"]);
    // Opened: January 7, February 3 (suppressed), so January goes too. Decisions: A1-A5 in January
    // (median 6), A6 and A7 closing in February. Deadlines: February 3 (all on time), March 3 (one on
    // time, one late, one still waiting): all small.
    assert_eq!(
        figures(row(&s, "2026-01")),
        json!([null, 0, null, 6.0, 0, 0, 0, null, 0])
    );
    assert_eq!(
        figures(row(&s, "2026-02")),
        json!([null, null, null, null, null, null, 0, null, 0])
    );
    assert_eq!(figures(row(&s, "total"))[2], 9);
}

#[actix_web::test]
async fn by_close_reason_open_cases_have_a_row_of_their_own() {
    let f = fixture().await;
    let s = f.get(&format!("{PERIOD}&by=close_reason"), &f.admin).await;
    let keys: Vec<&str> = s["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.first(), Some(&"goal_reached"));
    assert_eq!(keys.last(), Some(&"open"));
    // no_need: A6 and A7 (2, suppressed); open: 8 opened, so 8 goes with them.
    assert_eq!(row(&s, "no_need")["cases_opened"], Value::Null);
    assert_eq!(row(&s, "open")["cases_opened"], Value::Null);
    assert_eq!(row(&s, "open")["open_at_end"], 9);
    assert_eq!(row(&s, "goal_reached")["cases_opened"], 0);
}

#[actix_web::test]
async fn csv_gives_the_same_table_with_suppressed_cells_empty() {
    let f = fixture().await;
    let res = f
        .app
        .request(
            Method::GET,
            &format!("/api/v1/statistics?{PERIOD}&by=level"),
            Some(&f.admin),
        )
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/csv"), "{ct}");
    let text = res.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "key,cases_opened,cases_closed,open_at_end,median_days_to_decision,evaluations_due,\
             evaluations_on_time,handovers_accepted,median_days_to_accept,consents_withdrawn",
            "0,5,,,,0,0,0,,0",
            "1,5,0,,6,6,,0,,0",
            "2,0,0,0,,0,0,0,,0",
            "3,0,0,0,,0,0,0,,0",
            "total,10,,9,8,6,,0,,0",
        ]
    );
    let pdf = f
        .app
        .request(Method::GET, "/api/v1/statistics", Some(&f.admin))
        .header("accept", "application/pdf")
        .send()
        .await
        .unwrap();
    problem(pdf, 406).await;
}

#[actix_web::test]
async fn only_administrators_and_leaders_may_ask() {
    let f = fixture().await;
    for roles in [
        &[Role::Professional][..],
        &[Role::Integration],
        &[Role::Guardian],
    ] {
        let token = f.app.token("3805", "ola", roles, &[KINDERGARTEN]);
        problem(f.app.get("/api/v1/statistics", &token).await, 403).await;
    }
}

#[actix_web::test]
async fn a_bad_period_or_by_is_refused_naming_the_field() {
    let f = fixture().await;
    let f = &f;
    let ask = |q: &str| {
        let path = format!("/api/v1/statistics?{q}");
        async move { f.app.get(&path, &f.admin).await }
    };
    let p = problem(ask("from=2026-03-01&to=2026-02-28").await, 422).await;
    assert_eq!(fields(&p), ["from"]);
    let p = problem(ask("from=2016-01-01&to=2026-01-01").await, 422).await;
    assert_eq!(fields(&p), ["to"]);
    let p = problem(ask("by=weekday").await, 400).await;
    assert_eq!(fields(&p), ["by"]);
    let p = problem(ask("from=31.12.2025").await, 400).await;
    assert_eq!(fields(&p), ["from"]);
    // Without a period: twelve calendar months up to today.
    let s: Value = ask("").await.json().await.unwrap();
    assert_eq!(s["by"], "month");
    assert_eq!(s["rows"].as_array().unwrap().len(), 12);
    assert_eq!(s["to"], stafettlogg::clock::today().to_string());
}

/// A weight the service cannot read refuses what its range names, as for the case export and the right of
/// access: one negotiation for every operation that offers more than one type.
#[actix_web::test]
async fn a_malformed_weight_refuses_what_its_range_names() {
    let app = TestApp::spawn().await;
    let admin = app.token("3805", "anne", &[Role::Admin], &[]);
    let ask = |accept: &'static str| {
        app.request(
            Method::GET,
            &format!("/api/v1/statistics?{PERIOD}&by=level"),
            Some(&admin),
        )
        .header("accept", accept)
        .send()
    };
    let p = problem(ask("text/csv;q=banana").await.unwrap(), 406).await;
    assert_eq!(p["type"], "urn:stafettlogg:problem:not-acceptable");
    assert!(p["detail"].as_str().unwrap().contains("Accept"), "{p}");
    let res = ask("text/csv;q=banana, application/json;q=0.5")
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/json"), "{ct}");
}
