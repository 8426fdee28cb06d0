//! What clients send and receive for inquiries. Never diesel rows: see `store.rs` for those.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::cases::api::{validate_birth_date, validate_national_id, ExternalRef, SubjectInput};

crate::text_enum! {
    /// Whom the inquiry is about.
    pub enum InquiryAbout {
        OwnChild,
        /// Another family's child: no national id, visible only to the receiving service, and its text
        /// is erased 90 days after the inquiry is closed.
        OtherChild,
        Myself,
        Pregnancy,
    }
}

crate::text_enum! {
    /// What the inquirer would like.
    pub enum InquiryWants {
        Conversation,
        Advice,
    }
}

crate::text_enum! {
    pub enum InquiryStatus {
        /// Waiting for the service.
        Open,
        /// The service has answered; it may answer again, close it or open a case.
        Answered,
        /// A case was opened from it (`case_id`).
        CaseOpened,
        Closed,
    }
}

/// The child the inquiry is about (own or another family's).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InquiryChild {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub given_name: String,
    /// Not in the future, not before 1900.
    #[validate(custom(function = "validate_birth_date"))]
    pub birth_date: Option<NaiveDate>,
    /// Only for `own_child`: another family's child is never identified by number (422). Stored encrypted.
    /// 11 digits whose check digits the server verifies.
    #[validate(custom(function = "validate_national_id"))]
    #[schema(
        pattern = "^[0-9]{11}$",
        example = "14832010082",
        min_length = 11,
        max_length = 11
    )]
    pub national_id: Option<String>,
}

/// How the service may reach the inquirer, besides the answer in the service.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InquiryContact {
    #[validate(length(min = 3, max = 30))]
    #[schema(min_length = 3, max_length = 30)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[validate(email, length(max = 200))]
    #[schema(format = "email", max_length = 200)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A family asks a service for help (a guardian or youth signed in through a national login).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInquiry {
    /// The code of an active service of the caller's municipality.
    #[validate(custom(function = "crate::http::bounds::check_service_code"))]
    #[schema(value_type = crate::http::bounds::ServiceCode)]
    pub service: String,
    pub about: InquiryAbout,
    /// For `own_child` and `other_child` only.
    #[validate(nested)]
    pub child: Option<InquiryChild>,
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub message: String,
    #[validate(nested)]
    pub contact: Option<InquiryContact>,
    pub wants: InquiryWants,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InquiryChildView {
    #[schema(max_length = 200)]
    pub given_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    /// In full when one inquiry is read; masked to its first six digits in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 11, max_length = 11)]
    pub national_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerView {
    pub at: DateTime<Utc>,
    /// The professional who answered.
    #[schema(max_length = 200)]
    pub by_name: String,
    /// `null` once the inquiry's text was erased.
    #[schema(max_length = 5000)]
    pub message: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InquiryView {
    pub id: Uuid,
    #[schema(max_length = 64)]
    pub service: String,
    pub about: InquiryAbout,
    /// `null` when none was given, or once erased.
    pub child: Option<InquiryChildView>,
    /// `null` only once erased (an inquiry about another family's child, 90 days after it was closed).
    #[schema(max_length = 5000)]
    pub message: Option<String>,
    pub contact: Option<InquiryContact>,
    pub wants: InquiryWants,
    pub status: InquiryStatus,
    pub created_at: DateTime<Utc>,
    /// Oldest first.
    #[schema(max_items = 100)]
    pub answers: Vec<AnswerView>,
    /// The case opened from it (status `case_opened`).
    pub case_id: Option<Uuid>,
    pub closed_at: Option<DateTime<Utc>>,
    /// When its text was erased (data minimisation); then `message`, `child`, `contact` and the
    /// answers' messages are `null`.
    pub erased_at: Option<DateTime<Utc>>,
}

/// An answer from the service to the inquirer.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub message: String,
}

/// Open a level-0 case from an inquiry: the body of `POST /api/v1/cases` without `service` (the case
/// starts in the inquiry's service).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseFromInquiryRequest {
    #[validate(nested)]
    pub subject: SubjectInput,
    /// The undring or bekymring, in words.
    #[validate(length(min = 1, max = 20000))]
    #[schema(min_length = 1, max_length = 20000)]
    pub concern: String,
    #[validate(length(max = 20), nested)]
    #[serde(default)]
    #[schema(max_items = 20)]
    pub external_refs: Vec<ExternalRef>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// One of the caller's services; all of them when left out.
    #[validate(custom(function = "crate::http::bounds::check_service_code"))]
    #[param(
        min_length = 1,
        max_length = 64,
        pattern = "^[a-z0-9][a-z0-9_-]{0,63}$"
    )]
    pub service: Option<String>,
    pub status: Option<InquiryStatus>,
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// From `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MyInquiriesQuery {
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// From `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// An inquiry waiting for its service longer than the municipality allows (`inquiry_attention_days`).
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitingInquiry {
    pub inquiry_id: Uuid,
    #[schema(max_length = 64)]
    pub service: String,
    pub about: InquiryAbout,
    pub created_at: DateTime<Utc>,
    /// Whole days since it was sent.
    #[schema(minimum = 0)]
    pub waiting_days: i64,
}
