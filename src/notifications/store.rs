//! All of the notifications' SQL: a person's settings, the outbox rows a change writes, what a person was
//! sent, and what the sender claims and finishes.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Integer, Interval, Nullable, Text, Uuid as SqlUuid};
use uuid::Uuid;

use super::api::{
    Channel, Channels, NotificationEvent, NotificationSettings, NotificationState, SentNotification,
};
use crate::auth::Caller;
use crate::db::schema::{notification_settings, notifications};
use crate::http::error::AppError;

#[derive(Queryable, Selectable)]
#[diesel(table_name = notification_settings)]
struct SettingsRow {
    email: Option<String>,
    phone: Option<String>,
    email_on: bool,
    sms_on: bool,
    surveys_on: bool,
}

/// The caller's settings; nothing saved yet: no addresses, every channel off.
pub fn settings_of(
    conn: &mut PgConnection,
    caller: &Caller,
) -> Result<NotificationSettings, AppError> {
    let row: Option<SettingsRow> = notification_settings::table
        .find((&caller.tenant, &caller.user_id))
        .select(SettingsRow::as_select())
        .first(conn)
        .optional()?;
    Ok(match row {
        Some(r) => NotificationSettings {
            email: r.email,
            phone: r.phone,
            channels: Channels {
                email: r.email_on,
                sms: r.sms_on,
            },
            surveys: r.surveys_on,
        },
        None => NotificationSettings {
            email: None,
            phone: None,
            channels: Channels::default(),
            surveys: false,
        },
    })
}

/// Saves the caller's settings with the roles, services and national-id hash of the token that saved them:
/// how a message to "the professionals of a service" or "the guardian who must sign" finds them.
pub fn save_settings(
    conn: &mut PgConnection,
    caller: &Caller,
    s: &NotificationSettings,
) -> Result<(), AppError> {
    let roles: Vec<&str> = caller.roles.iter().map(|r| r.as_str()).collect();
    let values = (
        notification_settings::municipality.eq(&caller.tenant),
        notification_settings::user_id.eq(&caller.user_id),
        notification_settings::email.eq(&s.email),
        notification_settings::phone.eq(&s.phone),
        notification_settings::email_on.eq(s.channels.email),
        notification_settings::sms_on.eq(s.channels.sms),
        notification_settings::surveys_on.eq(s.surveys),
        notification_settings::roles.eq(&roles),
        notification_settings::services.eq(&caller.services),
        notification_settings::pid_hash.eq(&caller.pid_hash),
        notification_settings::updated_at.eq(diesel::dsl::now),
    );
    diesel::insert_into(notification_settings::table)
        .values(values)
        .on_conflict((
            notification_settings::municipality,
            notification_settings::user_id,
        ))
        .do_update()
        .set(values)
        .execute(conn)?;
    Ok(())
}

/// Who is to hear of an event. Everyone is found through their own settings, so only people who asked
/// for messages get any, on the channels they chose.
#[derive(Debug, Default)]
pub struct Recipients<'a> {
    /// By login.
    pub users: Vec<&'a str>,
    /// Participants of a case: a professional by login, a guardian or youth by national id.
    pub participants: Vec<Uuid>,
    /// The professionals and leaders of these services (as their token said when they saved settings).
    pub services: Vec<&'a str>,
}

/// One event to notify of.
pub struct Notice<'a> {
    pub municipality: &'a str,
    pub event: NotificationEvent,
    pub case_id: Option<Uuid>,
    /// What the link points at: the handover, the inquiry, the consent.
    pub subject_id: Uuid,
    pub to: Recipients<'a>,
    /// Whoever caused the event hears nothing of their own act.
    pub except_user: &'a str,
}

impl<'a> Recipients<'a> {
    pub fn users(users: Vec<&'a str>) -> Self {
        Recipients {
            users,
            ..Self::default()
        }
    }

    pub fn service(service: &'a str) -> Self {
        Recipients {
            services: vec![service],
            ..Self::default()
        }
    }

    pub fn participants(participants: Vec<Uuid>) -> Self {
        Recipients {
            participants,
            ..Self::default()
        }
    }
}

impl<'a> Notice<'a> {
    /// `event`, caused by `caller` in their municipality (they hear nothing of it), about `subject_id` (in
    /// `case_id`, if it is a case's), to `to`.
    pub fn by(
        caller: &'a Caller,
        event: NotificationEvent,
        case_id: Option<Uuid>,
        subject_id: Uuid,
        to: Recipients<'a>,
    ) -> Self {
        Notice {
            municipality: &caller.tenant,
            event,
            case_id,
            subject_id,
            to,
            except_user: &caller.user_id,
        }
    }
}

/// Writes the event's messages into the outbox, one per recipient and chosen channel, in the caller's
/// transaction: if the change rolls back, nobody hears of it. One statement, however many recipients.
pub fn notify(conn: &mut PgConnection, n: &Notice) -> Result<usize, AppError> {
    if n.to.users.is_empty() && n.to.participants.is_empty() && n.to.services.is_empty() {
        return Ok(0);
    }
    Ok(diesel::sql_query(
        "INSERT INTO notifications (id, municipality, user_id, event, channel, case_id, subject_id)
         SELECT uuid_v7(), s.municipality, s.user_id, $2, ch.channel, $3, $4
           FROM notification_settings s
          CROSS JOIN LATERAL (VALUES ('email', s.email_on), ('sms', s.sms_on)) AS ch(channel, wanted)
          WHERE s.municipality = $1 AND ch.wanted AND s.user_id <> $5
            AND (s.user_id = ANY($6)
                 OR (s.roles && ARRAY['professional', 'leader'] AND s.services && $7)
                 OR s.user_id IN (SELECT p.user_id FROM case_participants p
                                   WHERE p.id = ANY($8) AND p.case_id = $3 AND p.active)
                 OR s.pid_hash IN (SELECT p.national_id_hash FROM case_participants p
                                    WHERE p.id = ANY($8) AND p.case_id = $3 AND p.active
                                      AND p.national_id_hash IS NOT NULL))
            -- Nobody the municipality has registered as gone hears more of its cases (from the day of
            -- their departure in Norway: the database's own date is UTC, a day behind after midnight).
            AND NOT EXISTS (SELECT 1 FROM staff_departures x
                             WHERE x.municipality = s.municipality AND x.user_id = s.user_id
                               AND x.departed_on <= (now() AT TIME ZONE 'Europe/Oslo')::date)",
    )
    .bind::<Text, _>(n.municipality)
    .bind::<Text, _>(n.event.as_str())
    .bind::<Nullable<SqlUuid>, _>(n.case_id)
    .bind::<SqlUuid, _>(n.subject_id)
    .bind::<Text, _>(n.except_user)
    .bind::<Array<Text>, _>(&n.to.users)
    .bind::<Array<Text>, _>(&n.to.services)
    .bind::<Array<SqlUuid>, _>(&n.to.participants)
    .execute(conn)?)
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = notifications)]
struct SentRow {
    id: Uuid,
    created_at: DateTime<Utc>,
    event: NotificationEvent,
    channel: Channel,
    state: NotificationState,
    case_id: Option<Uuid>,
    sent_at: Option<DateTime<Utc>>,
    attempts: i32,
    reason: Option<String>,
}

/// What was sent to the caller, newest first, before the message `before` (a cursor), at most `limit`.
pub fn sent_to(
    conn: &mut PgConnection,
    caller: &Caller,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<SentNotification>, AppError> {
    let mut q = notifications::table
        .filter(notifications::municipality.eq(&caller.tenant))
        .filter(notifications::user_id.eq(&caller.user_id))
        .order(notifications::id.desc())
        .limit(limit)
        .select(SentRow::as_select())
        .into_boxed();
    if let Some(before) = before {
        q = q.filter(notifications::id.lt(before));
    }
    Ok(q.load(conn)?
        .into_iter()
        .map(|r| SentNotification {
            id: r.id,
            at: r.created_at,
            event: r.event,
            channel: r.channel,
            state: r.state,
            case_id: r.case_id,
            sent_at: r.sent_at,
            attempts: r.attempts,
            reason: r.reason,
        })
        .collect())
}

/// A message a sender has taken, with the address its recipient's settings give now (`None`: the channel
/// was turned off or the address removed since).
#[derive(Debug, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub municipality: String,
    #[diesel(sql_type = Text)]
    pub event: NotificationEvent,
    #[diesel(sql_type = Text)]
    pub channel: Channel,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub case_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub subject_id: Option<Uuid>,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    /// The claim's token: the row is finished only while its lease is still this one.
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub lease_until: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    pub address: Option<String>,
}

/// Takes up to `n` due messages of every municipality for `lease` (see the migration `notifications`).
pub fn claim(
    conn: &mut PgConnection,
    n: i32,
    lease: std::time::Duration,
) -> Result<Vec<Claimed>, AppError> {
    Ok(diesel::sql_query(
        "SELECT id, municipality, event, channel, case_id, subject_id, attempts, lease_until, address \
           FROM claim_notifications($1, $2)",
    )
    .bind::<Integer, _>(n)
    .bind::<Interval, _>(interval(lease))
    .load(conn)?)
}

pub fn interval(d: std::time::Duration) -> diesel::pg::data_types::PgInterval {
    diesel::pg::data_types::PgInterval::from_microseconds(d.as_micros() as i64)
}

/// How a try ended.
#[derive(Debug)]
pub enum Outcome {
    Sent,
    /// Try again after this long; the reason says why this try failed.
    Retry(std::time::Duration, String),
    Failed(String),
}

/// Records how the try of a claimed message ended, and gives up its lease; nothing when the lease is no
/// longer this claim's (it ran out and another sender took the message).
pub fn finish(conn: &mut PgConnection, c: &Claimed, outcome: &Outcome) -> Result<(), AppError> {
    let target = notifications::table
        .find(c.id)
        .filter(notifications::lease_until.eq(c.lease_until))
        .filter(notifications::state.eq(NotificationState::Queued));
    let lease = notifications::lease_until.eq(None::<DateTime<Utc>>);
    match outcome {
        Outcome::Sent => diesel::update(target)
            .set((
                notifications::state.eq(NotificationState::Sent),
                notifications::sent_at.eq(diesel::dsl::now),
                notifications::reason.eq(None::<String>),
                lease,
            ))
            .execute(conn)?,
        Outcome::Retry(after, reason) => diesel::update(target)
            .set((
                notifications::next_attempt_at.eq(Utc::now() + *after),
                notifications::reason.eq(clip(reason)),
                lease,
            ))
            .execute(conn)?,
        Outcome::Failed(reason) => diesel::update(target)
            .set((
                notifications::state.eq(NotificationState::Failed),
                notifications::reason.eq(clip(reason)),
                lease,
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// Reasons come from SMTP servers and gateways too; the column holds 500 characters.
pub fn clip(reason: &str) -> String {
    reason.chars().take(500).collect()
}

/// Deletes what the outboxes no longer need to keep (see the migration `notifications`).
pub fn prune(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<i32, AppError> {
    #[derive(QueryableByName)]
    struct Gone {
        #[diesel(sql_type = Integer)]
        gone: i32,
    }
    let row: Gone = diesel::sql_query("SELECT prune_outboxes($1) AS gone")
        .bind::<diesel::sql_types::Timestamptz, _>(now)
        .get_result(conn)?;
    Ok(row.gone)
}

/// The scheduled pass's reminders for `today`, across municipalities; returns how many were added.
pub fn enqueue_reminders(
    conn: &mut PgConnection,
    today: chrono::NaiveDate,
) -> Result<i32, AppError> {
    #[derive(QueryableByName)]
    struct Added {
        #[diesel(sql_type = Integer)]
        added: i32,
    }
    let row: Added = diesel::sql_query("SELECT enqueue_reminders($1) AS added")
        .bind::<diesel::sql_types::Date, _>(today)
        .get_result(conn)?;
    Ok(row.added)
}
