//! The log itself (rules 10 and 11): notes, meetings, conversations, lysglimt and decisions, written by
//! any participant with access, guardians included. Append-only: there is no update or delete route, the
//! table refuses both, and a correction is a new entry pointing at the one it corrects.

pub mod api;
pub mod handlers;
pub mod rules;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_entries)
        .service(handlers::add_entry)
        .service(handlers::get_entry);
}
