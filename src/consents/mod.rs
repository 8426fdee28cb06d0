//! Consents (rules 3, 4 and 5): recorded by the stafettholder or digitally by a guardian (who may name
//! the other givers, who then sign it themselves; who may do what is `crate::policy::consents`), withdrawn by a
//! giver or by the holder on a giver's behalf, replaced, and expiring by date. What a case may share is
//! always computed from them (`rules::effective`); what happens when coverage shrinks is `effects`.

pub mod api;
pub mod effects;
pub mod handlers;
pub mod rules;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_consents)
        .service(handlers::record_consent)
        .service(handlers::effective_consent)
        .service(handlers::withdraw_consent)
        .service(handlers::sign_consent);
}
