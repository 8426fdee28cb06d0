//! The senders that run in every instance beside the requests: notifications (e-mail, SMS) and webhook
//! deliveries leave the outboxes here, and the reminders' pass adds what a date has made due.
//!
//! A sender claims due rows through a database function that takes them `FOR UPDATE SKIP LOCKED` and
//! gives each a lease (`claim_notifications`, `claim_webhook_deliveries`), so two instances never take the
//! same row; it then sends outside any transaction and records the outcome in a transaction of the row's
//! municipality. A sender that dies between sending and recording leaves the lease to run out, and the row
//! goes out once more: at least once, at most one repeat. The reminders' pass runs in one instance at a
//! time (an advisory lock) and adds each reminder once (a unique key per event, date and person).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::auth::Caller;
use crate::config::Delivery;
use crate::db::{self, session::Municipality, Pool};
use crate::http::error::{AppError, ProblemType};
use crate::http::metrics::Metrics;
use crate::national_id::NationalIdKey;
use crate::notifications::api::Channel;
use crate::notifications::channels::{Channels, SendError};
use crate::notifications::{rules as notify_rules, store as outbox};
use crate::webhooks::api::{Payload, PayloadData, TEST_TYPE};
use crate::webhooks::{client, rules as hook_rules, store as hooks};

/// How many rows a sender takes at once, and how long it may hold them: longer than the batch can take at
/// worst (an SMTP conversation of some eight exchanges of up to 10 s each, per message), so a slow server
/// does not let another sender take a message this one is still sending. A sender that dies leaves its
/// rows to the others when the lease runs out.
const BATCH: i32 = 5;
const LEASE: Duration = Duration::from_secs(600);

/// Everything the senders need, shared by their tasks.
pub struct Senders {
    pub pool: Pool,
    pub config: Delivery,
    pub key: NationalIdKey,
    pub metrics: Arc<Metrics>,
}

/// Starts the senders on the current runtime. They run until the process ends.
pub fn spawn(senders: Senders) -> Result<(), String> {
    let channels = Arc::new(Channels::new(&senders.config)?);
    let agent = client::agent(hook_rules::UrlPolicy::from(&senders.config));
    let s = Arc::new(senders);
    let (a, b) = (s.clone(), s);
    actix_web::rt::spawn(async move {
        let mut last_reminders: Option<std::time::Instant> = None;
        loop {
            if last_reminders.is_none_or(|t| t.elapsed() >= a.config.reminders_every) {
                if let Err(e) = reminders(&a.pool).await {
                    tracing::warn!(error = %e.detail, "the reminders' pass failed; it runs again later");
                }
                last_reminders = Some(std::time::Instant::now());
            }
            match notifications(&a, &channels).await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e.detail, "sending notifications failed"),
            }
            tokio::time::sleep(a.config.poll).await;
        }
    });
    actix_web::rt::spawn(async move {
        loop {
            match webhooks(&b, &agent).await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e.detail, "sending webhooks failed"),
            }
            tokio::time::sleep(b.config.poll).await;
        }
    });
    Ok(())
}

/// The reminders of today, once per event, date and person, and the pruning of old messages; one instance
/// at a time.
async fn reminders(pool: &Pool) -> Result<(), AppError> {
    let today = crate::clock::today();
    db::without_municipality(pool, move |conn| {
        use diesel::Connection;
        conn.transaction(|conn| {
            #[derive(diesel::QueryableByName)]
            struct Lock {
                #[diesel(sql_type = diesel::sql_types::Bool)]
                taken: bool,
            }
            let lock: Lock = diesel::RunQueryDsl::get_result(
                diesel::sql_query(
                    "SELECT pg_try_advisory_xact_lock(hashtext('stafettlogg.reminders')) AS taken",
                ),
                conn,
            )?;
            if lock.taken {
                let added = outbox::enqueue_reminders(conn, today)?;
                let pruned = outbox::prune(conn, Utc::now())?;
                if added > 0 || pruned > 0 {
                    tracing::info!(added, pruned, "reminders queued, old messages pruned");
                }
            }
            Ok(())
        })
    })
    .await
}

/// One round of notifications: claims a batch and sends it; returns how many were claimed.
async fn notifications(s: &Arc<Senders>, channels: &Arc<Channels>) -> Result<usize, AppError> {
    let claimed =
        db::without_municipality(&s.pool, |conn| outbox::claim(conn, BATCH, LEASE)).await?;
    let n = claimed.len();
    for c in claimed {
        let outcome = match send(s, channels, &c).await {
            Ok(()) => outbox::Outcome::Sent,
            Err(SendError::Transient(why)) => {
                match notify_rules::next_try(c.attempts, &s.config.retries) {
                    Some(after) => outbox::Outcome::Retry(after, why),
                    None => outbox::Outcome::Failed(why),
                }
            }
            Err(SendError::Permanent(why)) => outbox::Outcome::Failed(why),
        };
        let what = match &outcome {
            outbox::Outcome::Sent => "sent",
            outbox::Outcome::Retry(..) => "retried",
            outbox::Outcome::Failed(_) => "failed",
        };
        let channel = c.channel.as_str();
        s.metrics.delivered(channel, what);
        tracing::info!(id = %c.id, event = c.event.as_str(), channel, outcome = what, "notification");
        let m = c.municipality.clone();
        in_municipality(&s.pool, &m, move |conn| outbox::finish(conn, &c, &outcome)).await?;
    }
    Ok(n)
}

/// Writes a claimed message and hands it to its channel, off the executor.
async fn send(s: &Senders, channels: &Arc<Channels>, c: &outbox::Claimed) -> Result<(), SendError> {
    let Some(address) = c.address.clone() else {
        return Err(SendError::Permanent(
            "the recipient has since turned this channel off or removed the address".into(),
        ));
    };
    let link = notify_rules::link(&s.config.public_base_url, c.event, c.case_id, c.subject_id);
    let message = notify_rules::message(c.event, &link);
    let (ch, channel) = (channels.clone(), c.channel);
    db::blocking(move || match channel {
        Channel::Email => ch.email(&address, &message),
        Channel::Sms => ch.sms(&address, &message),
    })
    .await
    .unwrap_or_else(|_| Err(SendError::Transient("the sender's thread failed".into())))
}

async fn in_municipality<T, F>(pool: &Pool, municipality: &str, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut diesel::PgConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let m = Municipality::parse(municipality).ok_or_else(AppError::internal)?;
    db::transaction(pool, m, f).await
}

/// One round of webhook deliveries; returns how many were claimed.
async fn webhooks(s: &Arc<Senders>, agent: &ureq::Agent) -> Result<usize, AppError> {
    let claimed =
        db::without_municipality(&s.pool, |conn| hooks::claim(conn, BATCH, LEASE)).await?;
    let n = claimed.len();
    for d in claimed {
        let outcome = deliver(s, agent, &d).await;
        let what = match &outcome {
            hooks::Outcome::Delivered(_) => "sent",
            hooks::Outcome::Retry { .. } => "retried",
            hooks::Outcome::Failed { .. } => "failed",
            hooks::Outcome::Skipped(_) => "skipped",
        };
        s.metrics.delivered("webhook", what);
        tracing::info!(id = %d.id, webhook = %d.webhook_id, outcome = what, "webhook delivery");
        let m = d.municipality.clone();
        in_municipality(&s.pool, &m, move |conn| hooks::finish(conn, &d, &outcome)).await?;
    }
    Ok(n)
}

/// Whether the webhook's integration may read the delivery's case now (the feed's rule).
async fn may_read(s: &Senders, d: &hooks::Claimed) -> Result<Result<(), String>, AppError> {
    let Some(case_id) = d.case_id else {
        return Ok(Ok(()));
    };
    let caller = Caller::webhook_owner(&d.municipality, &d.owner_user_id, d.services.clone())
        .ok_or_else(AppError::internal)?;
    let session = caller.session();
    let result = db::transaction(&s.pool, session, move |conn| {
        let rows = crate::cases::store::by_ids(conn, &[case_id])?;
        Ok(!crate::policy::readable(conn, &caller, rows)?.is_empty())
    })
    .await;
    match result {
        Ok(true) => Ok(Ok(())),
        Ok(false) => Ok(Err("the integration may not read this case now".into())),
        Err(e) if e.kind == ProblemType::Forbidden => Ok(Err(e.detail)),
        Err(e) => Err(e),
    }
}

async fn deliver(s: &Senders, agent: &ureq::Agent, d: &hooks::Claimed) -> hooks::Outcome {
    match may_read(s, d).await {
        Ok(Ok(())) => {}
        Ok(Err(why)) => return hooks::Outcome::Skipped(why),
        // The service's own trouble is not the receiver's: tried again soon, whatever the attempts.
        Err(e) => {
            return hooks::Outcome::Retry {
                after: s.config.retries.first().copied().unwrap_or(LEASE),
                status: None,
                error: format!("checking access failed: {}", e.detail),
            }
        }
    }
    let Some(key) = s.key.open_secret(&d.secret_enc) else {
        let error = "the webhook's secret cannot be opened with this server's key".into();
        return hooks::Outcome::Failed {
            status: None,
            error,
        };
    };
    let payload = Payload {
        event_type: d.delivery_type.clone(),
        timestamp: d.created_at,
        data: PayloadData {
            seq: d.seq,
            case_id: d.case_id,
        },
    };
    let body = serde_json::to_string(&payload).expect("a payload serializes");
    let id = hook_rules::message_id(d.id);
    let timestamp = Utc::now().timestamp();
    let headers = vec![
        ("webhook-id", id.clone()),
        ("webhook-timestamp", timestamp.to_string()),
        (
            "webhook-signature",
            hook_rules::signature(&key, &id, timestamp, &body),
        ),
    ];
    let (agent, url) = (agent.clone(), d.url.clone());
    let sent = db::blocking(move || client::post(&agent, &url, &headers, &body))
        .await
        .unwrap_or_else(|_| Err("the sender's thread failed".into()));
    let (status, error) = match sent {
        Ok(status) if (200..300).contains(&status) => return hooks::Outcome::Delivered(status),
        Ok(status) => (Some(status), format!("the receiver answered HTTP {status}")),
        Err(e) => (None, e),
    };
    let test = d.delivery_type == TEST_TYPE;
    match hook_rules::after_failure(test, d.attempts, &s.config.retries) {
        Some(after) => hooks::Outcome::Retry {
            after,
            status,
            error,
        },
        None => hooks::Outcome::Failed { status, error },
    }
}
