//! Inquiries: the family's own way in. A guardian or youth signed in through a national
//! login asks a service for help; the service's professionals answer it, close it, or open a level-0
//! case from it. Who sees one is decided in `crate::policy::inquiries`; the rules are in `rules`; the
//! erasure of another family's child's text is in `erasure`.

pub mod api;
pub mod handlers;
pub mod rules;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::send_inquiry)
        .service(handlers::inquiry_inbox)
        .service(handlers::my_inquiries)
        .service(handlers::get_inquiry)
        .service(handlers::answer_inquiry)
        .service(handlers::close_inquiry)
        .service(handlers::open_case_from_inquiry);
}
