//! Data minimisation: the text of an inquiry about another family's child (its message, the child's name
//! and birth date, the contact details and the answers' text) is erased 90 days after the inquiry was
//! closed. What stays: that there was an inquiry, to which service, when, and its access events, so the
//! inbox's history and the statistics keep their counts.
//!
//! It runs as `stafettlogg erase-inquiries` (a daily cron job or CronJob), as the schema's owner, because
//! it spans every municipality and the service's own role sees one at a time. It is idempotent and safe
//! to run from several places at once: it takes only rows not yet erased, and a second run waiting on
//! the first's row locks finds them erased and skips them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{inquiries, inquiry_access_events, inquiry_answers};
use crate::http::error::AppError;
use crate::inquiries::api::{InquiryAbout, InquiryStatus};
use crate::inquiries::rules;
use crate::inquiries::store::InquiryAction;

/// Erases what is due at `now` (see [`rules::due_for_erasure`]) in one transaction; returns how many
/// inquiries were erased. Each leaves an access event by the service itself.
pub fn erase_expired(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<usize, AppError> {
    conn.transaction(|conn| {
        let erased: Vec<(Uuid, String)> = diesel::update(
            inquiries::table
                .filter(inquiries::about.eq(InquiryAbout::OtherChild))
                .filter(inquiries::status.eq(InquiryStatus::Closed))
                .filter(inquiries::erased_at.is_null())
                .filter(inquiries::closed_at.lt(rules::erasure_cutoff(now))),
        )
        .set((
            inquiries::message.eq(None::<String>),
            inquiries::child_given_name.eq(None::<String>),
            inquiries::child_birth_date.eq(None::<chrono::NaiveDate>),
            inquiries::contact_phone.eq(None::<String>),
            inquiries::contact_email.eq(None::<String>),
            inquiries::erased_at.eq(now),
            inquiries::version.eq(inquiries::version + 1),
        ))
        .returning((inquiries::id, inquiries::municipality))
        .get_results(conn)?;
        let ids: Vec<Uuid> = erased.iter().map(|(id, _)| *id).collect();
        diesel::update(inquiry_answers::table.filter(inquiry_answers::inquiry_id.eq_any(&ids)))
            .set(inquiry_answers::message.eq(None::<String>))
            .execute(conn)?;
        let events: Vec<_> = erased
            .iter()
            .map(|(id, municipality)| {
                (
                    inquiry_access_events::municipality.eq(municipality.as_str()),
                    inquiry_access_events::inquiry_id.eq(*id),
                    inquiry_access_events::actor_user_id.eq("stafettlogg"),
                    inquiry_access_events::actor_name.eq("Stafettlogg"),
                    inquiry_access_events::actor_role.eq("system"),
                    inquiry_access_events::action.eq(InquiryAction::Erase),
                    inquiry_access_events::request_id.eq(""),
                )
            })
            .collect();
        if !events.is_empty() {
            diesel::insert_into(inquiry_access_events::table)
                .values(events)
                .execute(conn)?;
        }
        Ok(erased.len())
    })
}

/// Rule 15: erases the anonymous consultations whose last answer (or question) is more than 90 days old
/// at `now`, with their answers; returns how many.
pub fn erase_consultations(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<usize, AppError> {
    crate::consultations::store::erase_before(conn, crate::consultations::rules::erased_before(now))
}
