use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Nullable, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::api::{
    expired, HandoverFrom, HandoverInput, HandoverReason, HandoverState, HandoverTo, HandoverView,
    ReassignReason,
};
use crate::db::schema::{cases, handovers, holder_reassignments};
use crate::http::error::AppError;

pub fn pending_of(conn: &mut PgConnection, case_id: Uuid) -> Result<Option<HandoverRow>, AppError> {
    Ok(handovers::table
        .filter(handovers::case_id.eq(case_id))
        .filter(handovers::state.eq(crate::handovers::api::HandoverState::Pending))
        .select(HandoverRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn of_case(conn: &mut PgConnection, case_id: Uuid) -> Result<Vec<HandoverRow>, AppError> {
    Ok(handovers::table
        .filter(handovers::case_id.eq(case_id))
        .order(handovers::id.asc())
        .select(HandoverRow::as_select())
        .load(conn)?)
}

pub fn find_locked(
    conn: &mut PgConnection,
    case_id: Uuid,
    id: Uuid,
) -> Result<HandoverRow, AppError> {
    handovers::table
        .filter(handovers::id.eq(id))
        .filter(handovers::case_id.eq(case_id))
        .select(HandoverRow::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("handover"))
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = handovers)]
pub struct HandoverRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub from_participant_id: Uuid,
    pub from_user_id: String,
    pub to_user_id: String,
    pub to_name: String,
    pub to_service: String,
    pub reason: HandoverReason,
    pub note: Option<String>,
    pub answer_by: Option<NaiveDate>,
    pub previous_holder_leaves: bool,
    pub state: HandoverState,
    pub proposed_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub answered_by_user: Option<String>,
    pub answer_reason: Option<String>,
}

impl HandoverRow {
    /// The state as of `today`: a pending handover past its answer-by date is expired.
    pub fn state_on(&self, today: NaiveDate) -> HandoverState {
        if self.state == HandoverState::Pending && expired(self.answer_by, today) {
            HandoverState::Expired
        } else {
            self.state
        }
    }

    /// Answers (accept, decline, cancel) need a pending handover; one already answered, or expired, is a
    /// conflict.
    pub fn require_pending(&self, today: NaiveDate) -> Result<(), crate::http::error::AppError> {
        match self.state_on(today) {
            HandoverState::Pending => Ok(()),
            HandoverState::Expired => Err(crate::http::error::AppError::conflict(
                "the handover expired: its answer-by date has passed; the holder may propose again",
            )),
            state => Err(crate::http::error::AppError::conflict(format!(
                "the handover is already {}",
                state.as_str()
            ))),
        }
    }

    pub fn view(&self, today: NaiveDate) -> HandoverView {
        HandoverView {
            id: self.id,
            case_id: self.case_id,
            from: HandoverFrom {
                participant_id: self.from_participant_id,
                user_id: self.from_user_id.clone(),
            },
            to: HandoverTo {
                user_id: self.to_user_id.clone(),
                name: self.to_name.clone(),
                service: self.to_service.clone(),
            },
            reason: self.reason,
            note: self.note.clone(),
            answer_by: self.answer_by,
            overdue: self.state_on(today) == HandoverState::Expired,
            previous_holder_leaves: self.previous_holder_leaves,
            state: self.state_on(today),
            proposed_at: self.proposed_at,
            answered_at: self.answered_at,
            answer_reason: self.answer_reason.clone(),
        }
    }
}

/// A handover with every column given: an imported one keeps its state and its answer.
#[derive(Debug, Insertable)]
#[diesel(table_name = handovers)]
pub struct HandoverInsert<'a> {
    pub id: Uuid,
    pub case_id: Uuid,
    pub from_participant_id: Uuid,
    pub from_user_id: &'a str,
    pub to_user_id: &'a str,
    pub to_name: &'a str,
    pub to_service: &'a str,
    pub reason: super::api::HandoverReason,
    pub note: Option<&'a str>,
    pub answer_by: Option<chrono::NaiveDate>,
    pub previous_holder_leaves: bool,
    pub state: HandoverState,
    pub proposed_at: chrono::DateTime<chrono::Utc>,
    pub answered_at: Option<chrono::DateTime<chrono::Utc>>,
    pub answered_by_user: Option<&'a str>,
    pub answer_reason: Option<&'a str>,
}

/// Handovers with every column given, any number (an import brings whole histories).
pub fn insert_all(conn: &mut PgConnection, rows: &[HandoverInsert]) -> Result<(), AppError> {
    crate::db::bulk::insert(rows, |chunk| {
        diesel::insert_into(handovers::table)
            .values(chunk)
            .execute(conn)
    })
}

pub fn insert(
    conn: &mut PgConnection,
    case_id: Uuid,
    from: (Uuid, &str),
    h: &HandoverInput,
) -> Result<HandoverRow, AppError> {
    Ok(diesel::insert_into(handovers::table)
        .values((
            handovers::id.eq(Uuid::now_v7()),
            handovers::case_id.eq(case_id),
            handovers::from_participant_id.eq(from.0),
            handovers::from_user_id.eq(from.1),
            handovers::to_user_id.eq(&h.to.user_id),
            handovers::to_name.eq(&h.to.name),
            handovers::to_service.eq(&h.to.service),
            handovers::reason.eq(h.reason),
            handovers::note.eq(&h.note),
            handovers::answer_by.eq(h.answer_by),
            handovers::previous_holder_leaves.eq(h.previous_holder_leaves),
        ))
        .returning(HandoverRow::as_returning())
        .get_result(conn)?)
}

/// Moves a pending handover to its answer. Conditional on it still being pending, so of concurrent
/// accepts, declines and cancels exactly one changes the row; the others get 409.
pub fn answer(
    conn: &mut PgConnection,
    id: Uuid,
    state: HandoverState,
    by_user: &str,
    reason: Option<&str>,
) -> Result<HandoverRow, AppError> {
    diesel::update(handovers::table.find(id))
        .filter(handovers::state.eq(crate::handovers::api::HandoverState::Pending))
        .set((
            handovers::state.eq(state),
            handovers::answered_at.eq(diesel::dsl::now),
            handovers::answered_by_user.eq(by_user),
            handovers::answer_reason.eq(reason),
        ))
        .returning(HandoverRow::as_returning())
        .get_result(conn)
        .optional()?
        .ok_or_else(|| {
            AppError::conflict(
                "the handover is no longer pending: it was accepted, declined or cancelled",
            )
        })
}

/// Which of a case's pending handovers to cancel, by their receiving service.
pub enum Receiving<'a> {
    /// Every one except those to these services.
    NotIn(&'a [String]),
    /// Those to these services.
    In(&'a [String]),
}

/// Cancels the case's pending handovers that `receiving` selects, returning how many.
pub fn cancel_pending(
    conn: &mut PgConnection,
    case_id: Uuid,
    receiving: Receiving,
    why: &str,
) -> Result<usize, AppError> {
    let update = diesel::update(handovers::table)
        .filter(handovers::case_id.eq(case_id))
        .filter(handovers::state.eq(HandoverState::Pending))
        .set((
            handovers::state.eq(HandoverState::Cancelled),
            handovers::answered_at.eq(diesel::dsl::now),
            handovers::answered_by_user.eq("stafettlogg"),
            handovers::answer_reason.eq(why),
        ))
        .into_boxed();
    let update = match receiving {
        Receiving::NotIn(services) => update.filter(handovers::to_service.ne_all(services)),
        Receiving::In(services) => update.filter(handovers::to_service.eq_any(services)),
    };
    Ok(update.execute(conn)?)
}

/// The recipient's inbox in their municipality.
pub fn inbox(
    conn: &mut PgConnection,
    tenant: &str,
    user_id: &str,
    services: &[String],
    state: HandoverState,
) -> Result<Vec<HandoverRow>, AppError> {
    // Expiry is computed when read: the stored state of an expired handover is usually still pending.
    let stored = match state {
        HandoverState::Expired => vec![HandoverState::Pending, HandoverState::Expired],
        other => vec![other],
    };
    let today = crate::clock::today();
    let rows: Vec<HandoverRow> = handovers::table
        .inner_join(cases::table.on(cases::id.eq(handovers::case_id)))
        .filter(cases::municipality.eq(tenant))
        .filter(handovers::to_user_id.eq(user_id))
        .filter(handovers::to_service.eq_any(services))
        .filter(handovers::state.eq_any(stored))
        .order(handovers::id.asc())
        .select(HandoverRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|h| h.state_on(today) == state)
        .collect())
}

/// Sets the new holder and bumps the case version.
pub fn set_holder(
    conn: &mut PgConnection,
    case_id: Uuid,
    participant_id: Uuid,
) -> Result<(), AppError> {
    diesel::update(cases::table.find(case_id))
        .set((
            cases::holder_participant_id.eq(participant_id),
            cases::version.eq(cases::version + 1),
        ))
        .execute(conn)?;
    Ok(())
}

/// A leader's reassignment of the relay, for the record (who, to whom, why).
#[derive(Insertable)]
#[diesel(table_name = holder_reassignments)]
pub struct NewReassignment<'a> {
    pub id: Uuid,
    pub case_id: Uuid,
    pub municipality: &'a str,
    pub from_participant_id: Uuid,
    pub to_participant_id: Uuid,
    pub to_name: &'a str,
    pub to_service: &'a str,
    pub reason: ReassignReason,
    pub note: Option<&'a str>,
    pub by_user_id: &'a str,
    pub by_name: &'a str,
    /// When: the database's clock for a live reassignment (`None`), the document's for an imported one.
    pub at: Option<DateTime<Utc>>,
}

/// Reassignments: a leader's one, or as many as a document brings.
pub fn insert_reassignments(
    conn: &mut PgConnection,
    rows: &[NewReassignment],
) -> Result<(), AppError> {
    crate::db::bulk::insert(rows, |chunk| {
        diesel::insert_into(holder_reassignments::table)
            .values(chunk)
            .execute(conn)
    })
}

/// A reassignment as a case's document shows it: without the leader's note, which is about the staff
/// member more than the case, and which no reader of the case is shown.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = holder_reassignments)]
pub struct ReassignmentRow {
    pub case_id: Uuid,
    pub from_participant_id: Uuid,
    pub to_participant_id: Uuid,
    pub to_name: String,
    pub to_service: String,
    pub reason: ReassignReason,
    pub by_user_id: String,
    pub by_name: String,
    pub at: DateTime<Utc>,
}

/// The reassignments of these cases, each case's oldest first.
pub fn reassignments_of(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<ReassignmentRow>, AppError> {
    Ok(holder_reassignments::table
        .filter(holder_reassignments::case_id.eq_any(ids))
        .order((
            holder_reassignments::case_id,
            holder_reassignments::at,
            holder_reassignments::id,
        ))
        .select(ReassignmentRow::as_select())
        .load(conn)?)
}
/// The history of who held the relay. Periods are half-open ranges `[from, to)`; the open one is the
/// current holder's. A change reads one instant and uses it for both ends, so the old period ends exactly
/// where the new one begins: no gap, no overlap (both also enforced by the database).
///
/// The first period, when a case opens (its `opened_at` is the same `now()`).
pub fn open_holder_period(
    conn: &mut PgConnection,
    case_id: Uuid,
    participant_id: Uuid,
) -> Result<(), AppError> {
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

fn end_holder_period_at(
    conn: &mut PgConnection,
    case_id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    diesel::sql_query(
        "UPDATE holder_periods SET period = tstzrange(lower(period), $2, '[)') WHERE case_id = $1 AND upper_inf(period)",
    )
    .bind::<SqlUuid, _>(case_id)
    .bind::<Timestamptz, _>(at)
    .execute(conn)?;
    Ok(())
}

/// A reopened case's last holder holds the relay again: their last period runs on, across the time the
/// case was closed, so the history keeps no gap (the log says when it was closed and why).
/// 409 when the last period is not `holder`'s (an imported history may end otherwise).
pub fn resume_holder_period(
    conn: &mut PgConnection,
    case_id: Uuid,
    holder: Uuid,
) -> Result<(), AppError> {
    let resumed = diesel::sql_query(
        "UPDATE holder_periods SET period = tstzrange(lower(period), NULL, '[)') \
          WHERE case_id = $1 AND participant_id = $2 \
            AND lower(period) = (SELECT max(lower(period)) FROM holder_periods WHERE case_id = $1)",
    )
    .bind::<SqlUuid, _>(case_id)
    .bind::<SqlUuid, _>(holder)
    .execute(conn)?;
    if resumed == 1 {
        Ok(())
    } else {
        Err(AppError::conflict(
            "the case's last holder period is not its stafettholder's; it cannot be reopened as it is",
        ))
    }
}

/// Ends the open period now; the case closes.
pub fn close_holder_period(conn: &mut PgConnection, case_id: Uuid) -> Result<(), AppError> {
    let at = instant(conn)?;
    end_holder_period_at(conn, case_id, at)
}

/// The relay passes to `participant_id`, starting exactly when the previous period ends.
pub fn pass_holder_period(
    conn: &mut PgConnection,
    case_id: Uuid,
    participant_id: Uuid,
) -> Result<(), AppError> {
    let at = instant(conn)?;
    end_holder_period_at(conn, case_id, at)?;
    diesel::sql_query("INSERT INTO holder_periods (case_id, participant_id, period) VALUES ($1, $2, tstzrange($3, NULL, '[)'))")
        .bind::<SqlUuid, _>(case_id)
        .bind::<SqlUuid, _>(participant_id)
        .bind::<Timestamptz, _>(at)
        .execute(conn)?;
    Ok(())
}

/// A period of some case's history, `[from, to)`; no `to` for the current holder's.
#[derive(Debug, Clone, Copy)]
pub struct HolderPeriod {
    pub case_id: Uuid,
    pub participant_id: Uuid,
    pub from: DateTime<Utc>,
    pub to: Option<DateTime<Utc>>,
}

/// Whole histories at once (an import), in one statement; checked at commit like any other change.
pub fn insert_holder_periods(
    conn: &mut PgConnection,
    periods: &[HolderPeriod],
) -> Result<(), AppError> {
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
