use actix_web::http::header::ETag;
use actix_web::{get, post, web, HttpResponse};
use uuid::Uuid;

use super::api::{LevelChange, LevelChangeInput, LevelChangeList};
use super::change::{move_level, LevelMove};
use super::store;
use crate::access_log::store::Resource;
use crate::auth::Caller;
use crate::db::Pool;
use crate::http::error::AppError;
use crate::http::extract::{etag, IfMatch, ValidJson};
use crate::policy::{self, Need};

/// The level history of a case.
///
/// The case's current level and every change of it, oldest first, for anyone who may read the case; for
/// anyone else it is 404. Leaves an access event.
#[utoipa::path(
    tag = "levels",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    responses((status = 200, description = "The current level and its history", body = LevelChangeList))
)]
#[get("/cases/{id}/level-changes")]
pub async fn list_level_changes(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let seen = Resource::CaseLevelChanges;
    let list = policy::read_case(&pool, caller, id, seen, move |conn, _, access| {
        let items = store::of_case(conn, id)?;
        Ok(LevelChangeList {
            level: access.case.level,
            items,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Move the case to another level.
///
/// The stafettholder, with the case's ETag in `If-Match`. Level 1 and up need an effective consent
/// covering the holder's service (rule 2, 409), and a move to the level the case is at is 409. The case
/// starts on the first step of the new level; back at level 0, a new decision deadline is set. Returns
/// the change; the case's new `ETag` is in the response header.
#[utoipa::path(
    tag = "levels",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"),
        ("If-Match" = String, Header, description = "The case's ETag from your last read")),
    request_body = LevelChangeInput,
    responses(
        (status = 201, description = "Changed", body = LevelChange, headers(("ETag" = String, description = "The case's new version"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
        (status = 428, response = crate::http::openapi::PreconditionRequired),
    )
)]
#[post("/cases/{id}/level-changes")]
pub async fn change_level(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
    if_match: IfMatch,
    body: ValidJson<LevelChangeInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = body.0;
    let write = Need::Holder.at(if_match);
    let (change, version) =
        policy::change_case(&pool, caller, id, write, move |conn, caller, access| {
            let to = LevelMove {
                to_level: input.to_level,
                reason: &input.reason,
                decided_on: input.decided_on,
            };
            move_level(conn, caller, &access, to)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(ETag(etag(version)))
        .insert_header(("Location", format!("/api/v1/cases/{id}/level-changes")))
        .json(change))
}
