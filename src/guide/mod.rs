//! The action guide (handlingsveileder) as data: levels -> ordered steps -> tools, per municipality,
//! edited as one draft and published as immutable numbered versions; public without a token; and each
//! case's place in it.
//!
//! - `document.rs` the document (what is edited, stored, exported and imported) and the default guide
//! - `rules.rs` what is publishable, what a reader gets, where a case stands (plain functions)
//! - `store.rs` queries; `cache.rs` the public guide kept in this process
//! - `handlers.rs` drafts, publishing, versions (admin); `public.rs` the public endpoints
//! - `steps.rs` a case's step: moves, and the columns that hold it on the case row

pub mod api;
pub mod cache;
pub mod document;
pub mod handlers;
pub mod public;
pub mod rules;
pub mod steps;
pub mod store;

pub use cache::GuideCache;

/// The admin's routes (under `/api/v1`).
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::get_draft)
        .service(handlers::put_draft)
        .service(handlers::publish)
        .service(handlers::list_versions)
        .service(handlers::get_version)
        .service(handlers::move_step);
}
