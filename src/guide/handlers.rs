//! Editing and publishing the guide (admin). Thin: role -> check -> store -> respond.

use actix_web::http::header::ETag;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};

use super::api::{DraftSource, GuideDraft, GuideVersion, GuideVersionSummary, VersionListQuery};
use super::api::{NextStep, StepMove, StepMoveInput};
use super::cache::GuideCache;
use super::document::{default_document, GuideDocument};
use super::{rules, store};
use crate::access_log::store::Action;
use crate::access_log::store::Resource;
use crate::auth::{Caller, Role};
use crate::changes::api::ChangeType;
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::{etag, IfMatch, ValidJson, ValidQuery};
use crate::http::pagination::{self, Page};
use crate::policy::{self, Need};
use uuid::Uuid;

/// The guide draft, or where an edit starts before there is one.
///
/// For administrators (403 otherwise). Before there is a draft, the answer holds the newest published
/// version, or the project's default guide where none is published, and `source` says which. The `ETag`
/// comes once a draft exists.
#[utoipa::path(
    tag = "guide",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The draft", body = GuideDraft,
            headers(("ETag" = String, description = "The draft's version, once it exists"))),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[get("/guide/draft")]
pub async fn get_draft(caller: Caller, pool: web::Data<Pool>) -> Result<HttpResponse, AppError> {
    caller.require_role(Role::Admin)?;
    let draft = db::transaction(&pool, caller.session(), move |conn| {
        if let Some(row) = store::draft(conn, &caller.tenant)? {
            return Ok(GuideDraft {
                version: Some(row.version),
                updated_at: Some(row.updated_at),
                source: DraftSource::Draft,
                document: store::parse(row.document)?,
            });
        }
        let (source, document) = match store::newest(conn, &caller.tenant)? {
            Some(row) => (DraftSource::Published, store::parse(row.document)?),
            None => (DraftSource::Default, default_document().clone()),
        };
        Ok(GuideDraft {
            version: None,
            updated_at: None,
            source,
            document,
        })
    })
    .await?;
    let mut res = HttpResponse::Ok();
    if let Some(v) = draft.version {
        res.insert_header(ETag(etag(v)));
    }
    Ok(res.json(draft))
}

/// Write the guide draft.
///
/// For administrators (403 otherwise): the whole document, every audience and language at once (also
/// another municipality's exported guide, to start from it). `If-Match` is required once a draft exists
/// (428 without, 412 when stale).
#[utoipa::path(
    tag = "guide",
    security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header,
        description = "The draft's ETag; required once a draft exists (428 without, 412 when stale)")),
    request_body = GuideDocument,
    responses(
        (status = 200, description = "The stored draft", body = GuideDraft,
            headers(("ETag" = String, description = "The draft's new version"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
        (status = 428, response = crate::http::openapi::PreconditionRequired),
    )
)]
#[put("/guide/draft")]
pub async fn put_draft(
    caller: Caller,
    pool: web::Data<Pool>,
    if_match: IfMatch,
    body: ValidJson<GuideDocument>,
) -> Result<HttpResponse, AppError> {
    caller.require_role(Role::Admin)?;
    let document = body.0;
    rules::check_document(&document)?;
    let row = db::transaction(&pool, caller.session(), move |conn| {
        crate::municipality::store::ensure(conn, &caller.tenant)?;
        match store::draft_locked(conn, &caller.tenant)? {
            Some(current) => if_match.check(current.version)?,
            // Nothing to match yet: a tag sent anyway names a draft that is not there.
            None => if_match.check_if_present(0)?,
        }
        store::save_draft(conn, &caller.tenant, &document, &caller.user_id)
    })
    .await?;
    let version = row.version;
    let draft = GuideDraft {
        version: Some(version),
        updated_at: Some(row.updated_at),
        source: DraftSource::Draft,
        document: store::parse(row.document)?,
    };
    Ok(HttpResponse::Ok()
        .insert_header(ETag(etag(version)))
        .json(draft))
}

/// Publish the guide draft as the next numbered version.
///
/// For administrators (403 otherwise); with no draft to publish, 409. The version is immutable from then
/// on; the public guide and new cases use it at once on this instance (other instances within a minute).
/// With `If-Match`, only the draft version you read is published (412 otherwise).
#[utoipa::path(
    tag = "guide",
    security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "The draft's ETag; checked when sent")),
    responses(
        (status = 201, description = "Published", body = GuideVersion,
            headers(("Location" = String, description = "The version"))),
        (status = 400, response = crate::http::openapi::MalformedRequest),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
    )
)]
#[post("/guide/publish")]
pub async fn publish(
    caller: Caller,
    pool: web::Data<Pool>,
    cache: web::Data<GuideCache>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    caller.require_role(Role::Admin)?;
    let m = caller.session();
    let row = db::transaction(&pool, m.clone(), move |conn| {
        let draft = store::draft_locked(conn, &caller.tenant)?.ok_or_else(|| {
            AppError::conflict("there is no draft to publish: PUT /api/v1/guide/draft first")
        })?;
        if_match.check_if_present(draft.version)?;
        store::publish(conn, &caller.tenant, &draft.document, &caller.user_id)
    })
    .await?;
    cache.invalidate(m.municipality());
    let number = row.number;
    let version = GuideVersion {
        version: number,
        published_at: row.published_at,
        published_by: row.published_by,
        document: store::parse(row.document)?,
    };
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/guide/versions/{number}")))
        .json(version))
}

/// The published guide versions, newest first.
///
/// A page of the municipality's published versions: each one's number, when it was published and by
/// whom. For administrators (403 otherwise).
#[utoipa::path(
    tag = "guide",
    security(("bearer" = [])),
    params(VersionListQuery),
    responses(
        (status = 200, description = "A page of versions", body = Page<GuideVersionSummary>),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[get("/guide/versions")]
pub async fn list_versions(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    query: ValidQuery<VersionListQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require_role(Role::Admin)?;
    let q = query.0;
    let limit = pagination::effective_limit(q.limit);
    let before = q
        .cursor
        .as_deref()
        .map(pagination::decode_cursor)
        .transpose()?
        .map(|c| c.parse::<i32>().map_err(|_| pagination::not_issued()))
        .transpose()?;
    let rows = db::transaction(&pool, caller.session(), move |conn| {
        store::versions(conn, &caller.tenant, before, limit + 1)
    })
    .await?;
    let items = rows
        .into_iter()
        .map(
            |(version, published_at, published_by)| GuideVersionSummary {
                version,
                published_at,
                published_by,
            },
        )
        .collect();
    Ok(pagination::respond(
        &req,
        pagination::page(items, limit, |v| v.version.to_string()),
    ))
}

/// One published guide version, as it was published.
///
/// The whole document of version `n`, for administrators (403 otherwise); a number the municipality has
/// not published is 404.
#[utoipa::path(
    tag = "guide",
    security(("bearer" = [])),
    params(("n" = i32, Path, minimum = 1, description = "The version number")),
    responses(
        (status = 200, description = "The version", body = GuideVersion),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
    )
)]
#[get("/guide/versions/{n}")]
pub async fn get_version(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    caller.require_role(Role::Admin)?;
    let n = path.into_inner();
    let row = db::transaction(&pool, caller.session(), move |conn| {
        store::version(conn, &caller.tenant, n)?.ok_or_else(|| AppError::not_found("guide version"))
    })
    .await?;
    Ok(HttpResponse::Ok().json(GuideVersion {
        version: row.number,
        published_at: row.published_at,
        published_by: row.published_by,
        document: store::parse(row.document)?,
    }))
}

/// Record that the case reached another step of its level.
///
/// The stafettholder, with the case's ETag in `If-Match`. The key is looked up in the municipality's
/// guide in force; the move is in the timeline and the change feed. Answers the move with the next step,
/// if any; the case's new `ETag` is in the header.
#[utoipa::path(
    tag = "guide",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"),
        ("If-Match" = String, Header, description = "The case's ETag from your last read")),
    request_body = StepMoveInput,
    responses(
        (status = 201, description = "Moved", body = StepMove, headers(
            ("ETag" = String, description = "The case's new version"),
            ("Location" = String, description = "The case"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
        (status = 428, response = crate::http::openapi::PreconditionRequired),
    )
)]
#[post("/cases/{id}/steps")]
pub async fn move_step(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
    if_match: IfMatch,
    body: ValidJson<StepMoveInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = body.0;
    let write = Need::Holder.at(if_match);
    let (moved, version) =
        policy::change_case(&pool, caller, id, write, move |conn, caller, access| {
            let (guide_version, doc) = store::current(conn, &caller.tenant)?;
            let p = rules::step_in_level(&doc, guide_version, access.case.level, &input.key)?;
            let me = access.actor()?;
            let row = store::record_move(
                conn,
                &store::NewMove {
                    case_id: id,
                    level: access.case.level,
                    placement: &p,
                    note: input.note.as_deref(),
                    by_participant: me.id,
                    by_name: &me.name,
                },
            )?;
            let version = crate::cases::store::move_to_step(conn, id, &p)?;
            access.changed(
                conn,
                caller,
                Action::Update,
                Resource::CaseSteps,
                ChangeType::StepMoved,
            )?;
            let moved = StepMove {
                id: row.id,
                guide_version: row.guide_version,
                level: row.level,
                key: row.step_key,
                title: row.step_title,
                note: row.note,
                recorded_at: row.recorded_at,
                recorded_by: row.recorded_by_participant,
                recorded_by_name: row.recorded_by_name,
                next_step: p.next.map(|n| NextStep {
                    key: n.key,
                    title: n.title,
                }),
            };
            Ok((moved, version))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(ETag(etag(version)))
        .insert_header(("Location", format!("/api/v1/cases/{id}")))
        .json(moved))
}
