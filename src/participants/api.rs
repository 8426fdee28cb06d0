use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::{Validate, ValidationErrors};

use crate::cases::api::{validate_national_id, ExternalRef};

crate::text_enum! {
    pub enum ParticipantKind {
        Professional,
        Guardian,
        Youth,
        Other,
    }
}

crate::text_enum! {
    pub enum Relation {
        Mother,
        Father,
        FosterParent,
        Other,
    }
}

/// A professional: consent is to their service, so a service other than the holder's needs coverage.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProfessional {
    /// The stable user id (`sub` of their tokens).
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub user_id: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// A service code of the municipality.
    #[validate(custom(function = "crate::http::bounds::check_service_code"))]
    #[schema(value_type = crate::http::bounds::ServiceCode)]
    pub service: String,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub title: Option<String>,
    /// References to this person in other systems (unique per municipality and system).
    #[serde(default)]
    #[validate(length(max = 20), nested)]
    #[schema(max_items = 20)]
    pub external_refs: Vec<ExternalRef>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGuardian {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub relation: Relation,
    /// Guardians with parental responsibility must all give consent (rule 4).
    pub parental_responsibility: bool,
    /// Matched against the `pid` claim of a national login. Stored encrypted. The first six digits are a date (DDMMYY; D-numbers add 4 to the first digit, H-numbers 4 and synthetic
    /// test numbers 8 to the third) and the last two are mod-11 check digits: the server verifies both (422
    /// naming the field), which the pattern cannot express.
    #[validate(custom(function = "validate_national_id"))]
    #[schema(pattern = "^[0-9]{11}$", min_length = 11, max_length = 11)]
    pub national_id: Option<String>,
    #[validate(email, length(max = 200))]
    #[schema(format = "email", max_length = 200)]
    pub email: Option<String>,
    #[validate(length(min = 3, max = 30))]
    #[schema(min_length = 3, max_length = 30)]
    pub phone: Option<String>,
    /// References to this person in other systems (unique per municipality and system).
    #[serde(default)]
    #[validate(length(max = 20), nested)]
    #[schema(max_items = 20)]
    pub external_refs: Vec<ExternalRef>,
}

/// The subject youth, who can consent alone from the municipality's self-consent age.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewYouth {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// 11 digits, stored encrypted. The first six digits are a date (DDMMYY; D-numbers add 4 to the first digit, H-numbers 4 and synthetic
    /// test numbers 8 to the third) and the last two are mod-11 check digits: the server verifies both (422
    /// naming the field), which the pattern cannot express.
    #[validate(custom(function = "validate_national_id"))]
    #[schema(pattern = "^[0-9]{11}$", min_length = 11, max_length = 11)]
    pub national_id: Option<String>,
    /// References to this person in other systems (unique per municipality and system).
    #[serde(default)]
    #[validate(length(max = 20), nested)]
    #[schema(max_items = 20)]
    pub external_refs: Vec<ExternalRef>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOther {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// E.g. "grandmother", "interpreter".
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub role: String,
    /// References to this person in other systems (unique per municipality and system).
    #[serde(default)]
    #[validate(length(max = 20), nested)]
    #[schema(max_items = 20)]
    pub external_refs: Vec<ExternalRef>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NewParticipant {
    Professional(NewProfessional),
    Guardian(NewGuardian),
    Youth(NewYouth),
    Other(NewOther),
}

impl Validate for NewParticipant {
    fn validate(&self) -> Result<(), ValidationErrors> {
        match self {
            NewParticipant::Professional(p) => p.validate(),
            NewParticipant::Guardian(p) => p.validate(),
            NewParticipant::Youth(p) => p.validate(),
            NewParticipant::Other(p) => p.validate(),
        }
    }
}

fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn validate_nid_patch(value: &&String) -> Result<(), validator::ValidationError> {
    validate_national_id(value)
}

/// Fields that apply to the participant's kind may change; kind, user id and service never do (a new
/// service is a new participation).
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantPatch {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub title: Option<String>,
    pub relation: Option<Relation>,
    pub parental_responsibility: Option<bool>,
    /// `null` removes it. The first six digits are a date (DDMMYY; D-numbers add 4 to the first digit, H-numbers 4 and synthetic
    /// test numbers 8 to the third) and the last two are mod-11 check digits: the server verifies both (422
    /// naming the field), which the pattern cannot express.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(custom(function = "validate_nid_patch"))]
    #[schema(value_type = Option<String>, nullable, pattern = "^[0-9]{11}$", min_length = 11, max_length = 11)]
    pub national_id: Option<Option<String>>,
    #[validate(email, length(max = 200))]
    #[schema(format = "email", max_length = 200)]
    pub email: Option<String>,
    #[validate(length(min = 3, max = 30))]
    #[schema(min_length = 3, max_length = 30)]
    pub phone: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub role: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantView {
    pub id: Uuid,
    pub kind: ParticipantKind,
    #[schema(max_length = 200)]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200)]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relation: Option<Relation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parental_responsibility: Option<bool>,
    /// In full for the stafettholder, masked (first six digits) for everyone else.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 11, max_length = 11)]
    pub national_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200)]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 30)]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200)]
    pub role: Option<String>,
    pub active: bool,
    pub joined_at: DateTime<Utc>,
    pub left_at: Option<DateTime<Utc>>,
    #[schema(minimum = 1)]
    pub version: i32,
    #[schema(max_items = 20)]
    pub external_refs: Vec<ExternalRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantList {
    #[schema(max_items = 500)]
    pub items: Vec<ParticipantView>,
}

impl NewParticipant {
    pub fn external_refs(&self) -> &[ExternalRef] {
        match self {
            NewParticipant::Professional(p) => &p.external_refs,
            NewParticipant::Guardian(p) => &p.external_refs,
            NewParticipant::Youth(p) => &p.external_refs,
            NewParticipant::Other(p) => &p.external_refs,
        }
    }
}
