//! Everything that happened in a case, newest first, as one keyset-paginated list: the case opening and
//! closing, participants joining and leaving, consents recorded, withdrawn and replaced, level changes,
//! measures and evaluations, and log entries. One SQL query over the source tables, so nothing is copied.

pub mod api;
pub mod handlers;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::timeline);
}
