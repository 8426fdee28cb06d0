use actix_web::{get, post, web, HttpResponse};
use chrono::Months;
use uuid::Uuid;

use super::api::{
    ConsentInput, ConsentList, ConsentView, EffectiveConsentView, RecordedBy, WithdrawRequest,
};
use super::rules::GiverStanding;
use super::store::Consent;
use super::{effects, rules, store};
use crate::access_log::store::Action;
use crate::access_log::store::Resource;
use crate::auth::Caller;
use crate::cases::api::CloseReason;
use crate::changes::api::ChangeType;
use crate::db::Pool;
use crate::http::error::{AppError, FieldError};
use crate::http::extract::ValidJson;
use crate::notifications::api::NotificationEvent;
use crate::notifications::store::{Notice, Recipients};
use crate::policy::{self, CaseAccess, Need};

pub fn view(c: &Consent, today: chrono::NaiveDate) -> ConsentView {
    ConsentView {
        id: c.row.id,
        given_by: c.givers.clone(),
        signed_by: c.signed.clone(),
        missing_signatures: rules::missing_signatures(&c.facts()),
        services: c.services.clone(),
        purpose: c.row.purpose.clone(),
        valid_from: c.row.valid_from,
        valid_until: c.row.valid_until,
        form: c.row.form,
        document_ref: c.row.document_ref.clone(),
        supersedes: c.row.supersedes,
        superseded_by: c.row.superseded_by,
        state: rules::state(&c.facts(), today),
        recorded_by: RecordedBy {
            user_id: c.row.recorded_by_user.clone(),
            name: c.row.recorded_by_name.clone(),
        },
        recorded_at: c.row.recorded_at,
        withdrawn_at: c.row.withdrawn_at,
        withdrawn_by: c.row.withdrawn_by_participant,
        withdrawal_reason: c.row.withdrawal_reason.clone(),
    }
}

/// Who may record this consent (`policy::consents`), and are its givers, services, dates and predecessor
/// sound? Every problem names its field; nothing is written until all pass.
fn check_new_consent(
    conn: &mut diesel::PgConnection,
    caller: &Caller,
    access: &CaseAccess,
    input: &ConsentInput,
    valid_until: chrono::NaiveDate,
) -> Result<(), AppError> {
    policy::consents::may_record(access, input)?;
    let mut errors = rules::giver_problems(&input.given_by, |id| standing(access, id));
    errors.extend(rules::service_problems(&input.services, |service| {
        Ok(crate::services::store::find_active_by_code(conn, &caller.tenant, service)?.is_some())
    })?);
    let mut period = rules::period_problems(input.valid_from, Some(valid_until), access.today);
    if input.valid_until.is_none() {
        // The end is the municipality's default validity: the date the caller gave is `valid_from`.
        for e in &mut period {
            e.field = "valid_from".into();
            e.message = format!(
                "with the municipality's consent validity it ran out on {valid_until}, before it was \
                 recorded: such a consent never covered the case"
            );
        }
    }
    errors.extend(period);
    if let Some(old) = input.supersedes {
        match access.consents.iter().find(|c| c.row.id == old) {
            Some(t) if t.row.withdrawn_at.is_some() || t.row.superseded_by.is_some() => {
                return Err(AppError::conflict(
                    "the consent named in `supersedes` was withdrawn or replaced already",
                ))
            }
            Some(t) => policy::consents::may_replace(access, t)?,
            None => errors.push(FieldError::new(
                "supersedes",
                "is not a consent of this case",
            )),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::invalid_fields(errors))
    }
}

/// What a participant named as a giver is to the case, for rule 4's giver check.
fn standing(access: &CaseAccess, id: Uuid) -> GiverStanding {
    use crate::participants::api::ParticipantKind;
    match access.participant(id) {
        Some(p) if !p.active => GiverStanding::Left,
        Some(p)
            if p.kind == ParticipantKind::Guardian && p.parental_responsibility == Some(true) =>
        {
            GiverStanding::GuardianWithResponsibility
        }
        Some(p) if p.kind == ParticipantKind::Guardian => {
            GiverStanding::GuardianWithoutResponsibility
        }
        Some(p) if p.kind == ParticipantKind::Youth => GiverStanding::Youth,
        _ => GiverStanding::NotAGiver,
    }
}

/// A consent as the case's facts hold it after a change in this transaction.
fn recorded(access: &CaseAccess, consent_id: Uuid) -> Result<ConsentView, AppError> {
    let consent = access
        .consents
        .iter()
        .find(|c| c.row.id == consent_id)
        .ok_or_else(AppError::internal)?;
    Ok(view(consent, access.today))
}

/// The consents recorded in the case, with their state today.
///
/// All of them, oldest first, with their givers, signatures (and those still missing), services and
/// period, for anyone who may read the case; for anyone else it is 404. Leaves an access event.
#[utoipa::path(
    tag = "consents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    responses((status = 200, description = "All consents, oldest first", body = ConsentList))
)]
#[get("/cases/{id}/consents")]
pub async fn list_consents(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let seen = Resource::CaseConsents;
    let list = policy::read_case(&pool, caller, id, seen, move |_, _, access| {
        Ok(ConsentList {
            items: access
                .consents
                .iter()
                .map(|c| view(c, access.today))
                .collect(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// What the consents of a case cover today.
///
/// Which services the effective consent covers, who gave it and until when (rule 4), and why a recorded
/// consent is not effective, with the signatures a digital one still waits for. For anyone who may read
/// the case; for anyone else it is 404. Leaves an access event.
#[utoipa::path(
    tag = "consents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    responses((status = 200, description = "The effective consent", body = EffectiveConsentView))
)]
#[get("/cases/{id}/consents/effective")]
pub async fn effective_consent(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let seen = Resource::CaseConsents;
    let view = policy::read_case(&pool, caller, id, seen, move |_, _, access| {
        Ok(effective_view(&access.effective, &access.consents))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Record a consent.
///
/// The stafettholder, or a guardian or the youth digitally for themselves. A consent missing a required
/// giver is recorded but not effective. Replacing a broader consent applies rule 5. A digital consent
/// recorded by a guardian or the youth is signed by them in recording it; the other givers named are
/// told that their signature is awaited.
#[utoipa::path(
    tag = "consents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    request_body = ConsentInput,
    responses(
        (status = 201, description = "Recorded", body = ConsentView, headers(("Location" = String, description = "The consent"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/cases/{id}/consents")]
pub async fn record_consent(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
    body: ValidJson<ConsentInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = body.0;
    let write = Need::Open;
    let view = policy::change_case(&pool, caller, id, write, move |conn, caller, mut access| {
        let settings = crate::municipality::store::get(conn, &caller.tenant)?;
        let valid_until = match input.valid_until {
            Some(v) => v,
            None => input
                .valid_from
                .checked_add_months(Months::new(settings.consent_validity_months as u32))
                .ok_or_else(|| AppError::invalid("valid_from", "is too far in the future"))?,
        };
        check_new_consent(conn, caller, &access, &input, valid_until)?;
        let recorder_name = access
            .me
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_else(|| caller.name.clone());
        let unsigned = policy::consents::unsigned_givers(&access, &input.given_by);
        let consent_id = store::insert(
            conn,
            store::NewConsent {
                case_id: id,
                purpose: &input.purpose,
                valid_from: input.valid_from,
                valid_until,
                form: input.form,
                document_ref: input.document_ref.as_deref(),
                supersedes: input.supersedes,
                recorded_by_user: &caller.user_id,
                recorded_by_name: &recorder_name,
                givers: &input.given_by,
                unsigned: &unsigned,
                services: &input.services,
            },
        )?;
        let event = NotificationEvent::SignatureAwaited;
        let awaited = Notice::by(
            caller,
            event,
            Some(id),
            consent_id,
            Recipients::participants(unsigned.clone()),
        );
        crate::notifications::store::notify(conn, &awaited)?;
        let holder_was_covered = access.effective.covers(access.holder_service());
        access.refresh(conn)?;
        access.changed(
            conn,
            caller,
            Action::Create,
            Resource::CaseConsents,
            ChangeType::ConsentRecorded,
        )?;
        if input.supersedes.is_some() {
            effects::apply_coverage_change(
                conn,
                &mut access.facts,
                holder_was_covered,
                CloseReason::ConsentWithdrawn,
            )?;
        }
        recorded(&access, consent_id)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/cases/{id}/consents/{}", view.id),
        ))
        .json(view))
}

/// Withdraw a consent.
///
/// By one of its givers, or by the stafettholder on a giver's behalf (`on_behalf_of`). Rule 5 applies in
/// the same transaction: professionals of services no longer covered lose access at once, and the case
/// closes if the holder's own service is no longer covered.
#[utoipa::path(
    tag = "consents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("cid" = Uuid, Path, description = "The consent id")),
    request_body = WithdrawRequest,
    responses(
        (status = 200, description = "Withdrawn", body = ConsentView),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/cases/{id}/consents/{cid}/withdraw")]
pub async fn withdraw_consent(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(Uuid, Uuid)>,
    body: ValidJson<WithdrawRequest>,
) -> Result<HttpResponse, AppError> {
    let (id, consent_id) = path.into_inner();
    let req = body.0;
    let write = Need::Reader;
    let view = policy::change_case(&pool, caller, id, write, move |conn, caller, mut access| {
        let consent = access
            .consents
            .iter()
            .find(|c| c.row.id == consent_id)
            .ok_or_else(|| AppError::not_found("consent"))?
            .clone();
        let by = policy::consents::withdrawing_giver(&access, &consent, req.on_behalf_of)?;
        let holder_was_covered = access.effective.covers(access.holder_service());
        store::withdraw(conn, consent_id, by, &req.reason)?;
        access.refresh(conn)?;
        // The feed tells the cause before its effects: the withdrawal, then what it ended.
        access.changed(
            conn,
            caller,
            Action::Withdraw,
            Resource::CaseConsents,
            ChangeType::ConsentWithdrawn,
        )?;
        effects::apply_coverage_change(
            conn,
            &mut access.facts,
            holder_was_covered,
            CloseReason::ConsentWithdrawn,
        )?;
        recorded(&access, consent_id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The view of what the consents cover, with the signatures each digital one still waits for.
fn effective_view(
    e: &super::rules::Effective,
    consents: &[super::store::Consent],
) -> EffectiveConsentView {
    let missing = |id: &Uuid| {
        consents
            .iter()
            .find(|c| c.row.id == *id)
            .map(|c| super::rules::missing_signatures(&c.facts()))
            .unwrap_or_default()
    };
    EffectiveConsentView {
        effective: !e.consent_ids.is_empty(),
        services: e.services.iter().cloned().collect(),
        givers: e.givers.iter().copied().collect(),
        valid_until: e.valid_until,
        consent_ids: e.consent_ids.clone(),
        not_effective: e
            .not_effective
            .iter()
            .map(|(id, reasons)| super::api::NotEffective {
                consent_id: *id,
                reasons: reasons.clone(),
                missing_signatures: missing(id),
            })
            .collect(),
    }
}

/// Sign a digital consent you are named in as a giver.
///
/// A guardian or the subject youth, by national login. Once every named giver has signed, the consent is
/// effective. Signing twice is 409.
#[utoipa::path(
    tag = "consents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("cid" = Uuid, Path, description = "The consent id")),
    responses(
        (status = 200, description = "Signed: the consent as it stands now", body = ConsentView),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/cases/{id}/consents/{cid}/sign")]
pub async fn sign_consent(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (id, consent_id) = path.into_inner();
    let write = Need::Open;
    let view = policy::change_case(&pool, caller, id, write, move |conn, caller, mut access| {
        let consent = access
            .consents
            .iter()
            .find(|c| c.row.id == consent_id)
            .ok_or_else(|| AppError::not_found("consent"))?;
        let signer = policy::consents::signer(&access);
        policy::consents::may_sign(&consent.facts(), consent.row.form, signer, access.today)?;
        let signer = signer.ok_or_else(AppError::internal)?;
        if !store::sign(conn, consent_id, signer)? {
            return Err(AppError::conflict("you have signed this consent already"));
        }
        access.refresh(conn)?;
        access.changed(
            conn,
            caller,
            Action::Sign,
            Resource::CaseConsents,
            ChangeType::ConsentSigned,
        )?;
        recorded(&access, consent_id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
