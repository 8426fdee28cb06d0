//! Anonymous consultation (anonym drøfting): before anything is recorded about a child, an employee asks
//! another service about a worry. No case and no person (rule 15): a question from one service to
//! another with an optional age group, answered by that service only; a national identity number in the
//! text is refused. Who sees and answers one is in `crate::policy::consultations`; the daily erasure is
//! `crate::jobs::inquiry_erasure`.

pub mod api;
pub mod handlers;
pub mod rules;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::ask_consultation)
        .service(handlers::list_consultations)
        .service(handlers::get_consultation)
        .service(handlers::answer_consultation);
}
