//! The plan endpoints: thin; the rules are in `rules`, who may act in `crate::policy::plans`.

use actix_web::http::header::ETag;
use actix_web::{get, patch, post, web, HttpResponse};
use diesel::PgConnection;
use uuid::Uuid;

use super::api::{
    PlanEndInput, PlanInput, PlanKind, PlanList, PlanMemberInput, PlanPatch, PlanState, PlanView,
};
use super::rules;
use super::store::{self, MemberInsert, PlanChanges, PlanInsert, PlanRow};
use crate::access_log::store::{Action, Resource};
use crate::auth::Caller;
use crate::cases::facts::CaseFacts;
use crate::changes::api::ChangeType;
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::{etag, IfMatch, ValidJson};
use crate::patch::Patched;
use crate::policy::{self, plans as may, CaseAccess, Need};

fn plan_response(mut res: actix_web::HttpResponseBuilder, view: PlanView) -> HttpResponse {
    res.insert_header(ETag(etag(view.version))).json(view)
}

fn view_of(conn: &mut PgConnection, row: &PlanRow) -> Result<PlanView, AppError> {
    Ok(row.view(&store::members_of_cases(conn, &[row.case_id])?))
}

/// The owning service exists in the municipality, fits the kind of plan (rule 13), and is in the case.
fn check_owner(
    conn: &mut PgConnection,
    facts: &CaseFacts,
    kind: PlanKind,
    owner: &str,
) -> Result<(), AppError> {
    let service =
        crate::services::store::find_active_by_code(conn, &facts.case.municipality, owner)?
            .ok_or_else(|| {
                AppError::invalid(
                    "owner_service",
                    "is not an active service of the municipality",
                )
            })?;
    rules::owner_fits_kind(kind, service.kind)?;
    may::owner_in_case(facts, owner)
}

/// The plans of a case, oldest first.
///
/// Anyone who reads the case reads them, the family included; for anyone else it is 404. Each plan comes
/// with its group. Leaves an access event.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    responses((status = 200, description = "The plans", body = PlanList))
)]
#[get("/cases/{id}/plans")]
pub async fn list_plans(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let list = policy::read_case(&pool, caller, id, Resource::CasePlans, move |conn, _, _| {
        let members = store::members_of_cases(conn, &[id])?;
        let items = store::for_cases(conn, &[id])?
            .iter()
            .map(|p| p.view(&members))
            .collect();
        Ok(PlanList { items })
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Start a plan as a draft.
///
/// Rule 13: the stafettholder, or a professional of the service that is to own it. The owning service
/// must fit the kind of plan and be in the case; a coordinator is a professional of the case within the
/// consent's coverage. One unfinished plan of each kind per case (409).
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    request_body = PlanInput,
    responses(
        (status = 201, description = "Created", body = PlanView,
            headers(("Location" = String, description = "The plan"), ("ETag" = String, description = "Its version"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/cases/{id}/plans")]
pub async fn create_plan(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
    body: ValidJson<PlanInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = body.0;
    let view = policy::change_case(
        &pool,
        caller,
        id,
        Need::Professional,
        move |conn, caller, access| {
            may::may_start(&access, &input.owner_service)?;
            check_owner(conn, &access, input.kind, &input.owner_service)?;
            if let Some(c) = input.coordinator {
                may::may_coordinate(&access, c)?;
            }
            rules::check_period(input.starts_on, input.ends_on)?;
            let open = store::kinds_of(conn, id)?;
            if open
                .iter()
                .any(|(k, s)| *k == input.kind && *s != PlanState::Ended)
            {
                return Err(AppError::conflict(format!(
                    "the case already has an unfinished {}; change that one, or end it first",
                    input.kind.as_str()
                )));
            }
            let row = store::insert(
                conn,
                &PlanInsert {
                    id: Uuid::now_v7(),
                    case_id: id,
                    kind: input.kind,
                    owner_service: &input.owner_service,
                    coordinator_participant_id: input.coordinator,
                    state: PlanState::Draft,
                    starts_on: input.starts_on,
                    ends_on: input.ends_on,
                    goals: input.goals.as_deref().unwrap_or_default(),
                    end_reason: None,
                    created_by_user: &caller.user_id,
                    created_at: None,
                    activated_at: None,
                    ended_at: None,
                },
            )?;
            access.changed(
                conn,
                caller,
                Action::Create,
                Resource::CasePlans,
                ChangeType::PlanCreated,
            )?;
            view_of(conn, &row)
        },
    )
    .await?;
    let location = format!("/api/v1/cases/{id}/plans/{}", view.id);
    Ok(plan_response(
        HttpResponse::Created()
            .insert_header(("Location", location))
            .take(),
        view,
    ))
}

/// One plan of a case.
///
/// With its group (the ansvarsgruppe), for anyone who may read the case; 404 when the caller may not, or
/// the case has no such plan. The `ETag` is what `If-Match` takes. Leaves an access event.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("plan_id" = Uuid, Path, description = "The plan id")),
    responses((status = 200, description = "The plan", body = PlanView, headers(("ETag" = String, description = "Its version"))))
)]
#[get("/cases/{id}/plans/{plan_id}")]
pub async fn get_plan(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (id, pid) = path.into_inner();
    let view = db::transaction(&pool, caller.session(), move |conn| {
        let access = policy::case_for_read(conn, &caller, id)?;
        let row = store::find(conn, id, pid, false)?;
        access.record(conn, &caller, Action::Read, Resource::CasePlans)?;
        view_of(conn, &row)
    })
    .await?;
    Ok(plan_response(HttpResponse::Ok(), view))
}

/// Runs a change of one plan that has not ended, by someone who may change it (rule 13), and answers
/// with the plan as it is afterwards.
async fn change_plan<F>(
    pool: &Pool,
    caller: Caller,
    (id, pid): (Uuid, Uuid),
    change: ChangeType,
    f: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce(
            &mut PgConnection,
            &Caller,
            &CaseAccess,
            PlanRow,
        ) -> Result<Patched<PlanRow>, AppError>
        + Send
        + 'static,
{
    let view = policy::change_case(
        pool,
        caller,
        id,
        Need::Professional,
        move |conn, caller, access| {
            let current = store::find(conn, id, pid, true)?;
            may::may_change(
                &access,
                &current.owner_service,
                current.coordinator_participant_id,
            )?;
            rules::ended_plans_do_not_change(current.state)?;
            let patched = f(conn, caller, &access, current)?;
            access.patched(conn, caller, patched.changed(), Resource::CasePlans, change)?;
            view_of(conn, patched.row())
        },
    )
    .await?;
    Ok(plan_response(HttpResponse::Ok(), view))
}

/// Change a plan that has not ended.
///
/// `If-Match` required: its owner (never an aktivitetsplan's), its coordinator, its period or its goals.
/// By the stafettholder, a professional of the owning service or the plan's coordinator (rule 13); an
/// ended plan is 409. A patch that changes nothing answers the plan as it is (the same version, nothing
/// in the feed).
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("plan_id" = Uuid, Path, description = "The plan id"),
        ("If-Match" = String, Header, description = "The ETag of your last read")),
    request_body = PlanPatch,
    responses(
        (status = 200, description = "Changed", body = PlanView, headers(("ETag" = String, description = "Its version: a new one when the patch changed anything"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
        (status = 428, response = crate::http::openapi::PreconditionRequired),
    )
)]
#[patch("/cases/{id}/plans/{plan_id}")]
pub async fn patch_plan(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    body: ValidJson<PlanPatch>,
) -> Result<HttpResponse, AppError> {
    let patch = body.0;
    change_plan(
        &pool,
        caller,
        path.into_inner(),
        ChangeType::PlanUpdated,
        move |conn, _, access, current| {
            if_match.check(current.version)?;
            // A field sent back as it is was checked when it was set.
            if let Some(owner) = patch
                .owner_service
                .as_ref()
                .filter(|o| **o != current.owner_service)
            {
                rules::activity_plan_stays_with_its_school(
                    current.kind,
                    &current.owner_service,
                    owner,
                )?;
                check_owner(conn, access, current.kind, owner)?;
            }
            if let Some(c) = patch
                .coordinator
                .filter(|c| Some(*c) != current.coordinator_participant_id)
            {
                may::may_coordinate(access, c)?;
            }
            let starts_on = patch.starts_on.unwrap_or(current.starts_on);
            rules::check_period(starts_on, patch.ends_on.or(current.ends_on))?;
            let changes = PlanChanges {
                owner_service: patch.owner_service,
                coordinator_participant_id: patch.coordinator.map(Some),
                starts_on: patch.starts_on,
                ends_on: patch.ends_on.map(Some),
                goals: patch.goals,
                ..Default::default()
            };
            store::patch(conn, current, &changes)
        },
    )
    .await
}

/// Add a participant to a plan's group, or change their role there.
///
/// The plan's group is the ansvarsgruppe. The participant must be active in the case, and a professional
/// within the consent's coverage. By the stafettholder, a professional of the owning service or the
/// plan's coordinator; an ended plan is 409. `If-Match` is checked when sent.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("plan_id" = Uuid, Path, description = "The plan id"),
        ("If-Match" = Option<String>, Header, description = "Checked when sent")),
    request_body = PlanMemberInput,
    responses(
        (status = 200, description = "The plan with its members", body = PlanView, headers(("ETag" = String, description = "Its new version"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
    )
)]
#[post("/cases/{id}/plans/{plan_id}/members")]
pub async fn add_plan_member(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    body: ValidJson<PlanMemberInput>,
) -> Result<HttpResponse, AppError> {
    let input = body.0;
    change_plan(
        &pool,
        caller,
        path.into_inner(),
        ChangeType::PlanUpdated,
        move |conn, _, access, current| {
            if_match.check_if_present(current.version)?;
            may::in_coverage(access, "participant_id", input.participant_id)?;
            store::add_member(
                conn,
                &MemberInsert {
                    plan_id: current.id,
                    case_id: current.case_id,
                    participant_id: input.participant_id,
                    role: input.role.as_deref(),
                    added_at: None,
                },
            )?;
            store::touch(conn, current.id).map(Patched::Changed)
        },
    )
    .await
}

/// Put a draft plan in force.
///
/// An individual plan (ip) needs its coordinator first (409). By the stafettholder, a professional of
/// the owning service or the plan's coordinator; only a draft is put in force (409 otherwise).
/// `If-Match` is checked when sent.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("plan_id" = Uuid, Path, description = "The plan id"),
        ("If-Match" = Option<String>, Header, description = "Checked when sent")),
    responses(
        (status = 200, description = "Active", body = PlanView, headers(("ETag" = String, description = "Its new version"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
    )
)]
#[post("/cases/{id}/plans/{plan_id}/activate")]
pub async fn activate_plan(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    change_plan(
        &pool,
        caller,
        path.into_inner(),
        ChangeType::PlanActivated,
        move |conn, _, access, current| {
            if_match.check_if_present(current.version)?;
            rules::check_transition(current.state, PlanState::Active)?;
            rules::ip_needs_a_coordinator_to_be_active(
                current.kind,
                PlanState::Active,
                current.coordinator_participant_id,
            )?;
            if let Some(c) = current.coordinator_participant_id {
                may::may_coordinate(access, c)?;
            }
            let changes = PlanChanges {
                state: Some(PlanState::Active),
                activated_at: Some(chrono::Utc::now()),
                ..Default::default()
            };
            store::update(conn, current.id, &changes).map(Patched::Changed)
        },
    )
    .await
}

/// End a plan, with the reason.
///
/// An ended plan is kept as it was; a draft may end unused. By the stafettholder, a professional of the
/// owning service or the plan's coordinator; a plan that has ended already is 409. `If-Match` is checked
/// when sent.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("plan_id" = Uuid, Path, description = "The plan id"),
        ("If-Match" = Option<String>, Header, description = "Checked when sent")),
    request_body = PlanEndInput,
    responses(
        (status = 200, description = "Ended", body = PlanView, headers(("ETag" = String, description = "Its new version"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
    )
)]
#[post("/cases/{id}/plans/{plan_id}/end")]
pub async fn end_plan(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    body: ValidJson<PlanEndInput>,
) -> Result<HttpResponse, AppError> {
    let input = body.0;
    change_plan(
        &pool,
        caller,
        path.into_inner(),
        ChangeType::PlanEnded,
        move |conn, _, _, current| {
            if_match.check_if_present(current.version)?;
            rules::check_transition(current.state, PlanState::Ended)?;
            let changes = PlanChanges {
                state: Some(PlanState::Ended),
                end_reason: Some(input.reason),
                ended_at: Some(chrono::Utc::now()),
                ..Default::default()
            };
            store::update(conn, current.id, &changes).map(Patched::Changed)
        },
    )
    .await
}
