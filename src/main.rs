//! The command line: parse, then hand over to the library.

use std::net::TcpListener;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use stafettlogg::auth::Role;
use stafettlogg::config::{Config, DatabaseSource};
use stafettlogg::db::{self, embedded::Cluster};

#[derive(Parser)]
#[command(name = "stafettlogg", version, about = "The open BTI stafettlogg API")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Import an NDJSON file of case documents into a running service, in batches.
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
    /// Mint a development token (needs the development secret; prints the token alone).
    Token {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        sub: String,
        #[arg(long, default_value = "")]
        name: String,
        /// professional, guardian, youth, admin or integration; repeat for several.
        #[arg(long = "role", value_parser = parse_role, required = true)]
        roles: Vec<Role>,
        /// A service code; repeat for several.
        #[arg(long = "service")]
        services: Vec<String>,
        /// National identity number, for guardians and youth.
        #[arg(long)]
        pid: Option<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| {
        format!("unknown role `{s}`: use professional, guardian, youth, admin or integration")
    })
}

/// The database URL to use, starting the managed cluster when none is configured.
fn database(config: &Config) -> Result<(String, Option<Cluster>), String> {
    match &config.database {
        DatabaseSource::Url(url) => Ok((url.clone(), None)),
        DatabaseSource::Embedded => {
            let cluster = Cluster::start_persistent(&config.data_dir)?;
            eprintln!(
                "Using the managed PostgreSQL cluster in {}",
                config.data_dir.join("postgres").display()
            );
            Ok((cluster.url("stafettlogg"), Some(cluster)))
        }
    }
}

fn stop(cluster: Option<Cluster>) {
    if let Some(c) = cluster {
        match c.stop() {
            Ok(()) => eprintln!("Stopped the managed PostgreSQL cluster."),
            Err(e) => eprintln!("Stopping the managed PostgreSQL cluster failed: {e}"),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", stafettlogg::api_doc_json());
        return ExitCode::SUCCESS;
    }
    if let Some(Command::Import {
        file,
        url,
        token,
        batch_size,
        concurrency,
    }) = &cli.command
    {
        return import(file, url, token, *batch_size, *concurrency);
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    env_logger::Builder::new()
        .parse_filters(&config.log_level)
        .init();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi | Command::Import { .. } => unreachable!("handled above"),
        Command::Token {
            tenant,
            sub,
            name,
            roles,
            services,
            pid,
            ttl,
        } => {
            let claims = config
                .jwt
                .dev_claims(&tenant, &sub, &name, roles, services, pid, ttl);
            config.jwt.mint(&claims).map(|t| println!("{t}"))
        }
        Command::Migrate => migrate(&config),
        Command::Serve => serve(config),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Exit code 0 only when every line was created, updated or unchanged.
fn import(
    file: &std::path::Path,
    url: &str,
    token: &str,
    batch_size: usize,
    concurrency: usize,
) -> ExitCode {
    let opts = stafettlogg::import_cli::Options {
        batch_lines: batch_size.max(1),
        concurrency: concurrency.max(1),
        ..Default::default()
    };
    match stafettlogg::import_cli::run(file, url, token, &opts) {
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
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

fn migrate(config: &Config) -> Result<(), String> {
    let (url, cluster) = database(config)?;
    let result = db::run_migrations(&url)
        .map(|applied| eprintln!("Applied {} migration(s).", applied.len()));
    stop(cluster);
    result
}

fn serve(config: Config) -> Result<(), String> {
    let (url, cluster) = database(&config)?;
    let result = run_server(&config, &url);
    stop(cluster);
    result
}

fn run_server(config: &Config, url: &str) -> Result<(), String> {
    let applied = db::run_migrations(url)?;
    if !applied.is_empty() {
        log::info!("applied {} migration(s)", applied.len());
    }
    let listener = TcpListener::bind(config.bind_addr)
        .map_err(|e| format!("cannot listen on {}: {e}", config.bind_addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let ctx = stafettlogg::AppContext {
        pool: db::build_pool(url, config.pool_size),
        jwt: config.jwt.clone(),
        national_id_key: config.national_id_key.clone(),
        body_limit: config.body_limit,
        import_limit: config.import_limit,
        workers: 0,
        cors_origins: config.cors_origins.clone(),
    };
    eprintln!("Stafettlogg listens on http://{addr}");
    eprintln!("  API docs:  http://{addr}/docs/");
    eprintln!("  A token:   cargo run -- token --tenant 3805 --sub ola --name \"Ola Nordmann\" --role professional --service barnehage-solstua");
    eprintln!("  Stop with Ctrl-C.");
    actix_web::rt::System::new()
        .block_on(async move {
            let server = stafettlogg::serve(listener, ctx)?;
            let handle = server.handle();
            actix_web::rt::spawn(async move {
                shutdown_signal().await;
                eprintln!("Stopping: finishing the requests in flight...");
                handle.stop(true).await;
            });
            server.await
        })
        .map_err(|e| format!("server error: {e}"))
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
