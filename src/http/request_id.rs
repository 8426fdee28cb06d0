//! Every response carries an `X-Request-Id` (the client's when it sent a sane one), and every error
//! response is problem+json, including the ones actix produces itself before a handler runs.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse};

use crate::http::error::{AppError, ProblemType, PROBLEM_JSON};

#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn acceptable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        && !has_eleven_digits(id)
}

/// The request id is logged: one that could be a national identity number (11 digits in a row) is replaced
/// by one of ours rather than written into the log.
fn has_eleven_digits(id: &str) -> bool {
    id.as_bytes()
        .split(|b| !b.is_ascii_digit())
        .any(|run| run.len() >= 11)
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));

    let res = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => {
            // An error that escaped as `Err` (rare: middleware-level) still gets a problem body below.
            let status = e.as_response_error().status_code();
            return Err(actix_web::error::InternalError::from_response(
                "error",
                problem_response(status, None).map_into_boxed_body(),
            )
            .into());
        }
    };
    let mut res = ensure_problem_body(res);
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(X_REQUEST_ID, v);
    }
    Ok(res)
}

fn is_problem(res: &ServiceResponse<BoxBody>) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with(PROBLEM_JSON))
}

/// Errors produced outside our handlers (actix's own 404/405/413, a panic's 500) arrive here as plain text
/// or empty bodies; they leave as problem+json.
fn ensure_problem_body(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    if status.as_u16() < 400 || is_problem(&res) {
        return res;
    }
    let allow = res.headers().get(header::ALLOW).cloned();
    res.into_response(problem_response(status, allow))
}

fn problem_response(status: StatusCode, allow: Option<HeaderValue>) -> HttpResponse {
    use ProblemType::*;
    let (kind, detail) = match status.as_u16() {
        400 => (MalformedRequest, "the request could not be understood"),
        401 => (Unauthorized, "a valid bearer token is required"),
        403 => (Forbidden, "this is outside your role"),
        404 => (NotFound, "there is nothing at this address"),
        405 => (MethodNotAllowed, "this address does not take that method"),
        408 => (RequestTimeout, "the request did not arrive in time"),
        409 => (Conflict, "the request conflicts with the current state"),
        412 => (
            PreconditionFailed,
            "the resource has changed since you read it",
        ),
        413 => (
            PayloadTooLarge,
            "the request body is larger than this service accepts",
        ),
        415 => (UnsupportedMediaType, "send the body as application/json"),
        422 => (Validation, "the request is not valid"),
        428 => (PreconditionRequired, "send If-Match with the ETag you read"),
        503 => (Unavailable, "the service is unavailable; try again shortly"),
        _ => (Internal, "an unexpected error happened"),
    };
    let mut res = actix_web::ResponseError::error_response(&AppError::new(kind, detail));
    *res.status_mut() = status;
    if let Some(allow) = allow {
        res.headers_mut().insert(header::ALLOW, allow);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn a_request_id_that_could_carry_a_national_id_is_not_taken() {
        assert!(acceptable("support-42"));
        assert!(acceptable("01a2184e-cf53-753f-9560-1bdfd6f40720"));
        assert!(!acceptable("case-14832010082"));
        assert!(!acceptable("has space"));
    }
}
