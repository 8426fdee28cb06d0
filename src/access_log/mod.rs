//! The access log (rule 9): `store` writes an access event for every read and change of case data, in the
//! same transaction; `handlers` shows the family and the stafettholder who read or changed what (`api` the
//! shape of what they read).

pub mod api;
pub mod handlers;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::access_log);
}
