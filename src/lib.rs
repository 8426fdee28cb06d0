//! Stafettlogg: an open HTTP API for the BTI stafettlogg.
//!
//! `app` builds the actix application from its parts; `serve` runs it. Where things live (the layers
//! are drawn in docs/architecture.md):
//! - who may read or change what: `policy`
//! - one folder per resource (`mod.rs` routes, `api.rs` types, `handlers.rs`, `rules.rs`, `store.rs`):
//!   `cases`, `participants`, `consents`, `handovers`, `entries`, ...
//! - the HTTP plumbing every resource uses: `http`; the database: `db`; tokens: `auth`
//! - background work and the command line: `jobs`, `cli`

pub mod access_log;
pub mod attention;
pub mod auth;
pub mod cases;
pub mod changes;
pub mod cli;
pub mod clock;
pub mod config;
pub mod consents;
pub mod consultations;
pub mod dates;
pub mod db;
pub mod decisions;
pub mod documents;
pub mod entries;
pub mod guide;
pub mod handovers;
pub mod http;
pub mod inquiries;
pub mod jobs;
pub mod leaders;
pub mod level_changes;
pub mod levels;
pub mod me;
pub mod measures;
pub mod meetings;
pub mod municipality;
pub mod my_data;
pub mod national_id;
pub mod notifications;
pub mod participants;
pub mod patch;
pub mod plans;
pub mod policy;
pub mod services;
pub mod statistics;
pub mod surveys;
pub mod text_enum;
pub mod timeline;
pub mod webhooks;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpRequest, HttpServer};
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::jwt::JwtSettings;
use crate::http::error::{AppError, ProblemType};
use crate::http::extract::BodyLimit;
use crate::http::openapi::RouteTable;
use crate::national_id::NationalIdKey;

/// Everything a running server needs besides its listener.
#[derive(Clone)]
pub struct AppContext {
    pub pool: db::Pool,
    pub jwt: JwtSettings,
    pub national_id_key: NationalIdKey,
    pub body_limit: usize,
    /// The limit for import bodies (NDJSON files).
    pub import_limit: usize,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Origins of browser front ends allowed to call the API (CORS); empty: none.
    pub cors_origins: Vec<String>,
    /// Where `GET /metrics` listens (`METRICS_ADDR`); never the public listener.
    pub metrics_listener: Option<Arc<TcpListener>>,
    /// The database URL this instance listens on for other instances' changes (crate::db::listen); `None`:
    /// it only polls.
    pub listen_url: Option<String>,
    /// How notifications and webhook deliveries leave (`crate::jobs::delivery`).
    pub delivery: config::Delivery,
    /// The callers' and the public routes' request budgets (`crate::http::rate_limit`).
    pub rate_limits: http::rate_limit::RateLimits,
}

/// Every route of the API. Mounted through utoipa-actix-web, so each one lands in the spec.
fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.configure(http::health::configure)
        .service(
            utoipa_actix_web::scope("/api/v1")
                .configure(me::configure)
                .configure(notifications::configure)
                .configure(webhooks::configure)
                .configure(my_data::configure)
                .configure(attention::configure)
                .configure(municipality::configure)
                .configure(services::configure)
                .configure(levels::configure)
                .configure(cases::configure)
                .configure(participants::configure)
                .configure(consents::configure)
                .configure(measures::configure)
                .configure(plans::configure)
                .configure(meetings::configure)
                .configure(level_changes::configure)
                .configure(decisions::configure)
                .configure(entries::configure)
                .configure(timeline::configure)
                .configure(handovers::configure)
                .configure(changes::configure)
                .configure(documents::configure)
                .configure(access_log::configure)
                .configure(guide::configure)
                .configure(inquiries::configure)
                .configure(consultations::configure)
                .configure(leaders::configure)
                .configure(jobs::retention::configure)
                .configure(statistics::configure)
                .configure(surveys::configure),
        )
        .service(
            utoipa_actix_web::scope("/public/v1")
                .configure(guide::public::configure)
                .configure(meetings::configure_public),
        );
}

/// The OpenAPI document, generated from the routes and types.
pub fn api_doc() -> utoipa::openapi::OpenApi {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(http::openapi::ApiDoc::openapi().merge_from(cases::CasesDoc::openapi()))
        .configure(routes)
        .split_for_parts();
    http::openapi::add_standard_responses(&mut api);
    http::openapi::add_idempotency_key_header(&mut api);
    let mut value = serde_json::to_value(&api).expect("spec serializes");
    http::openapi::close_tagged_unions(&mut value);
    http::openapi::document_limits(&mut value);
    serde_json::from_value(value).expect("the adjusted spec is still an OpenAPI document")
}

/// The spec as the committed file holds it: pretty JSON with a trailing newline.
pub fn api_doc_json() -> String {
    let mut s = api_doc().to_pretty_json().expect("spec serializes");
    s.push('\n');
    s
}

/// Unknown path: 404. Known path, wrong method: 405 with `Allow`.
async fn fallback(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<actix_web::HttpResponse, AppError> {
    match table.allowed(req.path()) {
        Some(methods) => {
            let allow = methods
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let mut e = AppError::new(
                ProblemType::MethodNotAllowed,
                format!(
                    "{} is not allowed on {}; use {allow}",
                    req.method(),
                    req.path()
                ),
            );
            e.allow = Some(allow);
            Err(e)
        }
        None => Err(AppError::new(
            ProblemType::NotFound,
            format!("there is nothing at {}", req.path()),
        )),
    }
}

/// Starts the HTTP server on `listener` and returns it running (await it to wait for shutdown).
pub fn serve(listener: TcpListener, ctx: AppContext) -> std::io::Result<actix_web::dev::Server> {
    let spec = Arc::new(api_doc());
    let table = web::Data::new(RouteTable::from_spec(&spec));
    let workers = ctx.workers;
    let metrics = web::Data::new(http::metrics::Metrics::new());
    // One for all workers: a publish on this instance must be seen by every worker at once.
    let guide_cache = web::Data::new(guide::GuideCache::default());
    let wakeups = Arc::new(db::listen::Wakeups::default());
    if let Some(url) = ctx.listen_url.clone() {
        let cache = guide_cache.clone();
        db::listen::spawn(db::network::with_network_limits(&url), &wakeups, move |m| {
            if let Some(m) = db::session::Municipality::parse(m) {
                cache.invalidate(m);
            }
        })?;
    }
    let wakeups = web::Data::from(wakeups);
    jobs::delivery::spawn(jobs::delivery::Senders {
        pool: ctx.pool.clone(),
        config: ctx.delivery.clone(),
        key: ctx.national_id_key.clone(),
        metrics: metrics.clone().into_inner(),
    })
    .map_err(std::io::Error::other)?;
    let delivery = web::Data::new(ctx.delivery.clone());
    // One set of buckets for all workers: a caller's budget is the instance's, not a worker's.
    let limiters = web::Data::new(http::rate_limit::Limiters::new(&ctx.rate_limits));
    if let Some(listener) = &ctx.metrics_listener {
        let server =
            http::metrics::serve(listener.try_clone()?, metrics.clone(), ctx.pool.clone())?;
        actix_web::rt::spawn(server);
    }
    let mut server = HttpServer::new(move || {
        let (app, _) = App::new()
            .app_data(web::Data::new(ctx.pool.clone()))
            .app_data(web::Data::new(ctx.jwt.clone()))
            .app_data(web::Data::new(ctx.national_id_key.clone()))
            .app_data(web::Data::new(BodyLimit(ctx.body_limit)))
            .app_data(web::Data::new(http::extract::ImportLimit(ctx.import_limit)))
            .app_data(web::PathConfig::default().error_handler(http::extract::path_error))
            .app_data(table.clone())
            .app_data(metrics.clone())
            .app_data(guide_cache.clone())
            .app_data(wakeups.clone())
            .app_data(delivery.clone())
            .app_data(limiters.clone())
            .wrap(from_fn(http::idempotency::middleware))
            .wrap(from_fn(http::openapi::refuse_undeclared_query))
            .wrap(from_fn(http::request_body::middleware))
            .wrap(from_fn(http::metrics::Metrics::count_round_trips))
            .wrap(from_fn(http::rate_limit::middleware))
            .wrap(http::cors::layer(&ctx.cors_origins))
            .wrap(TracingLogger::<http::telemetry::RequestSpan>::new())
            .wrap(from_fn(http::request_id::middleware))
            .into_utoipa_app()
            .configure(routes)
            .split_for_parts();
        app.service(
            SwaggerUi::new("/docs/{_:.*}")
                .url("/openapi.json", (*spec).clone())
                // The default online validator would send the spec's URL to validator.swagger.io from
                // every browser that opens the docs anywhere but on localhost.
                .config(utoipa_swagger_ui::Config::default().validator_url("none")),
        )
        .route(
            "/docs",
            web::get().to(|| async {
                actix_web::HttpResponse::PermanentRedirect()
                    .insert_header(("Location", "/docs/"))
                    .finish()
            }),
        )
        .default_service(web::to(fallback))
    })
    .shutdown_timeout(10)
    // The binary decides how signals stop the server (gracefully, see main.rs); tests never get them.
    .disable_signals();
    if workers > 0 {
        server = server.workers(workers);
    }
    Ok(server.listen(listener)?.run())
}
