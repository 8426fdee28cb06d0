//! The level-0 decision endpoints: thin; the rules are in `rules`, what a decision does in `record`, who
//! sees a report in `crate::policy::decisions`.

use actix_web::http::header::ETag;
use actix_web::{get, post, web, HttpResponse};
use uuid::Uuid;

use super::api::{Decision, DecisionInput, DecisionList, DecisionOutcome};
use super::record::decide;
use super::store;
use crate::access_log::store::Resource;
use crate::auth::Caller;
use crate::db::Pool;
use crate::http::error::AppError;
use crate::http::extract::{etag, IfMatch, ValidJson};
use crate::policy::{self, decisions::sees_report, Need};

/// The case's level-0 decisions, oldest first.
///
/// For anyone who may read the case (otherwise 404); leaves an access event. A report to child welfare
/// is listed only for the professionals of the reporting service and of the stafettholder's service
/// (rule 11).
#[utoipa::path(
    tag = "levels",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    responses(
        (status = 200, description = "The decisions the caller may see", body = DecisionList),
        (status = 404, response = crate::http::openapi::NotFound),
    )
)]
#[get("/cases/{id}/decisions")]
pub async fn list_decisions(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let seen = Resource::CaseDecisions;
    let list = policy::read_case(&pool, caller, id, seen, move |conn, _, access| {
        let items = store::of_cases(conn, &[id])?
            .iter()
            .filter(|d| {
                d.outcome != DecisionOutcome::ReportChildWelfare || sees_report(&access, &d.service)
            })
            .map(|d| d.view())
            .collect();
        Ok(DecisionList { items })
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Record the decision that ends the case's level-0 period.
///
/// Rule 12: the stafettholder, with the case's `If-Match`, once per level-0 period. `close` closes the
/// case (`no_need`, the note as its closing note); `level_1` and `level_2` move it as a level change
/// would (consent covering the holder's service, rule 2), the note as the reason; `report_child_welfare`
/// records that the service sent a report of concern to barnevern under its duty to report (the report
/// itself goes outside this service). That record is shown only to the reporting service and the
/// stafettholder's service and their leaders (rule 11): no change in the feed, the case unchanged. The
/// case's `ETag` after it is in the header.
#[utoipa::path(
    tag = "levels",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"),
        ("If-Match" = String, Header, description = "The case's ETag from your last read")),
    request_body = DecisionInput,
    responses(
        (status = 201, description = "Recorded", body = Decision, headers(("ETag" = String, description = "The case's version after it"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
        (status = 409, response = crate::http::openapi::Conflict),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
        (status = 428, response = crate::http::openapi::PreconditionRequired),
    )
)]
#[post("/cases/{id}/decision")]
pub async fn record_decision(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
    if_match: IfMatch,
    body: ValidJson<DecisionInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = body.0;
    let write = Need::Holder.at(if_match);
    let (decision, version) =
        policy::change_case(&pool, caller, id, write, move |conn, caller, access| {
            decide(conn, caller, &access, &input)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(ETag(etag(version)))
        .insert_header(("Location", format!("/api/v1/cases/{id}/decisions")))
        .json(decision))
}
