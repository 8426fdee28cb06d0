//! What clients send and receive about the municipality's surveys of its employees. Never diesel rows:
//! see `store.rs`.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::services::api::ServiceKind;

crate::text_enum! {
    /// How a question is answered: a number from 1 (not at all) to 5 (fully), or yes or no. There is no
    /// free text: people name children in free text.
    pub enum QuestionKind {
        Scale1To5 = "scale_1_5",
        YesNo,
    }
}

crate::text_enum! {
    /// Where a survey is, by today's date in Norway: editable before it opens, answered while open, its
    /// results published once it has closed.
    pub enum SurveyState {
        Planned,
        Open,
        Closed,
    }
}

crate::text_enum! {
    /// How the results are grouped: by the kind of service (kindergartens, schools, ...), or by service
    /// (only for a survey that records the service).
    pub enum ResultsBy {
        ServiceKind,
        Service,
    }
}

/// A question's text in bokmål, and in nynorsk when given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionText {
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub nb: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub nn: Option<String>,
}

/// One question. Its `key` is what answers and results name it by, and what lines up two rounds of the
/// same questionnaire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Lower-case letters, digits and `_`, starting with a letter; unique in the survey.
    #[validate(custom(function = "check_key"))]
    #[schema(
        pattern = r"^[a-z][a-z0-9_]{0,39}$",
        min_length = 1,
        max_length = 40,
        example = "kjenner_handlingsveilederen"
    )]
    pub key: String,
    #[validate(nested)]
    pub text: QuestionText,
    pub kind: QuestionKind,
}

/// A new survey, or (from the default questionnaire) one to start from.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyInput {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200, example = "BTI-kartlegging 2027")]
    pub title: String,
    /// The first day answers are taken (today or later).
    #[validate(custom(function = "crate::dates::date"))]
    pub opens_on: NaiveDate,
    /// The last day answers are taken: on or after `opens_on`, at most 366 days after it.
    #[validate(custom(function = "crate::dates::date"))]
    pub closes_on: NaiveDate,
    /// Whether an answer records the employee's service besides its kind, so results can be grouped by
    /// service (groups of fewer than 5 are never shown either way). Default: only the kind.
    #[serde(default)]
    pub by_service: bool,
    #[validate(length(min = 1, max = 50), nested)]
    #[schema(min_items = 1, max_items = 50)]
    pub questions: Vec<Question>,
}

/// A change to a survey that has not opened; what is left out stays.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyPatch {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[validate(custom(function = "crate::dates::date"))]
    pub opens_on: Option<NaiveDate>,
    #[validate(custom(function = "crate::dates::date"))]
    pub closes_on: Option<NaiveDate>,
    pub by_service: Option<bool>,
    /// All the questions, replacing the ones there were.
    #[validate(length(min = 1, max = 50), nested)]
    #[schema(min_items = 1, max_items = 50)]
    pub questions: Option<Vec<Question>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Survey {
    pub id: Uuid,
    #[schema(max_length = 200)]
    pub title: String,
    pub opens_on: NaiveDate,
    pub closes_on: NaiveDate,
    pub state: SurveyState,
    pub by_service: bool,
    /// The day the administrator closed it before `closes_on`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_early_on: Option<NaiveDate>,
    #[schema(max_items = 50)]
    pub questions: Vec<Question>,
    /// Whether the caller has answered it (the purge forgets who answered a closed survey).
    pub you_answered: bool,
    /// How many have answered so far.
    #[schema(minimum = 0)]
    pub answers: i64,
    /// When the per-service counts were erased (only the counts per service kind remain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reduced_on: Option<NaiveDate>,
    #[schema(minimum = 1)]
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyList {
    /// Newest first (at most 1000, the most a municipality holds). Employees see the ones that have
    /// opened; the administrator sees the planned ones too.
    #[schema(max_items = 1000)]
    pub items: Vec<Survey>,
}

/// One answer: a number from 1 to 5 for a `scale_1_5` question, `true` (yes) or `false` (no) for a
/// `yes_no` one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AnswerValue {
    YesNo(bool),
    Scale(i64),
}

/// The schema of the answers: an object of at most 50 answers whose keys are question keys, each a
/// boolean or a number from 1 to 5 (written out here: an untagged enum's schema would name no bounds).
fn answers_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{
        KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
    };
    let yes_no = ObjectBuilder::new()
        .schema_type(Type::Boolean)
        .description(Some("A `yes_no` question: true (yes) or false (no)"));
    let scale = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(1))
        .maximum(Some(5))
        .description(Some("A `scale_1_5` question: 1 (not at all) to 5 (fully)"));
    let value = Schema::OneOf(OneOfBuilder::new().item(yes_no).item(scale).build());
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(value))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^[a-z][a-z0-9_]{0,39}$"))
                .max_length(Some(40)),
        ))
        .min_properties(Some(1))
        .max_properties(Some(50))
        .examples([
            serde_json::json!({"kjenner_handlingsveilederen": true, "samarbeid_pa_tvers": 4}),
        ])
        .build()
}

/// The caller's answers: every question of the survey, by its key.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyAnswers {
    /// Your service, whose kind goes with the answer; required when your token names more than one.
    #[validate(custom(function = "crate::http::bounds::check_service_code"))]
    #[schema(value_type = Option<crate::http::bounds::ServiceCode>)]
    pub service: Option<String>,
    #[validate(length(min = 1, max = 50))]
    #[schema(schema_with = answers_schema)]
    #[serde(deserialize_with = "crate::http::extract::unique_keys")]
    pub answers: BTreeMap<String, AnswerValue>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResultsQuery {
    /// Default `service_kind`.
    pub by: Option<ResultsBy>,
    /// Another closed survey with questions of the same keys, shown beside this one (an earlier round).
    pub compare: Option<Uuid>,
}

/// How many answered a value.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ValueCount {
    /// `1` to `5`, or `yes` and `no`.
    #[schema(max_length = 3)]
    pub value: String,
    #[schema(minimum = 0)]
    pub count: i64,
}

/// One question's answers in one group; `null` figures where the group is suppressed.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct QuestionResult {
    #[schema(max_length = 40)]
    pub key: String,
    /// The mean of a `scale_1_5` question; for a `yes_no` one, the share that answered yes (0 to 1).
    pub mean: Option<f64>,
    #[schema(max_items = 5)]
    pub distribution: Option<Vec<ValueCount>>,
}

/// One group: a service kind, a service, or `total`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GroupResult {
    #[schema(max_length = 64)]
    pub key: String,
    /// How many answered; `null` when fewer than 5 did, or when the total would give another group away.
    pub answers: Option<i64>,
    #[schema(max_items = 50)]
    pub questions: Vec<QuestionResult>,
}

/// One round's results.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RoundResults {
    pub survey: Uuid,
    #[schema(max_length = 200)]
    pub title: String,
    pub opens_on: NaiveDate,
    pub closes_on: NaiveDate,
    /// The groups the caller may see, in the order of their keys.
    #[schema(max_items = 1000)]
    pub groups: Vec<GroupResult>,
    /// Everyone who answered.
    pub total: GroupResult,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyResults {
    pub by: ResultsBy,
    /// Groups of fewer answers than this are `null`.
    #[schema(minimum = 1)]
    pub suppressed_below: i64,
    /// The questions, for their texts and kinds.
    #[schema(max_items = 50)]
    pub questions: Vec<Question>,
    /// This survey's results.
    pub round: RoundResults,
    /// The round compared with (`compare`), its questions limited to those of this survey.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compared_with: Option<RoundResults>,
}

/// The questionnaire of the BTI kartlegging this project offers to start from (`POST /surveys` takes it
/// with its dates filled in).
#[derive(Debug, Serialize, ToSchema)]
pub struct DefaultQuestionnaire {
    #[schema(max_length = 200)]
    pub title: String,
    #[schema(max_items = 50)]
    pub questions: Vec<Question>,
}

/// A question's key: a lower-case letter, then up to 39 lower-case letters, digits and `_`.
pub fn check_key(key: &str) -> Result<(), validator::ValidationError> {
    let mut chars = key.chars();
    let first = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if first && rest && key.len() <= 40 {
        Ok(())
    } else {
        Err(validator::ValidationError::new("key").with_message(
            "lower-case letters, digits and '_', starting with a letter, at most 40".into(),
        ))
    }
}

/// A service kind as a results group key.
pub fn kind_key(kind: ServiceKind) -> String {
    kind.as_str().to_string()
}
