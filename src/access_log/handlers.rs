//! Rule 9, the family's side: who read or changed what in the case, for the stafettholder and the
//! guardians.

use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::store::{Action, Basis, Resource};
use crate::auth::Caller;
use crate::db::schema::access_events;
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::ValidQuery;
use crate::http::pagination::{self, Page};
use crate::policy;

#[derive(Debug, Serialize, ToSchema)]
pub struct Actor {
    pub user_id: String,
    pub name: String,
    /// The role the actor acted in, or `system` for the service itself; imported history keeps the
    /// role its system recorded.
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessEvent {
    /// Opaque, increasing: the cursor key.
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: Action,
    /// What was touched: the case, one part of it, or a list that showed it.
    pub resource: Resource,
    /// On which basis the actor had access.
    pub basis: Basis,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccessLogQuery {
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// From `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

type EventRow = (
    i64,
    DateTime<Utc>,
    String,
    String,
    String,
    Action,
    Resource,
    Basis,
);

/// Who read or changed what in the case, newest first (the stafettholder and the guardians).
#[utoipa::path(
    tag = "access log",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), AccessLogQuery),
    responses(
        (status = 200, description = "A page of access events", body = Page<AccessEvent>),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[get("/cases/{id}/access-log")]
pub async fn access_log(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
    query: ValidQuery<AccessLogQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let limit = pagination::effective_limit(query.0.limit);
    let after: Option<i64> = match query.0.cursor.as_deref() {
        Some(c) => Some(
            pagination::decode_cursor(c)?
                .parse()
                .map_err(|_| pagination::not_issued())?,
        ),
        None => None,
    };
    let items = db::transaction(&pool, caller.session(), move |conn| {
        let access = policy::case_for_read(conn, &caller, id)?;
        if !(access.is_holder() || access.is_guardian()) {
            return Err(AppError::forbidden(
                "the access log is for the stafettholder and the guardians",
            ));
        }
        // Reading the log is itself recorded, after the page is read so it does not show on it.
        let mut q = access_events::table
            .filter(access_events::case_id.eq(id))
            .order(access_events::id.desc())
            .limit(limit + 1)
            .select((
                access_events::id,
                access_events::at,
                access_events::actor_user_id,
                access_events::actor_name,
                access_events::actor_role,
                access_events::action,
                access_events::resource,
                access_events::basis,
            ))
            .into_boxed();
        if let Some(after) = after {
            q = q.filter(access_events::id.lt(after));
        }
        let rows: Vec<EventRow> = q.load(conn)?;
        access.record(conn, &caller, Action::Read, Resource::CaseAccessLog)?;
        Ok(rows
            .into_iter()
            .map(
                |(id, at, user_id, name, role, action, resource, basis)| AccessEvent {
                    id,
                    at,
                    actor: Actor {
                        user_id,
                        name,
                        role,
                    },
                    action,
                    resource,
                    basis,
                },
            )
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(pagination::respond(
        &req,
        pagination::page(items, limit, |e| e.id),
    ))
}
