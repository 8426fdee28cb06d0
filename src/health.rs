//! Liveness (the process answers) and readiness (the database answers too).

use actix_web::{get, web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{self, Pool};
use crate::error::AppError;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(live).service(ready);
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, description = "Alive", body = Health)))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The process is up and the database answers.
#[utoipa::path(tag = "health", responses((status = 200, description = "Ready", body = Health)))]
#[get("/health/ready")]
pub async fn ready(pool: web::Data<Pool>) -> Result<HttpResponse, AppError> {
    // Outside any municipality: the check reads no municipality's rows, and needs no transaction.
    db::without_municipality(&pool, |conn| {
        conn.batch_execute("SELECT 1")
            .map_err(|_| AppError::unavailable())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}
