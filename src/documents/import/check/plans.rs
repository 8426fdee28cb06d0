//! Plans and meetings (rule 13 and the meetings' own rules) in a case document: who they name is in the
//! document, an owner fits its kind of plan, states agree with their times and reasons, and a held meeting
//! has its minutes in the log.

use std::collections::HashSet;

use super::{err, person, service_known, People, Services};
use crate::documents::api::*;
use crate::entries::api::EntryKind;
use crate::http::error::AppError;
use crate::meetings::api::{InviteeResponse, MeetingState};
use crate::participants::api::ParticipantKind;
use crate::plans::api::{PlanKind, PlanState};

/// Each plan's people are participants of the document (the coordinator a professional), its owner a
/// service of the municipality, its state consistent with its times and reason; one unfinished plan of a
/// kind; a measure's plan is a plan of the document.
pub(super) fn check_plans(
    doc: &CaseDocument,
    people: &People,
    services: &Services,
) -> Result<(), AppError> {
    let mut unfinished: HashSet<PlanKind> = HashSet::new();
    for (i, p) in doc.plans.iter().enumerate() {
        let at = |f: &str| format!("plans[{i}].{f}");
        service_known(services, at("owner_service"), &p.owner_service)?;
        crate::plans::rules::owner_fits_kind(p.kind, services[&p.owner_service])
            .map_err(|e| err(at("owner_service"), e.errors[0].message.clone()))?;
        if let Some(c) = &p.coordinator {
            let coordinator = person(people, at("coordinator"), c)?;
            if coordinator.kind != ParticipantKind::Professional {
                return Err(err(at("coordinator"), "is a professional of the case"));
            }
        }
        crate::plans::rules::ip_needs_a_coordinator_to_be_active(
            p.kind,
            p.state,
            p.coordinator.as_ref().map(|_| uuid::Uuid::nil()),
        )
        .map_err(|e| err(at("coordinator"), e.detail))?;
        crate::plans::rules::check_period(p.starts_on, p.ends_on)
            .map_err(|e| err(at("ends_on"), e.detail))?;
        let ended = p.state == PlanState::Ended;
        if ended != p.ended_at.is_some() || ended != p.end_reason.is_some() {
            return Err(err(
                at("state"),
                "an ended plan has ended_at and end_reason; no other plan has them",
            ));
        }
        if p.state == PlanState::Active && p.activated_at.is_none() {
            return Err(err(
                at("activated_at"),
                "an active plan says when it came into force",
            ));
        }
        if !ended && !unfinished.insert(p.kind) {
            return Err(err(
                at("kind"),
                format!("a case has one unfinished {} at a time", p.kind.as_str()),
            ));
        }
        let mut members = HashSet::new();
        for (j, m) in p.members.iter().enumerate() {
            person(
                people,
                at(&format!("members[{j}].participant_id")),
                &m.participant_id,
            )?;
            if !members.insert(m.participant_id.as_str()) {
                return Err(err(
                    at(&format!("members[{j}].participant_id")),
                    "is listed twice",
                ));
            }
        }
    }
    let plans: HashSet<&str> = doc.plans.iter().map(|p| p.id.as_str()).collect();
    for (i, m) in doc.measures.iter().enumerate() {
        if let Some(plan) = &m.plan {
            if !plans.contains(plan.as_str()) {
                return Err(err(
                    format!("measures[{i}].plan"),
                    format!("`{plan}` is not a plan of this document"),
                ));
            }
        }
    }
    Ok(())
}

/// Each meeting's invitees are participants of the document, once each; it ends within a day after it
/// starts; a held one names its minutes, a `meeting` entry of the document; a cancelled one says when.
pub(super) fn check_meetings(doc: &CaseDocument, people: &People) -> Result<(), AppError> {
    let minutes: HashSet<&str> = doc
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::Meeting)
        .map(|e| e.id.as_str())
        .collect();
    for (i, m) in doc.meetings.iter().enumerate() {
        let at = |f: &str| format!("meetings[{i}].{f}");
        crate::meetings::rules::a_meeting_ends_after_it_starts(m.starts_at, m.ends_at).map_err(
            |e| {
                err(
                    at("ends_at"),
                    e.errors
                        .first()
                        .map(|f| f.message.clone())
                        .unwrap_or(e.detail),
                )
            },
        )?;
        let held = m.state == MeetingState::Held;
        match &m.minutes_entry {
            Some(entry) if !minutes.contains(entry.as_str()) => {
                return Err(err(
                    at("minutes_entry"),
                    format!("`{entry}` is not a meeting entry of this document"),
                ))
            }
            found if held != found.is_some() => {
                return Err(err(
                    at("minutes_entry"),
                    "a held meeting names its minutes; no other meeting has them",
                ))
            }
            _ => {}
        }
        if (m.state == MeetingState::Cancelled) != m.cancelled_at.is_some() {
            return Err(err(
                at("cancelled_at"),
                "is given exactly when the meeting is cancelled",
            ));
        }
        let mut invited = HashSet::new();
        for (j, inv) in m.invitees.iter().enumerate() {
            let field = at(&format!("invitees[{j}].participant_id"));
            person(people, field.clone(), &inv.participant_id)?;
            if !invited.insert(inv.participant_id.as_str()) {
                return Err(err(field, "is listed twice"));
            }
            if (inv.response == InviteeResponse::Pending) != inv.responded_at.is_none() {
                return Err(err(
                    at(&format!("invitees[{j}].responded_at")),
                    "is given exactly when the invitee answered",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::documents::import::check::tests::refused;
    use crate::meetings::api::MeetingState;
    use crate::plans::api::PlanState;

    #[test]
    fn an_individual_plan_in_force_without_a_coordinator_is_refused() {
        assert_eq!(
            refused(|d| d.plans[0].coordinator = None),
            "plans[0].coordinator"
        );
        assert_eq!(
            refused(|d| d.plans[0].coordinator = Some("mor".into())),
            "plans[0].coordinator"
        );
    }

    #[test]
    fn a_plan_owned_by_a_service_of_another_kind_is_refused() {
        let iop_at_ppt = |d: &mut crate::documents::api::CaseDocument| {
            d.plans[0].kind = crate::plans::api::PlanKind::Iop;
            d.plans[0].owner_service = "ppt".into();
        };
        assert_eq!(refused(iop_at_ppt), "plans[0].owner_service");
    }

    #[test]
    fn an_ended_plan_without_its_reason_is_refused() {
        assert_eq!(
            refused(|d| d.plans[0].state = PlanState::Ended),
            "plans[0].state"
        );
    }

    #[test]
    fn a_measure_in_a_plan_outside_the_document_is_refused() {
        assert_eq!(
            refused(|d| d.measures[0].plan = Some("p9".into())),
            "measures[0].plan"
        );
    }

    #[test]
    fn a_held_meeting_names_a_meeting_entry_of_the_document_as_its_minutes() {
        assert_eq!(
            refused(|d| d.meetings[0].minutes_entry = Some("n2".into())),
            "meetings[0].minutes_entry"
        );
        assert_eq!(
            refused(|d| d.meetings[0].minutes_entry = None),
            "meetings[0].minutes_entry"
        );
        assert_eq!(
            refused(|d| d.meetings[0].state = MeetingState::Cancelled),
            "meetings[0].minutes_entry"
        );
    }

    #[test]
    fn an_invitee_outside_the_document_or_listed_twice_is_refused() {
        let outsider = |d: &mut crate::documents::api::CaseDocument| {
            d.meetings[0].invitees[1].participant_id = "x".into()
        };
        assert_eq!(refused(outsider), "meetings[0].invitees[1].participant_id");
        let twice = |d: &mut crate::documents::api::CaseDocument| {
            d.meetings[0].invitees[1].participant_id = "mor".into()
        };
        assert_eq!(refused(twice), "meetings[0].invitees[1].participant_id");
    }

    #[test]
    fn a_meeting_that_ends_before_it_starts_is_refused() {
        assert_eq!(
            refused(|d| d.meetings[0].ends_at = d.meetings[0].starts_at),
            "meetings[0].ends_at"
        );
    }
}
