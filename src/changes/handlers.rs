//! `GET /api/v1/changes`: the feed for integrations, with its long poll.

use std::time::{Duration, Instant};

use actix_web::{get, web, HttpResponse};
use diesel::PgConnection;
use uuid::Uuid;

use super::api::{Change, ChangePage, ChangeQuery};
use super::store;
use crate::auth::{Caller, Role};
use crate::db::listen::{Wakeups, MIN_READ_SPACING};
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::ValidQuery;

/// How often a waiting request looks again while this instance hears no notifications (crate::db::listen).
/// Polling the table works across any number of instances.
const POLL_EVERY: Duration = Duration::from_millis(100);
/// How often it looks while notifications arrive: only to catch one that was lost (a listener whose
/// connection broke wakes every waiter when it is back). Every waiting long poll reads this often, so at
/// national scale (a thousand record systems waiting) it is the feed's steady load: 200 reads a second.
pub const POLL_EVERY_WHEN_LISTENING: Duration = Duration::from_secs(5);
/// Rows read per request, at most, before answering with an advanced `next_after`.
const SCAN_LIMIT: i64 = 5000;

fn read_batch(
    conn: &mut PgConnection,
    caller: &Caller,
    after: i64,
    limit: i64,
) -> Result<ChangePage, AppError> {
    let rows = store::read_after(conn, &caller.tenant, after, SCAN_LIMIT)?;
    let mut case_ids: Vec<Uuid> = rows.iter().map(|r| r.case_id).collect();
    case_ids.sort();
    case_ids.dedup();
    let case_rows = crate::cases::store::by_ids(conn, &case_ids)?;
    let visible: std::collections::HashSet<Uuid> =
        crate::policy::readable(conn, caller, case_rows)?
            .into_iter()
            .map(|a| a.case.id)
            .collect();
    let mut items = Vec::new();
    let mut next_after = after;
    for row in rows {
        if items.len() as i64 == limit {
            break;
        }
        next_after = row.seq;
        if visible.contains(&row.case_id) {
            items.push(Change {
                seq: row.seq,
                change_type: row.change_type,
                case_id: row.case_id,
                at: row.at,
            });
        }
    }
    Ok(ChangePage { items, next_after })
}

/// What changed in cases the integration may read, in commit order.
///
/// The change feed, for the `integration` role (403 otherwise): a token acts for its `services`, and
/// sees a case exactly when a professional of one of them with access could. Pass the answer's
/// `next_after` as `after` next time. With `wait`, a request that finds nothing new waits up to that
/// many seconds for a change before it answers (a long poll).
#[utoipa::path(
    tag = "integration",
    security(("bearer" = [])),
    params(ChangeQuery),
    responses(
        (status = 200, description = "Changes after `after`", body = ChangePage),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[get("/changes")]
pub async fn changes(
    caller: Caller,
    pool: web::Data<Pool>,
    wakeups: web::Data<Wakeups>,
    query: ValidQuery<ChangeQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require_role(Role::Integration)?;
    let q = query.0;
    let after = q.after.unwrap_or(0);
    let limit = q.limit.unwrap_or(100);
    let deadline = Instant::now() + Duration::from_secs(q.wait.unwrap_or(0));
    let written = wakeups.changes_of(&caller.tenant);
    loop {
        // Registered before reading, so a commit between the read and the wait still wakes this one.
        let woken = written.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let read_at = Instant::now();
        let c = caller.clone();
        let page = db::transaction(&pool, caller.session(), move |conn| {
            read_batch(conn, &c, after, limit)
        })
        .await?;
        let now = Instant::now();
        if !page.items.is_empty() || page.next_after != after || now >= deadline {
            return Ok(HttpResponse::Ok().json(page));
        }
        let poll = if wakeups.connected() {
            POLL_EVERY_WHEN_LISTENING
        } else {
            POLL_EVERY
        };
        tokio::select! {
            () = &mut woken => {}
            () = tokio::time::sleep(poll.min(deadline - now)) => {}
        }
        // However often it is woken, a waiter reads no more often than it polled before.
        tokio::time::sleep_until((read_at + MIN_READ_SPACING).min(deadline).into()).await;
    }
}
