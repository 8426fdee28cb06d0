//! The level-0 decision (rule 12): the level-0 period of a case ends in one recorded decision of its
//! stafettholder within the municipality's deadline: close, level 1, level 2, or a report of concern to
//! child welfare. The database knows when the current level-0 period began (`cases.level0_since`) and
//! holds one decision per period. A report is the reporting service's record (rule 11): who sees it is
//! `crate::policy::decisions`. An overdue decision waits in "what needs me" until it is recorded.

pub mod api;
pub mod handlers;
pub mod record;
pub mod rules;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_decisions)
        .service(handlers::record_decision);
}
