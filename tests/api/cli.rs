//! The command line tells a newcomer what they need, and refuses clearly instead of doing the wrong thing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{binary, OutputLogged, TestApp};

fn bin() -> Command {
    binary()
}

/// A directory of its own for one test, outside the checkout: `token` looks for `data/jwt-dev-secret` in
/// every directory above the one it runs in, and a checkout where `cargo run` has served has one.
fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir()
        .join("stafettlogg-cli-tests")
        .join(format!("{name}-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

/// Removed when the test ends, managed cluster and all (some 50 MB).
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const TOKEN_ARGS: [&str; 7] = [
    "token",
    "--sub",
    "ola",
    "--role",
    "professional",
    "--tenant",
    "3805",
];

#[test]
fn serve_help_lists_every_variable_with_its_default_and_the_managed_database() {
    let out = bin().args(["serve", "--help"]).output_logged().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for var in [
        "DATABASE_URL",
        "DATABASE_APP_URL",
        "DATA_DIR",
        "BIND_ADDR",
        "DATABASE_POOL_SIZE",
        "BODY_LIMIT_BYTES",
        "IMPORT_BODY_LIMIT_BYTES",
        "JWT_JWKS_URL",
        "JWT_JWKS_FILE",
        "JWT_PUBLIC_KEYS",
        "JWT_ISSUER",
        "JWT_AUDIENCE",
        "JWT_HS256_SECRET",
        "NATIONAL_ID_KEY",
        "RUST_LOG",
        "LOG_FORMAT",
        "CORS_ALLOWED_ORIGINS",
        "METRICS_ADDR",
        "RATE_LIMIT_PER_MINUTE",
        "RATE_LIMIT_BURST",
        "RATE_LIMIT_WRITES_PER_MINUTE",
        "RATE_LIMIT_WRITES_BURST",
        "RATE_LIMIT_PUBLIC_PER_MINUTE",
        "RATE_LIMIT_PUBLIC_BURST",
        "TRUSTED_PROXIES",
    ] {
        assert!(
            help.contains(&format!("[env: {var}")),
            "{var} missing:\n{help}"
        );
    }
    assert!(help.contains("[default: 127.0.0.1:8080]"));
    assert!(help.contains("managed PostgreSQL") && help.contains("./data"));
}

#[test]
fn secrets_given_in_the_environment_are_not_printed_by_help() {
    let out = bin()
        .args(["serve", "--help"])
        .env(
            "JWT_HS256_SECRET",
            "a-secret-that-must-never-be-printed-anywhere",
        )
        .env("DATABASE_URL", "postgres://user:pw-never-printed@db/x")
        .output_logged()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(!help.contains("never-printed"), "{help}");
}

#[test]
fn serve_refuses_the_development_secret_together_with_the_identity_providers_keys() {
    let dir = scratch("secret-and-keys");
    let out = bin()
        .arg("serve")
        .env("JWT_JWKS_URL", "https://idporten.no/jwks.json")
        .env("JWT_ISSUER", "https://idporten.no")
        .env("JWT_AUDIENCE", "stafettlogg")
        .env(
            "JWT_HS256_SECRET",
            "a-development-secret-never-for-production",
        )
        .env("DATA_DIR", dir.join("data"))
        .output_logged()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains("JWT_HS256_SECRET cannot be set together"),
        "{message}"
    );
    assert!(!message.contains("never-for-production"), "{message}");
    assert!(!dir.join("data").exists(), "nothing started");
}

#[test]
fn token_refuses_when_the_server_uses_the_identity_providers_keys() {
    let dir = scratch("token-jwks");
    let out = bin()
        .args(TOKEN_ARGS)
        .env("JWT_JWKS_FILE", dir.join("jwks.json"))
        .current_dir(&dir)
        .output_logged()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("get a token from the identity provider"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn import_help_states_its_exit_codes() {
    let out = bin().args(["import", "--help"]).output_logged().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Exit codes"), "{help}");
    for code in [
        "0  every line",
        "1  one or more lines failed",
        "3  the file",
    ] {
        assert!(help.contains(code), "{code}: {help}");
    }
}

#[test]
fn token_with_a_tenant_that_is_not_four_digits_is_refused_with_a_message() {
    let out = bin()
        .args([
            "token",
            "--sub",
            "ola",
            "--role",
            "professional",
            "--tenant",
            "38",
        ])
        .env("JWT_HS256_SECRET", "x".repeat(40))
        .output_logged()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no token printed");
    assert!(stderr(&out).contains("4 digits"), "{}", stderr(&out));
}

#[test]
fn token_without_a_reachable_secret_refuses_and_says_where_it_looked_without_creating_one() {
    let dir = scratch("nosecret");
    let out = bin()
        .args(TOKEN_ARGS)
        .current_dir(&dir)
        .output_logged()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let message = stderr(&out);
    assert!(
        message.contains("no development signing secret"),
        "{message}"
    );
    assert!(
        message.contains(&dir.join("data/jwt-dev-secret").display().to_string()),
        "{message}"
    );
    assert!(!dir.join("data").exists(), "token created a data directory");
}

#[test]
fn token_finds_the_servers_secret_from_a_subdirectory_and_the_server_accepts_it() {
    let dir = scratch("found");
    let secret = b"the-servers-own-development-secret-1234567";
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, secret);
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/jwt-dev-secret"), format!("{b64}\n")).unwrap();
    std::fs::create_dir_all(dir.join("src/deeper")).unwrap();
    let out = bin()
        .args(TOKEN_ARGS)
        .current_dir(dir.join("src/deeper"))
        .output_logged()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let token = String::from_utf8(out.stdout).unwrap();
    let verifier = stafettlogg::auth::jwt::JwtSettings::development(secret);
    assert!(
        verifier.verify(token.trim()).is_ok(),
        "signed with the found secret"
    );
}

#[test]
fn serve_checks_the_port_before_starting_a_database() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = scratch("port");
    let started = std::time::Instant::now();
    let out = bin()
        .arg("serve")
        .env("BIND_ADDR", &addr)
        .env("DATA_DIR", dir.join("data"))
        .output_logged()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("cannot listen on {addr}")),
        "{}",
        stderr(&out)
    );
    assert!(
        !dir.join("data/postgres").exists(),
        "no cluster was created"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[actix_web::test]
async fn health_asks_the_service_for_readiness() {
    let app = TestApp::spawn().await;
    let url = app.base.clone();
    let ok = actix_web::rt::task::spawn_blocking(move || {
        bin()
            .args(["health", "--url", &url])
            .output_logged()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(ok.status.success(), "{}", stderr(&ok));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let down = bin()
        .args(["health", "--url", &url])
        .output_logged()
        .unwrap();
    assert_eq!(down.status.code(), Some(1));
}

/// A one-off command on a data directory no server has used: it migrates first (instead of failing on
/// missing tables), prints its result on standard output, and with LOG_FORMAT=json says everything else
/// (the managed cluster starting and stopping, the migrations) as JSON lines on standard error.
#[test]
fn a_one_off_command_on_a_fresh_data_directory_migrates_first_and_prints_its_result_on_stdout() {
    let dir = scratch("fresh");
    let out = bin()
        .args(["purge", "--dry-run"])
        .env("DATA_DIR", dir.join("data"))
        .env("LOG_FORMAT", "json")
        .env_remove("DATABASE_URL")
        .output_logged()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Purge: would erase 0 case(s) in all.\nSurveys: would erase 0 record(s) of who answered a closed \
         survey; 0 survey(s) past their retention would keep only their counts per service kind.\n"
    );
    let said = stderr(&out);
    assert!(said.contains("migration(s) first"), "{said}");
    for line in said.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(v.is_object(), "{line}");
    }
}
