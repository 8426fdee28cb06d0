//! Several instances of the service on one database, one truth. The second instance is the real binary in
//! a process of its own (its own pool, caches and listener), beside the test's in-process server. The
//! race tests release their requests together (a barrier) and record when each was sent and answered, and
//! assert that all were in flight at one moment: a race that ran one request after the other proves
//! nothing.

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Method, Response};
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use stafettlogg::changes::handlers::POLL_EVERY_WHEN_LISTENING;

use crate::family::{family, Family, BARNEHAGE};
use crate::retention::close;
use crate::support::{binary, owner_command, process_log, TestApp, SECRET};

/// Base64 of the national-id key the test servers use ([42; 32]).
const NATIONAL_ID_KEY: &str = "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=";

/// `stafettlogg serve` on the test's database, killed when dropped. It is a [`TestApp`] whose requests go to
/// this process.
pub struct Instance {
    child: Child,
    app: TestApp,
    log: PathBuf,
}

impl std::ops::Deref for Instance {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

impl Instance {
    pub async fn start(app: &TestApp) -> Instance {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // With the run's other logs, which the log check scans (the plain lines saying where it listens
        // included).
        let (log, stderr) = process_log("serve");
        let mut cmd = binary();
        if app.service_db_url != app.db_url {
            cmd.env("DATABASE_APP_URL", &app.service_db_url);
        }
        let child = cmd
            .arg("serve")
            .env("DATABASE_URL", &app.db_url)
            .env("JWT_HS256_SECRET", std::str::from_utf8(SECRET).unwrap())
            .env("NATIONAL_ID_KEY", NATIONAL_ID_KEY)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_POOL_SIZE", "4")
            .env("LOG_FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start a second instance");
        let mut instance = Instance {
            child,
            app: TestApp {
                base: format!("http://127.0.0.1:{port}"),
                client: reqwest::Client::new(),
                db_url: app.db_url.clone(),
                service_db_url: app.service_db_url.clone(),
                jwt: app.jwt.clone(),
                owned_database: None,
            },
            log,
        };
        instance.wait_ready().await;
        instance
    }

    async fn wait_ready(&mut self) {
        let started = Instant::now();
        loop {
            let ready = self
                .request(Method::GET, "/health/ready", None)
                .send()
                .await;
            if ready.is_ok_and(|res| res.status() == 200) {
                return;
            }
            let exited = self.child.try_wait().unwrap();
            assert!(
                exited.is_none() && started.elapsed() < Duration::from_secs(60),
                "the second instance did not become ready ({exited:?}):\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A request without a token (the public guide).
    async fn public(&self, path: &str) -> Response {
        self.request(Method::GET, path, None).send().await.unwrap()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A family case on the in-process server, and a second instance (the binary) on its database.
async fn two_instances() -> (Family, Instance) {
    let f = family().await;
    let b = Instance::start(&f.app).await;
    (f, b)
}

#[actix_web::test]
async fn rule_6_accepts_on_one_instance_racing_cancels_on_the_other_leave_exactly_one_holder() {
    let (f, b) = two_instances().await;
    let app = &f.app;
    let kari = app.token("3805", "kari", &[Role::Professional], &[BARNEHAGE]);
    let mut outcomes = std::collections::BTreeMap::new();
    let mut overlaps = Vec::new();
    for round in 0..6 {
        let case = app
            .open_case(&f.ola, BARNEHAGE, &format!("Barn{round}"))
            .await;
        let id = case["id"].as_str().unwrap().to_string();
        let res = app.post(&format!("/api/v1/cases/{id}/handovers"), &f.ola,
            &json!({"to": {"user_id": "kari", "name": "Kari", "service": BARNEHAGE}, "reason": "other"})).await;
        assert_eq!(res.status(), 201);
        let hid = res.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let accept = format!("/api/v1/cases/{id}/handovers/{hid}/accept");
        let cancel = format!("/api/v1/cases/{id}/handovers/{hid}/cancel");
        let barrier = tokio::sync::Barrier::new(RACERS);
        let requests = (0..RACERS).map(|i| {
            let (accept, cancel, kari, ola, b) = (&accept, &cancel, &kari, &f.ola, &b);
            let barrier = &barrier;
            async move {
                barrier.wait().await;
                let sent = Instant::now();
                let res = if i % 2 == 0 {
                    app.post(accept, kari, &json!({})).await
                } else {
                    b.post(cancel, ola, &json!({})).await
                };
                ((i % 2 == 0, res.status().as_u16()), (sent, Instant::now()))
            }
        });
        let (answers, spans): (Vec<_>, Vec<_>) = futures_util::future::join_all(requests)
            .await
            .into_iter()
            .unzip();
        let overlap = in_flight_together(&spans);
        assert!(
            overlap.is_some(),
            "round {round}: the requests did not overlap: {}",
            spans_ms(&spans)
        );
        overlaps.push(overlap.unwrap());
        let winners: Vec<_> = answers.iter().filter(|(_, s)| *s == 200).collect();
        assert_eq!(winners.len(), 1, "round {round}: {answers:?}");
        assert!(
            answers.iter().all(|(_, s)| matches!(s, 200 | 409)),
            "{answers:?}"
        );
        let accepted = winners[0].0;
        *outcomes
            .entry(if accepted { "accepted" } else { "cancelled" })
            .or_insert(0) += 1;
        let holder = if accepted { "kari" } else { "ola" };
        assert_eq!(app.count(&format!(
            "cases c JOIN case_participants p ON p.id = c.holder_participant_id WHERE c.id = '{id}' AND p.user_id = '{holder}' AND p.active")), 1);
        assert_eq!(
            app.count(&format!(
                "holder_periods WHERE case_id = '{id}' AND upper_inf(period)"
            )),
            1
        );
        assert_eq!(app.count(&format!(
            "holder_periods a JOIN holder_periods b ON a.case_id = b.case_id AND a.period <> b.period AND a.period && b.period \
             WHERE a.case_id = '{id}'")), 0, "overlap");
    }
    eprintln!(
        "two instances, 6 rounds of {RACERS} requests, accept (A) against cancel (B): {outcomes:?}; \
         all in flight together for {overlaps:?}"
    );
}

/// Requests of one round of a race: half accept on A, half cancel on B.
const RACERS: usize = 10;

/// How long every request of a race was in flight at once (from the last one sent to the first answer),
/// given when each was sent and answered; `None` when some request was answered before another was sent.
fn in_flight_together(spans: &[(Instant, Instant)]) -> Option<Duration> {
    let last_sent = spans.iter().map(|s| s.0).max()?;
    let first_answered = spans.iter().map(|s| s.1).min()?;
    (last_sent < first_answered).then(|| first_answered - last_sent)
}

/// Each request's [sent, answered] in milliseconds since the first was sent, for a failure message.
fn spans_ms(spans: &[(Instant, Instant)]) -> String {
    let Some(first) = spans.iter().map(|s| s.0).min() else {
        return "no requests".into();
    };
    let ms = |t: Instant| (t - first).as_secs_f64() * 1000.0;
    let each: Vec<String> = spans
        .iter()
        .map(|(sent, answered)| format!("[{:.1}, {:.1}]", ms(*sent), ms(*answered)))
        .collect();
    format!("sent and answered (ms): {}", each.join(" "))
}

/// The feed's position right now.
fn feed_end(app: &TestApp) -> i64 {
    app.count("change_events")
}

/// An entry written through instance `on`.
async fn write_entry_on(on: &Instance, f: &Family, body: &str) {
    let res = on
        .post(
            &f.path("/entries"),
            &f.ola,
            &json!({"kind": "note", "occurred_at": chrono::Utc::now(), "body": body}),
        )
        .await;
    assert_eq!(res.status(), 201);
}

/// A long poll on `b`, answered: how long it took, and the page.
async fn long_poll(b: &Instance, token: &str, after: i64, wait: u64) -> (Duration, Value) {
    let started = Instant::now();
    let res = b
        .get(&format!("/api/v1/changes?after={after}&wait={wait}"), token)
        .await;
    assert_eq!(res.status(), 200);
    (started.elapsed(), res.json().await.unwrap())
}

#[actix_web::test]
async fn a_long_poll_on_one_instance_returns_when_the_other_writes_and_a_lost_notification_costs_only_time(
) {
    // Two binaries on the test's database: B waits, C writes (each listens, as in production).
    let (f, b) = two_instances().await;
    let c = Instance::start(&f.app).await;
    let integration = f
        .app
        .token("3805", "arkiv", &[Role::Integration], &[BARNEHAGE]);
    let wait = 20;

    let after = feed_end(&f.app);
    let poll = long_poll(&b, &integration, after, wait);
    let write = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        write_entry_on(&c, &f, "Skrevet på den andre instansen").await;
    };
    let ((took, page), ()) = tokio::join!(poll, write);
    assert!(page["next_after"].as_i64().unwrap() > after, "{page}");
    // Its next look of its own would come after POLL_EVERY_WHEN_LISTENING: only C's notification of its
    // commit answers it sooner.
    assert!(
        took < POLL_EVERY_WHEN_LISTENING,
        "woken by the notification: {took:?}"
    );
    eprintln!("long poll on B woken by a write on C after {took:?} (the write came at 0.5 s)");

    // A change event nobody notifies (written straight into the database): the waiter still finds it
    // by its own look.
    let after = feed_end(&f.app);
    let poll = long_poll(&b, &integration, after, wait);
    let write = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        diesel::connection::SimpleConnection::batch_execute(
            &mut f.app.db(),
            &format!(
                "WITH counter AS (UPDATE feed_counters SET last_seq = last_seq + 1 \
                     WHERE municipality = '3805' RETURNING last_seq) \
                 INSERT INTO change_events (seq, municipality, case_id, type) \
                 SELECT last_seq, '3805', '{}', 'entry.added' FROM counter",
                f.case_id
            ),
        )
        .unwrap();
    };
    let ((took, page), ()) = tokio::join!(poll, write);
    assert!(page["next_after"].as_i64().unwrap() > after, "{page}");
    assert!(
        took >= POLL_EVERY_WHEN_LISTENING,
        "found by its own look: {took:?}"
    );
    assert!(took < Duration::from_secs(wait), "{took:?}");
    eprintln!("long poll on B without a notification found the write by polling after {took:?}");
}

#[actix_web::test]
async fn a_notification_storm_neither_starves_requests_nor_ends_a_long_poll_early() {
    let (f, b) = two_instances().await;
    let integration = f
        .app
        .token("3805", "arkiv", &[Role::Integration], &[BARNEHAGE]);
    let after = feed_end(&f.app);
    let db_url = f.app.db_url.clone();
    // For 2.5 s: bursts of 20,000 distinct notifications in one transaction, and 200 transactions
    // each waking 3805 itself, the municipality B's long poll waits for.
    let storm = actix_web::rt::task::spawn_blocking(move || {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        let mut conn = diesel::PgConnection::establish(&db_url).unwrap();
        let started = Instant::now();
        let mut sent = 0u64;
        while started.elapsed() < Duration::from_millis(2500) {
            conn.batch_execute(
                "SELECT pg_notify('stafettlogg_changes', 'x' || g) FROM generate_series(1, 20000) g",
            )
            .unwrap();
            for _ in 0..200 {
                conn.batch_execute("SELECT pg_notify('stafettlogg_changes', '3805')")
                    .unwrap();
            }
            sent += 20_200;
        }
        sent
    });
    let poll = long_poll(&b, &integration, after, 3);
    let reads = async {
        let mut slowest = Duration::ZERO;
        for _ in 0..20 {
            let started = Instant::now();
            let res = b.get(&format!("/api/v1/cases/{}", f.case_id), &f.ola).await;
            assert_eq!(res.status(), 200);
            // Not a speed target: a starved request would wait for the storm to end (seconds).
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{:?}",
                started.elapsed()
            );
            slowest = slowest.max(started.elapsed());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        slowest
    };
    let ((took, page), slowest) = tokio::join!(poll, reads);
    let sent = storm.await.unwrap();
    // Nothing was written: the long poll waits out its time, however often it was woken.
    assert_eq!(page["next_after"].as_i64().unwrap(), after, "{page}");
    assert!(page["items"].as_array().unwrap().is_empty());
    assert!(took >= Duration::from_secs(3), "{took:?}");
    eprintln!("storm of {sent} notifications in 2.5 s: 20 reads on B all 200, slowest {slowest:?}; long poll answered after {took:?}");
    // And a real write still wakes it.
    let (poll, ()) = tokio::join!(
        long_poll(&b, &integration, after, 10),
        write_entry_on(&b, &f, "Etter stormen")
    );
    assert!(poll.1["next_after"].as_i64().unwrap() > after);
}

#[actix_web::test]
async fn an_idempotency_key_used_on_one_instance_is_replayed_by_the_other() {
    let (f, b) = two_instances().await;
    let body =
        json!({"kind": "note", "occurred_at": "2026-11-27T08:00:00Z", "body": "Bare én gang"});
    let send = |rb: reqwest::RequestBuilder| {
        rb.header("idempotency-key", "instanser-1")
            .json(&body)
            .send()
    };
    let first = send(
        f.app
            .request(Method::POST, &f.path("/entries"), Some(&f.ola)),
    )
    .await
    .unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = send(b.request(Method::POST, &f.path("/entries"), Some(&f.ola)))
        .await
        .unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(
        f.app.count(&format!(
            "log_entries WHERE case_id = '{}' AND body = 'Bare én gang'",
            f.case_id
        )),
        1
    );
}

#[actix_web::test]
async fn a_guide_published_on_one_instance_is_served_by_the_other_within_its_max_age() {
    let (f, b) = two_instances().await;
    let path = "/public/v1/municipalities/3805/guide";
    let before: Value = b.public(path).await.json().await.unwrap();
    let cached = Instant::now();
    // B has it cached now, for FRESH_FOR; A publishes a new version.
    let mut doc = crate::guide::default_document(&f.app).await;
    doc["levels"][0]["steps"][0]["title"]["nb"] = json!("Legg merke til det som uroer deg");
    let version = crate::guide::publish(&f.app, "3805", &doc).await;
    assert_ne!(before["version"].as_i64().unwrap(), version);
    let published = Instant::now();
    let max_age = Duration::from_secs(u64::from(stafettlogg::guide::cache::MAX_AGE_SECONDS));
    loop {
        let res = b.public(path).await;
        let guide: Value = res.json().await.unwrap();
        if guide["version"].as_i64() == Some(version) {
            // Before B's entry would have expired on its own: the notification dropped it.
            assert!(cached.elapsed() < stafettlogg::guide::cache::FRESH_FOR);
            assert_eq!(
                guide["levels"][0]["steps"][0]["title"],
                "Legg merke til det som uroer deg"
            );
            break;
        }
        assert!(
            published.elapsed() < max_age,
            "B still serves version {} after {max_age:?}",
            guide["version"]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "B served the guide published on A after {:?}",
        published.elapsed()
    );
}

#[actix_web::test]
async fn two_purges_at_once_do_the_work_once() {
    let f = family().await;
    close(&f).await;
    diesel::connection::SimpleConnection::batch_execute(
        &mut f.app.db(),
        &format!(
            "UPDATE cases SET closed_at = closed_at - interval '11 years' WHERE id = '{}'; \
             UPDATE municipalities SET purge_unarchived = true WHERE number = '3805'",
            f.case_id
        ),
    )
    .unwrap();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let db_url = f.app.db_url.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let started = Instant::now();
                let said = owner_command(&db_url, &["purge"]);
                (said, (started, Instant::now()))
            })
        })
        .collect();
    let (said, spans): (Vec<(bool, String)>, Vec<_>) =
        runs.into_iter().map(|r| r.join().unwrap()).unzip();
    let overlap = in_flight_together(&spans);
    assert!(
        overlap.is_some(),
        "the two purges ran one after the other: {}",
        spans_ms(&spans)
    );
    eprintln!("two purges ran together for {:?}", overlap.unwrap());
    assert!(said.iter().all(|(ok, _)| *ok), "{said:?}");
    let erased: Vec<bool> = said
        .iter()
        .map(|(_, s)| s.contains("erased the personal data of 1 case(s)"))
        .collect();
    assert_eq!(erased.iter().filter(|e| **e).count(), 1, "{said:?}");
    assert!(
        said.iter()
            .any(|(_, s)| s.contains("erased 0 case(s) in all")),
        "{said:?}"
    );
    assert_eq!(
        f.app.count(&format!(
            "access_events WHERE case_id = '{}' AND action = 'purge'",
            f.case_id
        )),
        1
    );
    assert_eq!(
        f.app.count(&format!(
            "change_events WHERE case_id = '{}' AND type = 'case.purged'",
            f.case_id
        )),
        1
    );
}
