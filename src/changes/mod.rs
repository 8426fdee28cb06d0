//! The change feed (an outbox): every change of case data writes an event in the same transaction, with
//! a sequence number that follows commit order. Integrations follow it with `GET /api/v1/changes`,
//! storing the last `seq` they handled; ids only, never personal data.

use std::time::{Duration, Instant};

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Caller, Role};
use crate::cases::model::CaseRow;
use crate::db::schema::{cases, change_events};
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::ValidQuery;
use crate::jobs::listen::{Wakeups, MIN_READ_SPACING};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, strum::IntoStaticStr)]
pub enum ChangeType {
    #[serde(rename = "case.opened")]
    #[strum(serialize = "case.opened")]
    CaseOpened,
    #[serde(rename = "case.updated")]
    #[strum(serialize = "case.updated")]
    CaseUpdated,
    #[serde(rename = "case.closed")]
    #[strum(serialize = "case.closed")]
    CaseClosed,
    /// The retention period was over: the case's personal data was erased (it remains as a tombstone).
    #[serde(rename = "case.purged")]
    #[strum(serialize = "case.purged")]
    CasePurged,
    #[serde(rename = "case.imported")]
    #[strum(serialize = "case.imported")]
    CaseImported,
    #[serde(rename = "participant.added")]
    #[strum(serialize = "participant.added")]
    ParticipantAdded,
    #[serde(rename = "participant.updated")]
    #[strum(serialize = "participant.updated")]
    ParticipantUpdated,
    #[serde(rename = "participant.deactivated")]
    #[strum(serialize = "participant.deactivated")]
    ParticipantDeactivated,
    #[serde(rename = "consent.recorded")]
    #[strum(serialize = "consent.recorded")]
    ConsentRecorded,
    #[serde(rename = "consent.withdrawn")]
    #[strum(serialize = "consent.withdrawn")]
    ConsentWithdrawn,
    /// A giver signed a digital consent (it is effective once every named giver has).
    #[serde(rename = "consent.signed")]
    #[strum(serialize = "consent.signed")]
    ConsentSigned,
    #[serde(rename = "measure.created")]
    #[strum(serialize = "measure.created")]
    MeasureCreated,
    #[serde(rename = "measure.updated")]
    #[strum(serialize = "measure.updated")]
    MeasureUpdated,
    #[serde(rename = "evaluation.added")]
    #[strum(serialize = "evaluation.added")]
    EvaluationAdded,
    #[serde(rename = "level.changed")]
    #[strum(serialize = "level.changed")]
    LevelChanged,
    #[serde(rename = "step.moved")]
    #[strum(serialize = "step.moved")]
    StepMoved,
    #[serde(rename = "handover.proposed")]
    #[strum(serialize = "handover.proposed")]
    HandoverProposed,
    #[serde(rename = "handover.accepted")]
    #[strum(serialize = "handover.accepted")]
    HandoverAccepted,
    #[serde(rename = "handover.declined")]
    #[strum(serialize = "handover.declined")]
    HandoverDeclined,
    #[serde(rename = "handover.cancelled")]
    #[strum(serialize = "handover.cancelled")]
    HandoverCancelled,
    /// A leader moved the stafettholder role at once (the holder was away or has left).
    #[serde(rename = "holder.reassigned")]
    #[strum(serialize = "holder.reassigned")]
    HolderReassigned,
    #[serde(rename = "entry.added")]
    #[strum(serialize = "entry.added")]
    EntryAdded,
}

/// Writes events for one case. Call it last in the transaction: it takes the municipality's counter row
/// lock, which is held until commit, so the shorter the rest of the transaction after it, the better.
pub fn emit(
    conn: &mut PgConnection,
    municipality: &str,
    case_id: Uuid,
    types: &[ChangeType],
) -> Result<(), AppError> {
    let events: Vec<(Uuid, ChangeType)> = types.iter().map(|t| (case_id, *t)).collect();
    emit_many(conn, municipality, &events)
}

/// Writes events of any number of cases of one municipality, numbered in the order given, in one
/// statement. The numbers come from the municipality's row of `feed_counters`, updated in this
/// transaction: numbers follow commit order within the municipality (which is all one feed reader sees),
/// and writers of other municipalities never wait on this one.
pub fn emit_many(
    conn: &mut PgConnection,
    municipality: &str,
    events: &[(Uuid, ChangeType)],
) -> Result<(), AppError> {
    if events.is_empty() {
        return Ok(());
    }
    crate::jobs::listen::written(municipality);
    let cases: Vec<Uuid> = events.iter().map(|(case, _)| *case).collect();
    let names: Vec<&'static str> = events
        .iter()
        .map(|(_, t)| <&'static str>::from(*t))
        .collect();
    // One round trip: take the next numbers and write the events in the same statement.
    diesel::sql_query(
        "WITH counter AS (
             INSERT INTO feed_counters AS f (municipality, last_seq) VALUES ($1, cardinality($3::text[]))
             ON CONFLICT (municipality) DO UPDATE SET last_seq = f.last_seq + cardinality($3::text[])
             RETURNING last_seq)
         INSERT INTO change_events (seq, municipality, case_id, type)
         SELECT counter.last_seq - cardinality($3::text[]) + t.n, $1, t.case_id, t.name
         FROM counter, unnest($2::uuid[], $3::text[]) WITH ORDINALITY AS t(case_id, name, n)",
    )
    .bind::<diesel::sql_types::Text, _>(municipality)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(cases)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(names)
    .execute(conn)?;
    Ok(())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(changes);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Change {
    pub seq: i64,
    /// case.opened, case.updated, case.closed, case.imported, participant.added, participant.updated,
    /// participant.deactivated, consent.recorded, consent.withdrawn, measure.created, measure.updated,
    /// evaluation.added, level.changed, step.moved, handover.proposed|accepted|declined|cancelled, entry.added
    #[serde(rename = "type")]
    pub change_type: String,
    pub case_id: Uuid,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangePage {
    pub items: Vec<Change>,
    /// Pass as `after` next time. It moves past events this client may not see, so it can be ahead of
    /// the last item's `seq`.
    pub next_after: i64,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangeQuery {
    /// The last `seq` handled (0 to start from the beginning).
    #[validate(range(min = 0))]
    #[param(minimum = 0)]
    pub after: Option<i64>,
    #[validate(range(min = 1, max = 1000))]
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: Option<i64>,
    /// Long poll: when nothing is new, wait up to this many seconds for an event before answering.
    #[validate(range(min = 0, max = 30))]
    #[param(minimum = 0, maximum = 30, default = 0)]
    pub wait: Option<u64>,
}

/// How often a waiting request looks again while this instance hears no notifications (crate::jobs::listen).
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
    let rows: Vec<(i64, String, Uuid, DateTime<Utc>)> = change_events::table
        .filter(change_events::municipality.eq(&caller.tenant))
        .filter(change_events::seq.gt(after))
        .order(change_events::seq.asc())
        .limit(SCAN_LIMIT)
        .select((
            change_events::seq,
            change_events::event_type,
            change_events::case_id,
            change_events::at,
        ))
        .load(conn)?;
    let mut case_ids: Vec<Uuid> = rows.iter().map(|r| r.2).collect();
    case_ids.sort();
    case_ids.dedup();
    let case_rows: Vec<CaseRow> = cases::table
        .filter(cases::id.eq_any(&case_ids))
        .select(CaseRow::as_select())
        .load(conn)?;
    let visible: std::collections::HashSet<Uuid> =
        crate::policy::readable(conn, caller, case_rows)?
            .into_iter()
            .map(|a| a.case.id)
            .collect();
    let mut items = Vec::new();
    let mut next_after = after;
    for (seq, change_type, case_id, at) in rows {
        if items.len() as i64 == limit {
            break;
        }
        next_after = seq;
        if visible.contains(&case_id) {
            items.push(Change {
                seq,
                change_type,
                case_id,
                at,
            });
        }
    }
    Ok(ChangePage { items, next_after })
}

/// What changed in cases the integration may read, in commit order (the `integration` role; a token acts
/// for its `services`, and sees a case exactly when a professional of one of them with access could).
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
