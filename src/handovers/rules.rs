//! The rules of passing the relay (rules 3 and 6), as plain functions of the case's facts: to whom a
//! reassignment may go. Who may pass it is `crate::policy::handovers` and `crate::policy::leaders`.

use crate::access_log::store::Resource;
use crate::auth::Caller;
use crate::cases::facts::CaseFacts;
use crate::http::error::AppError;

use super::api::{HandoverInput, ReassignInput, ReassignReason};

/// A leader's reassignment: rule 3 and the plain conflicts, before anything is written.
pub fn check_reassign(
    caller: &Caller,
    facts: &CaseFacts,
    input: &ReassignInput,
    service_is_active: bool,
    to_is_leaving: bool,
) -> Result<(), AppError> {
    // The holder must be able to coordinate: a leader who is only a leader cannot hold the relay.
    if input.to.user_id == caller.user_id && !caller.has_role(crate::auth::Role::Professional) {
        return Err(AppError::conflict(
            "the relay passes to a professional: your token leads the service but does not work in it",
        ));
    }
    if facts.case.status != crate::cases::api::CaseStatus::Open {
        return Err(AppError::conflict(
            "the case is closed and can no longer be changed",
        ));
    }
    let to = &input.to;
    if !service_is_active {
        return Err(AppError::invalid(
            "to.service",
            format!(
                "`{}` is not an active service of the municipality",
                to.service
            ),
        ));
    }
    let holder = facts.holder();
    if holder.user_id.as_deref() == Some(to.user_id.as_str())
        && holder.service.as_deref() == Some(to.service.as_str())
    {
        return Err(AppError::conflict(
            "this professional already holds the relay",
        ));
    }
    if !facts.service_in_case(&to.service) {
        return Err(AppError::conflict(format!(
            "rule 3: no effective consent covers the service `{}`; the role can only pass to a covered service",
            to.service
        )));
    }
    if to_is_leaving {
        return Err(AppError::conflict(
            "the municipality has registered this professional as departed (or leaving)",
        ));
    }
    Ok(())
}

/// The holder's proposal: to an active service, to someone else, not to a professional who is leaving,
/// answered by a date not past, and rule 3 (to the holder's service or one the consent covers).
pub fn check_proposal(
    caller: &Caller,
    facts: &CaseFacts,
    input: &HandoverInput,
    service_is_active: bool,
    to_is_leaving: bool,
) -> Result<(), AppError> {
    let to = &input.to;
    if !service_is_active {
        return Err(AppError::invalid(
            "to.service",
            format!(
                "`{}` is not an active service of the municipality",
                to.service
            ),
        ));
    }
    if to.user_id == caller.user_id {
        return Err(AppError::invalid(
            "to.user_id",
            "you already hold the relay",
        ));
    }
    if to_is_leaving {
        return Err(AppError::conflict(
            "the municipality has registered this professional as departed (or leaving): propose to someone else",
        ));
    }
    if input.answer_by.is_some_and(|d| d < facts.today) {
        return Err(AppError::invalid("answer_by", "is in the past"));
    }
    if !facts.service_in_case(&to.service) {
        return Err(AppError::conflict(format!(
            "rule 3: no effective consent covers the service `{}`; the role can only pass to a covered service",
            to.service
        )));
    }
    Ok(())
}

/// The access log names the reason with the resource, so the family reads why the relay moved.
pub fn logged_as(reason: ReassignReason) -> Resource {
    match reason {
        ReassignReason::Absence => Resource::CaseHolderAbsence,
        ReassignReason::Left => Resource::CaseHolderLeft,
        ReassignReason::Workload => Resource::CaseHolderWorkload,
        ReassignReason::Other => Resource::CaseHolderOther,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use crate::cases::facts::fixture::{case, professional};
    use crate::handovers::api::{HandoverReason, HandoverTo};
    use crate::http::error::ProblemType;

    fn to(user_id: &str, service: &str) -> ReassignInput {
        ReassignInput {
            to: HandoverTo {
                user_id: user_id.into(),
                name: "Testperson".into(),
                service: service.into(),
            },
            reason: ReassignReason::Absence,
            note: None,
        }
    }

    fn kind(r: Result<(), AppError>) -> Option<ProblemType> {
        r.err().map(|e| e.kind)
    }

    #[test]
    fn rule_3_a_leader_reassigns_the_relay_only_within_the_services_in_the_case() {
        let lea = Caller::for_tests("3805", "lea", &[Role::Leader], &["skole"]);
        let facts = case(professional("ola", "skole"), vec![]);
        assert_eq!(
            kind(check_reassign(
                &lea,
                &facts,
                &to("kari", "skole"),
                true,
                false
            )),
            None
        );
        assert_eq!(
            kind(check_reassign(
                &lea,
                &facts,
                &to("kari", "ppt"),
                true,
                false
            )),
            Some(ProblemType::Conflict)
        );
    }

    #[test]
    fn the_relay_goes_to_a_working_professional_who_does_not_hold_it_already() {
        let lea = Caller::for_tests("3805", "lea", &[Role::Leader], &["skole"]);
        let facts = case(professional("ola", "skole"), vec![]);
        let refused = |input: &ReassignInput, active, leaving| {
            kind(check_reassign(&lea, &facts, input, active, leaving))
        };
        let expected = [
            (to("lea", "skole"), true, false, ProblemType::Conflict),
            (to("ola", "skole"), true, false, ProblemType::Conflict),
            (to("kari", "skole"), true, true, ProblemType::Conflict),
            (to("kari", "skole"), false, false, ProblemType::Validation),
        ];
        for (input, active, leaving, problem) in expected {
            assert_eq!(
                refused(&input, active, leaving),
                Some(problem),
                "{:?}",
                input.to
            );
        }
    }

    #[test]
    fn the_access_log_names_the_reason_of_a_reassignment_as_it_always_has() {
        use strum::VariantArray;
        for reason in ReassignReason::VARIANTS {
            assert_eq!(
                logged_as(*reason).as_str(),
                format!("case.holder (reason: {})", reason.as_str())
            );
        }
    }

    #[test]
    fn rule_3_the_holder_proposes_only_to_an_active_covered_service_and_someone_else() {
        let ola = Caller::for_tests("3805", "ola", &[Role::Professional], &["skole"]);
        let facts = case(professional("ola", "skole"), vec![]);
        let proposal = |user_id: &str, service: &str| HandoverInput {
            to: to(user_id, service).to,
            reason: HandoverReason::Other,
            note: None,
            answer_by: None,
            previous_holder_leaves: false,
        };
        let refused = |input: &HandoverInput, active, leaving| {
            kind(check_proposal(&ola, &facts, input, active, leaving))
        };
        assert_eq!(refused(&proposal("kari", "skole"), true, false), None);
        let expected = [
            (proposal("kari", "ppt"), true, false, ProblemType::Conflict),
            (
                proposal("ola", "skole"),
                true,
                false,
                ProblemType::Validation,
            ),
            (proposal("kari", "skole"), true, true, ProblemType::Conflict),
            (
                proposal("kari", "skole"),
                false,
                false,
                ProblemType::Validation,
            ),
        ];
        for (input, active, leaving, problem) in expected {
            assert_eq!(
                refused(&input, active, leaving),
                Some(problem),
                "{:?}",
                input.to
            );
        }
    }
}
