//! The endpoint: who may ask, the period, one transaction with the aggregate, then suppression and the
//! format the client accepts.

use actix_web::{get, web, HttpRequest, HttpResponse};

use super::api::{By, Statistics, StatisticsQuery};
use super::rules::{self, Period, RawRow};
use super::store;
use crate::auth::Caller;
use crate::cases::api::CloseReason;
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::ValidQuery;
use crate::http::negotiate;
use crate::policy::{self, overviews::Scope};

/// The table as CSV, for an `Accept` that prefers it.
const CSV: &str = "text/csv";

/// Figures for the municipality (admin) or the services a leader leads, without personal data.
///
/// Counts per level, service, month or closing reason, with a total. Small counts (1-4) and medians over fewer than 5
/// cases are `null`, and a second cell where one could be told from the total. `Accept: text/csv` gives
/// the same table as CSV (header row, a suppressed cell empty, the total as the last row with key
/// `total`). Leaves no access events: it shows no case.
#[utoipa::path(
    tag = "statistics",
    security(("bearer" = [])),
    params(StatisticsQuery),
    responses(
        (status = 200, description = "The figures of the period",
            content((Statistics = "application/json"), (String = "text/csv"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 406, response = crate::http::openapi::NotAcceptable),
        (status = 422, response = crate::http::openapi::Validation),
    )
)]
#[get("/statistics")]
pub async fn statistics(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    query: ValidQuery<StatisticsQuery>,
) -> Result<HttpResponse, AppError> {
    let as_csv = negotiate::choose(&req, &["application/json", CSV])? == CSV;
    let scope = policy::overviews::statistics_scope(&caller)?;
    let q = query.0;
    let today = crate::clock::today();
    let period = rules::period(q.from, q.to, today)?;
    let by = q.by.unwrap_or(By::Month);
    let answer = db::transaction(&pool, caller.session(), move |conn| {
        let led = match &scope {
            Scope::Municipality => None,
            Scope::Led(services) => Some(services.as_slice()),
        };
        let (rows, total) = store::figures(conn, &caller.tenant, period, by, led, today)?;
        let plans = rules::plan_figures(&store::plans_by_kind(conn, &caller.tenant, period, led)?);
        let keys = match by {
            By::Service => store::service_codes(conn)?
                .into_iter()
                .filter(|code| led.is_none_or(|l| l.contains(code)))
                .collect(),
            _ => keys(by, period),
        };
        Ok(table(period, by, keys, (rows, total), plans))
    })
    .await?;
    Ok(if as_csv {
        HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8; header=present")
            .body(rules::csv(&answer.rows, &answer.total))
    } else {
        HttpResponse::Ok().json(answer)
    })
}

/// Every key of `by` but services (those come from the municipality), in the order of the table.
fn keys(by: By, period: Period) -> Vec<String> {
    match by {
        By::Level => (0..=3).map(|l: i16| l.to_string()).collect(),
        By::Month => rules::months(period),
        By::CloseReason => {
            use CloseReason::*;
            [
                GoalReached,
                NoNeed,
                GuardiansEnded,
                ConsentWithdrawn,
                ConsentExpired,
                MovedToIndividualPlan,
                MovedAway,
                Other,
            ]
            .iter()
            .map(|r| r.as_str().to_string())
            .chain(["open".to_string()])
            .collect()
        }
        By::Service => vec![],
    }
}

/// The published table: a row for every key (zeros where nothing happened; a key the data has beyond
/// them is kept, after them), suppressed.
fn table(
    period: Period,
    by: By,
    keys: Vec<String>,
    (mut found, total): (Vec<RawRow>, RawRow),
    plans_by_kind: Vec<crate::statistics::api::PlanFigures>,
) -> Statistics {
    let zero = |key: String| RawRow {
        key,
        counts: [Some(0); 7],
        ..Default::default()
    };
    let mut rows: Vec<RawRow> = keys
        .into_iter()
        .map(|key| match found.iter().position(|r| r.key == key) {
            Some(i) => found.swap_remove(i),
            None => zero(key),
        })
        .collect();
    found.sort_by(|a, b| a.key.cmp(&b.key));
    rows.extend(found);
    if by == By::Month {
        // Not given per month: a month's openings and closings would follow from its change.
        for r in &mut rows {
            r.counts[rules::OPEN_AT_END] = None;
        }
    }
    let (rows, total) = rules::publish(&rows, &total);
    Statistics {
        from: period.from,
        to: period.to,
        by,
        rows,
        total,
        plans_by_kind,
        suppressed_below: rules::SUPPRESSED_BELOW,
    }
}
