//! The figures in one statement: every event of the period as a row (the case it belongs to, its day,
//! what it counts), each case's key, and one aggregate over both, grouped by key and in total.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Double, Nullable, Text};

use super::api::By;
use super::rules::{Period, RawRow};
use crate::error::AppError;

/// Every event of the period. `kind`: 1 opened, 2 closed, 3 open at the end, 4 the level-0 decision (with
/// `days` since opening), 5 an evaluation deadline (`ok`: met), 6 a handover accepted (with `days`
/// since its proposal), 7 a consent withdrawn. Days are dates in Europe/Oslo; `$1`/`$2` the period's
/// first and last day, `$3` the municipality (row-level security says so too; naming it lets the
/// indexes that lead with it serve).
const EVENTS: &str = "
bounds AS (
    SELECT ($1::date)::timestamp AT TIME ZONE 'Europe/Oslo' AS lo,
           ($2::date + 1)::timestamp AT TIME ZONE 'Europe/Oslo' AS hi
),
ev AS (
    SELECT c.id AS case_id, (c.opened_at AT TIME ZONE 'Europe/Oslo')::date AS day, 1 AS kind,
           NULL::int AS days, NULL::bool AS ok
    FROM cases c, bounds b WHERE c.municipality = $3 AND c.opened_at >= b.lo AND c.opened_at < b.hi
  UNION ALL
    SELECT c.id, (c.closed_at AT TIME ZONE 'Europe/Oslo')::date, 2, NULL, NULL
    FROM cases c, bounds b WHERE c.municipality = $3 AND c.closed_at >= b.lo AND c.closed_at < b.hi
  UNION ALL
    SELECT c.id, $2::date, 3, NULL, NULL
    FROM cases c, bounds b WHERE c.municipality = $3 AND c.opened_at < b.hi
      AND (c.closed_at IS NULL OR c.closed_at >= b.hi)
  UNION ALL
    SELECT c.id, l.decided_on, 4, greatest(l.decided_on - (c.opened_at AT TIME ZONE 'Europe/Oslo')::date, 0), NULL
    FROM level_changes l JOIN cases c ON c.id = l.case_id
    WHERE l.municipality = $3 AND l.from_level = 0 AND l.decided_on BETWEEN $1 AND $2
      AND NOT EXISTS (SELECT FROM level_changes e WHERE e.case_id = l.case_id AND e.from_level = 0
                      AND (e.decided_on, e.recorded_at, e.id) < (l.decided_on, l.recorded_at, l.id))
  UNION ALL
    SELECT c.id, (c.closed_at AT TIME ZONE 'Europe/Oslo')::date, 4,
           greatest((c.closed_at AT TIME ZONE 'Europe/Oslo')::date - (c.opened_at AT TIME ZONE 'Europe/Oslo')::date, 0),
           NULL
    FROM cases c, bounds b WHERE c.municipality = $3 AND c.closed_at >= b.lo AND c.closed_at < b.hi
      AND NOT EXISTS (SELECT FROM level_changes e WHERE e.case_id = c.id AND e.from_level = 0)
  UNION ALL
    SELECT e.case_id, e.due_on, 5, NULL, e.evaluated_on <= e.due_on
    FROM evaluations e WHERE e.municipality = $3 AND e.due_on BETWEEN $1 AND $2
  UNION ALL
    SELECT m.case_id, m.evaluate_by, 5, NULL, false
    FROM measures m JOIN cases c ON c.id = m.case_id
    WHERE m.municipality = $3 AND m.state IN ('planned', 'active') AND m.evaluate_by BETWEEN $1 AND $2
      AND (c.closed_at IS NULL OR m.evaluate_by <= (c.closed_at AT TIME ZONE 'Europe/Oslo')::date)
  UNION ALL
    SELECT h.case_id, (h.answered_at AT TIME ZONE 'Europe/Oslo')::date, 6,
           (h.answered_at AT TIME ZONE 'Europe/Oslo')::date - (h.proposed_at AT TIME ZONE 'Europe/Oslo')::date, NULL
    FROM handovers h, bounds b WHERE h.municipality = $3 AND h.state = 'accepted'
      AND h.answered_at >= b.lo AND h.answered_at < b.hi
  UNION ALL
    SELECT k.case_id, (k.withdrawn_at AT TIME ZONE 'Europe/Oslo')::date, 7, NULL, NULL
    FROM consents k, bounds b WHERE k.municipality = $3 AND k.withdrawn_at >= b.lo AND k.withdrawn_at < b.hi
)";

/// Each counted case's key (and its holder's service, for a leader's filter), once per case. `$4`: the
/// services a leader leads, NULL for the whole municipality; `$5` today.
fn keys(by: By) -> &'static str {
    match by {
        By::Level => {
            // At the end of the period, or at the closing before it: for a closed case and for a period
            // up to today that is the case's level; otherwise the level the decisions up to then led to.
            "CASE WHEN c.closed_at < b.hi OR $2::date >= $5::date THEN c.level
                  ELSE coalesce((SELECT l.to_level FROM level_changes l WHERE l.case_id = c.id
                                 AND l.decided_on <= $2::date
                                 ORDER BY l.decided_on DESC, l.recorded_at DESC, l.id DESC LIMIT 1), 0)
             END::text"
        }
        By::Service | By::Month => "h.service",
        By::CloseReason => "CASE WHEN c.closed_at < b.hi THEN c.close_reason ELSE 'open' END",
    }
}

fn statement(by: By) -> String {
    let group = match by {
        By::Month => "to_char(ev.day, 'YYYY-MM')",
        _ => "k.key",
    };
    format!(
        "WITH {EVENTS},
keyed AS (
    SELECT c.id, {key} AS key
    FROM cases c JOIN case_participants h ON h.id = c.holder_participant_id, bounds b
    WHERE c.id IN (SELECT case_id FROM ev) AND ($4::text[] IS NULL OR h.service = ANY($4))
)
SELECT {group} AS key, GROUPING({group}) = 1 AS is_total,
       count(*) FILTER (WHERE kind = 1) AS cases_opened,
       count(*) FILTER (WHERE kind = 2) AS cases_closed,
       count(*) FILTER (WHERE kind = 3) AS open_at_end,
       count(*) FILTER (WHERE kind = 5) AS evaluations_due,
       count(*) FILTER (WHERE kind = 5 AND ok) AS evaluations_on_time,
       count(*) FILTER (WHERE kind = 6) AS handovers_accepted,
       count(*) FILTER (WHERE kind = 7) AS consents_withdrawn,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY days) FILTER (WHERE kind = 4) AS median_days_to_decision,
       count(*) FILTER (WHERE kind = 4) AS decisions,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY days) FILTER (WHERE kind = 6) AS median_days_to_accept,
       count(*) FILTER (WHERE kind = 6) AS accepts
FROM ev JOIN keyed k ON k.id = ev.case_id
GROUP BY GROUPING SETS (({group}), ())",
        key = keys(by),
    )
}

#[derive(QueryableByName)]
struct Figures {
    #[diesel(sql_type = Nullable<Text>)]
    key: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    is_total: bool,
    #[diesel(sql_type = BigInt)]
    cases_opened: i64,
    #[diesel(sql_type = BigInt)]
    cases_closed: i64,
    #[diesel(sql_type = BigInt)]
    open_at_end: i64,
    #[diesel(sql_type = BigInt)]
    evaluations_due: i64,
    #[diesel(sql_type = BigInt)]
    evaluations_on_time: i64,
    #[diesel(sql_type = BigInt)]
    handovers_accepted: i64,
    #[diesel(sql_type = BigInt)]
    consents_withdrawn: i64,
    #[diesel(sql_type = Nullable<Double>)]
    median_days_to_decision: Option<f64>,
    #[diesel(sql_type = BigInt)]
    decisions: i64,
    #[diesel(sql_type = Nullable<Double>)]
    median_days_to_accept: Option<f64>,
    #[diesel(sql_type = BigInt)]
    accepts: i64,
}

impl Figures {
    fn raw(self) -> (bool, RawRow) {
        let counts = [
            self.cases_opened,
            self.cases_closed,
            self.open_at_end,
            self.evaluations_due,
            self.evaluations_on_time,
            self.handovers_accepted,
            self.consents_withdrawn,
        ]
        .map(Some);
        let row = RawRow {
            key: self.key.unwrap_or_default(),
            counts,
            median_days_to_decision: self.median_days_to_decision,
            decisions: self.decisions,
            median_days_to_accept: self.median_days_to_accept,
            accepts: self.accepts,
        };
        (self.is_total, row)
    }
}

/// The raw figures by key (only keys with events) and in total (zero when nothing happened).
pub fn figures(
    conn: &mut PgConnection,
    municipality: &str,
    period: Period,
    by: By,
    led_services: Option<&[String]>,
    today: NaiveDate,
) -> Result<(Vec<RawRow>, RawRow), AppError> {
    let rows: Vec<Figures> = diesel::sql_query(statement(by))
        .bind::<Date, _>(period.from)
        .bind::<Date, _>(period.to)
        .bind::<Text, _>(municipality)
        .bind::<Nullable<Array<Text>>, _>(led_services)
        .bind::<Date, _>(today)
        .load(conn)?;
    let mut total = RawRow {
        key: "total".into(),
        counts: [Some(0); 7],
        ..Default::default()
    };
    let mut by_key = Vec::new();
    for (is_total, row) in rows.into_iter().map(Figures::raw) {
        if is_total {
            total = RawRow {
                key: "total".into(),
                ..row
            };
        } else {
            by_key.push(row);
        }
    }
    Ok((by_key, total))
}

/// The codes of the municipality's services (active or not), in order.
pub fn service_codes(conn: &mut PgConnection) -> Result<Vec<String>, AppError> {
    use crate::db::schema::services;
    Ok(services::table
        .select(services::code)
        .order(services::code.asc())
        .load(conn)?)
}
