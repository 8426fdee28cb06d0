//! Thin handlers: extract -> validate -> access check (`crate::policy::inquiries`) -> store (one
//! transaction, with its access event) -> respond.

use actix_web::http::header::ETag;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use diesel::PgConnection;
use uuid::Uuid;

use super::api::{
    AnswerRequest, CaseFromInquiryRequest, InboxQuery, InquiryStatus, InquiryView,
    MyInquiriesQuery, NewInquiry,
};
use super::rules;
use super::store::{self, InquiryAction, InquiryRow, NewAnswer, NewInquiryRow};
use crate::access_log::store::Action;
use crate::access_log::store::Resource;
use crate::auth::{Caller, Role};
use crate::cases::api::CaseView;
use crate::changes::api::ChangeType;
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::{etag, ValidJson, ValidQuery};
use crate::http::pagination::{self, Page};
use crate::national_id::{NationalId, NationalIdKey};
use crate::notifications::api::NotificationEvent;
use crate::notifications::store::{notify, Notice, Recipients};
use crate::participants::api::{ParticipantKind, Relation};
use crate::participants::store::ParticipantInsert;
use crate::policy::inquiries::{self as who, InquiryBasis};

/// Send an inquiry to a service of the municipality.
///
/// A guardian or youth signed in through a national login (403 otherwise). An inquiry about another
/// family's child takes no national id. The service is notified; leaves an inquiry access event.
#[utoipa::path(
    tag = "inquiries",
    security(("bearer" = [])),
    request_body = NewInquiry,
    responses(
        (status = 201, description = "The inquiry as sent", body = InquiryView,
            headers(("Location" = String, description = "The inquiry"))),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[post("/inquiries")]
pub async fn send_inquiry(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    body: ValidJson<NewInquiry>,
) -> Result<HttpResponse, AppError> {
    let req = body.0;
    who::require_national_login(&caller)?;
    rules::child_fits_about(req.about, req.child.as_ref())?;
    let key = key.into_inner();
    let view = db::transaction(&pool, caller.session(), move |conn| {
        crate::municipality::store::ensure(conn, &caller.tenant)?;
        if crate::services::store::find_active_by_code(conn, &caller.tenant, &req.service)?
            .is_none()
        {
            return Err(AppError::invalid(
                "service",
                format!(
                    "`{}` is not an active service of this municipality",
                    req.service
                ),
            ));
        }
        let row = store::insert(conn, &new_row(&caller, &key, &req)?)?;
        store::record(conn, &caller, &[row.id], InquiryAction::Create)?;
        let event = NotificationEvent::InquiryReceived;
        notify(
            conn,
            &Notice::by(
                &caller,
                event,
                None,
                row.id,
                Recipients::service(&row.service),
            ),
        )?;
        store::view_one(conn, &key, row)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/inquiries/{}", view.id)))
        .json(view))
}

/// The row of a new inquiry: national ids sealed (encrypted, with the keyed hash that finds them).
fn new_row<'a>(
    caller: &'a Caller,
    key: &NationalIdKey,
    req: &'a NewInquiry,
) -> Result<NewInquiryRow<'a>, AppError> {
    let pid = caller
        .pid
        .as_deref()
        .and_then(|p| NationalId::parse(p).ok())
        .ok_or_else(who::no_national_login)?;
    let inquirer = key.seal(&pid);
    let child = req.child.as_ref();
    let child_id = key.seal_field(
        "child.national_id",
        child.and_then(|c| c.national_id.as_deref()),
    )?;
    let contact = req.contact.as_ref();
    Ok(NewInquiryRow {
        id: Uuid::now_v7(),
        municipality: &caller.tenant,
        service: &req.service,
        about: req.about,
        wants: req.wants,
        inquirer_user_id: &caller.user_id,
        inquirer_name: &caller.name,
        inquirer_role: if caller.has_role(Role::Guardian) {
            "guardian"
        } else {
            "youth"
        },
        inquirer_pid_enc: inquirer.ciphertext,
        inquirer_pid_hash: inquirer.lookup_hash,
        child_given_name: child.map(|c| c.given_name.as_str()),
        child_birth_date: child.and_then(|c| c.birth_date),
        child_national_id_enc: child_id.as_ref().map(|s| s.ciphertext.clone()),
        child_national_id_hash: child_id.map(|s| s.lookup_hash),
        message: &req.message,
        contact_phone: contact.and_then(|c| c.phone.as_deref()),
        contact_email: contact.and_then(|c| c.email.as_deref()),
    })
}

/// The inquiries sent to the caller's services, newest first.
///
/// The inboxes of the caller's services (or of one of them, `service`), for their professionals and
/// leaders; anyone else, or a service that is not the caller's, gets 403. Every listed inquiry leaves an
/// access event.
#[utoipa::path(
    tag = "inquiries",
    security(("bearer" = [])),
    params(InboxQuery),
    responses(
        (status = 200, description = "A page of inquiries", body = Page<InquiryView>,
            headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[get("/inquiries")]
pub async fn inquiry_inbox(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    query: ValidQuery<InboxQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let services = who::inboxes(&caller, q.service.as_deref())?;
    let (limit, after) = pagination::uuid_keyset(q.limit, q.cursor.as_deref())?;
    let key = key.into_inner();
    let views = db::transaction(&pool, caller.session(), move |conn| {
        let rows = store::inbox(conn, &caller.tenant, &services, q.status, after, limit + 1)?;
        listed(conn, &caller, &key, rows, limit)
    })
    .await?;
    Ok(pagination::respond(
        &req,
        pagination::page(views, limit, |v| v.id),
    ))
}

/// A page read for a list: the shown ones (not the look-ahead row) leave their access events.
fn listed(
    conn: &mut PgConnection,
    caller: &Caller,
    key: &NationalIdKey,
    rows: Vec<InquiryRow>,
    limit: i64,
) -> Result<Vec<InquiryView>, AppError> {
    let shown: Vec<Uuid> = rows.iter().take(limit as usize).map(|r| r.id).collect();
    store::record(conn, caller, &shown, InquiryAction::List)?;
    store::views(conn, key, rows, false)
}

/// The inquiries the caller sent, newest first.
///
/// With the service's answers, for a guardian or youth signed in through a national login (403
/// otherwise). Whether a case was opened about another family's child is not shown: such an inquiry
/// reads as closed. Every listed inquiry leaves an access event.
#[utoipa::path(
    tag = "inquiries",
    security(("bearer" = [])),
    params(MyInquiriesQuery),
    responses(
        (status = 200, description = "A page of my inquiries", body = Page<InquiryView>,
            headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[get("/me/inquiries")]
pub async fn my_inquiries(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    query: ValidQuery<MyInquiriesQuery>,
) -> Result<HttpResponse, AppError> {
    who::require_national_login(&caller)?;
    let q = query.0;
    let (limit, after) = pagination::uuid_keyset(q.limit, q.cursor.as_deref())?;
    let key = key.into_inner();
    let views = db::transaction(&pool, caller.session(), move |conn| {
        let pid_hash = caller.pid_hash.clone().unwrap_or_default();
        let rows = store::mine(conn, &caller.tenant, &pid_hash, after, limit + 1)?;
        let views = listed(conn, &caller, &key, rows, limit)?;
        Ok(views
            .into_iter()
            .map(rules::as_the_inquirer_sees_it)
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(pagination::respond(
        &req,
        pagination::page(views, limit, |v| v.id),
    ))
}

/// One inquiry with its answers.
///
/// For its inquirer and the professionals and leaders of its service; anyone else gets 404. To the
/// inquirer, an inquiry about another family's child that became a case reads as closed. Leaves an
/// access event.
#[utoipa::path(
    tag = "inquiries",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The inquiry id")),
    responses(
        (status = 200, description = "The inquiry", body = InquiryView),
        (status = 404, response = crate::http::openapi::NotFound),
    )
)]
#[get("/inquiries/{id}")]
pub async fn get_inquiry(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let key = key.into_inner();
    let view = db::transaction(&pool, caller.session(), move |conn| {
        let (row, basis) = who::visible(conn, &caller, id, false)?;
        store::record(conn, &caller, &[row.id], InquiryAction::Read)?;
        let view = store::view_one(conn, &key, row)?;
        Ok(match basis {
            InquiryBasis::Inquirer => rules::as_the_inquirer_sees_it(view),
            InquiryBasis::ReceivingService => view,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Answer an inquiry.
///
/// A professional or leader of the inquiry's service; the inquirer gets 403, anyone else 404. The
/// inquirer is notified and reads the answer in `GET /api/v1/me/inquiries`. An inquiry that is closed or
/// became a case is 409. Leaves an access event.
#[utoipa::path(
    tag = "inquiries",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The inquiry id")),
    request_body = AnswerRequest,
    responses(
        (status = 201, description = "The inquiry with the new answer", body = InquiryView,
            headers(("Location" = String, description = "The inquiry"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/inquiries/{id}/answer")]
pub async fn answer_inquiry(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    path: web::Path<Uuid>,
    body: ValidJson<AnswerRequest>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let req = body.0;
    let key = key.into_inner();
    let view = db::transaction(&pool, caller.session(), move |conn| {
        let row = who::for_service_action(conn, &caller, id)?;
        store::add_answer(
            conn,
            &NewAnswer {
                id: Uuid::now_v7(),
                inquiry_id: row.id,
                municipality: &caller.tenant,
                by_user_id: &caller.user_id,
                by_name: &caller.name,
                message: &req.message,
            },
        )?;
        let row = store::set_status(conn, row.id, InquiryStatus::Answered, None)?;
        store::record(conn, &caller, &[row.id], InquiryAction::Answer)?;
        let to = vec![row.inquirer_user_id.as_str()];
        let event = NotificationEvent::InquiryAnswered;
        notify(
            conn,
            &Notice::by(&caller, event, None, row.id, Recipients::users(to)),
        )?;
        store::view_one(conn, &key, row)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/inquiries/{}", view.id)))
        .json(view))
}

/// Close an inquiry.
///
/// A professional or leader of its service; the inquirer gets 403, anyone else 404, and an inquiry
/// closed already or opened as a case 409. An inquiry about another family's child has its text erased
/// 90 days later. Leaves an access event.
#[utoipa::path(
    tag = "inquiries",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The inquiry id")),
    responses(
        (status = 200, description = "The closed inquiry", body = InquiryView),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/inquiries/{id}/close")]
pub async fn close_inquiry(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let key = key.into_inner();
    let view = db::transaction(&pool, caller.session(), move |conn| {
        let row = who::for_service_action(conn, &caller, id)?;
        let row = store::set_status(conn, row.id, InquiryStatus::Closed, None)?;
        store::record(conn, &caller, &[row.id], InquiryAction::Close)?;
        store::view_one(conn, &key, row)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Open a level-0 case from an inquiry.
///
/// In the inquiry's service, by a professional of that service, who becomes the stafettholder. For an
/// inquiry about one's own child the inquirer joins the case as a guardian whose parental responsibility
/// the stafettholder is to confirm (until then no consent is effective). One transaction: the case, the
/// guardian and the inquiry's new state together, or nothing. An inquiry that is closed or became a case
/// already is 409.
#[utoipa::path(
    tag = "inquiries",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The inquiry id")),
    request_body = CaseFromInquiryRequest,
    responses(
        (status = 201, description = "The new case", body = CaseView,
            headers(("Location" = String, description = "The case"), ("ETag" = String, description = "Its version"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/inquiries/{id}/open-case")]
pub async fn open_case_from_inquiry(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    path: web::Path<Uuid>,
    body: ValidJson<CaseFromInquiryRequest>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let req = body.0;
    crate::cases::rules::refs_are_distinct(&req.external_refs)?;
    let key = key.into_inner();
    let view = db::transaction(&pool, caller.session(), move |conn| {
        let row = who::for_service_action(conn, &caller, id)?;
        // The opener becomes the stafettholder: a professional of the service (a leader who is only a
        // leader answers and closes inquiries, and reassigns, but holds no relay).
        crate::policy::may_open_case_in(&caller, &row.service)?;
        let spec = crate::cases::handlers::NewCaseSpec {
            service: &row.service,
            subject: &req.subject,
            concern: &req.concern,
            external_refs: &req.external_refs,
        };
        let mut access = crate::cases::handlers::open_in(conn, &key, &caller, spec)?;
        if rules::inquirer_joins_as_guardian(row.about) {
            join_as_guardian(conn, &row, access.case.id)?;
            access.refresh(conn)?;
            access.changed(
                conn,
                &caller,
                Action::Create,
                Resource::CaseParticipants,
                ChangeType::ParticipantAdded,
            )?;
        }
        store::set_status(
            conn,
            row.id,
            InquiryStatus::CaseOpened,
            Some(access.case.id),
        )?;
        store::record(conn, &caller, &[row.id], InquiryAction::OpenCase)?;
        Ok(crate::cases::view::view_one(&key, &access))
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/cases/{}", view.id)))
        .insert_header(ETag(etag(view.version)))
        .json(view))
}

/// The inquirer as a guardian of the new case, recognised by their national login. Their relation and
/// parental responsibility are for the stafettholder to confirm (`PATCH .../participants/{pid}`).
fn join_as_guardian(
    conn: &mut PgConnection,
    inquiry: &InquiryRow,
    case_id: Uuid,
) -> Result<(), AppError> {
    crate::participants::store::insert_all(
        conn,
        &[ParticipantInsert {
            id: Uuid::now_v7(),
            case_id,
            kind: ParticipantKind::Guardian,
            name: &inquiry.inquirer_name,
            user_id: None,
            service: None,
            title: None,
            relation: Some(Relation::Other),
            parental_responsibility: None,
            national_id_enc: Some(inquiry.inquirer_pid_enc.clone()),
            national_id_hash: Some(inquiry.inquirer_pid_hash.clone()),
            email: inquiry.contact_email.as_deref(),
            phone: inquiry.contact_phone.as_deref(),
            role: None,
            active: true,
            joined_at: Utc::now(),
            left_at: None,
        }],
    )
}
