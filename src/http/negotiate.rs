//! Content negotiation for the few operations that answer in more than one media type (RFC 9110,
//! 12.5.1), the one place every such operation asks. The rules:
//! - each range of `Accept` weighs what it names with its `q` (1 when absent); for each type offered the
//!   most specific matching range decides (`text/csv` over `text/*` over `*/*`);
//! - the highest weight wins, and a tie goes to the type offered first, so a client that sends no `Accept`
//!   (or `*/*`) gets what it always got;
//! - `q=0` refuses what the range names, and so does a weight that cannot be read (`q=banana`, `q=2`, an
//!   unreadable header value): a client that did not say it takes a type is not sent it, and when nothing
//!   else is acceptable the answer is 406 naming what is offered, never a guess;
//! - errors stay `application/problem+json` whatever was asked for.

use actix_web::http::header;
use actix_web::HttpRequest;

use crate::http::error::{AppError, ProblemType};

/// Stands for a header value that is not visible ASCII: a range that names no type, so it accepts
/// nothing, as an unreadable weight does.
const UNREADABLE: &str = "unreadable/unreadable;q=0";

/// The type of `offered` the request accepts best; the first one when it states no preference; 406 when
/// it accepts none of them.
pub fn choose(req: &HttpRequest, offered: &[&'static str]) -> Result<&'static str, AppError> {
    let values: Vec<&str> = req
        .headers()
        .get_all(header::ACCEPT)
        .map(|v| v.to_str().unwrap_or(UNREADABLE))
        .collect();
    let accept = values.join(",");
    best(&accept, offered).ok_or_else(|| {
        AppError::new(
            ProblemType::NotAcceptable,
            format!(
                "the Accept header allows none of the types this resource is given as: {}",
                offered.join(", ")
            ),
        )
    })
}

/// [`choose`] on the header's text.
pub fn best(accept: &str, offered: &[&'static str]) -> Option<&'static str> {
    let ranges: Vec<(&str, f32)> = accept
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(range)
        .collect();
    if ranges.is_empty() {
        return offered.first().copied();
    }
    let mut chosen: Option<(&'static str, f32)> = None;
    for &media in offered {
        let q = quality(&ranges, media);
        if q > 0.0 && chosen.is_none_or(|(_, best)| q > best) {
            chosen = Some((media, q));
        }
    }
    chosen.map(|(media, _)| media)
}

/// `type/subtype;q=0.5;...` as the range and its weight (1 when absent; an unreadable weight counts as
/// 0, so a malformed range accepts nothing).
fn range(text: &str) -> (&str, f32) {
    let mut parts = text.split(';').map(str::trim);
    let media = parts.next().unwrap_or_default();
    let mut q = 1.0;
    for p in parts {
        if let Some((name, value)) = p.split_once('=') {
            if name.trim().eq_ignore_ascii_case("q") {
                q = value
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))
                    .unwrap_or(0.0);
            }
        }
    }
    (media, q)
}

/// The weight the most specific matching range gives `media`; 0 when none matches.
fn quality(ranges: &[(&str, f32)], media: &str) -> f32 {
    let (kind, _) = media.split_once('/').unwrap_or((media, ""));
    let mut best: Option<(u8, f32)> = None;
    for &(range, q) in ranges {
        let specificity = if range.eq_ignore_ascii_case(media) {
            3
        } else if range
            .strip_suffix("/*")
            .is_some_and(|k| k.eq_ignore_ascii_case(kind))
        {
            2
        } else if range == "*/*" {
            1
        } else {
            continue;
        };
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.map(|(_, q)| q).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderValue, ACCEPT};
    use actix_web::test::TestRequest;

    use super::{best, choose};

    const OFFERED: &[&str] = &["application/json", "application/pdf"];
    /// What the statistics are given as.
    const TABLE: &[&str] = &["application/json", "text/csv"];

    #[test]
    fn no_preference_gives_the_first_type_offered() {
        assert_eq!(best("", OFFERED), Some("application/json"));
        assert_eq!(best("*/*", OFFERED), Some("application/json"));
        assert_eq!(best("application/*", OFFERED), Some("application/json"));
        assert_eq!(best("", TABLE), Some("application/json"));
        assert_eq!(best("*/*", TABLE), Some("application/json"));
        let no_header = TestRequest::default().to_http_request();
        assert_eq!(choose(&no_header, TABLE).unwrap(), "application/json");
    }

    #[test]
    fn a_malformed_q_makes_its_range_accept_nothing() {
        assert_eq!(best("application/pdf;q=banana", OFFERED), None);
        assert_eq!(best("text/csv;q=banana", TABLE), None);
        assert_eq!(best("text/csv;q=2", TABLE), None);
        assert_eq!(best("text/csv;q=-1", TABLE), None);
        assert_eq!(best("text/csv;q=", TABLE), None);
        // The other ranges still count.
        assert_eq!(
            best("text/csv;q=banana, application/json;q=0.1", TABLE),
            Some("application/json")
        );
        assert_eq!(
            best("*/*;q=0.5, application/json;q=oops", TABLE),
            Some("text/csv")
        );
    }

    #[test]
    fn an_unreadable_header_value_accepts_nothing_and_is_406_naming_accept() {
        let req = TestRequest::default()
            .insert_header((ACCEPT, HeaderValue::from_bytes(b"text/csv\xff").unwrap()))
            .to_http_request();
        let refused = choose(&req, TABLE).unwrap_err();
        assert_eq!(refused.kind, crate::http::error::ProblemType::NotAcceptable);
        assert!(refused.detail.contains("Accept"), "{}", refused.detail);
        assert!(refused.detail.contains("text/csv"), "{}", refused.detail);
        let also_readable = TestRequest::default()
            .append_header((ACCEPT, HeaderValue::from_bytes(b"\xff").unwrap()))
            .append_header((ACCEPT, "text/csv"))
            .to_http_request();
        assert_eq!(choose(&also_readable, TABLE).unwrap(), "text/csv");
    }

    #[test]
    fn q_0_refuses_what_the_range_names() {
        assert_eq!(best("application/pdf;q=0", OFFERED), None);
        assert_eq!(best("text/csv;q=0", TABLE), None);
        assert_eq!(
            best("application/*, application/json;q=0", OFFERED),
            Some("application/pdf")
        );
        assert_eq!(best("*/*;q=0", TABLE), None);
    }

    #[test]
    fn wildcards_match_by_kind_and_the_most_specific_range_decides() {
        assert_eq!(best("text/*", TABLE), Some("text/csv"));
        assert_eq!(best("text/*", OFFERED), None);
        assert_eq!(best("image/png", OFFERED), None);
        assert_eq!(best("application/pdf", TABLE), None);
        assert_eq!(
            best("*/*;q=0.1, application/pdf;q=0.9", OFFERED),
            Some("application/pdf")
        );
        assert_eq!(best("text/*;q=0, */*", TABLE), Some("application/json"));
        assert_eq!(best("Application/PDF", OFFERED), Some("application/pdf"));
    }

    #[test]
    fn order_of_preference_is_the_weight_then_the_order_offered() {
        assert_eq!(best("application/pdf", OFFERED), Some("application/pdf"));
        assert_eq!(
            best("application/json;q=0.5, application/pdf", OFFERED),
            Some("application/pdf")
        );
        assert_eq!(best("text/csv", TABLE), Some("text/csv"));
        assert_eq!(
            best("text/csv;q=0.5, application/json", TABLE),
            Some("application/json")
        );
        assert_eq!(
            best("application/json;q=0.2, text/csv;q=0.9", TABLE),
            Some("text/csv")
        );
        // Equal weights: the order the header lists them in says nothing.
        assert_eq!(
            best("text/csv, application/json", TABLE),
            Some("application/json")
        );
    }
}
