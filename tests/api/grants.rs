//! The grant table (`case_grants`, kept by the database's triggers) held to rule 8 as the facts define it
//! (`policy::decide`). Random histories of changes to a case — participants joining and leaving, consents
//! recorded, signed, withdrawn and replaced, the relay moving, the subject's birth date and national id,
//! the municipality's self-consent age — are written straight into the tables, as any writer could. After
//! every change, for each caller of a fixed cast and each day that matters (every edge of every window),
//! the grants and the facts must give the same answer. Then the paths by which access ends are followed
//! through the API, and the grant table itself is checked after each.

use chrono::{Datelike, Days, NaiveDate};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Date, Nullable, Text, Uuid as SqlUuid};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::json;
use stafettlogg::auth::{Caller, Role};
use uuid::Uuid;

use crate::family::{family, BARNEHAGE, PPT};
use crate::support::TestApp;

const MUNICIPALITY: &str = "3805";
const SERVICES: [&str; 3] = ["skole_g", "helse_g", "ppt_g"];
const USERS: [&str; 4] = ["gp1", "gp2", "gp3", "gp4"];
const HASHES: [&[u8]; 4] = [b"hash-1", b"hash-2", b"hash-3", b"hash-4"];

fn today() -> NaiveDate {
    stafettlogg::clock::today()
}

fn caller(user: &str, roles: &[Role], services: &[&str], pid_hash: Option<&[u8]>) -> Caller {
    let mut c = Caller::for_tests(MUNICIPALITY, user, roles, services);
    c.pid_hash = pid_hash.map(<[u8]>::to_vec);
    c
}

/// Professionals who work where their participation is and where it is not, integrations, guardians, a
/// youth, a caller of two roles, and someone of another municipality.
fn cast() -> Vec<Caller> {
    use Role::*;
    let mut other = caller("gp1", &[Professional], &SERVICES, None);
    other.tenant = "0301".into();
    vec![
        caller("gp1", &[Professional], &["skole_g"], None),
        caller("gp2", &[Professional], &["helse_g"], None),
        caller("gp3", &[Professional], &["ppt_g", "skole_g"], None),
        caller("gp4", &[Professional], &["ppt_g"], None),
        caller("integration-a", &[Integration], &["helse_g"], None),
        caller("integration-b", &[Integration], &["skole_g", "ppt_g"], None),
        caller("mor", &[Guardian], &[], Some(HASHES[0])),
        caller("far", &[Guardian], &[], Some(HASHES[1])),
        caller("ungdom", &[Youth], &[], Some(HASHES[2])),
        caller("ungdom-2", &[Youth], &[], Some(HASHES[0])),
        caller(
            "gp2",
            &[Professional, Guardian],
            &["ppt_g"],
            Some(HASHES[1]),
        ),
        other,
    ]
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

fn ids(conn: &mut PgConnection, sql: &str, case_id: Uuid) -> Vec<Uuid> {
    diesel::sql_query(sql)
        .bind::<SqlUuid, _>(case_id)
        .load::<Id>(conn)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> Option<T> {
    (!items.is_empty()).then(|| items[rng.random_range(0..items.len())])
}

/// One random change to the case, written as the owner (row-level security does not apply to it).
fn change(conn: &mut PgConnection, rng: &mut StdRng, case_id: Uuid) {
    let active = |conn: &mut PgConnection, kinds: &str| {
        ids(
            conn,
            &format!(
                "SELECT id FROM case_participants WHERE case_id = $1 AND active AND kind IN ({kinds}) \
                 AND id <> (SELECT holder_participant_id FROM cases WHERE id = $1)"
            ),
            case_id,
        )
    };
    let run = |conn: &mut PgConnection, sql: &str| {
        diesel::sql_query(sql)
            .bind::<SqlUuid, _>(case_id)
            .execute(conn)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    };
    let today = today();
    match rng.random_range(0..12) {
        0 | 1 => {
            let user = pick(rng, &USERS).unwrap();
            let service = pick(rng, &SERVICES).unwrap();
            run(
                conn,
                &format!(
                    "INSERT INTO case_participants (id, case_id, kind, name, user_id, service) \
                 SELECT '{}', $1, 'professional', 'Testperson', '{user}', '{service}' \
                 WHERE NOT EXISTS (SELECT 1 FROM case_participants WHERE case_id = $1 AND active \
                                   AND kind = 'professional' AND user_id = '{user}')",
                    Uuid::now_v7()
                ),
            );
        }
        2 => {
            let hash = hex(pick(rng, &HASHES[..2]).unwrap());
            let responsible = rng.random_bool(0.8);
            run(conn, &format!(
                "INSERT INTO case_participants (id, case_id, kind, name, relation, parental_responsibility, \
                 national_id_enc, national_id_hash) \
                 VALUES ('{}', $1, 'guardian', 'Testforelder', 'mother', {responsible}, '\\x{hash}', '\\x{hash}')",
                Uuid::now_v7()
            ));
        }
        3 => {
            let hash = hex(pick(rng, &[HASHES[2], HASHES[0]]).unwrap());
            // A case has at most one active youth.
            run(conn, &format!(
                "INSERT INTO case_participants (id, case_id, kind, name, national_id_enc, national_id_hash) \
                 SELECT '{}', $1, 'youth', 'Testungdom', '\\x{hash}', '\\x{hash}' \
                 WHERE NOT EXISTS (SELECT 1 FROM case_participants WHERE case_id = $1 AND active \
                                   AND kind = 'youth')",
                Uuid::now_v7()
            ));
        }
        4 => {
            if let Some(p) = pick(rng, &active(conn, "'professional', 'guardian', 'youth'")) {
                run(conn, &format!(
                    "UPDATE case_participants SET active = false, left_at = now() WHERE id = '{p}' AND case_id = $1"
                ));
            }
        }
        5 => {
            if let Some(p) = pick(rng, &active(conn, "'professional'")) {
                // The relay moves as a handover moves it: one period ends where the next begins.
                conn.batch_execute(&format!(
                    "BEGIN; \
                     UPDATE holder_periods SET period = tstzrange(lower(period), now(), '[)') \
                      WHERE case_id = '{case_id}' AND upper_inf(period); \
                     INSERT INTO holder_periods (case_id, participant_id, period) \
                     VALUES ('{case_id}', '{p}', tstzrange(now(), NULL, '[)')); \
                     UPDATE cases SET holder_participant_id = '{p}' WHERE id = '{case_id}'; \
                     COMMIT;"
                ))
                .unwrap();
            }
        }
        6 | 7 => add_consent(conn, rng, case_id, today),
        8 => {
            let unsigned = ids(
                conn,
                "SELECT participant_id AS id FROM consent_givers WHERE case_id = $1 \
                                      AND signed_at IS NULL",
                case_id,
            );
            if let Some(g) = pick(rng, &unsigned) {
                run(conn, &format!(
                    "UPDATE consent_givers SET signed_at = now() WHERE case_id = $1 AND participant_id = '{g}' \
                     AND signed_at IS NULL"
                ));
            }
        }
        9 => {
            let open = ids(
                conn,
                "SELECT id FROM consents WHERE case_id = $1 AND withdrawn_at IS NULL \
                                  AND superseded_by IS NULL ORDER BY id",
                case_id,
            );
            match (open.first(), open.last(), rng.random_bool(0.5)) {
                (Some(old), Some(new), true) if old != new => run(conn, &format!(
                    "UPDATE consents SET superseded_by = '{new}', superseded_at = now() WHERE id = '{old}'"
                )),
                (Some(k), _, _) => run(conn, &format!(
                    "UPDATE consents SET withdrawn_at = now(), withdrawal_reason = 'Trukket' WHERE id = '{k}'"
                )),
                _ => {}
            }
        }
        10 => {
            let years = rng.random_range(12..19u64) * 365 + rng.random_range(0..365u64);
            let birth = today - Days::new(years);
            let subject = match rng.random_range(0..3) {
                0 => "NULL, NULL".to_string(),
                n => {
                    let h = hex(HASHES[n + 1]);
                    format!("'\\x{h}', '\\x{h}'")
                }
            };
            run(
                conn,
                &format!(
                "UPDATE cases SET subject_birth_date = '{birth}', \
                 (subject_national_id_enc, subject_national_id_hash) = ROW({subject}) WHERE id = $1"
            ),
            );
        }
        _ => run(
            conn,
            &format!(
                "UPDATE municipalities SET self_consent_age = {} WHERE number = '{MUNICIPALITY}' \
             AND EXISTS (SELECT 1 FROM cases WHERE id = $1)",
                rng.random_range(15..17)
            ),
        ),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A consent around today, by some of the family, signed or not, for some of the services.
fn add_consent(conn: &mut PgConnection, rng: &mut StdRng, case_id: Uuid, today: NaiveDate) {
    let from = today - Days::new(300) + Days::new(rng.random_range(0..400));
    let until = from + Days::new(rng.random_range(0..400));
    let id = Uuid::now_v7();
    diesel::sql_query(
        "INSERT INTO consents (id, case_id, purpose, valid_from, valid_until, form, recorded_by_user, \
         recorded_by_name) VALUES ($1, $2, 'Samarbeid', $3, $4, 'written', 'gp1', 'Testperson')",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(case_id)
    .bind::<Date, _>(from)
    .bind::<Date, _>(until)
    .execute(conn)
    .unwrap();
    let family = ids(
        conn,
        "SELECT id FROM case_participants WHERE case_id = $1 AND active AND kind IN ('guardian', 'youth')",
        case_id,
    );
    let givers: Vec<Uuid> = family
        .into_iter()
        .filter(|_| rng.random_bool(0.7))
        .collect();
    for g in givers {
        diesel::sql_query(
            "INSERT INTO consent_givers (consent_id, participant_id, case_id, signed_at) \
             VALUES ($1, $2, $3, CASE WHEN $4 THEN now() END)",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<SqlUuid, _>(g)
        .bind::<SqlUuid, _>(case_id)
        .bind::<Bool, _>(rng.random_bool(0.7))
        .execute(conn)
        .unwrap();
    }
    for s in SERVICES.iter().filter(|_| rng.random_bool(0.5)) {
        diesel::sql_query("INSERT INTO consent_services (consent_id, service) VALUES ($1, $2)")
            .bind::<SqlUuid, _>(id)
            .bind::<Text, _>(*s)
            .execute(conn)
            .unwrap();
    }
}

/// The days on which an answer may change: today, and both sides of every window's edges.
fn days_that_matter(facts: &stafettlogg::cases::facts::CaseFacts) -> Vec<NaiveDate> {
    let mut days = vec![today()];
    for k in &facts.consents {
        days.extend([k.row.valid_from, k.row.valid_until]);
    }
    if let Some(birth) = facts.case.subject_birth_date {
        for age in [15, 16] {
            days.push(
                birth
                    .with_year(birth.year() + age)
                    .unwrap_or(birth + Days::new(365 * age as u64)),
            );
        }
    }
    let edges: Vec<NaiveDate> = days
        .iter()
        .flat_map(|d| [*d - Days::new(1), *d, *d + Days::new(1)])
        .collect();
    let mut edges = edges;
    edges.sort();
    edges.dedup();
    edges
}

fn compare(conn: &mut PgConnection, case_id: Uuid, step: &str) -> usize {
    let loaded = stafettlogg::cases::load::one(conn, MUNICIPALITY, case_id, false)
        .unwrap()
        .expect("the case");
    let grants = stafettlogg::cases::grants::of_case(conn, case_id).unwrap();
    let sca = loaded.self_consent_age;
    let base = stafettlogg::cases::facts::facts_of(loaded, today());
    let mut compared = 0;
    for day in days_that_matter(&base) {
        let facts = stafettlogg::cases::facts::facts_for(
            base.case.clone(),
            base.participants.clone(),
            base.consents.clone(),
            sca,
            day,
        );
        for c in cast() {
            let rule =
                stafettlogg::policy::decide(&c, &facts, sca).map(|(me, b)| (me.map(|p| p.id), b));
            let granted = (c.tenant == MUNICIPALITY)
                .then(|| stafettlogg::policy::grants::choose(&c, &grants, day))
                .flatten();
            assert_eq!(
                granted, rule,
                "{step}: {c:?} on {day}: the grants {grants:#?} disagree with the rule on the facts \
                 (participants {:#?}, consents {:#?})",
                facts.participants, facts.consents
            );
            compared += 1;
        }
    }
    compared
}

#[actix_web::test]
async fn the_grant_table_agrees_with_the_rule_over_random_histories_of_changes() {
    let app = TestApp::spawn().await;
    for (code, kind) in [
        ("skole_g", "skole"),
        ("helse_g", "helsestasjon"),
        ("ppt_g", "ppt"),
    ] {
        app.service(MUNICIPALITY, code, kind).await;
    }
    let holder = app.token(MUNICIPALITY, "gp1", &[Role::Professional], &["skole_g"]);
    let mut conn = app.db();
    diesel::sql_query(format!("SET app.municipality = '{MUNICIPALITY}'"))
        .execute(&mut conn)
        .unwrap();
    let (mut compared, mut bases) = (0, std::collections::BTreeSet::new());
    for seed in 0..8u64 {
        let case = app.open_case(&holder, "skole_g", "Gro").await;
        let case_id: Uuid = case["id"].as_str().unwrap().parse().unwrap();
        let mut rng = StdRng::seed_from_u64(seed);
        compared += compare(&mut conn, case_id, &format!("seed {seed}, opened"));
        for step in 0..30 {
            change(&mut conn, &mut rng, case_id);
            compared += compare(&mut conn, case_id, &format!("seed {seed}, step {step}"));
        }
        for g in stafettlogg::cases::grants::of_case(&mut conn, case_id).unwrap() {
            bases.insert(g.basis.as_str());
        }
    }
    // The histories reached every kind of grant, and many answers were compared.
    assert_eq!(
        bases.len(),
        5,
        "every basis should be granted somewhere in the histories: {bases:?}"
    );
    assert!(compared > 10_000, "only {compared} answers compared");
}

#[derive(QueryableByName, Debug, PartialEq)]
struct GrantOf {
    #[diesel(sql_type = Text)]
    basis: String,
    #[diesel(sql_type = Nullable<Date>)]
    valid_until: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    settle_on: Option<NaiveDate>,
}

/// The grants of `case_id` given to the professional `user`, as the table holds them.
fn grants_of(app: &TestApp, case_id: &str, user: &str) -> Vec<GrantOf> {
    diesel::sql_query(
        "SELECT basis, valid_until, settle_on FROM case_grants WHERE case_id = $1::uuid AND user_id = $2 \
         ORDER BY basis",
    )
    .bind::<Text, _>(case_id)
    .bind::<Text, _>(user)
    .load(&mut app.db())
    .unwrap()
}

fn family_grants(app: &TestApp, case_id: &str, hash_of_participant: &str) -> i64 {
    app.count(&format!(
        "case_grants g JOIN case_participants p ON p.national_id_hash = g.pid_hash AND p.case_id = g.case_id \
         WHERE g.case_id = '{case_id}' AND p.id = '{hash_of_participant}'"
    ))
}

#[actix_web::test]
async fn a_withdrawn_consent_takes_its_grants_with_it_in_the_same_transaction() {
    let f = family().await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE])
        .await;
    let ppt = f.consent_ok(&[&f.mother_id, &f.father_id], &[PPT]).await;
    assert_eq!(f.add_professional("pia", PPT).await.status(), 201);
    let until: NaiveDate = ppt["valid_until"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        grants_of(&f.app, &f.case_id, "pia"),
        vec![GrantOf {
            basis: "consent".into(),
            valid_until: Some(until),
            settle_on: Some(until + Days::new(1))
        }]
    );
    let res = f
        .post(
            &format!("/consents/{}/withdraw", ppt["id"].as_str().unwrap()),
            &f.mother,
            &json!({"reason": "Vi ønsker ikke PPT inne nå"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(grants_of(&f.app, &f.case_id, "pia"), vec![]);
    assert_eq!(f.get("/entries", &f.pia).await.status(), 404);
    // The holder's own grant needs no consent and stays.
    assert_eq!(
        grants_of(&f.app, &f.case_id, "ola")[0].basis,
        "holder_service"
    );
}

#[actix_web::test]
async fn a_deactivated_participant_loses_their_grant() {
    let f = family().await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, PPT])
        .await;
    assert_eq!(f.add_professional("pia", PPT).await.status(), 201);
    let pia = f.json("/participants", &f.ola).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user_id"] == "pia")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(grants_of(&f.app, &f.case_id, "pia").len(), 1);
    let res = f
        .post(
            &format!("/participants/{pia}/deactivate"),
            &f.ola,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(grants_of(&f.app, &f.case_id, "pia"), vec![]);
    assert_eq!(f.get("/timeline", &f.pia).await.status(), 404);
    // A guardian's grant follows their participation too.
    assert_eq!(family_grants(&f.app, &f.case_id, &f.father_id), 1);
}

#[actix_web::test]
async fn a_departure_ends_the_grants_of_the_departed_the_day_before_and_an_undo_restores_them() {
    let f = family().await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, PPT])
        .await;
    assert_eq!(f.add_professional("pia", PPT).await.status(), 201);
    let admin = f.app.token("3805", "admin", &[Role::Admin], &[]);
    let res = f
        .app
        .post(
            "/api/v1/staff/pia/departed",
            &admin,
            &json!({"on": today()}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let yesterday = today() - Days::new(1);
    assert!(grants_of(&f.app, &f.case_id, "pia")
        .iter()
        .all(|g| g.valid_until == Some(yesterday)));
    assert_eq!(grants_of(&f.app, &f.case_id, "ola")[0].valid_until, None);
    let res = f
        .app
        .request(Method::DELETE, "/api/v1/staff/pia/departed", Some(&admin))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    assert!(grants_of(&f.app, &f.case_id, "pia")
        .iter()
        .all(|g| g.valid_until > Some(today())));
    assert_eq!(f.get("/entries", &f.pia).await.status(), 200);
}

#[actix_web::test]
async fn an_expired_consent_ends_its_grants_and_the_next_reader_of_the_log_settles_it() {
    let f = family().await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE])
        .await;
    let ppt = f.consent_ok(&[&f.mother_id, &f.father_id], &[PPT]).await;
    assert_eq!(f.add_professional("pia", PPT).await.status(), 201);
    // Time passes: the PPT consent's last day was yesterday, and the grants were last worked out before it
    // ran out (their `settle_on` is today), as they would be had nobody touched the case since.
    let yesterday = today() - Days::new(1);
    let mut conn = f.app.db();
    diesel::sql_query(format!(
        "UPDATE consents SET valid_from = '{}', valid_until = '{yesterday}' WHERE id = '{}'",
        yesterday - Days::new(30),
        ppt["id"].as_str().unwrap()
    ))
    .execute(&mut conn)
    .unwrap();
    assert!(grants_of(&f.app, &f.case_id, "pia")
        .iter()
        .all(|g| g.valid_until == Some(yesterday)));
    diesel::sql_query(format!(
        "UPDATE case_grants SET settle_on = '{}' WHERE case_id = '{}'",
        today(),
        f.case_id
    ))
    .execute(&mut conn)
    .unwrap();
    // Her own read of the log is refused, and the refusal rolls back all it did.
    assert_eq!(f.get("/entries", &f.pia).await.status(), 404);
    let pia_active = || {
        f.app.count(&format!(
            "case_participants WHERE case_id = '{}' AND user_id = 'pia' AND active",
            f.case_id
        ))
    };
    assert_eq!(pia_active(), 1);
    // The holder's read of the log settles the expiry: PPT's professional leaves, and the grants move on.
    assert_eq!(f.get("/entries", &f.ola).await.status(), 200);
    assert_eq!(pia_active(), 0);
    assert_eq!(grants_of(&f.app, &f.case_id, "pia"), vec![]);
    assert!(grants_of(&f.app, &f.case_id, "ola")
        .iter()
        .all(|g| g.settle_on.is_none_or(|d| d > today())));
}
