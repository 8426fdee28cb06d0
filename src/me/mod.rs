//! The caller as the service sees them (`GET /me`). What needs them is `crate::attention`, their own
//! data `crate::my_data`.

pub mod api;
pub mod handlers;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::me);
}
