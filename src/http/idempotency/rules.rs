//! What the `Idempotency-Key` rules decide without the database: which keys are well-formed, what "the
//! same request" is, which answers are kept, what a repeated request gets, and how a kept answer is
//! replayed.

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::http::error::AppError;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// The header's name as clients write it, for `errors[].field`.
pub const FIELD: &str = "Idempotency-Key";
pub const MAX_KEY_LENGTH: usize = 255;
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
pub fn key_of(headers: &HeaderMap) -> Result<&str, &'static str> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY);
    let first = values.next().map(HeaderValue::as_bytes).unwrap_or_default();
    if values.next().is_some() {
        return Err("must be sent once");
    }
    check_key(first)
}

/// What "the same request" means: SHA-256 over the method, the path with its query, the `If-Match` it
/// was sent with (a retry of a change of version 3 is not the same request as one of version 4), who sent
/// it ([`claims_of`]) and the body. Method, path and header values cannot hold a NUL byte, nor the path a
/// 0x01, so the separators make the parts unambiguous.
pub fn fingerprint(
    method: &str,
    path_and_query: &str,
    if_match: Option<&[u8]>,
    claims: &[u8],
    body: &[u8],
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update([0]);
    h.update(path_and_query.as_bytes());
    if let Some(version) = if_match {
        h.update([1]);
        h.update(version);
    }
    h.update([0]);
    h.update(Sha256::digest(claims));
    h.update(body);
    h.finalize().into()
}

/// What a caller's token says that decides what they may do: roles, services, scopes and the national id
/// (its keyed hash), each in a fixed order. Keys are kept per municipality and `sub`, but a replay runs no
/// handler and so no access rule: a token of the same `sub` with other claims (another service, a guardian
/// login) must not get the first token's answer, so for it the key names another request (422).
pub fn claims_of(caller: &Caller) -> Vec<u8> {
    let mut roles: Vec<&str> = caller.roles.iter().map(|r| r.as_str()).collect();
    let mut services: Vec<&str> = caller.services.iter().map(String::as_str).collect();
    let mut scopes: Vec<&str> = caller.scopes.iter().map(String::as_str).collect();
    // Each item with its length before it: no two lists of claims write the same bytes.
    let mut out = Vec::new();
    for list in [&mut roles, &mut services, &mut scopes] {
        list.sort_unstable();
        list.dedup();
        out.extend_from_slice(&(list.len() as u32).to_be_bytes());
        for item in list.iter() {
            out.extend_from_slice(&(item.len() as u32).to_be_bytes());
            out.extend_from_slice(item.as_bytes());
        }
    }
    if let Some(hash) = &caller.pid_hash {
        out.extend_from_slice(hash);
    }
    out
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
    pub fn into_response(self) -> Result<HttpResponse, AppError> {
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
    fn the_fingerprint_covers_method_path_query_if_match_and_body() {
        let base = fingerprint("POST", "/api/v1/cases", None, b"", b"{}");
        assert_eq!(base, fingerprint("POST", "/api/v1/cases", None, b"", b"{}"));
        assert_ne!(base, fingerprint("PUT", "/api/v1/cases", None, b"", b"{}"));
        assert_ne!(
            base,
            fingerprint("POST", "/api/v1/services", None, b"", b"{}")
        );
        assert_ne!(
            base,
            fingerprint("POST", "/api/v1/cases?x=1", None, b"", b"{}")
        );
        assert_ne!(
            base,
            fingerprint("POST", "/api/v1/cases", None, b"", b"{ }")
        );
        let v3 = fingerprint("POST", "/api/v1/cases", Some(b"\"3\""), b"", b"{}");
        assert_ne!(base, v3);
        assert_ne!(
            v3,
            fingerprint("POST", "/api/v1/cases", Some(b"\"4\""), b"", b"{}")
        );
        assert_eq!(
            v3,
            fingerprint("POST", "/api/v1/cases", Some(b"\"3\""), b"", b"{}")
        );
        // Moving bytes between path and body is another request.
        assert_ne!(
            fingerprint("POST", "/a", None, b"", b"b"),
            fingerprint("POST", "/ab", None, b"", b"")
        );
    }

    #[test]
    fn a_token_of_the_same_sub_with_other_roles_services_scopes_or_national_id_sends_another_request(
    ) {
        use crate::auth::{Caller, Role};
        let ola = Caller::for_tests("3805", "ola", &[Role::Professional], &["barnehage", "ppt"]);
        let fp = |c: &Caller| fingerprint("POST", "/x", None, &claims_of(c), b"1");
        let same_in_other_order =
            Caller::for_tests("3805", "ola", &[Role::Professional], &["ppt", "barnehage"]);
        assert_eq!(fp(&ola), fp(&same_in_other_order));
        let other_service = Caller::for_tests("3805", "ola", &[Role::Professional], &["helse"]);
        let as_guardian = Caller::for_tests("3805", "ola", &[Role::Guardian], &[]);
        let mut with_scope = ola.clone();
        with_scope.scopes = vec!["archive".into()];
        let mut with_pid = ola.clone();
        with_pid.pid_hash = Some(vec![7; 32]);
        for other in [other_service, as_guardian, with_scope, with_pid] {
            assert_ne!(fp(&ola), fp(&other));
        }
        // A service's name cannot move into the next list and make the same bytes.
        let mut a = Caller::for_tests("3805", "ola", &[Role::Integration], &["x"]);
        a.scopes = vec![];
        let mut b = Caller::for_tests("3805", "ola", &[Role::Integration], &[]);
        b.scopes = vec!["x".into()];
        assert_ne!(fp(&a), fp(&b));
    }

    #[test]
    fn the_same_request_under_a_completed_key_is_replayed() {
        let fp = fingerprint("POST", "/x", None, b"", b"1");
        assert_eq!(judge(&fp, KeyState::Completed, &fp), Verdict::Replay);
    }

    #[test]
    fn the_same_request_under_a_key_in_flight_waits() {
        let fp = fingerprint("POST", "/x", None, b"", b"1");
        assert_eq!(judge(&fp, KeyState::InFlight, &fp), Verdict::InFlight);
    }

    #[test]
    fn another_request_under_a_key_is_a_mismatch_even_while_the_first_runs() {
        let first = fingerprint("POST", "/x", None, b"", b"1");
        let other = fingerprint("POST", "/x", None, b"", b"2");
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
