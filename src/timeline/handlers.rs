//! Thin handler: extract -> access check -> store (the page and its access event) -> respond.

use actix_web::{get, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::api::{self, TimelineItem, TimelineQuery};
use super::store;
use crate::access_log::store::Resource;
use crate::auth::Caller;
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::ValidQuery;
use crate::http::pagination::{self, Page};
use crate::policy;

/// Everything that happened in the case, newest first.
///
/// One list across the case's participants, consents, level changes, step moves, measures, evaluations,
/// log entries, handovers and reassignments, a page at a time, for anyone who may read the case; for
/// anyone else it is 404. Leaves an access event.
#[utoipa::path(
    tag = "timeline",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), TimelineQuery),
    responses((status = 200, description = "A page of the timeline", body = Page<TimelineItem>))
)]
#[get("/cases/{id}/timeline")]
pub async fn timeline(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
    query: ValidQuery<TimelineQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let limit = pagination::effective_limit(query.0.limit);
    let after = api::parse_cursor(query.0.cursor.as_deref())?;
    let items = db::transaction(&pool, caller.session(), move |conn| {
        let event = policy::granted(conn, &caller, id)?.read_event(&caller, Resource::CaseTimeline);
        store::page(conn, event, id, after, limit + 1)
    })
    .await?;
    Ok(pagination::respond(
        &req,
        pagination::page(items, limit, api::cursor_of),
    ))
}
