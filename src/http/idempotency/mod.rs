//! `Idempotency-Key` on every POST under `/api/v1`: a record system that retries a POST after a timeout
//! gets the first answer again instead of a second case or entry.
//!
//! The rules, per caller (tenant + token `sub`):
//! - same key, same request (method, path with query, body, and the token's roles, services, scopes and
//!   national id): the first answer is replayed (status, `Content-Type`, `Location`, `ETag`, `Link`,
//!   body) with `Idempotent-Replayed: true`; nothing executes, so no access rule runs again: the answer
//!   goes only to a token with the claims that were answered (a registered departure is still checked);
//! - same key, another request: 422 naming the header; a key whose first request still runs: 409 with
//!   `Retry-After: 1`; a key that is empty, longer than 255 or not visible ASCII: 400;
//! - only 2xx and 4xx answers are kept; after a 5xx the key is released so a retry executes;
//! - keys are kept 24 hours; an in-flight key whose execution stopped refreshing it for 60 s (a crashed
//!   instance) is abandoned and the next identical request takes it over;
//! - a stored answer's body is sealed (AES-256-GCM, the service's key, as webhook secrets are): it may
//!   name a child or quote the log, and the table is read by backups and administrators the case's
//!   access rules do not cover.
//!
//! Requests without the header, or without a valid token (the handler answers 401), pass untouched and
//! cost no database statement. The key and the body never reach a log line.
//!
//! `rules.rs` decides what a key and a repeated request mean, `store.rs` keeps the keys; this file is the
//! middleware that asks the one and the other around each request.

pub mod rules;
pub mod store;

use std::future::Future;
use std::time::Duration;

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpResponse, ResponseError};
use diesel::PgConnection;
use uuid::Uuid;

use self::rules::{
    claims_of, fingerprint, kept_headers, key_of, worth_keeping, Stored, FIELD, IDEMPOTENCY_KEY,
};
use self::store::{Claim, Scope};
use crate::auth::Caller;
use crate::db::connections::of_this_request;
use crate::db::session::Session;
use crate::db::Pool;
use crate::http::error::{AppError, FieldError, ProblemType};
use crate::http::extract::{BodyLimit, ImportLimit};

/// How often a running execution refreshes its key: well inside the abandonment limit.
const HEARTBEAT: Duration = Duration::from_secs(20);

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

/// POSTs for which no `Idempotency-Key` is taken and nothing of the request is stored (the path, or its
/// template): a calendar feed's address is a secret shown once, which must exist nowhere but in its hash
/// (a retry makes a new address, which retires the one the lost answer held); and a survey answer must
/// not be kept with its author, not even as the fingerprint of its body (a second try is 409).
/// The path is matched as the router matches it, %-escapes decoded, so an escaped letter cannot take a
/// request past this check to the same handler.
pub fn not_stored(path: &str) -> bool {
    let path = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    path == "/api/v1/me/calendar"
        || (path.starts_with("/api/v1/surveys/") && path.ends_with("/responses"))
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if req.method() != Method::POST
        || !req.path().starts_with("/api/v1/")
        || not_stored(req.path())
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
    let fp = match fingerprint_of(&mut req, &claims_of(&caller)).await {
        Ok(fp) => fp,
        Err(e) => return Ok(req.error_response(e)),
    };
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
        Ok(Claim::Replay(stored)) => replay(req, &pool, session, stored).await,
        Ok(Claim::Mismatch) => Ok(req.error_response(header_problem(
            ProblemType::Validation,
            "this Idempotency-Key was used for another request (method, path, body, If-Match or the token's roles, services, scopes or national id); use a new key",
            "was used for another request",
        ))),
        Ok(Claim::InFlight) => Ok(req.into_response(in_flight())),
        Ok(Claim::Acquired(token)) => run_once(req, next, pool, scope, token).await,
    }
}

/// The request's fingerprint. It needs the whole body, so the body is read here, within the largest
/// limit any POST has, and handed back to the handler unchanged.
async fn fingerprint_of(req: &mut ServiceRequest, claims: &[u8]) -> Result<[u8; 32], AppError> {
    let cap = body_cap(req);
    let body = {
        let (http, payload) = req.parts_mut();
        crate::http::extract::read_body_limited(http, payload, cap).await?
    };
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_string(), |pq| pq.as_str().to_string());
    let if_match = req
        .headers()
        .get(actix_web::http::header::IF_MATCH)
        .map(|v| v.as_bytes());
    let fp = fingerprint(
        req.method().as_str(),
        &path_and_query,
        if_match,
        claims,
        &body,
    );
    req.set_payload(payload_of(body));
    Ok(fp)
}

/// The key stored answers are sealed with.
fn sealing_key(req: &actix_web::HttpRequest) -> &crate::national_id::NationalIdKey {
    req.app_data::<web::Data<crate::national_id::NationalIdKey>>()
        .expect("the service's key is registered in app data")
}

/// A replay shows what the request answered, so it passes the same door as the request: a staff member
/// registered as departed gets 403, not their stored answer.
async fn replay(
    req: ServiceRequest,
    pool: &Pool,
    session: Session,
    mut stored: Stored,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Err(e) = crate::db::transaction(pool, session, |_| Ok(())).await {
        return Ok(req.error_response(e));
    }
    match sealing_key(req.request()).open_secret(&stored.body) {
        Some(body) => stored.body = body,
        // Sealed with another key (the service's key was replaced), or stored before answers were sealed.
        None => {
            return Ok(req.error_response(header_problem(
                ProblemType::Conflict,
                &format!("{FIELD}: the stored answer to this key can no longer be read; send the request with a new key"),
                "its stored answer can no longer be read",
            )))
        }
    }
    match stored.into_response() {
        Ok(res) => Ok(req.into_response(res)),
        Err(e) => Ok(req.error_response(e)),
    }
}

fn in_flight() -> HttpResponse {
    let e = header_problem(
        ProblemType::Conflict,
        "the first request with this Idempotency-Key has not finished; retry shortly",
        "a request with this key is still in flight",
    );
    let mut res = e.error_response();
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    res
}

/// The request that holds the key: it executes once, and its answer is kept for the retries.
async fn run_once<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
    pool: Pool,
    scope: Scope,
    token: Uuid,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
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
        body: sealing_key(&http_req).seal_secret(&bytes),
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
    use super::not_stored;

    #[test]
    fn a_survey_answer_and_a_calendar_address_are_not_stored_however_their_path_is_escaped() {
        for path in [
            "/api/v1/me/calendar",
            "/api/v1/me/calenda%72",
            "/api/v1/surveys/0192f6a4-7c1e-7b3a-9d2e-5b8f1c0a4e77/responses",
            "/api/v1/surveys/0192f6a4-7c1e-7b3a-9d2e-5b8f1c0a4e77/respons%65s",
            "/api/v1/survey%73/0192f6a4-7c1e-7b3a-9d2e-5b8f1c0a4e77/responses",
            "/api/v1/surveys/{id}/responses",
        ] {
            assert!(not_stored(path), "{path}");
        }
        for path in [
            "/api/v1/surveys",
            "/api/v1/cases",
            "/api/v1/surveys/x/close",
        ] {
            assert!(!not_stored(path), "{path}");
        }
    }
}
