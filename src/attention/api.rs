//! What needs attention, as the answers show it: a professional's list and a service leader's. Case ids,
//! dates and names of staff only; never content.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct OverdueEvaluation {
    pub case_id: Uuid,
    pub measure_id: Uuid,
    #[schema(max_length = 200)]
    pub title: String,
    pub evaluate_by: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OverdueDecision {
    pub case_id: Uuid,
    pub decision_due: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExpiringConsent {
    pub case_id: Uuid,
    pub consent_id: Uuid,
    pub valid_until: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Attention {
    #[schema(max_items = 1000)]
    pub overdue_evaluations: Vec<OverdueEvaluation>,
    #[schema(max_items = 1000)]
    pub overdue_level0_decisions: Vec<OverdueDecision>,
    #[schema(max_items = 1000)]
    pub consents_expiring: Vec<ExpiringConsent>,
    /// Pending handovers addressed to me; `overdue` once past their answer-by date.
    #[schema(max_items = 1000)]
    pub handovers_waiting: Vec<crate::handovers::api::HandoverView>,
    /// Inquiries to my services that no one has answered for longer than the municipality's
    /// `inquiry_attention_days` (default 5), oldest first.
    #[schema(max_items = 200)]
    pub inquiries_waiting: Vec<crate::inquiries::api::WaitingInquiry>,
    /// How many of my open cases were looked through.
    #[schema(value_type = i64, minimum = 0, maximum = 2000)]
    pub cases_checked: usize,
    /// `false` when I have more open cases than one answer looks through (2,000), or a list above had
    /// more items than one answer holds (1,000 of each kind, 200 waiting inquiries): the case list
    /// (`GET /api/v1/cases?holder=me`) and the inquiry inbox show the rest.
    pub complete: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeaderDecisionDue {
    pub case_id: Uuid,
    pub decision_due: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeaderEvaluationDue {
    pub case_id: Uuid,
    pub measure_id: Uuid,
    pub evaluate_by: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeaderHandoverWaiting {
    pub case_id: Uuid,
    pub handover_id: Uuid,
    #[schema(max_length = 200)]
    pub to_name: String,
    #[schema(max_length = 64)]
    pub to_service: String,
    pub proposed_at: DateTime<Utc>,
    pub answer_by: Option<NaiveDate>,
    /// Past its answer-by date: it can no longer be accepted; propose again or reassign.
    pub expired: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeaderConsentExpiring {
    pub case_id: Uuid,
    pub consent_id: Uuid,
    pub valid_until: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeaderDepartedHolder {
    pub case_id: Uuid,
    #[schema(max_length = 200)]
    pub holder_user_id: String,
    #[schema(max_length = 200)]
    pub holder_name: String,
    pub departed_on: NaiveDate,
}

/// What needs the leader of one service: on the open cases held in it, level-0 decisions past their
/// deadline, overdue evaluations, handovers pending more than 7 days or past their answer-by date,
/// consents (not withdrawn or superseded) running out within 30 days, and holders who have departed;
/// and inquiries to the service waiting longer than the municipality allows.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceAttention {
    #[schema(max_length = 64)]
    pub service: String,
    #[schema(max_items = 1000)]
    pub overdue_level0_decisions: Vec<LeaderDecisionDue>,
    #[schema(max_items = 1000)]
    pub overdue_evaluations: Vec<LeaderEvaluationDue>,
    #[schema(max_items = 1000)]
    pub handovers_waiting: Vec<LeaderHandoverWaiting>,
    #[schema(max_items = 1000)]
    pub consents_expiring: Vec<LeaderConsentExpiring>,
    #[schema(max_items = 1000)]
    pub departed_holders: Vec<LeaderDepartedHolder>,
    #[schema(max_items = 200)]
    pub inquiries_waiting: Vec<crate::inquiries::api::WaitingInquiry>,
    /// `false` when a list above had more items than one answer holds (1,000 of each kind, 200 waiting
    /// inquiries): the service's case list (`GET /api/v1/services/{code}/cases`) and its inquiry inbox
    /// show them all.
    pub complete: bool,
}
