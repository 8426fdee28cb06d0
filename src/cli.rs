//! The sub-commands: what `stafettlogg serve`, `migrate`, `token`, `import`, `purge`, ... do. `main.rs`
//! parses the command line and hands it over to [`run`].

use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;
use std::sync::Arc;

use crate::auth::Role;
use crate::config::{Config, DatabaseSource, Settings};
use crate::db::{self, embedded::Cluster};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "stafettlogg", version, about = "The open BTI stafettlogg API")]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

/// Exit codes of `import`.
const IMPORT_EXIT_CODES: &str =
    "Exit codes:\n  0  every line was created, updated or unchanged\n  \
1  one or more lines failed (each is printed with its line number and what was wrong)\n  \
2  bad command line\n  \
3  the file could not be read, or the service could not be reached or refused the token";

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default). Without DATABASE_URL a managed PostgreSQL lives in DATA_DIR (./data).
    Serve {
        #[command(flatten)]
        settings: Box<Settings>,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        settings: Box<Settings>,
    },
    /// Erase the text of inquiries about another family's child closed more than 90 days ago, and anonymous
    /// consultations last answered more than 90 days ago (data minimisation), in every municipality, as the schema's owner (DATABASE_URL). Run it daily (cron);
    /// it is idempotent and safe to run from several hosts at once.
    EraseInquiries {
        /// Erase as if it were this instant (RFC 3339) [default: now].
        #[arg(long)]
        now: Option<chrono::DateTime<chrono::Utc>>,
        #[command(flatten)]
        settings: Box<Settings>,
    },
    /// Erase the personal data of cases closed longer ago than their municipality's `retention_years`
    /// (names, national ids, free text; levels, dates and counts stay), in every municipality, as the
    /// schema's owner (DATABASE_URL). Open cases are never touched. Safe to run from several hosts at
    /// once (an advisory lock); run it daily or monthly (cron).
    Purge {
        /// Only count what would be erased.
        #[arg(long)]
        dry_run: bool,
        /// Purge as if it were this instant (RFC 3339) [default: now].
        #[arg(long)]
        now: Option<chrono::DateTime<chrono::Utc>>,
        #[command(flatten)]
        settings: Box<Settings>,
    },
    /// List the months of the access log that the retention allows to detach (every case in them
    /// purged, the month older than the longest retention), as the schema's owner (DATABASE_URL). With
    /// --detach, detach them: each stays a table of its own (access_events_YYYY_MM) to archive and drop.
    Partitions {
        /// Detach them (otherwise only list).
        #[arg(long)]
        detach: bool,
        #[command(flatten)]
        settings: Box<Settings>,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Ask a running service whether it is ready (GET /health/ready); exit 0 when it is. For container
    /// health checks.
    Health {
        /// The service's base URL [default: http://BIND_ADDR, with 0.0.0.0 read as 127.0.0.1].
        #[arg(long)]
        url: Option<String>,
        #[arg(long, env = "BIND_ADDR", default_value = crate::config::DEFAULT_BIND)]
        bind_addr: SocketAddr,
    },
    /// Import an NDJSON file of case documents into a running service, in batches.
    #[command(after_help = IMPORT_EXIT_CODES)]
    Import {
        /// One case document per line (the shape of GET /api/v1/cases/{id}/export).
        file: std::path::PathBuf,
        /// The service, e.g. http://127.0.0.1:8080
        #[arg(long)]
        url: String,
        /// A token with the `integration` role.
        #[arg(long, env = "STAFETTLOGG_TOKEN", hide_env_values = true)]
        token: String,
        /// Lines per request.
        #[arg(long, default_value_t = 200)]
        batch_size: usize,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
    },
    /// Mint a development token, signed with the server's development secret (JWT_HS256_SECRET, or the
    /// one the server generated in DATA_DIR/jwt-dev-secret; never a new one). Prints the token alone.
    Token {
        /// The municipality: its 4-digit kommunenummer, e.g. 3805.
        #[arg(long, value_parser = parse_tenant)]
        tenant: String,
        /// The stable user id.
        #[arg(long)]
        sub: String,
        /// The display name.
        #[arg(long, default_value = "")]
        name: String,
        /// professional, guardian, youth, admin, integration or leader; repeat for several.
        #[arg(long = "role", value_parser = parse_role, required = true)]
        roles: Vec<Role>,
        /// A service code (professionals and integrations act for their services); repeat for several.
        #[arg(long = "service")]
        services: Vec<String>,
        /// National identity number, for guardians and youth (the national login's `pid`).
        #[arg(long)]
        pid: Option<String>,
        /// An OAuth scope for the token's `scope` claim, e.g. `staff` for an integration that registers
        /// staff departures; repeat for several.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
        #[command(flatten)]
        settings: Box<Settings>,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| {
        format!(
            "unknown role `{s}`: use professional, guardian, youth, admin, integration or leader"
        )
    })
}

fn parse_tenant(s: &str) -> Result<String, String> {
    if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "`{s}` is not a kommunenummer: use the municipality's 4 digits, e.g. 3805 (Larvik) or 0301 (Oslo)"
        ))
    }
}

/// Runs the sub-command the command line names (`serve` when it names none).
pub fn run(cli: Cli) -> ExitCode {
    let command = match cli.command {
        Some(c) => c,
        None => match Settings::from_env() {
            Ok(settings) => Command::Serve {
                settings: Box::new(settings),
            },
            Err(e) => return fail(&e.to_string(), 2),
        },
    };
    match command {
        Command::Openapi => {
            print!("{}", crate::api_doc_json());
            ExitCode::SUCCESS
        }
        Command::Health { url, bind_addr } => health(url, bind_addr),
        Command::Import {
            file,
            url,
            token,
            batch_size,
            concurrency,
        } => import(&file, &url, &token, batch_size, concurrency),
        Command::Token {
            tenant,
            sub,
            name,
            roles,
            services,
            pid,
            scopes,
            ttl,
            settings,
        } => {
            let jwt = match crate::config::token_signer(&settings) {
                Ok(j) => j,
                Err(e) => return fail(&e.to_string(), 2),
            };
            let mut claims = jwt.dev_claims(&tenant, &sub, &name, roles, services, pid, ttl);
            claims.scope = scopes.join(" ");
            // A token the server would refuse is no use: say why now.
            if let Err(why) = crate::auth::caller::claims_within_bounds(&claims) {
                return fail(why, 2);
            }
            match jwt.mint(&claims) {
                Ok(t) => {
                    println!("{t}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, 1),
            }
        }
        Command::Migrate { settings } => with_config(*settings, |c| migrate(&c)),
        Command::Purge {
            dry_run,
            now,
            settings,
        } => with_config(*settings, |c| {
            purge(&c, dry_run, now.unwrap_or_else(chrono::Utc::now))
        }),
        Command::Partitions { detach, settings } => {
            with_config(*settings, |c| partitions(&c, detach))
        }
        Command::EraseInquiries { now, settings } => with_config(*settings, |c| {
            erase_inquiries(&c, now.unwrap_or_else(chrono::Utc::now))
        }),
        Command::Serve { settings } => with_config(*settings, serve),
    }
}

/// A line for the operator about what the process is doing (not a command's result): plain text on
/// standard error, or with `LOG_FORMAT=json` a log event like every other line, so a log collector reads
/// every line as JSON.
fn say(config: &Config, line: &str) {
    match config.log_format {
        crate::http::telemetry::LogFormat::Json => tracing::info!("{line}"),
        crate::http::telemetry::LogFormat::Text => eprintln!("{line}"),
    }
}

fn fail(message: &str, code: u8) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

fn with_config(settings: Settings, run: impl FnOnce(Config) -> Result<(), String>) -> ExitCode {
    let config = match Config::from_settings(settings) {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string(), 2),
    };
    let writer = tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::io::stderr);
    if let Err(e) = crate::http::telemetry::init(config.log_format, &config.log_level, writer) {
        return fail(&e, 2);
    }
    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e, 1),
    }
}

fn health(url: Option<String>, bind_addr: SocketAddr) -> ExitCode {
    let base = url.unwrap_or_else(|| {
        let mut addr = bind_addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}")
    });
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(3)))
        .http_status_as_error(false)
        .build()
        .new_agent();
    match agent
        .get(format!("{}/health/ready", base.trim_end_matches('/')))
        .call()
    {
        Ok(res) if res.status() == 200 => {
            println!("ready");
            ExitCode::SUCCESS
        }
        Ok(res) => fail(&format!("not ready: {}", res.status()), 1),
        Err(e) => fail(&format!("cannot reach {base}: {e}"), 1),
    }
}

/// See [`IMPORT_EXIT_CODES`].
fn import(
    file: &std::path::Path,
    url: &str,
    token: &str,
    batch_size: usize,
    concurrency: usize,
) -> ExitCode {
    let opts = crate::jobs::import::Options {
        batch_lines: batch_size.max(1),
        concurrency: concurrency.max(1),
        ..Default::default()
    };
    match crate::jobs::import::run(file, url, token, &opts) {
        Err(e) => fail(&e, 3),
        Ok(s) => {
            println!(
                "{} lines: {} created, {} updated, {} unchanged, {} failed",
                s.lines(),
                s.created,
                s.updated,
                s.unchanged,
                s.failed.len()
            );
            for (line, what) in &s.failed {
                println!("line {line}: {what}");
            }
            if s.failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// The database URL to use, starting the managed cluster when none is configured.
fn database(config: &Config) -> Result<(String, Option<Cluster>), String> {
    match &config.database {
        DatabaseSource::Url(url) => Ok((url.clone(), None)),
        DatabaseSource::Embedded => {
            let cluster = Cluster::start_persistent(&config.data_dir)?;
            let dir = config.data_dir.join("postgres");
            say(
                config,
                &format!("Using the managed PostgreSQL cluster in {}", dir.display()),
            );
            Ok((cluster.url("stafettlogg"), Some(cluster)))
        }
    }
}

/// After a one-off command: a cluster another process started (the server, running in another
/// terminal) stays up.
fn stop(config: &Config, cluster: Option<Cluster>) {
    stop_cluster(config, cluster.filter(Cluster::started_here));
}

/// The server owns the managed cluster: Ctrl-C stops both, however the cluster was started.
fn stop_cluster(config: &Config, cluster: Option<Cluster>) {
    if let Some(c) = cluster {
        match c.stop() {
            Ok(()) => say(config, "Stopped the managed PostgreSQL cluster."),
            Err(e) => say(
                config,
                &format!("Stopping the managed PostgreSQL cluster failed: {e}"),
            ),
        }
    }
}

/// The database of a one-off command, migrated first: on a fresh data directory (or a database the
/// server never started on) the command then finds its tables instead of failing on their absence.
fn migrated_database(config: &Config) -> Result<(String, Option<Cluster>), String> {
    let (url, cluster) = database(config)?;
    match db::migrate::run_migrations(&url) {
        Ok(applied) if !applied.is_empty() => {
            say(
                config,
                &format!("Applied {} migration(s) first.", applied.len()),
            );
            Ok((url, cluster))
        }
        Ok(_) => Ok((url, cluster)),
        Err(e) => {
            stop(config, cluster);
            Err(e)
        }
    }
}

fn migrate(config: &Config) -> Result<(), String> {
    let (url, cluster) = database(config)?;
    let result = db::migrate::run_migrations(&url)
        .map(|applied| println!("Applied {} migration(s).", applied.len()));
    stop(config, cluster);
    result
}

fn erase_inquiries(config: &Config, now: chrono::DateTime<chrono::Utc>) -> Result<(), String> {
    use diesel::Connection;
    let (url, cluster) = migrated_database(config)?;
    let result = diesel::PgConnection::establish(&url)
        .map_err(|e| format!("cannot connect with DATABASE_URL: {e}"))
        .and_then(|mut conn| {
            let inquiries = crate::jobs::inquiry_erasure::erase_expired(&mut conn, now)
                .map_err(|e| format!("erasing inquiries failed: {}", e.detail))?;
            let consultations =
                crate::jobs::inquiry_erasure::erase_consultations(&mut conn, now)
                    .map_err(|e| format!("erasing consultations failed: {}", e.detail))?;
            Ok((inquiries, consultations))
        })
        .map(|(n, c)| {
            println!("Erased the text of {n} inquiry(ies) closed before 90 days ago.");
            println!("Erased {c} anonymous consultation(s) last answered before 90 days ago.");
        });
    stop(config, cluster);
    result
}

fn purge(config: &Config, dry_run: bool, now: chrono::DateTime<chrono::Utc>) -> Result<(), String> {
    use diesel::Connection;
    let (url, cluster) = migrated_database(config)?;
    let result = diesel::PgConnection::establish(&url)
        .map_err(|e| format!("cannot connect with DATABASE_URL: {e}"))
        .and_then(|mut conn| {
            if !dry_run {
                crate::db::partitions::ensure_ahead(&mut conn)
                    .map_err(|e| format!("cannot create the access log's partitions: {e}"))?;
            }
            let counts = crate::jobs::retention::purge(&mut conn, now, dry_run)
                .map_err(|e| format!("the purge failed: {}", e.detail))?;
            let reduced = reduce_surveys(&mut conn, now, dry_run)
                .map_err(|e| format!("reducing the surveys failed: {}", e.detail))?;
            Ok((counts, reduced))
        })
        .map(|(counts, reduced)| {
            let verb = if dry_run { "would erase" } else { "erased" };
            for c in counts.iter().filter(|c| c.cases > 0) {
                println!(
                    "{}: {verb} the personal data of {} case(s) closed before {} ({} years)",
                    c.municipality,
                    c.cases,
                    c.closed_before.date_naive(),
                    c.retention_years
                );
            }
            for c in counts.iter().filter(|c| c.waiting_for_archive > 0) {
                println!(
                    "{}: {} case(s) past their retention wait for the archive (POST /cases/{{id}}/archived, or the municipality's purge_unarchived)",
                    c.municipality, c.waiting_for_archive
                );
            }
            let total: i64 = counts.iter().map(|c| c.cases).sum();
            println!("Purge: {verb} {total} case(s) in all.");
            let keep = if dry_run { "would keep" } else { "keep" };
            println!(
                "Surveys: {verb} {} record(s) of who answered a closed survey; {} survey(s) past their retention {keep} only their counts per service kind.",
                reduced.respondents, reduced.surveys
            );
        });
    stop(config, cluster);
    result
}

/// The surveys' reduction (`surveys::store::reduce`) in one transaction; with `dry_run` the same
/// statements run and are rolled back, so the preview cannot count otherwise than the run would.
fn reduce_surveys(
    conn: &mut diesel::PgConnection,
    now: chrono::DateTime<chrono::Utc>,
    dry_run: bool,
) -> Result<crate::surveys::store::Reduced, crate::http::error::AppError> {
    use diesel::Connection;
    /// Ends the transaction without committing, carrying what it counted.
    enum Ended {
        Preview(crate::surveys::store::Reduced),
        Failed(crate::http::error::AppError),
    }
    impl From<diesel::result::Error> for Ended {
        fn from(e: diesel::result::Error) -> Ended {
            Ended::Failed(e.into())
        }
    }
    let ran = conn.transaction(|conn| {
        let reduced = crate::surveys::store::reduce(conn, crate::clock::day_of(now))
            .map_err(Ended::Failed)?;
        if dry_run {
            return Err(Ended::Preview(reduced));
        }
        Ok(reduced)
    });
    match ran {
        Ok(reduced) | Err(Ended::Preview(reduced)) => Ok(reduced),
        Err(Ended::Failed(e)) => Err(e),
    }
}

fn partitions(config: &Config, detach: bool) -> Result<(), String> {
    use diesel::Connection;
    let (url, cluster) = migrated_database(config)?;
    let result = diesel::PgConnection::establish(&url)
        .map_err(|e| format!("cannot connect with DATABASE_URL: {e}"))
        .and_then(|mut conn| {
            crate::db::partitions::ensure_ahead(&mut conn)
                .map_err(|e| format!("cannot create the access log's partitions: {e}"))?;
            if detach {
                crate::db::partitions::detach(&mut conn)
            } else {
                crate::db::partitions::detachable(&mut conn)
            }
            .map_err(|e| format!("reading the access log's partitions failed: {e}"))
        })
        .map(|months| {
            let verb = if detach {
                "detached"
            } else {
                "may be detached"
            };
            for m in &months {
                println!(
                    "{} ({}, {} events): {verb}",
                    m.partition_name, m.month, m.events
                );
            }
            println!("{} month(s) of the access log {verb}.", months.len());
        });
    stop(config, cluster);
    result
}

/// The addresses are taken before anything else starts, so a port in use fails at once instead of after
/// a whole database cluster was created and started.
fn serve(config: Config) -> Result<(), String> {
    let listener = TcpListener::bind(config.bind_addr).map_err(|e| {
        format!(
            "cannot listen on {} (BIND_ADDR): {e}; is another server running there?",
            config.bind_addr
        )
    })?;
    let metrics = match config.metrics_addr {
        Some(addr) => {
            Some(Arc::new(TcpListener::bind(addr).map_err(|e| {
                format!("cannot listen on {addr} (METRICS_ADDR): {e}")
            })?))
        }
        None => None,
    };
    let (url, cluster) = database(&config)?;
    let result = run_server(&config, &url, cluster.as_ref(), listener, metrics);
    stop_cluster(&config, cluster);
    result
}

/// The URL the service's pool connects with, after the migrations (which create its role) ran as the
/// owner: `DATABASE_APP_URL`; the managed cluster's login of the service role; or `DATABASE_URL` itself,
/// dropping to the service role with `SET ROLE`. Refused when row-level security would not hold for it.
fn service_url(
    config: &Config,
    owner_url: &str,
    cluster: Option<&Cluster>,
) -> Result<String, String> {
    let (url, name, dedicated) = match (&config.database_app_url, cluster) {
        (Some(app), _) => (app.clone(), "DATABASE_APP_URL", true),
        (None, Some(c)) => (
            c.service_url("stafettlogg")?,
            "the managed cluster's service login",
            true,
        ),
        (None, None) => (owner_url.to_string(), "DATABASE_URL", false),
    };
    if let Some(warning) = db::role::check_service_role(&url, name, dedicated)? {
        tracing::warn!("{warning}");
    }
    Ok(url)
}

fn run_server(
    config: &Config,
    url: &str,
    cluster: Option<&Cluster>,
    listener: TcpListener,
    metrics_listener: Option<Arc<TcpListener>>,
) -> Result<(), String> {
    let applied = db::migrate::run_migrations(url)?;
    if !applied.is_empty() {
        tracing::info!(count = applied.len(), "applied migrations");
    }
    let service_url = service_url(config, url, cluster)?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let ctx = crate::AppContext {
        pool: db::pool::build_pool(&service_url, config.pool_size),
        jwt: config.jwt.clone(),
        national_id_key: config.national_id_key.clone(),
        body_limit: config.body_limit,
        import_limit: config.import_limit,
        workers: 0,
        cors_origins: config.cors_origins.clone(),
        rate_limits: config.rate_limits.clone(),
        metrics_listener,
        listen_url: Some(service_url.clone()),
        delivery: config.delivery.clone(),
    };
    banner(config, addr);
    actix_web::rt::System::new()
        .block_on(async move {
            let server = crate::serve(listener, ctx)?;
            let handle = server.handle();
            let json = config.log_format == crate::http::telemetry::LogFormat::Json;
            actix_web::rt::spawn(async move {
                shutdown_signal().await;
                match json {
                    true => tracing::info!("Stopping: finishing the requests in flight..."),
                    false => eprintln!("Stopping: finishing the requests in flight..."),
                }
                handle.stop(true).await;
            });
            server.await
        })
        .map_err(|e| format!("server error: {e}"))
}

/// Where to find the running server, for whoever started it.
fn banner(config: &Config, addr: std::net::SocketAddr) {
    say(config, &format!("Stafettlogg listens on http://{addr}"));
    say(config, &format!("  API docs:  http://{addr}/docs/"));
    if let Some(m) = config.metrics_addr {
        say(config, &format!("  Metrics:   http://{m}/metrics"));
    }
    if config.jwt.has_dev_secret() {
        say(config, "  A token:   cargo run -- token --tenant 3805 --sub ola --name \"Ola Nordmann\" --role professional --service barnehage-solstua");
    } else {
        let issuer = &config.jwt.issuer;
        say(
            config,
            &format!("  Tokens:    from the identity provider (issuer {issuer})"),
        );
    }
    say(config, "  Stop with Ctrl-C.");
}

/// Ctrl-C (SIGINT) or SIGTERM: both stop gracefully, so a request in flight is answered and committed
/// before the managed cluster goes down.
async fn shutdown_signal() {
    use actix_web::rt::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    let ctrl_c = std::pin::pin!(actix_web::rt::signal::ctrl_c());
    let term = std::pin::pin!(term.recv());
    futures_util::future::select(ctrl_c, term).await;
}
