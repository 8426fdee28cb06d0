use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::cases::api::{CaseStatus, CloseReason};
use crate::documents::api::{
    AccessRecord, ConsentRecord, EntryRecord, MeetingRecord, ParticipantRecord, PlanRecord,
    SubjectRecord,
};

/// What the service holds about the caller (GDPR Art. 15), and who has looked at it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyData {
    pub generated_at: DateTime<Utc>,
    pub person: MyDataPerson,
    /// Every case of the login's municipality the caller may read as a guardian or as the subject youth,
    /// newest first.
    #[schema(max_items = 500)]
    pub cases: Vec<MyCase>,
    /// `false` when the caller is found in more than 500 cases: then `cases` holds the newest 500
    /// (ask the municipality for the rest). Never `false` for a real family.
    pub complete: bool,
}

/// The caller as the login names them.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyDataPerson {
    #[schema(max_length = 200)]
    pub name: String,
    /// The national identity number of the login, masked.
    #[schema(min_length = 11, max_length = 11)]
    pub pid: String,
}

/// One case and what it records about the caller. The whole case is `GET /cases/{id}/export` (for a
/// guardian).
#[derive(Debug, Serialize, ToSchema)]
pub struct MyCase {
    pub case_id: Uuid,
    /// On which basis the caller reads the case: `guardian` or `subject_youth`.
    #[schema(max_length = 50)]
    pub basis: String,
    /// Whether the case is about the caller (a youth who is its subject).
    pub about_you: bool,
    /// The child, youth or family the case is about; national id masked.
    pub subject: SubjectRecord,
    pub status: CaseStatus,
    #[schema(minimum = 0, maximum = 3)]
    pub level: i16,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<CloseReason>,
    /// The caller's own participant rows (matched by their national id), present and past.
    #[schema(max_items = 500)]
    pub you_as_participant: Vec<ParticipantRecord>,
    /// Consents the caller gave (is among the givers of).
    #[schema(max_items = 500)]
    pub consents_given: Vec<ConsentRecord>,
    /// Log entries the caller wrote.
    #[schema(max_items = 100000)]
    pub entries_written: Vec<EntryRecord>,
    /// Plans whose group (ansvarsgruppe) the caller is in.
    #[schema(max_items = 100)]
    pub plans_you_are_in: Vec<PlanRecord>,
    /// Meetings the caller is invited to, with their answer.
    #[schema(max_items = 1000)]
    pub meetings_you_are_invited_to: Vec<MeetingRecord>,
    /// Who read or changed the case, oldest first, up to this request.
    #[schema(max_items = 1000000)]
    pub access_log: Vec<AccessRecord>,
}
