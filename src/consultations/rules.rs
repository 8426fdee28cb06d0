//! Rule 15 for consultations as plain functions: no person in the text, a question between two services,
//! and erasure 90 days after the last answer.

use chrono::{DateTime, Duration, Utc};

use crate::http::error::AppError;

/// How long a consultation is kept after its last answer (or its question, if none came).
pub const KEPT_FOR_DAYS: i64 = 90;

/// Rule 15: a consultation carries no person, so a number written as a national identity number is (in
/// any of the ways one is written, and a mistyped one too: it is still someone's) is refused, naming the
/// field.
pub fn a_consultation_names_no_one(field: &str, text: &str) -> Result<(), AppError> {
    if crate::national_id::written_in(text).is_empty() {
        Ok(())
    } else {
        Err(AppError::invalid(
            field,
            "rule 15: an anonymous consultation carries no national identity number; leave it out",
        ))
    }
}

/// The service that asks: the one named in `from_service`, which must be one of the caller's, or the
/// caller's only one.
pub fn asking_service(mine: &[String], named: Option<&str>) -> Result<String, AppError> {
    crate::auth::caller::one_of_mine(mine, named, "from_service")
}

/// A service consults another one: asking itself is no consultation.
pub fn another_service_is_asked(from: &str, to: &str) -> Result<(), AppError> {
    if from == to {
        Err(AppError::invalid(
            "to_service",
            "is the service that asks; ask another one",
        ))
    } else {
        Ok(())
    }
}

/// Consultations whose last answer (or question) is older than this are erased at `now`.
pub fn erased_before(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(KEPT_FOR_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consultation_names_no_one_refuses_a_national_id_however_written() {
        assert!(a_consultation_names_no_one("question", "Gutt, 7 år, uro i klassen").is_ok());
        let id = (100..200)
            .find_map(|n| crate::national_id::synthetic(14, 8, 20, n))
            .expect("a synthetic number");
        let mut mistyped = id.clone();
        mistyped.replace_range(10..11, if id.ends_with('0') { "1" } else { "0" });
        for text in [id.clone(), format!("{} {}", &id[..6], &id[6..]), mistyped] {
            let e =
                a_consultation_names_no_one("question", &format!("Gjelder {text}")).unwrap_err();
            assert_eq!(e.errors[0].field, "question");
        }
    }

    #[test]
    fn the_asking_service_is_named_or_the_callers_only_one() {
        let one = vec!["barnehage".to_string()];
        let two = vec!["barnehage".to_string(), "skole".to_string()];
        assert_eq!(asking_service(&one, None).unwrap(), "barnehage");
        assert_eq!(asking_service(&two, Some("skole")).unwrap(), "skole");
        assert_eq!(
            asking_service(&two, None).unwrap_err().errors[0].field,
            "from_service"
        );
        assert_eq!(
            asking_service(&one, Some("ppt")).unwrap_err().errors[0].field,
            "from_service"
        );
    }

    #[test]
    fn another_service_is_asked_not_the_asking_one() {
        assert!(another_service_is_asked("barnehage", "ppt").is_ok());
        assert!(another_service_is_asked("ppt", "ppt").is_err());
    }

    #[test]
    fn a_consultation_is_erased_90_days_after_its_last_answer() {
        let now: DateTime<Utc> = "2027-04-01T00:00:00Z".parse().unwrap();
        assert_eq!(
            erased_before(now),
            "2027-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
