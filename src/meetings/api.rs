//! What clients send and receive about meetings and calendar feeds.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

crate::text_enum! {
    /// `samarbeidsmote`: a cooperation meeting with the family; `ansvarsgruppe`: the group around an
    /// individual plan; `evaluering`: evaluating measures; `other`.
    pub enum MeetingKind {
        Samarbeidsmote,
        Ansvarsgruppe,
        Evaluering,
        Other,
    }
}

crate::text_enum! {
    /// `planned` until its minutes are written (`held`) or it is `cancelled`.
    pub enum MeetingState {
        Planned,
        Held,
        Cancelled,
    }
}

crate::text_enum! {
    /// An invitee's answer.
    pub enum InviteeResponse {
        Pending,
        Accepted,
        Declined,
    }
}

crate::text_enum! {
    /// What an invitee may answer.
    pub enum InvitationAnswer {
        Accepted,
        Declined,
    }
}

impl From<InvitationAnswer> for InviteeResponse {
    fn from(a: InvitationAnswer) -> InviteeResponse {
        match a {
            InvitationAnswer::Accepted => InviteeResponse::Accepted,
            InvitationAnswer::Declined => InviteeResponse::Declined,
        }
    }
}

/// The most people one meeting invites.
pub const MAX_INVITEES: usize = 50;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingInput {
    pub kind: MeetingKind,
    /// Not in the past: a meeting that was held without being planned is logged as a `meeting` entry.
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub starts_at: DateTime<Utc>,
    /// After `starts_at`, and at most 24 hours later.
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub ends_at: DateTime<Utc>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub place: Option<String>,
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub agenda: Option<String>,
    /// Participants of the case (within the consent's coverage), each once.
    #[validate(length(min = 1, max = 50))]
    #[schema(min_items = 1, max_items = 50)]
    pub invitees: Vec<Uuid>,
}

/// Change a planned meeting (`If-Match` required). A new time asks every invitee again.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingPatch {
    pub kind: Option<MeetingKind>,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub starts_at: Option<DateTime<Utc>>,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub ends_at: Option<DateTime<Utc>>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub place: Option<String>,
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub agenda: Option<String>,
    /// The invitees from now on: those kept keep their answer, new ones are asked.
    #[validate(length(min = 1, max = 50))]
    #[schema(min_items = 1, max_items = 50)]
    pub invitees: Option<Vec<Uuid>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationAnswerInput {
    pub response: InvitationAnswer,
}

/// What the meeting came to: written to the log as a `meeting` entry, and the meeting is held.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MinutesInput {
    #[validate(length(min = 1, max = 50000))]
    #[schema(min_length = 1, max_length = 50000)]
    pub body: String,
    #[validate(length(min = 1, max = 20000))]
    #[schema(min_length = 1, max_length = 20000)]
    pub decisions: Option<String>,
    /// Participant ids of those present; the invitees who accepted when left out.
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub attendees: Option<Vec<Uuid>>,
    /// When the next meeting is.
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub next_meeting: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingCancelInput {
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invitee {
    pub participant_id: Uuid,
    #[schema(max_length = 200)]
    pub name: String,
    pub response: InviteeResponse,
    pub responded_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingView {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: MeetingKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[schema(max_length = 200)]
    pub place: Option<String>,
    #[schema(max_length = 5000)]
    pub agenda: Option<String>,
    pub state: MeetingState,
    #[schema(max_items = 50)]
    pub invitees: Vec<Invitee>,
    /// The `meeting` entry of the log that holds the minutes, once held.
    pub minutes_entry_id: Option<Uuid>,
    #[schema(max_length = 2000)]
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    #[schema(minimum = 1)]
    pub version: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingList {
    #[schema(max_items = 1000)]
    pub items: Vec<MeetingView>,
}

/// A person's calendar subscription.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarInput {
    /// Put the meeting's place in the calendar (default false: the place may tell where a child is).
    pub include_place: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarFeed {
    /// The secret address to subscribe to. Shown once; asking again makes a new one and the old one stops
    /// working.
    #[schema(max_length = 2048)]
    pub url: String,
    pub include_place: bool,
}
