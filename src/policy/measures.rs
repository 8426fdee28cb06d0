//! Who may write measures and their evaluations: professionals in the case (`Need::Professional`) write
//! measures; a guardian evaluates the measures they are responsible for.

use super::CaseAccess;
use crate::http::error::AppError;
use crate::measures::api::Responsible;

/// Professionals evaluate any measure of the case; a guardian only one they are responsible for.
pub fn may_evaluate(access: &CaseAccess, responsible: &Responsible) -> Result<(), AppError> {
    if access.is_professional() {
        return Ok(());
    }
    let me = access.actor()?;
    if access.is_guardian()
        && *responsible
            == (Responsible::Participant {
                participant_id: me.id,
            })
    {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "guardians evaluate only the measures they are responsible for",
        ))
    }
}
