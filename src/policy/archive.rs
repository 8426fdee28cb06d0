//! Who reports that a closed case was taken into the municipality's archive: its administrator, who sees
//! no content (the answer holds only where it was archived), or the archive system: an integration with
//! the `archive` scope that may read the case. The report lets the purge erase the case
//! (`crate::jobs::retention`), so no other integration of a service in the case may make it.

use uuid::Uuid;

use super::{case_for_read, Granted};
use crate::access_log::store::Basis;
use crate::auth::{Caller, Role};
use crate::cases::store::CaseRow;
use crate::http::error::AppError;

/// The scope an integration's token needs to report an archival.
pub const ARCHIVE_SCOPE: &str = "archive";

/// The case the caller reports on, and the basis of the report's access event: an administrator's case of
/// the municipality, or one an integration may read; 404 otherwise, 403 for anyone else.
pub fn case_to_archive(
    conn: &mut diesel::PgConnection,
    caller: &Caller,
    case_id: Uuid,
) -> Result<(CaseRow, Granted), AppError> {
    if caller.has_role(Role::Integration) && caller.has_scope(ARCHIVE_SCOPE) {
        let access = case_for_read(conn, caller, case_id)?;
        let granted = access.granted();
        return Ok((access.facts.case, granted));
    }
    if !caller.has_role(Role::Admin) {
        return Err(AppError::forbidden(
            "an archival is reported by the municipality's administrator, or by an integration with the `archive` scope (the archive system)",
        ));
    }
    let case = crate::cases::store::by_ids(conn, &[case_id])?
        .pop()
        .ok_or_else(|| AppError::not_found("case"))?;
    let granted = Granted {
        case_id,
        basis: Basis::Administration,
    };
    Ok((case, granted))
}
