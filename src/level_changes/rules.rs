//! Rules 1 and 2 (levels and what moving between them needs), as a plain function of the case's facts.

use chrono::NaiveDate;

use crate::cases::facts::CaseFacts;
use crate::http::error::AppError;

/// Rules 1 and 2 as a plain function: a real move, a decision not in the future, and consent covering
/// the holder's service for level 1 and up.
pub fn check_level_change(
    facts: &CaseFacts,
    to: i16,
    decided_on: NaiveDate,
) -> Result<(), AppError> {
    if to == facts.case.level {
        return Err(AppError::conflict(format!(
            "the case is already at level {to}"
        )));
    }
    if decided_on > facts.today {
        return Err(AppError::invalid("decided_on", "cannot be in the future"));
    }
    if to >= 1 && !facts.effective.covers(facts.holder_service()) {
        return Err(AppError::conflict(format!(
            "rule 2: level {to} needs an effective consent covering the stafettholder's service `{}`",
            facts.holder_service()
        )));
    }
    Ok(())
}
