//! What clients send and receive for cases. Never diesel rows: see `store.rs` for those.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::national_id::NationalId;

crate::text_enum! {
    pub enum SubjectKind {
        Child,
        Youth,
        Pregnant,
        Family,
    }
}

crate::text_enum! {
    pub enum CaseStatus {
        Open,
        Closed,
    }
}

crate::text_enum! {
    pub enum CloseReason {
        GoalReached,
        NoNeed,
        GuardiansEnded,
        ConsentWithdrawn,
        ConsentExpired,
        MovedToIndividualPlan,
        MovedAway,
        Other,
    }
}

pub(crate) fn validate_national_id(value: &str) -> Result<(), ValidationError> {
    NationalId::parse(value)
        .map(|_| ())
        .map_err(|e| ValidationError::new("national_id").with_message(e.to_string().into()))
}

pub(crate) fn validate_birth_date(value: &NaiveDate) -> Result<(), ValidationError> {
    if *value > crate::clock::today() {
        Err(ValidationError::new("birth_date").with_message("cannot be in the future".into()))
    } else if *value < NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid") {
        Err(ValidationError::new("birth_date").with_message("must be after 1900-01-01".into()))
    } else {
        Ok(())
    }
}

/// Whom the concern is about.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectInput {
    pub kind: SubjectKind,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub given_name: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub family_name: String,
    /// Not in the future.
    #[validate(custom(function = "validate_birth_date"))]
    pub birth_date: Option<NaiveDate>,
    /// 11 digits: fødselsnummer, D-number, H-number or a synthetic test number. Stored encrypted. The first six digits are a date (DDMMYY; D-numbers add 4 to the first digit, H-numbers 4 and synthetic
    /// test numbers 8 to the third) and the last two are mod-11 check digits: the server verifies both (422
    /// naming the field), which the pattern cannot express.
    #[validate(custom(function = "validate_national_id"))]
    #[schema(
        pattern = "^[0-9]{11}$",
        example = "14832010082",
        min_length = 11,
        max_length = 11
    )]
    pub national_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExternalRef {
    /// The other system's name, e.g. `visma-flyt-skole`.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub system: String,
    /// The case's id in that system.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub id: String,
}

/// The `system` of the reference an export gives a case opened without any: the case's own id in the
/// service of this municipality.
pub fn own_reference_system(municipality: &str) -> String {
    format!("{OWN_REFERENCE_PREFIX}{municipality}")
}

const OWN_REFERENCE_PREFIX: &str = "stafettlogg-";

/// Open a case at level 0 in one of the caller's services.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenCaseRequest {
    /// The code of one of the caller's services (token claim `services`); the case starts there.
    #[validate(custom(function = "crate::http::bounds::check_service_code"))]
    #[schema(value_type = crate::http::bounds::ServiceCode)]
    pub service: String,
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

#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectView {
    pub kind: SubjectKind,
    #[schema(max_length = 200)]
    pub given_name: String,
    #[schema(max_length = 200)]
    pub family_name: String,
    pub birth_date: Option<NaiveDate>,
    /// In full for the stafettholder; masked to the first six digits for everyone else.
    #[schema(min_length = 11, max_length = 11)]
    pub national_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentSummary {
    pub effective: bool,
    #[schema(value_type = Vec<crate::http::bounds::ServiceCode>, max_items = 1000)]
    pub services: Vec<String>,
    pub valid_until: Option<NaiveDate>,
}

/// Where a closed case was archived (`POST /cases/{id}/archived`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchivedInput {
    /// The archive system (e.g. `elements`, `public360`).
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub system: String,
    /// The case's reference in that system.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub reference: String,
    /// When it was taken in: not before the case closed, not in the future.
    #[validate(custom(function = "crate::dates::date"))]
    pub archived_on: NaiveDate,
}

/// Where a closed case was archived, and who reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Archived {
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub system: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub reference: String,
    #[validate(custom(function = "crate::dates::date"))]
    pub archived_on: NaiveDate,
    /// The login (token `sub`) of the administrator or integration that reported it.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub archived_by: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HolderView {
    pub participant_id: Uuid,
    #[schema(max_length = 200)]
    pub user_id: String,
    #[schema(max_length = 200)]
    pub name: String,
    #[schema(max_length = 64)]
    pub service: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    pub id: Uuid,
    #[schema(min_length = 4, max_length = 4)]
    pub municipality: String,
    pub subject: SubjectView,
    #[schema(max_length = 20000)]
    pub concern: String,
    pub status: CaseStatus,
    #[schema(minimum = 0, maximum = 3)]
    pub level: i16,
    /// The stafettholder.
    pub holder: HolderView,
    /// What the effective consent covers today.
    pub consent: ConsentSummary,
    /// The service the case was opened in.
    #[schema(max_length = 64)]
    pub opened_in_service: String,
    /// At level 0: the date by which to decide (close, level 1 or 2, or report to child welfare).
    pub decision_due: Option<NaiveDate>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<CloseReason>,
    #[schema(max_length = 5000)]
    pub close_note: Option<String>,
    /// Set when the retention period was over and `stafettlogg purge` erased the case's personal data:
    /// what remains is a tombstone (levels, dates, states; names and free text read `[slettet]`).
    pub purged_at: Option<DateTime<Utc>>,
    /// Set when an archive system reported the closed case taken into the municipality's archive; the
    /// retention purge erases only such cases, unless the municipality allows otherwise.
    pub archived: Option<Archived>,
    #[schema(minimum = 1)]
    pub version: i32,
    #[schema(max_items = 20)]
    pub external_refs: Vec<ExternalRef>,
    /// The step of the municipality's action guide the case stands on, as it was in the guide version it
    /// was taken from; `null` for a case imported without one.
    pub guide_step: Option<crate::guide::api::CaseGuideStep>,
    /// What comes next in the level, so a front end can show "what now"; `null` on a level's last step.
    pub next_step: Option<crate::guide::api::NextStep>,
}

/// `null` clears a field, a missing key leaves it as it is.
fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

// validator unwraps both layers of `Option<Option<T>>` before calling these, hence `&&T`.
fn validate_optional_national_id(value: &&String) -> Result<(), ValidationError> {
    validate_national_id(value)
}

fn validate_optional_birth_date(value: &&NaiveDate) -> Result<(), ValidationError> {
    validate_birth_date(value)
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectPatch {
    pub kind: Option<SubjectKind>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub given_name: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub family_name: Option<String>,
    /// Not in the future; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(custom(function = "validate_optional_birth_date"))]
    #[schema(value_type = Option<NaiveDate>, nullable)]
    pub birth_date: Option<Option<NaiveDate>>,
    /// `null` removes it. The first six digits are a date (DDMMYY; D-numbers add 4 to the first digit, H-numbers 4 and synthetic
    /// test numbers 8 to the third) and the last two are mod-11 check digits: the server verifies both (422
    /// naming the field), which the pattern cannot express.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(custom(function = "validate_optional_national_id"))]
    #[schema(value_type = Option<String>, nullable, pattern = "^[0-9]{11}$", min_length = 11, max_length = 11)]
    pub national_id: Option<Option<String>>,
}

/// Change the concern text or the subject (stafettholder, with `If-Match`).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CasePatch {
    #[validate(length(min = 1, max = 20000))]
    #[schema(min_length = 1, max_length = 20000)]
    pub concern: Option<String>,
    #[validate(nested)]
    pub subject: Option<SubjectPatch>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseCaseRequest {
    pub reason: CloseReason,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub note: Option<String>,
}

/// Why the case is opened again (the family consents again, typically).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenRequest {
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HolderFilter {
    /// Cases the caller holds.
    Me,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseListQuery {
    pub status: Option<CaseStatus>,
    #[validate(range(min = 0, max = 3))]
    #[param(minimum = 0, maximum = 3)]
    pub level: Option<i16>,
    /// `me`: only cases the caller holds.
    pub holder: Option<HolderFilter>,
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// From `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `SYSTEM:ID`: the case another system knows by this reference (split at the first `:`).
    #[serde(rename = "ref")]
    #[param(rename = "ref", example = "visma-flyt:B-17")]
    pub external_ref: Option<String>,
}
