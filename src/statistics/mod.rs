//! Figures for the municipality: counts per level, service, month or closing reason,
//! with no personal data. Administrators see the whole municipality, leaders the cases of the services
//! they lead; nobody else.
//!
//! - `api.rs` the query and the table; `rules.rs` the period and the suppression of small cells (plain
//!   functions); `store.rs` the one aggregate query; `handlers.rs` the endpoint (JSON or CSV).
//!
//! Statistics leave no access events: they show no case, and an event per counted case would bury the
//! family's access log (rule 9) under reads that told nobody anything about them.

pub mod api;
pub mod handlers;
pub mod rules;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::statistics);
}
