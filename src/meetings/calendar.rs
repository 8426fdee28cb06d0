//! A person's meetings as a calendar feed (RFC 5545) that a phone subscribes to. Calendar servers are
//! outside the municipality's control, so an event carries what rule 14 allows and no more: a neutral
//! title (the kind of meeting), the time, the place only if the person asked for it, the state, and a link
//! back. No child, family, agenda or other free text.
//!
//! The feed's address holds a secret; only its SHA-256 is stored. The app that reads it has no token, so
//! the feed is read as the person the token that made it named (`Caller::calendar_owner`), through the same
//! rule as every other read (`crate::policy`), and each read leaves an access event per case shown.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::Bytea;
use icalendar::{Calendar, Component, EventLike, EventStatus};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::api::{CalendarFeed, CalendarInput, MeetingKind, MeetingState};
use super::store::{self, MeetingRow, Person};
use crate::access_log::store::{self as access_log, Action, Basis, Resource};
use crate::auth::{Caller, Role};
use crate::db::schema::calendar_feeds;
use crate::db::{self, Pool};
use crate::http::error::{AppError, ProblemType};
use crate::http::extract::ValidJson;

/// How far back a feed reaches: a calendar keeps showing a meeting for a while after it was held.
const FEED_LOOKBACK_DAYS: i64 = 90;
/// The most meetings one read shows.
const MAX_MEETINGS: i64 = 500;

/// A meeting's neutral title, in Norwegian.
pub fn title(kind: MeetingKind) -> &'static str {
    match kind {
        MeetingKind::Samarbeidsmote => "Samarbeidsmøte",
        MeetingKind::Ansvarsgruppe => "Ansvarsgruppemøte",
        MeetingKind::Evaluering => "Evalueringsmøte",
        MeetingKind::Other => "Møte",
    }
}

/// The meetings `caller` is invited to that end after `since`, in cases they may read today (the one
/// rule, `crate::policy::judge`); each case shown leaves an access event for `seen`.
pub fn meetings_of(
    conn: &mut PgConnection,
    caller: &Caller,
    since: DateTime<Utc>,
    seen: Resource,
) -> Result<Vec<MeetingRow>, AppError> {
    let person = Person {
        user_id: caller
            .has_role(Role::Professional)
            .then_some(caller.user_id.as_str()),
        pid_hash: (caller.has_role(Role::Guardian) || caller.has_role(Role::Youth))
            .then_some(caller.pid_hash.as_deref())
            .flatten(),
    };
    if person.user_id.is_none() && person.pid_hash.is_none() {
        return Ok(vec![]);
    }
    let mut found = store::of_person(conn, &person, since, MAX_MEETINGS)?;
    found.dedup_by_key(|(m, _)| m.id);
    let mut case_ids: Vec<Uuid> = found.iter().map(|(m, _)| m.case_id).collect();
    case_ids.sort();
    case_ids.dedup();
    let rows = crate::cases::store::by_ids(conn, &case_ids)?;
    let readable = crate::policy::readable(conn, caller, rows)?;
    let shown: Vec<(Uuid, Basis)> = readable.iter().map(|a| (a.case.id, a.basis)).collect();
    let action = if seen == Resource::MeCalendar {
        Action::Read
    } else {
        Action::List
    };
    access_log::record(conn, caller, &shown, action, seen)?;
    Ok(found
        .into_iter()
        .map(|(m, _)| m)
        .filter(|m| shown.iter().any(|(c, _)| *c == m.case_id))
        .collect())
}

/// The feed as RFC 5545 text: one `VEVENT` per meeting, its `UID` stable and its `SEQUENCE` growing
/// with every change a calendar shows.
pub fn render(meetings: &[MeetingRow], include_place: bool, link_base: &str) -> String {
    let mut calendar = Calendar::new();
    calendar.name("Stafettlogg");
    for m in meetings {
        let mut event = icalendar::Event::new();
        event
            .uid(&format!("{}@stafettlogg", m.id))
            .sequence(u32::try_from(m.sequence).unwrap_or(0))
            .timestamp(m.updated_at)
            .summary(title(m.kind))
            .starts(m.starts_at)
            .ends(m.ends_at)
            .url(&format!(
                "{link_base}/cases/{}/meetings/{}",
                m.case_id, m.id
            ))
            .status(match m.state {
                MeetingState::Cancelled => EventStatus::Cancelled,
                MeetingState::Planned | MeetingState::Held => EventStatus::Confirmed,
            });
        if let (true, Some(place)) = (include_place, &m.place) {
            event.location(place);
        }
        calendar.push(event.done());
    }
    calendar.done().to_string()
}

/// 32 random bytes, as the address shows them (base64url, 43 characters).
fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Make a calendar subscription for your meetings.
///
/// For professionals, guardians and youth (403 otherwise). Making a new one replaces the old, whose
/// address stops working at once. The answer holds the address; it is shown only this once. Its events
/// name no person (rule 14), and show the place only with `include_place`.
#[utoipa::path(
    tag = "meetings",
    security(("bearer" = [])),
    request_body = CalendarInput,
    responses(
        (status = 201, description = "The address to subscribe to", body = CalendarFeed),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[post("/me/calendar")]
pub async fn subscribe_calendar(
    caller: Caller,
    pool: web::Data<Pool>,
    req: HttpRequest,
    body: ValidJson<CalendarInput>,
) -> Result<HttpResponse, AppError> {
    if ![Role::Professional, Role::Guardian, Role::Youth]
        .iter()
        .any(|r| caller.has_role(*r))
    {
        return Err(AppError::forbidden(
            "a calendar shows the meetings a person is invited to: this needs the `professional`, `guardian` or `youth` role",
        ));
    }
    let include_place = body.0.include_place.unwrap_or(false);
    let secret = new_secret();
    let hash = secret_hash(&secret);
    db::transaction(&pool, caller.session(), move |conn| {
        let roles: Vec<&str> = caller.roles.iter().map(|r| r.as_str()).collect();
        let row = (
            calendar_feeds::municipality.eq(&caller.tenant),
            calendar_feeds::user_id.eq(&caller.user_id),
            calendar_feeds::name.eq(&caller.name),
            calendar_feeds::roles.eq(&roles),
            calendar_feeds::services.eq(&caller.services),
            calendar_feeds::pid_hash.eq(&caller.pid_hash),
            calendar_feeds::secret_hash.eq(&hash),
            calendar_feeds::include_place.eq(include_place),
            calendar_feeds::created_at.eq(Utc::now()),
        );
        diesel::insert_into(calendar_feeds::table)
            .values(row)
            .on_conflict((calendar_feeds::municipality, calendar_feeds::user_id))
            .do_update()
            .set(row)
            .execute(conn)?;
        Ok(())
    })
    .await?;
    let info = req.connection_info();
    let url = format!(
        "{}://{}/public/v1/calendar/{secret}.ics",
        info.scheme(),
        info.host()
    );
    // The answer holds the secret: no cache keeps it.
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(CalendarFeed { url, include_place }))
}

/// Stop your calendar subscription.
///
/// Its address stops working. Answers 204 also when there was none.
#[utoipa::path(
    tag = "meetings",
    security(("bearer" = [])),
    responses((status = 204, description = "Stopped (or there was none)"))
)]
#[delete("/me/calendar")]
pub async fn stop_calendar(
    caller: Caller,
    pool: web::Data<Pool>,
) -> Result<HttpResponse, AppError> {
    db::transaction(&pool, caller.session(), move |conn| {
        diesel::delete(
            calendar_feeds::table
                .filter(calendar_feeds::municipality.eq(&caller.tenant))
                .filter(calendar_feeds::user_id.eq(&caller.user_id)),
        )
        .execute(conn)?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Whose feed a secret opens, as `calendar_feed_owner` (a database function) finds it in any municipality.
#[derive(QueryableByName)]
pub struct FeedOwner {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub municipality: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub user_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub name: String,
    #[diesel(sql_type = diesel::sql_types::Array<diesel::sql_types::Text>)]
    pub roles: Vec<Role>,
    #[diesel(sql_type = diesel::sql_types::Array<diesel::sql_types::Text>)]
    pub services: Vec<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Bytea>)]
    pub pid_hash: Option<Vec<u8>>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub include_place: bool,
}

/// A calendar subscription's feed (`text/calendar`).
///
/// Read by a calendar app with the secret address and no token. An unknown or replaced address is 404,
/// and so is the feed of someone the municipality registered as departed. It shows the owner's meetings
/// that ended less than 90 days ago or are still to come, in cases the owner may read today, with no
/// person and no free text (rule 14). Each case shown leaves an access event.
#[utoipa::path(
    tag = "meetings",
    params(("file" = String, Path, description = "The secret, with or without `.ics`")),
    responses(
        (status = 200, description = "The calendar (RFC 5545)", content_type = "text/calendar", body = String),
        (status = 404, response = crate::http::openapi::NotFound),
    )
)]
#[get("/calendar/{file}")]
pub async fn calendar_feed(
    pool: web::Data<Pool>,
    delivery: web::Data<crate::config::Delivery>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let file = path.into_inner();
    let secret = file.strip_suffix(".ics").unwrap_or(&file);
    if secret.len() != 43
        || !secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(AppError::not_found("calendar"));
    }
    let hash = secret_hash(secret);
    let owner = db::without_municipality(&pool, move |conn| {
        Ok(diesel::sql_query("SELECT * FROM calendar_feed_owner($1)")
            .bind::<Bytea, _>(hash)
            .get_result::<FeedOwner>(conn)
            .optional()?)
    })
    .await?
    .ok_or_else(|| AppError::not_found("calendar"))?;
    let include_place = owner.include_place;
    let caller = Caller::calendar_owner(
        owner.municipality,
        (owner.user_id, owner.name),
        owner.roles,
        owner.services,
        owner.pid_hash,
    )
    .ok_or_else(AppError::internal)?;
    let since = Utc::now() - Duration::days(FEED_LOOKBACK_DAYS);
    let found = db::transaction(&pool, caller.session(), move |conn| {
        meetings_of(conn, &caller, since, Resource::MeCalendar)
    })
    .await;
    let meetings = match found {
        Ok(m) => m,
        // Someone the municipality registered as departed has no feed any more.
        Err(e) if e.kind == ProblemType::Forbidden => return Err(AppError::not_found("calendar")),
        Err(e) => return Err(e),
    };
    let base = delivery.public_base_url.trim_end_matches('/');
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(("Cache-Control", "private, no-store"))
        .body(render(&meetings, include_place, base)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meeting(state: MeetingState, place: Option<&str>) -> MeetingRow {
        let at: DateTime<Utc> = "2027-01-10T09:00:00Z".parse().unwrap();
        MeetingRow {
            id: Uuid::now_v7(),
            case_id: Uuid::now_v7(),
            kind: MeetingKind::Ansvarsgruppe,
            starts_at: at,
            ends_at: at + Duration::hours(1),
            place: place.map(String::from),
            agenda: Some("Mina Testesen sin skolestart".into()),
            state,
            minutes_entry_id: None,
            cancel_reason: None,
            created_by_user: "u".into(),
            created_at: at,
            cancelled_at: None,
            sequence: 2,
            version: 3,
            updated_at: at,
        }
    }

    #[test]
    fn a_calendar_event_names_no_person_and_no_free_text() {
        let m = meeting(MeetingState::Planned, Some("Rom 3, Testeby skole"));
        let text = render(&[m], false, "https://example.org");
        assert!(text.contains("SUMMARY:Ansvarsgruppemøte"));
        assert!(!text.contains("Mina"), "{text}");
        assert!(!text.contains("Rom 3"), "{text}");
        assert!(text.contains("SEQUENCE:2"));
    }

    #[test]
    fn the_place_is_in_the_calendar_only_when_its_owner_asked() {
        let m = meeting(MeetingState::Planned, Some("Rom 3"));
        assert!(render(&[m], true, "").contains("LOCATION:Rom 3"));
    }

    #[test]
    fn a_cancelled_meeting_is_cancelled_in_the_calendar() {
        let text = render(&[meeting(MeetingState::Cancelled, None)], false, "");
        assert!(text.contains("STATUS:CANCELLED"));
    }
}
