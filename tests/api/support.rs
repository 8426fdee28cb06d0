//! The test harness: one throwaway PostgreSQL cluster per test process (or `TEST_DATABASE_URL`'s server),
//! a migrated template database, and for each test its own database cloned from the template and its own
//! server on a free port. Tests talk to it over real HTTP.

use std::net::TcpListener;
use std::sync::OnceLock;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::{json, Value};
use stafettlogg::auth::jwt::{Claims, JwtSettings};
use stafettlogg::auth::Role;
use stafettlogg::db::embedded::Cluster;
use stafettlogg::national_id::NationalIdKey;

pub const SECRET: &[u8] = b"test-secret-that-is-long-enough-for-hs256!!";

/// Builds a URL for a database name on the test server.
type UrlFor = Box<dyn Fn(&str) -> String + Send + Sync>;

struct Server {
    url_for: UrlFor,
    /// The URL the test servers connect with: the service role's own login on the throwaway cluster; with
    /// `TEST_DATABASE_URL`, that URL, from which the pool drops to the service role with `SET ROLE`.
    service_url_for: UrlFor,
    template: String,
    _cluster: Option<Cluster>,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let (url_for, cluster): (UrlFor, _) = match std::env::var("TEST_DATABASE_URL") {
            // A server someone runs already: `TEST_DATABASE_URL=postgres://user:pw@host` (no database name).
            Ok(base) => {
                let base = base.trim_end_matches('/').to_string();
                (Box::new(move |db: &str| format!("{base}/{db}")), None)
            }
            Err(_) => {
                let cluster =
                    Cluster::start_throwaway().expect("start a throwaway PostgreSQL cluster");
                let c = cluster.url("DBNAME");
                (
                    Box::new(move |db: &str| c.replace("DBNAME", db)),
                    Some(cluster),
                )
            }
        };
        let template = format!(
            "tmpl_{}_{}",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        );
        let mut admin =
            PgConnection::establish(&url_for("postgres")).expect("connect to the test server");
        admin
            .batch_execute(&format!("CREATE DATABASE {template}"))
            .expect("create template");
        stafettlogg::db::migrate::run_migrations(&url_for(&template))
            .expect("migrate the template");
        let service_url_for: UrlFor = match &cluster {
            Some(c) => {
                let u = c
                    .service_url("DBNAME")
                    .expect("a login for the service role");
                Box::new(move |db: &str| u.replace("DBNAME", db))
            }
            None => {
                let base = std::env::var("TEST_DATABASE_URL").unwrap();
                let base = base.trim_end_matches('/').to_string();
                Box::new(move |db: &str| format!("{base}/{db}"))
            }
        };
        Server {
            url_for,
            service_url_for,
            template,
            _cluster: cluster,
        }
    })
}

pub struct TestApp {
    pub base: String,
    pub client: Client,
    /// A superuser's URL of the test's database, for checking what the API wrote (row-level security
    /// does not apply to it).
    pub db_url: String,
    /// The URL the server's pool connects with (as the service role).
    pub service_db_url: String,
    pub jwt: JwtSettings,
    /// The database cloned for this test, if this harness cloned it (not with `Options::database_url`).
    /// Held only to be dropped with the app.
    #[allow(dead_code)]
    pub owned_database: Option<OwnedDatabase>,
}

/// A test's clone of the template, dropped with the test's app: a run of several hundred tests would
/// otherwise keep every clone (some 12 MB each) on disk until the process ends, more than a small CI
/// machine has.
pub struct OwnedDatabase {
    admin_url: String,
    name: String,
}

impl Drop for OwnedDatabase {
    fn drop(&mut self) {
        // FORCE ends the connections the test's servers still hold. Errors are ignored: this may run
        // while a failed test unwinds, where a second panic would abort the whole run.
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

pub struct Options {
    pub body_limit: usize,
    pub database_url: Option<String>,
    pub workers: usize,
    pub pool_size: u32,
    pub cors_origins: Vec<String>,
    pub metrics_listener: Option<TcpListener>,
    /// Time limits of the pooled connections (short ones provoke lock and statement timeouts).
    pub session_limits: stafettlogg::db::pool::SessionLimits,
    /// Where notifications and webhooks go (none configured by default: every message fails at once).
    pub delivery: stafettlogg::config::Delivery,
    /// Request budgets: none by default (the tests send thousands of requests as one caller).
    pub rate_limits: stafettlogg::http::rate_limit::RateLimits,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            body_limit: 64 * 1024,
            database_url: None,
            workers: 1,
            pool_size: 4,
            cors_origins: vec![],
            metrics_listener: None,
            session_limits: Default::default(),
            delivery: Default::default(),
            rate_limits: stafettlogg::http::rate_limit::RateLimits::off(),
        }
    }
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The test server's verifier: the development secret plus the RSA and EC test keys, as production would
/// have them.
pub fn jwt_settings() -> JwtSettings {
    JwtSettings::new(
        Some(SECRET.to_vec()),
        &[fixture("rsa-public.pem"), fixture("ec-public.pem")],
        stafettlogg::auth::jwt::DEV_ISSUER.into(),
        stafettlogg::auth::jwt::DEV_AUDIENCE.into(),
    )
    .expect("test keys load")
}

pub fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture exists")
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(Options::default()).await
    }

    pub async fn spawn_with(options: Options) -> TestApp {
        Self::start(options, jwt_settings()).await
    }

    /// A server that verifies tokens with `jwt` (e.g. an identity provider's key set) instead of the test
    /// keys. Without a development secret in `jwt`, [`TestApp::token`] cannot mint.
    pub async fn spawn_with_jwt(jwt: JwtSettings) -> TestApp {
        Self::start(Options::default(), jwt).await
    }

    async fn start(options: Options, jwt: JwtSettings) -> TestApp {
        logs();
        let (db_url, service_db_url, owned_database) = match options.database_url {
            Some(url) => (url.clone(), url, None),
            None => {
                let s = server();
                let name = format!("t_{}", uuid::Uuid::now_v7().simple());
                let admin_url = (s.url_for)("postgres");
                let template = s.template.clone();
                let create =
                    format!("CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY");
                let owned = OwnedDatabase {
                    admin_url: admin_url.clone(),
                    name: name.clone(),
                };
                actix_web::rt::task::spawn_blocking(move || {
                    let mut admin = PgConnection::establish(&admin_url).expect("connect");
                    admin.batch_execute(&create).expect("clone the template");
                })
                .await
                .unwrap();
                ((s.url_for)(&name), (s.service_url_for)(&name), Some(owned))
            }
        };
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let key = NationalIdKey::from_bytes(&[42u8; 32]).unwrap();
        let ctx = stafettlogg::AppContext {
            pool: stafettlogg::db::pool::build_pool_with(
                &service_db_url,
                options.pool_size,
                options.session_limits,
            ),
            jwt: jwt.clone(),
            national_id_key: key,
            body_limit: options.body_limit,
            import_limit: 16 * 1024 * 1024,
            workers: options.workers,
            cors_origins: options.cors_origins,
            metrics_listener: options.metrics_listener.map(std::sync::Arc::new),
            // The binary listens (tests/api/instances.rs); in-process servers only poll.
            listen_url: None,
            delivery: options.delivery,
            rate_limits: options.rate_limits,
        };
        let server = stafettlogg::serve(listener, ctx).expect("server starts");
        actix_web::rt::spawn(server);
        TestApp {
            base: format!("http://127.0.0.1:{port}"),
            // Never reuse a connection the server (keep-alive 5 s) may be closing: a test that blocks its
            // runtime with a direct database query would not see the close before sending on it.
            client: Client::builder()
                .pool_idle_timeout(std::time::Duration::from_secs(2))
                .build()
                .unwrap(),
            db_url,
            service_db_url,
            jwt,
            owned_database,
        }
    }

    pub fn token(&self, tenant: &str, sub: &str, roles: &[Role], services: &[&str]) -> String {
        let claims = self.jwt.dev_claims(
            tenant,
            sub,
            &format!("Testperson {sub}"),
            roles.to_vec(),
            services.iter().map(|s| s.to_string()).collect(),
            None,
            600,
        );
        self.jwt.mint(&claims).unwrap()
    }

    /// A token for a guardian or youth signed in with a national login (`pid`).
    pub fn citizen_token(&self, sub: &str, role: Role, pid: &str) -> String {
        let claims = self.jwt.dev_claims(
            "3805",
            sub,
            sub,
            vec![role],
            vec![],
            Some(pid.to_string()),
            600,
        );
        self.jwt.mint(&claims).unwrap()
    }

    /// A token like [`Self::token`] whose `scope` claim grants `scope` too.
    pub fn token_with_scope(
        &self,
        tenant: &str,
        sub: &str,
        roles: &[Role],
        services: &[&str],
        scope: &str,
    ) -> String {
        let mut claims = self.claims(tenant, sub, roles);
        claims.services = services.iter().map(|s| s.to_string()).collect();
        claims.scope = scope.into();
        self.jwt.mint(&claims).unwrap()
    }

    pub fn claims(&self, tenant: &str, sub: &str, roles: &[Role]) -> Claims {
        self.jwt
            .dev_claims(tenant, sub, sub, roles.to_vec(), vec![], None, 600)
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let rb = self
            .client
            .request(method, format!("{}{}", self.base, path));
        match token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token))
            .send()
            .await
            .unwrap()
    }

    /// `GET path` as `token`, which must answer 200: its JSON.
    pub async fn json(&self, path: &str, token: &str) -> Value {
        let res = self.get(path, token).await;
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.unwrap()
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::POST, path, Some(token))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// A direct database connection, for checking what the API wrote (or did not).
    pub fn db(&self) -> PgConnection {
        PgConnection::establish(&self.db_url).expect("connect to the test database")
    }

    pub fn count(&self, sql_from_where: &str) -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(format!("SELECT count(*) AS n FROM {sql_from_where}"))
            .get_result::<N>(&mut self.db())
            .unwrap()
            .n
    }

    /// Row counts of every table, to prove a refused request changed nothing.
    pub fn table_counts(&self) -> Vec<(String, i64)> {
        #[derive(QueryableByName)]
        struct T {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
        }
        let mut conn = self.db();
        let tables: Vec<T> = diesel::sql_query(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' \
             AND tablename <> '__diesel_schema_migrations' ORDER BY tablename",
        )
        .load(&mut conn)
        .unwrap();
        tables
            .into_iter()
            .map(|t| {
                let n = self.count(&t.name);
                (t.name, n)
            })
            .collect()
    }

    /// The types of every change-feed event `token` may see, in order.
    pub async fn feed_types(&self, token: &str) -> Vec<String> {
        let feed: Value = self
            .get("/api/v1/changes?after=0&limit=1000", token)
            .await
            .json()
            .await
            .unwrap();
        feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["type"].as_str().unwrap().to_string())
            .collect()
    }

    /// A request carrying `If-Match`, for the changes that need it.
    pub async fn send_if_match(
        &self,
        method: Method,
        path: &str,
        token: &str,
        etag: &str,
        body: &Value,
    ) -> Response {
        self.request(method, path, Some(token))
            .header("if-match", etag)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// An admin registers a service, as a municipality does before its staff open cases.
    pub async fn service(&self, tenant: &str, code: &str, kind: &str) {
        let admin = self.token(tenant, "admin", &[Role::Admin], &[]);
        let res = self
            .post(
                "/api/v1/services",
                &admin,
                &json!({"code": code, "name": format!("Tjeneste {code}"), "kind": kind}),
            )
            .await;
        assert_eq!(
            res.status(),
            201,
            "service {code}: {}",
            res.text().await.unwrap()
        );
    }

    /// Opens a case as `token`, returning its JSON.
    pub async fn open_case(&self, token: &str, service: &str, given_name: &str) -> Value {
        let res = self
            .post(
                "/api/v1/cases",
                token,
                &json!({
                    "service": service,
                    "subject": {"kind": "child", "given_name": given_name, "family_name": "Testesen", "birth_date": "2019-05-01"},
                    "concern": "Barnet virker trist og trekker seg unna lek."
                }),
            )
            .await;
        assert_eq!(
            res.status(),
            201,
            "open case: {}",
            res.text().await.unwrap()
        );
        res.json().await.unwrap()
    }
}

/// Asserts a problem+json answer with this status, returning the problem.
/// The `type` of each item of a page (the timeline's, the feed's).
pub fn item_types(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect()
}

pub async fn problem(res: Response, status: u16) -> Value {
    assert_eq!(res.status().as_u16(), status, "unexpected status");
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(
        ct.starts_with("application/problem+json"),
        "content-type was {ct:?}"
    );
    assert!(res.headers().contains_key("x-request-id"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(body["type"]
        .as_str()
        .unwrap()
        .starts_with("urn:stafettlogg:problem:"));
    assert!(body["title"].is_string() && body["detail"].is_string());
    body
}

/// The field names a 4xx problem lists.
pub fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A synthetic national identity number (month + 80), distinct for each `n`.
pub fn synthetic_id(n: u32) -> String {
    (0..)
        .find_map(|i| {
            stafettlogg::national_id::synthetic(
                1 + n % 28,
                1 + (n / 28) % 12,
                10 + n % 7,
                (n * 7 + i) % 1000,
            )
        })
        .unwrap()
}

/// Where every log of the run goes: the in-process servers' (`api-<pid>.jsonl`), and the standard error
/// of every process the tests start ([`process_log`]). The log check (tests/logs.rs), which cargo runs
/// after this binary, reads them all.
pub fn log_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-logs");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every log line of this test process, as the JSON lines `LOG_FORMAT=json` writes, kept in memory for
/// the tests that read them and appended to [`log_dir`] so the log check sees the whole run.
pub struct Logs {
    lines: std::sync::Mutex<Vec<u8>>,
    file: std::sync::Mutex<std::fs::File>,
}

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.lines.lock().unwrap()).into_owned()
    }
}

struct LogWriter(&'static Logs);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lines.lock().unwrap().extend_from_slice(buf);
        self.0.file.lock().unwrap().write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn logs() -> &'static Logs {
    static LOGS: OnceLock<&'static Logs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let file =
            std::fs::File::create(log_dir().join(format!("api-{}.jsonl", std::process::id())))
                .unwrap();
        let logs: &'static Logs = Box::leak(Box::new(Logs {
            lines: std::sync::Mutex::new(Vec::new()),
            file: std::sync::Mutex::new(file),
        }));
        let writer = tracing_subscriber::fmt::writer::BoxMakeWriter::new(move || LogWriter(logs));
        stafettlogg::http::telemetry::init(
            stafettlogg::http::telemetry::LogFormat::Json,
            "stafettlogg=debug,info",
            writer,
        )
        .expect("install the test log subscriber");
        logs
    })
}

/// The service's binary with every setting of this environment removed, so a test's command sees only the
/// variables it sets itself; it logs JSON lines, as in production. Its standard error belongs in the run's
/// logs: run it with [`OutputLogged::output_logged`], or send it to a [`process_log`].
pub fn binary() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_stafettlogg"));
    for var in [
        "DATABASE_URL",
        "DATABASE_APP_URL",
        "DATA_DIR",
        "JWT_HS256_SECRET",
        "JWT_PUBLIC_KEYS",
        "JWT_JWKS_URL",
        "JWT_JWKS_FILE",
        "NATIONAL_ID_KEY",
        "BIND_ADDR",
        "METRICS_ADDR",
        "LOG_FORMAT",
        "RUST_LOG",
    ] {
        c.env_remove(var);
    }
    c.env("LOG_FORMAT", "json");
    // The binary's tests put it under load as one caller; tests/api/limits.rs sets budgets of its own.
    for var in [
        "RATE_LIMIT_PER_MINUTE",
        "RATE_LIMIT_WRITES_PER_MINUTE",
        "RATE_LIMIT_PUBLIC_PER_MINUTE",
    ] {
        c.env(var, "0");
    }
    c
}

/// A new file in [`log_dir`] for the standard error of a process the test starts, named after what it
/// runs (`serve`, `purge`...). Besides JSON log lines it holds the plain lines the binary prints itself
/// (where it listens, what a one-off command did, why it refused), which the log check accepts there.
pub fn process_log(what: &str) -> (std::path::PathBuf, std::fs::File) {
    let what: String = what.chars().filter(char::is_ascii_alphanumeric).collect();
    let path = log_dir().join(format!(
        "process-{what}-{}.log",
        uuid::Uuid::now_v7().simple()
    ));
    let file = std::fs::File::create(&path).unwrap();
    (path, file)
}

/// `output()` that also keeps the process's standard error in the run's logs.
pub trait OutputLogged {
    fn output_logged(&mut self) -> std::io::Result<std::process::Output>;
}

impl OutputLogged for std::process::Command {
    fn output_logged(&mut self) -> std::io::Result<std::process::Output> {
        let out = self.output()?;
        let what = self
            .get_args()
            .next()
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !out.stderr.is_empty() {
            std::io::Write::write_all(&mut process_log(&what).1, &out.stderr)?;
        }
        Ok(out)
    }
}

/// Runs a one-off command of the binary (`purge`, `partitions`, `erase-inquiries`) as the schema's owner
/// of the database at `db_url`; whether it succeeded, and what it said.
pub fn owner_command(db_url: &str, args: &[&str]) -> (bool, String) {
    let (ok, stdout, stderr) = owner_command_streams(db_url, args);
    (ok, format!("{stdout}{stderr}"))
}

/// [`owner_command`] with its result (standard output) and its diagnostics (standard error) apart.
pub fn owner_command_streams(db_url: &str, args: &[&str]) -> (bool, String, String) {
    let out = binary()
        .args(args)
        .env("DATABASE_URL", db_url)
        .env(
            "JWT_HS256_SECRET",
            "a-secret-for-the-owners-command-tests!!",
        )
        .env(
            "NATIONAL_ID_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        )
        .output_logged()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
