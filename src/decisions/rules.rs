//! Rule 12 (the level-0 period ends in one recorded decision) as plain functions; the level rules of a
//! decision for level 1 or 2 are `crate::level_changes::rules`.

use chrono::NaiveDate;

use crate::http::error::AppError;

/// Rule 12: a decision ends a level-0 period, once: the case is at level 0 and this period has none yet.
pub fn one_decision_ends_a_level0_period(level: i16, decided: bool) -> Result<(), AppError> {
    if level != 0 {
        return Err(AppError::conflict(format!(
            "rule 12: the case is at level {level}; a level-0 decision ends level 0 (use a level change)"
        )));
    }
    if decided {
        return Err(AppError::conflict(
            "rule 12: this level-0 period has its decision already",
        ));
    }
    Ok(())
}

/// Rule 12: the decision was made within its period: not before the period began, not in the future.
pub fn decided_within_the_period(
    decided_on: NaiveDate,
    period_began: NaiveDate,
    today: NaiveDate,
) -> Result<(), AppError> {
    if decided_on > today {
        return Err(AppError::invalid("decided_on", "cannot be in the future"));
    }
    if decided_on < period_began {
        return Err(AppError::invalid(
            "decided_on",
            format!("is before this level-0 period began ({period_began})"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: &str) -> NaiveDate {
        d.parse().expect("a date")
    }

    #[test]
    fn rule_12_only_a_case_at_level_0_takes_a_level0_decision() {
        let e = one_decision_ends_a_level0_period(1, false).unwrap_err();
        assert_eq!(e.kind, crate::http::error::ProblemType::Conflict);
        assert!(one_decision_ends_a_level0_period(0, false).is_ok());
    }

    #[test]
    fn rule_12_a_level0_period_takes_one_decision() {
        let e = one_decision_ends_a_level0_period(0, true).unwrap_err();
        assert_eq!(e.kind, crate::http::error::ProblemType::Conflict);
        assert!(e.detail.contains("already"), "{}", e.detail);
    }

    #[test]
    fn rule_12_a_decision_is_dated_within_its_period() {
        let (began, today) = (day("2026-11-01"), day("2026-11-20"));
        assert!(decided_within_the_period(began, began, today).is_ok());
        assert!(decided_within_the_period(today, began, today).is_ok());
        for wrong in [day("2026-10-31"), day("2026-11-21")] {
            let e = decided_within_the_period(wrong, began, today).unwrap_err();
            assert_eq!(e.kind, crate::http::error::ProblemType::Validation);
            assert_eq!(e.errors[0].field, "decided_on");
        }
    }
}
