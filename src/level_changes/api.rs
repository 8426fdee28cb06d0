use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::db::schema::level_changes;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelChangeInput {
    #[validate(range(min = 0, max = 3))]
    #[schema(minimum = 0, maximum = 3)]
    pub to_level: i16,
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub reason: String,
    /// When the decision was made; may be earlier than today (it is kept apart from `recorded_at`).
    #[validate(custom(function = "crate::dates::date"))]
    pub decided_on: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = level_changes)]
pub struct LevelChange {
    pub id: Uuid,
    #[schema(minimum = 0, maximum = 3)]
    pub from_level: i16,
    #[schema(minimum = 0, maximum = 3)]
    pub to_level: i16,
    #[schema(max_length = 5000)]
    pub reason: String,
    pub decided_on: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    #[serde(rename = "recorded_by")]
    pub recorded_by_participant: Uuid,
    #[schema(max_length = 200)]
    pub recorded_by_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LevelChangeList {
    /// The current level.
    #[schema(minimum = 0, maximum = 3)]
    pub level: i16,
    /// Oldest first.
    #[schema(max_items = 1000)]
    pub items: Vec<LevelChange>,
}
