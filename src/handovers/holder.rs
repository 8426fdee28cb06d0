//! The history of who held the relay. Periods are half-open ranges `[from, to)`; the open one is the
//! current holder's. A change reads one instant and uses it for both ends, so the old period ends exactly
//! where the new one begins: no gap, no overlap (both also enforced by the database).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Nullable, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use crate::cases::facts::CaseFacts;
use crate::http::error::AppError;
use crate::participants::api::{NewParticipant, NewProfessional, ParticipantKind};

/// The new holder's participation in their service: theirs if they are in the case in that service
/// already, otherwise they join (ending a participation of theirs in another service). Returns it and
/// whether they joined.
pub fn participation_of(
    conn: &mut PgConnection,
    key: &crate::national_id::NationalIdKey,
    facts: &CaseFacts,
    to: &super::api::HandoverTo,
) -> Result<(Uuid, bool), AppError> {
    let current = facts.participants.iter().find(|p| {
        p.active
            && p.kind == ParticipantKind::Professional
            && p.user_id.as_deref() == Some(to.user_id.as_str())
    });
    match current {
        Some(p) if p.service.as_deref() == Some(to.service.as_str()) => Ok((p.id, false)),
        other => {
            if let Some(p) = other {
                // Same person, another service: the old participation ends, a new one begins.
                crate::participants::store::deactivate(conn, &[p.id])?;
            }
            let joined = crate::participants::store::insert(
                conn,
                key,
                facts.case.id,
                &NewParticipant::Professional(NewProfessional {
                    user_id: to.user_id.clone(),
                    name: to.name.clone(),
                    service: to.service.clone(),
                    title: None,
                    external_refs: vec![],
                }),
            )?;
            Ok((joined.id, true))
        }
    }
}

/// The first period, when a case opens (its `opened_at` is the same `now()`).
pub fn start(conn: &mut PgConnection, case_id: Uuid, participant_id: Uuid) -> Result<(), AppError> {
    diesel::sql_query("INSERT INTO holder_periods (case_id, participant_id, period) VALUES ($1, $2, tstzrange(now(), NULL, '[)'))")
        .bind::<SqlUuid, _>(case_id)
        .bind::<SqlUuid, _>(participant_id)
        .execute(conn)?;
    Ok(())
}

/// The moment of a change, read after the case row is locked: `now()` is when the transaction began,
/// which may be before a concurrent change that got the lock first.
fn instant(conn: &mut PgConnection) -> Result<DateTime<Utc>, AppError> {
    Ok(diesel::select(diesel::dsl::sql::<Timestamptz>("clock_timestamp()")).get_result(conn)?)
}

fn end_at(conn: &mut PgConnection, case_id: Uuid, at: DateTime<Utc>) -> Result<(), AppError> {
    diesel::sql_query(
        "UPDATE holder_periods SET period = tstzrange(lower(period), $2, '[)') WHERE case_id = $1 AND upper_inf(period)",
    )
    .bind::<SqlUuid, _>(case_id)
    .bind::<Timestamptz, _>(at)
    .execute(conn)?;
    Ok(())
}

/// Ends the open period now; the case closes.
pub fn end(conn: &mut PgConnection, case_id: Uuid) -> Result<(), AppError> {
    let at = instant(conn)?;
    end_at(conn, case_id, at)
}

/// The relay passes to `participant_id`, starting exactly when the previous period ends.
pub fn pass(conn: &mut PgConnection, case_id: Uuid, participant_id: Uuid) -> Result<(), AppError> {
    let at = instant(conn)?;
    end_at(conn, case_id, at)?;
    diesel::sql_query("INSERT INTO holder_periods (case_id, participant_id, period) VALUES ($1, $2, tstzrange($3, NULL, '[)'))")
        .bind::<SqlUuid, _>(case_id)
        .bind::<SqlUuid, _>(participant_id)
        .bind::<Timestamptz, _>(at)
        .execute(conn)?;
    Ok(())
}

/// A period of some case's history, `[from, to)`; no `to` for the current holder's.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub case_id: Uuid,
    pub participant_id: Uuid,
    pub from: DateTime<Utc>,
    pub to: Option<DateTime<Utc>>,
}

/// Whole histories at once (an import), in one statement; checked at commit like any other change.
pub fn insert_periods(conn: &mut PgConnection, periods: &[Period]) -> Result<(), AppError> {
    if periods.is_empty() {
        return Ok(());
    }
    let cases: Vec<Uuid> = periods.iter().map(|p| p.case_id).collect();
    let holders: Vec<Uuid> = periods.iter().map(|p| p.participant_id).collect();
    let from: Vec<DateTime<Utc>> = periods.iter().map(|p| p.from).collect();
    let to: Vec<Option<DateTime<Utc>>> = periods.iter().map(|p| p.to).collect();
    diesel::sql_query(
        "INSERT INTO holder_periods (case_id, participant_id, period) \
         SELECT c, p, tstzrange(f, t, '[)') \
         FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::timestamptz[]) AS u(c, p, f, t)",
    )
    .bind::<Array<SqlUuid>, _>(cases)
    .bind::<Array<SqlUuid>, _>(holders)
    .bind::<Array<Timestamptz>, _>(from)
    .bind::<Array<Nullable<Timestamptz>>, _>(to)
    .execute(conn)?;
    Ok(())
}
