//! The change feed (an outbox): every change of case data writes an event in the same transaction, with
//! a sequence number that follows commit order. Integrations follow it with `GET /api/v1/changes`,
//! storing the last `seq` they handled; ids only, never personal data.

pub mod api;
pub mod handlers;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::changes);
}
