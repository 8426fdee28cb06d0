//! Browsers are clients too: a front end served from another origin may call the API when its origin is
//! in `CORS_ALLOWED_ORIGINS`. The list is configuration, empty by default, so nothing opens by accident.
//! Tokens travel in `Authorization`, never in cookies, so credentials mode stays off.

use actix_cors::Cors;
use actix_web::http::header;
use actix_web::middleware::Condition;

/// Request headers a front end may send.
pub const ALLOWED_HEADERS: [&str; 5] = [
    "authorization",
    "content-type",
    "if-match",
    "idempotency-key",
    "x-request-id",
];

/// Response headers a front end may read: `ETag` for `If-Match`, `Location` of what it created, `Link`
/// to the next page, the request id to quote in a support case, `Retry-After` when the service is busy,
/// `Idempotent-Replayed` on an answer repeated for an `Idempotency-Key`.
pub const EXPOSED_HEADERS: [&str; 6] = [
    "etag",
    "location",
    "link",
    "x-request-id",
    "retry-after",
    "idempotent-replayed",
];

/// The CORS layer for `origins`; with none it is not applied at all.
pub fn layer(origins: &[String]) -> Condition<Cors> {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers(ALLOWED_HEADERS.map(header::HeaderName::from_static))
        .expose_headers(EXPOSED_HEADERS.map(header::HeaderName::from_static))
        // A request from another origin is still answered (same-origin pages such as /docs send an
        // `Origin` too); without the CORS headers the browser keeps the answer from the page.
        .block_on_origin_mismatch(false)
        .max_age(600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    Condition::new(!origins.is_empty(), cors)
}

/// Parses `CORS_ALLOWED_ORIGINS`: comma-separated origins such as `https://app.kommune.no` or
/// `http://localhost:5173` (scheme, host and optional port; no path, no wildcard).
pub fn parse_origins(value: &str) -> Result<Vec<String>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| {
            let rest = o
                .strip_prefix("https://")
                .or_else(|| o.strip_prefix("http://"))
                .ok_or_else(|| format!("CORS_ALLOWED_ORIGINS: {o:?} must start with https:// or http://"))?;
            let host_ok = !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
            if !host_ok {
                return Err(format!(
                    "CORS_ALLOWED_ORIGINS: {o:?} is not an origin (scheme://host[:port], no path or wildcard)"
                ));
            }
            Ok(o.trim_end_matches('/').to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_origins;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        assert_eq!(
            parse_origins(" https://app.kommune.no, http://localhost:5173 ,").unwrap(),
            vec!["https://app.kommune.no", "http://localhost:5173"]
        );
        assert!(parse_origins("").unwrap().is_empty());
        for bad in [
            "*",
            "app.kommune.no",
            "https://app.kommune.no/path",
            "https://*.kommune.no",
        ] {
            assert!(parse_origins(bad).is_err(), "{bad}");
        }
    }
}
