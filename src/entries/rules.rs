//! Rules 10 and 11 (what the log takes, and what never goes into it) and the shape of each kind of
//! entry, as plain functions.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::api::{EntryInput, EntryKind};
use crate::http::error::{AppError, FieldError};

/// Rules 10 and 11 and the shape of each kind of entry, as a plain function.
pub fn check_entry(
    is_participant: impl Fn(Uuid) -> bool,
    target_in_case: bool,
    e: &EntryInput,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let mut only_for = |field: &str, present: bool, kinds: &[EntryKind]| {
        if present && !kinds.contains(&e.kind) {
            errors.push(FieldError {
                field: field.into(),
                message: format!("does not apply to a {} entry", <&str>::from(e.kind)),
            });
        }
    };
    only_for("attendees", e.attendees.is_some(), &[EntryKind::Meeting]);
    only_for(
        "next_meeting",
        e.next_meeting.is_some(),
        &[EntryKind::Meeting],
    );
    only_for(
        "decisions",
        e.decisions.is_some(),
        &[EntryKind::Meeting, EntryKind::Decision],
    );
    for (i, a) in e.attendees.iter().flatten().enumerate() {
        if e.attendees.iter().flatten().take(i).any(|b| b == a) {
            errors.push(FieldError {
                field: format!("attendees[{i}]"),
                message: "is listed twice".into(),
            });
        } else if !is_participant(*a) {
            errors.push(FieldError {
                field: format!("attendees[{i}]"),
                message: "is not a participant of this case".into(),
            });
        }
    }
    if e.occurred_at > now + chrono::Duration::minutes(5) {
        errors.push(FieldError {
            field: "occurred_at".into(),
            message: "cannot be in the future".into(),
        });
    }
    if e.corrects.is_some() && !target_in_case {
        errors.push(FieldError {
            field: "corrects".into(),
            message: "is not an entry of this case".into(),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::invalid_fields(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(kind: EntryKind) -> EntryInput {
        EntryInput {
            kind,
            occurred_at: Utc::now(),
            title: None,
            body: "Samtale om leksehjelp".into(),
            attendees: None,
            decisions: None,
            next_meeting: None,
            corrects: None,
        }
    }

    fn fields(r: Result<(), AppError>) -> Vec<String> {
        r.unwrap_err().errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn meeting_fields_belong_to_meetings_and_attendees_are_participants_once() {
        let (ada, stranger) = (Uuid::now_v7(), Uuid::now_v7());
        let mut e = note(EntryKind::Note);
        e.attendees = Some(vec![ada]);
        assert_eq!(
            fields(check_entry(|p| p == ada, false, &e, Utc::now())),
            ["attendees"]
        );
        let mut m = note(EntryKind::Meeting);
        m.attendees = Some(vec![ada, ada, stranger]);
        assert_eq!(
            fields(check_entry(|p| p == ada, false, &m, Utc::now())),
            ["attendees[1]", "attendees[2]"]
        );
    }

    #[test]
    fn an_entry_is_not_from_the_future_and_corrects_an_entry_of_its_case() {
        let now = Utc::now();
        let mut e = note(EntryKind::Note);
        e.occurred_at = now + chrono::Duration::minutes(6);
        e.corrects = Some(Uuid::now_v7());
        assert_eq!(
            fields(check_entry(|_| true, false, &e, now)),
            ["occurred_at", "corrects"]
        );
        e.occurred_at = now + chrono::Duration::minutes(4);
        assert!(check_entry(|_| true, true, &e, now).is_ok());
    }
}
