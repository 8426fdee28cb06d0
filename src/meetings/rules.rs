//! The rules of a meeting as plain functions: its time, its state, who is invited, and what a change does
//! to the invitees' answers and to the calendars that show it.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::api::MeetingState;
use crate::http::error::{AppError, FieldError};

/// How far a client's clock may be off.
const CLOCK_SLACK: Duration = Duration::minutes(5);

/// A meeting ends after it starts, on the same day or night (at most 24 hours).
pub fn a_meeting_ends_after_it_starts(
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> Result<(), AppError> {
    if ends_at <= starts_at {
        Err(AppError::invalid("ends_at", "is not after starts_at"))
    } else if ends_at - starts_at > Duration::hours(24) {
        Err(AppError::invalid(
            "ends_at",
            "is more than 24 hours after starts_at",
        ))
    } else {
        Ok(())
    }
}

/// A meeting is planned ahead: one held without being planned is written to the log as a `meeting`
/// entry instead.
pub fn a_meeting_is_planned_ahead(
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if starts_at + CLOCK_SLACK < now {
        Err(AppError::invalid(
            "starts_at",
            "is in the past; write a meeting that was held as a `meeting` entry of the log",
        ))
    } else {
        Ok(())
    }
}

/// Only a planned meeting changes, is answered or is cancelled; a held or cancelled one is the record.
pub fn only_planned_meetings_change(state: MeetingState) -> Result<(), AppError> {
    if state == MeetingState::Planned {
        Ok(())
    } else {
        Err(AppError::conflict(format!(
            "the meeting is {} and can no longer change",
            state.as_str()
        )))
    }
}

/// Minutes are written once the meeting has begun.
pub fn minutes_follow_the_meeting(
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if starts_at > now + CLOCK_SLACK {
        Err(AppError::conflict(
            "the meeting has not begun; its minutes are written when it has been held",
        ))
    } else {
        Ok(())
    }
}

/// Everyone is invited once.
pub fn each_invitee_once(invitees: &[Uuid], field: &str) -> Result<(), AppError> {
    let errors: Vec<FieldError> = invitees
        .iter()
        .enumerate()
        .filter(|(i, id)| invitees[..*i].contains(id))
        .map(|(i, _)| FieldError {
            field: format!("{field}[{i}]"),
            message: "is listed twice".into(),
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::invalid_fields(errors))
    }
}

/// A yes to one time is not a yes to another: when the time moves, every invitee is asked again.
pub fn answers_stand(
    old: (DateTime<Utc>, DateTime<Utc>),
    new: (DateTime<Utc>, DateTime<Utc>),
) -> bool {
    old == new
}

/// Two lists of invitees name the same people, whatever their order: sending the list back unchanged
/// invites nobody and uninvites nobody. A list naming someone twice is not the same (it is checked, and
/// refused by `each_invitee_once`).
pub fn same_people(a: &[Uuid], b: &[Uuid]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

/// A calendar app takes an event's new version only when its `SEQUENCE` grows (RFC 5545 3.8.7.4): it
/// grows when what the calendar shows changes (the time, the place, the state).
pub fn calendar_sees_the_change(time_or_place_moved: bool, state_changed: bool) -> bool {
    time_or_place_moved || state_changed
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_same_invitees_in_another_order_are_the_same_people() {
        let (a, b, c) = (
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7(),
        );
        assert!(super::same_people(&[a, b], &[b, a]));
        assert!(!super::same_people(&[a, b], &[a, b, c]));
        assert!(!super::same_people(&[a, b], &[a, c]));
        assert!(!super::same_people(&[a], &[a, a]));
    }

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_meeting_ends_after_it_starts_within_a_day() {
        let start = at("2027-01-10T09:00:00Z");
        assert!(a_meeting_ends_after_it_starts(start, at("2027-01-10T10:00:00Z")).is_ok());
        for end in [
            "2027-01-10T09:00:00Z",
            "2027-01-10T08:00:00Z",
            "2027-01-11T09:00:01Z",
        ] {
            let e = a_meeting_ends_after_it_starts(start, at(end)).unwrap_err();
            assert_eq!(e.errors[0].field, "ends_at", "{end}");
        }
    }

    #[test]
    fn a_meeting_is_planned_ahead_not_after_the_fact() {
        let now = at("2027-01-10T09:00:00Z");
        assert!(a_meeting_is_planned_ahead(at("2027-01-11T09:00:00Z"), now).is_ok());
        assert!(a_meeting_is_planned_ahead(at("2027-01-10T08:58:00Z"), now).is_ok());
        assert!(a_meeting_is_planned_ahead(at("2027-01-09T09:00:00Z"), now).is_err());
    }

    #[test]
    fn only_planned_meetings_change_once_held_or_cancelled() {
        assert!(only_planned_meetings_change(MeetingState::Planned).is_ok());
        assert!(only_planned_meetings_change(MeetingState::Held).is_err());
        assert!(only_planned_meetings_change(MeetingState::Cancelled).is_err());
    }

    #[test]
    fn minutes_follow_the_meeting_not_before_it() {
        let start = at("2027-01-10T09:00:00Z");
        assert!(minutes_follow_the_meeting(start, at("2027-01-10T10:00:00Z")).is_ok());
        assert!(minutes_follow_the_meeting(start, at("2027-01-09T10:00:00Z")).is_err());
    }

    #[test]
    fn each_invitee_once_names_the_repeat() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        assert!(each_invitee_once(&[a, b], "invitees").is_ok());
        let e = each_invitee_once(&[a, b, a], "invitees").unwrap_err();
        assert_eq!(e.errors[0].field, "invitees[2]");
    }

    #[test]
    fn answers_stand_only_while_the_time_does() {
        let t = (at("2027-01-10T09:00:00Z"), at("2027-01-10T10:00:00Z"));
        assert!(answers_stand(t, t));
        assert!(!answers_stand(t, (t.0, at("2027-01-10T11:00:00Z"))));
    }

    #[test]
    fn calendar_sees_the_change_of_time_place_or_state_only() {
        assert!(calendar_sees_the_change(true, false));
        assert!(calendar_sees_the_change(false, true));
        assert!(!calendar_sees_the_change(false, false));
    }
}
