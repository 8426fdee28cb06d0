//! The figures in one statement: the cases open at some time in the period with their key, every event
//! of the period as a row (the case it belongs to, its day, what it counts), and one aggregate over
//! both, grouped by key and in total.

use chrono::NaiveDate;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Double, Nullable, Text};

use super::api::By;
use super::rules::{Period, RawRow};
use crate::http::error::AppError;

/// The cases that count: open at some time in the period (opened before its end, not closed before its
/// start), with their key and the days they opened and closed. `$1`/`$2` the period's first and last
/// day (Europe/Oslo), `$3` the municipality (row-level security says so too; naming it lets the indexes
/// that lead with it serve), `$4` the services a leader leads (NULL: all), `$5` today.
fn cases(by: By, holder: bool) -> String {
    let (join, filter) = if holder {
        (
            "JOIN case_participants h ON h.id = c.holder_participant_id",
            "AND ($4::text[] IS NULL OR h.service = ANY($4))",
        )
    } else {
        ("", "")
    };
    format!(
        "bounds AS (
    SELECT ($1::date)::timestamp AT TIME ZONE 'Europe/Oslo' AS lo,
           ($2::date + 1)::timestamp AT TIME ZONE 'Europe/Oslo' AS hi
),
c AS MATERIALIZED (
    SELECT c.id, {key} AS key,
           (c.opened_at AT TIME ZONE 'Europe/Oslo')::date AS opened_day,
           (c.closed_at AT TIME ZONE 'Europe/Oslo')::date AS closed_day,
           c.opened_at >= b.lo AS opened_in, c.closed_at < b.hi AS closed_in,
           (c.closed_at IS NULL OR c.closed_at >= b.hi) AS open_at_end
    FROM cases c {join}, bounds b
    WHERE c.municipality = $3 AND c.opened_at < b.hi AND (c.closed_at IS NULL OR c.closed_at >= b.lo) {filter}
)",
        key = key(by),
    )
}

/// Each counted case's key, on the case row `c` (with its holder `h` when joined).
fn key(by: By) -> &'static str {
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
        By::Service => "h.service",
        By::Month => "NULL::text",
        By::CloseReason => "CASE WHEN c.closed_at < b.hi THEN c.close_reason ELSE 'open' END",
    }
}

/// Every event of the period, one row each: the case, the day, what it counts. `kind`: 1 opened, 2
/// closed, 3 open at the end, 4 the level-0 decision, 5 an evaluation deadline (`ok`: met), 6 a handover
/// accepted (`days` since its proposal), 7 a consent withdrawn. Events of other cases than `c`'s drop
/// out in the join with it.
const EVENTS: &str = "
ev AS (
    SELECT id AS case_id, opened_day AS day, 1 AS kind, NULL::int AS days, NULL::bool AS ok FROM c WHERE opened_in
  UNION ALL
    SELECT id, closed_day, 2, NULL, NULL FROM c WHERE closed_in
  UNION ALL
    SELECT id, $2::date, 3, NULL, NULL FROM c WHERE open_at_end
  UNION ALL
    -- the first change away from level 0 (one ordered pass over the index of such changes) ...
    SELECT d.case_id, d.decided_on, 4, NULL, NULL
    FROM (SELECT DISTINCT ON (l.case_id) l.case_id, l.decided_on
          FROM level_changes l WHERE l.municipality = $3 AND l.from_level = 0
          ORDER BY l.case_id, l.decided_on, l.recorded_at, l.id) d
    WHERE d.decided_on BETWEEN $1 AND $2
  UNION ALL
    -- ... or the closing of a case that never left it
    SELECT id, closed_day, 4, NULL, NULL FROM c
    WHERE closed_in AND NOT EXISTS (SELECT FROM level_changes e
                                    WHERE e.municipality = $3 AND e.case_id = c.id AND e.from_level = 0)
  UNION ALL
    SELECT e.case_id, e.due_on, 5, NULL, e.evaluated_on <= e.due_on
    FROM evaluations e WHERE e.municipality = $3 AND e.due_on BETWEEN $1 AND $2
  UNION ALL
    -- deadlines still waiting, unless the case closed before them
    SELECT m.case_id, m.evaluate_by, 5, NULL, false
    FROM measures m JOIN c ON c.id = m.case_id
    WHERE m.municipality = $3 AND m.state IN ('planned', 'active') AND m.evaluate_by BETWEEN $1 AND $2
      AND (c.closed_day IS NULL OR m.evaluate_by <= c.closed_day)
  UNION ALL
    SELECT h.case_id, (h.answered_at AT TIME ZONE 'Europe/Oslo')::date, 6,
           (h.answered_at AT TIME ZONE 'Europe/Oslo')::date - (h.proposed_at AT TIME ZONE 'Europe/Oslo')::date, NULL
    FROM handovers h, bounds b WHERE h.municipality = $3 AND h.state = 'accepted'
      AND h.answered_at >= b.lo AND h.answered_at < b.hi
  UNION ALL
    SELECT k.case_id, (k.withdrawn_at AT TIME ZONE 'Europe/Oslo')::date, 7, NULL, NULL
    FROM consents k, bounds b WHERE k.municipality = $3 AND k.withdrawn_at >= b.lo AND k.withdrawn_at < b.hi
)";

/// The statement for `by`; `holder`: join each case's holder (for `by=service` and a leader's filter).
fn statement(by: By, holder: bool) -> String {
    let group = match by {
        By::Month => "to_char(ev.day, 'YYYY-MM')",
        _ => "c.key",
    };
    format!(
        "WITH {cases}, {EVENTS}
SELECT {group} AS key, GROUPING({group}) = 1 AS is_total,
       count(*) FILTER (WHERE kind = 1) AS cases_opened,
       count(*) FILTER (WHERE kind = 2) AS cases_closed,
       count(*) FILTER (WHERE kind = 3) AS open_at_end,
       count(*) FILTER (WHERE kind = 5) AS evaluations_due,
       count(*) FILTER (WHERE kind = 5 AND ok) AS evaluations_on_time,
       count(*) FILTER (WHERE kind = 6) AS handovers_accepted,
       count(*) FILTER (WHERE kind = 7) AS consents_withdrawn,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY greatest(ev.day - c.opened_day, 0))
           FILTER (WHERE kind = 4) AS median_days_to_decision,
       count(*) FILTER (WHERE kind = 4) AS decisions,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY days) FILTER (WHERE kind = 6) AS median_days_to_accept,
       count(*) FILTER (WHERE kind = 6) AS accepts
FROM ev JOIN c ON c.id = ev.case_id
GROUP BY GROUPING SETS (({group}), ())",
        cases = cases(by, holder),
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
    // The aggregate sorts the period's events (a row per case and event: 300,000 for 100,000 open
    // cases), which spilled to disk in the default 4 MB. The planner's cost for that crosses the JIT
    // threshold, and compiling the statement took three times as long as running it (1.5 s of CPU
    // against 0.5 s at 100,000 cases).
    conn.batch_execute("SET LOCAL work_mem = '64MB'; SET LOCAL jit = off")?;
    let holder = by == By::Service || led_services.is_some();
    let rows: Vec<Figures> = diesel::sql_query(statement(by, holder))
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

#[derive(QueryableByName)]
struct PlanCounts {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    started: i64,
    #[diesel(sql_type = BigInt)]
    in_force: i64,
}

/// Per kind of plan, those started in the period and those in force at its end, over the municipality's
/// cases (or those whose stafettholder works in a led service); raw, before suppression.
pub fn plans_by_kind(
    conn: &mut PgConnection,
    municipality: &str,
    period: Period,
    led_services: Option<&[String]>,
) -> Result<Vec<(String, i64, i64)>, AppError> {
    let rows: Vec<PlanCounts> = diesel::sql_query(
        "WITH b AS (SELECT ($1::date)::timestamp AT TIME ZONE 'Europe/Oslo' AS lo,
                           ($2::date + 1)::timestamp AT TIME ZONE 'Europe/Oslo' AS hi)
         SELECT p.kind,
                count(*) FILTER (WHERE p.created_at >= b.lo AND p.created_at < b.hi) AS started,
                count(*) FILTER (WHERE p.activated_at < b.hi AND (p.ended_at IS NULL OR p.ended_at >= b.hi))
                    AS in_force
           FROM plans p JOIN cases c ON c.id = p.case_id
           JOIN case_participants h ON h.id = c.holder_participant_id, b
          WHERE c.municipality = $3 AND ($4::text[] IS NULL OR h.service = ANY($4))
          GROUP BY p.kind",
    )
    .bind::<Date, _>(period.from)
    .bind::<Date, _>(period.to)
    .bind::<Text, _>(municipality)
    .bind::<Nullable<Array<Text>>, _>(led_services)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.kind, r.started, r.in_force))
        .collect())
}
