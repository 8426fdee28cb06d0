//! Thin handlers for the municipality's settings: role -> check -> store -> respond.

use actix_web::{get, patch, web, HttpResponse};

use super::api::{Municipality, MunicipalityPatch};
use super::store;
use crate::auth::{Caller, Role};
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::{etag, IfMatch, ValidJson};

/// The caller's municipality and its settings.
///
/// Its number and name, the self-consent age, the level-0 deadline, how long a consent lasts, when a
/// waiting inquiry needs attention, the retention and `purge_unarchived`, for any caller with a token.
/// The `ETag` is what `If-Match` takes when an administrator changes them.
#[utoipa::path(
    tag = "configuration",
    security(("bearer" = [])),
    responses((status = 200, description = "The settings", body = Municipality,
        headers(("ETag" = String, description = "The version, for If-Match"))))
)]
#[get("/municipality")]
pub async fn get_municipality(
    caller: Caller,
    pool: web::Data<Pool>,
) -> Result<HttpResponse, AppError> {
    let row = db::transaction(&pool, caller.session(), move |conn| {
        store::ensure(conn, &caller.tenant)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(actix_web::http::header::ETag(etag(row.version)))
        .json(Municipality::from(row)))
}

/// Change the municipality's settings (admin).
///
/// For administrators (403 otherwise). `If-Match` is checked when sent (412 when stale). Answers the new
/// settings, with their new `ETag`; a patch that changes nothing answers them as they are, with the same.
#[utoipa::path(
    tag = "configuration",
    security(("bearer" = [])),
    request_body = MunicipalityPatch,
    params(("If-Match" = Option<String>, Header, description = "ETag from the last read; checked when sent")),
    responses(
        (status = 200, description = "The new settings", body = Municipality, headers(("ETag" = String, description = "Its version: a new one when the patch changed anything"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
    )
)]
#[patch("/municipality")]
pub async fn patch_municipality(
    caller: Caller,
    pool: web::Data<Pool>,
    if_match: IfMatch,
    body: ValidJson<MunicipalityPatch>,
) -> Result<HttpResponse, AppError> {
    caller.require_role(Role::Admin)?;
    let patch = body.0;
    let row = db::transaction(&pool, caller.session(), move |conn| {
        let current = store::ensure_locked(conn, &caller.tenant)?;
        if_match.check_if_present(current.version)?;
        store::update(conn, current, &patch)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(actix_web::http::header::ETag(etag(row.version)))
        .json(Municipality::from(row)))
}
