//! Measures (tiltak) and their evaluations (rule 7): one responsible party, a deadline, a state machine,
//! and evaluations that decide whether a measure continues.

pub mod api;
pub mod handlers;
pub mod rules;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_measures)
        .service(handlers::create_measure)
        .service(handlers::get_measure)
        .service(handlers::patch_measure)
        .service(handlers::list_evaluations)
        .service(handlers::add_evaluation);
}
