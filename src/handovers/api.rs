use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

crate::text_enum! {
    pub enum HandoverReason {
        /// A transition, e.g. kindergarten -> school.
        Transition,
        ChangeOfService,
        Absence,
        Other,
    }
}

crate::text_enum! {
    /// FHIR Task's vocabulary, narrowed to what a relay needs.
pub enum HandoverState {
        Pending,
        Accepted,
        Declined,
        Cancelled,
        /// Pending past its answer-by date: it can no longer be accepted. Computed when read (no job);
        /// stored only once a new proposal needs the case's one pending slot.
        Expired,
    }
}

/// A pending handover expires when its answer-by date has passed (the handover states of docs/rules.md).
pub fn expired(answer_by: Option<NaiveDate>, today: NaiveDate) -> bool {
    answer_by.is_some_and(|d| d < today)
}

/// The professional who is to take over; they need not be in the case yet.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverTo {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub user_id: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Their service: the holder's own, or one the effective consent covers.
    #[validate(custom(function = "crate::http::bounds::check_service_code"))]
    #[schema(value_type = crate::http::bounds::ServiceCode)]
    pub service: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverInput {
    #[validate(nested)]
    pub to: HandoverTo,
    pub reason: HandoverReason,
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub note: Option<String>,
    /// The date by which the recipient should answer. Past it the handover is `expired`: it can no longer
    /// be accepted, and the current holder keeps the role (propose again, or a leader reassigns).
    #[validate(custom(function = "crate::dates::date"))]
    pub answer_by: Option<NaiveDate>,
    /// Whether the current holder leaves the case when the handover is accepted (default: stays).
    #[serde(default)]
    pub previous_holder_leaves: bool,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineInput {
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub reason: String,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelInput {
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub reason: Option<String>,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInput {}

#[derive(Debug, Serialize, ToSchema)]
pub struct HandoverFrom {
    pub participant_id: Uuid,
    #[schema(max_length = 200)]
    pub user_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HandoverView {
    pub id: Uuid,
    pub case_id: Uuid,
    pub from: HandoverFrom,
    pub to: HandoverTo,
    pub reason: HandoverReason,
    #[schema(max_length = 5000)]
    pub note: Option<String>,
    pub answer_by: Option<NaiveDate>,
    /// Pending past its answer-by date: the same as `state` = `expired`.
    #[schema(deprecated)]
    pub overdue: bool,
    pub previous_holder_leaves: bool,
    pub state: HandoverState,
    pub proposed_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    #[schema(max_length = 5000)]
    pub answer_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HandoverList {
    #[schema(max_items = 1000)]
    pub items: Vec<HandoverView>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// Default `pending`.
    pub status: Option<HandoverState>,
}

crate::text_enum! {
    pub enum ReassignReason {
        /// The holder is away (sick leave, leave of absence).
        Absence,
        /// The holder has left the service or the municipality: they leave the case too.
        Left,
        Workload,
        Other,
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReassignInput {
    /// The new stafettholder: a professional of the holder's service or of one the effective consent covers.
    #[validate(nested)]
    pub to: HandoverTo,
    pub reason: ReassignReason,
    /// Shown in the reassignment's record; the timeline and the access log carry the reason only.
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub note: Option<String>,
}
