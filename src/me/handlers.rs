//! `GET /me`: who the token says you are.

use actix_web::{get, web, HttpResponse};

use super::api::Me;
use crate::auth::Caller;
use crate::db::{self, Pool};
use crate::http::error::AppError;

/// Who the token says you are.
///
/// A staff member the municipality has registered as departed gets 403, as on every other route, so a
/// client that checks its token here learns that it no longer works.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[get("/me")]
pub async fn me(caller: Caller, pool: web::Data<Pool>) -> Result<HttpResponse, AppError> {
    // The departure check rides on the BEGIN batch of the caller's session, so an empty transaction is
    // the whole check, and the same one every other route makes.
    db::transaction(&pool, caller.session(), |_| Ok(())).await?;
    Ok(HttpResponse::Ok().json(Me {
        user_id: caller.user_id,
        name: caller.name,
        tenant: caller.tenant,
        roles: caller.roles,
        services: caller.services,
        pid: caller.pid.as_deref().map(crate::national_id::mask),
    }))
}
