//! What the family and the stafettholder read of the access log.

use super::store::{Action, Basis, Resource};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

#[derive(Debug, Serialize, ToSchema)]
pub struct Actor {
    #[schema(max_length = 200)]
    pub user_id: String,
    #[schema(max_length = 200)]
    pub name: String,
    /// The role the actor acted in, or `system` for the service itself; imported history keeps the
    /// role its system recorded.
    #[schema(max_length = 50)]
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessEvent {
    /// Opaque, increasing: the cursor key.
    #[schema(minimum = 1)]
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: Action,
    /// What was touched: the case, one part of it, or a list that showed it.
    pub resource: Resource,
    /// On which basis the actor had access.
    pub basis: Basis,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccessLogQuery {
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// From `next_cursor` of the previous page.
    pub cursor: Option<String>,
}
