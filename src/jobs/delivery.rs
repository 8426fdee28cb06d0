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

/// How many rows a sender takes at once, and how long it may hold them.
const BATCH: i32 = 20;
const LEASE: Duration = Duration::from_secs(120);

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
    let agent = client::agent(hook_rules::UrlPolicy {
        allow_http: senders.config.webhook_allow_http,
        allow_private: senders.config.webhook_allow_private,
    });
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

/// The reminders of today, once per event, date and person; one instance at a time.
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
                if added > 0 {
                    tracing::info!(added, "reminders queued");
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
        let channel = c.channel;
        let label = channel.as_str();
        let result = match c.address.clone() {
            None => Err(SendError::Permanent(
                "the recipient has since turned this channel off or removed the address".into(),
            )),
            Some(address) => {
                let link =
                    notify_rules::link(&s.config.public_base_url, c.event, c.case_id, c.subject_id);
                let message = notify_rules::message(c.event, &link);
                let ch = channels.clone();
                db::blocking(move || match channel {
                    Channel::Email => ch.email(&address, &message),
                    Channel::Sms => ch.sms(&address, &message),
                })
                .await
                .map_err(|_| AppError::internal())?
            }
        };
        let outcome = match &result {
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
        s.metrics.delivered(label, what);
        tracing::info!(id = %c.id, event = c.event.as_str(), channel = label, outcome = what, "notification");
        let (id, m) = (c.id, c.municipality.clone());
        let owned = match outcome {
            outbox::Outcome::Sent => Owned::Sent,
            outbox::Outcome::Retry(a, w) => Owned::Retry(a, w.to_string()),
            outbox::Outcome::Failed(w) => Owned::Failed(w.to_string()),
        };
        in_municipality(&s.pool, &m, move |conn| {
            outbox::finish(conn, id, owned.borrow())
        })
        .await?;
    }
    Ok(n)
}

/// An outcome that can cross to the blocking thread.
enum Owned {
    Sent,
    Retry(Duration, String),
    Failed(String),
}

impl Owned {
    fn borrow(&self) -> outbox::Outcome<'_> {
        match self {
            Owned::Sent => outbox::Outcome::Sent,
            Owned::Retry(a, w) => outbox::Outcome::Retry(*a, w),
            Owned::Failed(w) => outbox::Outcome::Failed(w),
        }
    }
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
        let d = Arc::new(d);
        let verdict = deliver(s, agent, &d).await;
        let what = match &verdict {
            Verdict::Delivered(_) => "sent",
            Verdict::Retry { .. } => "retried",
            Verdict::Failed { .. } => "failed",
            Verdict::Skipped(_) => "skipped",
        };
        s.metrics.delivered("webhook", what);
        tracing::info!(id = %d.id, webhook = %d.webhook_id, outcome = what, "webhook delivery");
        let m = d.municipality.clone();
        in_municipality(&s.pool, &m, move |conn| {
            hooks::finish(conn, &d, verdict.borrow())
        })
        .await?;
    }
    Ok(n)
}

enum Verdict {
    Delivered(u16),
    Retry {
        after: Duration,
        status: Option<u16>,
        error: String,
    },
    Failed {
        status: Option<u16>,
        error: String,
    },
    Skipped(String),
}

impl Verdict {
    fn borrow(&self) -> hooks::Outcome<'_> {
        match self {
            Verdict::Delivered(s) => hooks::Outcome::Delivered(*s),
            Verdict::Retry {
                after,
                status,
                error,
            } => hooks::Outcome::Retry {
                after: *after,
                status: *status,
                error,
            },
            Verdict::Failed { status, error } => hooks::Outcome::Failed {
                status: *status,
                error,
            },
            Verdict::Skipped(w) => hooks::Outcome::Skipped(w),
        }
    }
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

async fn deliver(s: &Arc<Senders>, agent: &ureq::Agent, d: &Arc<hooks::Claimed>) -> Verdict {
    match may_read(s, d).await {
        Ok(Ok(())) => {}
        Ok(Err(why)) => return Verdict::Skipped(why),
        Err(e) => {
            return retry_or_fail(s, d, None, format!("checking access failed: {}", e.detail))
        }
    }
    let Some(key) = s.key.open_secret(&d.secret_enc) else {
        return Verdict::Failed {
            status: None,
            error: "the webhook's secret cannot be opened with this server's key".into(),
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
    let sent = db::blocking(move || client::post(&agent, &url, &headers, &body)).await;
    match sent {
        Ok(Ok(status)) if (200..300).contains(&status) => Verdict::Delivered(status),
        Ok(Ok(status)) => retry_or_fail(
            s,
            d,
            Some(status),
            format!("the receiver answered HTTP {status}"),
        ),
        Ok(Err(e)) => retry_or_fail(s, d, None, e),
        Err(_) => retry_or_fail(s, d, None, "the sender's thread failed".into()),
    }
}

fn retry_or_fail(s: &Senders, d: &hooks::Claimed, status: Option<u16>, error: String) -> Verdict {
    if d.delivery_type == TEST_TYPE {
        // A test shows its outcome once: it is not repeated (and does not disable the webhook).
        return Verdict::Failed { status, error };
    }
    match notify_rules::next_try(d.attempts, &s.config.retries) {
        Some(after) => Verdict::Retry {
            after,
            status,
            error,
        },
        None => Verdict::Failed { status, error },
    }
}
