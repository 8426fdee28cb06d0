//! What clients send and receive about plans.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::{Validate, ValidationError};

crate::text_enum! {
    /// `ip`: individuell plan (health and care law); `iop`: individuell opplæringsplan (a school's);
    /// `iup`: individuell utviklingsplan (a kindergarten's); `aktivitetsplan`: a school's plan for a
    /// pupil's school environment, which stays with the school whoever holds the relay.
    pub enum PlanKind {
        Ip,
        Iop,
        Iup,
        Aktivitetsplan,
    }
}

crate::text_enum! {
    /// `draft -> active -> ended`; a draft may also be ended without ever being in force.
    pub enum PlanState {
        Draft,
        Active,
        Ended,
    }
}

/// The most goals a plan holds, and the longest goal.
pub const MAX_GOALS: usize = 50;
pub const MAX_GOAL_LENGTH: usize = 2000;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    pub kind: PlanKind,
    /// The code of the service that owns the plan: a `skole` for an iop or an aktivitetsplan, a
    /// `barnehage` for an iup.
    #[validate(custom(function = "crate::http::bounds::check_service_code"))]
    #[schema(value_type = crate::http::bounds::ServiceCode)]
    pub owner_service: String,
    /// The participant who coordinates the plan (a professional of the case); an ip needs one before it is
    /// active.
    pub coordinator: Option<Uuid>,
    #[validate(custom(function = "crate::dates::date"))]
    pub starts_on: NaiveDate,
    #[validate(custom(function = "crate::dates::date"))]
    pub ends_on: Option<NaiveDate>,
    #[validate(length(max = 50), custom(function = "check_goals"))]
    #[schema(max_items = 50, value_type = Option<Vec<crate::http::bounds::PlanGoal>>)]
    pub goals: Option<Vec<String>>,
}

/// Change a plan that has not ended (`If-Match` required). An aktivitetsplan keeps its school.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanPatch {
    #[validate(custom(function = "crate::http::bounds::check_service_code"))]
    #[schema(value_type = Option<crate::http::bounds::ServiceCode>)]
    pub owner_service: Option<String>,
    pub coordinator: Option<Uuid>,
    #[validate(custom(function = "crate::dates::date"))]
    pub starts_on: Option<NaiveDate>,
    #[validate(custom(function = "crate::dates::date"))]
    pub ends_on: Option<NaiveDate>,
    #[validate(length(max = 50), custom(function = "check_goals"))]
    #[schema(max_items = 50, value_type = Option<Vec<crate::http::bounds::PlanGoal>>)]
    pub goals: Option<Vec<String>>,
}

/// Add a participant of the case to the plan's ansvarsgruppe.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanMemberInput {
    pub participant_id: Uuid,
    /// What they do in the group (e.g. `kontaktlærer`).
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub role: Option<String>,
}

/// Why a plan ends.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanEndInput {
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanMember {
    pub participant_id: Uuid,
    #[schema(max_length = 200)]
    pub name: String,
    #[schema(max_length = 100)]
    pub role: Option<String>,
    /// False once the participant has left the case: they stay on record as a former member.
    pub active: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: PlanKind,
    #[schema(max_length = 64)]
    pub owner_service: String,
    pub coordinator: Option<Uuid>,
    pub state: PlanState,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    #[schema(value_type = Vec<crate::http::bounds::PlanGoal>, max_items = 50)]
    pub goals: Vec<String>,
    #[schema(max_items = 500)]
    pub members: Vec<PlanMember>,
    #[schema(max_length = 2000)]
    pub end_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    #[schema(minimum = 1)]
    pub version: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanList {
    #[schema(max_items = 100)]
    pub items: Vec<PlanView>,
}

/// A `#[validate(custom)]` for a plan's goals: each one a line of text, not empty, not too long.
pub fn check_goals(goals: &[String]) -> Result<(), ValidationError> {
    if goals
        .iter()
        .any(|g| g.trim().is_empty() || g.chars().count() > MAX_GOAL_LENGTH)
    {
        Err(ValidationError::new("goals").with_message(
            format!("each goal is 1 to {MAX_GOAL_LENGTH} characters, not blank").into(),
        ))
    } else {
        Ok(())
    }
}
