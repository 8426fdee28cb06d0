//! Liveness (the process answers) and readiness (a writable database answers too).

use actix_web::{get, web, HttpResponse};
use diesel::{PgConnection, QueryResult, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{self, connections, Pool};
use crate::http::error::AppError;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(live).service(ready);
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok", max_length = 10)]
    pub status: &'static str,
}

/// The process is up.
///
/// Liveness: answers `ok` while the process serves requests, without asking the database (readiness is
/// `GET /health/ready`). No token.
#[utoipa::path(tag = "health", responses((status = 200, description = "Alive", body = Health)))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The process is up and a writable database answers.
///
/// 503 with `Retry-After` when no database can be reached, or when the one reached is read-only (a
/// standby, or a primary being demoted in a failover): every request of the service writes (each read
/// records its access event), so a read-only database serves nothing.
#[utoipa::path(tag = "health", responses((status = 200, description = "Ready", body = Health)))]
#[get("/health/ready")]
pub async fn ready(pool: web::Data<Pool>) -> Result<HttpResponse, AppError> {
    // Outside any municipality: the check reads no municipality's rows, and needs no transaction.
    db::without_municipality(&pool, |conn| match read_only(conn) {
        Ok(false) => Ok(()),
        Ok(true) => {
            // Dropped, so the next connection looks for a writable host again (with a multi-host URL
            // and `target_session_attrs=read-write`, the promoted standby).
            connections::mark_lost(conn);
            Err(AppError::unavailable_read_only())
        }
        Err(_) => Err(AppError::unavailable()),
    })
    .await?;
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}

#[derive(diesel::QueryableByName)]
struct Writable {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    read_only: bool,
}

/// Whether a write on this connection would be refused: the server is a standby (in recovery), or the
/// session's transactions are read-only (`default_transaction_read_only`, which pg_auto_failover sets on
/// a node while it stops replication, so clients with `target_session_attrs=read-write` go elsewhere).
fn read_only(conn: &mut PgConnection) -> QueryResult<bool> {
    diesel::sql_query(
        "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only')::bool AS read_only",
    )
    .get_result::<Writable>(conn)
    .map(|w| w.read_only)
}
