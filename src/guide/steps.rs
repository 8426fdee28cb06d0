//! Each case knows its step in the guide. The step is copied onto the case's row (version, key, title and
//! the next step), so reading a case costs no query of its own and a step that a newer version removed
//! still reads as it was. Moves take the guide in force when they happen.

use actix_web::http::header::ETag;
use actix_web::{post, web, HttpResponse};
use diesel::prelude::*;
use uuid::Uuid;

use super::api::{CaseGuideStep, NextStep, StepMove, StepMoveInput};
use super::rules::{self, Placement};
use super::store;
use crate::access_log::store::Action;
use crate::auth::Caller;
use crate::cases::model::CaseRow;
use crate::changes::api::ChangeType;
use crate::db::schema::{case_step_moves, cases};
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::{etag, IfMatch, ValidJson};
use crate::policy;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(move_step);
}

/// The first step of `level` in the municipality's guide in force. A level without a step for employees
/// cannot be published, so this only fails on a database error.
pub fn first_step(
    conn: &mut PgConnection,
    municipality: &str,
    level: i16,
) -> Result<Placement, AppError> {
    let (version, doc) = store::current(conn, municipality)?;
    rules::first_step_of_level(&doc, version, level).ok_or_else(|| {
        log::error!("guide version {version} has no step for employees at level {level}");
        AppError::internal()
    })
}

/// Imported cases stand on the first step of their level in the guide in force: one statement per level,
/// whatever the number of cases (the document carries no step: the guide is the importing
/// municipality's).
pub fn place_imported(
    conn: &mut PgConnection,
    municipality: &str,
    cases: &[(Uuid, i16)],
) -> Result<(), AppError> {
    let (version, doc) = store::current(conn, municipality)?;
    for level in 0..=3 {
        let ids: Vec<Uuid> = cases
            .iter()
            .filter(|(_, l)| *l == level)
            .map(|(id, _)| *id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        let Some(p) = rules::first_step_of_level(&doc, version, level) else {
            continue;
        };
        diesel::update(cases::table.filter(cases::id.eq_any(&ids)))
            .set(columns(&p))
            .execute(conn)?;
    }
    Ok(())
}

type Columns<'a> = (
    diesel::dsl::Eq<cases::guide_version, Option<i32>>,
    diesel::dsl::Eq<cases::guide_step_key, Option<&'a str>>,
    diesel::dsl::Eq<cases::guide_step_title, Option<&'a str>>,
    diesel::dsl::Eq<cases::guide_next_key, Option<&'a str>>,
    diesel::dsl::Eq<cases::guide_next_title, Option<&'a str>>,
);

/// The case columns that hold a placement.
pub fn columns(p: &Placement) -> Columns<'_> {
    (
        cases::guide_version.eq(Some(p.version)),
        cases::guide_step_key.eq(Some(p.step.key.as_str())),
        cases::guide_step_title.eq(Some(p.step.title.as_str())),
        cases::guide_next_key.eq(p.next.as_ref().map(|n| n.key.as_str())),
        cases::guide_next_title.eq(p.next.as_ref().map(|n| n.title.as_str())),
    )
}

/// The case answer's `guide_step` and `next_step`, from its row alone.
pub fn view(c: &CaseRow) -> (Option<CaseGuideStep>, Option<NextStep>) {
    let step = match (c.guide_version, &c.guide_step_key, &c.guide_step_title) {
        (Some(version), Some(key), Some(title)) => Some(CaseGuideStep {
            level: c.level,
            key: key.clone(),
            title: title.clone(),
            guide_version: version,
        }),
        _ => None,
    };
    let next = match (&c.guide_next_key, &c.guide_next_title) {
        (Some(key), Some(title)) => Some(NextStep {
            key: key.clone(),
            title: title.clone(),
        }),
        _ => None,
    };
    (step, next)
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = case_step_moves)]
struct MoveRow {
    id: Uuid,
    guide_version: i32,
    level: i16,
    step_key: String,
    step_title: String,
    note: Option<String>,
    recorded_at: chrono::DateTime<chrono::Utc>,
    recorded_by_participant: Uuid,
    recorded_by_name: String,
}

/// The case reached another step of its level (the stafettholder; `If-Match` with the case's ETag). The key
/// is looked up in the municipality's guide in force; the move is in the timeline and the change feed.
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
    let (moved, version) = db::transaction_for_case(&pool, caller.session(), id, move |conn| {
        let access = policy::case_for_write(conn, &caller, id)?;
        access.require_holder()?;
        access.require_open()?;
        if_match.check(access.case.version)?;
        let (guide_version, doc) = store::current(conn, &caller.tenant)?;
        let p = rules::step_in_level(&doc, guide_version, access.case.level, &input.key)?;
        let me = access.actor()?;
        let row: MoveRow = diesel::insert_into(case_step_moves::table)
            .values((
                case_step_moves::id.eq(Uuid::now_v7()),
                case_step_moves::case_id.eq(id),
                case_step_moves::guide_version.eq(p.version),
                case_step_moves::level.eq(access.case.level),
                case_step_moves::step_key.eq(&p.step.key),
                case_step_moves::step_title.eq(&p.step.title),
                case_step_moves::note.eq(&input.note),
                case_step_moves::recorded_by_participant.eq(me.id),
                case_step_moves::recorded_by_name.eq(&me.name),
            ))
            .returning(MoveRow::as_returning())
            .get_result(conn)?;
        let version: i32 = diesel::update(cases::table.find(id))
            .set((columns(&p), cases::version.eq(cases::version + 1)))
            .returning(cases::version)
            .get_result(conn)?;
        access.changed(
            conn,
            &caller,
            Action::Update,
            "case.steps",
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
