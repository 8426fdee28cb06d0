//! Keyset pagination: `?limit=&cursor=`, `{items, next_cursor}` and a `Link: rel="next"` header.
//! Cursors are opaque to clients (base64url of the last key), so the key can change without breaking them.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::error::AppError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    #[schema(max_items = 200)]
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    #[schema(max_length = 512)]
    pub next_cursor: Option<String>,
}

const ENGINE: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub fn encode_cursor(key: &str) -> String {
    ENGINE.encode(key)
}

/// The longest cursor the server issues is far shorter; longer ones are refused before decoding.
pub const MAX_CURSOR_LENGTH: usize = 512;
/// What the spec states about every `cursor` parameter (see `crate::http::openapi::document_parameters`).
pub const CURSOR_PATTERN: &str = "^[A-Za-z0-9_-]+$";

pub fn not_issued() -> AppError {
    let mut e = AppError::malformed("query parameter cursor: not a cursor this service issued");
    e.errors = vec![crate::http::error::FieldError {
        field: "cursor".into(),
        message: "not a cursor this service issued".into(),
    }];
    e
}

pub fn decode_cursor(cursor: &str) -> Result<String, AppError> {
    if cursor.len() > MAX_CURSOR_LENGTH {
        return Err(not_issued());
    }
    ENGINE
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        // Keys the server issues are printable; anything else (a NUL above all, which PostgreSQL
        // cannot take as text) is not one of ours.
        .filter(|key| !key.chars().any(char::is_control))
        .ok_or_else(not_issued)
}

pub fn decode_uuid_cursor(cursor: &str) -> Result<uuid::Uuid, AppError> {
    decode_cursor(cursor)?.parse().map_err(|_| not_issued())
}

/// Fetch `limit + 1` rows; the extra row only tells whether there is a next page.
pub fn page<T: ToSchema + Serialize, K: ToString>(
    mut rows: Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> K,
) -> Page<T> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|r| encode_cursor(&key(r).to_string()))
    } else {
        None
    };
    Page {
        items: rows,
        next_cursor,
    }
}

/// The page as JSON with a `Link` header to the next one, keeping the caller's other query parameters.
pub fn respond<T: ToSchema + Serialize>(req: &HttpRequest, page: Page<T>) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    if let Some(next) = &page.next_cursor {
        let mut params: Vec<(String, String)> =
            form_urlencoded::parse(req.query_string().as_bytes())
                .into_owned()
                .filter(|(k, _)| k != "cursor")
                .collect();
        params.push(("cursor".into(), next.clone()));
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        res.insert_header((
            header::LINK,
            format!("<{}?{}>; rel=\"next\"", req.path(), query),
        ));
    }
    res.json(page)
}

/// A list's page size and the id it continues after, from `?limit=&cursor=` of a list keyed by UUIDv7 ids.
pub fn uuid_keyset(
    limit: Option<i64>,
    cursor: Option<&str>,
) -> Result<(i64, Option<uuid::Uuid>), AppError> {
    let after = cursor.map(decode_uuid_cursor).transpose()?;
    Ok((effective_limit(limit), after))
}

pub fn effective_limit(limit: Option<i64>) -> i64 {
    limit.unwrap_or(DEFAULT_LIMIT)
}
