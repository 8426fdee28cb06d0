//! The participants, each as its own API would take it, and the stafettholder with the history of
//! holders (rule 6).

use std::collections::HashSet;

use super::{err, person, service_known, People, Services};
use crate::cases::api::CaseStatus;
use crate::documents::api::*;
use crate::documents::import::periods_of;
use crate::http::error::AppError;
use crate::participants::api::ParticipantKind;

pub(super) fn check_participants<'d>(
    participants: &'d [ParticipantRecord],
    services: &Services,
) -> Result<People<'d>, AppError> {
    for (i, p) in participants.iter().enumerate() {
        check_participant(i, p, services)?;
    }
    let mut active_users = HashSet::new();
    for (i, p) in participants.iter().enumerate() {
        if p.active
            && p.kind == ParticipantKind::Professional
            && !active_users.insert(p.user_id.as_deref())
        {
            return Err(err(
                format!("participants[{i}].user_id"),
                "is an active professional of the case twice",
            ));
        }
    }
    let youths = participants
        .iter()
        .filter(|p| p.active && p.kind == ParticipantKind::Youth)
        .count();
    if youths > 1 {
        return Err(err("participants", "a case has one subject youth"));
    }
    Ok(participants.iter().map(|p| (p.id.as_str(), p)).collect())
}

/// What each kind of participant needs, as the participants' own API asks for it.
fn check_participant(i: usize, p: &ParticipantRecord, services: &Services) -> Result<(), AppError> {
    let at = |f: &str| format!("participants[{i}].{f}");
    match p.kind {
        ParticipantKind::Professional => {
            let service = p
                .service
                .as_deref()
                .ok_or_else(|| err(at("service"), "a professional has a service"))?;
            if p.user_id.is_none() {
                return Err(err(at("user_id"), "a professional has a user id"));
            }
            service_known(services, at("service"), service)?;
        }
        // No parental responsibility (`None`) is a guardian who joined from their own inquiry and whom
        // the stafettholder has not confirmed yet: exported so, imported so.
        ParticipantKind::Guardian if p.relation.is_none() => {
            return Err(err(at("relation"), "a guardian has a relation"));
        }
        ParticipantKind::Other if p.role.is_none() => {
            return Err(err(at("role"), "another person has a role"))
        }
        _ => {}
    }
    if p.active == p.left_at.is_some() {
        return Err(err(
            at("left_at"),
            "an active participant has no left_at; one who left has it",
        ));
    }
    Ok(())
}

/// Rule 6: one holder, an active professional while the case is open.
pub(super) fn check_holder<'d>(
    doc: &'d CaseDocument,
    people: &People<'d>,
) -> Result<&'d ParticipantRecord, AppError> {
    let open = doc.case.status == CaseStatus::Open;
    let holder = person(people, "holder".into(), &doc.holder)?;
    if holder.kind != ParticipantKind::Professional || (open && !holder.active) {
        return Err(err(
            "holder",
            "rule 6: the stafettholder is an active professional participant",
        ));
    }
    check_holder_periods(doc, people)?;
    Ok(holder)
}

/// Rule 6 over time: a history of holders without gap or overlap, ending with the holder of today.
fn check_holder_periods(doc: &CaseDocument, people: &People) -> Result<(), AppError> {
    let open = doc.case.status == CaseStatus::Open;
    let periods = periods_of(doc);
    for (i, p) in periods.iter().enumerate() {
        person(
            people,
            format!("holder_periods[{i}].participant_id"),
            &p.participant_id,
        )?;
        if p.to.is_some_and(|to| to <= p.from) {
            return Err(err(
                format!("holder_periods[{i}].to"),
                "ends before it starts",
            ));
        }
        if i > 0 && periods[i - 1].to != Some(p.from) {
            return Err(err(
                format!("holder_periods[{i}].from"),
                "rule 6: each period starts exactly when the one before ends",
            ));
        }
    }
    let last = periods.last().expect("at least one");
    if open && (last.to.is_some() || last.participant_id != doc.holder) {
        return Err(err(
            "holder_periods",
            "rule 6: an open case's last period is the holder's, still running",
        ));
    }
    if !open && last.to.is_none() {
        return Err(err(
            "holder_periods",
            "a closed case has no running holder period",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::import::check::tests::refused;
    use crate::documents::import::fixture::closed;

    #[test]
    fn a_professional_without_a_service_is_refused() {
        assert_eq!(
            refused(|d| d.participants[1].service = None),
            "participants[1].service"
        );
        assert_eq!(
            refused(|d| d.participants[1].service = Some("bup".into())),
            "participants[1].service"
        );
    }

    #[test]
    fn a_guardian_without_a_relation_is_refused() {
        assert_eq!(
            refused(|d| d.participants[2].relation = None),
            "participants[2].relation"
        );
    }

    #[test]
    fn another_person_without_a_role_is_refused() {
        assert_eq!(
            refused(|d| d.participants[4].role = None),
            "participants[4].role"
        );
    }

    #[test]
    fn an_active_participant_who_left_is_refused() {
        assert_eq!(
            refused(|d| d.participants[4].left_at = Some(d.case.opened_at)),
            "participants[4].left_at"
        );
    }

    #[test]
    fn the_same_professional_active_twice_is_refused() {
        assert_eq!(
            refused(|d| d.participants[1].user_id = Some("ola".into())),
            "participants[1].user_id"
        );
    }

    #[test]
    fn two_subject_youths_are_refused() {
        assert_eq!(
            refused(|d| {
                for p in &mut d.participants[3..] {
                    p.kind = ParticipantKind::Youth;
                }
            }),
            "participants"
        );
    }

    #[test]
    fn a_holder_who_is_not_a_participant_is_refused() {
        assert_eq!(refused(|d| d.holder = "nobody".into()), "holder");
    }

    #[test]
    fn a_guardian_as_holder_is_refused() {
        assert_eq!(refused(|d| d.holder = "mor".into()), "holder");
    }

    #[test]
    fn a_document_with_two_holders_is_refused() {
        let overlapping = |d: &mut CaseDocument| {
            let start = d.case.opened_at;
            let both = |who: &str, to| HolderPeriodRecord {
                participant_id: who.into(),
                from: start,
                to,
            };
            d.holder_periods = vec![
                both("pia", Some(start + chrono::TimeDelta::days(2))),
                both("ola", None),
            ];
        };
        assert_eq!(refused(overlapping), "holder_periods[1].from");
    }

    #[test]
    fn an_open_case_whose_holder_period_has_ended_is_refused() {
        assert_eq!(
            refused(|d| {
                let start = d.case.opened_at;
                d.holder_periods = vec![HolderPeriodRecord {
                    participant_id: "ola".into(),
                    from: start,
                    to: Some(start + chrono::TimeDelta::days(1)),
                }];
            }),
            "holder_periods"
        );
    }

    #[test]
    fn a_closed_case_with_a_running_holder_period_is_refused() {
        assert_eq!(
            refused(|d| {
                closed(d);
                d.holder_periods = vec![HolderPeriodRecord {
                    participant_id: "ola".into(),
                    from: d.case.opened_at,
                    to: None,
                }];
            }),
            "holder_periods"
        );
    }
}
