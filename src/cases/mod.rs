//! Cases: open, list, read, change and close. A case is one subject (child, youth, pregnant woman or
//! family) that a concern is about, with its stafettholder and its level.

pub mod api;
pub mod facts;
pub mod grants;
pub mod handlers;
pub mod load;
pub mod rules;
pub mod store;
pub mod view;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_cases)
        .service(handlers::open_case)
        .service(handlers::get_case)
        .service(handlers::patch_case)
        .service(handlers::close_case)
        .service(handlers::report_archived)
        .service(handlers::reopen_case);
}

/// Schemas of this resource that no operation names directly (the list's `holder` filter is read through a
/// query struct), registered with the document in `crate::api_doc`.
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(api::HolderFilter)))]
pub struct CasesDoc;
