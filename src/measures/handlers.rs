use actix_web::http::header::ETag;
use actix_web::{get, patch, post, web, HttpResponse};
use uuid::Uuid;

use super::api::{
    EvaluationInput, EvaluationList, EvaluationView, MeasureInput, MeasureList, MeasurePatch,
    MeasureState, MeasureView,
};
use super::{rules, store};
use crate::access_log::store::Action;
use crate::access_log::store::Resource;
use crate::auth::Caller;
use crate::changes::api::ChangeType;
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::{etag, IfMatch, ValidJson};
use crate::policy::{self, Need};

fn measure_response(mut res: actix_web::HttpResponseBuilder, view: MeasureView) -> HttpResponse {
    res.insert_header(ETag(etag(view.version))).json(view)
}

/// A measure belongs to a plan of its own case that has not ended.
fn plan_takes_measures(
    conn: &mut diesel::PgConnection,
    case_id: Uuid,
    plan_id: Uuid,
) -> Result<(), AppError> {
    let plan = match crate::plans::store::find(conn, case_id, plan_id, false) {
        Err(e) if e.kind == crate::http::error::ProblemType::NotFound => {
            return Err(AppError::invalid("plan_id", "is not a plan of this case"))
        }
        found => found?,
    };
    crate::plans::rules::ended_plans_do_not_change(plan.state)
}

/// The measures of a case, oldest first.
///
/// For anyone who may read the case, the family included; for anyone else it is 404. Leaves an access
/// event.
#[utoipa::path(
    tag = "measures",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    responses((status = 200, description = "The measures", body = MeasureList))
)]
#[get("/cases/{id}/measures")]
pub async fn list_measures(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let seen = Resource::CaseMeasures;
    let list = policy::read_case(&pool, caller, id, seen, move |conn, _, _| {
        Ok(MeasureList {
            items: store::list(conn, id)?
                .iter()
                .map(store::MeasureRow::view)
                .collect(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Agree a measure.
///
/// A professional in the case (403 for other readers; a closed case is 409). A new measure is `planned`
/// or `active`, with one responsible party in the case and a date by which it is evaluated (rule 7); a
/// plan it belongs to must be a plan of the case that has not ended (409 when it has). Leaves an access
/// event and `measure.created` in the change feed.
#[utoipa::path(
    tag = "measures",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    request_body = MeasureInput,
    responses(
        (status = 201, description = "Created", body = MeasureView,
            headers(("Location" = String, description = "The measure"), ("ETag" = String, description = "Its version"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/cases/{id}/measures")]
pub async fn create_measure(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
    body: ValidJson<MeasureInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = body.0;
    let write = Need::Professional;
    let view = policy::change_case(&pool, caller, id, write, move |conn, caller, access| {
        if matches!(
            input.state,
            Some(MeasureState::Completed | MeasureState::Stopped)
        ) {
            return Err(AppError::invalid(
                "state",
                "a new measure is `planned` or `active`",
            ));
        }
        rules::check_dates(input.start_date, input.evaluate_by)?;
        rules::check_responsible(&access, &input.responsible)?;
        if let Some(plan) = input.plan_id {
            plan_takes_measures(conn, id, plan)?;
        }
        let row = store::insert(conn, id, &caller.user_id, &input)?;
        access.changed(
            conn,
            caller,
            Action::Create,
            Resource::CaseMeasures,
            ChangeType::MeasureCreated,
        )?;
        Ok(row.view())
    })
    .await?;
    Ok(measure_response(
        HttpResponse::Created()
            .insert_header((
                "Location",
                format!("/api/v1/cases/{id}/measures/{}", view.id),
            ))
            .take(),
        view,
    ))
}

/// One measure of a case.
///
/// For anyone who may read the case; 404 when the caller may not, or the case has no such measure. The
/// `ETag` is what `If-Match` takes. Leaves an access event.
#[utoipa::path(
    tag = "measures",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("mid" = Uuid, Path, description = "The measure id")),
    responses((status = 200, description = "The measure", body = MeasureView, headers(("ETag" = String, description = "Its version"))))
)]
#[get("/cases/{id}/measures/{mid}")]
pub async fn get_measure(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (id, mid) = path.into_inner();
    let view = db::transaction(&pool, caller.session(), move |conn| {
        let access = policy::case_for_read(conn, &caller, id)?;
        let row = store::find(conn, id, mid, false)?;
        access.record(conn, &caller, Action::Read, Resource::CaseMeasures)?;
        Ok(row.view())
    })
    .await?;
    Ok(measure_response(HttpResponse::Ok(), view))
}

/// Change a measure or move its state.
///
/// A professional in the case; `If-Match` with the measure's ETag required. A measure moves planned ->
/// active -> completed or stopped (a planned one may also be stopped), and a completed or stopped
/// measure no longer changes (409). Leaves an access event and `measure.updated` in the change feed.
/// A patch that changes nothing answers the measure as it is (the same version, nothing in the feed).
#[utoipa::path(
    tag = "measures",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("mid" = Uuid, Path, description = "The measure id"),
        ("If-Match" = String, Header, description = "The ETag of your last read")),
    request_body = MeasurePatch,
    responses(
        (status = 200, description = "Changed", body = MeasureView, headers(("ETag" = String, description = "Its version: a new one when the patch changed anything"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
        (status = 428, response = crate::http::openapi::PreconditionRequired),
    )
)]
#[patch("/cases/{id}/measures/{mid}")]
pub async fn patch_measure(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    body: ValidJson<MeasurePatch>,
) -> Result<HttpResponse, AppError> {
    let (id, mid) = path.into_inner();
    let patch = body.0;
    let write = Need::Professional;
    let view = policy::change_case(&pool, caller, id, write, move |conn, caller, access| {
        let current = store::find(conn, id, mid, true)?;
        if_match.check(current.version)?;
        if rules::is_finished(current.state()) {
            return Err(AppError::conflict(
                "the measure is completed or stopped and can no longer change",
            ));
        }
        if let Some(state) = patch.state {
            rules::check_transition(current.state(), state)?;
        }
        // A field sent back as it is was checked when it was set: a responsible who has left since, or a
        // plan that has ended, does not make an unchanged form fail.
        if let Some(r) = patch
            .responsible
            .as_ref()
            .filter(|r| **r != current.responsible())
        {
            rules::check_responsible(&access, r)?;
        }
        rules::check_dates(
            current.start_date,
            patch.evaluate_by.unwrap_or(current.evaluate_by),
        )?;
        if let Some(plan) = patch.plan_id.filter(|p| Some(*p) != current.plan_id) {
            plan_takes_measures(conn, id, plan)?;
        }
        let mut changes = store::MeasureChanges {
            plan_id: patch.plan_id,
            title: patch.title,
            goal: patch.goal,
            description: patch.description,
            evaluate_by: patch.evaluate_by,
            state: patch.state,
            ..Default::default()
        };
        if let Some(r) = &patch.responsible {
            changes = changes.responsible(r);
        }
        let patched = store::patch(conn, current, &changes)?;
        access.patched(
            conn,
            caller,
            patched.changed(),
            Resource::CaseMeasures,
            ChangeType::MeasureUpdated,
        )?;
        Ok(patched.into_row().view())
    })
    .await?;
    Ok(measure_response(HttpResponse::Ok(), view))
}

/// The evaluations of a measure, oldest first.
///
/// For anyone who may read the case; 404 when the caller may not, or the case has no such measure.
/// Leaves an access event.
#[utoipa::path(
    tag = "measures",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("mid" = Uuid, Path, description = "The measure id")),
    responses((status = 200, description = "The evaluations", body = EvaluationList))
)]
#[get("/cases/{id}/measures/{mid}/evaluations")]
pub async fn list_evaluations(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (id, mid) = path.into_inner();
    let list = db::transaction(&pool, caller.session(), move |conn| {
        let access = policy::case_for_read(conn, &caller, id)?;
        store::find(conn, id, mid, false)?;
        access.record(conn, &caller, Action::Read, Resource::CaseMeasures)?;
        Ok(EvaluationList {
            items: store::evaluations_of(conn, mid)?
                .iter()
                .map(store::EvaluationRow::view)
                .collect(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Evaluate a measure.
///
/// Continue or adjust (with the next deadline), stop, or completed. A professional in the case, or a
/// guardian for a measure they are responsible for (403 otherwise). A completed or stopped measure is
/// not evaluated again (409), and `evaluated_on` cannot be in the future. Leaves an access event and
/// `evaluation.added` in the change feed.
#[utoipa::path(
    tag = "measures",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("mid" = Uuid, Path, description = "The measure id")),
    request_body = EvaluationInput,
    responses(
        (status = 201, description = "Recorded", body = EvaluationView, headers(("Location" = String, description = "The evaluation"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/cases/{id}/measures/{mid}/evaluations")]
pub async fn add_evaluation(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(Uuid, Uuid)>,
    body: ValidJson<EvaluationInput>,
) -> Result<HttpResponse, AppError> {
    let (id, mid) = path.into_inner();
    let input = body.0;
    let write = Need::Open;
    let view = policy::change_case(&pool, caller, id, write, move |conn, caller, access| {
        let measure = store::find(conn, id, mid, true)?;
        policy::measures::may_evaluate(&access, &measure.responsible())?;
        if rules::is_finished(measure.state()) {
            return Err(AppError::conflict(
                "the measure is completed or stopped; it cannot be evaluated again",
            ));
        }
        if input.evaluated_on > access.today {
            return Err(AppError::invalid("evaluated_on", "cannot be in the future"));
        }
        let (state, next) = rules::apply_outcome(
            input.outcome,
            input.next_evaluate_by,
            input.evaluated_on,
            measure.start_date,
        )?;
        let me = access.actor()?;
        let evaluation = store::insert_evaluation(conn, &measure, (me.id, &me.name), &input)?;
        let changes = store::MeasureChanges {
            state: Some(state),
            evaluate_by: next,
            ..Default::default()
        };
        store::update(conn, mid, &changes)?;
        access.changed(
            conn,
            caller,
            Action::Create,
            Resource::CaseMeasures,
            ChangeType::EvaluationAdded,
        )?;
        Ok(evaluation.view())
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/cases/{id}/measures/{mid}/evaluations/{}", view.id),
        ))
        .json(view))
}
