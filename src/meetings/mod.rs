//! Meetings with the family (samarbeidsmøter, ansvarsgrupper), planned ahead: invitations within the
//! consent's coverage, each invitee's answer, changes and cancellations the invitees hear of, minutes that
//! become a `meeting` entry of the log, and a person's calendar feed (`calendar`, rule 14). Who may answer
//! an invitation is in `crate::policy::meetings`.

pub mod api;
pub mod calendar;
pub mod handlers;
pub mod rules;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_meetings)
        .service(handlers::plan_meeting)
        .service(handlers::get_meeting)
        .service(handlers::change_meeting)
        .service(handlers::answer_invitation)
        .service(handlers::write_minutes)
        .service(handlers::cancel_meeting)
        .service(handlers::my_meetings)
        .service(calendar::subscribe_calendar)
        .service(calendar::stop_calendar);
}

/// The calendar feed, read by calendar apps without a token.
pub fn configure_public(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(calendar::calendar_feed);
}
