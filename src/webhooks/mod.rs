//! Webhooks: the change feed pushed to an integration's HTTP endpoint (the Standard Webhooks convention).
//!
//! A webhook subscribes to change types. Each event the feed gets becomes a delivery of every active
//! webhook of its municipality that subscribed to its type, in the transaction that wrote the event (a
//! trigger in the migration `notifications`), so a rolled-back change delivers nothing. The sender of every
//! instance (`crate::jobs::delivery`) claims due deliveries, checks that the webhook's services may still
//! read the case (`crate::policy::readable`, the feed's rule; if not, the delivery is skipped), signs
//! and POSTs the body (`rules.rs`) through a client that refuses private addresses after resolving them
//! (`client.rs`), and retries a failure with the same `webhook-id`.

pub mod api;
pub mod client;
pub mod handlers;
pub mod rules;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::create_webhook)
        .service(handlers::list_webhooks)
        .service(handlers::get_webhook)
        .service(handlers::delete_webhook)
        .service(handlers::enable_webhook)
        .service(handlers::webhook_deliveries)
        .service(handlers::test_webhook);
}
