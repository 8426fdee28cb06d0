//! Import benchmark: 10,000 generated cases (3 participants, 1 consent, 2 measures, 10 log entries each)
//! through `POST /api/v1/imports`, with the database on the same machine. Prints cases per second.
//!
//!     cargo bench --bench import            # 10,000 cases
//!     CASES=2000 cargo bench --bench import # fewer
//!
//! Uses `BENCH_DATABASE_URL` (a server URL without database name) when set, else a throwaway cluster.

use std::net::TcpListener;
use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use serde_json::json;
use stafettlogg::auth::jwt::JwtSettings;
use stafettlogg::auth::Role;

/// Builds a URL for a database name on the benchmark server.
type UrlFor = Box<dyn Fn(&str) -> String>;

fn doc(n: usize, today: chrono::NaiveDate) -> serde_json::Value {
    let at = chrono::Utc::now();
    let nid = |k: u32| {
        (0..)
            .find_map(|i| {
                stafettlogg::national_id::synthetic(
                    1 + k % 28,
                    1 + (k / 28) % 12,
                    10 + k % 7,
                    (k * 7 + i) % 1000,
                )
            })
            .unwrap()
    };
    let entries: Vec<_> = (0..10)
        .map(|e| {
            json!({"id": format!("e{e}"), "kind": if e % 3 == 0 { "meeting" } else { "note" }, "occurred_at": at,
                "title": format!("Notat {e}"), "body": "Samtale med foreldrene om trivsel i barnehagen og hjemme.",
                "attendees": if e % 3 == 0 { json!(["g1", "g2"]) } else { json!([]) },
                "author": "p1", "author_name": "Ola Nordmann", "recorded_at": at})
        })
        .collect();
    json!({
        "format": "stafettlogg.case/1",
        "case": {"id": "c", "external_refs": [{"system": "bench", "id": format!("sak-{n}")}], "opened_in_service": "barnehage-a",
            "subject": {"kind": "child", "given_name": format!("Barn{n}"), "family_name": "Testesen", "birth_date": "2020-01-01",
                "national_id": nid(n as u32)},
            "concern": "Bekymring for språkutvikling.", "status": "open", "level": 1, "decision_due": null,
            "opened_at": at, "opened_by": "ola", "closed_at": null, "close_reason": null, "close_note": null},
        "participants": [
            {"id": "p1", "kind": "professional", "name": "Ola Nordmann", "user_id": "ola", "service": "barnehage-a", "title": null,
             "relation": null, "parental_responsibility": null, "national_id": null, "email": null, "phone": null, "role": null,
             "active": true, "joined_at": at, "left_at": null},
            {"id": "g1", "kind": "guardian", "name": "Mor", "user_id": null, "service": null, "title": null, "relation": "mother",
             "parental_responsibility": true, "national_id": nid(n as u32 + 20000), "email": null, "phone": null, "role": null,
             "active": true, "joined_at": at, "left_at": null},
            {"id": "g2", "kind": "guardian", "name": "Far", "user_id": null, "service": null, "title": null, "relation": "father",
             "parental_responsibility": true, "national_id": null, "email": null, "phone": null, "role": null,
             "active": true, "joined_at": at, "left_at": null}
        ],
        "holder": "p1",
        "consents": [{"id": "k1", "given_by": ["g1", "g2"], "services": ["barnehage-a"], "purpose": "Samarbeid",
            "valid_from": today, "valid_until": today + chrono::Days::new(365), "form": "written", "document_ref": null,
            "supersedes": null, "superseded_at": null, "recorded_by_user": "ola", "recorded_by_name": "Ola Nordmann",
            "recorded_at": at, "withdrawn_at": null, "withdrawn_by": null, "withdrawal_reason": null}],
        "measures": [
            {"id": "m1", "title": "Språkgruppe", "goal": "Flere ord", "description": null, "responsible": {"kind": "participant", "participant_id": "p1"},
             "start_date": today, "evaluate_by": today + chrono::Days::new(42), "state": "active", "created_by_user": "ola", "created_at": at},
            {"id": "m2", "title": "Lesestund", "goal": "Ro", "description": null, "responsible": {"kind": "subject"},
             "start_date": today, "evaluate_by": today + chrono::Days::new(42), "state": "planned", "created_by_user": "ola", "created_at": at}
        ],
        "level_changes": [{"id": "l1", "from_level": 0, "to_level": 1, "reason": "Samtykke gitt", "decided_on": today,
            "recorded_at": at, "recorded_by": "p1", "recorded_by_name": "Ola Nordmann"}],
        "entries": entries
    })
}

fn main() {
    let cases: usize = std::env::var("CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let (cluster, url_for): (Option<stafettlogg::db::embedded::Cluster>, UrlFor) =
        match std::env::var("BENCH_DATABASE_URL") {
            Ok(base) => (
                None,
                Box::new(move |db: &str| format!("{}/{db}", base.trim_end_matches('/'))),
            ),
            Err(_) => {
                let c = stafettlogg::db::embedded::Cluster::start_throwaway()
                    .expect("a throwaway cluster");
                let u = c.url("DBNAME");
                (Some(c), Box::new(move |db: &str| u.replace("DBNAME", db)))
            }
        };
    let name = format!("bench_{}", std::process::id());
    PgConnection::establish(&url_for("postgres"))
        .unwrap()
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let db_url = url_for(&name);
    stafettlogg::db::migrate::run_migrations(&db_url).unwrap();

    let secret = b"bench-secret-bench-secret-bench-secret!!".to_vec();
    let jwt = JwtSettings::development(&secret);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let ctx = stafettlogg::AppContext {
        pool: stafettlogg::db::pool::build_pool(&db_url, 8),
        jwt: jwt.clone(),
        national_id_key: stafettlogg::national_id::NationalIdKey::from_bytes(&[9u8; 32]).unwrap(),
        body_limit: 1024 * 1024,
        import_limit: 8 * 1024 * 1024,
        workers: 2,
        cors_origins: vec![],
        metrics_listener: None,
        listen_url: None,
        delivery: Default::default(),
        // The benchmark is one caller sending as fast as it can: it measures the service, not its limits.
        rate_limits: stafettlogg::http::rate_limit::RateLimits::off(),
    };
    std::thread::spawn(move || {
        actix_web::rt::System::new()
            .block_on(async move { stafettlogg::serve(listener, ctx).unwrap().await.unwrap() })
    });
    std::thread::sleep(std::time::Duration::from_millis(300));

    let admin = jwt
        .mint(&jwt.dev_claims(
            "3805",
            "admin",
            "Admin",
            vec![Role::Admin],
            vec![],
            None,
            3600,
        ))
        .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let res = agent
        .post(&format!("{base}/api/v1/services"))
        .header("Authorization", &format!("Bearer {admin}"))
        .content_type("application/json")
        .send(
            json!({"code": "barnehage-a", "name": "Barnehage A", "kind": "barnehage"})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);

    let today = stafettlogg::clock::today();
    let file =
        std::env::temp_dir().join(format!("stafettlogg-bench-{}.ndjson", std::process::id()));
    let body: Vec<String> = (0..cases).map(|n| doc(n, today).to_string()).collect();
    std::fs::write(&file, body.join("\n")).unwrap();
    let token = jwt
        .mint(&jwt.dev_claims(
            "3805",
            "flytt",
            "Flytting",
            vec![Role::Integration],
            vec!["barnehage-a".into()],
            None,
            3600,
        ))
        .unwrap();

    for (round, expect) in [
        ("first run (creates)", "created"),
        ("second run (unchanged)", "unchanged"),
    ] {
        let env = |k: &str, d: usize| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(d)
        };
        let opts = stafettlogg::jobs::import::Options {
            batch_lines: env("BATCH", 250),
            concurrency: env("CONCURRENCY", 4),
            progress: false,
            ..Default::default()
        };
        let started = Instant::now();
        let summary = stafettlogg::jobs::import::run(&file, &base, &token, &opts).unwrap();
        let secs = started.elapsed().as_secs_f64();
        assert!(
            summary.failed.is_empty(),
            "{:?}",
            &summary.failed[..summary.failed.len().min(3)]
        );
        let n = if expect == "created" {
            summary.created
        } else {
            summary.unchanged
        };
        assert_eq!(n, cases);
        println!(
            "import {round}: {cases} cases in {secs:.2} s = {:.0} cases/s",
            cases as f64 / secs
        );
    }
    std::fs::remove_file(&file).ok();
    drop(cluster);
}
