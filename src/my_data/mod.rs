//! The right of access (GDPR Art. 15) for families: `GET /me/data`, every case the caller is in as a
//! guardian or as the subject youth, what each records about them, and who has looked at it.

pub mod api;
pub mod collect;
pub mod handlers;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::my_data);
}
