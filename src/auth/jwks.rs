//! The identity provider's public keys as a JSON Web Key Set (RFC 7517), the document ID-porten and
//! Entra ID publish at their `jwks_uri`: keys by `kid`, RS256 (`kty: RSA`, `n`/`e`) and ES256 (`kty: EC`,
//! `crv: P-256`, `x`/`y`).
//!
//! Which keys count: `use` must be `sig` when present and `key_ops` must include `verify` when present; a
//! key's `alg`, when present, must be RS256 or ES256 (a key without `alg` is RS256 for RSA and ES256 for
//! P-256, as Entra ID publishes them). Other keys (encryption keys, PS256/RS384, P-384, `oct`, `OKP`) are
//! skipped. A key that counts but is broken (bad base64, an RSA modulus under 2048 bits, a point not on
//! P-256, a `kid` twice) makes the whole document an error, and so does a document without one usable key:
//! a refresh that fails keeps the keys the provider published before.
//!
//! Refresh, all of it bounded and none of it on the async executor:
//! - at start the keys are loaded once, and the start fails with a message when they cannot be;
//! - a token naming an unknown `kid` may trigger one fetch, at most once per `unknown_kid_cooldown`
//!   (the caller runs it on a blocking thread and the fetch times out after `fetch_timeout`);
//! - the first token verified after `refresh_every` starts a refresh on a thread of its own and is verified
//!   with the keys at hand (after a failed refresh the next try is `retry_after_failure` later).
//!
//! A refresh replaces the whole set, so a key the provider withdrew stops verifying.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

/// Larger JWKS documents are refused (ID-porten's and Entra ID's are a few KiB).
const MAX_DOCUMENT_BYTES: u64 = 1024 * 1024;
const MIN_RSA_BITS: usize = 2048;
/// What the RSA implementation verifies; a larger key would fail every token, so it is refused up front.
const MAX_RSA_BITS: usize = 4096;

/// Where the key set comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JwksSource {
    File(PathBuf),
    Url(String),
}

impl JwksSource {
    /// An `https` URL; plain `http` only for a loopback host (a key set over plain HTTP could be swapped
    /// by anyone on the path, and with it every token).
    pub fn url(url: &str) -> Result<Self, String> {
        let url = url.trim();
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("JWT_JWKS_URL `{url}` is not a URL"))?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => host.split(':').next().unwrap_or_default(),
        };
        if host.is_empty() {
            return Err(format!("JWT_JWKS_URL `{url}` has no host"));
        }
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        match scheme.to_ascii_lowercase().as_str() {
            "https" => Ok(JwksSource::Url(url.to_string())),
            "http" if loopback => Ok(JwksSource::Url(url.to_string())),
            "http" => Err(format!(
                "JWT_JWKS_URL `{url}` must use https: keys fetched over plain HTTP could be replaced on the way"
            )),
            _ => Err(format!("JWT_JWKS_URL `{url}` must be an https URL")),
        }
    }

    fn load(&self, timeout: Duration) -> Result<Vec<VerifyKey>, String> {
        let bytes = match self {
            JwksSource::File(path) => read_file(path)?,
            JwksSource::Url(url) => fetch(url, timeout)?,
        };
        parse(&bytes).map_err(|e| format!("{self}: {e}"))
    }
}

impl std::fmt::Display for JwksSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JwksSource::File(p) => write!(f, "JWT_JWKS_FILE {}", p.display()),
            JwksSource::Url(u) => write!(f, "JWT_JWKS_URL {u}"),
        }
    }
}

fn read_file(path: &std::path::Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path)
        .map_err(|e| format!("JWT_JWKS_FILE: cannot read {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("JWT_JWKS_FILE: cannot read {}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(format!(
            "JWT_JWKS_FILE {} is larger than {MAX_DOCUMENT_BYTES} bytes",
            path.display()
        ));
    }
    Ok(bytes)
}

fn fetch(url: &str, timeout: Duration) -> Result<Vec<u8>, String> {
    let loopback_http = url
        .get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://"));
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .https_only(!loopback_http)
        .max_redirects(3)
        .build()
        .new_agent();
    let mut res = agent
        .get(url)
        .header("accept", "application/json, application/jwk-set+json")
        .call()
        .map_err(|e| format!("JWT_JWKS_URL: cannot fetch {url}: {e}"))?;
    if res.status() != 200 {
        return Err(format!(
            "JWT_JWKS_URL: {url} answered {} instead of 200",
            res.status()
        ));
    }
    res.body_mut()
        .with_config()
        .limit(MAX_DOCUMENT_BYTES)
        .read_to_vec()
        .map_err(|e| format!("JWT_JWKS_URL: cannot read {url}: {e}"))
}

/// One key that can verify tokens: its `kid` (none for PEM files), the one algorithm it verifies, the key.
#[derive(Clone, Debug)]
pub(crate) struct VerifyKey {
    pub kid: Option<String>,
    pub alg: Algorithm,
    pub key: DecodingKey,
}

/// When keys are fetched again. The defaults are what `JWT_JWKS_URL` and `JWT_JWKS_FILE` use.
#[derive(Clone, Debug)]
pub struct JwksPolicy {
    /// A fetch that takes longer fails (connecting, TLS, headers and body together).
    pub fetch_timeout: Duration,
    /// Keys older than this are refreshed in the background.
    pub refresh_every: Duration,
    /// After a refresh failed, the next background try waits this long.
    pub retry_after_failure: Duration,
    /// An unknown `kid` fetches the keys again at most once in this time.
    pub unknown_kid_cooldown: Duration,
}

impl Default for JwksPolicy {
    fn default() -> Self {
        JwksPolicy {
            fetch_timeout: Duration::from_secs(5),
            refresh_every: Duration::from_secs(60 * 60),
            retry_after_failure: Duration::from_secs(60),
            unknown_kid_cooldown: Duration::from_secs(60),
        }
    }
}

/// The current key set of one source and the bookkeeping of its refreshes.
pub(crate) struct Jwks {
    source: JwksSource,
    policy: JwksPolicy,
    keys: RwLock<Arc<Vec<VerifyKey>>>,
    next_refresh: Mutex<Instant>,
    refreshing: AtomicBool,
    last_unknown_kid_fetch: Mutex<Option<Instant>>,
}

impl Jwks {
    /// Loads the keys once (blocking); an error names the source and what is wrong.
    pub fn load(source: JwksSource, policy: JwksPolicy) -> Result<Arc<Self>, String> {
        let keys = source.load(policy.fetch_timeout)?;
        tracing::info!(source = %source, keys = keys.len(), "loaded the identity provider's keys");
        Ok(Arc::new(Jwks {
            next_refresh: Mutex::new(Instant::now() + policy.refresh_every),
            source,
            policy,
            keys: RwLock::new(Arc::new(keys)),
            refreshing: AtomicBool::new(false),
            last_unknown_kid_fetch: Mutex::new(None),
        }))
    }

    /// The keys at hand, without waiting for anything; starts a background refresh when one is due.
    pub fn keys(self: &Arc<Self>) -> Arc<Vec<VerifyKey>> {
        let due = Instant::now() >= *self.next_refresh.lock().unwrap_or_else(|e| e.into_inner());
        if due && !self.refreshing.swap(true, Ordering::AcqRel) {
            let this = Arc::clone(self);
            let spawned = std::thread::Builder::new()
                .name("jwks-refresh".into())
                .spawn(move || {
                    this.refresh();
                    this.refreshing.store(false, Ordering::Release);
                });
            if spawned.is_err() {
                self.refreshing.store(false, Ordering::Release);
            }
        }
        Arc::clone(&self.keys.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Whether a token with an unknown `kid` may fetch the keys now; true at most once per cooldown, and
    /// the caller that gets true is expected to call [`Jwks::refresh`].
    pub fn claim_unknown_kid_fetch(&self) -> bool {
        let mut last = self
            .last_unknown_kid_fetch
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        match *last {
            Some(t) if now.duration_since(t) < self.policy.unknown_kid_cooldown => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }

    /// Loads the keys again (blocking: file or network, at most `fetch_timeout`). On failure the keys at
    /// hand stay and a warning is logged.
    pub fn refresh(&self) {
        let result = self.source.load(self.policy.fetch_timeout);
        let next = match result {
            Ok(keys) => {
                tracing::info!(source = %self.source, keys = keys.len(), "refreshed the identity provider's keys");
                *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
                self.policy.refresh_every
            }
            Err(error) => {
                tracing::warn!(%error, "cannot refresh the identity provider's keys; keeping the ones at hand");
                self.policy.retry_after_failure
            }
        };
        *self.next_refresh.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now() + next;
    }
}

/// The usable keys of a JWKS document; see the module's documentation for which keys count.
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<VerifyKey>, String> {
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the key set is not JSON: {e}"))?;
    let entries = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("the key set has no `keys` array (a JWKS document is {\"keys\": [...]})")?;
    let mut keys: Vec<VerifyKey> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let Some(key) = parse_key(i, entry)? else {
            continue;
        };
        if let Some(kid) = &key.kid {
            if keys.iter().any(|k| k.kid.as_ref() == Some(kid)) {
                return Err(format!("two keys have the kid `{kid}`"));
            }
        }
        keys.push(key);
    }
    if keys.is_empty() {
        return Err(format!(
            "none of the key set's {} keys can verify tokens here (wanted: `kty` RSA for RS256 or `kty` EC \
             with `crv` P-256 for ES256, `use` sig)",
            entries.len()
        ));
    }
    Ok(keys)
}

fn parse_key(i: usize, entry: &Value) -> Result<Option<VerifyKey>, String> {
    let Some(obj) = entry.as_object() else {
        return Err(format!("key {i} is not a JSON object"));
    };
    let text = |name: &str| obj.get(name).and_then(Value::as_str);
    let kid = match obj.get("kid") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(format!("key {i}: `kid` is not a string")),
    };
    let name = match &kid {
        Some(k) => format!("key {i} (kid `{k}`)"),
        None => format!("key {i}"),
    };
    if text("use").is_some_and(|u| u != "sig") {
        return Ok(None);
    }
    if let Some(ops) = obj.get("key_ops").and_then(Value::as_array) {
        if !ops.iter().any(|o| o.as_str() == Some("verify")) {
            return Ok(None);
        }
    }
    let alg = text("alg");
    let (alg, key) = match text("kty") {
        Some("RSA") if alg.is_none_or(|a| a == "RS256") => {
            let n = component(obj, "n", &name)?;
            let e = component(obj, "e", &name)?;
            let bits = bit_length(&n);
            if bits < MIN_RSA_BITS {
                return Err(format!(
                    "{name}: the RSA modulus has {bits} bits; at least {MIN_RSA_BITS} are required"
                ));
            }
            if bits > MAX_RSA_BITS {
                return Err(format!(
                    "{name}: the RSA modulus has {bits} bits; at most {MAX_RSA_BITS} are supported"
                ));
            }
            let exponent_ok =
                bit_length(&e) <= 33 && e.last().is_some_and(|b| b & 1 == 1) && bit_length(&e) > 1;
            if !exponent_ok {
                return Err(format!("{name}: `e` is not a usable RSA public exponent"));
            }
            (
                Algorithm::RS256,
                DecodingKey::from_rsa_raw_components(&n, &e),
            )
        }
        Some("EC") if alg.is_none_or(|a| a == "ES256") && text("crv") == Some("P-256") => {
            let x = component(obj, "x", &name)?;
            let y = component(obj, "y", &name)?;
            if x.len() != 32 || y.len() != 32 {
                return Err(format!(
                    "{name}: a P-256 key's `x` and `y` are 32 bytes each"
                ));
            }
            let mut point = Vec::with_capacity(65);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            let key = DecodingKey::from_ec_der(&point);
            // Building a verifier checks that the point is on the curve; the signature is a dummy.
            if jsonwebtoken::crypto::verify("AA", b"", &key, Algorithm::ES256).is_err() {
                return Err(format!("{name}: `x`/`y` is not a point on P-256"));
            }
            (Algorithm::ES256, key)
        }
        _ => return Ok(None),
    };
    Ok(Some(VerifyKey { kid, alg, key }))
}

fn component(
    obj: &serde_json::Map<String, Value>,
    field: &str,
    name: &str,
) -> Result<Vec<u8>, String> {
    let value = obj
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{name} has no `{field}`"))?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value.trim_end_matches('='))
        .ok()
        .filter(|b| !b.is_empty())
        .ok_or_else(|| format!("{name}: `{field}` is not base64url"))
}

fn bit_length(big_endian: &[u8]) -> usize {
    match big_endian.iter().position(|&b| b != 0) {
        Some(i) => (big_endian.len() - i - 1) * 8 + (8 - big_endian[i].leading_zeros() as usize),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// P-256's generator: a point on the curve.
    fn ec_key(kid: &str) -> Value {
        json!({
            "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
            "x": b64(&hex("6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296")),
            "y": b64(&hex("4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5")),
        })
    }

    fn rsa_key(kid: &str, bytes: usize) -> Value {
        let mut n = vec![0xC5u8; bytes];
        n[bytes - 1] = 0x01;
        json!({"kty": "RSA", "kid": kid, "use": "sig", "n": b64(&n), "e": "AQAB"})
    }

    fn parse_json(v: Value) -> Result<Vec<VerifyKey>, String> {
        parse(&serde_json::to_vec(&v).unwrap())
    }

    fn kids(keys: &[VerifyKey]) -> Vec<(Option<&str>, Algorithm)> {
        keys.iter().map(|k| (k.kid.as_deref(), k.alg)).collect()
    }

    #[test]
    fn an_entra_and_an_id_porten_shaped_document_give_their_signing_keys() {
        // Entra ID: no `alg`, `x5t` and `x5c` besides `n`/`e`. ID-porten: `alg` RS256.
        let mut entra = rsa_key("entra-1", 256);
        entra["x5t"] = json!("abc");
        entra["x5c"] = json!(["MIIB"]);
        entra["issuer"] = json!("https://login.microsoftonline.com/x/v2.0");
        let mut idporten = rsa_key("idporten-1", 512);
        idporten["alg"] = json!("RS256");
        let keys = parse_json(json!({"keys": [entra, idporten, ec_key("ec-1")]})).unwrap();
        assert_eq!(
            kids(&keys),
            [
                (Some("entra-1"), Algorithm::RS256),
                (Some("idporten-1"), Algorithm::RS256),
                (Some("ec-1"), Algorithm::ES256)
            ]
        );
    }

    #[test]
    fn keys_for_other_uses_and_algorithms_are_skipped() {
        let mut enc = rsa_key("enc", 256);
        enc["use"] = json!("enc");
        let mut ps = rsa_key("ps", 256);
        ps["alg"] = json!("PS256");
        let mut oaep = rsa_key("oaep", 256);
        oaep["alg"] = json!("RSA-OAEP");
        let mut wrap = rsa_key("wrap", 256);
        wrap["key_ops"] = json!(["wrapKey"]);
        let mut p384 = ec_key("p384");
        p384["crv"] = json!("P-384");
        let mut es384 = ec_key("es384");
        es384["alg"] = json!("ES384");
        let oct = json!({"kty": "oct", "kid": "oct", "k": "c2VjcmV0"});
        let okp = json!({"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "AAAA"});
        let no_kty = json!({"kid": "none"});
        let keys = parse_json(json!({"keys": [
            enc, ps, oaep, wrap, p384, es384, oct, okp, no_kty, rsa_key("good", 256)
        ]}))
        .unwrap();
        assert_eq!(kids(&keys), [(Some("good"), Algorithm::RS256)]);
    }

    #[test]
    fn a_key_without_kid_is_kept() {
        let mut k = rsa_key("x", 256);
        k.as_object_mut().unwrap().remove("kid");
        let keys = parse_json(json!({"keys": [k]})).unwrap();
        assert_eq!(kids(&keys), [(None, Algorithm::RS256)]);
    }

    #[test]
    fn bad_documents_are_refused_with_a_clear_message() {
        let err = |v: Value| parse_json(v).unwrap_err();
        assert!(parse(b"<html>").unwrap_err().contains("not JSON"));
        assert!(err(json!({"key": []})).contains("no `keys` array"));
        assert!(err(json!({"keys": []})).contains("none of the key set's 0 keys"));
        let mut enc = rsa_key("enc", 256);
        enc["use"] = json!("enc");
        assert!(err(json!({"keys": [enc]})).contains("none of the key set's 1 keys"));
        assert!(err(json!({"keys": ["RSA"]})).contains("key 0 is not a JSON object"));
        assert!(err(json!({"keys": [rsa_key("a", 256), rsa_key("a", 256)]}))
            .contains("two keys have the kid `a`"));
        let short = err(json!({"keys": [rsa_key("old", 128)]}));
        assert!(
            short.contains("kid `old`") && short.contains("1024 bits") && short.contains("2048"),
            "{short}"
        );
        assert!(err(json!({"keys": [rsa_key("huge", 1024)]})).contains("at most 4096"));
        let mut no_n = rsa_key("no-n", 256);
        no_n.as_object_mut().unwrap().remove("n");
        assert!(err(json!({"keys": [no_n]})).contains("has no `n`"));
        let mut bad_b64 = rsa_key("b64", 256);
        bad_b64["n"] = json!("not base64!");
        assert!(err(json!({"keys": [bad_b64]})).contains("`n` is not base64url"));
        let mut even_e = rsa_key("e", 256);
        even_e["e"] = json!(b64(&[2]));
        assert!(err(json!({"keys": [even_e]})).contains("`e` is not a usable"));
        let mut short_x = ec_key("x");
        short_x["x"] = json!(b64(&[1; 31]));
        assert!(err(json!({"keys": [short_x]})).contains("32 bytes"));
        let mut off_curve = ec_key("off");
        off_curve["y"] = json!(b64(&[7; 32]));
        assert!(err(json!({"keys": [off_curve]})).contains("not a point on P-256"));
        let mut kid_number = ec_key("n");
        kid_number["kid"] = json!(7);
        assert!(err(json!({"keys": [kid_number]})).contains("`kid` is not a string"));
    }

    #[test]
    fn a_jwks_url_must_be_https_except_on_the_loopback_interface() {
        for ok in [
            "https://idporten.no/jwks.json",
            "https://login.microsoftonline.com/abc/discovery/v2.0/keys",
            "http://127.0.0.1:8081/jwks",
            "http://localhost/jwks",
            "http://[::1]:9000/jwks",
        ] {
            assert_eq!(JwksSource::url(ok), Ok(JwksSource::Url(ok.into())), "{ok}");
        }
        for (bad, why) in [
            ("http://idp.example/jwks", "must use https"),
            ("http://127.0.0.1.evil.example/jwks", "must use https"),
            ("http://localhost@idp.example/jwks", "must use https"),
            ("ftp://idp.example/jwks", "https URL"),
            ("idp.example/jwks", "not a URL"),
            ("https:///jwks", "no host"),
        ] {
            let e = JwksSource::url(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[0, 0, 1]), 1);
        assert_eq!(bit_length(&[0x80, 0]), 16);
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0x01, 0x00, 0x01]), 17);
    }
}
