//! Configuration comes from the environment only, and is checked once at start so a mistake stops the
//! process with a message instead of surfacing as a 500 later.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};

use crate::auth::jwks::{JwksPolicy, JwksSource};
use crate::auth::jwt::{JwtSettings, DEV_AUDIENCE, DEV_ISSUER};
use crate::http::telemetry::LogFormat;
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
    /// The service's own login (`DATABASE_APP_URL`); `None`: `DATABASE_URL` with `SET ROLE`, or the
    /// managed cluster's.
    pub database_app_url: Option<String>,
    pub data_dir: PathBuf,
    pub bind_addr: SocketAddr,
    pub pool_size: u32,
    pub body_limit: usize,
    pub import_limit: usize,
    pub jwt: JwtSettings,
    pub national_id_key: NationalIdKey,
    pub log_level: String,
    pub log_format: LogFormat,
    pub cors_origins: Vec<String>,
    pub metrics_addr: Option<SocketAddr>,
    pub delivery: Delivery,
    pub rate_limits: crate::http::rate_limit::RateLimits,
}

/// How notifications and webhooks leave the service (`crate::jobs::delivery`).
#[derive(Clone)]
pub struct Delivery {
    /// The SMTP server, as lettre reads it (`smtp://`, `smtp://...?tls=required`, `smtps://`); `None`:
    /// no e-mail is sent, and each message says so.
    pub smtp_url: Option<SecretString>,
    /// The sender of e-mails (`NOTIFY_FROM`).
    pub from: String,
    /// The SMS gateway (`SMS_URL`), which takes `{"to", "text"}` as JSON; `None`: no SMS is sent.
    pub sms_url: Option<SecretString>,
    /// The front end's address: every link in a message starts with it.
    pub public_base_url: String,
    pub webhook_allow_http: bool,
    pub webhook_allow_private: bool,
    /// The waits between tries of a message or delivery; after the last, it has failed.
    pub retries: Vec<Duration>,
    /// How often a sender looks for due work.
    pub poll: Duration,
    /// How often the reminders' pass runs (it adds each reminder once, however often it runs).
    pub reminders_every: Duration,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            smtp_url: None,
            from: DEFAULT_FROM.into(),
            sms_url: None,
            public_base_url: DEFAULT_PUBLIC_BASE_URL.into(),
            webhook_allow_http: false,
            webhook_allow_private: false,
            retries: DEFAULT_RETRIES.to_vec(),
            poll: Duration::from_secs(1),
            reminders_every: Duration::from_secs(60 * 60),
        }
    }
}

/// The waits between tries when nothing else is configured: the first retry within 10 seconds, then
/// further apart, for about 14 hours in all.
pub const DEFAULT_RETRIES: [Duration; 8] = [
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(120),
    Duration::from_secs(600),
    Duration::from_secs(1800),
    Duration::from_secs(3600),
    Duration::from_secs(3 * 3600),
    Duration::from_secs(9 * 3600),
];

pub const DEFAULT_FROM: &str = "Stafettlogg <stafettlogg@localhost>";
pub const DEFAULT_PUBLIC_BASE_URL: &str = "http://localhost:8080";

/// `SMTP_URL` as lettre takes it: `?tls=starttls` (the spelling operators know) becomes lettre's
/// `tls=required`. Anything but `smtp` or `smtps` with a host is refused at start.
pub fn smtp_url(raw: &str) -> Result<String, ConfigError> {
    let mut url =
        url::Url::parse(raw).map_err(|e| ConfigError(format!("SMTP_URL is not a URL ({e})")))?;
    if !matches!(url.scheme(), "smtp" | "smtps") || url.host_str().is_none() {
        return Err(ConfigError(
            "SMTP_URL must be smtp://host:port (plain), smtp://host:port?tls=starttls or smtps://host:port, \
             with user and password in the URL when the server wants them"
                .into(),
        ));
    }
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let mut kept = Vec::new();
    for (k, v) in pairs {
        match (k.as_str(), v.as_str()) {
            ("tls", "starttls" | "required") => kept.push(("tls".to_string(), "required".to_string())),
            ("tls", "opportunistic") => kept.push((k, v)),
            ("tls", other) => {
                return Err(ConfigError(format!(
                    "SMTP_URL: tls={other} is not known; use tls=starttls, or smtps:// for TLS from the start"
                )))
            }
            _ => {
                return Err(ConfigError(format!(
                    "SMTP_URL: the parameter `{k}` is not known (only tls=starttls)"
                )))
            }
        }
    }
    url.set_query(None);
    if !kept.is_empty() {
        url.query_pairs_mut().extend_pairs(kept);
    }
    Ok(url.to_string())
}

impl Delivery {
    fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        let smtp_url = present(&s.smtp_url)
            .map(|u| smtp_url(u).map(SecretString::from))
            .transpose()?;
        if let Some(sms) = present(&s.sms_url) {
            let ok = url::Url::parse(sms).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !ok {
                return Err(ConfigError("SMS_URL must be an http(s) URL".into()));
            }
        }
        let sends = present(&s.smtp_url).is_some() || present(&s.sms_url).is_some();
        let base = match s.public_base_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(u) => u.trim_end_matches('/').to_string(),
            None if sends => {
                return Err(ConfigError(
                    "PUBLIC_BASE_URL (the front end's address, e.g. https://stafett.kommune.no) is required with \
                     SMTP_URL or SMS_URL: every message links to it"
                        .into(),
                ))
            }
            None => DEFAULT_PUBLIC_BASE_URL.to_string(),
        };
        if !url::Url::parse(&base).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
            return Err(ConfigError(
                "PUBLIC_BASE_URL must be the front end's http(s) address, e.g. https://stafett.kommune.no"
                    .into(),
            ));
        }
        lettre::message::Mailbox::from_str(&s.notify_from).map_err(|e| {
            ConfigError(format!(
                "NOTIFY_FROM must be an address such as `Stafettlogg <stafett@kommune.no>` ({e})"
            ))
        })?;
        Ok(Delivery {
            smtp_url,
            from: s.notify_from.clone(),
            sms_url: present(&s.sms_url).map(|u| SecretString::from(u.to_string())),
            public_base_url: base,
            webhook_allow_http: s.webhook_allow_http,
            webhook_allow_private: s.webhook_allow_private,
            ..Delivery::default()
        })
    }
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
/// `IMPORT_BODY_LIMIT_BYTES` when unset: 8 MiB.
pub const DEFAULT_IMPORT_BODY_LIMIT: u64 = 8 * 1024 * 1024;
/// The development signing secret's file in `DATA_DIR`, written by the server in the managed mode.
pub const DEV_SECRET_FILE: &str = "jwt-dev-secret";

/// Every setting of the server, from the environment (or the same-named flag). `stafettlogg serve --help`
/// lists them with their defaults; secrets are wrapped so no `Debug` or log line can print them.
#[derive(clap::Args, Clone, Debug)]
pub struct Settings {
    /// PostgreSQL URL of the schema's owner, for the migrations (and the service, without
    /// DATABASE_APP_URL). Unset: a managed PostgreSQL cluster in DATA_DIR/postgres, created on first
    /// start, listening only on a Unix socket, and stopped with the server.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_parser = secret)]
    pub database_url: Option<SecretString>,
    /// The service's own PostgreSQL login (with DATABASE_URL, which then serves the migrations): a role
    /// that may act as `stafettlogg_app` and is no superuser, has no BYPASSRLS and owns no table, so
    /// row-level security keeps each request to its municipality. Unset: the service uses DATABASE_URL and
    /// acts as `stafettlogg_app` through SET ROLE (with a warning at start when that login is privileged).
    #[arg(long, env = "DATABASE_APP_URL", hide_env_values = true, value_parser = secret)]
    pub database_app_url: Option<SecretString>,
    /// The managed cluster and the generated development secrets (JWT, national-id key) live here.
    #[arg(long, env = "DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Where the API listens.
    #[arg(long, env = "BIND_ADDR", default_value = DEFAULT_BIND)]
    pub bind_addr: SocketAddr,
    /// Database connections (a few per core is best).
    #[arg(long, env = "DATABASE_POOL_SIZE", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub database_pool_size: u32,
    /// Larger request bodies get 413.
    #[arg(long, env = "BODY_LIMIT_BYTES", default_value_t = 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1024..=1024 * 1024 * 1024))]
    pub body_limit_bytes: u64,
    /// Reads (`GET`) a caller (a token's `sub` in its municipality) may make a minute; 0: no limit.
    #[arg(long, env = "RATE_LIMIT_PER_MINUTE", default_value_t = 600)]
    pub rate_limit_per_minute: u32,
    /// How many reads may come at once (the bucket's size).
    #[arg(long, env = "RATE_LIMIT_BURST", default_value_t = 120)]
    pub rate_limit_burst: u32,
    /// Writes (every other method, an import included) a caller may make a minute; 0: no limit.
    #[arg(long, env = "RATE_LIMIT_WRITES_PER_MINUTE", default_value_t = 120)]
    pub rate_limit_writes_per_minute: u32,
    /// How many writes may come at once.
    #[arg(long, env = "RATE_LIMIT_WRITES_BURST", default_value_t = 60)]
    pub rate_limit_writes_burst: u32,
    /// Requests a client address may make a minute to the routes without a token (`/public/...`,
    /// health, the docs and the spec); 0: no limit.
    #[arg(long, env = "RATE_LIMIT_PUBLIC_PER_MINUTE", default_value_t = 300)]
    pub rate_limit_public_per_minute: u32,
    /// How many of those may come at once.
    #[arg(long, env = "RATE_LIMIT_PUBLIC_BURST", default_value_t = 60)]
    pub rate_limit_public_burst: u32,
    /// Reverse proxies (IP addresses, comma-separated) whose `X-Forwarded-For` names the client; none
    /// by default (the peer's address counts).
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The limit for one import request (NDJSON).
    #[arg(long, env = "IMPORT_BODY_LIMIT_BYTES", default_value_t = DEFAULT_IMPORT_BODY_LIMIT,
          value_parser = clap::value_parser!(u64).range(1024..=1024 * 1024 * 1024))]
    pub import_body_limit_bytes: u64,
    /// The identity provider's JWKS URL (https), e.g. ID-porten's https://idporten.no/jwks.json or Entra
    /// ID's https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys. RS256 and ES256 keys by `kid`.
    /// Fetched at start (the start fails when it cannot be), again hourly, and when a token names an
    /// unknown `kid` (at most once a minute; 5-s timeout).
    #[arg(long, env = "JWT_JWKS_URL")]
    pub jwt_jwks_url: Option<String>,
    /// The identity provider's keys as a JWKS file, instead of JWT_JWKS_URL; read again like the URL.
    #[arg(long, env = "JWT_JWKS_FILE")]
    pub jwt_jwks_file: Option<PathBuf>,
    /// PEM files of the identity provider's public keys (RSA for RS256, P-256 for ES256), comma-separated.
    #[arg(long, env = "JWT_PUBLIC_KEYS", value_delimiter = ',')]
    pub jwt_public_keys: Vec<PathBuf>,
    /// The `iss` tokens must carry (required with public keys: JWT_JWKS_URL, JWT_JWKS_FILE,
    /// JWT_PUBLIC_KEYS) [default: stafettlogg-dev].
    #[arg(long, env = "JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// The `aud` tokens must carry (required with public keys) [default: stafettlogg].
    #[arg(long, env = "JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Development tokens (HS256), at least 32 characters; refused together with public keys. Unset in
    /// the managed mode without public keys: generated into DATA_DIR/jwt-dev-secret, which the `token`
    /// command reads.
    #[arg(long, env = "JWT_HS256_SECRET", hide_env_values = true, value_parser = secret)]
    pub jwt_hs256_secret: Option<SecretString>,
    /// Base64 of 32 random bytes (`openssl rand -base64 32`); encrypts national identity numbers. Required
    /// with DATABASE_URL; generated into DATA_DIR/national-id.key in the managed mode.
    #[arg(long, env = "NATIONAL_ID_KEY", hide_env_values = true, value_parser = secret)]
    pub national_id_key: Option<SecretString>,
    /// Log filter, e.g. `info` or `stafettlogg=debug,info`.
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    pub rust_log: String,
    /// `text`, or `json` for one JSON object per line.
    #[arg(long, env = "LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,
    /// Origins of browser front ends that may call the API (comma-separated, e.g.
    /// https://app.kommune.no); none by default.
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", default_value = "")]
    pub cors_allowed_origins: String,
    /// Where Prometheus metrics are served (`GET /metrics`), e.g. 127.0.0.1:9090; unset: no metrics.
    /// Never the API's own address.
    #[arg(long, env = "METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// The SMTP server for e-mail notifications: smtp://host:port (plain), smtp://host:port?tls=starttls,
    /// or smtps://host:port, with user:password@ before the host when it wants them. Unset: no e-mail is
    /// sent, and each person's list of messages says so.
    #[arg(long, env = "SMTP_URL", hide_env_values = true, value_parser = secret)]
    pub smtp_url: Option<SecretString>,
    /// The sender of notification e-mails.
    #[arg(long, env = "NOTIFY_FROM", default_value = DEFAULT_FROM)]
    pub notify_from: String,
    /// An HTTP gateway for SMS notifications: it gets a POST of {"to": "+47...", "text": "..."}. Unset:
    /// no SMS is sent.
    #[arg(long, env = "SMS_URL", hide_env_values = true, value_parser = secret)]
    pub sms_url: Option<SecretString>,
    /// The front end's address; every link in a notification starts with it. Required with SMTP_URL or
    /// SMS_URL (links to localhost in messages would help nobody) [default without them:
    /// http://localhost:8080].
    #[arg(long, env = "PUBLIC_BASE_URL")]
    pub public_base_url: Option<String>,
    /// Allow webhook URLs over plain http (for trying it out; deliveries are signed but not encrypted).
    #[arg(long, env = "WEBHOOK_ALLOW_HTTP", default_value_t = false)]
    pub webhook_allow_http: bool,
    /// Allow webhooks to private, loopback and link-local addresses (a receiver inside the municipality's
    /// own network); otherwise they are refused after DNS resolution, so a webhook cannot reach the
    /// service's neighbours.
    #[arg(long, env = "WEBHOOK_ALLOW_PRIVATE", default_value_t = false)]
    pub webhook_allow_private: bool,
}

fn secret(s: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(s.trim().to_string()))
}

/// Parses only the environment (no command line), for callers that are not the binary's `serve`.
#[derive(clap::Parser)]
struct EnvOnly {
    #[command(flatten)]
    settings: Settings,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        use clap::Parser;
        EnvOnly::try_parse_from(["stafettlogg"])
            .map(|e| e.settings)
            .map_err(|e| ConfigError(e.to_string().trim().to_string()))
    }

    fn is_embedded(&self) -> bool {
        self.database_url.is_none()
    }

    fn public_key_files(&self) -> Vec<PathBuf> {
        self.jwt_public_keys
            .iter()
            .filter(|p| !p.as_os_str().is_empty())
            .cloned()
            .collect()
    }

    /// The identity provider's key set, if one is configured.
    fn jwks_source(&self) -> Result<Option<JwksSource>, ConfigError> {
        let url = self
            .jwt_jwks_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty());
        let file = self
            .jwt_jwks_file
            .as_ref()
            .filter(|p| !p.as_os_str().is_empty());
        match (url, file) {
            (Some(_), Some(_)) => Err(ConfigError(
                "set JWT_JWKS_URL or JWT_JWKS_FILE, not both".into(),
            )),
            (Some(url), None) => JwksSource::url(url).map(Some).map_err(ConfigError),
            (None, Some(file)) => Ok(Some(JwksSource::File(file.clone()))),
            (None, None) => Ok(None),
        }
    }

    /// Whether tokens are verified with the identity provider's public keys (then never with the
    /// development secret).
    fn has_public_keys(&self) -> bool {
        !self.public_key_files().is_empty()
            || self
                .jwt_jwks_file
                .as_ref()
                .is_some_and(|p| !p.as_os_str().is_empty())
            || self
                .jwt_jwks_url
                .as_deref()
                .is_some_and(|u| !u.trim().is_empty())
    }
}

const SECRET_WITH_PUBLIC_KEYS: &str =
    "JWT_HS256_SECRET cannot be set together with the identity provider's public keys (JWT_JWKS_URL, \
     JWT_JWKS_FILE or JWT_PUBLIC_KEYS): whoever holds the development secret could mint tokens the \
     identity provider never issued. Unset JWT_HS256_SECRET";

fn present(s: &Option<SecretString>) -> Option<&str> {
    s.as_ref()
        .map(|v| v.expose_secret())
        .filter(|v| !v.is_empty())
}

impl Config {
    /// Reads the environment. Development secrets are generated into `DATA_DIR` only in the embedded mode.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_settings(Settings::from_env()?)
    }

    pub fn from_settings(s: Settings) -> Result<Self, ConfigError> {
        let database = match present(&s.database_url) {
            Some(url) => DatabaseSource::Url(url.to_string()),
            None => DatabaseSource::Embedded,
        };
        let database_app_url = present(&s.database_app_url).map(str::to_string);
        if database_app_url.is_some() && matches!(database, DatabaseSource::Embedded) {
            return Err(ConfigError(
                "DATABASE_APP_URL needs DATABASE_URL (the owner's URL, for the migrations); the managed \
                 cluster sets up its own service login"
                    .into(),
            ));
        }
        let data_dir = absolute(&s.data_dir)?;
        let embedded = s.is_embedded();
        let public_keys = s.has_public_keys();
        let hs256_secret = match present(&s.jwt_hs256_secret) {
            Some(_) if public_keys => return Err(ConfigError(SECRET_WITH_PUBLIC_KEYS.into())),
            Some(v) if v.len() < 32 => {
                return Err(ConfigError(
                    "JWT_HS256_SECRET must be at least 32 characters".into(),
                ))
            }
            Some(v) => Some(v.as_bytes().to_vec()),
            // With the identity provider's keys no development secret is generated or read.
            None if embedded && !public_keys => {
                Some(generated_secret(&data_dir, DEV_SECRET_FILE, 48)?)
            }
            None => None,
        };
        let jwt = jwt_settings(&s, hs256_secret)?;
        let national_id_key = match present(&s.national_id_key) {
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
        let cors_origins =
            crate::http::cors::parse_origins(&s.cors_allowed_origins).map_err(ConfigError)?;
        if s.metrics_addr == Some(s.bind_addr) {
            return Err(ConfigError(
                "METRICS_ADDR must differ from BIND_ADDR: metrics are never served on the public port".into(),
            ));
        }
        let delivery = Delivery::from_settings(&s)?;
        let rate_limits = s.rate_limits();
        Ok(Config {
            database,
            database_app_url,
            data_dir,
            bind_addr: s.bind_addr,
            pool_size: s.database_pool_size,
            body_limit: s.body_limit_bytes as usize,
            import_limit: s.import_body_limit_bytes as usize,
            jwt,
            national_id_key,
            log_level: s.rust_log,
            log_format: s.log_format,
            cors_origins,
            metrics_addr: s.metrics_addr,
            delivery,
            rate_limits,
        })
    }
}

impl Settings {
    fn rate_limits(&self) -> crate::http::rate_limit::RateLimits {
        use crate::http::rate_limit::Budget;
        let budget = |per_minute: u32, burst: u32| {
            (per_minute > 0).then_some(Budget {
                per_minute,
                burst: burst.max(1),
            })
        };
        crate::http::rate_limit::RateLimits {
            reads: budget(self.rate_limit_per_minute, self.rate_limit_burst),
            writes: budget(
                self.rate_limit_writes_per_minute,
                self.rate_limit_writes_burst,
            ),
            public: budget(
                self.rate_limit_public_per_minute,
                self.rate_limit_public_burst,
            ),
            trusted_proxies: self.trusted_proxies.clone(),
        }
    }
}

fn jwt_settings(s: &Settings, hs256_secret: Option<Vec<u8>>) -> Result<JwtSettings, ConfigError> {
    let public_key_files = s.public_key_files();
    let jwks = s.jwks_source()?;
    let public_keys = !public_key_files.is_empty() || jwks.is_some();
    if public_keys && hs256_secret.is_some() {
        return Err(ConfigError(SECRET_WITH_PUBLIC_KEYS.into()));
    }
    if hs256_secret.is_none() && !public_keys {
        return Err(ConfigError(
            "no way to verify tokens: set JWT_JWKS_URL (the identity provider's keys), JWT_JWKS_FILE or \
             JWT_PUBLIC_KEYS (PEM files, RS256/ES256) or, for development, JWT_HS256_SECRET"
                .into(),
        ));
    }
    let (issuer, audience) = match (s.jwt_issuer.clone(), s.jwt_audience.clone()) {
        (Some(i), Some(a)) => (i, a),
        (i, a) if !public_keys => (
            i.unwrap_or_else(|| DEV_ISSUER.into()),
            a.unwrap_or_else(|| DEV_AUDIENCE.into()),
        ),
        _ => {
            return Err(ConfigError(
                "JWT_ISSUER and JWT_AUDIENCE are required with the identity provider's keys \
                 (JWT_JWKS_URL, JWT_JWKS_FILE, JWT_PUBLIC_KEYS)"
                    .into(),
            ))
        }
    };
    let settings =
        JwtSettings::new(hs256_secret, &public_key_files, issuer, audience).map_err(ConfigError)?;
    match jwks {
        Some(source) => settings
            .with_jwks(source, JwksPolicy::default())
            .map_err(ConfigError),
        None => Ok(settings),
    }
}

/// The signing settings for the `token` command: the server's own secret, never a new one. It is
/// `JWT_HS256_SECRET`, or the file the server generated in `DATA_DIR` (searched from the working directory
/// upwards when `DATA_DIR` is not set, so `cargo run -- token` works from any folder of the checkout).
pub fn token_signer(s: &Settings) -> Result<JwtSettings, ConfigError> {
    if s.has_public_keys() {
        return Err(ConfigError(
            "the server verifies tokens with the identity provider's keys (JWT_JWKS_URL, JWT_JWKS_FILE or \
             JWT_PUBLIC_KEYS) and refuses development tokens: get a token from the identity provider"
                .into(),
        ));
    }
    let secret = match present(&s.jwt_hs256_secret) {
        Some(v) if v.len() < 32 => {
            return Err(ConfigError(
                "JWT_HS256_SECRET must be at least 32 characters".into(),
            ))
        }
        Some(v) => v.as_bytes().to_vec(),
        None => {
            let explicit = std::env::var_os("DATA_DIR").is_some();
            let looked = secret_candidates(&s.data_dir, explicit)?;
            let found = looked.iter().find(|p| p.is_file());
            let Some(path) = found else {
                let list: Vec<String> = looked.iter().map(|p| p.display().to_string()).collect();
                return Err(ConfigError(format!(
                    "no development signing secret: JWT_HS256_SECRET is not set and none of {} exists. \
                     Start the server once (`cargo run`) in the repository root so it generates one, \
                     or set DATA_DIR to the server's data directory, or JWT_HS256_SECRET to the server's secret",
                    list.join(", ")
                )));
            };
            read_secret(path)?
        }
    };
    jwt_settings(s, Some(secret))
}

fn secret_candidates(data_dir: &Path, explicit: bool) -> Result<Vec<PathBuf>, ConfigError> {
    let data_dir = absolute(data_dir)?;
    let mut out = vec![data_dir.join(DEV_SECRET_FILE)];
    if !explicit {
        let cwd = std::env::current_dir().map_err(|e| ConfigError(e.to_string()))?;
        out.extend(
            cwd.ancestors()
                .skip(1)
                .map(|dir| dir.join("data").join(DEV_SECRET_FILE)),
        );
    }
    Ok(out)
}

fn read_secret(path: &Path) -> Result<Vec<u8>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| {
            ConfigError(format!(
                "{} is not base64; delete it to generate a new one",
                path.display()
            ))
        })
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
    if path.exists() {
        return read_secret(&path);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory of its own for one test, removed when the test ends.
    struct Scratch(PathBuf);

    impl std::ops::Deref for Scratch {
        type Target = Path;
        fn deref(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn scratch(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "stafettlogg-config-{name}-{}",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// The settings of `serve` with nothing in the environment.
    fn settings(data_dir: &Path) -> Settings {
        use clap::Parser;
        let mut s = EnvOnly::parse_from(["stafettlogg"]).settings;
        s.database_url = None;
        s.data_dir = data_dir.to_path_buf();
        s.jwt_public_keys = vec![];
        s.jwt_jwks_url = None;
        s.jwt_jwks_file = None;
        s.jwt_issuer = None;
        s.jwt_audience = None;
        s.jwt_hs256_secret = None;
        s.national_id_key = None;
        s.metrics_addr = None;
        s.cors_allowed_origins = String::new();
        s.smtp_url = None;
        s.sms_url = None;
        s.public_base_url = None;
        s
    }

    #[test]
    fn sending_messages_needs_the_front_ends_address_for_their_links() {
        let dir = scratch("base");
        let mut s = settings(&dir);
        s.smtp_url = Some(SecretString::from("smtp://127.0.0.1:2525".to_string()));
        assert!(error(s.clone()).contains("PUBLIC_BASE_URL"));
        s.public_base_url = Some("https://stafett.kommune.no/".into());
        let config = Config::from_settings(s).unwrap();
        assert_eq!(
            config.delivery.public_base_url,
            "https://stafett.kommune.no"
        );
    }

    #[test]
    fn smtp_url_takes_plain_starttls_and_tls_and_refuses_the_rest() {
        assert_eq!(
            smtp_url("smtp://mail.kommune.no:25").unwrap(),
            "smtp://mail.kommune.no:25"
        );
        assert_eq!(
            smtp_url("smtp://u:p@mail.kommune.no:587?tls=starttls").unwrap(),
            "smtp://u:p@mail.kommune.no:587?tls=required"
        );
        assert!(smtp_url("smtps://mail.kommune.no").is_ok());
        for bad in [
            "http://mail.kommune.no",
            "smtp://x.no?tls=maybe",
            "smtp://x.no?pool=1",
            "mail.kommune.no",
        ] {
            assert!(smtp_url(bad).is_err(), "{bad} was accepted");
        }
    }

    fn jwks_file(dir: &Path) -> PathBuf {
        // P-256's generator as the one key: a valid point.
        let path = dir.join("jwks.json");
        std::fs::write(
            &path,
            r#"{"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig",
                "x": "axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY",
                "y": "T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU"}]}"#,
        )
        .unwrap();
        path
    }

    fn error(s: Settings) -> String {
        match Config::from_settings(s) {
            Ok(_) => panic!("the configuration was accepted"),
            Err(e) => e.to_string(),
        }
    }

    /// A failover formation's URL lists several hosts in libpq's keyword/value form; it is
    /// handed to libpq as it is (nothing here parses it as a URI).
    #[test]
    fn a_multi_host_keyword_value_database_url_is_taken_as_it_is() {
        let url = "host=10.0.0.1,10.0.0.2 port=5432,5432 dbname=stafettlogg user=owner \
                   target_session_attrs=read-write";
        let dir = scratch("multihost");
        let mut s = settings(&dir);
        s.database_url = Some(SecretString::from(url.to_string()));
        s.national_id_key = Some(SecretString::from(
            "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=".to_string(),
        ));
        s.jwt_hs256_secret = Some(SecretString::from("x".repeat(40)));
        let config = Config::from_settings(s).unwrap();
        assert!(matches!(&config.database, DatabaseSource::Url(u) if u == url));
    }

    #[test]
    fn the_development_secret_is_refused_together_with_public_keys() {
        let dir = scratch("secret");
        let with_keys = [
            {
                let mut s = settings(&dir);
                s.jwt_jwks_file = Some(jwks_file(&dir));
                s
            },
            {
                let mut s = settings(&dir);
                s.jwt_jwks_url = Some("https://idporten.no/jwks.json".into());
                s
            },
            {
                let mut s = settings(&dir);
                s.jwt_public_keys = vec![PathBuf::from("/nonexistent/key.pem")];
                s
            },
        ];
        for mut s in with_keys {
            s.jwt_issuer = Some("https://idporten.no".into());
            s.jwt_audience = Some("stafettlogg".into());
            s.jwt_hs256_secret = Some(SecretString::from("x".repeat(40)));
            let e = error(s);
            assert!(e.contains("JWT_HS256_SECRET cannot be set together"), "{e}");
        }
        assert!(!dir.join(DEV_SECRET_FILE).exists());
    }

    #[test]
    fn the_managed_mode_generates_no_development_secret_when_public_keys_are_configured() {
        let dir = scratch("managed");
        // A secret from an earlier development run is not picked up either.
        let data = dir.join("data");
        std::fs::create_dir_all(&data).unwrap();
        let mut s = settings(&data);
        s.jwt_jwks_file = Some(jwks_file(&dir));
        s.jwt_issuer = Some("https://idporten.no".into());
        s.jwt_audience = Some("stafettlogg".into());
        let config = Config::from_settings(s.clone()).unwrap();
        assert!(!config.jwt.has_dev_secret());
        assert!(config.jwt.has_public_keys());
        assert!(!data.join(DEV_SECRET_FILE).exists());
        std::fs::write(data.join(DEV_SECRET_FILE), "c2VjcmV0c2VjcmV0\n").unwrap();
        let config = Config::from_settings(s.clone()).unwrap();
        assert!(!config.jwt.has_dev_secret());
        let e = token_signer(&s).err().unwrap().to_string();
        assert!(e.contains("refuses development tokens"), "{e}");
        // Without public keys the managed mode keeps its development secret.
        let dir = scratch("dev");
        let config = Config::from_settings(settings(&dir)).unwrap();
        assert!(config.jwt.has_dev_secret() && !config.jwt.has_public_keys());
    }

    #[test]
    fn a_key_set_needs_issuer_and_audience_and_one_source() {
        let dir = scratch("issuer");
        let mut s = settings(&dir);
        s.jwt_jwks_file = Some(jwks_file(&dir));
        s.jwt_issuer = Some("https://idporten.no".into());
        assert!(error(s.clone()).contains("JWT_ISSUER and JWT_AUDIENCE are required"));
        s.jwt_audience = Some("stafettlogg".into());
        s.jwt_jwks_url = Some("https://idporten.no/jwks.json".into());
        assert!(error(s.clone()).contains("not both"));
        s.jwt_jwks_file = None;
        s.jwt_jwks_url = Some("http://idporten.no/jwks.json".into());
        assert!(error(s.clone()).contains("must use https"));
        s.jwt_jwks_url = None;
        s.jwt_jwks_file = Some(dir.join("missing.json"));
        let e = error(s.clone());
        assert!(
            e.contains("JWT_JWKS_FILE") && e.contains("missing.json"),
            "{e}"
        );
        std::fs::write(
            dir.join("broken.json"),
            r#"{"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}"#,
        )
        .unwrap();
        s.jwt_jwks_file = Some(dir.join("broken.json"));
        let e = error(s);
        assert!(e.contains("broken.json") && e.contains("2048"), "{e}");
    }
}
