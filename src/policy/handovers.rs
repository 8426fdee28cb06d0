//! Who answers a handover (rule 6): the holder proposes (`Need::Holder`) and may withdraw the proposal;
//! only the professional it is addressed to, in a service they work in, accepts or declines it, even
//! before they are a participant of the case. A unit leader moves the relay at once instead
//! (`super::leaders`).

use diesel::PgConnection;
use uuid::Uuid;

use super::CaseAccess;
use crate::auth::{Caller, Role};
use crate::cases::store::CaseRow;
use crate::handovers::api::HandoverState;
use crate::handovers::store::HandoverRow;
use crate::http::error::AppError;

/// A professional may answer a handover addressed to them, in a service they work in.
pub fn is_recipient(caller: &Caller, to_user_id: &str, to_service: &str) -> bool {
    caller.has_role(Role::Professional)
        && caller.user_id == to_user_id
        && caller.works_in(to_service)
}

/// The case and handover, both locked, for the recipient's answer. Anyone else gets 403 when they can
/// read the case, 404 when they cannot.
pub fn for_recipient(
    conn: &mut PgConnection,
    caller: &Caller,
    case_id: Uuid,
    handover_id: Uuid,
) -> Result<(CaseRow, HandoverRow), AppError> {
    let case = crate::cases::store::locked_one(conn, &caller.tenant, case_id)?
        .ok_or_else(|| AppError::not_found("case"))?;
    match crate::handovers::store::find_locked(conn, case_id, handover_id) {
        Ok(h) if is_recipient(caller, &h.to_user_id, &h.to_service) => Ok((case, h)),
        other => {
            // Not theirs: whether the case exists at all is only for those who may read it.
            super::case_for_read(conn, caller, case_id)?;
            other?;
            Err(AppError::forbidden(
                "only the recipient of the handover may accept or decline it",
            ))
        }
    }
}

/// The holder withdraws their own proposal. One answered already (perhaps by a racing accept, which may
/// also have made someone else holder) is the conflict to report, not the caller's role; an expired
/// proposal may still be withdrawn, to tidy up, even of a closed case.
pub fn may_cancel(access: &CaseAccess, handover: &HandoverRow) -> Result<(), AppError> {
    if handover.state != HandoverState::Pending {
        handover.require_pending(access.today)?;
    }
    access.require_holder()
}
