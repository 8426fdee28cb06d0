//! What clients send and receive about consultations.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

crate::text_enum! {
    /// How old the child is, roughly; `pregnancy` for a worry about an unborn child.
    pub enum AgeGroup {
        Pregnancy,
        Age0To5 = "0-5",
        Age6To12 = "6-12",
        Age13To15 = "13-15",
        Age16To18 = "16-18",
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsultationInput {
    /// The service asked (its code).
    #[validate(custom(function = "crate::http::bounds::check_service_code"))]
    #[schema(value_type = crate::http::bounds::ServiceCode)]
    pub to_service: String,
    /// Your service that asks; required when your token names more than one.
    #[validate(custom(function = "crate::http::bounds::check_service_code"))]
    #[schema(value_type = Option<crate::http::bounds::ServiceCode>)]
    pub from_service: Option<String>,
    /// The question, without names or national identity numbers (one is refused).
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub question: String,
    pub age_group: Option<AgeGroup>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsultationAnswerInput {
    /// Without names or national identity numbers (one is refused).
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsultationAnswer {
    pub id: Uuid,
    #[schema(max_length = 5000)]
    pub text: String,
    pub answered_at: DateTime<Utc>,
    /// Whether the caller wrote it (who else did is not shown: the asked service answers as a service).
    pub yours: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Consultation {
    pub id: Uuid,
    #[schema(max_length = 64)]
    pub from_service: String,
    #[schema(max_length = 64)]
    pub to_service: String,
    #[schema(max_length = 5000)]
    pub question: String,
    pub age_group: Option<AgeGroup>,
    pub asked_at: DateTime<Utc>,
    /// Whether the caller asked it (the asker is not named to the service asked).
    pub yours: bool,
    #[schema(max_items = 100)]
    pub answers: Vec<ConsultationAnswer>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsultationList {
    /// Those the caller asked and those to the services they work in or lead, newest first (at most 200).
    #[schema(max_items = 200)]
    pub items: Vec<Consultation>,
}
