//! What clients send and receive for the timeline, and its cursor.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::http::error::AppError;
use crate::http::pagination;

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineRef {
    /// case, participant, consent, level_change, step_move, measure, evaluation, entry, handover,
    /// reassignment
    #[schema(max_length = 50)]
    pub kind: String,
    pub id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineItem {
    pub at: DateTime<Utc>,
    /// e.g. case.opened, participant.added, consent.withdrawn, level.changed, entry.added
    #[serde(rename = "type")]
    #[schema(max_length = 50)]
    pub item_type: String,
    #[schema(max_length = 6000)]
    pub summary: String,
    #[serde(rename = "ref")]
    pub reference: TimelineRef,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// From `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The cursor of the page after `item`: its place in the order (time, type, id).
pub fn cursor_of(item: &TimelineItem) -> String {
    format!(
        "{}|{}|{}",
        item.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        item.item_type,
        item.reference.id
    )
}

/// Where a page starts: after this (time, type, id), or at the newest item.
pub type Keyset = (Option<DateTime<Utc>>, Option<String>, Option<Uuid>);

pub fn parse_cursor(cursor: Option<&str>) -> Result<Keyset, AppError> {
    let Some(c) = cursor else {
        return Ok((None, None, None));
    };
    let raw = pagination::decode_cursor(c)?;
    let mut parts = raw.splitn(3, '|');
    let bad = pagination::not_issued;
    let at = parts
        .next()
        .and_then(|p| DateTime::parse_from_rfc3339(p).ok())
        .ok_or_else(bad)?;
    let kind = parts.next().ok_or_else(bad)?.to_string();
    let id = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    Ok((Some(at.with_timezone(&Utc)), Some(kind), Some(id)))
}
