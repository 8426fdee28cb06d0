use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

crate::text_enum! {
    /// What an entry of the log is. A report to child welfare is not one of them (rule 11: the family reads
    /// the log): it is a level-0 decision, `POST /cases/{id}/decision` with `report_child_welfare`.
    pub enum EntryKind {
        Note,
        Meeting,
        Conversation,
        Lysglimt,
        Decision,
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryInput {
    pub kind: EntryKind,
    /// When it happened: not in the future (5 minutes of clock difference are tolerated).
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub occurred_at: DateTime<Utc>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[validate(length(min = 1, max = 50000))]
    #[schema(min_length = 1, max_length = 50000)]
    pub body: String,
    /// Meetings: participant ids of those present.
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub attendees: Option<Vec<Uuid>>,
    /// Meetings and decisions: what was decided.
    #[validate(length(min = 1, max = 20000))]
    #[schema(min_length = 1, max_length = 20000)]
    pub decisions: Option<String>,
    /// Meetings: when the next one is.
    #[validate(custom(function = "crate::dates::timestamp"))]
    pub next_meeting: Option<DateTime<Utc>>,
    /// The entry of this case that this one corrects.
    pub corrects: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Author {
    pub participant_id: Uuid,
    #[schema(max_length = 200)]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    pub id: Uuid,
    pub kind: EntryKind,
    pub occurred_at: DateTime<Utc>,
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[schema(max_length = 50000)]
    pub body: String,
    #[schema(max_items = 100)]
    pub attendees: Vec<Uuid>,
    #[schema(max_length = 20000)]
    pub decisions: Option<String>,
    pub next_meeting: Option<DateTime<Utc>>,
    pub corrects: Option<Uuid>,
    /// The entry that corrects this one, if any.
    pub corrected_by: Option<Uuid>,
    pub author: Author,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntryListQuery {
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// From `next_cursor` of the previous page.
    pub cursor: Option<String>,
}
