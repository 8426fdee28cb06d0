//! What the change feed says: the type of each event, and the page an integration reads.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

crate::text_enum! {
    /// The type of a change in the feed: what happened to which part of a case.
    pub enum ChangeType {
        CaseOpened = "case.opened",
        CaseUpdated = "case.updated",
        CaseClosed = "case.closed",
        /// The retention period was over: the case's personal data was erased (it remains as a tombstone).
        CasePurged = "case.purged",
        CaseImported = "case.imported",
        /// An archive system reported the closed case taken into the municipality's archive.
        CaseArchived = "case.archived",
        /// A case closed because its consent went was opened again by its last stafettholder.
        CaseReopened = "case.reopened",
        ParticipantAdded = "participant.added",
        ParticipantUpdated = "participant.updated",
        ParticipantDeactivated = "participant.deactivated",
        ConsentRecorded = "consent.recorded",
        ConsentWithdrawn = "consent.withdrawn",
        /// A giver signed a digital consent (it is effective once every named giver has).
        ConsentSigned = "consent.signed",
        MeasureCreated = "measure.created",
        MeasureUpdated = "measure.updated",
        EvaluationAdded = "evaluation.added",
        LevelChanged = "level.changed",
        StepMoved = "step.moved",
        HandoverProposed = "handover.proposed",
        HandoverAccepted = "handover.accepted",
        HandoverDeclined = "handover.declined",
        HandoverCancelled = "handover.cancelled",
        /// A leader moved the stafettholder role at once (the holder was away or has left).
        HolderReassigned = "holder.reassigned",
        EntryAdded = "entry.added",
        PlanCreated = "plan.created",
        PlanUpdated = "plan.updated",
        PlanActivated = "plan.activated",
        PlanEnded = "plan.ended",
        MeetingPlanned = "meeting.planned",
        /// The time, place, agenda or invitees of a planned meeting changed.
        MeetingChanged = "meeting.changed",
        /// An invitee accepted or declined.
        MeetingAnswered = "meeting.answered",
        MeetingCancelled = "meeting.cancelled",
        /// The minutes were written (a `meeting` entry of the log).
        MeetingHeld = "meeting.held",
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Change {
    #[schema(minimum = 1)]
    pub seq: i64,
    #[serde(rename = "type")]
    pub change_type: ChangeType,
    pub case_id: Uuid,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangePage {
    #[schema(max_items = 1000)]
    pub items: Vec<Change>,
    /// Pass as `after` next time. It moves past events this client may not see, so it can be ahead of
    /// the last item's `seq`.
    #[schema(minimum = 0)]
    pub next_after: i64,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangeQuery {
    /// The last `seq` handled (0 to start from the beginning).
    #[validate(range(min = 0))]
    #[param(minimum = 0)]
    pub after: Option<i64>,
    #[validate(range(min = 1, max = 1000))]
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: Option<i64>,
    /// Long poll: when nothing is new, wait up to this many seconds for an event before answering.
    #[validate(range(min = 0, max = 30))]
    #[param(minimum = 0, maximum = 30, default = 0)]
    pub wait: Option<u64>,
}
