//! The case document's types (what an export writes and an import reads), and the report of an import.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::cases::api::{CaseStatus, CloseReason, ExternalRef, SubjectKind};
use crate::consents::api::ConsentForm;
use crate::decisions::api::DecisionOutcome;
use crate::entries::api::EntryKind;
use crate::handovers::api::{HandoverReason, HandoverState, HandoverTo};
use crate::http::error::FieldError;
use crate::measures::api::{MeasureState, Outcome};
use crate::meetings::api::{InviteeResponse, MeetingKind, MeetingState};
use crate::participants::api::{ParticipantKind, Relation};
use crate::plans::api::{PlanKind, PlanState};

pub const FORMAT: &str = "stafettlogg.case/1";

/// Ids inside a document are the exporting system's; on import they only link records to each other
/// (any string up to 100 characters), and the service gives every record a new id of its own.
pub type DocId = String;

fn check_doc_id(id: &str) -> Result<(), validator::ValidationError> {
    if (1..=100).contains(&id.len()) {
        Ok(())
    } else {
        Err(validator::ValidationError::new("length")
            .with_message("an id is 1-100 characters".into()))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseDocument {
    /// `stafettlogg.case/1`
    #[schema(example = "stafettlogg.case/1", min_length = 1, max_length = 40)]
    pub format: String,
    #[validate(nested)]
    pub case: CaseRecord,
    #[validate(nested, length(min = 1, max = 500))]
    #[schema(min_items = 1, max_items = 500)]
    pub participants: Vec<ParticipantRecord>,
    /// The participant holding the relay now (or last, for a closed case).
    pub holder: DocId,
    /// Who held the relay when; empty means the holder held it from opening.
    #[serde(default)]
    #[validate(nested, length(max = 2001))]
    #[schema(max_items = 2001)]
    pub holder_periods: Vec<HolderPeriodRecord>,
    #[serde(default)]
    #[validate(nested, length(max = 500))]
    #[schema(max_items = 500)]
    pub consents: Vec<ConsentRecord>,
    #[serde(default)]
    #[validate(nested, length(max = 1000))]
    #[schema(max_items = 1000)]
    pub measures: Vec<MeasureRecord>,
    #[serde(default)]
    #[validate(nested, length(max = 1000))]
    #[schema(max_items = 1000)]
    pub level_changes: Vec<LevelChangeRecord>,
    #[serde(default)]
    #[validate(nested, length(max = 1000))]
    #[schema(max_items = 1000)]
    pub handovers: Vec<HandoverRecord>,
    #[serde(default)]
    #[validate(nested, length(max = 100000))]
    #[schema(max_items = 100000)]
    pub entries: Vec<EntryRecord>,
    /// Plans beside the log (ip, iop, iup, aktivitetsplan), with their groups.
    #[serde(default)]
    #[validate(nested, length(max = 100))]
    #[schema(max_items = 100)]
    pub plans: Vec<PlanRecord>,
    /// Meetings planned with the family, held or cancelled.
    #[serde(default)]
    #[validate(nested, length(max = 1000))]
    #[schema(max_items = 1000)]
    pub meetings: Vec<MeetingRecord>,
    /// The level-0 decisions, one per level-0 period (rule 12). A report to child welfare is in the
    /// stafettholder's export (and so in the archive), never in a guardian's (rule 11).
    #[serde(default)]
    #[validate(nested, length(max = 100))]
    #[schema(max_items = 100)]
    pub decisions: Vec<DecisionRecord>,
    /// Who moved the relay without a handover (a unit leader, when the holder is away or has left),
    /// oldest first. Left out when there are none, so that most documents still import into builds before
    /// it, which refuse fields they do not know.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[validate(nested, length(max = 1000))]
    #[schema(max_items = 1000)]
    pub reassignments: Vec<ReassignmentRecord>,
    /// The case's earlier closings, in the order they were reopened: each time it closed because its
    /// consent was withdrawn or ran out and was reopened later (the current closing of a closed case is in
    /// `case`). Left out when there are none, like `reassignments`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[validate(nested, length(max = 100))]
    #[schema(max_items = 100)]
    pub closings: Vec<ClosingRecord>,
    /// Who read or changed the case, oldest first. Kept on import, so the family's history moves along.
    #[serde(default)]
    #[validate(nested, length(max = 1000000))]
    #[schema(max_items = 1000000)]
    pub access_log: Vec<AccessRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectRecord {
    pub kind: SubjectKind,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub given_name: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub family_name: String,
    #[validate(custom(function = "crate::dates::date"))]
    pub birth_date: Option<NaiveDate>,
    /// In full in the stafettholder's export, which is what an import needs: 11 digits whose date and
    /// mod-11 check digits are verified. Masked (the first six digits and `*****`) in a guardian's export.
    #[validate(custom(function = "crate::cases::api::validate_national_id"))]
    #[schema(min_length = 11, max_length = 11)]
    pub national_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseRecord {
    #[validate(custom(function = "check_doc_id"))]
    pub id: DocId,
    /// At least one: imports find the case again by them. An export gives a case opened without any its
    /// own id here (`{"system": "stafettlogg-<municipality>", "id": "<case id>"}`), which an import into
    /// the same municipality takes as that case.
    #[validate(nested, length(min = 1, max = 20))]
    #[schema(min_items = 1, max_items = 20)]
    pub external_refs: Vec<ExternalRef>,
    #[validate(custom(function = "crate::http::bounds::check_service_code"))]
    #[schema(value_type = crate::http::bounds::ServiceCode)]
    pub opened_in_service: String,
    #[validate(nested)]
    pub subject: SubjectRecord,
    #[validate(length(min = 1, max = 20000))]
    #[schema(min_length = 1, max_length = 20000)]
    pub concern: String,
    pub status: CaseStatus,
    #[validate(range(min = 0, max = 3))]
    #[schema(minimum = 0, maximum = 3)]
    pub level: i16,
    #[validate(custom(function = "crate::dates::date"))]
    pub decision_due: Option<NaiveDate>,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub opened_at: DateTime<Utc>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub opened_by: String,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<CloseReason>,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub close_note: Option<String>,
    /// When the current level-0 period began (opened, back at level 0, reopened); a decision names the
    /// period it ended by this time. Absent: when the case was opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub level0_since: Option<DateTime<Utc>>,
    /// The day (in Norway) the case was last reopened. A consent that ran out before that day was settled
    /// when the case closed, and does not close it again. Absent: never reopened, or a document of an older
    /// build (the import then takes the day of the latest reopening in `closings`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(custom(function = "crate::dates::date"))]
    pub reopened_on: Option<NaiveDate>,
    /// When its personal data was erased at the end of the retention period: the document is a
    /// tombstone (names and free text read `[slettet]`). Such a document is not imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub purged_at: Option<DateTime<Utc>>,
    /// Where the closed case was archived, if an archive system reported it.
    #[serde(default)]
    #[validate(nested)]
    pub archived: Option<crate::cases::api::Archived>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantRecord {
    #[validate(custom(function = "check_doc_id"))]
    pub id: DocId,
    pub kind: ParticipantKind,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub user_id: Option<String>,
    #[validate(custom(function = "crate::http::bounds::check_service_code"))]
    #[schema(value_type = Option<crate::http::bounds::ServiceCode>)]
    pub service: Option<String>,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub title: Option<String>,
    pub relation: Option<Relation>,
    pub parental_responsibility: Option<bool>,
    /// In full in the stafettholder's export, which is what an import needs: 11 digits whose date and
    /// mod-11 check digits are verified. Masked (the first six digits and `*****`) in a guardian's export.
    #[validate(custom(function = "crate::cases::api::validate_national_id"))]
    #[schema(min_length = 11, max_length = 11)]
    pub national_id: Option<String>,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub email: Option<String>,
    #[validate(length(max = 30))]
    #[schema(max_length = 30)]
    pub phone: Option<String>,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub role: Option<String>,
    pub active: bool,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub joined_at: DateTime<Utc>,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub left_at: Option<DateTime<Utc>>,
    #[serde(default)]
    #[validate(nested, length(max = 20))]
    #[schema(max_items = 20)]
    pub external_refs: Vec<ExternalRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolderPeriodRecord {
    pub participant_id: DocId,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub from: DateTime<Utc>,
    /// Absent for the current holder of an open case.
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRecord {
    #[validate(custom(function = "check_doc_id"))]
    pub id: DocId,
    #[validate(length(min = 1, max = 10))]
    #[schema(min_items = 1, max_items = 10)]
    pub given_by: Vec<DocId>,
    #[validate(
        length(min = 1, max = 50),
        custom(function = "crate::http::bounds::check_service_codes")
    )]
    #[schema(min_items = 1, max_items = 50, value_type = Vec<crate::http::bounds::ServiceCode>)]
    pub services: Vec<String>,
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub purpose: String,
    #[validate(custom(function = "crate::dates::date"))]
    pub valid_from: NaiveDate,
    #[validate(custom(function = "crate::dates::date"))]
    pub valid_until: NaiveDate,
    pub form: ConsentForm,
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub document_ref: Option<String>,
    pub supersedes: Option<DocId>,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub superseded_at: Option<DateTime<Utc>>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub recorded_by_user: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub recorded_by_name: String,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub recorded_at: DateTime<Utc>,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_by: Option<DocId>,
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub withdrawal_reason: Option<String>,
    /// Givers of a digital consent who have not signed it yet (absent: everyone signed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[validate(length(max = 10))]
    #[schema(max_items = 10)]
    pub missing_signatures: Vec<DocId>,
}

/// The responsible party, pointing at a participant of the document by its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ResponsibleRecord {
    Service {
        #[schema(value_type = crate::http::bounds::ServiceCode)]
        service: String,
    },
    Participant {
        participant_id: DocId,
    },
    Subject,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasureRecord {
    #[validate(custom(function = "check_doc_id"))]
    pub id: DocId,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub goal: String,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    pub responsible: ResponsibleRecord,
    #[validate(custom(function = "crate::dates::date"))]
    pub start_date: NaiveDate,
    #[validate(custom(function = "crate::dates::date"))]
    pub evaluate_by: NaiveDate,
    pub state: MeasureState,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub created_by_user: String,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    #[validate(nested, length(max = 1000))]
    #[schema(max_items = 1000)]
    pub evaluations: Vec<EvaluationRecord>,
    /// The plan of this document the measure belongs to.
    #[serde(default)]
    pub plan: Option<DocId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationRecord {
    #[validate(custom(function = "check_doc_id"))]
    pub id: DocId,
    #[validate(custom(function = "crate::dates::date"))]
    pub evaluated_on: NaiveDate,
    pub evaluated_by: DocId,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub evaluated_by_name: String,
    #[validate(length(min = 1, max = 20000))]
    #[schema(min_length = 1, max_length = 20000)]
    pub assessment: String,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub child_view: Option<String>,
    pub outcome: Outcome,
    #[validate(custom(function = "crate::dates::date"))]
    pub next_evaluate_by: Option<NaiveDate>,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRecord {
    #[validate(custom(function = "check_doc_id"))]
    pub id: DocId,
    pub outcome: DecisionOutcome,
    #[validate(custom(function = "crate::dates::date"))]
    pub decided_on: NaiveDate,
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub note: Option<String>,
    /// The stafettholder's service when it was decided.
    #[validate(custom(function = "crate::http::bounds::check_service_code"))]
    #[schema(value_type = crate::http::bounds::ServiceCode)]
    pub service: String,
    /// When the level-0 period it ended began: one decision per period.
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub period_started_at: DateTime<Utc>,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: DocId,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub recorded_by_name: String,
}

/// A unit leader's move of the relay. The leader's note is not part of the case's document: it is about
/// the staff member (an absence, a departure) more than the case, and no reader of the case is shown it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReassignmentRecord {
    /// The participant who held the relay.
    pub from_participant: DocId,
    /// The participant who holds it since.
    pub to_participant: DocId,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub to_name: String,
    #[validate(custom(function = "crate::http::bounds::check_service_code"))]
    #[schema(value_type = crate::http::bounds::ServiceCode)]
    pub to_service: String,
    pub reason: crate::handovers::api::ReassignReason,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub by_user_id: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub by_name: String,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub at: DateTime<Utc>,
}

/// A closing that a reopening ended. No person and no free text: the reopening's reason is in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosingRecord {
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub closed_at: DateTime<Utc>,
    /// `consent_withdrawn` or `consent_expired`: a case closed for another reason is not reopened.
    pub close_reason: crate::cases::api::CloseReason,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub reopened_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelChangeRecord {
    #[validate(custom(function = "check_doc_id"))]
    pub id: DocId,
    #[validate(range(min = 0, max = 3))]
    #[schema(minimum = 0, maximum = 3)]
    pub from_level: i16,
    #[validate(range(min = 0, max = 3))]
    #[schema(minimum = 0, maximum = 3)]
    pub to_level: i16,
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub reason: String,
    #[validate(custom(function = "crate::dates::date"))]
    pub decided_on: NaiveDate,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: DocId,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub recorded_by_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverRecord {
    #[validate(custom(function = "check_doc_id"))]
    pub id: DocId,
    pub from: DocId,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub from_user_id: String,
    #[validate(nested)]
    pub to: HandoverTo,
    pub reason: HandoverReason,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub note: Option<String>,
    #[validate(custom(function = "crate::dates::date"))]
    pub answer_by: Option<NaiveDate>,
    pub previous_holder_leaves: bool,
    pub state: HandoverState,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub proposed_at: DateTime<Utc>,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub answered_at: Option<DateTime<Utc>>,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub answered_by_user: Option<String>,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub answer_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryRecord {
    #[validate(custom(function = "check_doc_id"))]
    pub id: DocId,
    pub kind: EntryKind,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub occurred_at: DateTime<Utc>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[validate(length(min = 1, max = 50000))]
    #[schema(min_length = 1, max_length = 50000)]
    pub body: String,
    #[serde(default)]
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub attendees: Vec<DocId>,
    #[validate(length(min = 1, max = 20000))]
    #[schema(min_length = 1, max_length = 20000)]
    pub decisions: Option<String>,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub next_meeting: Option<DateTime<Utc>>,
    pub corrects: Option<DocId>,
    pub author: DocId,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub author_name: String,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRecord {
    #[validate(custom(function = "check_doc_id"))]
    pub id: DocId,
    pub kind: PlanKind,
    #[validate(custom(function = "crate::http::bounds::check_service_code"))]
    #[schema(value_type = crate::http::bounds::ServiceCode)]
    pub owner_service: String,
    pub coordinator: Option<DocId>,
    pub state: PlanState,
    #[validate(custom(function = "crate::dates::date"))]
    pub starts_on: NaiveDate,
    #[validate(custom(function = "crate::dates::date"))]
    pub ends_on: Option<NaiveDate>,
    #[serde(default)]
    #[validate(length(max = 50), custom(function = "crate::plans::api::check_goals"))]
    #[schema(max_items = 50, value_type = Vec<crate::http::bounds::PlanGoal>)]
    pub goals: Vec<String>,
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub end_reason: Option<String>,
    #[serde(default)]
    #[validate(nested, length(max = 500))]
    #[schema(max_items = 500)]
    pub members: Vec<PlanMemberRecord>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub created_by_user: String,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub created_at: DateTime<Utc>,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub activated_at: Option<DateTime<Utc>>,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub ended_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanMemberRecord {
    pub participant_id: DocId,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub role: Option<String>,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingRecord {
    #[validate(custom(function = "check_doc_id"))]
    pub id: DocId,
    pub kind: MeetingKind,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub starts_at: DateTime<Utc>,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub ends_at: DateTime<Utc>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub place: Option<String>,
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub agenda: Option<String>,
    pub state: MeetingState,
    /// The `meeting` entry of this document that holds the minutes, once held.
    pub minutes_entry: Option<DocId>,
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub cancel_reason: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub created_by_user: String,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub created_at: DateTime<Utc>,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub cancelled_at: Option<DateTime<Utc>>,
    /// How many times calendars were told of a change (RFC 5545 `SEQUENCE`).
    #[validate(range(min = 0, max = 100000))]
    #[schema(minimum = 0, maximum = 100000)]
    pub sequence: i32,
    #[serde(default)]
    #[validate(nested, length(max = 50))]
    #[schema(max_items = 50)]
    pub invitees: Vec<InviteeRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteeRecord {
    pub participant_id: DocId,
    pub response: InviteeResponse,
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub responded_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessRecord {
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub at: DateTime<Utc>,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub actor_user_id: String,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub actor_name: String,
    #[validate(length(min = 1, max = 50))]
    #[schema(min_length = 1, max_length = 50)]
    pub actor_role: String,
    #[validate(length(min = 1, max = 50))]
    #[schema(min_length = 1, max_length = 50)]
    pub action: String,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub resource: String,
    #[validate(length(min = 1, max = 50))]
    #[schema(min_length = 1, max_length = 50)]
    pub basis: String,
}

#[derive(Debug, Serialize, ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    Created,
    Updated,
    Unchanged,
    Error,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LineResult {
    /// 1-based line number in the request body.
    #[schema(value_type = i64, minimum = 1)]
    pub line: usize,
    pub status: LineStatus,
    pub case_id: Option<Uuid>,
    /// What is wrong with the line, naming the field.
    #[schema(max_items = 100)]
    pub errors: Vec<FieldError>,
    #[schema(max_length = 2000)]
    pub detail: Option<String>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ImportSummary {
    #[schema(value_type = i64, minimum = 0)]
    pub created: usize,
    #[schema(value_type = i64, minimum = 0)]
    pub updated: usize,
    #[schema(value_type = i64, minimum = 0)]
    pub unchanged: usize,
    #[schema(value_type = i64, minimum = 0)]
    pub failed: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub summary: ImportSummary,
    #[schema(max_items = 100000)]
    pub lines: Vec<LineResult>,
}
