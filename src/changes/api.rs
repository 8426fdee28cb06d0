//! What the change feed says: the type of each event, and the page an integration reads.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, strum::IntoStaticStr)]
pub enum ChangeType {
    #[serde(rename = "case.opened")]
    #[strum(serialize = "case.opened")]
    CaseOpened,
    #[serde(rename = "case.updated")]
    #[strum(serialize = "case.updated")]
    CaseUpdated,
    #[serde(rename = "case.closed")]
    #[strum(serialize = "case.closed")]
    CaseClosed,
    /// The retention period was over: the case's personal data was erased (it remains as a tombstone).
    #[serde(rename = "case.purged")]
    #[strum(serialize = "case.purged")]
    CasePurged,
    #[serde(rename = "case.imported")]
    #[strum(serialize = "case.imported")]
    CaseImported,
    #[serde(rename = "participant.added")]
    #[strum(serialize = "participant.added")]
    ParticipantAdded,
    #[serde(rename = "participant.updated")]
    #[strum(serialize = "participant.updated")]
    ParticipantUpdated,
    #[serde(rename = "participant.deactivated")]
    #[strum(serialize = "participant.deactivated")]
    ParticipantDeactivated,
    #[serde(rename = "consent.recorded")]
    #[strum(serialize = "consent.recorded")]
    ConsentRecorded,
    #[serde(rename = "consent.withdrawn")]
    #[strum(serialize = "consent.withdrawn")]
    ConsentWithdrawn,
    /// A giver signed a digital consent (it is effective once every named giver has).
    #[serde(rename = "consent.signed")]
    #[strum(serialize = "consent.signed")]
    ConsentSigned,
    #[serde(rename = "measure.created")]
    #[strum(serialize = "measure.created")]
    MeasureCreated,
    #[serde(rename = "measure.updated")]
    #[strum(serialize = "measure.updated")]
    MeasureUpdated,
    #[serde(rename = "evaluation.added")]
    #[strum(serialize = "evaluation.added")]
    EvaluationAdded,
    #[serde(rename = "level.changed")]
    #[strum(serialize = "level.changed")]
    LevelChanged,
    #[serde(rename = "step.moved")]
    #[strum(serialize = "step.moved")]
    StepMoved,
    #[serde(rename = "handover.proposed")]
    #[strum(serialize = "handover.proposed")]
    HandoverProposed,
    #[serde(rename = "handover.accepted")]
    #[strum(serialize = "handover.accepted")]
    HandoverAccepted,
    #[serde(rename = "handover.declined")]
    #[strum(serialize = "handover.declined")]
    HandoverDeclined,
    #[serde(rename = "handover.cancelled")]
    #[strum(serialize = "handover.cancelled")]
    HandoverCancelled,
    /// A leader moved the stafettholder role at once (the holder was away or has left).
    #[serde(rename = "holder.reassigned")]
    #[strum(serialize = "holder.reassigned")]
    HolderReassigned,
    #[serde(rename = "entry.added")]
    #[strum(serialize = "entry.added")]
    EntryAdded,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Change {
    pub seq: i64,
    /// case.opened, case.updated, case.closed, case.imported, participant.added, participant.updated,
    /// participant.deactivated, consent.recorded, consent.withdrawn, measure.created, measure.updated,
    /// evaluation.added, level.changed, step.moved, handover.proposed|accepted|declined|cancelled, entry.added
    #[serde(rename = "type")]
    pub change_type: String,
    pub case_id: Uuid,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangePage {
    pub items: Vec<Change>,
    /// Pass as `after` next time. It moves past events this client may not see, so it can be ahead of
    /// the last item's `seq`.
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
