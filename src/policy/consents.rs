//! Who may record, replace, withdraw and sign a consent (rules 3 and 4). Consents are recorded by the
//! stafettholder, or digitally by a guardian or the subject youth for themselves (the other givers named
//! then sign it themselves, recognised by their national login); nobody signs for another, not the
//! stafettholder, not the other guardian. A consent is withdrawn by one of its givers, or by the holder on
//! a giver's behalf; replacing a consent is a way of withdrawing it.

use chrono::NaiveDate;
use uuid::Uuid;

use super::CaseAccess;
use crate::access_log::store::Basis;
use crate::consents::api::{ConsentForm, ConsentInput};
use crate::consents::rules::{self, ConsentFacts, ConsentState};
use crate::consents::store::Consent;
use crate::http::error::AppError;

/// Who may record this consent: the holder any consent; a guardian or the youth a digital one that names
/// them among its givers.
pub fn may_record(access: &CaseAccess, input: &ConsentInput) -> Result<(), AppError> {
    if access.is_holder() {
        return Ok(());
    }
    if !national_login(access) {
        return Err(AppError::forbidden(
            "consents are recorded by the stafettholder or digitally by a guardian",
        ));
    }
    // A national login signs for one person: the recorder signs by recording, every other giver
    // named signs themselves.
    let me = access.actor()?;
    if input.form != ConsentForm::Digital {
        return Err(AppError::invalid(
            "form",
            "a consent recorded by a guardian or youth is `digital`",
        ));
    }
    if !input.given_by.contains(&me.id) {
        return Err(AppError::invalid(
            "given_by",
            "a digital consent you record names you among its givers; the others sign it themselves",
        ));
    }
    if input.given_by.len() > 1 && input.supersedes.is_some() {
        return Err(AppError::invalid(
            "supersedes",
            "a consent that still needs other givers' signatures cannot replace one yet: \
             withdraw the old one, or let the stafettholder record the replacement",
        ));
    }
    Ok(())
}

/// Replacing is a way of withdrawing: only a giver of the old consent (or the holder) may.
pub fn may_replace(access: &CaseAccess, old: &Consent) -> Result<(), AppError> {
    let my_id = access.me.as_ref().map(|p| p.id);
    if access.is_holder() || my_id.is_some_and(|me| old.givers.contains(&me)) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only a giver of a consent, or the stafettholder, may replace it",
        ))
    }
}

/// The givers a recorded consent still waits for: a guardian's or youth's digital consent is signed by
/// its recorder by recording it, every other giver signs it themselves.
pub fn unsigned_givers(access: &CaseAccess, given_by: &[Uuid]) -> Vec<Uuid> {
    if !national_login(access) {
        return vec![];
    }
    let me = access.me.as_ref().map(|p| p.id);
    given_by
        .iter()
        .filter(|g| Some(**g) != me)
        .copied()
        .collect()
}

/// The giver in whose name the consent is withdrawn: the caller when they gave it, or, for the holder,
/// the giver named in `on_behalf_of`.
pub fn withdrawing_giver(
    access: &CaseAccess,
    consent: &Consent,
    on_behalf_of: Option<Uuid>,
) -> Result<Uuid, AppError> {
    if let Some(me) = access
        .me
        .as_ref()
        .filter(|me| consent.givers.contains(&me.id))
    {
        return match on_behalf_of {
            Some(other) if other != me.id && !access.is_holder() => Err(AppError::forbidden(
                "a giver withdraws only their own consent",
            )),
            Some(other) => Ok(other),
            None => Ok(me.id),
        };
    }
    if access.is_holder() {
        let giver = on_behalf_of.ok_or_else(|| {
            AppError::invalid(
                "on_behalf_of",
                "required when the stafettholder withdraws for a giver",
            )
        })?;
        if !consent.givers.contains(&giver) {
            return Err(AppError::invalid(
                "on_behalf_of",
                "is not one of the givers of this consent",
            ));
        }
        return Ok(giver);
    }
    Err(AppError::forbidden(
        "a consent is withdrawn by one of its givers, or by the stafettholder on their behalf",
    ))
}

/// The participant who signs, if the caller signs at all: a signature is the giver's own, so only a
/// national login recognised as that participant.
pub fn signer(access: &CaseAccess) -> Option<Uuid> {
    if national_login(access) {
        access.me.as_ref().map(|p| p.id)
    } else {
        None
    }
}

fn national_login(access: &CaseAccess) -> bool {
    matches!(access.basis, Basis::Guardian | Basis::SubjectYouth)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn access_as(
        me: &crate::participants::store::ParticipantRow,
        basis: Basis,
        facts: &crate::cases::facts::CaseFacts,
    ) -> CaseAccess {
        CaseAccess {
            facts: facts.clone(),
            me: Some(me.clone()),
            basis,
        }
    }

    fn consent_by(given_by: Vec<Uuid>, form: ConsentForm) -> ConsentInput {
        ConsentInput {
            given_by,
            services: vec!["ppt".into()],
            purpose: "Samarbeid om tiltak".into(),
            valid_from: d("2026-05-01"),
            valid_until: None,
            form,
            document_ref: None,
            supersedes: None,
        }
    }

    #[test]
    fn rule_4_the_holder_records_any_consent_a_guardian_a_digital_one_naming_themselves() {
        use crate::cases::facts::fixture::{case, guardian, professional};
        use crate::http::error::ProblemType;
        let (ola, kari, mother, father) = (
            professional("ola", "skole"),
            professional("kari", "helsestasjon"),
            guardian(Some(true)),
            guardian(Some(true)),
        );
        let facts = case(
            ola.clone(),
            vec![kari.clone(), mother.clone(), father.clone()],
        );
        let holder = access_as(&ola, Basis::HolderService, &facts);
        let colleague = access_as(&kari, Basis::Consent, &facts);
        let parent = access_as(&mother, Basis::Guardian, &facts);
        let both = consent_by(vec![mother.id, father.id], ConsentForm::Written);
        assert!(may_record(&holder, &both).is_ok());
        assert_eq!(
            may_record(&colleague, &both).unwrap_err().kind,
            ProblemType::Forbidden
        );
        assert_eq!(
            may_record(&parent, &both).unwrap_err().errors[0].field,
            "form"
        );
        let digital = consent_by(vec![father.id], ConsentForm::Digital);
        assert_eq!(
            may_record(&parent, &digital).unwrap_err().errors[0].field,
            "given_by"
        );
        let digital = consent_by(vec![mother.id, father.id], ConsentForm::Digital);
        assert!(may_record(&parent, &digital).is_ok());
        // The recorder signs by recording; the other guardian signs herself, the holder for nobody.
        assert_eq!(unsigned_givers(&parent, &digital.given_by), vec![father.id]);
        assert!(unsigned_givers(&holder, &digital.given_by).is_empty());
        assert_eq!(signer(&parent), Some(mother.id));
        assert_eq!(signer(&holder), None);
    }

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
