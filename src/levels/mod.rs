//! Level definitions 0-3. The numbers are the BTI model's; names, descriptions and the municipality's
//! guidance (the handlingsveileder) are configuration, seeded with the standard Norwegian wording.

pub mod api;
pub mod handlers;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_levels)
        .service(handlers::put_level);
}
