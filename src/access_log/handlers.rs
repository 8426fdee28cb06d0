//! Rule 9, the family's side: who read or changed what in the case, for the stafettholder and the
//! guardians.

use actix_web::{get, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::api::{AccessEvent, AccessLogQuery, Actor};
use super::store::{self, Action, Resource};
use crate::auth::Caller;
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::ValidQuery;
use crate::http::pagination::{self, Page};
use crate::policy;

/// Who read or changed what in the case, newest first.
///
/// For the stafettholder and the guardians (rule 9): anyone else who may read the case gets 403, and a
/// case the caller may not read is 404. Answers a page of access events. Reading the log leaves an
/// access event of its own, recorded after the page is read so that it does not show on it. The events
/// of recording a report to child welfare are left out for the guardians (rule 11).
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
        access.require_holder_or_guardian("access log")?;
        // Reading the log is itself recorded, after the page is read so it does not show on it.
        let hidden = policy::decisions::hidden_resources(policy::decisions::sees_reports(&access));
        let rows = store::page(conn, id, after, limit + 1, hidden)?;
        access.record(conn, &caller, Action::Read, Resource::CaseAccessLog)?;
        Ok(rows
            .into_iter()
            .map(|r| AccessEvent {
                id: r.id,
                at: r.at,
                actor: Actor {
                    user_id: r.actor_user_id,
                    name: r.actor_name,
                    role: r.actor_role,
                },
                action: r.action,
                resource: r.resource,
                basis: r.basis,
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(pagination::respond(
        &req,
        pagination::page(items, limit, |e| e.id),
    ))
}
