//! The consultation endpoints: thin; the rules are in `rules`, who may do what in
//! `crate::policy::consultations`. No access events: a consultation holds no case and no person.

use actix_web::{get, post, web, HttpResponse};
use uuid::Uuid;

use super::api::{Consultation, ConsultationAnswerInput, ConsultationInput, ConsultationList};
use super::{rules, store};
use crate::auth::{Caller, Role};
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::ValidJson;
use crate::policy::consultations as may;

/// The most consultations a list shows.
const LIST_LIMIT: i64 = 200;

fn view_of(
    conn: &mut diesel::PgConnection,
    row: &store::ConsultationRow,
    caller: &Caller,
) -> Result<Consultation, AppError> {
    Ok(row.view(&store::answers_of(conn, &[row.id])?, &caller.user_id))
}

/// Ask another service about a worry, anonymously.
///
/// A professional, for one of their services (403 for other roles): no case, no person, no national
/// identity number (422). Erased 90 days after the last answer.
#[utoipa::path(
    tag = "consultations",
    security(("bearer" = [])),
    request_body = ConsultationInput,
    responses(
        (status = 201, description = "Asked", body = Consultation, headers(("Location" = String, description = "The consultation"))),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[post("/consultations")]
pub async fn ask_consultation(
    caller: Caller,
    pool: web::Data<Pool>,
    body: ValidJson<ConsultationInput>,
) -> Result<HttpResponse, AppError> {
    may::may_ask(&caller)?;
    let input = body.0;
    let from = rules::asking_service(&caller.services, input.from_service.as_deref())?;
    rules::another_service_is_asked(&from, &input.to_service)?;
    rules::a_consultation_names_no_one("question", &input.question)?;
    let view = db::transaction(&pool, caller.session(), move |conn| {
        crate::services::store::find_active_by_code(conn, &caller.tenant, &input.to_service)?
            .ok_or_else(|| {
                AppError::invalid("to_service", "is not an active service of the municipality")
            })?;
        let row = store::insert(
            conn,
            &store::NewConsultation {
                municipality: &caller.tenant,
                from_service: &from,
                asked_by: &caller.user_id,
                to_service: &input.to_service,
                question: &input.question,
                age_group: input.age_group,
            },
        )?;
        view_of(conn, &row, &caller)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/consultations/{}", view.id)))
        .json(view))
}

/// The consultations you asked, and those to your services.
///
/// Those you asked, and those to the services you work in or lead, newest first, at most 200, each with
/// its answers. For professionals and leaders (403 for other roles). A consultation holds no case and no
/// person, so reading it leaves no access event.
#[utoipa::path(
    tag = "consultations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The consultations", body = ConsultationList),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[get("/consultations")]
pub async fn list_consultations(
    caller: Caller,
    pool: web::Data<Pool>,
) -> Result<HttpResponse, AppError> {
    may::may_list(&caller)?;
    let list = db::transaction(&pool, caller.session(), move |conn| {
        let asker = caller
            .has_role(Role::Professional)
            .then_some(caller.user_id.as_str());
        let rows = store::visible_to(conn, asker, &caller.services, LIST_LIMIT)?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let answers = store::answers_of(conn, &ids)?;
        Ok(ConsultationList {
            items: rows
                .iter()
                .map(|r| r.view(&answers, &caller.user_id))
                .collect(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// One consultation with its answers.
///
/// For the professional who asked it, and the professionals and leaders of the service asked; other
/// professionals and leaders get 404, as if it did not exist, and other roles 403. Leaves no access
/// event: a consultation holds no case and no person.
#[utoipa::path(
    tag = "consultations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The consultation id")),
    responses(
        (status = 200, description = "The consultation", body = Consultation),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[get("/consultations/{id}")]
pub async fn get_consultation(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    may::may_list(&caller)?;
    let view = db::transaction(&pool, caller.session(), move |conn| {
        let row = store::find(conn, id)?;
        may::may_see(&caller, &row)?;
        view_of(conn, &row, &caller)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Answer a consultation to your service.
///
/// The professionals and leaders of the service asked answer it; the asker and other roles get 403,
/// other professionals and leaders 404. The answer carries no national identity number (422). Answers
/// with the consultation and all its answers.
#[utoipa::path(
    tag = "consultations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The consultation id")),
    request_body = ConsultationAnswerInput,
    responses(
        (status = 201, description = "Answered: the consultation with its answers", body = Consultation),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[post("/consultations/{id}/answers")]
pub async fn answer_consultation(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
    body: ValidJson<ConsultationAnswerInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    may::may_list(&caller)?;
    let text = body.0.text;
    rules::a_consultation_names_no_one("text", &text)?;
    let view = db::transaction(&pool, caller.session(), move |conn| {
        let row = store::find(conn, id)?;
        may::may_answer(&caller, &row)?;
        store::answer(conn, &row, &caller.tenant, &caller.user_id, &text)?;
        view_of(conn, &row, &caller)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}
