use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

crate::text_enum! {
    pub enum ServiceKind {
        Helsestasjon,
        Barnehage,
        Skole,
        Skolehelsetjeneste,
        Ppt,
        Barnevern,
        Bup,
        Fastlege,
        Nav,
        Familiesenter,
        PsykiskHelseRus,
        KoordinerendeEnhet,
        Other,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Service {
    pub id: Uuid,
    #[schema(example = "barnehage-solstua", max_length = 64)]
    pub code: String,
    #[schema(max_length = 200)]
    pub name: String,
    pub kind: ServiceKind,
    #[schema(min_length = 9, max_length = 9)]
    pub org_number: Option<String>,
    pub active: bool,
    /// Public contact details, shown on the municipality's guide (`null` when none are given).
    pub contact: Option<ServiceContact>,
    #[schema(minimum = 1)]
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

/// How the public reaches a service: shown in the action guide's "whom to contact". Every field is
/// optional; an empty object removes them all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceContact {
    #[validate(custom(function = "validate_phone"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        pattern = "^[0-9+ ()-]{3,40}$",
        example = "+47 77 00 00 00",
        min_length = 3,
        max_length = 40
    )]
    pub phone: Option<String>,
    #[validate(email, length(max = 254))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        format = "email",
        max_length = 254,
        example = "helsestasjon@kommune.no"
    )]
    pub email: Option<String>,
    #[validate(length(min = 1, max = 500))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 500)]
    pub address: Option<String>,
    /// `https://` or `http://`.
    #[validate(custom(function = "validate_web"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        max_length = 2000,
        pattern = "^https?://\\S+$",
        example = "https://www.kommune.no/helsestasjon"
    )]
    pub web: Option<String>,
}

impl ServiceContact {
    pub fn from_columns(
        phone: Option<String>,
        email: Option<String>,
        address: Option<String>,
        web: Option<String>,
    ) -> Option<ServiceContact> {
        let c = ServiceContact {
            phone,
            email,
            address,
            web,
        };
        (c != ServiceContact::default()).then_some(c)
    }
}

fn validate_phone(phone: &str) -> Result<(), validator::ValidationError> {
    let ok = (3..=40).contains(&phone.len())
        && phone
            .bytes()
            .all(|b| b.is_ascii_digit() || b" +()-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(validator::ValidationError::new("phone")
            .with_message("3-40 digits, spaces, '+', '(', ')' or '-'".into()))
    }
}

fn validate_web(web: &str) -> Result<(), validator::ValidationError> {
    if crate::http::extract::url_ok(web) {
        Ok(())
    } else {
        Err(validator::ValidationError::new("url")
            .with_message("an http:// or https:// address of at most 2000 characters".into()))
    }
}

fn validate_org_number(org: &str) -> Result<(), validator::ValidationError> {
    if org.len() == 9 && org.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(validator::ValidationError::new("regex")
            .with_message("an organisation number has 9 digits".into()))
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewServiceRequest {
    #[validate(custom(function = "crate::http::bounds::check_service_code"))]
    #[schema(value_type = crate::http::bounds::ServiceCode)]
    pub code: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub kind: ServiceKind,
    #[validate(custom(function = "validate_org_number"))]
    #[schema(pattern = "^[0-9]{9}$", min_length = 9, max_length = 9)]
    pub org_number: Option<String>,
    /// `true` when left out. (Not a schema `default`: client generators would then make it required.)
    #[serde(default = "yes")]
    pub active: bool,
    #[validate(nested)]
    pub contact: Option<ServiceContact>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicePatch {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub kind: Option<ServiceKind>,
    #[validate(custom(function = "validate_org_number"))]
    #[schema(pattern = "^[0-9]{9}$", min_length = 9, max_length = 9)]
    pub org_number: Option<String>,
    pub active: Option<bool>,
    /// Replaces all contact details; `{}` removes them.
    #[validate(nested)]
    pub contact: Option<ServiceContact>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ServiceListQuery {
    /// Only active (true) or inactive (false) services.
    pub active: Option<bool>,
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// From `next_cursor` of the previous page.
    pub cursor: Option<String>,
}
