//! The shape of a service code, and schema-only types for the items of a list of texts, so the spec states each item's bound where the Rust
//! type is a plain `Vec<String>` (utoipa's field attributes bound the list, not its items). The server
//! checks the same bounds where the lists come in.

/// What a service's code looks like (`POST /api/v1/services` refuses any other).
pub const SERVICE_CODE_PATTERN: &str = "^[a-z0-9][a-z0-9_-]{0,63}$";

/// Whether `code` is a service code as the service takes it and tokens must carry it
/// ([`SERVICE_CODE_PATTERN`], written out: every request checks each service its token names, and a
/// regular expression's search was a visible share of a read's CPU).
pub fn is_service_code(code: &str) -> bool {
    let word = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    match code.as_bytes() {
        [first, rest @ ..] => {
            word(*first)
                && rest.len() <= 63
                && rest.iter().all(|&c| word(c) || c == b'_' || c == b'-')
        }
        [] => false,
    }
}

/// For `#[validate(custom(...))]` on a field that names a service by its code.
pub fn check_service_code(code: &str) -> Result<(), validator::ValidationError> {
    if is_service_code(code) {
        Ok(())
    } else {
        Err(validator::ValidationError::new("regex").with_message(
            "a service code: lower-case letters, digits, '-' and '_', starting with a letter or digit, at most 64"
                .into(),
        ))
    }
}

/// For `#[validate(custom(...))]` on a list of service codes.
pub fn check_service_codes(codes: &[String]) -> Result<(), validator::ValidationError> {
    codes.iter().try_for_each(|c| check_service_code(c))
}

/// A service's code, as `POST /api/v1/services` takes it and tokens carry it.
#[derive(utoipa::ToSchema)]
#[schema(
    value_type = String,
    min_length = 1,
    max_length = 64,
    pattern = "^[a-z0-9][a-z0-9_-]{0,63}$",
    example = "barnehage-solstua"
)]
pub struct ServiceCode(#[allow(dead_code)] String);

/// One goal of a plan.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, min_length = 1, max_length = 2000)]
pub struct PlanGoal(#[allow(dead_code)] String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_code_is_what_its_published_pattern_says() {
        let re = regex_lite::Regex::new(SERVICE_CODE_PATTERN).unwrap();
        let mut samples: Vec<String> = [
            "",
            "a",
            "0",
            "barnehage-solstua",
            "ppt_vest",
            "-a",
            "_a",
            "A",
            "aB",
            "a b",
            "æ",
            "a.b",
            "bup-nord",
            "a-",
            "a_",
            "9-9",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        samples.extend([
            "a".repeat(64),
            "a".repeat(65),
            format!("a{}", "-".repeat(63)),
        ]);
        for s in &samples {
            assert_eq!(is_service_code(s), re.is_match(s), "{s:?}");
        }
    }
}
