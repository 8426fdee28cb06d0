//! Thin handlers: extract -> validate -> access check -> store (one transaction, with its access event) -> respond.

use actix_web::http::header::ETag;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::api::{
    CaseListQuery, CasePatch, CaseView, CloseCaseRequest, ExternalRef, OpenCaseRequest,
    SubjectInput,
};
use super::store::{CaseChanges, NewCase};
use super::{rules, store};
use crate::access_log::store::Resource;
use crate::access_log::store::{self as access_log, Action};
use crate::auth::Caller;
use crate::changes::api::ChangeType;
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::{etag, IfMatch, ValidJson, ValidQuery};
use crate::http::pagination::{self, Page};
use crate::national_id::NationalIdKey;
use crate::policy::{self, Need};

fn case_response(mut res: actix_web::HttpResponseBuilder, view: CaseView) -> HttpResponse {
    res.insert_header(ETag(etag(view.version))).json(view)
}

/// Open a case at level 0 in one of the caller's services.
///
/// For a professional, in one of the services of their token (rule 1; 403 otherwise). The caller becomes
/// its first participant and stafettholder, and the level-0 decision deadline is set from the
/// municipality's settings; the case starts on the first step of level 0 of the guide in force. An
/// external reference another case has already is 409. Leaves an access event and `case.opened` in the
/// change feed.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    request_body = OpenCaseRequest,
    responses(
        (status = 201, description = "The new case", body = CaseView,
            headers(("Location" = String, description = "The case"), ("ETag" = String, description = "Its version"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/cases")]
pub async fn open_case(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    body: ValidJson<OpenCaseRequest>,
) -> Result<HttpResponse, AppError> {
    let req = body.0;
    policy::may_open_case_in(&caller, &req.service)?;
    rules::refs_are_distinct(&req.external_refs)?;
    let key = key.into_inner();
    let view = db::transaction(&pool, caller.session(), move |conn| {
        let access = open_in(
            conn,
            &key,
            &caller,
            NewCaseSpec {
                service: &req.service,
                subject: &req.subject,
                concern: &req.concern,
                external_refs: &req.external_refs,
            },
        )?;
        Ok(super::view::view_one(&key, &access))
    })
    .await?;
    Ok(case_response(
        HttpResponse::Created()
            .insert_header(("Location", format!("/api/v1/cases/{}", view.id)))
            .take(),
        view,
    ))
}

/// What a new case starts from: `POST /cases`, or an inquiry the case is opened from.
pub struct NewCaseSpec<'a> {
    pub service: &'a str,
    pub subject: &'a SubjectInput,
    pub concern: &'a str,
    pub external_refs: &'a [ExternalRef],
}

/// Opens a case at level 0 in `spec.service` (an active service of the caller's municipality) with the
/// caller as its first participant and stafettholder, and records it (access event and change feed).
/// The caller's right to open a case in that service is checked before.
pub fn open_in(
    conn: &mut diesel::PgConnection,
    key: &NationalIdKey,
    caller: &Caller,
    spec: NewCaseSpec,
) -> Result<policy::CaseAccess, AppError> {
    let settings = crate::municipality::store::ensure(conn, &caller.tenant)?;
    if crate::services::store::find_active_by_code(conn, &caller.tenant, spec.service)?.is_none() {
        return Err(AppError::invalid(
            "service",
            format!(
                "`{}` is not an active service of municipality {}",
                spec.service, caller.tenant
            ),
        ));
    }
    store::ensure_refs_free(conn, &caller.tenant, spec.external_refs)?;
    let sealed = store::seal(key, spec.subject.national_id.as_deref())?;
    let today = crate::clock::today();
    // The case starts on the first step of level 0 of the guide in force now.
    let step = crate::guide::steps::first_step(conn, &caller.tenant, 0)?;
    let case = store::insert(
        conn,
        store::OpenCase {
            case: NewCase {
                id: Uuid::now_v7(),
                municipality: &caller.tenant,
                subject_kind: spec.subject.kind,
                subject_given_name: &spec.subject.given_name,
                subject_family_name: &spec.subject.family_name,
                subject_birth_date: spec.subject.birth_date,
                subject_national_id_enc: sealed.as_ref().map(|s| s.ciphertext.clone()),
                subject_national_id_hash: sealed.map(|s| s.lookup_hash),
                concern: spec.concern,
                opened_in_service: spec.service,
                holder_participant_id: Uuid::now_v7(),
                decision_due: Some(rules::level0_decision_due(
                    today,
                    settings.level0_deadline_days,
                )),
                opened_by: &caller.user_id,
                guide_version: Some(step.version),
                guide_step_key: Some(&step.step.key),
                guide_step_title: Some(&step.step.title),
                guide_next_key: step.next.as_ref().map(|n| n.key.as_str()),
                guide_next_title: step.next.as_ref().map(|n| n.title.as_str()),
            },
            holder_name: &caller.name,
            holder_title: None,
            refs: spec.external_refs,
        },
    )?;
    // The database works a case's grants out when the transaction commits; the opener reads the case
    // back now, so its grants are worked out now (the commit then finds nothing changed).
    super::grants::refresh(conn, case.id)?;
    let access = policy::case_for_read(conn, caller, case.id)?;
    access.changed(
        conn,
        caller,
        Action::Create,
        Resource::Case,
        ChangeType::CaseOpened,
    )?;
    Ok(access)
}

/// The cases the caller may read, newest first.
///
/// A page of cases, narrowed by status, level, `holder=me` or an external reference (`ref`), on the same
/// rule as one case (rule 8): a case the caller may not read is never listed. Every listed case leaves
/// an access event.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(CaseListQuery),
    responses((status = 200, description = "A page of cases", body = Page<CaseView>,
        headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))))
)]
#[get("/cases")]
pub async fn list_cases(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    query: ValidQuery<CaseListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let limit = pagination::effective_limit(q.limit);
    let mut after = q
        .cursor
        .as_deref()
        .map(pagination::decode_uuid_cursor)
        .transpose()?;
    let key = key.into_inner();
    let views = db::transaction(&pool, caller.session(), move |conn| {
        // Candidates come from SQL; the full rule (consent coverage) may drop some, so read on until the
        // page is full or the candidates run out.
        let mut readable = Vec::new();
        loop {
            let batch = policy::list_batch(conn, &caller, &q, after, limit + 1)?;
            let exhausted = (batch.candidates as i64) <= limit;
            after = batch.last;
            readable.extend(batch.readable);
            if exhausted || readable.len() as i64 > limit {
                break;
            }
        }
        readable.truncate(limit as usize + 1);
        let shown: Vec<_> = readable
            .iter()
            .take(limit as usize)
            .map(|a| (a.case.id, a.basis))
            .collect();
        access_log::record(conn, &caller, &shown, Action::List, Resource::Case)?;
        Ok(super::view::views(&key, &readable))
    })
    .await?;
    Ok(pagination::respond(
        &req,
        pagination::page(views, limit, |c| c.id),
    ))
}

/// One case, with its stafettholder, level and consent summary.
///
/// For anyone who may read the case (rule 8); for anyone else it is 404, as if it did not exist.
/// National ids are shown in full to the stafettholder only. The `ETag` is what `If-Match` takes. Leaves
/// an access event.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    responses(
        (status = 200, description = "The case", body = CaseView, headers(("ETag" = String, description = "Its version"))),
        (status = 404, response = crate::http::openapi::NotFound),
    )
)]
#[get("/cases/{id}")]
pub async fn get_case(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let key = key.into_inner();
    let seen = Resource::Case;
    let view = policy::read_case(&pool, caller, id, seen, move |_, _, access| {
        Ok(super::view::view_one(&key, &access))
    })
    .await?;
    Ok(case_response(HttpResponse::Ok(), view))
}

/// Change the concern or the subject of a case.
///
/// Stafettholder only (403 for other readers, 404 for anyone who may not read the case); `If-Match`
/// required (428 without, 412 when stale), and a closed case is 409. Leaves an access event and
/// `case.updated` in the change feed. A patch that changes nothing (`{}`, or only values the case has)
/// answers the case as it is: the same version, nothing in the feed, a read in the access log.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"),
        ("If-Match" = String, Header, description = "The ETag of your last read")),
    request_body = CasePatch,
    responses(
        (status = 200, description = "The changed case", body = CaseView, headers(("ETag" = String, description = "Its version: a new one when the patch changed anything"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
        (status = 409, response = crate::http::openapi::Conflict),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
        (status = 428, response = crate::http::openapi::PreconditionRequired),
    )
)]
#[patch("/cases/{id}")]
pub async fn patch_case(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    path: web::Path<Uuid>,
    if_match: IfMatch,
    body: ValidJson<CasePatch>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let patch = body.0;
    let key = key.into_inner();
    let write = Need::Holder.at(if_match);
    let view = policy::change_case(&pool, caller, id, write, move |conn, caller, mut access| {
        let subject = patch.subject.unwrap_or_default();
        let sealed = match &subject.national_id {
            Some(v) => Some(store::seal(&key, v.as_deref())?),
            None => None,
        };
        let changes = CaseChanges {
            concern: patch.concern.as_deref(),
            subject_kind: subject.kind,
            subject_given_name: subject.given_name.as_deref(),
            subject_family_name: subject.family_name.as_deref(),
            subject_birth_date: subject.birth_date,
            subject_national_id_enc: sealed
                .as_ref()
                .map(|s| s.as_ref().map(|s| s.ciphertext.clone())),
            subject_national_id_hash: sealed.map(|s| s.map(|s| s.lookup_hash)),
        };
        if !changes.alters(&access.case) {
            // Nothing to change (`crate::patch`): the caller is shown the case as it is.
            access.record(conn, caller, Action::Read, Resource::Case)?;
            return Ok(super::view::view_one(&key, &access));
        }
        access.facts.case = store::update(conn, id, &changes)?;
        access.changed(
            conn,
            caller,
            Action::Update,
            Resource::Case,
            ChangeType::CaseUpdated,
        )?;
        Ok(super::view::view_one(&key, &access))
    })
    .await?;
    Ok(case_response(HttpResponse::Ok(), view))
}

/// Close a case, with a reason from the fixed list.
///
/// The stafettholder, or a guardian with parental responsibility (guardians can always end the log).
/// `If-Match` required. Closing as `moved_to_individual_plan` needs an active ip, iop or iup in the case
/// (409), and a case closed already is 409. Leaves an access event and `case.closed` in the change feed.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"),
        ("If-Match" = String, Header, description = "The ETag of your last read")),
    request_body = CloseCaseRequest,
    responses(
        (status = 200, description = "The closed case", body = CaseView, headers(("ETag" = String, description = "Its new version"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
        (status = 409, response = crate::http::openapi::Conflict),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
        (status = 428, response = crate::http::openapi::PreconditionRequired),
    )
)]
#[post("/cases/{id}/close")]
pub async fn close_case(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    path: web::Path<Uuid>,
    if_match: IfMatch,
    body: ValidJson<CloseCaseRequest>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let req = body.0;
    let key = key.into_inner();
    let write = Need::HolderOrResponsibleGuardian.at(if_match);
    let view = policy::change_case(&pool, caller, id, write, move |conn, caller, mut access| {
        if req.reason == super::api::CloseReason::MovedToIndividualPlan {
            let plans = crate::plans::store::kinds_of(conn, id)?;
            crate::plans::rules::moving_to_a_plan_needs_an_active_plan(&plans)?;
        }
        access.facts.case = store::close(conn, id, req.reason, req.note.as_deref())?;
        access.changed(
            conn,
            caller,
            Action::Close,
            Resource::Case,
            ChangeType::CaseClosed,
        )?;
        Ok(super::view::view_one(&key, &access))
    })
    .await?;
    Ok(case_response(HttpResponse::Ok(), view))
}

/// Report that a closed case was taken into the municipality's archive.
///
/// Its administrator, or an integration with the `archive` scope that may read the case (typically the
/// archive system after `case.closed` in the feed and the case's PDF export); a case it may not read, or
/// none, is 404, and anyone else gets 403. A
/// second report replaces the first. Only a closed case whose personal data is not erased is archived
/// (409), on a day from its closing up to today. The retention purge erases only archived cases, unless
/// the municipality sets `purge_unarchived`. The change feed carries `case.archived`.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    request_body = super::api::ArchivedInput,
    responses(
        (status = 200, description = "Where the case is archived", body = super::api::Archived),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/cases/{id}/archived")]
pub async fn report_archived(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
    body: ValidJson<super::api::ArchivedInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = body.0;
    let archived = db::transaction_for_case(&pool, caller.session(), id, move |conn| {
        let (case, granted) = policy::archive::case_to_archive(conn, &caller, id)?;
        rules::only_a_closed_case_is_archived(&case, input.archived_on, crate::clock::today())?;
        let record = super::api::Archived {
            system: input.system,
            reference: input.reference,
            archived_on: input.archived_on,
            archived_by: caller.user_id.clone(),
        };
        let row = store::set_archived(conn, id, &record)?;
        access_log::record_change(
            conn,
            &caller,
            (id, granted.basis),
            Action::Update,
            Resource::Case,
            ChangeType::CaseArchived,
        )?;
        row.archived().ok_or_else(AppError::internal)
    })
    .await?;
    Ok(HttpResponse::Ok().json(archived))
}

/// Reopen a case closed because its consent was withdrawn or expired.
///
/// Its last stafettholder, with the case's `If-Match`, so a family that consents again keeps one log for
/// the child. The case opens at level 0 with a new decision deadline; until a new consent is effective,
/// the rules of level 0 apply. Its history stays: the level change to 0 and a `decision` entry that says
/// when and why it was closed and why it is reopened. Any other close reason is 409, and so is a case
/// whose personal data was erased.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"),
        ("If-Match" = String, Header, description = "The ETag of your last read")),
    request_body = super::api::ReopenRequest,
    responses(
        (status = 200, description = "Open again", body = CaseView, headers(("ETag" = String, description = "Its new version"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
        (status = 428, response = crate::http::openapi::PreconditionRequired),
    )
)]
#[post("/cases/{id}/reopen")]
pub async fn reopen_case(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    path: web::Path<Uuid>,
    if_match: IfMatch,
    body: ValidJson<super::api::ReopenRequest>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let reason = body.0.reason;
    let key = key.into_inner();
    let write = Need::Reader.at(if_match);
    let view = policy::change_case(&pool, caller, id, write, move |conn, caller, mut access| {
        access.require_holder()?;
        rules::only_a_lost_consent_reopens(&access.case)?;
        record_reopening(conn, &access, &reason)?;
        let settings = crate::municipality::store::get(conn, &access.case.municipality)?;
        let due = rules::level0_decision_due(crate::clock::today(), settings.level0_deadline_days);
        access.facts.case = store::reopen(conn, id, due)?;
        crate::guide::steps::place_imported(conn, &access.case.municipality, &[(id, 0)])?;
        access.refresh(conn)?;
        access.changed(
            conn,
            caller,
            Action::Update,
            Resource::Case,
            ChangeType::CaseReopened,
        )?;
        Ok(super::view::view_one(&key, &access))
    })
    .await?;
    Ok(case_response(HttpResponse::Ok(), view))
}

/// What reopening leaves in the case's history: the level change to 0 (when it was above) and a
/// `decision` entry of the holder's saying when and why it was closed and why it is reopened.
fn record_reopening(
    conn: &mut diesel::PgConnection,
    access: &policy::CaseAccess,
    reason: &str,
) -> Result<(), AppError> {
    let me = access.actor()?;
    let case = &access.case;
    let closed = case
        .closed_at
        .map(|t| crate::clock::day_of(t).format("%d.%m.%Y").to_string())
        .unwrap_or_default();
    let why = case.close_reason.map(|r| r.as_str()).unwrap_or_default();
    let mut changes = vec![crate::changes::api::ChangeType::EntryAdded];
    if case.level > 0 {
        crate::level_changes::store::insert(
            conn,
            &crate::level_changes::store::LevelChangeInsert {
                id: Uuid::now_v7(),
                case_id: case.id,
                from_level: case.level,
                to_level: 0,
                reason: &format!("Gjenåpnet på nivå 0: {reason}"),
                decided_on: crate::clock::today(),
                recorded_at: None,
                recorded_by_participant: me.id,
                recorded_by_name: &me.name,
            },
        )?;
        changes.push(crate::changes::api::ChangeType::LevelChanged);
    }
    let archived = case
        .archived()
        .map(|a| {
            format!(
                " Den var arkivert i {} som {} ({}).",
                a.system, a.reference, a.archived_on
            )
        })
        .unwrap_or_default();
    let body = format!("Saken ble avsluttet {closed} ({why}) og er gjenåpnet.{archived} {reason}");
    crate::entries::store::insert(
        conn,
        &crate::entries::store::EntryInsert {
            id: Uuid::now_v7(),
            case_id: case.id,
            kind: crate::entries::api::EntryKind::Decision,
            occurred_at: chrono::Utc::now(),
            title: Some("Saken er gjenåpnet"),
            body: &body,
            attendees: vec![],
            decisions: None,
            next_meeting: None,
            corrects: None,
            author_participant_id: me.id,
            author_name: &me.name,
            recorded_at: None,
        },
    )?;
    crate::changes::store::emit(conn, &case.municipality, case.id, &changes)
}
