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

/// Only a closed case that still holds its record is archived, on a day from its closing (in Norway) up
/// to today.
pub fn only_a_closed_case_is_archived(
    case: &crate::cases::store::CaseRow,
    archived_on: NaiveDate,
    today: NaiveDate,
) -> Result<(), AppError> {
    let Some(closed_at) = case.closed_at else {
        return Err(AppError::conflict(
            "only a closed case is archived; close it first",
        ));
    };
    if case.purged_at.is_some() {
        return Err(AppError::conflict(
            "the case's personal data was erased; there is no record left to archive",
        ));
    }
    if archived_on < crate::clock::day_of(closed_at) {
        Err(AppError::invalid(
            "archived_on",
            "is before the case was closed",
        ))
    } else if archived_on > today {
        Err(AppError::invalid("archived_on", "cannot be in the future"))
    } else {
        Ok(())
    }
}

/// Whether a case closed for `reason` may be reopened: only when it lost its consent.
pub fn reopens(reason: crate::cases::api::CloseReason) -> bool {
    use crate::cases::api::CloseReason;
    matches!(
        reason,
        CloseReason::ConsentWithdrawn | CloseReason::ConsentExpired
    )
}

/// A case closed because its consent was withdrawn or ran out is reopened when the family consents again,
/// so the child's log is not split ("no break in follow-up"); a case closed for any other reason, or whose
/// record was erased, is not.
pub fn only_a_lost_consent_reopens(case: &crate::cases::store::CaseRow) -> Result<(), AppError> {
    if case.purged_at.is_some() {
        return Err(AppError::conflict(
            "the case's personal data was erased; open a new case",
        ));
    }
    match case.close_reason {
        Some(reason) if reopens(reason) => Ok(()),
        Some(other) => Err(AppError::conflict(format!(
            "a case closed as `{}` is not reopened; only one closed because its consent was withdrawn or expired",
            other.as_str()
        ))),
        None => Err(AppError::conflict("the case is open")),
    }
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

    #[test]
    fn only_a_closed_case_is_archived_from_its_closing_day_to_today() {
        let f = crate::cases::facts::fixture::case(
            crate::cases::facts::fixture::professional("ola", "barnehage"),
            vec![],
        );
        let mut case = f.case;
        let today = crate::cases::facts::fixture::today();
        assert!(only_a_closed_case_is_archived(&case, today, today).is_err());
        case.closed_at = Some("2026-05-01T22:30:00Z".parse().unwrap());
        // 00:30 on 2 May in Norway.
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert!(only_a_closed_case_is_archived(&case, d("2026-05-02"), today).is_ok());
        let early = only_a_closed_case_is_archived(&case, d("2026-05-01"), today).unwrap_err();
        assert_eq!(early.errors[0].field, "archived_on");
        assert!(only_a_closed_case_is_archived(&case, today.succ_opt().unwrap(), today).is_err());
        case.purged_at = Some(chrono::Utc::now());
        assert!(only_a_closed_case_is_archived(&case, today, today).is_err());
    }

    #[test]
    fn only_a_lost_consent_reopens_a_case() {
        use crate::cases::api::CloseReason;
        let f = crate::cases::facts::fixture::case(
            crate::cases::facts::fixture::professional("ola", "barnehage"),
            vec![],
        );
        let mut case = f.case;
        assert!(only_a_lost_consent_reopens(&case).is_err(), "an open case");
        for (reason, reopens) in [
            (CloseReason::ConsentWithdrawn, true),
            (CloseReason::ConsentExpired, true),
            (CloseReason::GoalReached, false),
            (CloseReason::MovedAway, false),
        ] {
            case.close_reason = Some(reason);
            assert_eq!(
                only_a_lost_consent_reopens(&case).is_ok(),
                reopens,
                "{reason:?}"
            );
        }
        case.close_reason = Some(CloseReason::ConsentWithdrawn);
        case.purged_at = Some(chrono::Utc::now());
        assert!(only_a_lost_consent_reopens(&case).is_err(), "a purged case");
    }
}
