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
    #[serde(rename = "urn:stafettlogg:problem:conflict")]
    Conflict,
    #[serde(rename = "urn:stafettlogg:problem:precondition-failed")]
    PreconditionFailed,
    #[serde(rename = "urn:stafettlogg:problem:payload-too-large")]
    PayloadTooLarge,
    #[serde(rename = "urn:stafettlogg:problem:unsupported-media-type")]
    UnsupportedMediaType,
    #[serde(rename = "urn:stafettlogg:problem:validation")]
    Validation,
    #[serde(rename = "urn:stafettlogg:problem:precondition-required")]
    PreconditionRequired,
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
            Conflict => StatusCode::CONFLICT,
            PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Validation => StatusCode::UNPROCESSABLE_ENTITY,
            PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
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
            Conflict => "Conflict with the current state",
            PreconditionFailed => "The resource has changed",
            PayloadTooLarge => "Request body too large",
            UnsupportedMediaType => "Unsupported media type",
            Validation => "Validation failed",
            PreconditionRequired => "If-Match is required",
            Internal => "Internal error",
            Unavailable => "Service unavailable",
        }
    }
}

/// One invalid field: `field` is a dotted path into the request (`subject.national_id`, `items[2].id`),
/// or the name of a path or query parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// RFC 9457 problem details.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"type": "urn:stafettlogg:problem:validation", "title": "Validation failed", "status": 422,
    "detail": "1 field is invalid", "errors": [{"field": "subject.national_id", "message": "the check digits do not match"}]}))]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: ProblemType,
    pub title: String,
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
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
}

impl AppError {
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        AppError {
            kind,
            detail: detail.into(),
            errors: vec![],
            conflicting_id: None,
            allow: None,
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
            "the database is not reachable right now; try again shortly",
        )
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
            errors,
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
            detail: self.detail.clone(),
            errors: self.errors.clone(),
            conflicting_id: self.conflicting_id,
        }
    }
}

pub const PROBLEM_JSON: &str = "application/problem+json";

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
        res.body(serde_json::to_string(&self.to_problem()).expect("problem serializes"))
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match e {
            E::NotFound => AppError::not_found("resource"),
            E::DatabaseError(K::ClosedConnection | K::UnableToSendCommand, _) => {
                AppError::unavailable()
            }
            // A uniqueness rule of the schema (one pending handover, one active participation, an external
            // reference naming one case, ...) that a concurrent request got to first.
            E::DatabaseError(K::UniqueViolation, info) => {
                log::info!("unique violation on {:?}", info.constraint_name());
                AppError::conflict(
                    "this conflicts with an existing record; read the resource again",
                )
            }
            E::DatabaseError(K::SerializationFailure, _) => AppError::conflict(
                "a concurrent change got there first; read the resource again and retry",
            ),
            E::DatabaseError(kind, info) => {
                // Constraint names are ours and carry no personal data; the message text may, so it stays out.
                log::error!(
                    "database error {kind:?} on constraint {:?}",
                    info.constraint_name()
                );
                AppError::internal()
            }
            other => {
                log::error!("database error: {}", redact_diesel(&other));
                AppError::internal()
            }
        }
    }
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
    fn from(_: diesel::r2d2::PoolError) -> Self {
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
