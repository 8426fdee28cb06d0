use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

#[derive(Debug, Serialize, ToSchema)]
pub struct Municipality {
    /// The 4-digit kommunenummer.
    #[schema(
        example = "3805",
        pattern = "^[0-9]{4}$",
        min_length = 4,
        max_length = 4
    )]
    pub number: String,
    #[schema(max_length = 200)]
    pub name: String,
    /// The age from which a youth consents alone.
    #[schema(minimum = 15, maximum = 16)]
    pub self_consent_age: i16,
    /// Days from opening a case at level 0 to the decision on it.
    #[schema(minimum = 1, maximum = 365)]
    pub level0_deadline_days: i32,
    /// How long a consent is valid when it names no end date.
    #[schema(minimum = 1, maximum = 120)]
    pub consent_validity_months: i32,
    /// Days an inquiry may wait for an answer before it shows in the attention of its service.
    #[schema(minimum = 1, maximum = 90)]
    pub inquiry_attention_days: i32,
    /// Years a closed case is kept before `stafettlogg purge` erases its personal data (default 10).
    #[schema(minimum = 1, maximum = 100)]
    pub retention_years: i16,
    /// Whether the purge may erase a closed case no archive system has reported as archived (default
    /// false: the record goes to the archive first).
    pub purge_unarchived: bool,
    /// Years after its closing that a survey of the employees keeps its counts per service; after them
    /// `stafettlogg purge` leaves only the counts per service kind (default 5).
    #[schema(minimum = 1, maximum = 100)]
    pub survey_retention_years: i16,
    #[schema(minimum = 1)]
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MunicipalityPatch {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[validate(range(min = 15, max = 16))]
    #[schema(minimum = 15, maximum = 16)]
    pub self_consent_age: Option<i16>,
    #[validate(range(min = 1, max = 365))]
    #[schema(minimum = 1, maximum = 365)]
    pub level0_deadline_days: Option<i32>,
    #[validate(range(min = 1, max = 120))]
    #[schema(minimum = 1, maximum = 120)]
    pub consent_validity_months: Option<i32>,
    #[validate(range(min = 1, max = 90))]
    #[schema(minimum = 1, maximum = 90)]
    pub inquiry_attention_days: Option<i32>,
    #[validate(range(min = 1, max = 100))]
    #[schema(minimum = 1, maximum = 100)]
    pub retention_years: Option<i16>,
    pub purge_unarchived: Option<bool>,
    #[validate(range(min = 1, max = 100))]
    #[schema(minimum = 1, maximum = 100)]
    pub survey_retention_years: Option<i16>,
}
