//! Token verification with an explicit algorithm allow-list per key: HS256 only with the development
//! secret, RS256 only with RSA public keys, ES256 only with EC public keys. The header's `alg` picks the
//! key family, so an HS256 token "signed" with a public RSA key (algorithm confusion) never meets that
//! key, and `alg: none` is not an algorithm the decoder knows.
//!
//! Time: `exp` is required; `nbf` and `iat` are checked when present. Each is allowed
//! [`LEEWAY_SECONDS`] of clock skew between the identity provider and this server: a token is accepted
//! until `exp` + 30 s, from `nbf` - 30 s, and refused when its `iat` is more than 30 s ahead.

use std::path::PathBuf;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

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
    pub iss: String,
    pub aud: String,
    pub exp: u64,
    #[serde(default)]
    pub iat: u64,
}

#[derive(Clone)]
pub struct JwtSettings {
    hs256_secret: Option<Vec<u8>>,
    rsa_keys: Vec<DecodingKey>,
    ec_keys: Vec<DecodingKey>,
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
        let mut rsa_keys = Vec::new();
        let mut ec_keys = Vec::new();
        for path in public_key_files {
            let pem = std::fs::read(path)
                .map_err(|e| format!("JWT_PUBLIC_KEYS: cannot read {}: {e}", path.display()))?;
            if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
                rsa_keys.push(key);
            } else if let Ok(key) = DecodingKey::from_ec_pem(&pem) {
                ec_keys.push(key);
            } else {
                return Err(format!(
                    "JWT_PUBLIC_KEYS: {} is neither an RSA nor an EC (P-256) public key in PEM",
                    path.display()
                ));
            }
        }
        Ok(JwtSettings {
            hs256_secret,
            rsa_keys,
            ec_keys,
            issuer,
            audience,
        })
    }

    /// Settings for tests and tools: a development secret only.
    pub fn development(secret: &[u8]) -> Self {
        JwtSettings {
            hs256_secret: Some(secret.to_vec()),
            rsa_keys: vec![],
            ec_keys: vec![],
            issuer: crate::config::DEV_ISSUER.into(),
            audience: crate::config::DEV_AUDIENCE.into(),
        }
    }

    pub fn has_dev_secret(&self) -> bool {
        self.hs256_secret.is_some()
    }

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
            Algorithm::RS256 => self.rsa_keys.clone(),
            Algorithm::ES256 => self.ec_keys.clone(),
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
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + ttl_seconds,
            iat: now,
        }
    }
}
