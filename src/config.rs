//! Configuration comes from the environment only, and is checked once at start so a mistake stops the
//! process with a message instead of surfacing as a 500 later.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine;

use crate::auth::jwt::JwtSettings;
use crate::national_id::NationalIdKey;

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// Where the database comes from: a URL the operator gave, or the cluster this process manages.
#[derive(Clone, Debug)]
pub enum DatabaseSource {
    Url(String),
    Embedded,
}

#[derive(Clone)]
pub struct Config {
    pub database: DatabaseSource,
    pub data_dir: PathBuf,
    pub bind_addr: SocketAddr,
    pub pool_size: u32,
    pub body_limit: usize,
    pub import_limit: usize,
    pub jwt: JwtSettings,
    pub national_id_key: NationalIdKey,
    pub log_level: String,
    pub cors_origins: Vec<String>,
}

impl std::fmt::Debug for Config {
    // Secrets stay out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field(
                "database",
                &matches!(self.database, DatabaseSource::Embedded),
            )
            .field("data_dir", &self.data_dir)
            .field("bind_addr", &self.bind_addr)
            .field("pool_size", &self.pool_size)
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEV_ISSUER: &str = "stafettlogg-dev";
pub const DEV_AUDIENCE: &str = "stafettlogg";

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn parse_var<T: std::str::FromStr>(name: &str, default: T, what: &str) -> Result<T, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| ConfigError(format!("{name}={v:?} is not {what}"))),
    }
}

impl Config {
    /// Reads the environment. Development secrets are generated into `DATA_DIR` only in the embedded mode.
    pub fn from_env() -> Result<Self, ConfigError> {
        let database = match var("DATABASE_URL") {
            Some(url) => DatabaseSource::Url(url),
            None => DatabaseSource::Embedded,
        };
        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "./data".into()));
        let data_dir = absolute(&data_dir)?;
        let bind_addr = parse_var(
            "BIND_ADDR",
            DEFAULT_BIND.parse().expect("valid"),
            "a socket address like 127.0.0.1:8080",
        )?;
        let pool_size: u32 = parse_var("DATABASE_POOL_SIZE", 8, "a number of connections")?;
        if !(1..=100).contains(&pool_size) {
            return Err(ConfigError(
                "DATABASE_POOL_SIZE must be between 1 and 100".into(),
            ));
        }
        let body_limit: usize = parse_var("BODY_LIMIT_BYTES", 1024 * 1024, "a number of bytes")?;
        if !(1024..=1024 * 1024 * 1024).contains(&body_limit) {
            return Err(ConfigError(
                "BODY_LIMIT_BYTES must be between 1024 and 1073741824".into(),
            ));
        }
        let import_limit: usize = parse_var(
            "IMPORT_BODY_LIMIT_BYTES",
            8 * 1024 * 1024,
            "a number of bytes",
        )?;
        if !(1024..=1024 * 1024 * 1024).contains(&import_limit) {
            return Err(ConfigError(
                "IMPORT_BODY_LIMIT_BYTES must be between 1024 and 1073741824".into(),
            ));
        }
        let embedded = matches!(database, DatabaseSource::Embedded);

        let hs256_secret = match var("JWT_HS256_SECRET") {
            Some(s) if s.len() < 32 => {
                return Err(ConfigError(
                    "JWT_HS256_SECRET must be at least 32 characters".into(),
                ))
            }
            Some(s) => Some(s.into_bytes()),
            None if embedded => Some(generated_secret(&data_dir, "jwt-dev-secret", 48)?),
            None => None,
        };
        let public_key_files: Vec<PathBuf> = var("JWT_PUBLIC_KEYS")
            .map(|v| {
                v.split(',')
                    .map(|p| PathBuf::from(p.trim()))
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if hs256_secret.is_none() && public_key_files.is_empty() {
            return Err(ConfigError(
                "no way to verify tokens: set JWT_PUBLIC_KEYS (PEM files, RS256/ES256) or, for development, JWT_HS256_SECRET"
                    .into(),
            ));
        }
        let (issuer, audience) = match (var("JWT_ISSUER"), var("JWT_AUDIENCE")) {
            (Some(i), Some(a)) => (i, a),
            (i, a) if public_key_files.is_empty() => (
                i.unwrap_or_else(|| DEV_ISSUER.into()),
                a.unwrap_or_else(|| DEV_AUDIENCE.into()),
            ),
            _ => {
                return Err(ConfigError(
                    "JWT_ISSUER and JWT_AUDIENCE are required when JWT_PUBLIC_KEYS is set".into(),
                ))
            }
        };
        let jwt = JwtSettings::new(hs256_secret, &public_key_files, issuer, audience)
            .map_err(ConfigError)?;

        let national_id_key = match var("NATIONAL_ID_KEY") {
            Some(b64) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|_| ConfigError("NATIONAL_ID_KEY must be base64".into()))?;
                NationalIdKey::from_bytes(&bytes).map_err(ConfigError)?
            }
            None if embedded => NationalIdKey::from_bytes(&generated_secret(&data_dir, "national-id.key", 32)?)
                .map_err(ConfigError)?,
            None => {
                return Err(ConfigError(
                    "NATIONAL_ID_KEY (base64 of 32 random bytes, e.g. `openssl rand -base64 32`) is required with DATABASE_URL"
                        .into(),
                ))
            }
        };

        Ok(Config {
            database,
            data_dir,
            bind_addr,
            pool_size,
            body_limit,
            import_limit,
            jwt,
            national_id_key,
            log_level: var("RUST_LOG").unwrap_or_else(|| "info".into()),
            cors_origins: crate::cors::parse_origins(
                &var("CORS_ALLOWED_ORIGINS").unwrap_or_default(),
            )
            .map_err(ConfigError)?,
        })
    }
}

fn absolute(p: &Path) -> Result<PathBuf, ConfigError> {
    std::path::absolute(p).map_err(|e| ConfigError(format!("DATA_DIR {}: {e}", p.display())))
}

/// A random secret created on first use and kept in the data directory, so tokens minted by the `token`
/// command stay valid across restarts of the embedded development setup.
fn generated_secret(data_dir: &Path, file: &str, len: usize) -> Result<Vec<u8>, ConfigError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = data_dir.join(file);
    let engine = base64::engine::general_purpose::STANDARD;
    if let Ok(text) = std::fs::read_to_string(&path) {
        return engine.decode(text.trim()).map_err(|_| {
            ConfigError(format!(
                "{} is not base64; delete it to generate a new one",
                path.display()
            ))
        });
    }
    std::fs::create_dir_all(data_dir).map_err(|e| {
        ConfigError(format!(
            "cannot create DATA_DIR {}: {e}",
            data_dir.display()
        ))
    })?;
    let mut bytes = vec![0u8; len];
    rand::fill(&mut bytes[..]);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| ConfigError(format!("cannot write {}: {e}", path.display())))?;
    writeln!(f, "{}", engine.encode(&bytes))
        .map_err(|e| ConfigError(format!("cannot write {}: {e}", path.display())))?;
    Ok(bytes)
}
