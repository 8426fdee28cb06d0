//! What needs attention now, past or near its deadline: for a professional (`GET /me/attention`, rule 7),
//! the evaluations past their deadline on measures they or their cases are responsible for, level-0
//! decisions past their deadline on cases they hold, consents expiring within 30 days on cases they
//! hold, handovers waiting for them, and inquiries to their services that wait longer than the
//! municipality allows; for the leader of a service (`GET /services/{code}/attention`), the same kinds of
//! things on the open cases held in the service, with the holders who have departed. Case ids, dates
//! and names of staff only; never content.

pub mod api;
pub mod handlers;
pub mod rules;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::attention)
        .service(handlers::service_attention);
}
