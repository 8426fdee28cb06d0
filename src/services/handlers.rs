//! Thin handlers for the services: role -> check -> store -> respond.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::api::{NewServiceRequest, Service, ServiceListQuery, ServicePatch};
use super::store;
use crate::auth::{Caller, Role};
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::{etag, IfMatch, ValidJson, ValidQuery};
use crate::http::pagination;

/// The municipality's services, ordered by code.
///
/// A page of services, for any caller with a token; `active` lists only the active or only the inactive
/// ones.
#[utoipa::path(
    tag = "configuration",
    security(("bearer" = [])),
    params(ServiceListQuery),
    responses((status = 200, description = "A page of services", body = pagination::Page<Service>))
)]
#[get("/services")]
pub async fn list_services(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    query: ValidQuery<ServiceListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let limit = pagination::effective_limit(q.limit);
    let after = q
        .cursor
        .as_deref()
        .map(pagination::decode_cursor)
        .transpose()?;
    let rows = db::transaction(&pool, caller.session(), move |conn| {
        crate::municipality::store::ensure(conn, &caller.tenant)?;
        store::list(conn, &caller.tenant, q.active, after.as_deref(), limit + 1)
    })
    .await?;
    let items: Vec<Service> = rows.into_iter().map(Service::from).collect();
    Ok(pagination::respond(
        &req,
        pagination::page(items, limit, |s| s.code.clone()),
    ))
}

/// Register a service (admin).
///
/// For administrators (403 otherwise); a code the municipality has already is 409. The public guide,
/// which lists the services with their contact details, is refreshed.
#[utoipa::path(
    tag = "configuration",
    security(("bearer" = [])),
    request_body = NewServiceRequest,
    responses(
        (status = 201, description = "Created", body = Service,
            headers(("Location" = String, description = "The new service"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/services")]
pub async fn create_service(
    caller: Caller,
    pool: web::Data<Pool>,
    guide: web::Data<crate::guide::GuideCache>,
    body: ValidJson<NewServiceRequest>,
) -> Result<HttpResponse, AppError> {
    caller.require_role(Role::Admin)?;
    let body = body.0;
    let m = caller.session();
    let row = db::transaction(&pool, m.clone(), move |conn| {
        crate::municipality::store::ensure(conn, &caller.tenant)?;
        store::insert(conn, &caller.tenant, &body)
    })
    .await?;
    // The public guide lists the services with their contact details.
    guide.invalidate(m.municipality());
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/services/{}", row.id)))
        .insert_header(actix_web::http::header::ETag(etag(row.version)))
        .json(Service::from(row)))
}

/// Rename, re-classify or deactivate a service (admin).
///
/// For administrators (403 otherwise). The code never changes: tokens carry it. An unknown id is 404;
/// `If-Match` is checked when sent (412 when stale). The public guide, which lists the services, is
/// refreshed. A patch that changes nothing answers the service as it is, with the same version.
#[utoipa::path(
    tag = "configuration",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The service id"),
        ("If-Match" = Option<String>, Header, description = "ETag from the last read; checked when sent")),
    request_body = ServicePatch,
    responses(
        (status = 200, description = "The changed service", body = Service, headers(("ETag" = String, description = "Its version: a new one when the patch changed anything"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
    )
)]
#[patch("/services/{id}")]
pub async fn patch_service(
    caller: Caller,
    pool: web::Data<Pool>,
    guide: web::Data<crate::guide::GuideCache>,
    path: web::Path<Uuid>,
    if_match: IfMatch,
    body: ValidJson<ServicePatch>,
) -> Result<HttpResponse, AppError> {
    caller.require_role(Role::Admin)?;
    let id = path.into_inner();
    let patch = body.0;
    let m = caller.session();
    let row = db::transaction(&pool, m.clone(), move |conn| {
        let current = store::find_locked(conn, &caller.tenant, id)?;
        if_match.check_if_present(current.version)?;
        store::update(conn, current, &patch)
    })
    .await?;
    if row.changed() {
        guide.invalidate(m.municipality());
    }
    let row = row.into_row();
    Ok(HttpResponse::Ok()
        .insert_header(actix_web::http::header::ETag(etag(row.version)))
        .json(Service::from(row)))
}
