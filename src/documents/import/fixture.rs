//! A document every rule accepts, for the tests of the import's plain functions.

use chrono::{Days, NaiveDate};
use serde_json::json;

use crate::cases::api::CaseStatus;
use crate::documents::api::*;

fn today() -> NaiveDate {
    crate::clock::today()
}

pub fn services() -> crate::documents::import::check::Services {
    use crate::services::api::ServiceKind;
    [
        ("barnehage", ServiceKind::Barnehage),
        ("ppt", ServiceKind::Ppt),
        ("skole", ServiceKind::Skole),
    ]
    .into_iter()
    .map(|(code, kind)| (code.to_string(), kind))
    .collect()
}

/// An open case at level 1 with a record of every kind, which every rule accepts.
pub fn valid() -> CaseDocument {
    let at = "2026-01-05T09:00:00Z";
    let later = "2026-01-06T09:00:00Z";
    let person = |id: &str, kind: &str| json!({"id": id, "kind": kind, "name": id, "active": true, "joined_at": at});
    let mut ola = person("ola", "professional");
    ola["user_id"] = json!("ola");
    ola["service"] = json!("barnehage");
    let mut pia = person("pia", "professional");
    pia["user_id"] = json!("pia");
    pia["service"] = json!("ppt");
    let mut mor = person("mor", "guardian");
    mor["relation"] = json!("mother");
    mor["parental_responsibility"] = json!(true);
    let mut far = person("far", "guardian");
    far["relation"] = json!("father");
    far["parental_responsibility"] = json!(true);
    let mut bestemor = person("bestemor", "other");
    bestemor["role"] = json!("besteforelder");
    serde_json::from_value(json!({
        "format": FORMAT,
        "case": {"id": "c", "external_refs": [{"system": "gammel", "id": "sak-1"}],
            "opened_in_service": "barnehage",
            "subject": {"kind": "child", "given_name": "Emma", "family_name": "Testesen", "birth_date": "2020-03-14"},
            "concern": "Bekymring", "status": "open", "level": 1, "opened_at": at, "opened_by": "ola"},
        "participants": [ola, pia, mor, far, bestemor],
        "holder": "ola",
        "consents": [{"id": "k1", "given_by": ["mor", "far"], "services": ["barnehage", "ppt"],
            "purpose": "Samarbeid", "valid_from": today() - Days::new(10), "valid_until": today() + Days::new(300),
            "form": "written", "recorded_by_user": "ola", "recorded_by_name": "Ola", "recorded_at": at}],
        "measures": [{"id": "m1", "title": "Språkgruppe", "goal": "Flere ord",
            "responsible": {"kind": "participant", "participant_id": "mor"},
            "start_date": today(), "evaluate_by": today() + Days::new(42), "state": "active",
            "created_by_user": "ola", "created_at": at,
            "evaluations": [{"id": "e1", "evaluated_on": today(), "evaluated_by": "ola", "evaluated_by_name": "Ola",
                "assessment": "Bedre", "outcome": "continue", "next_evaluate_by": today() + Days::new(60),
                "recorded_at": later}]}],
        "level_changes": [{"id": "l1", "from_level": 0, "to_level": 1, "reason": "Samtykke", "decided_on": today(),
            "recorded_at": at, "recorded_by": "ola", "recorded_by_name": "Ola"}],
        "decisions": [{"id": "d1", "outcome": "level_1", "decided_on": today(), "service": "barnehage",
            "period_started_at": at, "recorded_at": at, "recorded_by": "ola", "recorded_by_name": "Ola"}],
        "handovers": [{"id": "h1", "from": "ola", "from_user_id": "ola",
            "to": {"user_id": "pia", "name": "Pia", "service": "ppt"}, "reason": "transition",
            "previous_holder_leaves": false, "state": "pending", "proposed_at": later}],
        "entries": [
            {"id": "n1", "kind": "meeting", "occurred_at": at, "body": "Møte", "attendees": ["mor", "far"],
             "author": "ola", "author_name": "Ola", "recorded_at": at},
            {"id": "n2", "kind": "note", "occurred_at": later, "body": "Rettelse", "corrects": "n1",
             "author": "mor", "author_name": "Mor", "recorded_at": later}],
        "plans": [{"id": "p1", "kind": "ip", "owner_service": "barnehage", "coordinator": "pia", "state": "active",
            "starts_on": today(), "goals": ["Flere ord"], "members": [{"participant_id": "mor", "added_at": at}],
            "created_by_user": "ola", "created_at": at, "activated_at": at}],
        "meetings": [{"id": "mt1", "kind": "ansvarsgruppe", "starts_at": at, "ends_at": later, "state": "held",
            "minutes_entry": "n1", "created_by_user": "ola", "created_at": at, "sequence": 0,
            "invitees": [{"participant_id": "mor", "response": "accepted", "responded_at": at},
                         {"participant_id": "far", "response": "pending"}]}],
        "reassignments": [{"from_participant": "pia", "to_participant": "ola", "to_name": "Ola",
            "to_service": "barnehage", "reason": "absence", "by_user_id": "lise", "by_name": "Lise Leder", "at": at}],
        "closings": [{"closed_at": at, "close_reason": "consent_withdrawn", "reopened_at": later}],
        "access_log": [{"at": at, "actor_user_id": "ola", "actor_name": "Ola", "actor_role": "professional",
            "action": "create", "resource": "case", "basis": "holder_service"}]
    }))
    .expect("a valid document")
}

pub fn closed(doc: &mut CaseDocument) {
    doc.case.status = CaseStatus::Closed;
    doc.case.closed_at = Some("2026-02-01T09:00:00Z".parse().unwrap());
    doc.case.close_reason = Some(crate::cases::api::CloseReason::GoalReached);
    doc.handovers.clear();
}
