use actix_web::{get, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::api::{EntryInput, EntryListQuery, EntryView};
use super::rules;
use super::store::{self, EntryInsert};
use crate::access_log::store::Action;
use crate::access_log::store::Resource;
use crate::auth::Caller;
use crate::changes::api::ChangeType;
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::{ValidJson, ValidQuery};
use crate::http::pagination::{self, Page};
use crate::policy::{self, Need};

/// The log of a case, newest first.
///
/// A page of log entries, each with the entry that corrects it, if any, for anyone who may read the case
/// (rule 8); for anyone else it is 404. Leaves an access event.
#[utoipa::path(
    tag = "entries",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), EntryListQuery),
    responses((status = 200, description = "A page of log entries", body = Page<EntryView>))
)]
#[get("/cases/{id}/entries")]
pub async fn list_entries(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
    query: ValidQuery<EntryListQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let limit = pagination::effective_limit(query.0.limit);
    let after = query
        .0
        .cursor
        .as_deref()
        .map(pagination::decode_uuid_cursor)
        .transpose()?;
    let items = db::transaction(&pool, caller.session(), move |conn| {
        let event = policy::granted(conn, &caller, id)?.read_event(&caller, Resource::CaseEntries);
        Ok(store::page(conn, event, id, after, limit + 1)?
            .into_iter()
            .map(|r| r.entry.view(r.corrected_by))
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(pagination::respond(
        &req,
        pagination::page(items, limit, |e| e.id),
    ))
}

/// One log entry, with the entry that corrects it, if any.
///
/// For anyone who may read the case; 404 when the caller may not, or the case has no such entry. Leaves
/// an access event.
#[utoipa::path(
    tag = "entries",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("eid" = Uuid, Path, description = "The entry id")),
    responses((status = 200, description = "The entry", body = EntryView))
)]
#[get("/cases/{id}/entries/{eid}")]
pub async fn get_entry(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (id, eid) = path.into_inner();
    let view = db::transaction(&pool, caller.session(), move |conn| {
        let access = policy::granted(conn, &caller, id)?;
        let row = store::find(conn, id, eid)?.ok_or_else(|| AppError::not_found("entry"))?;
        access.record(conn, &caller, Action::Read, Resource::CaseEntries)?;
        let by = store::corrections_of(conn, &[eid])?.get(&eid).copied();
        Ok(row.view(by))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Write to the log of a case.
///
/// Any participant with access, guardians included; a closed case is 409. To correct an entry, write a
/// new one with `corrects`; entries are never changed or deleted, and an entry corrected already is 409
/// (correct the correction instead). Leaves an access event and `entry.added` in the change feed.
#[utoipa::path(
    tag = "entries",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    request_body = EntryInput,
    responses(
        (status = 201, description = "Written", body = EntryView, headers(("Location" = String, description = "The entry"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/cases/{id}/entries")]
pub async fn add_entry(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
    body: ValidJson<EntryInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = body.0;
    let write = Need::Open;
    let view = policy::change_case(&pool, caller, id, write, move |conn, caller, access| {
        let me = access.actor()?.clone();
        let target = match input.corrects {
            Some(c) => store::find(conn, id, c)?,
            None => None,
        };
        let is_participant = |p| access.participant(p).is_some();
        rules::check_entry(is_participant, target.is_some(), &input, chrono::Utc::now())?;
        if let Some(t) = &target {
            if !store::corrections_of(conn, &[t.id])?.is_empty() {
                return Err(AppError::conflict(
                    "that entry is already corrected; correct the correction instead",
                ));
            }
        }
        let row = store::insert(
            conn,
            &EntryInsert {
                id: Uuid::now_v7(),
                case_id: id,
                kind: input.kind,
                occurred_at: input.occurred_at,
                title: input.title.as_deref(),
                body: &input.body,
                attendees: input.attendees.clone().unwrap_or_default(),
                decisions: input.decisions.as_deref(),
                next_meeting: input.next_meeting,
                corrects: input.corrects,
                author_participant_id: me.id,
                author_name: &me.name,
                recorded_at: None,
            },
        )?;
        access.changed(
            conn,
            caller,
            Action::Create,
            Resource::CaseEntries,
            ChangeType::EntryAdded,
        )?;
        Ok(row.view(None))
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/cases/{id}/entries/{}", view.id),
        ))
        .json(view))
}
