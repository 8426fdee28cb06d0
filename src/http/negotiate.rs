//! Content negotiation for the few operations that answer in more than one media type (RFC 9110,
//! 12.5.1): the `Accept` header's ranges with their `q`, the most specific range deciding for each type
//! offered, the first type offered winning ties, so a client that sends no `Accept` (or `*/*`) gets
//! what it always got. Errors stay `application/problem+json` whatever was asked for.

use actix_web::http::header;
use actix_web::HttpRequest;

use crate::http::error::{AppError, ProblemType};

/// The type of `offered` the request accepts best; the first one when it states no preference; 406 when
/// it accepts none of them.
pub fn choose(req: &HttpRequest, offered: &[&'static str]) -> Result<&'static str, AppError> {
    let values: Vec<&str> = req
        .headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .collect();
    let accept = values.join(",");
    best(&accept, offered).ok_or_else(|| {
        AppError::new(
            ProblemType::NotAcceptable,
            format!("this resource is given as {}", offered.join(" or ")),
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

/// `type/subtype;q=0.5;...` as the lower-case range and its weight (1 when absent; an unreadable weight
/// counts as 0, so a malformed range accepts nothing).
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
    use super::best;

    const OFFERED: &[&str] = &["application/json", "application/pdf"];

    #[test]
    fn no_preference_gives_the_first_type_offered() {
        assert_eq!(best("", OFFERED), Some("application/json"));
        assert_eq!(best("*/*", OFFERED), Some("application/json"));
        assert_eq!(best("application/*", OFFERED), Some("application/json"));
    }

    #[test]
    fn the_highest_weight_wins_and_the_most_specific_range_decides() {
        assert_eq!(best("application/pdf", OFFERED), Some("application/pdf"));
        assert_eq!(best("Application/PDF", OFFERED), Some("application/pdf"));
        assert_eq!(
            best("application/json;q=0.5, application/pdf", OFFERED),
            Some("application/pdf")
        );
        assert_eq!(
            best("*/*;q=0.1, application/pdf;q=0.9", OFFERED),
            Some("application/pdf")
        );
        assert_eq!(
            best("application/*, application/json;q=0", OFFERED),
            Some("application/pdf")
        );
    }

    #[test]
    fn a_type_not_offered_or_a_zero_weight_accepts_nothing() {
        assert_eq!(best("image/png", OFFERED), None);
        assert_eq!(best("text/*", OFFERED), None);
        assert_eq!(best("application/pdf;q=0", OFFERED), None);
        assert_eq!(best("application/pdf;q=banana", OFFERED), None);
    }
}
