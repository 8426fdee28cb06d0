//! The published guide for anyone, without a token: the citizen's page and the document another
//! municipality starts from. Served from [`GuideCache`]; only a stale or missing entry reaches PostgreSQL.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};

use super::api::{GuideQuery, PublicGuide};
use super::cache::{GuideCache, Published, Rendered, MAX_AGE_SECONDS};
use super::document::{Audience, GuideDocument, Lang};
use super::store;
use crate::db::session::Municipality;
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::ValidQuery;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(public_guide).service(public_guide_document);
}

/// A municipality number from the path; anything but four digits does not exist.
fn municipality(number: &str) -> Result<Municipality, AppError> {
    Municipality::parse(number)
        .ok_or_else(|| AppError::not_found("municipality (a kommunenummer is four digits)"))
}

/// The municipality's guide: from this process when fresh, otherwise read once (newest version, level
/// names and services in one transaction named after the municipality) and kept.
pub async fn published(
    pool: &Pool,
    cache: &GuideCache,
    m: Municipality,
) -> Result<Arc<Published>, AppError> {
    if let Some(p) = cache.fresh(m) {
        return Ok(p);
    }
    let generation = cache.generation();
    let p = db::transaction(pool, m, move |conn| {
        let newest = store::newest(conn, m.as_str())?;
        let names = store::level_names(conn, m.as_str())?;
        let services = store::public_services(conn, m.as_str())?;
        Ok(match newest {
            Some(row) => {
                let doc = store::parse(row.document)?;
                Published::build(
                    m,
                    row.number,
                    Some(row.published_at),
                    &doc,
                    &names,
                    services,
                )
            }
            None => Published::build(
                m,
                0,
                None,
                super::document::default_document(),
                &names,
                services,
            ),
        })
    })
    .await?;
    let p = Arc::new(p);
    cache.store(m, generation, p.clone());
    Ok(p)
}

/// `If-None-Match` names this tag (or `*`).
fn not_modified(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|t| t == etag || t == "*")
}

fn respond(req: &HttpRequest, r: &Rendered) -> HttpResponse {
    let fresh = not_modified(req, &r.etag);
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header(header::ETag(header::EntityTag::new_strong(r.etag.clone())))
        .insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={MAX_AGE_SECONDS}"),
        ));
    if fresh {
        return res.finish();
    }
    res.content_type("application/json").body(r.body.clone())
}

/// The municipality's published action guide (handlingsveileder).
///
/// For one audience and language, with the services to contact. No token. A municipality that has
/// published none gets the project's default guide (version 0). Cached: `ETag` with `If-None-Match`
/// gives 304, and a publish is seen everywhere within a minute.
#[utoipa::path(
    tag = "guide",
    params(
        ("number" = String, Path, pattern = "^[0-9]{4}$", example = "3805",
            description = "The kommunenummer; anything but four digits is 404"),
        GuideQuery,
        ("If-None-Match" = Option<String>, Header, description = "The ETag of the copy you have"),
    ),
    responses(
        (status = 200, description = "The guide", body = PublicGuide, headers(
            ("ETag" = String, description = "Changes when the guide or the services do"),
            ("Cache-Control" = String, description = "`public, max-age=60`"))),
        (status = 304, description = "Your copy is current"),
        (status = 404, response = crate::http::openapi::NotFound),
        (status = 503, response = crate::http::openapi::Unavailable),
    )
)]
#[get("/municipalities/{number}/guide")]
pub async fn public_guide(
    req: HttpRequest,
    pool: web::Data<Pool>,
    cache: web::Data<GuideCache>,
    path: web::Path<String>,
    query: ValidQuery<GuideQuery>,
) -> Result<HttpResponse, AppError> {
    let m = municipality(&path)?;
    let audience = query.0.audience.unwrap_or(Audience::Employee);
    let lang = query.0.lang.unwrap_or(Lang::Nb);
    let p = published(&pool, &cache, m).await?;
    Ok(respond(&req, p.page(audience, lang)))
}

/// The published guide as one document, every audience and language.
///
/// What `PUT /api/v1/guide/draft` of another municipality takes to start from it. The project's default
/// guide where none is published. No token; `ETag` with `If-None-Match` gives 304.
#[utoipa::path(
    tag = "guide",
    params(
        ("number" = String, Path, pattern = "^[0-9]{4}$", example = "3805",
            description = "The kommunenummer; anything but four digits is 404"),
        ("If-None-Match" = Option<String>, Header, description = "The ETag of the copy you have"),
    ),
    responses(
        (status = 200, description = "The document", body = GuideDocument, headers(
            ("ETag" = String, description = "Changes when the guide does"),
            ("Cache-Control" = String, description = "`public, max-age=60`"))),
        (status = 304, description = "Your copy is current"),
        (status = 404, response = crate::http::openapi::NotFound),
        (status = 503, response = crate::http::openapi::Unavailable),
    )
)]
#[get("/municipalities/{number}/guide/document")]
pub async fn public_guide_document(
    req: HttpRequest,
    pool: web::Data<Pool>,
    cache: web::Data<GuideCache>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let m = municipality(&path)?;
    let p = published(&pool, &cache, m).await?;
    Ok(respond(&req, &p.document))
}
