//! Row-level security per municipality, the wall behind the access checks: the server acts as the service
//! role, which PostgreSQL itself keeps to the municipality its transaction names. These tests send SQL the
//! code would never send (no `municipality` filter, rows of another municipality) through the service's
//! own pool and transaction helper, and start the binary with logins it must refuse or warn about.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use diesel::connection::{InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use serde_json::json;
use stafettlogg::auth::Role;
use stafettlogg::db;
use stafettlogg::db::session::Municipality;
use stafettlogg::http::error::AppError;

use crate::support::{binary, TestApp};

const LARVIK: &str = "3805";
const TROMSO: &str = "5401";

fn m(number: &str) -> Municipality {
    Municipality::parse(number).unwrap()
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql_from: &str) -> Result<i64, AppError> {
    Ok(
        diesel::sql_query(format!("SELECT count(*) AS n FROM {sql_from}"))
            .get_result::<N>(conn)?
            .n,
    )
}

/// Two municipalities with a case each (Larvik two), written through the API.
async fn two_municipalities() -> (TestApp, Vec<String>) {
    let app = TestApp::spawn().await;
    app.service(LARVIK, "barnehage-solstua", "barnehage").await;
    app.service(TROMSO, "skole-tromsdalen", "skole").await;
    let ola = app.token(LARVIK, "ola", &[Role::Professional], &["barnehage-solstua"]);
    let kari = app.token(TROMSO, "kari", &[Role::Professional], &["skole-tromsdalen"]);
    let mut ids = Vec::new();
    for (token, service, name) in [
        (&ola, "barnehage-solstua", "Emma"),
        (&ola, "barnehage-solstua", "Jakob"),
        (&kari, "skole-tromsdalen", "Nora"),
    ] {
        let case = app.open_case(token, service, name).await;
        let id = case["id"].as_str().unwrap().to_string();
        let res = app
            .post(
                &format!("/api/v1/cases/{id}/entries"),
                token,
                &json!({"kind": "note", "occurred_at": chrono::Utc::now(), "body": "Samtale med barnet."}),
            )
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        ids.push(id);
    }
    (app, ids)
}

/// The tables the policies guard, from the database.
fn guarded_tables(app: &TestApp) -> Vec<String> {
    #[derive(QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    diesel::sql_query(
        "SELECT tablename::text AS name FROM pg_policies \
         WHERE schemaname = 'public' AND policyname = 'one_municipality' ORDER BY 1",
    )
    .load::<T>(&mut app.db())
    .unwrap()
    .into_iter()
    .map(|t| t.name)
    .collect()
}

#[actix_web::test]
async fn a_query_that_forgets_the_municipality_filter_sees_only_the_municipality_of_its_transaction(
) {
    let (app, _) = two_municipalities().await;
    // The service's own pool: its login, its session settings (the service role), its transaction helper.
    let pool = db::pool::build_pool(&app.service_db_url, 1);
    let mut conn = db::pool::checkout(&pool).unwrap();
    let in_larvik = db::in_municipality(&mut conn, m(LARVIK), |c| count(c, "cases")).unwrap();
    let in_tromso = db::in_municipality(&mut conn, m(TROMSO), |c| count(c, "cases")).unwrap();
    assert_eq!((in_larvik, in_tromso), (2, 1));
    assert_eq!(app.count("cases"), 3, "the superuser sees both");
    // No municipality named: nothing at all.
    assert_eq!(count(&mut conn, "cases").unwrap(), 0);
    // A municipality without data sees nothing either.
    let in_oslo = db::in_municipality(&mut conn, m("0301"), |c| count(c, "cases")).unwrap();
    assert_eq!(in_oslo, 0);

    // Every guarded table: what each municipality sees adds up to everything, and nothing is seen outside.
    let tables = guarded_tables(&app);
    assert!(tables.len() >= 18, "{tables:?}");
    // The access log's monthly partitions are reached through their parent only (where its policy
    // applies): the service's role may not name one.
    let (partitions, tables): (Vec<_>, Vec<_>) = tables.iter().partition(|t| {
        app.count(&format!(
            "pg_class WHERE relname = '{t}' AND relispartition"
        )) == 1
    });
    assert!(
        partitions.contains(&&"access_events_default".to_string()),
        "{partitions:?}"
    );
    for p in &partitions {
        let refused = db::in_municipality(&mut conn, m(LARVIK), |c| count(c, p));
        assert!(refused.is_err(), "{p}");
    }
    for table in tables {
        let total = app.count(table);
        let larvik = db::in_municipality(&mut conn, m(LARVIK), |c| count(c, table)).unwrap();
        let tromso = db::in_municipality(&mut conn, m(TROMSO), |c| count(c, table)).unwrap();
        assert_eq!(larvik + tromso, total, "{table}: {larvik} + {tromso}");
        assert_eq!(
            count(&mut conn, table).unwrap(),
            0,
            "{table} without a municipality"
        );
    }
    for table in [
        "cases",
        "case_participants",
        "log_entries",
        "access_events",
        "holder_periods",
        "services",
        "municipalities",
    ] {
        let tromso = db::in_municipality(&mut conn, m(TROMSO), |c| count(c, table)).unwrap();
        assert!(tromso > 0 && tromso < app.count(table), "{table}: {tromso}");
    }

    // The setting ends with the transaction: the pooled connection carries nothing into the next one.
    let after = db::in_municipality(&mut conn, m(LARVIK), |c| count(c, "cases"))
        .and_then(|_| count(&mut conn, "cases"))
        .unwrap();
    assert_eq!(after, 0);
}

#[actix_web::test]
async fn writing_a_row_of_another_municipality_is_refused_and_changing_one_finds_nothing() {
    let (app, ids) = two_municipalities().await;
    let tromso_case = &ids[2];
    let pool = db::pool::build_pool(&app.service_db_url, 1);
    let mut conn = db::pool::checkout(&pool).unwrap();
    // What PostgreSQL says to a write in a Larvik transaction (the error the API would log).
    let mut write_in_larvik = |sql: &str| -> String {
        let mut said = String::new();
        let result = db::in_municipality(&mut conn, m(LARVIK), |c| {
            c.batch_execute(sql).map_err(|e| {
                said = e.to_string();
                AppError::from(e)
            })
        });
        assert!(result.is_err(), "{sql}");
        said
    };

    // A service of Tromsø.
    let insert_service = format!(
        "INSERT INTO services (id, municipality, code, name, kind) \
         VALUES ('{}', '{TROMSO}', 'ppt-x', 'PPT', 'ppt')",
        uuid::Uuid::now_v7()
    );
    let said = write_in_larvik(&insert_service);
    assert!(
        said.contains("violates row-level security policy"),
        "{said}"
    );
    // A participant on Tromsø's case: naming Tromsø, the policy refuses it; naming no municipality (the
    // row takes the transaction's), the foreign key to its case's municipality does.
    let participant = |municipality: &str| {
        format!(
            "INSERT INTO case_participants (id, case_id, kind, name, user_id, service{}) \
             VALUES ('{}', '{tromso_case}', 'professional', 'Inntrenger', 'x', 'barnehage-solstua'{})",
            if municipality.is_empty() { "" } else { ", municipality" },
            uuid::Uuid::now_v7(),
            if municipality.is_empty() { String::new() } else { format!(", '{municipality}'") },
        )
    };
    let said = write_in_larvik(&participant(TROMSO));
    assert!(
        said.contains("violates row-level security policy"),
        "{said}"
    );
    let said = write_in_larvik(&participant(""));
    assert!(
        said.contains("violates foreign key constraint \"case_participants_case_municipality\""),
        "{said}"
    );
    // Moving a Larvik case to Tromsø is a write of a Tromsø row.
    let said = write_in_larvik(&format!(
        "UPDATE cases SET municipality = '{TROMSO}' WHERE id = '{}'",
        ids[0]
    ));
    assert!(
        said.contains("violates row-level security policy"),
        "{said}"
    );
    // Changing Tromsø's case from Larvik, without a municipality filter, finds no row.
    let changed = db::in_municipality(&mut conn, m(LARVIK), |c| {
        Ok(diesel::sql_query(format!(
            "UPDATE cases SET concern = 'endret' WHERE id = '{tromso_case}'"
        ))
        .execute(c)?)
    })
    .unwrap();
    assert_eq!(changed, 0);
    // Outside any municipality nothing can be written.
    let e = conn
        .batch_execute(&insert_service.replace("ppt-x", "ppt-y"))
        .unwrap_err();
    assert!(e.to_string().contains("row-level security"), "{e}");

    // And nothing of that was written.
    assert_eq!(app.count("services"), 2);
    assert_eq!(app.count("case_participants WHERE name = 'Inntrenger'"), 0);
    assert_eq!(app.count("cases WHERE concern = 'endret'"), 0);
    assert_eq!(
        app.count(&format!("cases WHERE municipality = '{TROMSO}'")),
        1
    );
}

#[actix_web::test]
async fn the_api_works_for_two_municipalities_each_seeing_only_its_own_under_the_service_role() {
    let (app, ids) = two_municipalities().await;
    let ola = app.token(LARVIK, "ola", &[Role::Professional], &["barnehage-solstua"]);
    let kari = app.token(TROMSO, "kari", &[Role::Professional], &["skole-tromsdalen"]);
    let listed = |v: serde_json::Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    };
    let larvik = listed(app.get("/api/v1/cases", &ola).await.json().await.unwrap());
    let tromso = listed(app.get("/api/v1/cases", &kari).await.json().await.unwrap());
    assert_eq!(larvik.len(), 2);
    assert_eq!(tromso, vec![ids[2].clone()]);
    for id in &ids[..2] {
        let res = app.get(&format!("/api/v1/cases/{id}/timeline"), &ola).await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            app.get(&format!("/api/v1/cases/{id}"), &kari)
                .await
                .status(),
            404
        );
    }
    let integration = app.token(
        TROMSO,
        "fagsystem",
        &[Role::Integration],
        &["skole-tromsdalen"],
    );
    let feed: serde_json::Value = app
        .get("/api/v1/changes?after=0", &integration)
        .await
        .json()
        .await
        .unwrap();
    let cases: Vec<&str> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["case_id"].as_str().unwrap())
        .collect();
    assert!(
        !cases.is_empty() && cases.iter().all(|c| *c == ids[2]),
        "{cases:?}"
    );
    assert_eq!(
        app.request(reqwest::Method::GET, "/health/ready", None)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // The server's connections act as the service role, not as the superuser that made the database.
    #[derive(QueryableByName)]
    struct Roles {
        #[diesel(sql_type = diesel::sql_types::Text)]
        acting: String,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        is_super: bool,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        bypass: bool,
    }
    let pool = db::pool::build_pool(&app.service_db_url, 1);
    let roles: Roles = diesel::sql_query(
        "SELECT current_user::text AS acting, rolsuper AS is_super, rolbypassrls AS bypass \
         FROM pg_roles WHERE rolname = current_user",
    )
    .get_result(&mut *db::pool::checkout(&pool).unwrap())
    .unwrap();
    assert_eq!(roles.acting, db::role::APP_ROLE);
    assert!(!roles.is_super && !roles.bypass);
}

/// Statements the connection sends, as diesel's instrumentation sees them start.
fn record_statements(conn: &mut PgConnection) -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let instrumentation = move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            sink.lock().unwrap().push(query.to_string());
        }
    };
    conn.set_instrumentation(instrumentation);
    seen
}

#[actix_web::test]
async fn naming_the_municipality_costs_no_round_trip_of_its_own() {
    let (app, ids) = two_municipalities().await;
    let mut conn = PgConnection::establish(&app.service_db_url).unwrap();
    conn.batch_execute(db::pool::SESSION_SETTINGS).unwrap();
    let seen = record_statements(&mut conn);
    let read = |c: &mut PgConnection| -> Result<i64, AppError> {
        count(c, &format!("cases WHERE id = '{}'", ids[0]))
    };

    // Diesel's own transaction: BEGIN, the read, COMMIT.
    let plain = conn.transaction(|c| read(c)).unwrap();
    let plain_statements = std::mem::take(&mut *seen.lock().unwrap());
    // The service's: the same three, the first of which also names the municipality.
    let scoped = db::in_municipality(&mut conn, m(LARVIK), read).unwrap();
    let scoped_statements = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(plain, 0, "without a municipality the case is not there");
    assert_eq!(scoped, 1);
    assert_eq!(plain_statements.len(), 3, "{plain_statements:?}");
    assert_eq!(
        scoped_statements.len(),
        plain_statements.len(),
        "{scoped_statements:?}"
    );
    assert_eq!(
        scoped_statements[0],
        "BEGIN; SET LOCAL app.municipality = '3805'"
    );
    assert_eq!(scoped_statements[2], "COMMIT");

    // A failing transaction rolls back in one statement too, and leaves the connection usable.
    let failed = db::in_municipality(&mut conn, m(LARVIK), |c| {
        read(c)?;
        Err::<(), _>(AppError::conflict("stop"))
    });
    assert!(failed.is_err());
    assert_eq!(seen.lock().unwrap().last().unwrap(), "ROLLBACK");
    assert_eq!(db::in_municipality(&mut conn, m(LARVIK), read).unwrap(), 1);
}

#[test]
fn a_municipality_is_exactly_four_ascii_digits_before_it_reaches_sql() {
    assert_eq!(m("0301").as_str(), "0301");
    for bad in ["", "380", "38055", "38a5", "3805'", "３８０５", "'; --"] {
        assert!(Municipality::parse(bad).is_none(), "{bad:?}");
    }
}

#[actix_web::test]
async fn every_table_is_guarded_per_municipality_but_the_global_ones_named_in_the_code() {
    let app = TestApp::spawn().await;
    #[derive(QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        guarded: bool,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        forced: bool,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        service_may_use: bool,
    }
    let tables: Vec<T> = diesel::sql_query(format!(
        "SELECT c.relname::text AS name, c.relrowsecurity AS guarded, c.relforcerowsecurity AS forced, \
         has_table_privilege('{}', c.oid, 'SELECT, INSERT, UPDATE, DELETE') AS service_may_use \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1",
        db::role::APP_ROLE
    ))
    .load(&mut app.db())
    .unwrap();
    let policies = guarded_tables(&app);
    let mut global = Vec::new();
    for t in &tables {
        if t.guarded {
            assert!(policies.contains(&t.name), "{} has no policy", t.name);
        } else {
            global.push(t.name.as_str());
        }
        // The owner (the migrations) is not bound by the policies; the service never is the owner.
        assert!(!t.forced, "{}", t.name);
    }
    let mut expected: Vec<&str> = db::role::TABLES_WITHOUT_ROW_SECURITY.to_vec();
    expected.push("__diesel_schema_migrations");
    expected.sort();
    assert_eq!(global, expected);
    let migrations = tables
        .iter()
        .find(|t| t.name == "__diesel_schema_migrations")
        .unwrap();
    assert!(
        !migrations.service_may_use,
        "the service cannot touch the migrations' history"
    );
}

#[actix_web::test]
async fn the_start_check_refuses_privileged_logins_and_unguarded_tables() {
    let app = TestApp::spawn().await;
    let (service_url, owner_url) = (app.service_db_url.clone(), app.db_url.clone());
    let checked = actix_web::rt::task::spawn_blocking(move || {
        (
            db::role::check_service_role(&service_url, "DATABASE_APP_URL", true),
            db::role::check_service_role(&owner_url, "DATABASE_APP_URL", true),
            db::role::check_service_role(&owner_url, "DATABASE_URL", false),
        )
    })
    .await
    .unwrap();
    let (service, owner_as_service, owner_shared) = checked;
    if std::env::var("TEST_DATABASE_URL").is_err() {
        // The throwaway cluster's service login is the service role itself.
        assert_eq!(service, Ok(None));
    }
    let refused = owner_as_service.unwrap_err();
    assert!(
        refused.contains("DATABASE_APP_URL logs in as") && refused.contains("must be restricted"),
        "{refused}"
    );
    let warning = owner_shared.unwrap().expect("a warning");
    assert!(
        warning.contains("RESET ROLE") && warning.contains("DATABASE_APP_URL"),
        "{warning}"
    );

    // An extension's views are not the service's tables: pg_auto_failover creates pg_stat_statements,
    // readable by everyone, in each database it manages.
    app.db()
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .unwrap();
    let url = app.db_url.clone();
    actix_web::rt::task::spawn_blocking(move || {
        db::role::check_service_role(&url, "DATABASE_URL", false)
    })
    .await
    .unwrap()
    .expect("an extension's views do not stop the start");

    // A table the service may use without a policy stops the start.
    app.db()
        .batch_execute(&format!(
            "CREATE TABLE notes_everyone_sees (municipality TEXT, body TEXT); \
             GRANT SELECT ON notes_everyone_sees TO {}",
            db::role::APP_ROLE
        ))
        .unwrap();
    let url = app.db_url.clone();
    let e = actix_web::rt::task::spawn_blocking(move || {
        db::role::check_service_role(&url, "DATABASE_URL", false)
    })
    .await
    .unwrap()
    .unwrap_err();
    assert!(
        e.contains("notes_everyone_sees") && e.contains("without row-level security"),
        "{e}"
    );
}

#[actix_web::test]
async fn a_login_with_bypassrls_is_refused_as_the_services_own() {
    let app = TestApp::spawn().await;
    let role = format!("bypass_{}", uuid::Uuid::now_v7().simple());
    // A password, so the login works on a server that asks for one (TEST_DATABASE_URL) as on the throwaway
    // cluster, which trusts its private socket and ignores it.
    let password = uuid::Uuid::now_v7().simple().to_string();
    app.db()
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD '{password}' BYPASSRLS IN ROLE {}",
            db::role::APP_ROLE
        ))
        .unwrap();
    let url = with_login(&app.db_url, &role, &password);
    let e = actix_web::rt::task::spawn_blocking(move || {
        db::role::check_service_role(&url, "DATABASE_APP_URL", true)
    })
    .await
    .unwrap();
    app.db()
        .batch_execute(&format!("DROP ROLE {role}"))
        .unwrap();
    let e = e.unwrap_err();
    assert!(e.contains("has BYPASSRLS"), "{e}");
}

/// `url` with its user and password replaced: `postgres://user:password@host/db?...`.
fn with_login(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let host_and_db = path.rsplit_once('@').map_or(path, |(_, h)| h);
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{scheme}://{user}:{password}@{host_and_db}{query}")
}

fn serve(app: &TestApp) -> Command {
    let mut c = binary();
    c.arg("serve")
        .env("DATABASE_URL", &app.db_url)
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("JWT_HS256_SECRET", "x".repeat(40))
        .env(
            "NATIONAL_ID_KEY",
            "c3RhZmV0dGxvZ2ctZGV2LWtleS1vbmx5LWZvci1kZXYhIQ==",
        )
        .stdin(Stdio::null());
    c
}

/// Starts `c` and reads its standard error up to the line saying it listens (or its end), draining the
/// rest in the background: a closed pipe would make the server's next log line fail.
fn start_until_listening(mut c: Command) -> (std::process::Child, Vec<String>) {
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    // Every line also goes to the run's logs, which the log check scans.
    let (_, mut log) = crate::support::process_log("serve");
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = std::io::Write::write_all(&mut log, format!("{line}\n").as_bytes());
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    while let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(90)) {
        let done = line.contains("listens on");
        lines.push(line);
        if done {
            break;
        }
    }
    (child, lines)
}

#[actix_web::test]
async fn the_binary_refuses_a_superuser_as_the_services_login() {
    let app = TestApp::spawn().await;
    let mut c = serve(&app);
    c.env("DATABASE_APP_URL", &app.db_url);
    let (code, stderr) = actix_web::rt::task::spawn_blocking(move || {
        // A server that starts anyway is stopped, not left running.
        let (mut child, lines) = start_until_listening(c);
        let _ = child.kill();
        let status = child.wait().unwrap();
        (status.code(), lines.join("\n"))
    })
    .await
    .unwrap();
    assert!(!stderr.contains("listens on"), "{stderr}");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("DATABASE_APP_URL logs in as") && stderr.contains("must be restricted"),
        "{stderr}"
    );
}

#[actix_web::test]
async fn the_binary_warns_when_one_privileged_url_serves_migrations_and_service() {
    let app = TestApp::spawn().await;
    let c = serve(&app);
    let lines = actix_web::rt::task::spawn_blocking(move || {
        let (mut child, lines) = start_until_listening(c);
        child.kill().unwrap();
        child.wait().unwrap();
        lines
    })
    .await
    .unwrap();
    let text = lines.join("\n");
    assert!(text.contains("listens on"), "it starts:\n{text}");
    assert!(
        lines.iter().any(|l| l.contains("WARN")
            && l.contains("RESET ROLE")
            && l.contains("DATABASE_APP_URL")),
        "{text}"
    );
}

/// The managed cluster of a `serve` without `DATABASE_URL`, stopped (SIGTERM: the binary stops the server,
/// then the cluster) and removed however the test ends.
struct Managed {
    child: std::process::Child,
    data_dir: std::path::PathBuf,
}

impl Drop for Managed {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

#[actix_web::test]
async fn the_managed_cluster_migrates_as_its_superuser_and_serves_as_the_service_role() {
    crate::support::logs();
    // Short and under /tmp: the socket path limit, and a directory the `postgres` user can reach as root.
    let data_dir = std::path::PathBuf::from(format!(
        "/tmp/stafettlogg-rls-{}",
        &uuid::Uuid::now_v7().simple().to_string()[24..]
    ));
    let mut c = binary();
    c.arg("serve")
        .env("DATA_DIR", &data_dir)
        .env("BIND_ADDR", "127.0.0.1:0")
        .stdin(Stdio::null());
    let (managed, lines) = actix_web::rt::task::spawn_blocking(move || {
        let (child, lines) = start_until_listening(c);
        (Managed { child, data_dir }, lines)
    })
    .await
    .unwrap();
    let text = lines.join("\n");
    // The banner line, as text or (LOG_FORMAT=json) inside a JSON line's message.
    let base = regex_lite::Regex::new(r"listens on (http://[0-9.]+:[0-9]+)")
        .unwrap()
        .captures(&text)
        .map(|c| c[1].to_string())
        .unwrap_or_else(|| panic!("it starts:\n{text}"));
    assert!(
        !text.contains("WARN"),
        "no warning in the managed mode:\n{text}"
    );
    let ready = reqwest::get(format!("{base}/health/ready")).await.unwrap();
    assert_eq!(ready.status(), 200);

    // Who the server's connections log in as, asked as the cluster's superuser over its socket.
    let admin_url = format!(
        "postgres://postgres@/stafettlogg?host={}&port=5432",
        managed.data_dir.join("run").display()
    );
    let logins = actix_web::rt::task::spawn_blocking(move || {
        #[derive(QueryableByName)]
        struct Login {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
        }
        let mut conn = PgConnection::establish(&admin_url).unwrap();
        diesel::sql_query(
            "SELECT DISTINCT usename::text AS name FROM pg_stat_activity \
             WHERE datname = 'stafettlogg' AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
        )
        .load::<Login>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert_eq!(logins, vec![db::role::APP_ROLE.to_string()]);
    drop(managed);
}

#[actix_web::test]
async fn writes_of_one_municipality_never_wait_on_the_feed_of_another() {
    let (app, ids) = two_municipalities().await;
    let kari = app.token(TROMSO, "kari", &[Role::Professional], &["skole-tromsdalen"]);
    // Larvik's feed counter held, as a long Larvik write would hold it until its commit.
    let url = app.db_url.clone();
    let (hold, held) = std::sync::mpsc::channel::<()>();
    let (locked_tx, locked) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let mut conn = PgConnection::establish(&url).unwrap();
        conn.batch_execute(&format!(
            "BEGIN; SELECT * FROM feed_counters WHERE municipality = '{LARVIK}' FOR UPDATE"
        ))
        .unwrap();
        locked_tx.send(()).unwrap();
        let _ = held.recv();
        conn.batch_execute("ROLLBACK").unwrap();
    });
    locked.recv().unwrap();
    // A Tromsø write goes through while Larvik's counter is held (it would time out on a shared row).
    let started = std::time::Instant::now();
    let res = app
        .post(
            &format!("/api/v1/cases/{}/entries", ids[2]),
            &kari,
            &json!({"kind": "note", "occurred_at": chrono::Utc::now(), "body": "Ny samtale."}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    hold.send(()).unwrap();
    holder.join().unwrap();
    // Each municipality numbers its own feed from 1, without gaps.
    for (number, services) in [
        (LARVIK, ["barnehage-solstua"]),
        (TROMSO, ["skole-tromsdalen"]),
    ] {
        let integration = app.token(number, "arkiv", &[Role::Integration], &services);
        let page: serde_json::Value = app
            .get("/api/v1/changes?after=0", &integration)
            .await
            .json()
            .await
            .unwrap();
        let seqs: Vec<i64> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["seq"].as_i64().unwrap())
            .collect();
        assert!(!seqs.is_empty(), "{number}");
        assert_eq!(
            seqs,
            (1..=seqs.len() as i64).collect::<Vec<_>>(),
            "{number}"
        );
    }
}
