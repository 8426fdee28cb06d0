//! All of the webhooks' SQL: the subscriptions, their deliveries, and what the sender claims and finishes.
//! (A delivery is written by a trigger on the change feed, in the migration `notifications`.)

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Bytea, Integer, Interval, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use uuid::Uuid;

use super::api::{Delivery, DeliveryState, Webhook, WebhookState};
use crate::changes::api::ChangeType;
use crate::db::schema::{webhook_deliveries, webhooks};
use crate::http::error::AppError;

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhooks)]
struct WebhookRow {
    id: Uuid,
    url: String,
    events: Vec<String>,
    state: WebhookState,
    disabled_reason: Option<String>,
    created_at: DateTime<Utc>,
}

impl WebhookRow {
    fn view(self) -> Result<Webhook, AppError> {
        let events = self
            .events
            .iter()
            .map(|e| {
                e.parse::<ChangeType>().map_err(|_| {
                    tracing::error!(webhook = %self.id, "a webhook holds an unknown change type");
                    AppError::internal()
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Webhook {
            id: self.id,
            url: self.url,
            events,
            state: self.state,
            disabled_reason: self.disabled_reason,
            created_at: self.created_at,
        })
    }
}

pub struct NewWebhook<'a> {
    pub municipality: &'a str,
    pub owner_user_id: &'a str,
    pub services: &'a [String],
    pub url: &'a str,
    pub events: &'a [ChangeType],
    pub secret_enc: Vec<u8>,
}

pub fn insert(conn: &mut PgConnection, w: NewWebhook) -> Result<Webhook, AppError> {
    let events: Vec<&str> = w.events.iter().map(|e| e.as_str()).collect();
    diesel::insert_into(webhooks::table)
        .values((
            webhooks::id.eq(Uuid::now_v7()),
            webhooks::municipality.eq(w.municipality),
            webhooks::owner_user_id.eq(w.owner_user_id),
            webhooks::services.eq(w.services),
            webhooks::url.eq(w.url),
            webhooks::events.eq(events),
            webhooks::secret_enc.eq(w.secret_enc),
        ))
        .returning(WebhookRow::as_returning())
        .get_result(conn)?
        .view()
}

/// The owner's webhooks a token naming `services` sees and manages: those that act for no other service. A
/// webhook acts for the services of the token that created it, so a token of the same `sub` that does not
/// name them all does not see it (its deliveries name cases of those services). One that acts for no
/// service at all (an older build let a token naming none create it) is nobody's: the empty list is
/// contained in every list, and would have made it every such token's.
fn managed_by<'a>(
    municipality: &'a str,
    owner: &'a str,
    services: &'a [String],
) -> webhooks::BoxedQuery<'a, diesel::pg::Pg> {
    webhooks::table
        .filter(webhooks::municipality.eq(municipality))
        .filter(webhooks::owner_user_id.eq(owner))
        .filter(webhooks::services.is_contained_by(services))
        .filter(webhooks::services.ne(Vec::<String>::new()))
        .into_boxed()
}

/// The webhooks the caller manages (see [`managed_by`]), oldest first.
pub fn of_owner(
    conn: &mut PgConnection,
    municipality: &str,
    owner: &str,
    services: &[String],
) -> Result<Vec<Webhook>, AppError> {
    managed_by(municipality, owner, services)
        .order(webhooks::id.asc())
        .select(WebhookRow::as_select())
        .load(conn)?
        .into_iter()
        .map(WebhookRow::view)
        .collect()
}

/// One webhook the caller manages (see [`managed_by`]); another's is 404, as if it did not exist.
pub fn find(
    conn: &mut PgConnection,
    municipality: &str,
    owner: &str,
    services: &[String],
    id: Uuid,
) -> Result<Webhook, AppError> {
    managed_by(municipality, owner, services)
        .filter(webhooks::id.eq(id))
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("webhook"))?
        .view()
}

/// Deletes the webhook and its deliveries.
pub fn delete(conn: &mut PgConnection, id: Uuid) -> Result<(), AppError> {
    diesel::delete(webhooks::table.find(id)).execute(conn)?;
    Ok(())
}

pub fn set_state(
    conn: &mut PgConnection,
    id: Uuid,
    state: WebhookState,
    reason: Option<&str>,
) -> Result<(), AppError> {
    diesel::update(webhooks::table.find(id))
        .set((
            webhooks::state.eq(state),
            webhooks::disabled_reason.eq(reason.map(crate::notifications::store::clip)),
        ))
        .execute(conn)?;
    Ok(())
}

/// A test delivery (no event, no case), due now.
pub fn insert_test(
    conn: &mut PgConnection,
    municipality: &str,
    webhook: Uuid,
) -> Result<Delivery, AppError> {
    let row: DeliveryRow = diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::id.eq(Uuid::now_v7()),
            webhook_deliveries::webhook_id.eq(webhook),
            webhook_deliveries::municipality.eq(municipality),
            webhook_deliveries::delivery_type.eq(super::api::TEST_TYPE),
        ))
        .returning(DeliveryRow::as_returning())
        .get_result(conn)?;
    Ok(row.view())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
struct DeliveryRow {
    id: Uuid,
    seq: Option<i64>,
    delivery_type: String,
    case_id: Option<Uuid>,
    state: DeliveryState,
    attempts: i32,
    last_status: Option<i32>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl DeliveryRow {
    /// The event and case of a delivery show only once it was delivered: until then it is not known whether
    /// the integration may read the case (a skipped one has forgotten them).
    fn view(self) -> Delivery {
        let shown = self.state == DeliveryState::Delivered;
        Delivery {
            id: super::rules::message_id(self.id),
            delivery_type: self.delivery_type,
            seq: self.seq.filter(|_| shown),
            case_id: self.case_id.filter(|_| shown),
            state: self.state,
            attempts: self.attempts,
            last_status: self.last_status,
            last_error: self.last_error,
            created_at: self.created_at,
            finished_at: self.finished_at,
        }
    }
}

/// The webhook's deliveries (but the skipped ones), newest first, before `before`, at most `limit`; with each its row id for
/// the next page's cursor.
pub fn deliveries(
    conn: &mut PgConnection,
    webhook: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<(Uuid, Delivery)>, AppError> {
    // A skipped delivery was about a case the integration may not read: not even that it was is listed.
    let mut q = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook))
        .filter(webhook_deliveries::state.ne(DeliveryState::Skipped))
        .order(webhook_deliveries::id.desc())
        .limit(limit)
        .select(DeliveryRow::as_select())
        .into_boxed();
    if let Some(before) = before {
        q = q.filter(webhook_deliveries::id.lt(before));
    }
    Ok(q.load(conn)?
        .into_iter()
        .map(|r| (r.id, r.view()))
        .collect())
}

/// A delivery a sender has taken, with what it needs to send it.
#[derive(Debug, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub webhook_id: Uuid,
    #[diesel(sql_type = Text)]
    pub municipality: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub seq: Option<i64>,
    #[diesel(sql_type = Text)]
    pub delivery_type: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub case_id: Option<Uuid>,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// The claim's token: the delivery is finished only while its lease is still this one.
    #[diesel(sql_type = Timestamptz)]
    pub lease_until: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub url: String,
    #[diesel(sql_type = Bytea)]
    pub secret_enc: Vec<u8>,
    #[diesel(sql_type = Text)]
    pub owner_user_id: String,
    #[diesel(sql_type = Array<Text>)]
    pub services: Vec<String>,
}

/// Takes up to `n` due deliveries of active webhooks, all municipalities, for `lease`.
pub fn claim(
    conn: &mut PgConnection,
    n: i32,
    lease: std::time::Duration,
) -> Result<Vec<Claimed>, AppError> {
    Ok(diesel::sql_query(
        "SELECT id, webhook_id, municipality, seq, type AS delivery_type, case_id, attempts, created_at, \
                lease_until, url, secret_enc, owner_user_id, services \
           FROM claim_webhook_deliveries($1, $2)",
    )
    .bind::<Integer, _>(n)
    .bind::<Interval, _>(crate::notifications::store::interval(lease))
    .load(conn)?)
}

/// How a try of a delivery ended.
#[derive(Debug)]
pub enum Outcome {
    Delivered(u16),
    Retry {
        after: std::time::Duration,
        status: Option<u16>,
        error: String,
    },
    Failed {
        status: Option<u16>,
        error: String,
    },
    /// Not sent: the integration may not read the case now. The delivery forgets which case and event it
    /// was about, so its list shows nothing of a case the integration may not read.
    Skipped(String),
}

/// Records how the try ended and gives up the lease (nothing when the lease is no longer this claim's); a
/// delivery that failed for good disables its webhook, unless it was a test.
pub fn finish(conn: &mut PgConnection, d: &Claimed, outcome: &Outcome) -> Result<(), AppError> {
    use crate::notifications::store::clip;
    use webhook_deliveries as w;
    let target = w::table
        .find(d.id)
        .filter(w::lease_until.eq(d.lease_until))
        .filter(w::state.eq(DeliveryState::Pending));
    let none = w::lease_until.eq(None::<DateTime<Utc>>);
    let now = Utc::now();
    let status = |s: &Option<u16>| s.map(i32::from);
    let changed = match outcome {
        Outcome::Delivered(s) => diesel::update(target)
            .set((
                w::state.eq(DeliveryState::Delivered),
                w::last_status.eq(i32::from(*s)),
                w::last_error.eq(None::<String>),
                w::finished_at.eq(now),
                none,
            ))
            .execute(conn)?,
        Outcome::Retry {
            after,
            status: s,
            error,
        } => diesel::update(target)
            .set((
                w::next_attempt_at.eq(now + *after),
                w::last_status.eq(status(s)),
                w::last_error.eq(clip(error)),
                none,
            ))
            .execute(conn)?,
        Outcome::Failed { status: s, error } => diesel::update(target)
            .set((
                w::state.eq(DeliveryState::Failed),
                w::last_status.eq(status(s)),
                w::last_error.eq(clip(error)),
                w::finished_at.eq(now),
                none,
            ))
            .execute(conn)?,
        Outcome::Skipped(why) => diesel::update(target)
            .set((
                w::state.eq(DeliveryState::Skipped),
                w::seq.eq(None::<i64>),
                w::case_id.eq(None::<Uuid>),
                w::last_error.eq(clip(why)),
                w::finished_at.eq(now),
                none,
            ))
            .execute(conn)?,
    };
    if let (1, Outcome::Failed { error, .. }) = (changed, outcome) {
        if d.delivery_type != super::api::TEST_TYPE {
            let why = format!(
                "disabled after the delivery {} failed {} times; the last: {error}",
                super::rules::message_id(d.id),
                d.attempts
            );
            set_state(conn, d.webhook_id, WebhookState::Disabled, Some(&why))?;
        }
    }
    Ok(())
}
