//! Domain rules about cases as plain functions, tested without HTTP.

use chrono::{Days, NaiveDate};

use crate::auth::{Caller, Role};
use crate::http::error::{AppError, FieldError};

/// Rule 1: a case starts at level 0 inside one of the creator's own services. Only professionals open cases.
pub fn may_open_in(caller: &Caller, service: &str) -> Result<(), AppError> {
    caller.require_role(Role::Professional)?;
    if caller.works_in(service) {
        Ok(())
    } else {
        let mut e = AppError::forbidden(format!(
            "you can only open a case in one of your own services (token claim `services`); `{service}` is not one"
        ));
        e.errors = vec![FieldError {
            field: "service".into(),
            message: "not one of your services".into(),
        }];
        Err(e)
    }
}

/// One reference can name a case only once; a request repeating one is a mistake worth naming.
pub fn refs_are_distinct(refs: &[crate::cases::api::ExternalRef]) -> Result<(), AppError> {
    for (i, r) in refs.iter().enumerate() {
        if refs[..i].contains(r) {
            return Err(AppError::invalid(
                format!("external_refs[{i}]"),
                "is listed twice",
            ));
        }
    }
    Ok(())
}

/// Level 0 ends in a decision within the municipality's deadline (Tromsø: 14 days).
pub fn level0_decision_due(opened_on: NaiveDate, deadline_days: i32) -> NaiveDate {
    opened_on
        .checked_add_days(Days::new(deadline_days.max(0) as u64))
        .unwrap_or(opened_on)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(roles: Vec<Role>, services: &[&str]) -> Caller {
        Caller::for_tests("3805", "u", &roles, services)
    }

    #[test]
    fn rule_1_case_opens_only_in_one_of_the_creators_services() {
        let c = caller(vec![Role::Professional], &["barnehage-a"]);
        assert!(may_open_in(&c, "barnehage-a").is_ok());
        let err = may_open_in(&c, "skole-b").unwrap_err();
        assert_eq!(err.errors[0].field, "service");
    }

    #[test]
    fn rule_1_only_professionals_open_cases() {
        let c = caller(vec![Role::Guardian], &["barnehage-a"]);
        assert!(may_open_in(&c, "barnehage-a").is_err());
    }

    #[test]
    fn level0_deadline_counts_calendar_days() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 20).unwrap();
        assert_eq!(
            level0_decision_due(d, 14),
            NaiveDate::from_ymd_opt(2027, 1, 3).unwrap()
        );
    }
}
