//! Extractors that turn bad input into precise problems: a JSON body that names the failing field, query
//! parameters that name the bad one, path ids, `If-Match`. actix's stock extractors answer in plain text
//! and only say "Json deserialize error"; clients of a service about children deserve better.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::http::error::{AppError, FieldError, ProblemType};

/// The request body limit, from configuration.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// The import body limit (IMPORT_BODY_LIMIT_BYTES); larger files are split by `stafettlogg import`.
#[derive(Debug, Clone, Copy)]
pub struct ImportLimit(pub usize);

/// A JSON body that was parsed field by field and then validated.
#[derive(Debug)]
pub struct ValidJson<T>(pub T);

/// Turns serde's message into a field path: `missing field `x`` at `subject` becomes `subject.x`. A
/// complaint that names no field (nor a missing, unknown or repeated one) is about `whole` (`body`,
/// `query`).
fn field_error(path: String, message: String, whole: &str) -> FieldError {
    let message = match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    let named = ["missing field `", "unknown field `", "duplicate field `"]
        .iter()
        .find_map(|p| {
            message
                .strip_prefix(p)
                .and_then(|rest| rest.split('`').next())
        });
    let base = if path == "." { String::new() } else { path };
    let field = match named {
        Some(name) if !base.ends_with(name) => {
            if base.is_empty() {
                name.to_string()
            } else {
                format!("{base}.{name}")
            }
        }
        _ if base.is_empty() => whole.to_string(),
        _ => base,
    };
    FieldError { field, message }
}

/// An object read as a map, refusing a key that comes twice (`deserialize_with`): serde keeps the last
/// of a repeated key in a map without a word, and an answer given twice is ambiguous. The complaint reads
/// like serde's for a struct (`duplicate field`), so the 422 names the key.
pub fn unique_keys<'de, D, V>(d: D) -> Result<std::collections::BTreeMap<String, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: serde::Deserialize<'de>,
{
    struct Keys<V>(std::marker::PhantomData<V>);
    impl<'de, V: serde::Deserialize<'de>> serde::de::Visitor<'de> for Keys<V> {
        type Value = std::collections::BTreeMap<String, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = std::collections::BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                if out.contains_key(&key) {
                    return Err(serde::de::Error::custom(format!("duplicate field `{key}`")));
                }
                let value = map.next_value()?;
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Keys(std::marker::PhantomData))
}

/// What a text that PostgreSQL cannot store is told.
pub const NUL_MESSAGE: &str = "must not contain the NUL character (U+0000)";

/// The JSON path (`subject.given_name`, `external_refs[0].id`) of the first string or key holding a NUL
/// character. PostgreSQL refuses `\0` in `text` and `jsonb`, so such a value would fail deep inside a
/// transaction; refused here it is a 422 that names the field, whatever the request type.
fn nul_path(value: &serde_json::Value, path: &mut String) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = nul_path(item, path);
            if !found {
                path.truncate(len);
            }
            found
        }),
        Value::Object(map) => map.iter().any(|(key, item)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&key.replace('\0', "\\u0000"));
            let found = key.contains('\0') || nul_path(item, path);
            if !found {
                path.truncate(len);
            }
            found
        }),
        _ => false,
    }
}

/// A NUL can only arrive in JSON as the escape `\u0000`; bodies without those six bytes skip the walk.
fn refuse_nul(body: &[u8]) -> Result<(), AppError> {
    if !body.windows(6).any(|w| w == b"\\u0000") {
        return Ok(());
    }
    // Not JSON at all: the normal parse below explains that.
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Ok(());
    };
    let mut path = String::new();
    if nul_path(&value, &mut path) {
        let field = if path.is_empty() { "body".into() } else { path };
        return Err(AppError::invalid(field, NUL_MESSAGE));
    }
    Ok(())
}

pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    refuse_nul(body)?;
    // The fast path; tracking the path costs time, so it is only done to explain a failure.
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() || inner.is_io() {
            AppError::malformed(format!("the body is not valid JSON: {inner}"))
        } else {
            let fe = field_error(path, inner.to_string(), "body");
            AppError::invalid_fields(vec![fe])
        }
    })?;
    de.end()
        .map_err(|e| AppError::malformed(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Reads the body up to the configured limit, answering 413 as soon as the limit is crossed.
pub async fn read_body(req: &HttpRequest, payload: &mut Payload) -> Result<web::Bytes, AppError> {
    let limit = req
        .app_data::<web::Data<BodyLimit>>()
        .map(|l| l.0)
        .unwrap_or(1024 * 1024);
    read_body_limited(req, payload, limit).await
}

/// The body up to `limit` bytes, for extractors with a limit of their own (imports).
pub async fn read_body_limited(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> Result<web::Bytes, AppError> {
    let too_large = || {
        AppError::new(
            ProblemType::PayloadTooLarge,
            format!("the body is larger than {limit} bytes"),
        )
    };
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if len > limit {
            return Err(too_large());
        }
    }
    let mut body = web::BytesMut::new();
    // `crate::http::request_body` bounds how long each chunk may take to arrive.
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            if crate::http::request_body::is_timeout(&e) {
                AppError::request_timeout(format!(
                    "the body stopped arriving after {} bytes: send it whole within {} s, with no pause over {} s",
                    body.len(),
                    crate::http::request_body::BODY_TOTAL_TIMEOUT.as_secs(),
                    crate::http::request_body::BODY_IDLE_TIMEOUT.as_secs()
                ))
            } else {
                AppError::malformed(format!("the body could not be read: {e}"))
            }
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidJson<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_json(&req) {
                return Err(AppError::new(
                    ProblemType::UnsupportedMediaType,
                    "send the body with Content-Type: application/json",
                ));
            }
            let body = read_body(&req, &mut payload).await?;
            let value: T = parse_json(&body)?;
            value.validate()?;
            Ok(ValidJson(value))
        })
    }
}

/// Query parameters, parsed strictly: an unknown or mistyped parameter is a 400 that names it, so a typo
/// in a filter never silently widens a list.
#[derive(Debug)]
pub struct ValidQuery<T>(pub T);

impl<T: DeserializeOwned + Validate> FromRequest for ValidQuery<T> {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req.query_string()))
    }
}

fn parse_query<T: DeserializeOwned + Validate>(query: &str) -> Result<ValidQuery<T>, AppError> {
    if let Some((name, _)) =
        form_urlencoded::parse(query.as_bytes()).find(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        let field = name.replace('\0', "%00");
        return Err(AppError {
            detail: format!("query parameter {field}: {NUL_MESSAGE}"),
            errors: vec![FieldError {
                field,
                message: NUL_MESSAGE.into(),
            }],
            ..AppError::malformed("")
        });
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    let value: T = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let fe = field_error(path, e.into_inner().to_string(), "query");
        AppError {
            kind: ProblemType::MalformedRequest,
            detail: format!("query parameter {}: {}", fe.field, fe.message),
            errors: vec![fe],
            ..AppError::malformed("")
        }
    })?;
    value.validate().map_err(|e| {
        let mut err = AppError::from(e);
        err.kind = ProblemType::MalformedRequest;
        err
    })?;
    Ok(ValidQuery(value))
}

/// Path parameters that do not parse (a malformed UUID) are a 400 naming the parameter.
pub fn path_error(err: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    let detail = match &err {
        actix_web::error::PathError::Deserialize(e) => e.to_string(),
        _ => "invalid path".into(),
    };
    let mut e = AppError::malformed(format!("a path parameter is invalid: {detail}"));
    e.errors = vec![FieldError {
        field: "path".into(),
        message: detail,
    }];
    e.into()
}

/// What a client sent in `If-Match`. Changes of versioned resources call `check`: no header is 428 (a
/// blind overwrite of someone else's change is exactly what this prevents), a tag that is not the current
/// version is 412.
#[derive(Debug, Clone)]
pub struct IfMatch(Sent);

#[derive(Debug, Clone, PartialEq)]
enum Sent {
    Nothing,
    /// `*`: any version, which would defeat the lost-update protection, so it names none.
    Any,
    /// The tags as sent (a list is allowed, RFC 9110 13.1.1), and the versions among them: a weak tag or
    /// another service's never matches (strong comparison).
    Tags {
        sent: String,
        versions: Vec<i32>,
    },
}

impl IfMatch {
    pub fn check(self, current: i32) -> Result<(), AppError> {
        match self.0 {
            Sent::Nothing => Err(AppError::new(
                ProblemType::PreconditionRequired,
                "send If-Match with the ETag from your last read (e.g. If-Match: \"3\"), so a concurrent change is not overwritten",
            )),
            Sent::Any => Err(AppError::new(
                ProblemType::PreconditionRequired,
                "If-Match: * names no version and would overwrite a change you have not seen; send the ETag from your last read (e.g. If-Match: \"3\")",
            )),
            Sent::Tags { versions, .. } if versions.contains(&current) => Ok(()),
            Sent::Tags { sent, .. } => Err(AppError::new(
                ProblemType::PreconditionFailed,
                format!("If-Match {sent} does not match the current version \"{current}\": read the resource again"),
            )),
        }
    }

    /// For configuration resources the header is optional: checked when it names versions.
    pub fn check_if_present(self, current: i32) -> Result<(), AppError> {
        match self.0 {
            Sent::Nothing | Sent::Any => Ok(()),
            Sent::Tags { .. } => self.check(current),
        }
    }
}

pub fn etag(version: i32) -> header::EntityTag {
    header::EntityTag::new_strong(version.to_string())
}

/// `If-Match` is unusable: a 400 naming the header.
fn if_match_malformed(message: &str) -> AppError {
    AppError {
        errors: vec![FieldError {
            field: "If-Match".into(),
            message: message.into(),
        }],
        ..AppError::malformed(format!("If-Match: {message}"))
    }
}

/// The header's value: `*`, or entity tags (`"3"`, `W/"3"`) separated by commas. `None` when it is
/// neither. The versions are the strong tags whose content is a number; the rest can never match.
fn parse_if_match(value: &str) -> Option<Sent> {
    let value = value.trim();
    if value == "*" {
        return Some(Sent::Any);
    }
    let mut versions = Vec::new();
    let mut rest = value;
    loop {
        let (weak, tag) = match rest.strip_prefix("W/") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let (opaque, after) = tag.strip_prefix('"')?.split_once('"')?;
        if !weak {
            if let Ok(v) = opaque.parse::<i32>() {
                versions.push(v);
            }
        }
        match after.trim_start().strip_prefix(',') {
            Some(next) => rest = next.trim_start(),
            None if after.trim().is_empty() => break,
            None => return None,
        }
    }
    // Quoted back into the answer: keep it short.
    let sent: String = value.chars().take(100).collect();
    Some(Sent::Tags { sent, versions })
}

impl FromRequest for IfMatch {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        const SHAPE: &str =
            "must be the ETag of your last read, a version in double quotes like \"3\"";
        let result = match req.headers().get(header::IF_MATCH).map(|v| v.to_str()) {
            None => Ok(IfMatch(Sent::Nothing)),
            Some(Err(_)) => Err(if_match_malformed(SHAPE)),
            Some(Ok(v)) => parse_if_match(v)
                .map(IfMatch)
                .ok_or_else(|| if_match_malformed(SHAPE)),
        };
        ready(result)
    }
}

/// An address a browser can open: `http(s)://` and something after it (the spec's pattern says as much).
pub fn url_ok(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty())
        && url.len() <= 2000
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_given_twice_in_an_object_read_as_a_map_is_named() {
        #[derive(serde::Deserialize, Debug)]
        struct Answers {
            #[serde(deserialize_with = "unique_keys")]
            #[allow(dead_code)]
            answers: std::collections::BTreeMap<String, bool>,
        }
        assert!(parse_json::<Answers>(br#"{"answers": {"a": true, "b": false}}"#).is_ok());
        let e = parse_json::<Answers>(br#"{"answers": {"a": true, "a": false}}"#).unwrap_err();
        assert_eq!(e.errors[0].field, "answers.a");
    }

    #[test]
    fn a_repeated_field_or_query_parameter_is_named() {
        let fe = field_error(String::new(), "duplicate field `limit`".into(), "query");
        assert_eq!(fe.field, "limit");
        let fe = field_error(
            "subject".into(),
            "duplicate field `kind` at line 1 column 9".into(),
            "body",
        );
        assert_eq!(fe.field, "subject.kind");
        assert_eq!(
            field_error(String::new(), "invalid type".into(), "query").field,
            "query"
        );
    }

    #[test]
    fn if_match_takes_one_tag_or_a_list_and_only_strong_versions_can_match() {
        let versions = |v: &str| match parse_if_match(v) {
            Some(Sent::Tags { versions, .. }) => Some(versions),
            _ => None,
        };
        assert_eq!(versions("\"3\""), Some(vec![3]));
        assert_eq!(versions(" \"5\", \"2\" "), Some(vec![5, 2]));
        assert_eq!(versions("W/\"3\", \"abc\", \"4\""), Some(vec![4]));
        assert_eq!(versions("\"a,b\""), Some(vec![]));
        assert_eq!(parse_if_match("*"), Some(Sent::Any));
        for malformed in ["", "3", "null", "\"3", "\"3\" \"4\"", "\"3\",", "W/3"] {
            assert_eq!(parse_if_match(malformed), None, "{malformed:?}");
        }
        assert!(IfMatch(parse_if_match("\"5\", \"2\"").unwrap())
            .check(2)
            .is_ok());
        let stale = IfMatch(parse_if_match("\"abc\"").unwrap())
            .check(2)
            .unwrap_err();
        assert!(stale.detail.contains("\"abc\""), "{}", stale.detail);
        assert!(!stale.detail.contains("-1"), "{}", stale.detail);
        let star = IfMatch(Sent::Any).check(2).unwrap_err();
        assert!(star.detail.contains('*'), "{}", star.detail);
        assert!(IfMatch(Sent::Any).check_if_present(2).is_ok());
    }

    #[test]
    fn a_nul_anywhere_in_a_json_body_is_named_by_its_path() {
        let field = |body: &str| {
            refuse_nul(body.as_bytes())
                .err()
                .map(|e| e.errors[0].field.clone())
        };
        assert_eq!(field(r#"{"a": "x\u0000"}"#).as_deref(), Some("a"));
        assert_eq!(
            field(r#"{"a": {"b": [1, {"c": "\u0000"}]}}"#).as_deref(),
            Some("a.b[1].c")
        );
        assert_eq!(field(r#"["ok", "\u0000"]"#).as_deref(), Some("[1]"));
        assert_eq!(field(r#""\u0000""#).as_deref(), Some("body"));
        assert_eq!(field(r#"{"k\u0000": 1}"#).as_deref(), Some("k\\u0000"));
        // An escaped backslash followed by `u0000` is text, not a NUL.
        assert_eq!(field(r#"{"a": "\\u0000"}"#), None);
        assert_eq!(field(r#"{"a": "plain"}"#), None);
        // Not JSON: left to the parser, which says so.
        assert_eq!(field(r#"{"a": "\u0000"#), None);
    }
}
