//! The municipality (tenant) and its settings. Created with defaults, and with the four standard levels,
//! the first time a token of that municipality uses the service.

pub mod api;
pub mod handlers;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::get_municipality)
        .service(handlers::patch_municipality);
}
