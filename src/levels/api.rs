//! The level definitions as clients send and see them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

#[derive(Debug, Serialize, ToSchema)]
pub struct LevelDefinition {
    #[schema(minimum = 0, maximum = 3)]
    pub level: i16,
    #[schema(max_length = 200)]
    pub name: String,
    #[schema(max_length = 10000)]
    pub description: String,
    /// The municipality's guidance for this level: steps and tools.
    #[schema(max_length = 100000)]
    pub guidance: String,
    #[schema(minimum = 1)]
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelDefinitionInput {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    #[serde(default)]
    pub description: String,
    #[validate(length(max = 100000))]
    #[schema(max_length = 100000)]
    #[serde(default)]
    pub guidance: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LevelList {
    #[schema(max_items = 4)]
    pub items: Vec<LevelDefinition>,
}
