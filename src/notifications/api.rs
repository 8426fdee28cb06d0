//! What clients send and receive about their notifications. Never diesel rows: see `store.rs`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

crate::text_enum! {
    /// What happened, as a message names it (its text is written from this word alone).
    pub enum NotificationEvent {
        /// A handover of the stafettholder role was proposed to you.
        HandoverProposed = "handover.proposed",
        /// Your proposal of a handover was accepted or declined.
        HandoverAnswered = "handover.answered",
        /// A digital consent waits for your signature.
        SignatureAwaited = "signature.awaited",
        /// A measure you (or, as the holder, your case) answer for is to be evaluated within 7 days.
        EvaluationDue = "evaluation.due",
        /// A consent in force in a case you hold runs out within 30 days.
        ConsentExpiring = "consent.expiring",
        /// The deadline for deciding on a level-0 case you hold has passed.
        DecisionOverdue = "decision.overdue",
        /// An inquiry came to your service.
        InquiryReceived = "inquiry.received",
        /// The service answered your inquiry.
        InquiryAnswered = "inquiry.answered",
        /// A leader made you the stafettholder of a case.
        HolderReassigned = "holder.reassigned",
        /// You are invited to a meeting.
        MeetingInvited = "meeting.invited",
        /// A meeting you are invited to moved, or its place or agenda changed.
        MeetingChanged = "meeting.changed",
        /// A meeting you are invited to was cancelled.
        MeetingCancelled = "meeting.cancelled",
        /// A survey of the municipality's employees has opened (for those who chose to hear of surveys).
        SurveyOpened = "survey.opened",
    }
}

crate::text_enum! {
    /// How a message travels.
    pub enum Channel {
        Email,
        Sms,
    }
}

crate::text_enum! {
    /// Where a message is: waiting (or being retried), sent, or given up (`reason` says why).
    pub enum NotificationState {
        Queued,
        Sent,
        Failed,
    }
}

/// Which channels a person wants messages on.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Channels {
    pub email: bool,
    pub sms: bool,
}

/// A person's notification settings. Their own addresses: the service never takes one from another
/// participant row.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationSettings {
    /// An e-mail address (required when `channels.email` is on).
    #[validate(length(min = 3, max = 254))]
    #[schema(
        max_length = 254,
        format = "email",
        example = "laerer@skole.kommune.no"
    )]
    pub email: Option<String>,
    /// A mobile number in international form, `+` and 8-15 digits (required when `channels.sms` is on).
    #[validate(length(min = 9, max = 16))]
    #[schema(max_length = 16, pattern = r"^\+[0-9]{8,15}$", example = "+4791234567")]
    pub phone: Option<String>,
    pub channels: Channels,
    /// Whether to hear when the municipality opens a survey of its employees (professionals and leaders
    /// only; default off).
    #[serde(default)]
    pub surveys: bool,
}

/// A message sent (or being sent) to the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct SentNotification {
    pub id: Uuid,
    /// When the event happened.
    pub at: DateTime<Utc>,
    pub event: NotificationEvent,
    pub channel: Channel,
    pub state: NotificationState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    /// When it was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    /// Tries so far.
    #[schema(minimum = 0)]
    pub attempts: i32,
    /// Why it failed, or why the last try did (e.g. that e-mail is not configured on this server).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SentQuery {
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// From `next_cursor` of the previous page.
    pub cursor: Option<String>,
}
