//! What clients send and receive for the guide and for a case's step.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::document::{Audience, GuideDocument, Lang, ToolKind};
use crate::services::api::{ServiceContact, ServiceKind};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicTool {
    #[schema(max_length = 40)]
    pub key: String,
    #[schema(max_length = 300)]
    pub title: String,
    pub kind: ToolKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2000)]
    pub url: Option<String>,
    /// Markdown.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 20000)]
    pub body: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicStep {
    #[schema(max_length = 20)]
    pub key: String,
    #[schema(max_length = 300)]
    pub title: String,
    /// Markdown.
    #[schema(max_length = 20000)]
    pub body: String,
    #[schema(max_items = 20)]
    pub tools: Vec<PublicTool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicLevel {
    #[schema(minimum = 0, maximum = 3)]
    pub level: i16,
    #[schema(max_length = 200)]
    pub name: String,
    #[schema(max_length = 20000)]
    pub summary: String,
    #[schema(max_items = 50)]
    pub steps: Vec<PublicStep>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicService {
    #[schema(max_length = 64)]
    pub code: String,
    #[schema(max_length = 200)]
    pub name: String,
    pub kind: ServiceKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<ServiceContact>,
}

/// The published guide for one audience in one language, with the services to contact. Nothing about
/// any case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicGuide {
    #[schema(example = "3805", min_length = 4, max_length = 4)]
    pub municipality: String,
    /// The published version; 0 is the project's default guide (the municipality has published none).
    #[schema(minimum = 0)]
    pub version: i32,
    /// `null` for the default guide.
    pub published_at: Option<DateTime<Utc>>,
    pub lang: Lang,
    pub audience: Audience,
    #[schema(min_items = 4, max_items = 4)]
    pub levels: Vec<PublicLevel>,
    /// The municipality's active services, by code.
    #[schema(max_items = 1000)]
    pub services: Vec<PublicService>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GuideQuery {
    /// `employee` when left out.
    pub audience: Option<Audience>,
    /// `nb` when left out; `nn` falls back to `nb` where a text has no nynorsk.
    pub lang: Option<Lang>,
}

crate::text_enum! {
    /// Where a draft's document comes from: the stored draft, or before the first PUT the newest
    /// published version or the project's default guide.
    pub enum DraftSource {
        Draft,
        Published,
        Default,
    }
}

/// The draft: what `PUT /api/v1/guide/draft` last stored, or, before the first PUT, where an edit starts
/// (the newest published version, else the project's default guide).
#[derive(Debug, Serialize, ToSchema)]
pub struct GuideDraft {
    /// The draft's version (its `ETag`); `null` until the first PUT.
    #[schema(minimum = 1)]
    pub version: Option<i32>,
    pub updated_at: Option<DateTime<Utc>>,
    pub source: DraftSource,
    pub document: GuideDocument,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GuideVersionSummary {
    #[schema(minimum = 1)]
    pub version: i32,
    pub published_at: DateTime<Utc>,
    /// The user id of the admin who published it.
    #[schema(max_length = 200)]
    pub published_by: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GuideVersion {
    #[schema(minimum = 1)]
    pub version: i32,
    pub published_at: DateTime<Utc>,
    #[schema(max_length = 200)]
    pub published_by: String,
    pub document: GuideDocument,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VersionListQuery {
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// From `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The case reached another step of its level.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepMoveInput {
    /// A step of the case's level (for employees) in the municipality's current guide.
    #[validate(length(min = 1, max = 20))]
    #[schema(
        min_length = 1,
        max_length = 20,
        pattern = "^[0-9a-z][0-9a-z._-]{0,19}$",
        example = "0.2"
    )]
    pub key: String,
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StepMove {
    pub id: Uuid,
    /// The guide version the step was taken from (0: the project's default guide).
    #[schema(minimum = 0)]
    pub guide_version: i32,
    #[schema(minimum = 0, maximum = 3)]
    pub level: i16,
    #[schema(max_length = 20)]
    pub key: String,
    #[schema(max_length = 300)]
    pub title: String,
    #[schema(max_length = 5000)]
    pub note: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Uuid,
    #[schema(max_length = 200)]
    pub recorded_by_name: String,
    /// What comes after this step in the level, if anything.
    pub next_step: Option<NextStep>,
}

/// The step a case stands on, as it was in the guide version it was taken from (a step a newer version
/// removed still reads).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseGuideStep {
    #[schema(minimum = 0, maximum = 3)]
    pub level: i16,
    #[schema(example = "0.1", max_length = 20)]
    pub key: String,
    #[schema(max_length = 300)]
    pub title: String,
    /// 0: the project's default guide.
    #[schema(minimum = 0)]
    pub guide_version: i32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NextStep {
    #[schema(example = "0.2", max_length = 20)]
    pub key: String,
    #[schema(max_length = 300)]
    pub title: String,
}
