//! Domain rules about cases as plain functions, tested without HTTP.

use chrono::{Days, NaiveDate};

use crate::http::error::AppError;

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

    #[test]
    fn level0_deadline_counts_calendar_days() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 20).unwrap();
        assert_eq!(
            level0_decision_due(d, 14),
            NaiveDate::from_ymd_opt(2027, 1, 3).unwrap()
        );
    }
}
