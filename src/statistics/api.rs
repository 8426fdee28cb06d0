//! What clients send and receive for statistics.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

crate::text_enum! {
    /// What the rows are. A case's events all count under the case's key, except for `month`.
    pub enum By {
        /// The case's level at the end of the period, or at its closing when it closed before.
        Level,
        /// The service of the case's stafettholder (for a closed case, its last one).
        Service,
        /// The calendar month (Europe/Oslo) in which each event happened.
        Month,
        /// The closing reason of a case closed by the end of the period; `open` for the others.
        CloseReason,
    }
}

/// `from` and `to` are days in Europe/Oslo, both included (checked in `rules::period`, which names the
/// field with 422, as the spec says of every date). Without `to`: today. Without `from`: the first
/// day of the month eleven months before `to`'s (twelve calendar months, the last up to `to`).
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatisticsQuery {
    /// First day of the period; not after `to`, at most 10 years before it.
    #[param(example = "2026-01-01")]
    pub from: Option<NaiveDate>,
    /// Last day of the period (default: today).
    #[param(example = "2026-12-31")]
    pub to: Option<NaiveDate>,
    /// What the rows are (default `month`).
    pub by: Option<By>,
}

/// One row of figures. A count from 1 to 4 is `null` (suppressed), and so is a median over fewer than 5
/// cases; so is a second cell of a column where one suppressed cell could otherwise be told from the
/// total. In `by=month` rows `open_at_end` is `null` too (only `total` has it): with it per month, a
/// month's openings and closings would follow from its change.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StatisticsRow {
    /// `0`-`3`, a service code, `YYYY-MM`, a closing reason or `open`; `total` for the total.
    #[schema(example = "1", max_length = 64)]
    pub key: String,
    /// Cases opened in the period.
    #[schema(minimum = 0)]
    pub cases_opened: Option<i64>,
    /// Cases closed in the period.
    #[schema(minimum = 0)]
    pub cases_closed: Option<i64>,
    /// Cases open at the end of `to`.
    #[schema(minimum = 0)]
    pub open_at_end: Option<i64>,
    /// Median days from opening to the level-0 decision, over the cases decided in the period. The
    /// decision is the first level change away from level 0 (by its `decided_on`), or the closing of a case
    /// that never left level 0; days between the two dates in Europe/Oslo.
    pub median_days_to_decision: Option<f64>,
    /// Evaluation deadlines in the period: those evaluations answered (met or missed), and those of planned
    /// or active measures still waiting (not after the case closed).
    #[schema(minimum = 0)]
    pub evaluations_due: Option<i64>,
    /// Of those, the ones evaluated on or before the deadline (`evaluated_on`).
    #[schema(minimum = 0)]
    pub evaluations_on_time: Option<i64>,
    /// Handovers accepted in the period.
    #[schema(minimum = 0)]
    pub handovers_accepted: Option<i64>,
    /// Median days from a handover's proposal to its acceptance (Europe/Oslo dates), over those accepted
    /// in the period.
    pub median_days_to_accept: Option<f64>,
    /// Consents withdrawn in the period.
    #[schema(minimum = 0)]
    pub consents_withdrawn: Option<i64>,
}

/// The figures of a period, without personal data: no ids, names or dates of birth. The cases counted
/// are those open at some time in the period (opened before its end, not closed before its start).
#[derive(Debug, Serialize, ToSchema)]
pub struct Statistics {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: By,
    /// Every key of `by`, zero rows included: levels 0-3, the services (a leader's own), each month of the
    /// period, every closing reason and `open`.
    #[schema(max_items = 1000)]
    pub rows: Vec<StatisticsRow>,
    /// All the cases the caller may count; the rows add up to it, except for the medians, and for
    /// `open_at_end` by month.
    pub total: StatisticsRow,
    /// The plans of the cases counted, per kind (every kind, zeros included).
    #[schema(max_items = 4)]
    pub plans_by_kind: Vec<PlanFigures>,
    /// Counts from 1 to this minus one are suppressed (`null`).
    #[schema(example = 5, minimum = 0)]
    pub suppressed_below: i64,
}

/// The plans of one kind. Counts from 1 to 4 are `null`; no total is given, so none can be told from it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanFigures {
    pub kind: crate::plans::api::PlanKind,
    /// Plans started in the period.
    #[schema(minimum = 0)]
    pub started: Option<i64>,
    /// Plans in force at the end of the period.
    #[schema(minimum = 0)]
    pub in_force_at_end: Option<i64>,
}
