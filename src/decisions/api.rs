use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

crate::text_enum! {
    /// How the level-0 period ends (rule 12): `close` (no further follow-up is needed), `level_1` or
    /// `level_2` (through the level rules, as a level change would), or `report_child_welfare`: the service
    /// sent a report of concern to barnevern under its duty to report (barnevernsloven § 13-2). The report
    /// itself goes to barnevern outside this service; the record of it is shown only to the reporting
    /// service and the stafettholder's (rule 11).
    pub enum DecisionOutcome {
        Close,
        Level1 = "level_1",
        Level2 = "level_2",
        ReportChildWelfare = "report_child_welfare",
    }
}

impl DecisionOutcome {
    /// The level the case moves to, for the outcomes that move it.
    pub fn to_level(self) -> Option<i16> {
        match self {
            DecisionOutcome::Level1 => Some(1),
            DecisionOutcome::Level2 => Some(2),
            DecisionOutcome::Close | DecisionOutcome::ReportChildWelfare => None,
        }
    }
}

/// The longest note a decision takes.
pub const MAX_NOTE_LENGTH: u64 = 2000;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub outcome: DecisionOutcome,
    /// When the decision was made: within the level-0 period, not in the future.
    #[validate(custom(function = "crate::dates::date"))]
    pub decided_on: NaiveDate,
    /// Why; it becomes the level change's reason or the closing note. For a report, what was reported
    /// and to whom stays in the reporting service's own record system: keep this short.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub note: Option<String>,
}

/// A recorded level-0 decision.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Decision {
    pub id: Uuid,
    pub outcome: DecisionOutcome,
    pub decided_on: NaiveDate,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// The stafettholder's service when it was decided (for a report: the reporting service).
    #[schema(max_length = 64)]
    pub service: String,
    pub recorded_at: DateTime<Utc>,
    /// The participant who recorded it.
    pub recorded_by: Uuid,
    #[schema(max_length = 200)]
    pub recorded_by_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionList {
    /// Oldest first; a report only for those who may see it.
    #[schema(max_items = 100)]
    pub items: Vec<Decision>,
}
