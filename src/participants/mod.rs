//! People in a case: professionals, guardians, the subject youth and others. Added and changed by the
//! stafettholder; deactivated, never deleted. A professional from another service than the holder's joins
//! only while the effective consent covers that service (rule 3).

pub mod api;
pub mod handlers;
pub mod rules;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_participants)
        .service(handlers::add_participant)
        .service(handlers::patch_participant)
        .service(handlers::deactivate_participant);
}
