//! What the family and the stafettholder read of the access log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

#[derive(Debug, Serialize, ToSchema)]
pub struct Actor {
    pub user_id: String,
    pub name: String,
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessEvent {
    /// Opaque, increasing: the cursor key.
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    /// read, list, create, update, close, withdraw, deactivate, export
    pub action: String,
    /// What was touched: case, case.participants, case.consents, case.entries, ...
    pub resource: String,
    /// On which basis: participant, holder_service, consent, guardian, subject_youth, integration,
    /// handover_recipient.
    pub basis: String,
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
