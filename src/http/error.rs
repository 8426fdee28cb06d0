//! The one error type of the API. Every failure, extractor failures included, leaves as an RFC 9457
//! `application/problem+json` document with a stable `type` URI, never HTML, an empty body or a debug string.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// The kinds of problem, each with a stable URI. The list is in the OpenAPI document (`ProblemType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, strum::EnumIter)]
pub enum ProblemType {
    #[serde(rename = "urn:stafettlogg:problem:malformed-request")]
    MalformedRequest,
    #[serde(rename = "urn:stafettlogg:problem:unauthorized")]
    Unauthorized,
    #[serde(rename = "urn:stafettlogg:problem:forbidden")]
    Forbidden,
    #[serde(rename = "urn:stafettlogg:problem:not-found")]
    NotFound,
    #[serde(rename = "urn:stafettlogg:problem:method-not-allowed")]
    MethodNotAllowed,
    /// None of the media types the `Accept` header names can be produced.
    #[serde(rename = "urn:stafettlogg:problem:not-acceptable")]
    NotAcceptable,
    #[serde(rename = "urn:stafettlogg:problem:conflict")]
    Conflict,
    #[serde(rename = "urn:stafettlogg:problem:precondition-failed")]
    PreconditionFailed,
    #[serde(rename = "urn:stafettlogg:problem:request-timeout")]
    RequestTimeout,
    #[serde(rename = "urn:stafettlogg:problem:payload-too-large")]
    PayloadTooLarge,
    #[serde(rename = "urn:stafettlogg:problem:unsupported-media-type")]
    UnsupportedMediaType,
    #[serde(rename = "urn:stafettlogg:problem:validation")]
    Validation,
    #[serde(rename = "urn:stafettlogg:problem:precondition-required")]
    PreconditionRequired,
    #[serde(rename = "urn:stafettlogg:problem:too-many-requests")]
    TooManyRequests,
    #[serde(rename = "urn:stafettlogg:problem:internal")]
    Internal,
    #[serde(rename = "urn:stafettlogg:problem:unavailable")]
    Unavailable,
}

impl ProblemType {
    pub fn status(self) -> StatusCode {
        use ProblemType::*;
        match self {
            MalformedRequest => StatusCode::BAD_REQUEST,
            Unauthorized => StatusCode::UNAUTHORIZED,
            Forbidden => StatusCode::FORBIDDEN,
            NotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Conflict => StatusCode::CONFLICT,
            PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Validation => StatusCode::UNPROCESSABLE_ENTITY,
            PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn title(self) -> &'static str {
        use ProblemType::*;
        match self {
            MalformedRequest => "Malformed request",
            Unauthorized => "Not authenticated",
            Forbidden => "Not allowed",
            NotFound => "Not found",
            MethodNotAllowed => "Method not allowed",
            NotAcceptable => "None of the accepted media types can be given",
            Conflict => "Conflict with the current state",
            PreconditionFailed => "The resource has changed",
            RequestTimeout => "The request body did not arrive in time",
            PayloadTooLarge => "Request body too large",
            UnsupportedMediaType => "Unsupported media type",
            Validation => "Validation failed",
            PreconditionRequired => "If-Match is required",
            TooManyRequests => "Too many requests",
            Internal => "Internal error",
            Unavailable => "Service unavailable",
        }
    }
}

/// One invalid field: `field` is a dotted path into the request (`subject.national_id`, `items[2].id`),
/// or the name of a path or query parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    #[schema(max_length = 200)]
    pub field: String,
    #[schema(max_length = 500)]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// RFC 9457 problem details.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"type": "urn:stafettlogg:problem:validation", "title": "Validation failed", "status": 422,
    "detail": "1 field is invalid", "errors": [{"field": "subject.national_id", "message": "the check digits do not match"}]}))]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: ProblemType,
    #[schema(max_length = 200)]
    pub title: String,
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    #[schema(max_length = 2000)]
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 100)]
    pub errors: Vec<FieldError>,
    /// For conflicts that point at another resource (e.g. the pending handover's id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflicting_id: Option<uuid::Uuid>,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind:?}: {detail}")]
pub struct AppError {
    pub kind: ProblemType,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub conflicting_id: Option<uuid::Uuid>,
    /// Methods for a 405 answer's `Allow` header.
    pub allow: Option<String>,
    /// Seconds for a `Retry-After` header: the request may well succeed if sent again (503s, a
    /// concurrent change that aborted the transaction).
    pub retry_after: Option<u32>,
}

/// The longest `detail` a problem carries; the spec says so (`Problem`), and a detail that names a
/// value a client sent must not grow with it.
pub const MAX_DETAIL: usize = 2000;
/// The most field errors one problem lists; the rest are left out (the count is in `detail`).
pub const MAX_FIELD_ERRORS: usize = 100;
const MAX_FIELD: usize = 200;
const MAX_MESSAGE: usize = 500;

fn clip(mut text: String, most: usize) -> String {
    if let Some((cut, _)) = text.char_indices().nth(most) {
        text.truncate(cut);
    }
    text
}

impl FieldError {
    fn clipped(self) -> FieldError {
        FieldError {
            field: clip(self.field, MAX_FIELD),
            message: clip(self.message, MAX_MESSAGE),
        }
    }
}

impl AppError {
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        AppError {
            kind,
            detail: clip(detail.into(), MAX_DETAIL),
            errors: vec![],
            conflicting_id: None,
            allow: None,
            retry_after: None,
        }
    }
    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(ProblemType::MalformedRequest, detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(ProblemType::Unauthorized, detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ProblemType::Forbidden, detail)
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(
            ProblemType::NotFound,
            format!("no {what} with that id is visible to you"),
        )
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(ProblemType::Conflict, detail)
    }
    pub fn internal() -> Self {
        Self::new(
            ProblemType::Internal,
            "an unexpected error happened; it has been logged with the request id",
        )
    }
    pub fn unavailable() -> Self {
        Self::new(
            ProblemType::Unavailable,
            "no writable database is reachable right now; try again shortly",
        )
        .retry_after(RETRY_UNAVAILABLE_SECS)
    }
    /// The database answers but refuses writes (a standby, or a primary being demoted in a failover).
    pub fn unavailable_read_only() -> Self {
        Self::new(
            ProblemType::Unavailable,
            "no writable database: the database reached is read-only (a standby, or a failover in \
             progress); nothing was written, try again shortly",
        )
        .retry_after(RETRY_UNAVAILABLE_SECS)
    }
    /// The database is up but did not get to this request in time (a lock held too long, a statement
    /// over its time limit, no free connection): nothing was written; the same request may succeed later.
    pub fn busy(detail: impl Into<String>) -> Self {
        Self::new(ProblemType::Unavailable, detail).retry_after(RETRY_BUSY_SECS)
    }
    /// A concurrent transaction got in the way (a deadlock, a serialization failure): PostgreSQL rolled
    /// this one back, so nothing was written; sending it again normally succeeds.
    pub fn concurrent_change(detail: impl Into<String>) -> Self {
        Self::new(ProblemType::Conflict, detail).retry_after(RETRY_BUSY_SECS)
    }
    /// The body did not arrive within the time limits (see `crate::http::request_body`).
    pub fn request_timeout(detail: impl Into<String>) -> Self {
        Self::new(ProblemType::RequestTimeout, detail)
    }
    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }
    /// A 422 naming one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::invalid_fields(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }
    pub fn invalid_fields(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        AppError {
            errors: errors
                .into_iter()
                .take(MAX_FIELD_ERRORS)
                .map(FieldError::clipped)
                .collect(),
            ..Self::new(ProblemType::Validation, detail)
        }
    }
    pub fn with_conflicting_id(mut self, id: uuid::Uuid) -> Self {
        self.conflicting_id = Some(id);
        self
    }

    pub fn to_problem(&self) -> Problem {
        Problem {
            problem_type: self.kind,
            title: self.kind.title().into(),
            status: self.kind.status().as_u16(),
            detail: clip(self.detail.clone(), MAX_DETAIL),
            errors: self
                .errors
                .iter()
                .take(MAX_FIELD_ERRORS)
                .cloned()
                .map(FieldError::clipped)
                .collect(),
            conflicting_id: self.conflicting_id,
        }
    }
}

pub const PROBLEM_JSON: &str = "application/problem+json";

/// `Retry-After` when the database cannot be reached (a restart or failover takes seconds).
pub const RETRY_UNAVAILABLE_SECS: u32 = 2;
/// `Retry-After` when the database is busy or a concurrent change aborted the transaction.
pub const RETRY_BUSY_SECS: u32 = 1;

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.kind.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        if let Some(allow) = &self.allow {
            res.insert_header((header::ALLOW, allow.clone()));
        }
        if self.kind == ProblemType::Unauthorized {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if self.kind == ProblemType::RequestTimeout {
            // The rest of the body may still come; the connection cannot carry another request.
            res.force_close();
        }
        res.body(serde_json::to_string(&self.to_problem()).expect("problem serializes"))
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match e {
            E::NotFound => AppError::not_found("resource"),
            // A uniqueness rule of the schema (one pending handover, one active participation, an external
            // reference naming one case, ...) that a concurrent request got to first.
            E::DatabaseError(K::UniqueViolation, info) => {
                log::info!("unique violation on {:?}", info.constraint_name());
                AppError::conflict(
                    "this conflicts with an existing record; read the resource again",
                )
            }
            // Raised by the BEGIN batch of a staff caller the municipality registered as departed.
            E::DatabaseError(_, info) if info.message() == DEPARTED => AppError::forbidden(
                "the municipality has registered you as departed: your access has ended",
            ),
            // A bound on how many rows an owner holds (migration `..._collection_limits`); the message
            // is ours: a number and the kind of row.
            E::DatabaseError(_, info) if info.message().starts_with(LIMIT_REACHED) => {
                AppError::conflict(format!(
                    "{}; nothing was written",
                    &info.message()["stafettlogg: ".len()..]
                ))
            }
            E::DatabaseError(kind, info) => match classify(kind, info.message()) {
                DbFailure::Unreachable if is_read_only(kind, info.message()) => {
                    log::warn!("the database refused a write: it is read-only");
                    AppError::unavailable_read_only()
                }
                DbFailure::Unreachable => {
                    log::warn!("database connection lost ({kind:?})");
                    AppError::unavailable()
                }
                DbFailure::Busy(what) => {
                    log::warn!("database busy: {what}");
                    AppError::busy(format!(
                        "the database could not finish this in time ({what}); nothing was written, try again shortly"
                    ))
                }
                DbFailure::Concurrent(what) => {
                    log::info!("transaction aborted: {what}");
                    AppError::concurrent_change(format!(
                        "a concurrent change to the same records got in the way ({what}); nothing was written: \
                         read the resource again and retry"
                    ))
                }
                DbFailure::Input(what) => {
                    // Validation at the edge should have refused this; say which kind of value it was.
                    log::warn!("database refused a value: {what}");
                    AppError::new(
                        ProblemType::Validation,
                        format!("a value cannot be stored: {what}; nothing was written"),
                    )
                }
                DbFailure::Other => {
                    // Constraint names are ours and carry no personal data; the message text may, so it
                    // stays out.
                    log::error!(
                        "database error {kind:?} on constraint {:?}",
                        info.constraint_name()
                    );
                    AppError::internal()
                }
            },
            other => {
                log::error!("database error: {}", redact_diesel(&other));
                AppError::internal()
            }
        }
    }
}

/// What a database error means for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbFailure {
    /// The connection or the server is gone (or went read-only in a failover): 503.
    Unreachable,
    /// A time limit ran out (lock timeout 55P03, statement timeout or cancel 57014) or the server lacks a
    /// resource (class 53): 503 with `Retry-After`.
    Busy(&'static str),
    /// PostgreSQL aborted the transaction for a concurrent one (deadlock 40P01, serialization failure
    /// 40001): 409 with `Retry-After`.
    Concurrent(&'static str),
    /// A value PostgreSQL cannot store (NUL in text 22021/22P05, a date out of range 22008, a number out
    /// of range 22003, a text too long 22001): 422.
    Input(&'static str),
    Other,
}

/// The message of `stafettlogg_staff_present` (migration `..._leaders`).
const DEPARTED: &str = "stafettlogg: the caller has departed";

/// How the refusals of `limit_rows` (migration `..._collection_limits`) begin.
const LIMIT_REACHED: &str = "stafettlogg: at most ";

/// Classifies a database error. diesel exposes no SQLSTATE (`DatabaseErrorInformation` has no `code()`), and
/// maps only a few states to kinds; the rest are `Unknown`, told apart here by PostgreSQL's primary message.
/// Those are stable English texts as long as the server's `lc_messages` is `C` or English: the managed
/// cluster is initialised without a locale, and each connection asks for `C` (see `crate::db`).
pub fn classify(kind: diesel::result::DatabaseErrorKind, message: &str) -> DbFailure {
    use diesel::result::DatabaseErrorKind as K;
    match kind {
        K::ClosedConnection | K::UnableToSendCommand | K::ReadOnlyTransaction => {
            return DbFailure::Unreachable
        }
        K::SerializationFailure => return DbFailure::Concurrent("serialization failure"),
        _ => {}
    }
    let m = message.trim_start();
    let starts = |prefix: &str| m.starts_with(prefix);
    if starts("canceling statement due to lock timeout") || starts("could not obtain lock") {
        DbFailure::Busy("lock timeout")
    } else if starts("canceling statement due to statement timeout") {
        DbFailure::Busy("statement timeout")
    } else if starts("canceling statement due to user request") {
        DbFailure::Busy("statement cancelled")
    } else if starts("deadlock detected") {
        DbFailure::Concurrent("deadlock")
    } else if starts("could not serialize access")
        || starts("canceling statement due to conflict with recovery")
    {
        DbFailure::Concurrent("serialization failure")
    } else if starts("terminating connection")
        || starts("the database system is")
        || starts("sorry, too many clients")
        || starts("remaining connection slots are reserved")
        || (starts("cannot execute") && m.contains("read-only transaction"))
    {
        DbFailure::Unreachable
    } else if starts("out of shared memory")
        || starts("could not extend file")
        || starts("out of memory")
        || starts("could not resize shared memory")
    {
        DbFailure::Busy("the database server is short of resources")
    } else if starts("invalid byte sequence for encoding")
        || starts("unsupported Unicode escape sequence")
    {
        DbFailure::Input(
            "a text contains the NUL character (U+0000), which PostgreSQL cannot store",
        )
    } else if starts("date out of range")
        || starts("timestamp out of range")
        || starts("date/time field value out of range")
        || starts("interval out of range")
    {
        DbFailure::Input("a date or time is out of range")
    } else if starts("value too long for type") {
        DbFailure::Input("a text is too long")
    } else if starts("integer out of range")
        || starts("smallint out of range")
        || starts("bigint out of range")
        || starts("numeric field overflow")
    {
        DbFailure::Input("a number is out of range")
    } else {
        DbFailure::Other
    }
}

/// Whether PostgreSQL refused a write because the server or the session is read-only.
pub fn is_read_only_error(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(kind, info) if is_read_only(*kind, info.message()))
}

/// A write refused because the server or the session is read-only (SQLSTATE 25006).
fn is_read_only(kind: diesel::result::DatabaseErrorKind, message: &str) -> bool {
    kind == diesel::result::DatabaseErrorKind::ReadOnlyTransaction
        || message.contains("read-only transaction")
}

fn redact_diesel(e: &diesel::result::Error) -> &'static str {
    use diesel::result::Error as E;
    match e {
        E::InvalidCString(_) => "invalid C string",
        E::QueryBuilderError(_) => "query builder error",
        E::DeserializationError(_) => "deserialization error",
        E::SerializationError(_) => "serialization error",
        E::RollbackErrorOnCommit { .. } => "rollback error on commit",
        E::RollbackTransaction => "rollback transaction",
        E::AlreadyInTransaction => "already in transaction",
        E::NotInTransaction => "not in transaction",
        E::BrokenTransactionManager => "broken transaction manager",
        _ => "other",
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        // r2d2's text is "timed out waiting for connection" plus the last connection error, if any: what
        // an operator needs to tell a database that is down from a pool that is too small.
        log::warn!("no database connection: {e}");
        AppError::unavailable()
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        AppError::internal()
    }
}

impl From<validator::ValidationErrors> for AppError {
    fn from(e: validator::ValidationErrors) -> Self {
        let mut out = Vec::new();
        flatten_validation("", &e, &mut out);
        out.sort_by(|a, b| a.field.cmp(&b.field));
        AppError::invalid_fields(out)
    }
}

fn flatten_validation(
    prefix: &str,
    errors: &validator::ValidationErrors,
    out: &mut Vec<FieldError>,
) {
    use validator::ValidationErrorsKind as K;
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            K::Field(list) => {
                for err in list {
                    let message = err
                        .message
                        .as_ref()
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| describe_validation(err));
                    out.push(FieldError {
                        field: path.clone(),
                        message,
                    });
                }
            }
            K::Struct(inner) => flatten_validation(&path, inner, out),
            K::List(items) => {
                for (i, inner) in items {
                    flatten_validation(&format!("{path}[{i}]"), inner, out);
                }
            }
        }
    }
}

fn describe_validation(err: &validator::ValidationError) -> String {
    let param = |k: &str| err.params.get(k).map(|v| v.to_string());
    match err.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("length must be between {min} and {max}"),
            (Some(min), None) => format!("length must be at least {min}"),
            (None, Some(max)) => format!("length must be at most {max}"),
            _ => "invalid length".into(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "out of range".into(),
        },
        "email" => "must be an email address".into(),
        "regex" => "has an invalid format".into(),
        code => format!("is invalid ({code})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind as K, Error as E};

    fn db_error(kind: K, message: &str) -> AppError {
        AppError::from(E::DatabaseError(kind, Box::new(message.to_string())))
    }

    #[test]
    fn timeouts_and_lost_connections_are_503_with_retry_after() {
        for (kind, message) in [
            (K::Unknown, "canceling statement due to lock timeout"),
            (
                K::Unknown,
                "could not obtain lock on row in relation \"cases\"",
            ),
            (K::Unknown, "canceling statement due to statement timeout"),
            (
                K::Unknown,
                "terminating connection due to administrator command",
            ),
            (K::Unknown, "sorry, too many clients already"),
            (K::Unknown, "the database system is shutting down"),
            (
                K::Unknown,
                "could not extend file \"base/1/2\": No space left on device",
            ),
            (
                K::ClosedConnection,
                "server closed the connection unexpectedly",
            ),
            (K::UnableToSendCommand, "no connection to the server"),
            (
                K::ReadOnlyTransaction,
                "cannot execute INSERT in a read-only transaction",
            ),
            (
                K::Unknown,
                "cannot execute SELECT FOR UPDATE in a read-only transaction",
            ),
        ] {
            let e = db_error(kind, message);
            assert_eq!(e.kind, ProblemType::Unavailable, "{message}");
            assert!(e.retry_after.is_some(), "{message}");
            // A standby, or a primary being demoted: the problem says what is missing.
            assert_eq!(
                e.detail
                    .contains("no writable database: the database reached is read-only"),
                message.contains("read-only"),
                "{message}: {}",
                e.detail
            );
            let res = e.error_response();
            assert_eq!(res.status(), 503);
            assert!(res.headers().contains_key(header::RETRY_AFTER), "{message}");
        }
    }

    #[test]
    fn deadlocks_and_serialization_failures_are_409_with_retry_after() {
        for (kind, message) in [
            (K::Unknown, "deadlock detected"),
            (
                K::SerializationFailure,
                "could not serialize access due to concurrent update",
            ),
            (
                K::Unknown,
                "could not serialize access due to read/write dependencies among transactions",
            ),
        ] {
            let e = db_error(kind, message);
            assert_eq!(e.kind, ProblemType::Conflict, "{message}");
            assert_eq!(e.retry_after, Some(RETRY_BUSY_SECS), "{message}");
        }
    }

    #[test]
    fn values_postgresql_cannot_store_are_422_not_500() {
        for message in [
            "invalid byte sequence for encoding \"UTF8\": 0x00",
            "unsupported Unicode escape sequence",
            "timestamp out of range",
            "date out of range: \"-262143-01-01\"",
            "value too long for type character varying(200)",
            "integer out of range",
        ] {
            assert_eq!(
                db_error(K::Unknown, message).kind,
                ProblemType::Validation,
                "{message}"
            );
        }
        assert_eq!(
            db_error(K::Unknown, "something else entirely").kind,
            ProblemType::Internal
        );
    }

    #[test]
    fn a_request_timeout_closes_the_connection() {
        let res = AppError::request_timeout("slow").error_response();
        assert_eq!(res.status(), 408);
        assert_eq!(
            res.head().connection_type(),
            actix_web::http::ConnectionType::Close
        );
    }
}
