//! Who asks, sees and answers a consultation (rule 15). A professional asks for one of their services;
//! the asker sees it, and so do the professionals and leaders of the service asked, who alone answer it.
//! Anyone else does not learn that it exists (404). Families, administrators and integrations have no
//! part in it (403).

use crate::auth::{Caller, Role};
use crate::consultations::store::ConsultationRow;
use crate::http::error::AppError;

fn staff(caller: &Caller) -> bool {
    caller.has_role(Role::Professional) || caller.has_role(Role::Leader)
}

/// A professional asks.
pub fn may_ask(caller: &Caller) -> Result<(), AppError> {
    caller.require_role(Role::Professional)
}

/// Professionals and leaders list the ones they may see; everyone else is refused for their role.
pub fn may_list(caller: &Caller) -> Result<(), AppError> {
    if staff(caller) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "consultations are between the municipality's services: this needs the `professional` or `leader` role",
        ))
    }
}

/// The asker, or a professional or leader of the service asked; 404 for anyone else of the staff.
pub fn may_see(caller: &Caller, c: &ConsultationRow) -> Result<(), AppError> {
    may_list(caller)?;
    let asked_it = caller.has_role(Role::Professional) && c.asked_by == caller.user_id;
    if asked_it || caller.works_in(&c.to_service) {
        Ok(())
    } else {
        Err(AppError::not_found("consultation"))
    }
}

/// Only the service asked answers (its professionals and leaders); the asker reads the answers.
pub fn may_answer(caller: &Caller, c: &ConsultationRow) -> Result<(), AppError> {
    may_see(caller, c)?;
    if caller.works_in(&c.to_service) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only the service asked answers a consultation",
        ))
    }
}
