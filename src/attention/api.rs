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
    pub overdue_evaluations: Vec<OverdueEvaluation>,
    pub overdue_level0_decisions: Vec<OverdueDecision>,
    pub consents_expiring: Vec<ExpiringConsent>,
    /// Pending handovers addressed to me; `overdue` once past their answer-by date.
    pub handovers_waiting: Vec<crate::handovers::api::HandoverView>,
    /// Inquiries to my services that no one has answered for longer than the municipality's
    /// `inquiry_attention_days` (default 5), oldest first.
    pub inquiries_waiting: Vec<crate::inquiries::api::WaitingInquiry>,
    /// How many of my open cases were looked through.
    pub cases_checked: usize,
    /// `false` when I have more open cases than one answer looks through (2,000): the lists above then
    /// cover the newest cases only, and the case list (`GET /api/v1/cases?holder=me`) shows the rest.
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
    pub to_name: String,
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
    pub holder_user_id: String,
    pub holder_name: String,
    pub departed_on: NaiveDate,
}

/// What needs the leader of one service: on the open cases held in it, level-0 decisions past their
/// deadline, overdue evaluations, handovers pending more than 7 days or past their answer-by date,
/// consents (not withdrawn or superseded) running out within 30 days, and holders who have departed;
/// and inquiries to the service waiting longer than the municipality allows.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceAttention {
    pub service: String,
    pub overdue_level0_decisions: Vec<LeaderDecisionDue>,
    pub overdue_evaluations: Vec<LeaderEvaluationDue>,
    pub handovers_waiting: Vec<LeaderHandoverWaiting>,
    pub consents_expiring: Vec<LeaderConsentExpiring>,
    pub departed_holders: Vec<LeaderDepartedHolder>,
    pub inquiries_waiting: Vec<crate::inquiries::api::WaitingInquiry>,
}
