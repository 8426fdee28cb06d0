//! Notifications: people hear by e-mail or SMS that something waits for them.
//!
//! How a message travels:
//! 1. A person saves where they want to hear (`PUT /me/notifications`): `store::save_settings`.
//! 2. A change that someone should hear of writes its messages into the outbox in its own transaction
//!    (`store::notify`, called by the handlers of handovers, consents and inquiries); the daily reminders
//!    (evaluations due, consents running out, level-0 decisions overdue) come from the scheduled pass
//!    (`crate::jobs::delivery`), once per event and person.
//! 3. The sender of every instance (`crate::jobs::delivery`) claims due messages, writes their text
//!    (`rules::message`: what happened and a link, never a name, a national id or the case's text) and
//!    hands them to a channel (`channels.rs`: SMTP, an SMS gateway); a failure is retried on a schedule
//!    and then marked failed.
//! 4. A person sees what was sent to them: `GET /me/notifications/sent`.
//!
//! Integrations hear of changes through webhooks instead: `crate::webhooks`.

pub mod api;
pub mod channels;
pub mod handlers;
pub mod rules;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::notification_settings)
        .service(handlers::save_notification_settings)
        .service(handlers::sent_notifications);
}
