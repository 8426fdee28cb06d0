//! The case's course: measures and their evaluations, the level history and the level-0 decisions, the
//! earlier closings, handovers and reassignments of the relay, and the log.

use std::collections::HashSet;

use super::{err, person, service_known, People, Services};
use crate::cases::api::CaseStatus;
use crate::documents::api::*;
use crate::handovers::api::HandoverState;
use crate::http::error::AppError;
use crate::measures::api::Outcome;
use crate::participants::api::ParticipantKind;

/// Rule 7: measures with one responsible party in the case, a deadline, and sound evaluations.
pub(super) fn check_measures(
    measures: &[MeasureRecord],
    people: &People,
    services: &Services,
) -> Result<(), AppError> {
    for (i, m) in measures.iter().enumerate() {
        let at = |f: &str| format!("measures[{i}].{f}");
        match &m.responsible {
            ResponsibleRecord::Service { service } => {
                service_known(services, at("responsible.service"), service)?
            }
            ResponsibleRecord::Participant { participant_id } => {
                let field = at("responsible.participant_id");
                let p = person(people, field.clone(), participant_id)?;
                if !matches!(
                    p.kind,
                    ParticipantKind::Professional | ParticipantKind::Guardian
                ) {
                    return Err(err(field, "is a professional or a guardian"));
                }
            }
            ResponsibleRecord::Subject => {}
        }
        if m.evaluate_by < m.start_date {
            return Err(err(at("evaluate_by"), "is before start_date"));
        }
        check_evaluations(i, &m.evaluations, people)?;
    }
    Ok(())
}

fn check_evaluations(
    i: usize,
    evaluations: &[EvaluationRecord],
    people: &People,
) -> Result<(), AppError> {
    for (j, e) in evaluations.iter().enumerate() {
        let at = |f: &str| format!("measures[{i}].evaluations[{j}].{f}");
        person(people, at("evaluated_by"), &e.evaluated_by)?;
        let continues = matches!(e.outcome, Outcome::Continue | Outcome::Adjust);
        if continues != e.next_evaluate_by.is_some() {
            return Err(err(
                at("next_evaluate_by"),
                "is given exactly when the outcome is continue or adjust",
            ));
        }
    }
    Ok(())
}

/// The level history leads to the case's level, one real move at a time.
pub(super) fn check_level_changes(doc: &CaseDocument, people: &People) -> Result<(), AppError> {
    for (i, l) in doc.level_changes.iter().enumerate() {
        if l.from_level == l.to_level {
            return Err(err(
                format!("level_changes[{i}].to_level"),
                "equals from_level",
            ));
        }
        person(
            people,
            format!("level_changes[{i}].recorded_by"),
            &l.recorded_by,
        )?;
    }
    match doc.level_changes.last() {
        Some(l) if l.to_level != doc.case.level => {
            Err(err("case.level", "is not where the last level change went"))
        }
        _ => Ok(()),
    }
}

/// A unit leader moved the relay from one professional of the case to another (whose participation is
/// the one of the service named), by today; the moves are listed oldest first.
pub(super) fn check_reassignments(
    reassignments: &[ReassignmentRecord],
    people: &People,
) -> Result<(), AppError> {
    let today = crate::clock::today();
    for (i, r) in reassignments.iter().enumerate() {
        let at = |f: &str| format!("reassignments[{i}].{f}");
        let professional = |field: &str, id: &str| {
            let p = person(people, at(field), id)?;
            if p.kind == ParticipantKind::Professional {
                Ok(p)
            } else {
                Err(err(at(field), "the relay passes between professionals"))
            }
        };
        professional("from_participant", &r.from_participant)?;
        let to = professional("to_participant", &r.to_participant)?;
        if r.to_participant == r.from_participant {
            return Err(err(
                at("to_participant"),
                "is the participant the relay moved from",
            ));
        }
        if to.service.as_deref() != Some(r.to_service.as_str()) {
            return Err(err(
                at("to_service"),
                "is not the service of to_participant",
            ));
        }
        if crate::clock::day_of(r.at) > today {
            return Err(err(at("at"), "cannot be in the future"));
        }
        if i > 0 && r.at < reassignments[i - 1].at {
            return Err(err(at("at"), "reassignments are listed oldest first"));
        }
    }
    Ok(())
}

/// A case's earlier closings: each one a closing that is reopened (its consent was withdrawn or ran out),
/// and reopened by today. Their times are not held against each other or the case's: a case imported
/// with a clock ahead of this one's may be reopened "before" it closed, and moves on so.
pub(super) fn check_closings(closings: &[ClosingRecord]) -> Result<(), AppError> {
    let today = crate::clock::today();
    for (i, c) in closings.iter().enumerate() {
        if !crate::cases::rules::reopens(c.close_reason) {
            return Err(err(
                format!("closings[{i}].close_reason"),
                "only a case closed because its consent was withdrawn or expired is reopened",
            ));
        }
        if crate::clock::day_of(c.reopened_at) > today {
            return Err(err(
                format!("closings[{i}].reopened_at"),
                "cannot be in the future",
            ));
        }
    }
    Ok(())
}

/// Rule 12: the level-0 decisions, by professionals of the case, each of its own level-0 period and
/// dated no later than today; a report names a service of the municipality (rule 11: it is that
/// service's).
pub(super) fn check_decisions(
    doc: &CaseDocument,
    people: &People,
    services: &Services,
) -> Result<(), AppError> {
    let mut periods = HashSet::new();
    for (i, d) in doc.decisions.iter().enumerate() {
        let at = |f: &str| format!("decisions[{i}].{f}");
        let p = person(people, at("recorded_by"), &d.recorded_by)?;
        if p.kind != ParticipantKind::Professional {
            return Err(err(at("recorded_by"), "a decision is a professional's"));
        }
        service_known(services, at("service"), &d.service)?;
        let began = crate::clock::day_of(d.period_started_at);
        if d.decided_on > crate::clock::today() || d.decided_on < began {
            return Err(err(
                at("decided_on"),
                "is a day of its level-0 period, from its beginning (in Norway) up to today",
            ));
        }
        if doc
            .case
            .level0_since
            .is_some_and(|now| d.period_started_at > now)
        {
            return Err(err(
                at("period_started_at"),
                "is after the case's current level-0 period began (case.level0_since)",
            ));
        }
        if !periods.insert(d.period_started_at) {
            return Err(err(
                at("period_started_at"),
                "rule 12: one decision per level-0 period",
            ));
        }
    }
    Ok(())
}

/// Rule 6 for handovers: one pending at most, and only on an open case.
pub(super) fn check_handovers(
    doc: &CaseDocument,
    people: &People,
    services: &Services,
) -> Result<(), AppError> {
    let mut pending = 0;
    for (i, h) in doc.handovers.iter().enumerate() {
        let at = |f: &str| format!("handovers[{i}].{f}");
        person(people, at("from"), &h.from)?;
        service_known(services, at("to.service"), &h.to.service)?;
        let is_pending = h.state == HandoverState::Pending;
        if is_pending != h.answered_at.is_none() {
            return Err(err(
                at("answered_at"),
                "is set exactly when the handover is answered",
            ));
        }
        if h.state == HandoverState::Declined && h.answer_reason.is_none() {
            return Err(err(at("answer_reason"), "a decline has a reason"));
        }
        pending += usize::from(is_pending);
    }
    let open = doc.case.status == CaseStatus::Open;
    if pending > 1 || (pending == 1 && !open) {
        return Err(err(
            "handovers",
            "rule 6: at most one pending handover, and only on an open case",
        ));
    }
    Ok(())
}

/// Rules 10 and 11: the log is the family's to read, and a correction points back at what it corrects.
pub(super) fn check_entries(entries: &[EntryRecord], people: &People) -> Result<(), AppError> {
    let mut earlier = HashSet::new();
    let mut corrected = HashSet::new();
    for (i, e) in entries.iter().enumerate() {
        let at = |f: &str| format!("entries[{i}].{f}");
        person(people, at("author"), &e.author)?;
        for (j, a) in e.attendees.iter().enumerate() {
            person(people, format!("entries[{i}].attendees[{j}]"), a)?;
        }
        if let Some(target) = &e.corrects {
            if !earlier.contains(target.as_str()) {
                return Err(err(
                    at("corrects"),
                    "is not an earlier entry of this document",
                ));
            }
            if !corrected.insert(target.as_str()) {
                return Err(err(at("corrects"), "that entry is corrected twice"));
            }
        }
        earlier.insert(e.id.as_str());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::Days;

    use super::*;
    use crate::documents::import::check::tests::refused;
    use crate::documents::import::fixture::closed;

    #[test]
    fn a_measure_held_by_another_person_is_refused() {
        assert_eq!(
            refused(|d| {
                d.measures[0].responsible = ResponsibleRecord::Participant {
                    participant_id: "bestemor".into(),
                }
            }),
            "measures[0].responsible.participant_id"
        );
    }

    #[test]
    fn a_measure_due_before_it_starts_is_refused() {
        assert_eq!(
            refused(|d| d.measures[0].evaluate_by = d.measures[0].start_date - Days::new(1)),
            "measures[0].evaluate_by"
        );
    }

    #[test]
    fn an_evaluation_that_continues_without_a_next_deadline_is_refused() {
        assert_eq!(
            refused(|d| d.measures[0].evaluations[0].next_evaluate_by = None),
            "measures[0].evaluations[0].next_evaluate_by"
        );
    }

    fn closing(reason: crate::cases::api::CloseReason, days_ago: u64) -> ClosingRecord {
        let at = chrono::Utc::now() - chrono::Duration::days(days_ago as i64);
        ClosingRecord {
            closed_at: at,
            close_reason: reason,
            reopened_at: at + chrono::Duration::days(1),
        }
    }

    #[test]
    fn only_a_closing_for_a_lost_consent_is_an_earlier_closing() {
        use crate::cases::api::CloseReason;
        let lost = [
            closing(CloseReason::ConsentWithdrawn, 300),
            closing(CloseReason::ConsentExpired, 100),
        ];
        assert!(check_closings(&lost).is_ok());
        assert_eq!(
            refused(|d| d.closings = vec![closing(CloseReason::GoalReached, 100)]),
            "closings[0].close_reason"
        );
    }

    #[test]
    fn a_reassignment_passes_the_relay_between_professionals_of_the_case() {
        type Change = fn(&mut ReassignmentRecord);
        let refusals: [(Change, &str); 6] = [
            (|r| r.to_participant = "mor".into(), "to_participant"),
            (|r| r.to_participant = "pia".into(), "to_participant"),
            (|r| r.from_participant = "nobody".into(), "from_participant"),
            (|r| r.from_participant = "far".into(), "from_participant"),
            (|r| r.to_service = "ppt".into(), "to_service"),
            (
                |r| r.at = chrono::Utc::now() + chrono::Duration::days(2),
                "at",
            ),
        ];
        for (change, field) in refusals {
            let named = refused(|d| change(&mut d.reassignments[0]));
            assert_eq!(named, format!("reassignments[0].{field}"));
        }
    }

    #[test]
    fn reassignments_out_of_order_are_refused() {
        assert_eq!(
            refused(|d| {
                let mut earlier = d.reassignments[0].clone();
                earlier.at -= chrono::Duration::days(1);
                d.reassignments.push(earlier);
            }),
            "reassignments[1].at"
        );
    }

    #[test]
    fn a_case_reopened_in_the_future_is_refused() {
        let ahead = crate::clock::today() + Days::new(2);
        assert_eq!(
            refused(|d| d.case.reopened_on = Some(ahead)),
            "case.reopened_on"
        );
    }

    #[test]
    fn an_earlier_closing_reopened_in_the_future_is_refused() {
        use crate::cases::api::CloseReason;
        assert_eq!(
            refused(|d| {
                let mut ahead = closing(CloseReason::ConsentWithdrawn, 0);
                ahead.reopened_at += chrono::Duration::days(2);
                d.closings = vec![ahead];
            }),
            "closings[0].reopened_at"
        );
    }

    #[test]
    fn a_level_change_to_the_same_level_is_refused() {
        assert_eq!(
            refused(|d| d.level_changes[0].from_level = 1),
            "level_changes[0].to_level"
        );
    }

    #[test]
    fn a_level_other_than_where_the_last_change_went_is_refused() {
        assert_eq!(
            refused(|d| {
                d.level_changes[0].to_level = 2;
            }),
            "case.level"
        );
    }

    #[test]
    fn two_pending_handovers_are_refused() {
        assert_eq!(
            refused(|d| {
                let mut second = d.handovers[0].clone();
                second.id = "h2".into();
                d.handovers.push(second);
            }),
            "handovers"
        );
    }

    #[test]
    fn a_pending_handover_on_a_closed_case_is_refused() {
        assert_eq!(
            refused(|d| {
                let pending = d.handovers.clone();
                closed(d);
                d.handovers = pending;
            }),
            "handovers"
        );
    }

    #[test]
    fn a_decline_without_a_reason_is_refused() {
        assert_eq!(
            refused(|d| {
                d.handovers[0].state = HandoverState::Declined;
                d.handovers[0].answered_at = Some(d.case.opened_at);
            }),
            "handovers[0].answer_reason"
        );
    }

    #[test]
    fn rule_12_two_decisions_of_one_level0_period_are_refused() {
        assert_eq!(
            refused(|d| {
                let mut again = d.decisions[0].clone();
                again.id = "d2".into();
                d.decisions.push(again);
            }),
            "decisions[1].period_started_at"
        );
    }

    #[test]
    fn rule_12_a_decision_dated_before_its_level0_period_is_refused() {
        assert_eq!(
            refused(|d| d.decisions[0].decided_on = "2025-12-31".parse().unwrap()),
            "decisions[0].decided_on"
        );
    }

    #[test]
    fn a_decision_recorded_by_a_guardian_is_refused() {
        assert_eq!(
            refused(|d| d.decisions[0].recorded_by = "mor".into()),
            "decisions[0].recorded_by"
        );
    }

    #[test]
    fn a_correction_of_a_later_entry_is_refused() {
        assert_eq!(refused(|d| d.entries.swap(0, 1)), "entries[0].corrects");
    }

    #[test]
    fn an_entry_corrected_twice_is_refused() {
        assert_eq!(
            refused(|d| {
                let mut again = d.entries[1].clone();
                again.id = "n3".into();
                d.entries.push(again);
            }),
            "entries[2].corrects"
        );
    }

    #[test]
    fn an_entry_by_someone_outside_the_case_is_refused() {
        assert_eq!(
            refused(|d| d.entries[0].attendees.push("nabo".into())),
            "entries[0].attendees[2]"
        );
    }
}
