//! Token verification with an explicit algorithm allow-list per key: HS256 only with the development
//! secret, RS256 only with RSA public keys, ES256 only with EC public keys. The header's `alg` picks the
//! key family, so an HS256 token "signed" with a public RSA key (algorithm confusion) never meets that
//! key, and `alg: none` is not an algorithm the decoder knows.
//!
//! Which public key: a key of the identity provider's key set (JWKS, see [`super::jwks`]) is found by the
//! token's `kid`, and the token's `alg` must be that key's algorithm. PEM files (`JWT_PUBLIC_KEYS`) carry
//! no `kid`: every PEM key of the token's algorithm is tried, whatever the `kid` says, unless the `kid`
//! names a key of the set. A token without `kid` meets a key of the set only when the set holds exactly one
//! key of the token's algorithm; with several it is refused, since no key is named.
//!
//! Time: `exp` is required; `nbf` and `iat` are checked when present. Each is allowed
//! [`LEEWAY_SECONDS`] of clock skew between the identity provider and this server: a token is accepted
//! until `exp` + 30 s, from `nbf` - 30 s, and refused when its `iat` is more than 30 s ahead.

use std::path::PathBuf;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::jwks::{Jwks, JwksPolicy, JwksSource, VerifyKey};
use super::Role;

/// The claims this service reads. Unknown claims are ignored: identity providers add their own.
/// (No `Debug`: `pid` is a national identity number and must not reach a log line by accident.)
#[derive(Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    #[serde(default)]
    pub name: String,
    pub tenant: String,
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    /// OAuth scopes, space-separated (RFC 9068): what an `integration` may do beyond reading and writing
    /// cases, e.g. `staff` to register staff departures.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    pub iss: String,
    pub aud: String,
    pub exp: u64,
    #[serde(default)]
    pub iat: u64,
}

/// The issuer and audience of development tokens (and the defaults when no identity provider is set).
pub const DEV_ISSUER: &str = "stafettlogg-dev";
pub const DEV_AUDIENCE: &str = "stafettlogg";

/// How tokens are verified. [`Config`](crate::config::Config) never combines the development secret with
/// public keys (tests do, to reach every path with one server).
#[derive(Clone)]
pub struct JwtSettings {
    hs256_secret: Option<Vec<u8>>,
    /// From PEM files: no `kid`.
    pem_keys: Vec<VerifyKey>,
    jwks: Option<Arc<Jwks>>,
    pub issuer: String,
    pub audience: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's algorithm is not accepted here")]
    Algorithm,
    #[error("the token's signature does not verify")]
    Signature,
    #[error("the token has expired")]
    Expired,
    #[error("the token was issued by another issuer")]
    Issuer,
    #[error("the token is meant for another audience")]
    Audience,
    #[error("the token lacks a required claim")]
    Claims,
    #[error("the token is not valid yet (its `nbf` is in the future)")]
    NotYetValid,
    #[error("the token was issued in the future (its `iat` is ahead of this server's clock)")]
    IssuedInFuture,
    #[error("the token's signing key (`kid`) is not one of the identity provider's keys")]
    UnknownKey,
    #[error("the token names no signing key (`kid`) and the identity provider has several")]
    NoKeyId,
}

/// Allowed clock skew, in seconds, for `exp`, `nbf` and `iat`.
pub const LEEWAY_SECONDS: u64 = 30;

impl JwtSettings {
    pub fn new(
        hs256_secret: Option<Vec<u8>>,
        public_key_files: &[PathBuf],
        issuer: String,
        audience: String,
    ) -> Result<Self, String> {
        let mut pem_keys = Vec::new();
        for path in public_key_files {
            let pem = std::fs::read(path)
                .map_err(|e| format!("JWT_PUBLIC_KEYS: cannot read {}: {e}", path.display()))?;
            let (alg, key) = if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
                (Algorithm::RS256, key)
            } else if let Ok(key) = DecodingKey::from_ec_pem(&pem) {
                (Algorithm::ES256, key)
            } else {
                return Err(format!(
                    "JWT_PUBLIC_KEYS: {} is neither an RSA nor an EC (P-256) public key in PEM",
                    path.display()
                ));
            };
            pem_keys.push(VerifyKey {
                kid: None,
                alg,
                key,
            });
        }
        Ok(JwtSettings {
            hs256_secret,
            pem_keys,
            jwks: None,
            issuer,
            audience,
        })
    }

    /// Adds the identity provider's key set, loaded now (blocking: a file, or a fetch of at most
    /// `policy.fetch_timeout`); an error says which source failed and why.
    pub fn with_jwks(mut self, source: JwksSource, policy: JwksPolicy) -> Result<Self, String> {
        self.jwks = Some(Jwks::load(source, policy)?);
        Ok(self)
    }

    /// Settings for tests and tools: a development secret only.
    pub fn development(secret: &[u8]) -> Self {
        JwtSettings {
            hs256_secret: Some(secret.to_vec()),
            pem_keys: vec![],
            jwks: None,
            issuer: DEV_ISSUER.into(),
            audience: DEV_AUDIENCE.into(),
        }
    }

    pub fn has_dev_secret(&self) -> bool {
        self.hs256_secret.is_some()
    }

    /// Whether public keys (PEM files or a key set) verify tokens.
    pub fn has_public_keys(&self) -> bool {
        !self.pem_keys.is_empty() || self.jwks.is_some()
    }

    /// Verifies without waiting for anything: no file or network access on the caller's thread. A token
    /// refused with [`TokenError::UnknownKey`] may verify after [`JwtSettings::refresh_keys`].
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithmName => TokenError::Algorithm,
            _ => TokenError::Malformed,
        })?;
        let keys: Vec<DecodingKey> = match header.alg {
            Algorithm::HS256 => self
                .hs256_secret
                .iter()
                .map(|s| DecodingKey::from_secret(s))
                .collect(),
            alg @ (Algorithm::RS256 | Algorithm::ES256) => {
                self.public_keys_for(alg, header.kid.as_deref())?
            }
            _ => vec![],
        };
        if keys.is_empty() {
            return Err(TokenError::Algorithm);
        }
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);

        let mut last = TokenError::Signature;
        for key in &keys {
            match jsonwebtoken::decode::<Claims>(token, key, &validation) {
                Ok(data) => {
                    let now = jsonwebtoken::get_current_timestamp();
                    if data.claims.iat > now + LEEWAY_SECONDS {
                        return Err(TokenError::IssuedInFuture);
                    }
                    return Ok(data.claims);
                }
                Err(e) => {
                    use jsonwebtoken::errors::ErrorKind as K;
                    last = match e.kind() {
                        K::InvalidSignature => TokenError::Signature,
                        K::ExpiredSignature => TokenError::Expired,
                        K::ImmatureSignature => TokenError::NotYetValid,
                        K::InvalidIssuer => TokenError::Issuer,
                        K::InvalidAudience => TokenError::Audience,
                        K::MissingRequiredClaim(_) | K::InvalidClaimFormat(_) | K::Json(_) => {
                            TokenError::Claims
                        }
                        K::InvalidAlgorithm => TokenError::Algorithm,
                        _ => TokenError::Malformed,
                    };
                    // Only a bad signature means "try the next key"; anything else is about the token itself.
                    if last != TokenError::Signature {
                        return Err(last);
                    }
                }
            }
        }
        Err(last)
    }

    /// The public keys an RS256 or ES256 token may be verified with; see the module's documentation.
    fn public_keys_for(
        &self,
        alg: Algorithm,
        kid: Option<&str>,
    ) -> Result<Vec<DecodingKey>, TokenError> {
        let set = self.jwks.as_ref().map(|j| j.keys()).unwrap_or_default();
        let pem = self.pem_keys.iter().filter(|k| k.alg == alg);
        if let Some(kid) = kid {
            if let Some(key) = set.iter().find(|k| k.kid.as_deref() == Some(kid)) {
                return if key.alg == alg {
                    Ok(vec![key.key.clone()])
                } else {
                    Err(TokenError::Algorithm)
                };
            }
            let pem: Vec<DecodingKey> = pem.map(|k| k.key.clone()).collect();
            if pem.is_empty() && self.jwks.is_some() {
                return Err(TokenError::UnknownKey);
            }
            return Ok(pem);
        }
        let mut keys: Vec<DecodingKey> = pem.map(|k| k.key.clone()).collect();
        let mut of_alg = set.iter().filter(|k| k.alg == alg);
        match (of_alg.next(), of_alg.next()) {
            (Some(only), None) => keys.push(only.key.clone()),
            (Some(_), Some(_)) if keys.is_empty() => return Err(TokenError::NoKeyId),
            _ => {}
        }
        Ok(keys)
    }

    /// For a token refused with [`TokenError::UnknownKey`]: whether to load the identity provider's keys
    /// again and retry. True at most once per cooldown (see [`JwksPolicy`]); whoever gets true is expected
    /// to call [`JwtSettings::refresh_keys`]. Cheap and non-blocking.
    pub fn claim_fetch_for_unknown_kid(&self) -> bool {
        self.jwks
            .as_ref()
            .is_some_and(|j| j.claim_unknown_kid_fetch())
    }

    /// Loads the identity provider's keys again; on failure the keys at hand stay. Blocking (a file, or a
    /// fetch of at most the policy's timeout): run it on a blocking thread, never on the async executor.
    pub fn refresh_keys(&self) {
        if let Some(jwks) = &self.jwks {
            jwks.refresh();
        }
    }

    /// Mints an HS256 development token. Refuses without a development secret: production tokens come
    /// from the identity provider, never from this binary.
    pub fn mint(&self, claims: &Claims) -> Result<String, String> {
        let secret = self.hs256_secret.as_ref().ok_or(
            "no development secret is configured (JWT_HS256_SECRET, or the embedded mode's generated one); \
             tokens for a production setup come from the identity provider",
        )?;
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret),
        )
        .map_err(|e| format!("cannot sign the token: {e}"))
    }

    /// Claims with this service's issuer and audience, valid for `ttl_seconds` from now.
    #[allow(clippy::too_many_arguments)]
    pub fn dev_claims(
        &self,
        tenant: &str,
        sub: &str,
        name: &str,
        roles: Vec<Role>,
        services: Vec<String>,
        pid: Option<String>,
        ttl_seconds: u64,
    ) -> Claims {
        let now = jsonwebtoken::get_current_timestamp();
        Claims {
            sub: sub.into(),
            name: name.into(),
            tenant: tenant.into(),
            roles,
            services,
            pid,
            scope: String::new(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + ttl_seconds,
            iat: now,
        }
    }
}
