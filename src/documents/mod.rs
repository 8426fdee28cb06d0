//! The case document: one JSON object holding a complete case. `export.rs` writes it (for the family's
//! right of access and for the archive on closure), `import/` reads it (for moving from another
//! product), and both use these same types (`api.rs`), so an export imports again unchanged.

pub mod api;
pub mod export;
pub mod handlers;
pub mod import;
pub mod pdf;
pub mod stream;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::export)
        .service(handlers::import_cases);
}
