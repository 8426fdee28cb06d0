//! Who does what with the municipality's surveys of its employees (rule 15). The administrator writes a
//! survey and may change or delete it until it opens. Employees (professionals and leaders) see the
//! surveys that have opened and answer each once; a planned survey does not exist for them (404). The
//! results, once a survey has closed, are the administrator's (every group) and a leader's (the groups of
//! the services they lead, and of their kinds). Families and integrations have no part in it (403).

use super::overviews::Scope;
use crate::auth::{Caller, Role};
use crate::http::error::AppError;
use crate::surveys::api::SurveyState;

fn employee(caller: &Caller) -> bool {
    caller.has_role(Role::Professional) || caller.has_role(Role::Leader)
}

/// The administrator writes, changes and deletes surveys, and reads the default questionnaire.
pub fn may_manage(caller: &Caller) -> Result<(), AppError> {
    caller.require_role(Role::Admin)
}

/// The administrator and the employees list surveys; everyone else is refused for their role.
pub fn may_list(caller: &Caller) -> Result<(), AppError> {
    if employee(caller) || caller.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "surveys are of the municipality's employees: this needs the `professional`, `leader` or `admin` role",
        ))
    }
}

/// Whether the caller sees planned surveys (the administrator) or only those that have opened.
pub fn sees_planned(caller: &Caller) -> bool {
    caller.has_role(Role::Admin)
}

/// A survey the caller may see: any for the administrator, one that has opened for an employee.
pub fn may_see(caller: &Caller, state: SurveyState) -> Result<(), AppError> {
    may_list(caller)?;
    if state != SurveyState::Planned || sees_planned(caller) {
        Ok(())
    } else {
        Err(AppError::not_found("survey"))
    }
}

/// Employees answer: professionals and leaders.
pub fn may_answer(caller: &Caller) -> Result<(), AppError> {
    if employee(caller) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "a survey is answered by the municipality's employees: this needs the `professional` or `leader` role",
        ))
    }
}

/// Results are the administrator's (every group) and the leaders' (the groups of the services they lead,
/// and by kind those of their kinds), as the statistics are.
pub fn results_scope(caller: &Caller) -> Result<Scope, AppError> {
    super::overviews::admin_or_leader(
        caller,
        "survey results are for administrators (every group) and leaders (their services)",
    )
}
