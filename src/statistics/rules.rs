//! The rules of the figures as plain functions: the period asked for, which cells are suppressed, and the
//! table as CSV.

use chrono::{Datelike, Months, NaiveDate};

use super::api::{PlanFigures, StatisticsRow};
use crate::http::error::AppError;
use crate::plans::api::PlanKind;

/// Counts below this (and above zero) are suppressed; so are medians over fewer cases.
pub const SUPPRESSED_BELOW: i64 = 5;
/// The longest period one answer covers.
pub const MAX_YEARS: u32 = 10;

/// The days asked for, both included (Europe/Oslo).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// The period with its defaults: `to` today, `from` the first day of the month eleven months before
/// `to`'s. `from` after `to`, or more than ten years before it, is 422 naming the field.
pub fn period(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Period, AppError> {
    for (field, date) in [("from", from), ("to", to)] {
        if let Some(date) = date.filter(|d| crate::dates::date(d).is_err()) {
            return Err(AppError::invalid(
                field,
                format!("{date} is not {}", crate::dates::RANGE),
            ));
        }
    }
    let to = to.unwrap_or(today);
    let from = from.unwrap_or_else(|| {
        let first = to.with_day(1).expect("every month has a first day");
        first.checked_sub_months(Months::new(11)).unwrap_or(first)
    });
    if from > to {
        return Err(AppError::invalid("from", format!("is after `to` ({to})")));
    }
    match from.checked_add_months(Months::new(12 * MAX_YEARS)) {
        Some(limit) if to >= limit => Err(AppError::invalid(
            "to",
            format!("is {MAX_YEARS} years or more after `from`; ask for at most {MAX_YEARS} years at a time"),
        )),
        _ => Ok(Period { from, to }),
    }
}

/// The months a period touches, as `YYYY-MM`, in order.
pub fn months(p: Period) -> Vec<String> {
    let mut month = p.from.with_day(1).expect("every month has a first day");
    let mut out = Vec::new();
    while month <= p.to {
        out.push(month.format("%Y-%m").to_string());
        month = month + Months::new(1);
    }
    out
}

/// A count as published: 1 to 4 hide the figure.
pub fn small_count_is_suppressed(n: i64) -> Option<i64> {
    (n <= 0 || n >= SUPPRESSED_BELOW).then_some(n)
}

/// A median as published: over fewer than 5 cases it is not given.
pub fn median_over_few_cases_is_suppressed(median: Option<f64>, cases: i64) -> Option<f64> {
    median.filter(|_| cases >= SUPPRESSED_BELOW)
}

/// The plan figures as published, one row per kind in the order of the kinds (zeros where none): small
/// counts suppressed, and no total, so no cell can be told from one.
pub fn plan_figures(raw: &[(String, i64, i64)]) -> Vec<PlanFigures> {
    use strum::VariantArray;
    PlanKind::VARIANTS
        .iter()
        .map(|kind| {
            let (started, in_force) = raw
                .iter()
                .find(|(k, _, _)| k == kind.as_str())
                .map(|(_, s, f)| (*s, *f))
                .unwrap_or((0, 0));
            PlanFigures {
                kind: *kind,
                started: small_count_is_suppressed(started),
                in_force_at_end: small_count_is_suppressed(in_force),
            }
        })
        .collect()
}

/// One column of counts as published, with its total when the rows add up to it (`None`: they do not, or
/// there is none). Small cells are suppressed; then, when exactly one cell of the rows is suppressed and
/// the total is shown, the total minus the others would give it away, so the smallest remaining non-zero
/// cell (the first of equals) goes too.
pub fn suppress_column(cells: &[i64], total: Option<i64>) -> (Vec<Option<i64>>, Option<i64>) {
    let mut out: Vec<Option<i64>> = cells
        .iter()
        .map(|&n| small_count_is_suppressed(n))
        .collect();
    let total = total.map(small_count_is_suppressed);
    let hidden = out.iter().filter(|c| c.is_none()).count();
    if hidden == 1 && matches!(total, Some(Some(_))) {
        let second = out
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.filter(|&n| n > 0).map(|n| (n, i)))
            .min();
        match second {
            Some((_, i)) => out[i] = None,
            // Rows that add up cannot leave one small cell alone beside a shown total; if they ever do,
            // the total goes instead.
            None => return (out, None),
        }
    }
    (out, total.flatten())
}

/// Raw figures of one row, before suppression; `None` where the row does not carry the figure.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RawRow {
    pub key: String,
    /// In the order of [`COUNT_COLUMNS`].
    pub counts: [Option<i64>; 7],
    pub median_days_to_decision: Option<f64>,
    pub decisions: i64,
    pub median_days_to_accept: Option<f64>,
    pub accepts: i64,
}

/// The count columns, in the order of [`RawRow::counts`] and of the CSV.
pub const COUNT_COLUMNS: [&str; 7] = [
    "cases_opened",
    "cases_closed",
    "open_at_end",
    "evaluations_due",
    "evaluations_on_time",
    "handovers_accepted",
    "consents_withdrawn",
];
/// `open_at_end` in [`RawRow::counts`].
pub const OPEN_AT_END: usize = 2;

/// The table as published: every count column suppressed with [`suppress_column`] (with the total where
/// the rows add up to it: where every row carries the figure), every median with
/// [`median_over_few_cases_is_suppressed`].
pub fn publish(rows: &[RawRow], total: &RawRow) -> (Vec<StatisticsRow>, StatisticsRow) {
    let mut published: Vec<StatisticsRow> = rows.iter().map(shell).collect();
    let mut published_total = shell(total);
    for col in 0..COUNT_COLUMNS.len() {
        let carried: Vec<(usize, i64)> = rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.counts[col].map(|n| (i, n)))
            .collect();
        let additive = carried.len() == rows.len();
        let cells: Vec<i64> = carried.iter().map(|&(_, n)| n).collect();
        let (shown, shown_total) = suppress_column(&cells, total.counts[col].filter(|_| additive));
        for (&(i, _), value) in carried.iter().zip(shown) {
            *count_mut(&mut published[i], col) = value;
        }
        *count_mut(&mut published_total, col) = if additive {
            shown_total
        } else {
            total.counts[col].and_then(small_count_is_suppressed)
        };
    }
    (published, published_total)
}

/// A published row with its medians decided and its counts still empty.
fn shell(r: &RawRow) -> StatisticsRow {
    StatisticsRow {
        key: r.key.clone(),
        cases_opened: None,
        cases_closed: None,
        open_at_end: None,
        median_days_to_decision: median_over_few_cases_is_suppressed(
            r.median_days_to_decision,
            r.decisions,
        ),
        evaluations_due: None,
        evaluations_on_time: None,
        handovers_accepted: None,
        median_days_to_accept: median_over_few_cases_is_suppressed(
            r.median_days_to_accept,
            r.accepts,
        ),
        consents_withdrawn: None,
    }
}

fn count_mut(row: &mut StatisticsRow, col: usize) -> &mut Option<i64> {
    match col {
        0 => &mut row.cases_opened,
        1 => &mut row.cases_closed,
        2 => &mut row.open_at_end,
        3 => &mut row.evaluations_due,
        4 => &mut row.evaluations_on_time,
        5 => &mut row.handovers_accepted,
        _ => &mut row.consents_withdrawn,
    }
}

/// The CSV header: the row's fields in the JSON's order.
pub const CSV_HEADER: &str = "key,cases_opened,cases_closed,open_at_end,median_days_to_decision,\
evaluations_due,evaluations_on_time,handovers_accepted,median_days_to_accept,consents_withdrawn";

/// The table as CSV (RFC 4180, CRLF): the header, the rows, then the total (key `total`); a suppressed
/// cell is empty. Keys are level numbers, service codes (`[a-z0-9_-]`), months and reasons: nothing to quote.
pub fn csv(rows: &[StatisticsRow], total: &StatisticsRow) -> String {
    let count = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    let median = |m: Option<f64>| m.map(|m| m.to_string()).unwrap_or_default();
    let mut out = format!("{CSV_HEADER}\r\n");
    for r in rows.iter().chain([total]) {
        let cells = [
            r.key.clone(),
            count(r.cases_opened),
            count(r.cases_closed),
            count(r.open_at_end),
            median(r.median_days_to_decision),
            count(r.evaluations_due),
            count(r.evaluations_on_time),
            count(r.handovers_accepted),
            median(r.median_days_to_accept),
            count(r.consents_withdrawn),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn counts_from_one_to_four_are_suppressed_and_zero_is_not() {
        assert_eq!(small_count_is_suppressed(0), Some(0));
        for n in 1..=4 {
            assert_eq!(small_count_is_suppressed(n), None);
        }
        assert_eq!(small_count_is_suppressed(5), Some(5));
    }

    #[test]
    fn a_median_over_fewer_than_five_cases_is_suppressed() {
        assert_eq!(median_over_few_cases_is_suppressed(Some(3.5), 4), None);
        assert_eq!(median_over_few_cases_is_suppressed(Some(3.5), 5), Some(3.5));
        assert_eq!(median_over_few_cases_is_suppressed(None, 0), None);
    }

    #[test]
    fn a_single_suppressed_cell_in_a_column_takes_a_second_one_with_it() {
        // 3 alone would be 30 - 12 - 9 - 6: the smallest other non-zero cell (6) goes too.
        let (cells, total) = suppress_column(&[12, 3, 0, 9, 6], Some(30));
        assert_eq!(cells, [Some(12), None, Some(0), Some(9), None]);
        assert_eq!(total, Some(30));
    }

    #[test]
    fn the_second_cell_is_never_a_zero_and_the_first_of_equals_goes() {
        let (cells, _) = suppress_column(&[0, 2, 7, 7], Some(16));
        assert_eq!(cells, [Some(0), None, None, Some(7)]);
    }

    #[test]
    fn two_suppressed_cells_in_a_column_need_no_third() {
        let (cells, total) = suppress_column(&[2, 3, 20], Some(25));
        assert_eq!(cells, [None, None, Some(20)]);
        assert_eq!(total, Some(25));
    }

    #[test]
    fn a_small_total_is_suppressed_with_its_cells() {
        let (cells, total) = suppress_column(&[3, 0], Some(3));
        assert_eq!(cells, [None, Some(0)]);
        assert_eq!(total, None);
    }

    #[test]
    fn a_column_without_a_total_suppresses_only_small_cells() {
        let (cells, total) = suppress_column(&[3, 9], None);
        assert_eq!(cells, [None, Some(9)]);
        assert_eq!(total, None);
    }

    #[test]
    fn a_column_some_rows_do_not_carry_is_not_completed_against_the_total() {
        let row = |key: &str, open: Option<i64>| RawRow {
            key: key.into(),
            counts: [Some(3), Some(0), open, Some(0), Some(0), Some(0), Some(0)],
            ..Default::default()
        };
        let total = RawRow {
            counts: [
                Some(10),
                Some(0),
                Some(40),
                Some(0),
                Some(0),
                Some(0),
                Some(0),
            ],
            ..row("total", None)
        };
        let rows = [
            row("2026-01", None),
            row("2026-02", None),
            row("2026-03", None),
        ];
        let (published, published_total) = publish(&rows, &{
            let mut t = total;
            t.counts[0] = Some(9);
            t
        });
        assert!(published
            .iter()
            .all(|r| r.open_at_end.is_none() && r.cases_opened.is_none()));
        assert_eq!(published_total.open_at_end, Some(40));
        assert_eq!(published_total.cases_opened, Some(9));
    }

    #[test]
    fn publishing_completes_each_column_on_its_own() {
        let row = |key: &str, opened: i64, closed: i64| RawRow {
            key: key.into(),
            counts: [
                Some(opened),
                Some(closed),
                Some(0),
                Some(0),
                Some(0),
                Some(0),
                Some(0),
            ],
            median_days_to_decision: Some(4.0),
            decisions: 5,
            ..Default::default()
        };
        let rows = [row("0", 2, 8), row("1", 6, 9), row("2", 11, 5)];
        let total = RawRow {
            median_days_to_accept: Some(1.0),
            accepts: 4,
            ..row("total", 19, 22)
        };
        let (published, t) = publish(&rows, &total);
        let opened: Vec<_> = published.iter().map(|r| r.cases_opened).collect();
        assert_eq!(opened, [None, None, Some(11)]);
        let closed: Vec<_> = published.iter().map(|r| r.cases_closed).collect();
        assert_eq!(closed, [Some(8), Some(9), Some(5)]);
        assert_eq!((t.cases_opened, t.cases_closed), (Some(19), Some(22)));
        assert_eq!(published[0].median_days_to_decision, Some(4.0));
        assert_eq!(t.median_days_to_accept, None);
    }

    #[test]
    fn the_period_defaults_to_twelve_calendar_months_up_to_today() {
        let p = period(None, None, d("2026-11-27")).unwrap();
        assert_eq!((p.from, p.to), (d("2025-12-01"), d("2026-11-27")));
        assert_eq!(months(p).len(), 12);
        let p = period(None, Some(d("2026-03-31")), d("2026-11-27")).unwrap();
        assert_eq!(p.from, d("2025-04-01"));
    }

    #[test]
    fn from_after_to_names_from_and_more_than_ten_years_names_to() {
        let e = period(
            Some(d("2026-02-01")),
            Some(d("2026-01-31")),
            d("2026-11-27"),
        )
        .unwrap_err();
        assert_eq!(
            (e.kind.status().as_u16(), e.errors[0].field.as_str()),
            (422, "from")
        );
        let e = period(
            Some(d("2016-01-01")),
            Some(d("2026-01-01")),
            d("2026-11-27"),
        )
        .unwrap_err();
        assert_eq!(
            (e.kind.status().as_u16(), e.errors[0].field.as_str()),
            (422, "to")
        );
        assert!(period(
            Some(d("2016-01-01")),
            Some(d("2025-12-31")),
            d("2026-11-27")
        )
        .is_ok());
        assert!(period(
            Some(d("2026-01-01")),
            Some(d("2026-01-01")),
            d("2026-11-27")
        )
        .is_ok());
        let e = period(Some(d("1899-12-31")), None, d("2026-11-27")).unwrap_err();
        assert_eq!(
            (e.kind.status().as_u16(), e.errors[0].field.as_str()),
            (422, "from")
        );
    }

    #[test]
    fn months_run_from_the_month_of_from_to_the_month_of_to() {
        let p = period(
            Some(d("2025-11-15")),
            Some(d("2026-02-01")),
            d("2026-11-27"),
        )
        .unwrap();
        assert_eq!(months(p), ["2025-11", "2025-12", "2026-01", "2026-02"]);
    }

    #[test]
    fn csv_leaves_suppressed_cells_empty_and_ends_with_the_total() {
        let row = StatisticsRow {
            key: "1".into(),
            cases_opened: Some(7),
            cases_closed: None,
            open_at_end: Some(0),
            median_days_to_decision: Some(2.5),
            evaluations_due: Some(0),
            evaluations_on_time: Some(0),
            handovers_accepted: Some(0),
            median_days_to_accept: None,
            consents_withdrawn: Some(0),
        };
        let total = StatisticsRow {
            key: "total".into(),
            ..row.clone()
        };
        let text = csv(&[row], &total);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], CSV_HEADER);
        assert_eq!(lines[1], "1,7,,0,2.5,0,0,0,,0");
        assert_eq!(lines[2], "total,7,,0,2.5,0,0,0,,0");
        assert_eq!(lines[3], "");
    }

    #[test]
    fn plan_counts_of_one_to_four_are_suppressed_and_every_kind_is_listed() {
        let raw = vec![("ip".to_string(), 7, 3), ("iup".to_string(), 0, 5)];
        let out = plan_figures(&raw);
        assert_eq!(out.len(), 4);
        assert_eq!((out[0].started, out[0].in_force_at_end), (Some(7), None));
        let iup = out.iter().find(|p| p.kind == PlanKind::Iup).unwrap();
        assert_eq!((iup.started, iup.in_force_at_end), (Some(0), Some(5)));
        let iop = out.iter().find(|p| p.kind == PlanKind::Iop).unwrap();
        assert_eq!((iop.started, iop.in_force_at_end), (Some(0), Some(0)));
    }
}
