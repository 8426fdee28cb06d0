//! The municipality's BTI survey (kartlegging) of its own employees: do they know the action guide, do
//! they know whom to talk to, how does cooperation across services work; repeated to see whether the
//! model takes hold.
//!
//! An answer cannot be traced back to its author (rule 15): it is never stored as a row of its own. It
//! marks its author as having answered (`survey_respondents`, so nobody answers twice) and adds to the
//! counts of its group (`survey_tallies`: the service kind, and the service where the survey records it),
//! in one transaction; the two tables share nothing but the survey, and neither has a timestamp. Results
//! are published once the survey has closed, each group of fewer than five answers suppressed
//! (`rules::publish`). The purge forgets who answered a closed survey and, after the municipality's
//! `survey_retention_years`, the per-service counts (`store::reduce`). Who does what is in
//! `crate::policy::surveys`.

pub mod api;
pub mod handlers;
pub mod questionnaire;
pub mod rules;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    // The fixed path first: `/surveys/{id}` would take `default-questionnaire` as an id.
    cfg.service(handlers::default_questionnaire)
        .service(handlers::create_survey)
        .service(handlers::list_surveys)
        .service(handlers::get_survey)
        .service(handlers::patch_survey)
        .service(handlers::delete_survey)
        .service(handlers::close_survey)
        .service(handlers::answer_survey)
        .service(handlers::survey_results);
}
