//! The municipality's services (kindergartens, schools, health stations, ...). Consent is given to a
//! service, never to a person, and the `services` claim of a token holds their codes.

pub mod api;
pub mod handlers;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_services)
        .service(handlers::create_service)
        .service(handlers::patch_service);
}
