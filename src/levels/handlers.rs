//! Reading and changing the level definitions (administrators change them).

use actix_web::{get, put, web, HttpResponse};

use super::api::{LevelDefinition, LevelDefinitionInput, LevelList};
use super::store;
use crate::auth::{Caller, Role};
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::{etag, IfMatch, ValidJson};

/// The four levels of the municipality's action path.
///
/// Levels 0-3, each with its name, description and the municipality's guidance (steps and tools), for
/// any caller with a token.
#[utoipa::path(
    tag = "configuration",
    security(("bearer" = [])),
    responses((status = 200, description = "Levels 0-3", body = LevelList))
)]
#[get("/levels")]
pub async fn list_levels(caller: Caller, pool: web::Data<Pool>) -> Result<HttpResponse, AppError> {
    let rows = db::transaction(&pool, caller.session(), move |conn| {
        crate::municipality::store::ensure(conn, &caller.tenant)?;
        store::list(conn, &caller.tenant)
    })
    .await?;
    Ok(HttpResponse::Ok().json(LevelList {
        items: rows.into_iter().map(LevelDefinition::from).collect(),
    }))
}

/// Rename a level or write its guidance (admin).
///
/// For administrators (403 otherwise). A level outside 0-3 is 404; `If-Match` is checked when sent (412
/// when stale). The public guide, which names the levels by these definitions, is refreshed.
#[utoipa::path(
    tag = "configuration",
    security(("bearer" = [])),
    params(("level" = i16, Path, minimum = 0, maximum = 3, description = "0-3"),
        ("If-Match" = Option<String>, Header, description = "ETag from the last read; checked when sent")),
    request_body = LevelDefinitionInput,
    responses(
        (status = 200, description = "The level", body = LevelDefinition),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
    )
)]
#[put("/levels/{level}")]
pub async fn put_level(
    caller: Caller,
    pool: web::Data<Pool>,
    guide: web::Data<crate::guide::GuideCache>,
    path: web::Path<i16>,
    if_match: IfMatch,
    body: ValidJson<LevelDefinitionInput>,
) -> Result<HttpResponse, AppError> {
    caller.require_role(Role::Admin)?;
    let level = path.into_inner();
    if !(0..=3).contains(&level) {
        return Err(AppError::not_found("level (levels are 0-3)"));
    }
    let input = body.0;
    let m = caller.session();
    let row = db::transaction(&pool, m.clone(), move |conn| {
        crate::municipality::store::ensure(conn, &caller.tenant)?;
        let current = store::find_locked(conn, &caller.tenant, level)?;
        if_match.check_if_present(current.version)?;
        store::update(conn, &caller.tenant, level, &input)
    })
    .await?;
    // The public guide names the levels by their definitions.
    guide.invalidate(m.municipality());
    Ok(HttpResponse::Ok()
        .insert_header(actix_web::http::header::ETag(etag(row.version)))
        .json(LevelDefinition::from(row)))
}
