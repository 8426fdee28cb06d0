//! Level changes (rules 1 and 2): the stafettholder moves the case up or down with a reason and a
//! decision date that may be back-dated; level 1 and up needs effective consent covering the holder's
//! service. The history is append-only.

pub mod api;
pub mod change;
pub mod handlers;
pub mod rules;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_level_changes)
        .service(handlers::change_level);
}
