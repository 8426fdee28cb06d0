//! Who may change a plan, and who may be in one (rule 13 with rules 3 and 8). Everyone who reads the case
//! reads its plans: the guardians and the youth included. Changes need a professional of the case
//! (`Need::Professional`) who is also one of the plan's own people: the stafettholder, a professional of
//! the owning service (so a school keeps working on its aktivitetsplan after the relay moved on), or the
//! plan's coordinator.

use uuid::Uuid;

use super::CaseAccess;
use crate::cases::facts::CaseFacts;
use crate::http::error::AppError;
use crate::participants::api::ParticipantKind;

/// The stafettholder, a professional of `owner_service`, or the coordinator.
pub fn may_change(
    access: &CaseAccess,
    owner_service: &str,
    coordinator: Option<Uuid>,
) -> Result<(), AppError> {
    let me = access.me.as_ref();
    let of_owner = me.is_some_and(|p| p.service.as_deref() == Some(owner_service));
    let coordinates = me.is_some_and(|p| Some(p.id) == coordinator);
    if access.is_holder() || of_owner || coordinates {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "rule 13: a plan is changed by the stafettholder, a professional of its owning service or its coordinator",
        ))
    }
}

/// A plan is started by the stafettholder or by a professional of the service that is to own it.
pub fn may_start(access: &CaseAccess, owner_service: &str) -> Result<(), AppError> {
    may_change(access, owner_service, None)
}

/// Rule 3 for the people of a plan or a meeting: an active participant of the case, and a professional
/// only while their service is in the case (the holder's, or covered by the effective consent). Nobody
/// outside what the family agreed to is drawn in.
pub fn in_coverage(facts: &CaseFacts, field: &str, participant: Uuid) -> Result<(), AppError> {
    let covered = facts.participant(participant).is_some_and(|p| {
        p.active
            && (p.kind != ParticipantKind::Professional
                || p.service
                    .as_deref()
                    .is_some_and(|s| facts.service_in_case(s)))
    });
    if covered {
        Ok(())
    } else {
        Err(AppError::invalid(
            field,
            "is not an active participant of this case whose service the consent covers",
        ))
    }
}

/// A plan's coordinator is a professional of the case (helse- og omsorgstjenesteloven § 7-2 puts the
/// duty on the services), within the consent's coverage.
pub fn may_coordinate(facts: &CaseFacts, participant: Uuid) -> Result<(), AppError> {
    in_coverage(facts, "coordinator", participant)?;
    match facts.participant(participant) {
        Some(p) if p.kind == ParticipantKind::Professional => Ok(()),
        _ => Err(AppError::invalid(
            "coordinator",
            "is not a professional participant of this case",
        )),
    }
}

/// The owning service of a plan works on it, so it must be in the case.
pub fn owner_in_case(facts: &CaseFacts, owner_service: &str) -> Result<(), AppError> {
    if facts.service_in_case(owner_service) {
        Ok(())
    } else {
        Err(AppError::invalid(
            "owner_service",
            format!("`{owner_service}` is neither the stafettholder's service nor covered by the effective consent"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access_log::store::Basis;
    use crate::cases::facts::fixture::{case, guardian, professional};

    fn access_of(facts: CaseFacts, me: Uuid, basis: Basis) -> CaseAccess {
        let me = facts.participant(me).cloned();
        CaseAccess { facts, me, basis }
    }

    #[test]
    fn only_the_holder_the_owning_service_or_the_coordinator_change_a_plan() {
        let holder = professional("h", "helsestasjon");
        let teacher = professional("t", "skole-a");
        let nurse = professional("n", "ppt");
        let facts = case(holder.clone(), vec![teacher.clone(), nurse.clone()]);
        let as_holder = access_of(facts.clone(), holder.id, Basis::HolderService);
        let as_teacher = access_of(facts.clone(), teacher.id, Basis::Consent);
        let as_nurse = access_of(facts, nurse.id, Basis::Consent);
        assert!(may_change(&as_holder, "skole-a", None).is_ok());
        assert!(may_change(&as_teacher, "skole-a", None).is_ok());
        assert!(may_change(&as_nurse, "skole-a", None).is_err());
        assert!(may_change(&as_nurse, "skole-a", Some(nurse.id)).is_ok());
    }

    #[test]
    fn a_guardian_is_in_coverage_but_does_not_coordinate() {
        let holder = professional("h", "helsestasjon");
        let mother = guardian(Some(true));
        let facts = case(holder.clone(), vec![mother.clone()]);
        assert!(in_coverage(&facts, "invitees[0]", mother.id).is_ok());
        assert!(may_coordinate(&facts, mother.id).is_err());
        assert!(may_coordinate(&facts, holder.id).is_ok());
    }

    #[test]
    fn a_professional_outside_the_consent_is_not_drawn_in() {
        let holder = professional("h", "helsestasjon");
        let outside = professional("o", "bup");
        let facts = case(holder, vec![outside.clone()]);
        let e = in_coverage(&facts, "participant_id", outside.id).unwrap_err();
        assert_eq!(e.errors[0].field, "participant_id");
        assert!(owner_in_case(&facts, "bup").is_err());
        assert!(owner_in_case(&facts, "helsestasjon").is_ok());
    }
}
