use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::rules::{ConsentState, NotEffectiveReason};

crate::text_enum! {
    pub enum ConsentForm {
        Written,
        Oral,
        Digital,
    }
}

/// A consent to share the case with services (never with named people).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    /// Participant ids of the givers: guardians with parental responsibility, or the subject youth.
    #[validate(length(min = 1, max = 10))]
    #[schema(min_items = 1, max_items = 10)]
    pub given_by: Vec<Uuid>,
    /// Service codes the consent covers.
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
    /// Defaults to `valid_from` plus the municipality's consent validity. Not before `valid_from`, nor
    /// before today: a consent that ran out before it was recorded never covered the case (422).
    #[validate(custom(function = "crate::dates::date"))]
    pub valid_until: Option<NaiveDate>,
    pub form: ConsentForm,
    /// Where the signed paper or the digital signature is kept.
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub document_ref: Option<String>,
    /// A consent of this case that this one replaces.
    pub supersedes: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedBy {
    #[schema(max_length = 200)]
    pub user_id: String,
    #[schema(max_length = 200)]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentView {
    pub id: Uuid,
    #[schema(max_items = 10)]
    pub given_by: Vec<Uuid>,
    /// The givers who have signed. A consent recorded by the stafettholder (written, oral, or digital
    /// given elsewhere) counts as signed by all; a guardian's digital consent by the recorder only.
    #[schema(max_items = 10)]
    pub signed_by: Vec<Uuid>,
    /// Givers who still have to sign it themselves (`POST .../consents/{cid}/sign`): until then it is
    /// `pending_signatures` and not effective.
    #[schema(max_items = 10)]
    pub missing_signatures: Vec<Uuid>,
    #[schema(value_type = Vec<crate::http::bounds::ServiceCode>, max_items = 50)]
    pub services: Vec<String>,
    #[schema(max_length = 2000)]
    pub purpose: String,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub form: ConsentForm,
    #[schema(max_length = 500)]
    pub document_ref: Option<String>,
    pub supersedes: Option<Uuid>,
    pub superseded_by: Option<Uuid>,
    /// Computed from the dates on every read: expiry needs no background job.
    pub state: ConsentState,
    pub recorded_by: RecordedBy,
    pub recorded_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_by: Option<Uuid>,
    #[schema(max_length = 2000)]
    pub withdrawal_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentList {
    #[schema(max_items = 500)]
    pub items: Vec<ConsentView>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawRequest {
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
    /// The giver on whose behalf the stafettholder withdraws; required from the holder.
    pub on_behalf_of: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotEffective {
    pub consent_id: Uuid,
    #[schema(max_items = 10)]
    pub reasons: Vec<NotEffectiveReason>,
    /// Who has not signed it yet (reason `pending_signatures`).
    #[schema(max_items = 10)]
    pub missing_signatures: Vec<Uuid>,
}

/// What the consents of the case cover today.
#[derive(Debug, Serialize, ToSchema)]
pub struct EffectiveConsentView {
    pub effective: bool,
    #[schema(value_type = Vec<crate::http::bounds::ServiceCode>, max_items = 1000)]
    pub services: Vec<String>,
    #[schema(max_items = 500)]
    pub givers: Vec<Uuid>,
    /// When the first of the effective consents runs out.
    pub valid_until: Option<NaiveDate>,
    #[schema(max_items = 500)]
    pub consent_ids: Vec<Uuid>,
    /// Recorded consents that are not effective, and why.
    #[schema(max_items = 500)]
    pub not_effective: Vec<NotEffective>,
}
