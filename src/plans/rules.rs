//! Rule 13 (plans beside the log) as plain functions: which service owns which kind of plan, what an
//! individual plan needs before it is in force, the states, and what closing a case into a plan needs.

use super::api::{PlanKind, PlanState};
use crate::http::error::AppError;
use crate::services::api::ServiceKind;
use chrono::NaiveDate;

/// An iop and an aktivitetsplan belong to a school, an iup to a kindergarten; an ip to any service (the
/// municipality decides who coordinates individual plans).
pub fn owner_fits_kind(kind: PlanKind, owner: ServiceKind) -> Result<(), AppError> {
    let needed = match kind {
        PlanKind::Iop | PlanKind::Aktivitetsplan => Some(ServiceKind::Skole),
        PlanKind::Iup => Some(ServiceKind::Barnehage),
        PlanKind::Ip => None,
    };
    match needed {
        Some(needed) if needed != owner => Err(AppError::invalid(
            "owner_service",
            format!(
                "rule 13: an {} is owned by a `{}`, not a `{}`",
                kind.as_str(),
                needed.as_str(),
                owner.as_str()
            ),
        )),
        _ => Ok(()),
    }
}

/// Helse- og omsorgstjenesteloven § 7-2: an individual plan has a coordinator before it is in force.
pub fn ip_needs_a_coordinator_to_be_active(
    kind: PlanKind,
    state: PlanState,
    coordinator: Option<uuid::Uuid>,
) -> Result<(), AppError> {
    if kind == PlanKind::Ip && state == PlanState::Active && coordinator.is_none() {
        Err(AppError::conflict(
            "rule 13: an individual plan (ip) needs a coordinator before it is active; set `coordinator` first",
        ))
    } else {
        Ok(())
    }
}

/// An aktivitetsplan is the school's duty under the Education Act: it stays with its school, whoever
/// holds the relay, and is never handed to another service.
pub fn activity_plan_stays_with_its_school(
    kind: PlanKind,
    owner: &str,
    new_owner: &str,
) -> Result<(), AppError> {
    if kind == PlanKind::Aktivitetsplan && owner != new_owner {
        Err(AppError::conflict(
            "rule 13: an aktivitetsplan stays with its school and cannot be handed to another service",
        ))
    } else {
        Ok(())
    }
}

/// draft -> active -> ended, and a draft may end without having been in force. An ended plan is kept as
/// it was.
pub fn check_transition(from: PlanState, to: PlanState) -> Result<(), AppError> {
    use PlanState::*;
    match (from, to) {
        (Draft, Active) | (Draft, Ended) | (Active, Ended) => Ok(()),
        _ => Err(AppError::conflict(format!(
            "a plan moves draft -> active -> ended; not {} -> {}",
            from.as_str(),
            to.as_str()
        ))),
    }
}

/// An ended plan is the record of what was planned: it no longer changes.
pub fn ended_plans_do_not_change(state: PlanState) -> Result<(), AppError> {
    if state == PlanState::Ended {
        Err(AppError::conflict(
            "the plan has ended and can no longer change",
        ))
    } else {
        Ok(())
    }
}

pub fn check_period(starts_on: NaiveDate, ends_on: Option<NaiveDate>) -> Result<(), AppError> {
    match ends_on {
        Some(end) if end < starts_on => Err(AppError::invalid("ends_on", "is before starts_on")),
        _ => Ok(()),
    }
}

/// Closing a case as `moved_to_individual_plan` says the follow-up goes on in a plan: one of the case's
/// individual plans (ip, iop or iup) must be active. An aktivitetsplan is the school's, not a plan the
/// relay moves into.
pub fn moving_to_a_plan_needs_an_active_plan(
    plans: &[(PlanKind, PlanState)],
) -> Result<(), AppError> {
    let moved = plans.iter().any(|(kind, state)| {
        *state == PlanState::Active && matches!(kind, PlanKind::Ip | PlanKind::Iop | PlanKind::Iup)
    });
    if moved {
        Ok(())
    } else {
        Err(AppError::conflict(
            "rule 13: closing as `moved_to_individual_plan` needs an active ip, iop or iup in the case",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::error::ProblemType;
    use crate::plans::api::{check_goals as goals, MAX_GOAL_LENGTH};

    fn kind_of(e: AppError) -> ProblemType {
        e.kind
    }

    #[test]
    fn an_iop_and_an_activity_plan_belong_to_a_school() {
        for kind in [PlanKind::Iop, PlanKind::Aktivitetsplan] {
            assert!(owner_fits_kind(kind, ServiceKind::Skole).is_ok());
            let e = owner_fits_kind(kind, ServiceKind::Ppt).unwrap_err();
            assert_eq!(e.errors[0].field, "owner_service");
        }
    }

    #[test]
    fn an_iup_belongs_to_a_kindergarten() {
        assert!(owner_fits_kind(PlanKind::Iup, ServiceKind::Barnehage).is_ok());
        assert!(owner_fits_kind(PlanKind::Iup, ServiceKind::Skole).is_err());
    }

    #[test]
    fn an_individual_plan_may_belong_to_any_service() {
        for owner in [
            ServiceKind::Helsestasjon,
            ServiceKind::KoordinerendeEnhet,
            ServiceKind::Nav,
        ] {
            assert!(owner_fits_kind(PlanKind::Ip, owner).is_ok());
        }
    }

    #[test]
    fn an_ip_needs_a_coordinator_to_be_active() {
        let someone = Some(uuid::Uuid::nil());
        assert!(ip_needs_a_coordinator_to_be_active(PlanKind::Ip, PlanState::Draft, None).is_ok());
        let e = ip_needs_a_coordinator_to_be_active(PlanKind::Ip, PlanState::Active, None);
        assert_eq!(kind_of(e.unwrap_err()), ProblemType::Conflict);
        assert!(
            ip_needs_a_coordinator_to_be_active(PlanKind::Ip, PlanState::Active, someone).is_ok()
        );
        assert!(
            ip_needs_a_coordinator_to_be_active(PlanKind::Iop, PlanState::Active, None).is_ok()
        );
    }

    #[test]
    fn an_activity_plan_stays_with_its_school() {
        let moved = activity_plan_stays_with_its_school(PlanKind::Aktivitetsplan, "skole-a", "ppt");
        assert_eq!(kind_of(moved.unwrap_err()), ProblemType::Conflict);
        assert!(activity_plan_stays_with_its_school(
            PlanKind::Aktivitetsplan,
            "skole-a",
            "skole-a"
        )
        .is_ok());
        assert!(activity_plan_stays_with_its_school(PlanKind::Ip, "helse", "ppt").is_ok());
    }

    #[test]
    fn a_plan_moves_from_draft_to_active_to_ended() {
        use PlanState::*;
        assert!(check_transition(Draft, Active).is_ok());
        assert!(check_transition(Active, Ended).is_ok());
        assert!(check_transition(Draft, Ended).is_ok());
        for (from, to) in [
            (Active, Draft),
            (Ended, Active),
            (Ended, Draft),
            (Active, Active),
            (Ended, Ended),
        ] {
            assert!(check_transition(from, to).is_err(), "{from:?} -> {to:?}");
        }
    }

    #[test]
    fn ended_plans_do_not_change_once_ended() {
        assert!(ended_plans_do_not_change(PlanState::Ended).is_err());
        assert!(ended_plans_do_not_change(PlanState::Active).is_ok());
    }

    #[test]
    fn a_plan_ends_on_or_after_it_starts() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert!(check_period(d("2027-01-01"), None).is_ok());
        assert!(check_period(d("2027-01-01"), Some(d("2027-01-01"))).is_ok());
        let e = check_period(d("2027-01-02"), Some(d("2027-01-01"))).unwrap_err();
        assert_eq!(e.errors[0].field, "ends_on");
    }

    #[test]
    fn moving_to_a_plan_needs_an_active_ip_iop_or_iup() {
        use PlanKind::*;
        use PlanState::*;
        assert!(moving_to_a_plan_needs_an_active_plan(&[]).is_err());
        assert!(moving_to_a_plan_needs_an_active_plan(&[(Ip, Draft), (Iop, Ended)]).is_err());
        assert!(moving_to_a_plan_needs_an_active_plan(&[(Aktivitetsplan, Active)]).is_err());
        for kind in [Ip, Iop, Iup] {
            assert!(moving_to_a_plan_needs_an_active_plan(&[(kind, Active)]).is_ok());
        }
    }

    #[test]
    fn goals_are_lines_of_text_within_their_length() {
        assert!(goals(&["Trives i klassen".into()]).is_ok());
        assert!(goals(&["  ".into()]).is_err());
        assert!(goals(&["x".repeat(MAX_GOAL_LENGTH + 1)]).is_err());
    }
}
