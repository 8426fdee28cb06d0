//! Seeding through the project's own import endpoint: generated case documents (the shape of
//! benches/import.rs, larger: 5 participants, 3 measures, 20 log entries), spread over professionals in
//! five services so that each holds about 100 cases, as a caseworker would. Synthetic names and national
//! identity numbers only.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};
use serde_json::{json, Value};
use stafettlogg::auth::jwt::JwtSettings;
use stafettlogg::auth::Role;

use crate::cluster::BenchCluster;
use crate::server::{Server, JWT_SECRET};
use crate::Settings;

pub const MUNICIPALITY: &str = "3805";
/// (code, kind): professional `u` works in `SERVICES[u % 5]`.
const SERVICES: [(&str, &str); 5] = [
    ("barnehage-sol", "barnehage"),
    ("skole-bakke", "skole"),
    ("helsestasjon-sentrum", "helsestasjon"),
    ("ppt-vest", "ppt"),
    ("skolehelse-bakke", "skolehelsetjeneste"),
];
/// Cases per professional, as holder (each is also the second professional of as many).
const CASES_PER_HOLDER: usize = 100;
/// wrk and pgbench draw from the same random sample of at most this many cases (each wrk thread holds
/// the sample in Lua, so 1M cases would cost a few hundred MB of load-generator memory otherwise).
const SAMPLE: usize = 200_000;

/// What the load generators draw from.
pub struct SeedData {
    /// `case_id holder_user_id` per line, the sample in `bench.sample` order.
    pub cases_file: PathBuf,
    /// `user_id token` per line, one per professional.
    pub tokens_file: PathBuf,
    pub sample: usize,
}

/// Professionals: about `CASES_PER_HOLDER` cases each, a multiple of the service count so that the
/// second professional of a case (`holder + 1 + 5k`) always works in another service.
fn professionals(cases: usize) -> usize {
    (cases / CASES_PER_HOLDER / SERVICES.len()).max(1) * SERVICES.len()
}

fn user_id(u: usize) -> String {
    format!("u{u:05}")
}

fn service_of(u: usize) -> &'static str {
    SERVICES[u % SERVICES.len()].0
}

pub fn seed(settings: &Settings, cluster: &BenchCluster, server: &Server, dir: &Path) -> SeedData {
    let jwt = JwtSettings::development(JWT_SECRET.as_bytes());
    create_services(server, &jwt);
    publish_guide(server, &jwt);
    let started = Instant::now();
    import_all(settings, server, &jwt);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "seeded {} cases through POST /api/v1/imports in {secs:.1} s = {:.0} cases/s \
         (batches of {}, {} concurrent; 5 participants, 1 consent, 3 measures, 20 entries each)",
        settings.cases,
        settings.cases as f64 / secs,
        settings.seed_batch,
        settings.seed_concurrency
    );
    let entries = cluster.count("SELECT count(*) AS n FROM log_entries");
    assert_eq!(
        entries,
        20 * settings.cases as i64,
        "every entry was stored"
    );
    let started = Instant::now();
    // As autovacuum would eventually: planner statistics and the visibility map for index-only scans.
    cluster
        .bench_db()
        .batch_execute("VACUUM ANALYZE")
        .expect("VACUUM ANALYZE");
    let bytes = cluster.count("SELECT pg_database_size(current_database()) AS n");
    println!(
        "VACUUM ANALYZE {:.1} s; the database holds {} MB",
        started.elapsed().as_secs_f64(),
        bytes / (1 << 20)
    );
    let sample = write_sample(cluster, dir);
    let tokens_file = dir.join("tokens.txt");
    let tokens: Vec<String> = (0..professionals(settings.cases))
        .map(|u| format!("{} {}", user_id(u), professional_token(&jwt, u)))
        .collect();
    std::fs::write(&tokens_file, tokens.join("\n") + "\n").expect("tokens file");
    SeedData {
        cases_file: dir.join("cases.txt"),
        tokens_file,
        sample,
    }
}

fn mint(jwt: &JwtSettings, sub: &str, name: &str, role: Role, services: Vec<String>) -> String {
    // A day: a 1M-case seed plus the runs must not outlive the tokens.
    jwt.mint(&jwt.dev_claims(MUNICIPALITY, sub, name, vec![role], services, None, 86_400))
        .expect("a token")
}

fn professional_token(jwt: &JwtSettings, u: usize) -> String {
    let name = format!("Fagperson {u}");
    mint(
        jwt,
        &user_id(u),
        &name,
        Role::Professional,
        vec![service_of(u).into()],
    )
}

fn create_services(server: &Server, jwt: &JwtSettings) {
    let admin = mint(jwt, "admin", "Admin", Role::Admin, vec![]);
    for (code, kind) in SERVICES {
        let res = server
            .agent()
            .post(&format!("{}/api/v1/services", server.base))
            .header("Authorization", &format!("Bearer {admin}"))
            .content_type("application/json")
            .send(
                json!({"code": code, "name": code, "kind": kind,
                    "contact": {"phone": "+47 77 00 00 00", "web": format!("https://kommune.no/{code}")}})
                    .to_string()
                    .as_bytes(),
            )
            .expect("POST /api/v1/services");
        assert_eq!(res.status().as_u16(), 201, "creating service {code}");
    }
}

/// The municipality's own guide, published: the default guide exported and imported as its draft, so the
/// `guide` scenario reads a real published version (number 1) with the services' contact details.
fn publish_guide(server: &Server, jwt: &JwtSettings) {
    let admin = format!(
        "Bearer {}",
        mint(jwt, "admin", "Admin", Role::Admin, vec![])
    );
    let doc = server
        .agent()
        .get(&format!(
            "{}/public/v1/municipalities/9999/guide/document",
            server.base
        ))
        .call()
        .expect("GET the default guide")
        .body_mut()
        .read_to_string()
        .expect("the default guide");
    let res = server
        .agent()
        .put(&format!("{}/api/v1/guide/draft", server.base))
        .header("Authorization", &admin)
        .content_type("application/json")
        .send(doc.as_bytes())
        .expect("PUT /api/v1/guide/draft");
    assert_eq!(res.status().as_u16(), 200, "writing the guide's draft");
    let res = server
        .agent()
        .post(&format!("{}/api/v1/guide/publish", server.base))
        .header("Authorization", &admin)
        .send_empty()
        .expect("POST /api/v1/guide/publish");
    assert_eq!(res.status().as_u16(), 201, "publishing the guide");
}

/// Batches generated on the fly (a 1M-case NDJSON file would be about 10 GB), posted by a few threads.
fn import_all(settings: &Settings, server: &Server, jwt: &JwtSettings) {
    let all_services = SERVICES.iter().map(|(c, _)| c.to_string()).collect();
    let token = mint(jwt, "flytting", "Flytting", Role::Integration, all_services);
    let batches = settings.cases.div_ceil(settings.seed_batch);
    let (next, done) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let today = stafettlogg::clock::today();
    let now = Utc::now();
    std::thread::scope(|s| {
        for _ in 0..settings.seed_concurrency.max(1) {
            s.spawn(|| loop {
                let b = next.fetch_add(1, Ordering::Relaxed);
                if b >= batches {
                    return;
                }
                let range =
                    b * settings.seed_batch..((b + 1) * settings.seed_batch).min(settings.cases);
                let count = range.len();
                let body: Vec<String> = range
                    .map(|n| case_doc(n, settings.cases, today, now).to_string())
                    .collect();
                post_batch(server, &token, body.join("\n"), count);
                let before = done.fetch_add(count, Ordering::Relaxed);
                let tenth = (settings.cases / 10).max(1);
                if (before + count) / tenth > before / tenth {
                    println!("  seeded {}/{}", before + count, settings.cases);
                }
            });
        }
    });
}

fn post_batch(server: &Server, token: &str, body: String, expected: usize) {
    let mut res = server
        .agent()
        .post(&format!("{}/api/v1/imports", server.base))
        .header("Authorization", &format!("Bearer {token}"))
        .content_type("application/x-ndjson")
        .send(body.as_bytes())
        .expect("POST /api/v1/imports");
    let status = res.status().as_u16();
    let text = res.body_mut().read_to_string().unwrap_or_default();
    assert_eq!(status, 200, "import answered {status}: {text}");
    let report: Value = serde_json::from_str(&text).expect("an import report");
    let created = report["summary"]["created"].as_u64().unwrap_or(0) as usize;
    if created != expected {
        let failed: Vec<&Value> = report["lines"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|l| l["status"] != "created")
            .take(3)
            .collect();
        panic!("{created} of {expected} cases created; first failures: {failed:?}");
    }
}

#[derive(QueryableByName)]
struct SampleRow {
    #[diesel(sql_type = Text)]
    case_id: String,
    #[diesel(sql_type = Text)]
    holder: String,
}

/// `bench.sample(n, case_id, holder)`: random cases and their holders, numbered from 1 so pgbench can
/// pick one with `random(1, :ncases)`; written to `cases.txt` in the same order for wrk.
fn write_sample(cluster: &BenchCluster, dir: &Path) -> usize {
    let mut db = cluster.bench_db();
    db.batch_execute(&format!(
        "CREATE SCHEMA bench;
         GRANT USAGE ON SCHEMA bench TO stafettlogg_app;
         CREATE TABLE bench.sample AS
           SELECT (row_number() OVER ())::int AS n, s.case_id, s.holder FROM (
             SELECT c.id AS case_id, p.user_id AS holder
             FROM cases c JOIN case_participants p ON p.id = c.holder_participant_id
             WHERE c.municipality = '{MUNICIPALITY}' ORDER BY random() LIMIT {SAMPLE}) s;
         ALTER TABLE bench.sample ADD PRIMARY KEY (n);
         GRANT SELECT ON bench.sample TO stafettlogg_app;
         ANALYZE bench.sample;"
    ))
    .expect("the sample table");
    let rows: Vec<SampleRow> =
        diesel::sql_query("SELECT case_id::text AS case_id, holder FROM bench.sample ORDER BY n")
            .load(&mut db)
            .expect("the sample");
    let lines: Vec<String> = rows
        .iter()
        .map(|r| format!("{} {}", r.case_id, r.holder))
        .collect();
    std::fs::write(dir.join("cases.txt"), lines.join("\n") + "\n").expect("cases file");
    rows.len()
}

/// A valid synthetic national id for person `k` born in one of `years` years from `first_year`, and
/// that birth date; distinct for distinct `k` up to about 336 * years * 330.
fn national_id(k: usize, first_year: u32, years: u32) -> (String, NaiveDate) {
    let day = 1 + (k % 28) as u32;
    let month = 1 + (k / 28 % 12) as u32;
    let year = first_year + (k / 336) as u32 % years;
    let individual = (k / 336 / years as usize) as u32;
    let id = (0..)
        .find_map(|i| {
            stafettlogg::national_id::synthetic(day, month, year, (individual * 3 + i) % 1000)
        })
        .expect("some check digits work");
    let born = NaiveDate::from_ymd_opt(year as i32, month, day).expect("a date");
    (id, born)
}

fn professional(id: &str, u: usize, at: DateTime<Utc>) -> Value {
    json!({"id": id, "kind": "professional", "name": format!("Fagperson {u}"), "user_id": user_id(u),
        "service": service_of(u), "title": null, "relation": null, "parental_responsibility": null,
        "national_id": null, "email": null, "phone": null, "role": null, "active": true, "joined_at": at,
        "left_at": null})
}

fn person(
    id: &str,
    kind: &str,
    name: &str,
    relation: Option<&str>,
    nid: Option<String>,
    at: DateTime<Utc>,
) -> Value {
    let guardian = kind == "guardian";
    json!({"id": id, "kind": kind, "name": name, "user_id": null, "service": null, "title": null,
        "relation": relation, "parental_responsibility": guardian.then_some(true), "national_id": nid,
        "email": null, "phone": null, "role": (!guardian).then_some("Kontaktperson"), "active": true,
        "joined_at": at, "left_at": null})
}

/// Case `n` of `cases`: held by professional `n % P` with a second professional from another service,
/// two guardians, one other contact; a consent of both guardians covering both services; level 1.
fn case_doc(n: usize, cases: usize, today: NaiveDate, now: DateTime<Utc>) -> Value {
    let p = professionals(cases);
    let (holder, second) = (n % p, (n % p + 1 + SERVICES.len() * (n / p)) % p);
    let opened = now - Duration::days(200);
    // Consent, level 1 and measures came 30 days ago; the log runs from opening until last week.
    let consented = now - Duration::days(30);
    let since = today - chrono::Days::new(30);
    let (child_id, born) = national_id(n, 2012, 10);
    let (mother_id, _) = national_id(2 * n, 1975, 20);
    let (father_id, _) = national_id(2 * n + 1, 1975, 20);
    let entries: Vec<Value> = (0..20)
        .map(|e| {
            let at = opened + Duration::days(10 * e as i64 + 1);
            let meeting = e % 4 == 0;
            let (author, name) = if e % 3 == 2 { ("p2", second) } else { ("p1", holder) };
            json!({"id": format!("e{e}"), "kind": if meeting { "meeting" } else { "note" }, "occurred_at": at,
                "title": format!("Notat {e}"),
                "body": "Samtale med foreldrene om trivsel, språk og vennskap i barnehagen og hjemme. Avtalt å følge opp.",
                "attendees": if meeting { json!(["g1", "g2"]) } else { json!([]) },
                "decisions": null, "next_meeting": null, "corrects": null,
                "author": author, "author_name": format!("Fagperson {name}"), "recorded_at": at})
        })
        .collect();
    let measure = |id: &str, title: &str, responsible: Value, state: &str| {
        json!({"id": id, "title": title, "goal": "Bedre trivsel", "description": null, "responsible": responsible,
            "start_date": since, "evaluate_by": today + chrono::Days::new(42),
            "state": state, "created_by_user": user_id(holder), "created_at": consented})
    };
    json!({
        "format": "stafettlogg.case/1",
        "case": {"id": "c", "external_refs": [{"system": "bench", "id": format!("sak-{n}")}],
            "opened_in_service": service_of(holder),
            "subject": {"kind": "child", "given_name": format!("Barn{n}"), "family_name": "Testesen",
                "birth_date": born, "national_id": child_id},
            "concern": "Bekymring for språkutvikling og trivsel.", "status": "open", "level": 1, "decision_due": null,
            "opened_at": opened, "opened_by": user_id(holder), "closed_at": null, "close_reason": null, "close_note": null},
        "participants": [
            professional("p1", holder, opened),
            professional("p2", second, opened),
            person("g1", "guardian", "Mor Testesen", Some("mother"), Some(mother_id), opened),
            person("g2", "guardian", "Far Testesen", Some("father"), Some(father_id), opened),
            person("o1", "other", "Besteforelder", None, None, opened),
        ],
        "holder": "p1",
        "consents": [{"id": "k1", "given_by": ["g1", "g2"], "services": [service_of(holder), service_of(second)],
            "purpose": "Samarbeid", "valid_from": since, "valid_until": since + chrono::Days::new(364),
            "form": "written", "document_ref": null, "supersedes": null, "superseded_at": null,
            "recorded_by_user": user_id(holder), "recorded_by_name": format!("Fagperson {holder}"),
            "recorded_at": consented, "withdrawn_at": null, "withdrawn_by": null, "withdrawal_reason": null}],
        "measures": [
            measure("m1", "Språkgruppe", json!({"kind": "participant", "participant_id": "p1"}), "active"),
            measure("m2", "Samtaler", json!({"kind": "participant", "participant_id": "p2"}), "active"),
            measure("m3", "Lesestund", json!({"kind": "subject"}), "planned"),
        ],
        "level_changes": [{"id": "l1", "from_level": 0, "to_level": 1, "reason": "Samtykke gitt",
            "decided_on": since, "recorded_at": consented, "recorded_by": "p1",
            "recorded_by_name": format!("Fagperson {holder}")}],
        "entries": entries
    })
}
