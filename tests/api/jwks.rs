//! The identity provider's keys as a JWKS (the shape ID-porten and Entra ID publish): RS256 and ES256 by
//! `kid`, rotation, a slow provider, and the ways a token can pretend to come from it. The keys are real,
//! generated here (RSA 2048, P-256); the key set is a file or served over real HTTP by a small provider.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::EncodePrivateKey;
use reqwest::Method;
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use stafettlogg::auth::jwks::{JwksPolicy, JwksSource};
use stafettlogg::auth::jwt::JwtSettings;

use crate::support::TestApp;

const ISSUER: &str = "https://idp.test";
const AUDIENCE: &str = "stafettlogg-api";

enum Key {
    Rsa(Box<rsa::RsaPrivateKey>),
    Ec(p256::SecretKey),
}

struct Keys {
    rsa1: Key,
    rsa2: Key,
    ec1: Key,
}

/// Generated once per test process: RSA key generation takes a moment.
fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let rsa = || {
            Key::Rsa(Box::new(
                rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key"),
            ))
        };
        Keys {
            rsa1: rsa(),
            rsa2: rsa(),
            ec1: Key::Ec(p256::SecretKey::random(
                &mut p256::elliptic_curve::rand_core::OsRng,
            )),
        }
    })
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Key {
    fn alg(&self) -> Algorithm {
        match self {
            Key::Rsa(_) => Algorithm::RS256,
            Key::Ec(_) => Algorithm::ES256,
        }
    }

    fn encoding(&self) -> EncodingKey {
        match self {
            Key::Rsa(k) => EncodingKey::from_rsa_der(k.to_pkcs1_der().unwrap().as_bytes()),
            Key::Ec(k) => EncodingKey::from_ec_der(k.to_pkcs8_der().unwrap().as_bytes()),
        }
    }

    /// The public key as a JWKS entry: RSA as Entra ID publishes it (no `alg`, an `x5t`), P-256 with `alg`.
    fn jwk(&self, kid: &str) -> Value {
        match self {
            Key::Rsa(k) => json!({
                "kty": "RSA", "use": "sig", "kid": kid, "x5t": kid,
                "n": b64(&k.n().to_bytes_be()), "e": b64(&k.e().to_bytes_be()),
            }),
            Key::Ec(k) => {
                let point = k.public_key().to_encoded_point(false);
                json!({
                    "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
                    "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap()),
                })
            }
        }
    }

    /// Every form of the public key an attacker could use as an HMAC secret.
    fn public_forms(&self) -> Vec<Vec<u8>> {
        let mut forms = vec![serde_json::to_vec(&self.jwk("x")).unwrap()];
        match self {
            Key::Rsa(k) => {
                let public = k.to_public_key();
                forms.push(
                    public
                        .to_public_key_pem(LineEnding::LF)
                        .unwrap()
                        .into_bytes(),
                );
                forms.push(public.to_pkcs1_pem(LineEnding::LF).unwrap().into_bytes());
                forms.push(public.to_public_key_der().unwrap().as_bytes().to_vec());
                forms.push(public.to_pkcs1_der().unwrap().as_bytes().to_vec());
                forms.push(public.n().to_bytes_be());
            }
            Key::Ec(k) => {
                let public = k.public_key();
                forms.push(
                    public
                        .to_public_key_pem(LineEnding::LF)
                        .unwrap()
                        .into_bytes(),
                );
                forms.push(public.to_public_key_der().unwrap().as_bytes().to_vec());
                forms.push(public.to_encoded_point(false).as_bytes().to_vec());
            }
        }
        forms
    }

    fn sign(&self, kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(self.alg());
        header.kid = kid.map(String::from);
        jsonwebtoken::encode(&header, claims, &self.encoding()).unwrap()
    }
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// What the identity provider would put in a token for this service.
fn claims() -> Value {
    json!({
        "sub": "ola", "name": "Ola Nordmann", "tenant": "3805", "roles": ["professional"],
        "services": [], "iss": ISSUER, "aud": AUDIENCE, "iat": now(), "exp": now() + 600,
    })
}

fn claims_with(change: impl FnOnce(&mut Value)) -> Value {
    let mut c = claims();
    change(&mut c);
    c
}

/// `token` with its header replaced (the signature stays the one made for the original header).
fn with_header(token: &str, header: Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!(
        "{}.{}.{}",
        b64(&serde_json::to_vec(&header).unwrap()),
        parts[1],
        parts[2]
    )
}

fn hs256(secret: &[u8], kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid.map(String::from);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn jwks(entries: Vec<Value>) -> Value {
    json!({ "keys": entries })
}

fn jwks_file(doc: &Value) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("jwks");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}.json", uuid::Uuid::now_v7().simple()));
    std::fs::write(&path, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    path
}

fn settings(source: JwksSource, policy: JwksPolicy) -> Result<JwtSettings, String> {
    JwtSettings::new(None, &[], ISSUER.into(), AUDIENCE.into())?.with_jwks(source, policy)
}

async fn app_with(source: JwksSource, policy: JwksPolicy) -> TestApp {
    TestApp::spawn_with_jwt(settings(source, policy).expect("the key set loads")).await
}

async fn app_with_file(doc: &Value) -> TestApp {
    app_with(JwksSource::File(jwks_file(doc)), JwksPolicy::default()).await
}

/// Status and problem detail of `GET /api/v1/me` with `token`.
async fn me(app: &TestApp, token: &str) -> (u16, String) {
    let res = app
        .request(Method::GET, "/api/v1/me", Some(token))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    let detail = body["detail"].as_str().unwrap_or_default().to_string();
    (status, detail)
}

async fn assert_refused(app: &TestApp, token: &str, detail_has: &str, what: &str) {
    let (status, detail) = me(app, token).await;
    assert_eq!(status, 401, "{what}: {detail}");
    assert!(
        detail.contains(detail_has),
        "{what}: `{detail}` lacks `{detail_has}`"
    );
}

/// An identity provider publishing a key set at `url`, over plain HTTP on the loopback interface.
struct Idp {
    url: String,
    doc: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
    hang: Arc<AtomicBool>,
}

impl Idp {
    fn start(doc: Value) -> Idp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let idp = Idp {
            url,
            doc: Arc::new(Mutex::new(doc)),
            fetches: Arc::new(AtomicUsize::new(0)),
            hang: Arc::new(AtomicBool::new(false)),
        };
        let (doc, fetches, hang) = (idp.doc.clone(), idp.fetches.clone(), idp.hang.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (doc, fetches, hang) = (doc.clone(), fetches.clone(), hang.clone());
                std::thread::spawn(move || {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    fetches.fetch_add(1, Ordering::SeqCst);
                    if hang.load(Ordering::SeqCst) {
                        // Accepts, reads the request, and never answers.
                        std::thread::sleep(Duration::from_secs(30));
                        return;
                    }
                    let body = doc.lock().unwrap().to_string();
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                         connection: close\r\n\r\n{body}",
                        body.len()
                    );
                });
            }
        });
        idp
    }

    fn source(&self) -> JwksSource {
        JwksSource::url(&self.url).unwrap()
    }

    fn publish(&self, doc: Value) {
        *self.doc.lock().unwrap() = doc;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

#[actix_web::test]
async fn rs256_and_es256_tokens_are_verified_by_kid_against_a_jwks_file() {
    let k = keys();
    let mut encryption_key = k.rsa2.jwk("rsa-enc");
    encryption_key["use"] = json!("enc");
    let app = app_with_file(&jwks(vec![
        k.rsa1.jwk("rsa-1"),
        k.ec1.jwk("ec-1"),
        encryption_key,
        json!({"kty": "oct", "kid": "oct-1", "k": b64(b"shared")}),
    ]))
    .await;

    let (status, _) = me(&app, &k.rsa1.sign(Some("rsa-1"), &claims())).await;
    assert_eq!(status, 200);
    let res = app
        .get("/api/v1/me", &k.ec1.sign(Some("ec-1"), &claims()))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["tenant"].as_str(), body["user_id"].as_str()),
        (Some("3805"), Some("ola"))
    );

    // The encryption key is not a signing key, and another key's signature does not pass for rsa-1's.
    assert_refused(
        &app,
        &k.rsa2.sign(Some("rsa-enc"), &claims()),
        "kid",
        "use: enc",
    )
    .await;
    assert_refused(
        &app,
        &k.rsa2.sign(Some("rsa-1"), &claims()),
        "signature",
        "rsa2 as rsa-1",
    )
    .await;
    // A symmetric key in the set is never used: HS256 is not accepted with public keys alone.
    let forged = hs256(b"shared", Some("oct-1"), &claims());
    assert_refused(&app, &forged, "algorithm", "oct key").await;
}

#[actix_web::test]
async fn a_token_with_an_unknown_kid_is_401() {
    let k = keys();
    let idp = Idp::start(jwks(vec![k.rsa1.jwk("rsa-1")]));
    let app = app_with(idp.source(), JwksPolicy::default()).await;
    assert_eq!(idp.fetches(), 1, "fetched at start");

    // A key the provider does not have: one more fetch, then 401.
    let unknown = k.rsa2.sign(Some("rsa-2"), &claims());
    assert_refused(&app, &unknown, "kid", "unknown kid").await;
    assert_eq!(idp.fetches(), 2);
    // More unknown kids within the cooldown are refused without asking the provider again.
    for kid in ["rsa-3", "rsa-4", "rsa-5"] {
        assert_refused(&app, &k.rsa2.sign(Some(kid), &claims()), "kid", kid).await;
    }
    assert_eq!(
        idp.fetches(),
        2,
        "at most one fetch a minute for unknown kids"
    );
    let (status, _) = me(&app, &k.rsa1.sign(Some("rsa-1"), &claims())).await;
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn a_new_key_of_the_identity_provider_is_accepted_after_rotation() {
    let k = keys();
    let idp = Idp::start(jwks(vec![k.rsa1.jwk("rsa-1")]));
    let app = app_with(idp.source(), JwksPolicy::default()).await;
    // The provider adds a key and starts signing with it: the unknown kid fetches the set again.
    idp.publish(jwks(vec![
        k.rsa1.jwk("rsa-1"),
        k.rsa2.jwk("rsa-2"),
        k.ec1.jwk("ec-1"),
    ]));
    let (status, detail) = me(&app, &k.rsa2.sign(Some("rsa-2"), &claims())).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(idp.fetches(), 2);
    let (status, _) = me(&app, &k.ec1.sign(Some("ec-1"), &claims())).await;
    assert_eq!(status, 200);
    let (status, _) = me(&app, &k.rsa1.sign(Some("rsa-1"), &claims())).await;
    assert_eq!(status, 200);
    assert_eq!(idp.fetches(), 2, "known kids fetch nothing");
}

#[actix_web::test]
async fn a_key_the_identity_provider_withdrew_is_refused_after_the_periodic_refresh() {
    let k = keys();
    let idp = Idp::start(jwks(vec![k.rsa1.jwk("rsa-1"), k.rsa2.jwk("rsa-2")]));
    let policy = JwksPolicy {
        refresh_every: Duration::from_millis(200),
        ..JwksPolicy::default()
    };
    let app = app_with(idp.source(), policy).await;
    let old = k.rsa1.sign(Some("rsa-1"), &claims());
    let new = k.rsa2.sign(Some("rsa-2"), &claims());
    assert_eq!(me(&app, &old).await.0, 200);
    idp.publish(jwks(vec![k.rsa2.jwk("rsa-2")]));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, detail) = me(&app, &old).await;
        if status == 401 {
            assert!(detail.contains("kid"), "{detail}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the withdrawn key is still accepted"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(me(&app, &new).await.0, 200);
}

#[actix_web::test]
async fn algorithm_confusion_an_hs256_token_keyed_with_the_public_key_is_401() {
    let k = keys();
    let app = app_with_file(&jwks(vec![k.rsa1.jwk("rsa-1"), k.ec1.jwk("ec-1")])).await;
    for (key, kid) in [(&k.rsa1, "rsa-1"), (&k.ec1, "ec-1")] {
        for (i, secret) in key.public_forms().iter().enumerate() {
            for named in [Some(kid), None] {
                let forged = hs256(secret, named, &claims());
                assert_refused(
                    &app,
                    &forged,
                    "algorithm",
                    &format!("{kid} form {i} {named:?}"),
                )
                .await;
            }
        }
    }
}

#[actix_web::test]
async fn a_token_presented_with_another_algorithm_than_its_key_is_401() {
    let k = keys();
    let app = app_with_file(&jwks(vec![k.rsa1.jwk("rsa-1"), k.ec1.jwk("ec-1")])).await;
    let rs = k.rsa1.sign(Some("rsa-1"), &claims());
    let es = k.ec1.sign(Some("ec-1"), &claims());
    // A genuine RS256 signature under an ES256 header, and the other way round.
    let as_es256 = with_header(&rs, json!({"alg": "ES256", "typ": "JWT", "kid": "rsa-1"}));
    assert_refused(&app, &as_es256, "algorithm", "RS256 presented as ES256").await;
    let as_rs256 = with_header(&es, json!({"alg": "RS256", "typ": "JWT", "kid": "ec-1"}));
    assert_refused(&app, &as_rs256, "algorithm", "ES256 presented as RS256").await;
    // Signed with the RSA key but naming the EC key, and RSA algorithms outside the allow-list.
    let crossed = k.rsa1.sign(Some("ec-1"), &claims());
    assert_refused(&app, &crossed, "algorithm", "RS256 naming the EC key").await;
    for alg in ["RS512", "PS256", "none", "HS512"] {
        let t = with_header(&rs, json!({"alg": alg, "typ": "JWT", "kid": "rsa-1"}));
        assert_eq!(me(&app, &t).await.0, 401, "{alg}");
    }
    let mut header = Header::new(Algorithm::RS512);
    header.kid = Some("rsa-1".into());
    let rs512 = jsonwebtoken::encode(&header, &claims(), &k.rsa1.encoding()).unwrap();
    assert_refused(&app, &rs512, "algorithm", "a real RS512 signature").await;
}

#[actix_web::test]
async fn identity_provider_tokens_are_refused_when_expired_not_yet_valid_or_issued_in_the_future() {
    let k = keys();
    let app = app_with_file(&jwks(vec![k.rsa1.jwk("rsa-1"), k.ec1.jwk("ec-1")])).await;
    let year = 365 * 24 * 3600;
    let cases: [(&str, Value, &str); 7] = [
        (
            "expired",
            claims_with(|c| c["exp"] = json!(now() - 300)),
            "expired",
        ),
        (
            "nbf in an hour",
            claims_with(|c| c["nbf"] = json!(now() + 3600)),
            "nbf",
        ),
        (
            "iat in a year",
            claims_with(|c| c["iat"] = json!(now() + year)),
            "iat",
        ),
        (
            "no exp",
            claims_with(|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
            "claim",
        ),
        (
            "another issuer",
            claims_with(|c| c["iss"] = json!("https://evil.test")),
            "issuer",
        ),
        (
            "another audience",
            claims_with(|c| c["aud"] = json!("another-api")),
            "audience",
        ),
        (
            "no tenant",
            claims_with(|c| c["tenant"] = json!("38")),
            "tenant",
        ),
    ];
    for (what, c, detail) in &cases {
        for key in [(&k.rsa1, "rsa-1"), (&k.ec1, "ec-1")] {
            assert_refused(&app, &key.0.sign(Some(key.1), c), detail, what).await;
        }
    }
    // Clock skew within the 30-s leeway is accepted.
    let skewed = claims_with(|c| {
        c["nbf"] = json!(now() + 10);
        c["iat"] = json!(now() + 10);
    });
    assert_eq!(me(&app, &k.ec1.sign(Some("ec-1"), &skewed)).await.0, 200);
}

#[actix_web::test]
async fn a_token_without_kid_is_accepted_only_when_one_key_could_have_signed_it() {
    let k = keys();
    let one_each = app_with_file(&jwks(vec![k.rsa1.jwk("rsa-1"), k.ec1.jwk("ec-1")])).await;
    assert_eq!(me(&one_each, &k.rsa1.sign(None, &claims())).await.0, 200);
    assert_eq!(me(&one_each, &k.ec1.sign(None, &claims())).await.0, 200);

    let two_rsa = app_with_file(&jwks(vec![
        k.rsa1.jwk("rsa-1"),
        k.rsa2.jwk("rsa-2"),
        k.ec1.jwk("ec-1"),
    ]))
    .await;
    assert_refused(
        &two_rsa,
        &k.rsa1.sign(None, &claims()),
        "kid",
        "no kid, two RSA keys",
    )
    .await;
    assert_eq!(me(&two_rsa, &k.ec1.sign(None, &claims())).await.0, 200);
}

#[actix_web::test]
async fn a_slow_identity_provider_delays_only_the_token_with_an_unknown_kid() {
    let k = keys();
    let idp = Idp::start(jwks(vec![k.rsa1.jwk("rsa-1")]));
    let policy = JwksPolicy {
        fetch_timeout: Duration::from_secs(3),
        ..JwksPolicy::default()
    };
    let app = app_with(idp.source(), policy).await;
    idp.hang.store(true, Ordering::SeqCst);
    let unknown = k.rsa2.sign(Some("rsa-2"), &claims());
    let known = k.rsa1.sign(Some("rsa-1"), &claims());

    let started = Instant::now();
    let waiting = async {
        let answer = me(&app, &unknown).await;
        (answer, started.elapsed())
    };
    // While that token waits for the provider, the one server worker answers everyone else at once.
    let others = async {
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        let mut slowest = Duration::ZERO;
        for _ in 0..3 {
            let t = Instant::now();
            assert_eq!(me(&app, &known).await.0, 200);
            slowest = slowest.max(t.elapsed());
        }
        slowest
    };
    let (((status, detail), waited), slowest) = futures_util::future::join(waiting, others).await;
    assert_eq!(status, 401, "{detail}");
    assert!(detail.contains("kid"), "{detail}");
    assert!(waited < Duration::from_secs(6), "waited {waited:?}");
    assert!(
        slowest < Duration::from_millis(1500),
        "a known kid waited {slowest:?}"
    );
    assert_eq!(idp.fetches(), 2);
    // The keys published before the provider went quiet still verify.
    assert_eq!(me(&app, &known).await.0, 200);
}

#[actix_web::test]
async fn a_key_set_that_cannot_be_loaded_stops_the_start_with_a_message() {
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/jwks", l.local_addr().unwrap())
    };
    let e = settings(JwksSource::url(&closed).unwrap(), JwksPolicy::default())
        .err()
        .unwrap();
    assert!(e.contains("cannot fetch") && e.contains(&closed), "{e}");

    let idp = Idp::start(json!({"keys": []}));
    let e = settings(idp.source(), JwksPolicy::default()).err().unwrap();
    assert!(
        e.contains(&idp.url) && e.contains("none of the key set's 0 keys"),
        "{e}"
    );

    idp.hang.store(true, Ordering::SeqCst);
    let policy = JwksPolicy {
        fetch_timeout: Duration::from_secs(1),
        ..JwksPolicy::default()
    };
    let started = Instant::now();
    let e = settings(idp.source(), policy).err().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(e.contains("cannot fetch"), "{e}");

    let missing = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-jwks.json");
    let e = settings(JwksSource::File(missing), JwksPolicy::default())
        .err()
        .unwrap();
    assert!(
        e.contains("JWT_JWKS_FILE") && e.contains("no-such-jwks.json"),
        "{e}"
    );
}
