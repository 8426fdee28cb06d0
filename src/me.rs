//! The caller as the service sees them.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Caller, Role};
use crate::db::{self, Pool};
use crate::http::error::AppError;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(me);
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user_id: String,
    pub name: String,
    #[schema(example = "3805")]
    pub tenant: String,
    pub roles: Vec<Role>,
    pub services: Vec<String>,
    /// The national identity number from the login, masked.
    pub pid: Option<String>,
}

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
