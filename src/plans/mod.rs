//! Plans beside the log (rule 13): the individual plan (ip), the individual education plan (iop), the
//! individual development plan (iup) and a school's activity plan (aktivitetsplan), each owned by a
//! service, with members (the ansvarsgruppe) from the case's participants. Who may change a plan is in
//! `crate::policy::plans`.

pub mod api;
pub mod handlers;
pub mod rules;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_plans)
        .service(handlers::create_plan)
        .service(handlers::get_plan)
        .service(handlers::patch_plan)
        .service(handlers::add_plan_member)
        .service(handlers::activate_plan)
        .service(handlers::end_plan);
}
