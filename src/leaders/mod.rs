//! Unit leaders and staff who leave: the service overview (`overview`) and departures (`staff`). What
//! needs the leader is `crate::attention`. Who a leader is and what they may see is decided in
//! `crate::policy::leaders`; moving the relay at once is `crate::handovers::reassign`.

pub mod overview;
pub mod staff;

use crate::auth::Caller;
use crate::http::error::AppError;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(overview::service_cases)
        .service(staff::departed)
        .service(staff::undo_departed);
}

/// A service the leader's token names but the municipality does not have (or no longer runs) is 404.
pub fn require_service(
    conn: &mut diesel::PgConnection,
    caller: &Caller,
    service: &str,
) -> Result<(), AppError> {
    crate::services::store::find_active_by_code(conn, &caller.tenant, service)?
        .map(|_| ())
        .ok_or_else(|| AppError::not_found("service"))
}
