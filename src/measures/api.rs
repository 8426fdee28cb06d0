use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

crate::text_enum! {
    pub enum MeasureState {
        Planned,
        Active,
        Completed,
        Stopped,
    }
}

/// Exactly one responsible party (rule 7): a service, a participant (professional or guardian), or the
/// child/youth the case is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Responsible {
    Service {
        #[schema(value_type = crate::http::bounds::ServiceCode)]
        service: String,
    },
    Participant {
        participant_id: Uuid,
    },
    Subject,
}

/// A responsible service is named by its code; a problem names `responsible.service`.
impl Validate for Responsible {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        let mut errors = validator::ValidationErrors::new();
        if let Responsible::Service { service } = self {
            if let Err(e) = crate::http::bounds::check_service_code(service) {
                errors.add("service", e);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasureInput {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub goal: String,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    #[validate(nested)]
    pub responsible: Responsible,
    #[validate(custom(function = "crate::dates::date"))]
    pub start_date: NaiveDate,
    /// When the measure is to be evaluated.
    #[validate(custom(function = "crate::dates::date"))]
    pub evaluate_by: NaiveDate,
    /// `planned` (default) or `active`.
    pub state: Option<MeasureState>,
    /// The plan of this case the measure belongs to, if any (not an ended one).
    pub plan_id: Option<Uuid>,
}

/// Change a measure (`If-Match` required). State moves planned -> active -> completed | stopped (a planned
/// measure may also be stopped before it starts).
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasurePatch {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub goal: Option<String>,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    #[validate(nested)]
    pub responsible: Option<Responsible>,
    #[validate(custom(function = "crate::dates::date"))]
    pub evaluate_by: Option<NaiveDate>,
    pub state: Option<MeasureState>,
    /// Move the measure into a plan of this case (not an ended one).
    pub plan_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeasureView {
    pub id: Uuid,
    pub case_id: Uuid,
    #[schema(max_length = 200)]
    pub title: String,
    #[schema(max_length = 5000)]
    pub goal: String,
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    pub responsible: Responsible,
    pub start_date: NaiveDate,
    pub evaluate_by: NaiveDate,
    pub state: MeasureState,
    pub plan_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    #[schema(minimum = 1)]
    pub version: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeasureList {
    #[schema(max_items = 1000)]
    pub items: Vec<MeasureView>,
}

crate::text_enum! {
    pub enum Outcome {
        Continue,
        Adjust,
        Stop,
        Completed,
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationInput {
    #[validate(custom(function = "crate::dates::date"))]
    pub evaluated_on: NaiveDate,
    #[validate(length(min = 1, max = 20000))]
    #[schema(min_length = 1, max_length = 20000)]
    pub assessment: String,
    /// The child's own view of how it went.
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub child_view: Option<String>,
    pub outcome: Outcome,
    /// Required when the outcome is `continue` or `adjust`.
    #[validate(custom(function = "crate::dates::date"))]
    pub next_evaluate_by: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Evaluator {
    pub participant_id: Uuid,
    #[schema(max_length = 200)]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationView {
    pub id: Uuid,
    pub measure_id: Uuid,
    pub evaluated_on: NaiveDate,
    pub evaluated_by: Evaluator,
    #[schema(max_length = 20000)]
    pub assessment: String,
    #[schema(max_length = 20000)]
    pub child_view: Option<String>,
    pub outcome: Outcome,
    pub next_evaluate_by: Option<NaiveDate>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationList {
    #[schema(max_items = 1000)]
    pub items: Vec<EvaluationView>,
}
