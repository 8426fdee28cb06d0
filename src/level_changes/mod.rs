//! Level changes (rules 1 and 2): the stafettholder moves the case up or down with a reason and a
//! decision date that may be back-dated; level 1 and up needs effective consent covering the holder's
//! service. The history is append-only.

use actix_web::http::header::ETag;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::access_log::store::Action;
use crate::access_log::store::Resource;
use crate::auth::Caller;
use crate::cases::facts::CaseFacts;
use crate::changes::api::ChangeType;
use crate::db::schema::{cases, level_changes};
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::{etag, IfMatch, ValidJson};
use crate::policy;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_level_changes).service(change_level);
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelChangeInput {
    #[validate(range(min = 0, max = 3))]
    #[schema(minimum = 0, maximum = 3)]
    pub to_level: i16,
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub reason: String,
    /// When the decision was made; may be earlier than today (it is kept apart from `recorded_at`).
    #[validate(custom(function = "crate::dates::date"))]
    pub decided_on: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = level_changes)]
pub struct LevelChange {
    pub id: Uuid,
    #[schema(minimum = 0, maximum = 3)]
    pub from_level: i16,
    #[schema(minimum = 0, maximum = 3)]
    pub to_level: i16,
    pub reason: String,
    pub decided_on: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    #[serde(rename = "recorded_by")]
    pub recorded_by_participant: Uuid,
    pub recorded_by_name: String,
}

/// A level change with every column given: an imported one keeps when it was recorded and by whom.
#[derive(Debug, Insertable)]
#[diesel(table_name = level_changes)]
pub struct LevelChangeInsert<'a> {
    pub id: Uuid,
    pub case_id: Uuid,
    pub from_level: i16,
    pub to_level: i16,
    pub reason: &'a str,
    pub decided_on: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by_participant: Uuid,
    pub recorded_by_name: &'a str,
}

/// Level changes with every column given, any number (an import brings whole histories).
pub fn insert_all(conn: &mut PgConnection, rows: &[LevelChangeInsert]) -> Result<(), AppError> {
    crate::bulk::insert(rows, |chunk| {
        diesel::insert_into(level_changes::table)
            .values(chunk)
            .execute(conn)
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LevelChangeList {
    /// The current level.
    #[schema(minimum = 0, maximum = 3)]
    pub level: i16,
    /// Oldest first.
    pub items: Vec<LevelChange>,
}

/// Rules 1 and 2 as a plain function: a real move, a decision not in the future, and consent covering
/// the holder's service for level 1 and up.
pub fn check_level_change(
    facts: &CaseFacts,
    to: i16,
    decided_on: NaiveDate,
) -> Result<(), AppError> {
    if to == facts.case.level {
        return Err(AppError::conflict(format!(
            "the case is already at level {to}"
        )));
    }
    if decided_on > facts.today {
        return Err(AppError::invalid("decided_on", "cannot be in the future"));
    }
    if to >= 1 && !facts.effective.covers(facts.holder_service()) {
        return Err(AppError::conflict(format!(
            "rule 2: level {to} needs an effective consent covering the stafettholder's service `{}`",
            facts.holder_service()
        )));
    }
    Ok(())
}

/// The level history.
#[utoipa::path(
    tag = "levels",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    responses((status = 200, description = "The current level and its history", body = LevelChangeList))
)]
#[get("/cases/{id}/level-changes")]
pub async fn list_level_changes(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let list = db::transaction(&pool, caller.session(), move |conn| {
        let access = policy::case_for_read(conn, &caller, id)?;
        access.record(conn, &caller, Action::Read, Resource::CaseLevelChanges)?;
        let items = level_changes::table
            .filter(level_changes::case_id.eq(id))
            .order(level_changes::id.asc())
            .select(LevelChange::as_select())
            .load(conn)?;
        Ok(LevelChangeList {
            level: access.case.level,
            items,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Move the case to another level (the stafettholder; `If-Match` with the case's ETag). Returns the
/// change; the case's new `ETag` is in the response header.
#[utoipa::path(
    tag = "levels",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"),
        ("If-Match" = String, Header, description = "The case's ETag from your last read")),
    request_body = LevelChangeInput,
    responses(
        (status = 201, description = "Changed", body = LevelChange, headers(("ETag" = String, description = "The case's new version"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
        (status = 428, response = crate::http::openapi::PreconditionRequired),
    )
)]
#[post("/cases/{id}/level-changes")]
pub async fn change_level(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
    if_match: IfMatch,
    body: ValidJson<LevelChangeInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = body.0;
    let (change, version) = db::transaction_for_case(&pool, caller.session(), id, move |conn| {
        let access = policy::case_for_write(conn, &caller, id)?;
        access.require_holder()?;
        access.require_open()?;
        if_match.check(access.case.version)?;
        check_level_change(&access, input.to_level, input.decided_on)?;
        let me = access.actor()?;
        let change: LevelChange = diesel::insert_into(level_changes::table)
            .values((
                level_changes::id.eq(Uuid::now_v7()),
                level_changes::case_id.eq(id),
                level_changes::from_level.eq(access.case.level),
                level_changes::to_level.eq(input.to_level),
                level_changes::reason.eq(&input.reason),
                level_changes::decided_on.eq(input.decided_on),
                level_changes::recorded_by_participant.eq(me.id),
                level_changes::recorded_by_name.eq(&me.name),
            ))
            .returning(LevelChange::as_returning())
            .get_result(conn)?;
        // Back at level 0 a new decision is due; above it, the level-0 deadline no longer applies.
        let decision_due = if input.to_level == 0 {
            let settings = crate::municipality::store::get(conn, &caller.tenant)?;
            Some(crate::cases::rules::level0_decision_due(
                access.today,
                settings.level0_deadline_days,
            ))
        } else {
            None
        };
        // A new level starts at its first step, in the guide in force now.
        let step = crate::guide::steps::first_step(conn, &caller.tenant, input.to_level)?;
        let version: i32 = diesel::update(cases::table.find(id))
            .set((
                cases::level.eq(input.to_level),
                cases::decision_due.eq(decision_due),
                crate::guide::steps::columns(&step),
                cases::version.eq(cases::version + 1),
            ))
            .returning(cases::version)
            .get_result(conn)?;
        access.changed(
            conn,
            &caller,
            Action::Update,
            Resource::CaseLevelChanges,
            ChangeType::LevelChanged,
        )?;
        Ok((change, version))
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(ETag(etag(version)))
        .insert_header(("Location", format!("/api/v1/cases/{id}/level-changes")))
        .json(change))
}
