use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::db::schema::handovers;

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
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
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
    pub user_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HandoverView {
    pub id: Uuid,
    pub case_id: Uuid,
    pub from: HandoverFrom,
    pub to: HandoverTo,
    pub reason: HandoverReason,
    pub note: Option<String>,
    pub answer_by: Option<NaiveDate>,
    /// Pending past its answer-by date: the same as `state` = `expired`.
    #[schema(deprecated)]
    pub overdue: bool,
    pub previous_holder_leaves: bool,
    pub state: HandoverState,
    pub proposed_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub answer_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HandoverList {
    pub items: Vec<HandoverView>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = handovers)]
pub struct HandoverRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub from_participant_id: Uuid,
    pub from_user_id: String,
    pub to_user_id: String,
    pub to_name: String,
    pub to_service: String,
    pub reason: HandoverReason,
    pub note: Option<String>,
    pub answer_by: Option<NaiveDate>,
    pub previous_holder_leaves: bool,
    pub state: HandoverState,
    pub proposed_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub answered_by_user: Option<String>,
    pub answer_reason: Option<String>,
}

impl HandoverRow {
    /// The state as of `today`: a pending handover past its answer-by date is expired.
    pub fn state_on(&self, today: NaiveDate) -> HandoverState {
        if self.state == HandoverState::Pending && expired(self.answer_by, today) {
            HandoverState::Expired
        } else {
            self.state
        }
    }

    /// Answers (accept, decline, cancel) need a pending handover; one already answered, or expired, is a
    /// conflict.
    pub fn require_pending(&self, today: NaiveDate) -> Result<(), crate::http::error::AppError> {
        match self.state_on(today) {
            HandoverState::Pending => Ok(()),
            HandoverState::Expired => Err(crate::http::error::AppError::conflict(
                "the handover expired: its answer-by date has passed; the holder may propose again",
            )),
            state => Err(crate::http::error::AppError::conflict(format!(
                "the handover is already {}",
                state.as_str()
            ))),
        }
    }

    pub fn view(&self, today: NaiveDate) -> HandoverView {
        HandoverView {
            id: self.id,
            case_id: self.case_id,
            from: HandoverFrom {
                participant_id: self.from_participant_id,
                user_id: self.from_user_id.clone(),
            },
            to: HandoverTo {
                user_id: self.to_user_id.clone(),
                name: self.to_name.clone(),
                service: self.to_service.clone(),
            },
            reason: self.reason,
            note: self.note.clone(),
            answer_by: self.answer_by,
            overdue: self.state_on(today) == HandoverState::Expired,
            previous_holder_leaves: self.previous_holder_leaves,
            state: self.state_on(today),
            proposed_at: self.proposed_at,
            answered_at: self.answered_at,
            answer_reason: self.answer_reason.clone(),
        }
    }
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
