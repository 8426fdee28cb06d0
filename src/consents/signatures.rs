//! Co-signed digital consent. A guardian records a digital consent naming every giver
//! the rule requires; it is `pending_signatures`, and not effective, until each named giver has signed it
//! themselves, recognised by their national login. Nobody signs for another: not the stafettholder, not
//! the other guardian.

use actix_web::{post, web, HttpResponse};
use chrono::NaiveDate;
use uuid::Uuid;

use super::api::{ConsentForm, ConsentView};
use super::rules::{self, ConsentFacts, ConsentState};
use super::store;
use crate::access_log::store::Action;
use crate::access_log::store::Basis;
use crate::access_log::store::Resource;
use crate::auth::Caller;
use crate::changes::api::ChangeType;
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::policy;

/// Whether `signer` (the caller's participant id, if they are one) may sign this consent today.
pub fn may_sign(
    c: &ConsentFacts,
    form: ConsentForm,
    signer: Option<Uuid>,
    today: NaiveDate,
) -> Result<(), AppError> {
    if form != ConsentForm::Digital {
        return Err(AppError::conflict(
            "only a digital consent is signed here: a written or oral one was recorded as given by all",
        ));
    }
    match rules::state(c, today) {
        ConsentState::Withdrawn | ConsentState::Superseded | ConsentState::Expired => {
            return Err(AppError::conflict(
                "the consent was withdrawn, replaced or has expired: it can no longer be signed",
            ))
        }
        ConsentState::Active | ConsentState::PendingSignatures => {}
    }
    let Some(me) = signer.filter(|me| c.givers.contains(me)) else {
        return Err(AppError::forbidden(
            "only a giver named in the consent's given_by signs it, for themselves",
        ));
    };
    if c.signed.contains(&me) {
        return Err(AppError::conflict("you have signed this consent already"));
    }
    Ok(())
}

/// Sign a digital consent you are named in as a giver (a guardian or the subject youth, by national
/// login). Once every named giver has signed, the consent is effective.
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
    let view = db::transaction_for_case(&pool, caller.session(), id, move |conn| {
        let mut access = policy::case_for_write(conn, &caller, id)?;
        access.require_open()?;
        let consent = access
            .consents
            .iter()
            .find(|c| c.row.id == consent_id)
            .ok_or_else(|| AppError::not_found("consent"))?;
        // A signature is the giver's own: only a national login recognised as that participant.
        let signer = match access.basis {
            Basis::Guardian | Basis::SubjectYouth => access.me.as_ref().map(|p| p.id),
            _ => None,
        };
        may_sign(&consent.facts(), consent.row.form, signer, access.today)?;
        let signer = signer.ok_or_else(AppError::internal)?;
        if !store::sign(conn, consent_id, signer)? {
            return Err(AppError::conflict("you have signed this consent already"));
        }
        access.refresh(conn)?;
        access.changed(
            conn,
            &caller,
            Action::Sign,
            Resource::CaseConsents,
            ChangeType::ConsentSigned,
        )?;
        let consent = access
            .consents
            .iter()
            .find(|c| c.row.id == consent_id)
            .ok_or_else(AppError::internal)?;
        Ok(super::handlers::view(consent, access.today))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn pending(mother: Uuid, father: Uuid) -> ConsentFacts {
        ConsentFacts {
            id: Uuid::now_v7(),
            case_id: Uuid::nil(),
            givers: vec![mother, father],
            signed: vec![mother],
            services: vec!["ppt".into()],
            valid_from: d("2026-01-01"),
            valid_until: d("2026-12-31"),
            withdrawn: false,
            superseded: false,
        }
    }

    #[test]
    fn a_named_giver_signs_once_and_only_for_themselves() {
        let (mother, father, aunt) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let c = pending(mother, father);
        let today = d("2026-06-01");
        assert!(may_sign(&c, ConsentForm::Digital, Some(father), today).is_ok());
        assert_eq!(
            may_sign(&c, ConsentForm::Digital, Some(mother), today)
                .unwrap_err()
                .kind
                .status()
                .as_u16(),
            409
        );
        assert_eq!(
            may_sign(&c, ConsentForm::Digital, Some(aunt), today)
                .unwrap_err()
                .kind
                .status()
                .as_u16(),
            403
        );
        assert_eq!(
            may_sign(&c, ConsentForm::Digital, None, today)
                .unwrap_err()
                .kind
                .status()
                .as_u16(),
            403
        );
    }

    #[test]
    fn a_withdrawn_or_paper_consent_takes_no_signature() {
        let (mother, father) = (Uuid::now_v7(), Uuid::now_v7());
        let today = d("2026-06-01");
        let mut c = pending(mother, father);
        assert_eq!(
            may_sign(&c, ConsentForm::Written, Some(father), today)
                .unwrap_err()
                .kind
                .status()
                .as_u16(),
            409
        );
        c.withdrawn = true;
        assert_eq!(
            may_sign(&c, ConsentForm::Digital, Some(father), today)
                .unwrap_err()
                .kind
                .status()
                .as_u16(),
            409
        );
    }
}
