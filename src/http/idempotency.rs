//! `Idempotency-Key` on every POST under `/api/v1`: a record system that retries a POST after a timeout
//! gets the first answer again instead of a second case or entry.
//!
//! The rules, per caller (tenant + token `sub`):
//! - same key, same request (method, path with query, body): the first answer is replayed (status,
//!   `Content-Type`, `Location`, `ETag`, `Link`, body) with `Idempotent-Replayed: true`; nothing executes;
//! - same key, another request: 422 naming the header; a key whose first request still runs: 409 with
//!   `Retry-After: 1`; a key that is empty, longer than 255 or not visible ASCII: 400;
//! - only 2xx and 4xx answers are kept; after a 5xx the key is released so a retry executes;
//! - keys are kept 24 hours; an in-flight key whose execution stopped refreshing it for 60 s (a crashed
//!   instance) is abandoned and the next identical request takes it over.
//!
//! Requests without the header, or without a valid token (the handler answers 401), pass untouched and
//! cost no database statement. The key and the body never reach a log line.

use std::future::Future;
use std::time::Duration;

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpResponse, ResponseError};
use diesel::dsl::{now, IntervalDsl};
use diesel::prelude::*;
use diesel::sql_types::Timestamptz;
use diesel::upsert::excluded;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::connections::of_this_request;
use crate::db::schema::idempotency_keys as k;
use crate::db::Pool;
use crate::http::error::{AppError, FieldError, ProblemType};
use crate::http::extract::{BodyLimit, ImportLimit};

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// The header's name as clients write it, for `errors[].field`.
pub const FIELD: &str = "Idempotency-Key";
pub const MAX_KEY_LENGTH: usize = 255;
/// Keys are kept at least this long; after that the key may be used for another request.
const KEPT_HOURS: i32 = 24;
/// An in-flight key not refreshed for this long belongs to an execution that died.
const ABANDONED_AFTER_SECONDS: i32 = 60;
/// How often a running execution refreshes its key: well inside the abandonment limit.
const HEARTBEAT: Duration = Duration::from_secs(20);
/// The answer's headers a replay needs; the others (X-Request-Id, CORS) belong to each request.
const KEPT_HEADERS: [HeaderName; 4] = [
    header::CONTENT_TYPE,
    header::LOCATION,
    header::ETAG,
    header::LINK,
];

crate::text_enum! {
    /// Where a key stands. A TEXT column with a CHECK; an unknown value read back is an error, never a
    /// guess.
    pub enum KeyState {
        /// The first request is executing (or its instance died: see `locked_at`).
        InFlight,
        /// The answer is stored and is replayed.
        Completed,
    }
}

/// Checks the header's value: 1-255 visible ASCII characters (no spaces, no control characters).
pub fn check_key(value: &[u8]) -> Result<&str, &'static str> {
    if value.is_empty() {
        return Err("must not be empty");
    }
    if value.len() > MAX_KEY_LENGTH {
        return Err("must be at most 255 characters");
    }
    if !value.iter().all(|b| (0x21..=0x7e).contains(b)) {
        return Err("must be visible ASCII characters only (no spaces)");
    }
    std::str::from_utf8(value).map_err(|_| "must be visible ASCII characters only (no spaces)")
}

/// The one `Idempotency-Key` of a request, when it has any.
fn key_of(headers: &HeaderMap) -> Result<&str, &'static str> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY);
    let first = values.next().map(HeaderValue::as_bytes).unwrap_or_default();
    if values.next().is_some() {
        return Err("must be sent once");
    }
    check_key(first)
}

/// What "the same request" means: SHA-256 over the method, the path with its query, and the body.
/// Method and path cannot hold a NUL byte, so the separators make the parts unambiguous.
pub fn fingerprint(method: &str, path_and_query: &str, body: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update([0]);
    h.update(path_and_query.as_bytes());
    h.update([0]);
    h.update(body);
    h.finalize().into()
}

/// Answers worth replaying: success, and the client's own mistakes (which would recur). A 5xx (or
/// anything else) is not final, so the key is released and a retry executes. Nor is a refusal of who
/// the caller is (401, 403): a role granted or a mistaken departure undone makes the retry succeed.
pub fn worth_keeping(status: StatusCode) -> bool {
    status.is_success()
        || (status.is_client_error()
            && status != StatusCode::UNAUTHORIZED
            && status != StatusCode::FORBIDDEN)
}

/// The headers of an answer a replay repeats, in order, as `[name, value]` pairs.
pub fn kept_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    KEPT_HEADERS
        .iter()
        .flat_map(|name| {
            headers
                .get_all(name)
                .filter_map(|v| v.to_str().ok())
                .map(|v| (name.as_str().to_string(), v.to_string()))
        })
        .collect()
}

/// What a request with a key already in the table gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Replay,
    InFlight,
    Mismatch,
}

/// Another request under the key is refused even while the first one runs: it can never be replayed.
pub fn judge(stored_fingerprint: &[u8], state: KeyState, fingerprint: &[u8]) -> Verdict {
    if stored_fingerprint != fingerprint {
        Verdict::Mismatch
    } else {
        match state {
            KeyState::InFlight => Verdict::InFlight,
            KeyState::Completed => Verdict::Replay,
        }
    }
}

/// A stored answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Stored {
    fn into_response(self) -> Result<HttpResponse, AppError> {
        let corrupt = |what: &str| {
            log::error!("idempotency: a stored answer has an invalid {what}");
            AppError::internal()
        };
        let status = StatusCode::from_u16(self.status).map_err(|_| corrupt("status"))?;
        let mut res = HttpResponse::build(status);
        for (name, value) in self.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| corrupt("header"))?;
            let value = HeaderValue::from_str(&value).map_err(|_| corrupt("header"))?;
            res.append_header((name, value));
        }
        res.insert_header((IDEMPOTENT_REPLAYED, HeaderValue::from_static("true")));
        Ok(res.body(self.body))
    }
}

/// Whose key: keys of one caller never meet another caller's.
#[derive(Debug, Clone)]
pub struct Scope {
    pub tenant: String,
    pub subject: String,
    pub key: String,
}

#[derive(Debug)]
pub enum Claim {
    /// This request executes; `Uuid` identifies the execution, which alone may complete or release the key.
    Acquired(Uuid),
    Replay(Stored),
    InFlight,
    Mismatch,
}

type StoredRow = (
    Vec<u8>,
    KeyState,
    Option<i16>,
    Option<serde_json::Value>,
    Option<Vec<u8>>,
);

/// The queries. No transaction: each statement stands alone, and the row itself is the lock.
pub mod store {
    use super::*;

    /// Takes the key for this request, or says why not. A fresh key is inserted; an expired key (any
    /// request) or an abandoned in-flight key (the same request) is taken over by a conditional update in
    /// the same statement. Two racing requests meet at the primary key: exactly one of them sees one row.
    pub fn claim(conn: &mut PgConnection, scope: &Scope, fp: &[u8]) -> Result<Claim, AppError> {
        // The row can vanish between the two statements (a 5xx released it); then the key is free again.
        for _ in 0..3 {
            let token = Uuid::now_v7();
            let expired = k::created_at.lt(now.into_sql::<Timestamptz>() - KEPT_HOURS.hours());
            let abandoned = k::state
                .eq(KeyState::InFlight)
                .and(
                    k::locked_at
                        .lt(now.into_sql::<Timestamptz>() - ABANDONED_AFTER_SECONDS.seconds()),
                )
                .and(k::fingerprint.eq(excluded(k::fingerprint)));
            let upsert = diesel::insert_into(k::table)
                .values((
                    k::tenant.eq(&scope.tenant),
                    k::subject.eq(&scope.subject),
                    k::key.eq(&scope.key),
                    k::fingerprint.eq(fp),
                    k::state.eq(KeyState::InFlight),
                    k::claim.eq(token),
                ))
                .on_conflict((k::tenant, k::subject, k::key))
                .do_update()
                .set((
                    k::fingerprint.eq(excluded(k::fingerprint)),
                    k::state.eq(KeyState::InFlight),
                    k::claim.eq(excluded(k::claim)),
                    k::created_at.eq(now),
                    k::locked_at.eq(now),
                    k::completed_at.eq(None::<chrono::DateTime<chrono::Utc>>),
                    k::response_status.eq(None::<i16>),
                    k::response_headers.eq(None::<serde_json::Value>),
                    k::response_body.eq(None::<Vec<u8>>),
                ));
            // `filter` on an upsert is the `WHERE` of `ON CONFLICT DO UPDATE`.
            let taken =
                diesel::query_dsl::methods::FilterDsl::filter(upsert, expired.or(abandoned))
                    .execute(conn)?;
            if taken == 1 {
                return Ok(Claim::Acquired(token));
            }
            let row: Option<StoredRow> = k::table
                .find((&scope.tenant, &scope.subject, &scope.key))
                .select((
                    k::fingerprint,
                    k::state,
                    k::response_status,
                    k::response_headers,
                    k::response_body,
                ))
                .first(conn)
                .optional()?;
            let Some((stored_fp, state, status, headers, body)) = row else {
                continue;
            };
            return Ok(match judge(&stored_fp, state, fp) {
                Verdict::Mismatch => Claim::Mismatch,
                Verdict::InFlight => Claim::InFlight,
                Verdict::Replay => Claim::Replay(stored(status, headers, body)?),
            });
        }
        Ok(Claim::InFlight)
    }

    fn stored(
        status: Option<i16>,
        headers: Option<serde_json::Value>,
        body: Option<Vec<u8>>,
    ) -> Result<Stored, AppError> {
        let corrupt = || {
            log::error!("idempotency: a completed key lacks its stored answer");
            AppError::internal()
        };
        let (Some(status), Some(headers), Some(body)) = (status, headers, body) else {
            return Err(corrupt());
        };
        Ok(Stored {
            status: u16::try_from(status).map_err(|_| corrupt())?,
            headers: serde_json::from_value(headers).map_err(|_| corrupt())?,
            body,
        })
    }

    /// Stores the answer. False when the key is no longer this execution's (taken over meanwhile).
    pub fn complete(
        conn: &mut PgConnection,
        scope: &Scope,
        token: Uuid,
        answer: &Stored,
    ) -> Result<bool, AppError> {
        let status = i16::try_from(answer.status).map_err(|_| AppError::internal())?;
        let headers = serde_json::to_value(&answer.headers).map_err(|_| AppError::internal())?;
        let n = diesel::update(
            k::table
                .find((&scope.tenant, &scope.subject, &scope.key))
                .filter(k::claim.eq(token))
                .filter(k::state.eq(KeyState::InFlight)),
        )
        .set((
            k::state.eq(KeyState::Completed),
            k::completed_at.eq(now),
            k::response_status.eq(status),
            k::response_headers.eq(headers),
            k::response_body.eq(&answer.body),
        ))
        .execute(conn)?;
        Ok(n == 1)
    }

    /// Frees the key after an answer that is not kept (5xx), so a retry executes.
    pub fn release(conn: &mut PgConnection, scope: &Scope, token: Uuid) -> Result<(), AppError> {
        diesel::delete(
            k::table
                .find((&scope.tenant, &scope.subject, &scope.key))
                .filter(k::claim.eq(token))
                .filter(k::state.eq(KeyState::InFlight)),
        )
        .execute(conn)?;
        Ok(())
    }

    /// Shows that this execution is alive, so no other request takes its key over.
    pub fn refresh(conn: &mut PgConnection, scope: &Scope, token: Uuid) -> Result<(), AppError> {
        diesel::update(
            k::table
                .find((&scope.tenant, &scope.subject, &scope.key))
                .filter(k::claim.eq(token))
                .filter(k::state.eq(KeyState::InFlight)),
        )
        .set(k::locked_at.eq(now))
        .execute(conn)?;
        Ok(())
    }

    /// Deletes a bounded batch of expired keys, oldest first, skipping rows another request holds.
    pub fn delete_expired(conn: &mut PgConnection) -> Result<usize, AppError> {
        Ok(diesel::sql_query(
            "DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(\
                 SELECT ctid FROM idempotency_keys WHERE created_at < now() - interval '24 hours' \
                 ORDER BY created_at LIMIT 100 FOR UPDATE SKIP LOCKED)) \
             AND created_at < now() - interval '24 hours'",
        )
        .execute(conn)?)
    }
}

/// One statement on a pooled connection, off the async executor; a round trip of the request.
async fn with_conn<T, F>(pool: &Pool, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    crate::db::blocking(move || {
        let mut pooled = pool.get()?;
        f(&mut pooled)
    })
    .await?
}

fn header_problem(kind: ProblemType, detail: &str, message: &str) -> AppError {
    AppError {
        errors: vec![FieldError {
            field: FIELD.into(),
            message: message.into(),
        }],
        ..AppError::new(kind, detail)
    }
}

/// The largest body any POST takes: imports have the larger limit. Each handler still applies its own.
fn body_cap(req: &ServiceRequest) -> usize {
    let body = req
        .app_data::<web::Data<BodyLimit>>()
        .map_or(1024 * 1024, |l| l.0);
    let import = req
        .app_data::<web::Data<ImportLimit>>()
        .map_or(8 * 1024 * 1024, |l| l.0);
    body.max(import)
}

fn payload_of(body: web::Bytes) -> Payload {
    let stream: std::pin::Pin<
        Box<dyn futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>>>,
    > = Box::pin(futures_util::stream::once(std::future::ready(Ok(body))));
    Payload::from(stream)
}

async fn pass<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if req.method() != Method::POST
        || !req.path().starts_with("/api/v1/")
        || !req.headers().contains_key(IDEMPOTENCY_KEY)
    {
        return pass(req, next).await;
    }
    // Without a valid token nothing is stored: the handler answers 401 as it always has.
    let Ok(caller) = Caller::extract(req.request()).await else {
        return pass(req, next).await;
    };
    let key = match key_of(req.headers()) {
        Ok(key) => key.to_string(),
        Err(message) => {
            let e = header_problem(
                ProblemType::MalformedRequest,
                &format!("{FIELD}: {message}"),
                message,
            );
            return Ok(req.error_response(e));
        }
    };
    let cap = body_cap(&req);
    let body = {
        let (http, payload) = req.parts_mut();
        match crate::http::extract::read_body_limited(http, payload, cap).await {
            Ok(body) => body,
            Err(e) => return Ok(req.error_response(e)),
        }
    };
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_string(), |pq| pq.as_str().to_string());
    let fp = fingerprint(req.method().as_str(), &path_and_query, &body);
    req.set_payload(payload_of(body));
    let pool = req
        .app_data::<web::Data<Pool>>()
        .expect("the pool is registered in app data")
        .get_ref()
        .clone();
    let session = caller.session();
    let scope = Scope {
        tenant: caller.tenant,
        subject: caller.user_id,
        key,
    };
    let claim = {
        let scope = scope.clone();
        with_conn(&pool, move |conn| store::claim(conn, &scope, &fp)).await
    };
    match claim {
        Err(e) => Ok(req.error_response(e)),
        Ok(Claim::Replay(stored)) => {
            // A replay shows what the request answered, so it passes the same door as the request: a
            // staff member registered as departed gets 403, not their stored answer.
            if let Err(e) = crate::db::transaction(&pool, session, |_| Ok(())).await {
                return Ok(req.error_response(e));
            }
            match stored.into_response() {
                Ok(res) => Ok(req.into_response(res)),
                Err(e) => Ok(req.error_response(e)),
            }
        }
        Ok(Claim::Mismatch) => Ok(req.error_response(header_problem(
            ProblemType::Validation,
            "this Idempotency-Key was used for another request (method, path or body); use a new key",
            "was used for another request",
        ))),
        Ok(Claim::InFlight) => {
            let e = header_problem(
                ProblemType::Conflict,
                "the first request with this Idempotency-Key has not finished; retry shortly",
                "a request with this key is still in flight",
            );
            let mut res = e.error_response();
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            Ok(req.into_response(res))
        }
        Ok(Claim::Acquired(token)) => {
            // Its own task: a client that disconnects (the timeout the key exists for) must not cancel
            // the execution between the handler's commit and storing its answer.
            let run = actix_web::rt::spawn(of_this_request(execute(
                next.call(req),
                pool.clone(),
                scope.clone(),
                token,
            )));
            match run.await {
                Ok(result) => result,
                Err(_) => {
                    // The handler panicked: nothing to replay, so the key is freed for a retry.
                    let _ = with_conn(&pool, move |c| store::release(c, &scope, token)).await;
                    Err(actix_web::error::ErrorInternalServerError("handler failed"))
                }
            }
        }
    }
}

/// Runs the handler, refreshing the key while it runs, then stores the answer or releases the key.
async fn execute<B: MessageBody + 'static>(
    call: impl Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
    pool: Pool,
    scope: Scope,
    token: Uuid,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let result = with_heartbeat(call, &pool, &scope, token).await;
    let res = match result {
        Ok(res) if worth_keeping(res.status()) => res,
        other => {
            if let Err(e) = with_conn(&pool, move |c| store::release(c, &scope, token)).await {
                log::warn!("idempotency: could not release a key: {e}");
            }
            return other.map(ServiceResponse::map_into_boxed_body);
        }
    };
    let status = res.status();
    let (http_req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    let bytes = match body::to_bytes(body).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let _ = with_conn(&pool, move |c| store::release(c, &scope, token)).await;
            return Err(actix_web::error::ErrorInternalServerError(
                "the answer could not be read",
            ));
        }
    };
    let answer = Stored {
        status: status.as_u16(),
        headers: kept_headers(head.headers()),
        body: bytes.to_vec(),
    };
    let stored = with_conn(&pool, move |c| {
        let mine = store::complete(c, &scope, token, &answer)?;
        // Cheap, opportunistic cleanup: one request in 32 deletes a bounded batch of expired keys.
        if rand::random::<u8>() < 8 {
            if let Err(e) = store::delete_expired(c) {
                log::warn!("idempotency: cleanup of expired keys failed: {e}");
            }
        }
        Ok(mine)
    })
    .await;
    match stored {
        Ok(true) => {}
        Ok(false) => log::warn!("idempotency: a key was taken over before its answer was stored"),
        // The work is done and the client gets its answer; a retry gets 409 until the key is abandoned.
        Err(e) => log::error!("idempotency: could not store an answer: {e}"),
    }
    let res = head.set_body(bytes).map_into_boxed_body();
    Ok(ServiceResponse::new(http_req, res))
}

/// Polls `call` to its end, refreshing the key every `HEARTBEAT` so a long execution is not mistaken for
/// an abandoned one.
async fn with_heartbeat<F: Future>(call: F, pool: &Pool, scope: &Scope, token: Uuid) -> F::Output {
    use futures_util::future::{select, Either};
    let mut call = std::pin::pin!(call);
    loop {
        let tick = std::pin::pin!(actix_web::rt::time::sleep(HEARTBEAT));
        match select(call.as_mut(), tick).await {
            Either::Left((out, _)) => return out,
            Either::Right(((), _)) => {
                let (pool, scope) = (pool.clone(), scope.clone());
                actix_web::rt::spawn(of_this_request(async move {
                    let _ = with_conn(&pool, move |c| store::refresh(c, &scope, token)).await;
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_longer_than_255_characters_is_refused() {
        assert!(check_key("a".repeat(256).as_bytes()).is_err());
        assert_eq!(check_key("a".repeat(255).as_bytes()), Ok(&*"a".repeat(255)));
    }

    #[test]
    fn an_empty_key_is_refused() {
        assert_eq!(check_key(b""), Err("must not be empty"));
    }

    #[test]
    fn a_key_of_other_than_visible_ascii_is_refused() {
        for bad in [
            &b"with space"[..],
            b"tab\there",
            "bl\u{e5}b\u{e6}r".as_bytes(),
            b"\x7f",
        ] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
        assert_eq!(check_key(b"01J9Z7-order:17/b~!"), Ok("01J9Z7-order:17/b~!"));
    }

    #[test]
    fn a_key_sent_twice_is_refused() {
        let mut headers = HeaderMap::new();
        headers.append(IDEMPOTENCY_KEY, HeaderValue::from_static("a"));
        assert_eq!(key_of(&headers), Ok("a"));
        headers.append(IDEMPOTENCY_KEY, HeaderValue::from_static("b"));
        assert!(key_of(&headers).is_err());
    }

    #[test]
    fn the_fingerprint_covers_method_path_query_and_body() {
        let base = fingerprint("POST", "/api/v1/cases", b"{}");
        assert_eq!(base, fingerprint("POST", "/api/v1/cases", b"{}"));
        assert_ne!(base, fingerprint("PUT", "/api/v1/cases", b"{}"));
        assert_ne!(base, fingerprint("POST", "/api/v1/services", b"{}"));
        assert_ne!(base, fingerprint("POST", "/api/v1/cases?x=1", b"{}"));
        assert_ne!(base, fingerprint("POST", "/api/v1/cases", b"{ }"));
        // Moving bytes between path and body is another request.
        assert_ne!(
            fingerprint("POST", "/a", b"b"),
            fingerprint("POST", "/ab", b"")
        );
    }

    #[test]
    fn the_same_request_under_a_completed_key_is_replayed() {
        let fp = fingerprint("POST", "/x", b"1");
        assert_eq!(judge(&fp, KeyState::Completed, &fp), Verdict::Replay);
    }

    #[test]
    fn the_same_request_under_a_key_in_flight_waits() {
        let fp = fingerprint("POST", "/x", b"1");
        assert_eq!(judge(&fp, KeyState::InFlight, &fp), Verdict::InFlight);
    }

    #[test]
    fn another_request_under_a_key_is_a_mismatch_even_while_the_first_runs() {
        let first = fingerprint("POST", "/x", b"1");
        let other = fingerprint("POST", "/x", b"2");
        assert_eq!(
            judge(&first, KeyState::Completed, &other),
            Verdict::Mismatch
        );
        assert_eq!(judge(&first, KeyState::InFlight, &other), Verdict::Mismatch);
    }

    #[test]
    fn success_and_client_errors_are_kept_server_errors_and_refusals_of_the_caller_are_not() {
        for code in [200, 201, 204, 400, 404, 409, 412, 422] {
            assert!(worth_keeping(StatusCode::from_u16(code).unwrap()), "{code}");
        }
        for code in [301, 401, 403, 500, 502, 503, 504] {
            assert!(
                !worth_keeping(StatusCode::from_u16(code).unwrap()),
                "{code}"
            );
        }
    }

    #[test]
    fn only_the_headers_a_replay_needs_are_kept() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            header::LOCATION,
            HeaderValue::from_static("/api/v1/cases/1"),
        );
        headers.insert(header::ETAG, HeaderValue::from_static("\"1\""));
        headers.append(header::LINK, HeaderValue::from_static("<a>; rel=\"next\""));
        headers.append(header::LINK, HeaderValue::from_static("<b>; rel=\"prev\""));
        headers.insert(
            HeaderName::from_static("x-request-id"),
            HeaderValue::from_static("r1"),
        );
        headers.insert(header::SET_COOKIE, HeaderValue::from_static("s=1"));
        let kept = kept_headers(&headers);
        let names: Vec<&str> = kept.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["content-type", "location", "etag", "link", "link"]);
    }

    #[test]
    fn a_replay_repeats_status_headers_and_body_and_says_it_is_one() {
        let res = Stored {
            status: 201,
            headers: vec![("location".into(), "/api/v1/cases/1".into())],
            body: b"{}".to_vec(),
        }
        .into_response()
        .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(
            res.headers().get(header::LOCATION).unwrap(),
            "/api/v1/cases/1"
        );
        assert_eq!(res.headers().get(IDEMPOTENT_REPLAYED).unwrap(), "true");
    }

    #[test]
    fn a_corrupt_stored_answer_is_an_error_not_a_guess() {
        let bad = Stored {
            status: 1000,
            headers: vec![],
            body: vec![],
        };
        assert!(bad.into_response().is_err());
        assert_eq!("in_flight".parse(), Ok(KeyState::InFlight));
        assert_eq!("completed".parse(), Ok(KeyState::Completed));
        assert!("done".parse::<KeyState>().is_err());
    }
}
