use actix_web::http::header::ETag;
use actix_web::{get, patch, post, web, HttpResponse};
use uuid::Uuid;

use super::api::{NewParticipant, ParticipantList, ParticipantPatch, ParticipantView};
use super::{rules, store};
use crate::access_log::store::Action;
use crate::access_log::store::Resource;
use crate::auth::Caller;
use crate::changes::api::ChangeType;
use crate::db::Pool;
use crate::http::error::AppError;
use crate::http::extract::{etag, IfMatch, ValidJson};
use crate::national_id::NationalIdKey;
use crate::policy::{self, Need};

/// Everyone in the case, active and former.
///
/// In the order they joined, for anyone who may read the case; for anyone else it is 404. National ids
/// are shown in full to the stafettholder only. Leaves an access event.
#[utoipa::path(
    tag = "participants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    responses((status = 200, description = "The participants, in the order they joined", body = ParticipantList))
)]
#[get("/cases/{id}/participants")]
pub async fn list_participants(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let seen = Resource::CaseParticipants;
    let list = policy::read_case(&pool, caller, id, seen, move |conn, _, access| {
        let full = access.shows_full_ids();
        let ids: Vec<Uuid> = access.participants.iter().map(|p| p.id).collect();
        let mut refs = store::refs_for(conn, &ids)?;
        Ok(ParticipantList {
            items: access
                .participants
                .iter()
                .map(|p| store::view(p, &key, full, refs.remove(&p.id).unwrap_or_default()))
                .collect(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Add a participant to a case.
///
/// A professional, a guardian, the subject youth or another person; by the stafettholder (403 for other
/// readers, 409 when the case is closed). A professional of a service no effective consent covers is 409
/// (rule 3), and so is someone already active in the case. Leaves an access event and
/// `participant.added` in the change feed.
#[utoipa::path(
    tag = "participants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    request_body = NewParticipant,
    responses(
        (status = 201, description = "Added", body = ParticipantView, headers(("Location" = String, description = "The participant"), ("ETag" = String, description = "Its version, for If-Match"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/cases/{id}/participants")]
pub async fn add_participant(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    path: web::Path<Uuid>,
    body: ValidJson<NewParticipant>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = body.0;
    let write = Need::Holder;
    let view = policy::change_case(&pool, caller, id, write, move |conn, caller, access| {
        rules::check_new(&access, &input, |service| {
            Ok(
                crate::services::store::find_active_by_code(conn, &caller.tenant, service)?
                    .is_some(),
            )
        })?;
        crate::cases::rules::refs_are_distinct(input.external_refs())?;
        let row = store::insert(conn, &key, id, &input)?;
        store::insert_refs(conn, &caller.tenant, row.id, input.external_refs())?;
        access.changed(
            conn,
            caller,
            Action::Create,
            Resource::CaseParticipants,
            ChangeType::ParticipantAdded,
        )?;
        let refs = store::refs_for(conn, &[row.id])?
            .remove(&row.id)
            .unwrap_or_default();
        Ok(store::view(&row, &key, true, refs))
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/cases/{id}/participants/{}", view.id),
        ))
        .insert_header(ETag(etag(view.version)))
        .json(view))
}

/// Change a participant's details.
///
/// The stafettholder. `If-Match` is checked when sent (412 when stale). A participant who has left is
/// 409, and so is taking parental responsibility from a guardian once the case has consents (rule 4).
/// A patch that changes nothing answers the participant as it is (the same version, nothing in the feed).
#[utoipa::path(
    tag = "participants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("pid" = Uuid, Path, description = "The participant id"),
        ("If-Match" = Option<String>, Header, description = "ETag from the last read; checked when sent")),
    request_body = ParticipantPatch,
    responses(
        (status = 200, description = "Changed", body = ParticipantView, headers(("ETag" = String, description = "Its version: a new one when the patch changed anything"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
    )
)]
#[patch("/cases/{id}/participants/{pid}")]
pub async fn patch_participant(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    body: ValidJson<ParticipantPatch>,
) -> Result<HttpResponse, AppError> {
    let (id, pid) = path.into_inner();
    let patch = body.0;
    let write = Need::Holder;
    let view = policy::change_case(&pool, caller, id, write, move |conn, caller, access| {
        let current = access
            .participant(pid)
            .ok_or_else(|| AppError::not_found("participant"))?;
        if !current.active {
            return Err(AppError::conflict("the participant has left the case"));
        }
        if_match.check_if_present(current.version)?;
        rules::protect_consent_givers(
            &access,
            current,
            rules::GiverChange::Patch {
                dropping_responsibility: patch.parental_responsibility == Some(false),
            },
        )?;
        let patched = store::update(conn, &key, current, &patch)?;
        access.patched(
            conn,
            caller,
            patched.changed(),
            Resource::CaseParticipants,
            ChangeType::ParticipantUpdated,
        )?;
        let row = patched.into_row();
        let refs = store::refs_for(conn, &[row.id])?
            .remove(&row.id)
            .unwrap_or_default();
        Ok(store::view(&row, &key, true, refs))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(ETag(etag(view.version)))
        .json(view))
}

/// A participant leaves the case.
///
/// The stafettholder. They stay listed, inactive; the holder cannot leave without handing the role over
/// first (409). Once the case has consents, a guardian who must give them cannot be removed (409,
/// rule 4).
#[utoipa::path(
    tag = "participants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("pid" = Uuid, Path, description = "The participant id")),
    responses(
        (status = 200, description = "Deactivated", body = ParticipantView, headers(("ETag" = String, description = "Its new version"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/cases/{id}/participants/{pid}/deactivate")]
pub async fn deactivate_participant(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (id, pid) = path.into_inner();
    let write = Need::Holder;
    let view = policy::change_case(&pool, caller, id, write, move |conn, caller, access| {
        let current = access
            .participant(pid)
            .ok_or_else(|| AppError::not_found("participant"))?;
        rules::protect_consent_givers(&access, current, rules::GiverChange::Deactivate)?;
        if pid == access.case.holder_participant_id {
            return Err(AppError::conflict(
                "the stafettholder cannot leave; hand the role over first",
            ));
        }
        if !current.active {
            return Err(AppError::conflict(
                "the participant has already left the case",
            ));
        }
        let row = store::deactivate(conn, &[pid])?
            .pop()
            .ok_or_else(AppError::internal)?;
        access.changed(
            conn,
            caller,
            Action::Deactivate,
            Resource::CaseParticipants,
            ChangeType::ParticipantDeactivated,
        )?;
        let refs = store::refs_for(conn, &[row.id])?
            .remove(&row.id)
            .unwrap_or_default();
        Ok(store::view(&row, &key, true, refs))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
