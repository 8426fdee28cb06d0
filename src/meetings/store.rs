//! Queries for meetings and their invitees.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::api::{Invitee, InviteeResponse, MeetingKind, MeetingState, MeetingView};
use crate::db::schema::{case_participants, meeting_invitees, meetings};
use crate::http::error::AppError;
use crate::patch::differs;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = meetings)]
pub struct MeetingRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: MeetingKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub place: Option<String>,
    pub agenda: Option<String>,
    pub state: MeetingState,
    pub minutes_entry_id: Option<Uuid>,
    pub cancel_reason: Option<String>,
    pub created_by_user: String,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub sequence: i32,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

/// An invitation, with the invitee's name.
#[derive(Debug, Clone, Queryable)]
pub struct InviteeRow {
    pub meeting_id: Uuid,
    pub participant_id: Uuid,
    pub response: InviteeResponse,
    pub responded_at: Option<DateTime<Utc>>,
    pub name: String,
}

impl MeetingRow {
    pub fn view(&self, invitees: &[InviteeRow]) -> MeetingView {
        MeetingView {
            id: self.id,
            case_id: self.case_id,
            kind: self.kind,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            place: self.place.clone(),
            agenda: self.agenda.clone(),
            state: self.state,
            invitees: invitees
                .iter()
                .filter(|i| i.meeting_id == self.id)
                .map(|i| Invitee {
                    participant_id: i.participant_id,
                    name: i.name.clone(),
                    response: i.response,
                    responded_at: i.responded_at,
                })
                .collect(),
            minutes_entry_id: self.minutes_entry_id,
            cancel_reason: self.cancel_reason.clone(),
            created_at: self.created_at,
            cancelled_at: self.cancelled_at,
            version: self.version,
        }
    }
}

/// The meetings of these cases, soonest first.
pub fn for_cases(conn: &mut PgConnection, case_ids: &[Uuid]) -> Result<Vec<MeetingRow>, AppError> {
    Ok(meetings::table
        .filter(meetings::case_id.eq_any(case_ids))
        .order((meetings::starts_at.asc(), meetings::id.asc()))
        .select(MeetingRow::as_select())
        .load(conn)?)
}

pub fn find(
    conn: &mut PgConnection,
    case_id: Uuid,
    id: Uuid,
    lock: bool,
) -> Result<MeetingRow, AppError> {
    let q = meetings::table
        .filter(meetings::id.eq(id))
        .filter(meetings::case_id.eq(case_id))
        .select(MeetingRow::as_select());
    if lock {
        q.for_update().first(conn)
    } else {
        q.first(conn)
    }
    .optional()?
    .ok_or_else(|| AppError::not_found("meeting"))
}

/// The invitations of these meetings, in the order they were made.
pub fn invitees_of(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<InviteeRow>, AppError> {
    Ok(meeting_invitees::table
        .inner_join(
            case_participants::table.on(case_participants::id.eq(meeting_invitees::participant_id)),
        )
        .filter(meeting_invitees::meeting_id.eq_any(ids))
        .order((
            meeting_invitees::meeting_id,
            case_participants::joined_at,
            case_participants::id,
        ))
        .select((
            meeting_invitees::meeting_id,
            meeting_invitees::participant_id,
            meeting_invitees::response,
            meeting_invitees::responded_at,
            case_participants::name,
        ))
        .load(conn)?)
}

/// A meeting with every column given: an imported one keeps its state and times.
#[derive(Debug, Insertable)]
#[diesel(table_name = meetings)]
pub struct MeetingInsert<'a> {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: MeetingKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub place: Option<&'a str>,
    pub agenda: Option<&'a str>,
    pub state: MeetingState,
    pub minutes_entry_id: Option<Uuid>,
    pub cancel_reason: Option<&'a str>,
    pub created_by_user: &'a str,
    pub created_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub sequence: i32,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = meeting_invitees)]
pub struct InviteeInsert {
    pub meeting_id: Uuid,
    pub case_id: Uuid,
    pub participant_id: Uuid,
    pub response: InviteeResponse,
    pub responded_at: Option<DateTime<Utc>>,
}

pub fn insert(conn: &mut PgConnection, row: &MeetingInsert) -> Result<MeetingRow, AppError> {
    Ok(diesel::insert_into(meetings::table)
        .values(row)
        .returning(MeetingRow::as_returning())
        .get_result(conn)?)
}

/// Meetings with every column given, any number (an import brings whole cases).
pub fn insert_all(conn: &mut PgConnection, rows: &[MeetingInsert]) -> Result<(), AppError> {
    crate::db::bulk::insert(rows, |chunk| {
        diesel::insert_into(meetings::table)
            .values(chunk)
            .execute(conn)
    })
}

pub fn insert_invitees(conn: &mut PgConnection, rows: &[InviteeInsert]) -> Result<(), AppError> {
    crate::db::bulk::insert(rows, |chunk| {
        diesel::insert_into(meeting_invitees::table)
            .values(chunk)
            .execute(conn)
    })
}

/// The invitees from now on: those no longer listed are dropped, new ones asked, the rest keep their
/// answer unless `ask_again`. Returns the participants newly invited.
pub fn set_invitees(
    conn: &mut PgConnection,
    meeting: &MeetingRow,
    invitees: &[Uuid],
    ask_again: bool,
) -> Result<Vec<Uuid>, AppError> {
    let of_meeting = meeting_invitees::table.filter(meeting_invitees::meeting_id.eq(meeting.id));
    diesel::delete(of_meeting.filter(meeting_invitees::participant_id.ne_all(invitees)))
        .execute(conn)?;
    if ask_again {
        diesel::update(of_meeting)
            .set((
                meeting_invitees::response.eq(InviteeResponse::Pending),
                meeting_invitees::responded_at.eq(None::<DateTime<Utc>>),
            ))
            .execute(conn)?;
    }
    let rows: Vec<InviteeInsert> = invitees
        .iter()
        .map(|p| InviteeInsert {
            meeting_id: meeting.id,
            case_id: meeting.case_id,
            participant_id: *p,
            response: InviteeResponse::Pending,
            responded_at: None,
        })
        .collect();
    Ok(diesel::insert_into(meeting_invitees::table)
        .values(&rows)
        .on_conflict_do_nothing()
        .returning(meeting_invitees::participant_id)
        .get_results(conn)?)
}

pub fn answer(
    conn: &mut PgConnection,
    meeting_id: Uuid,
    participant_id: Uuid,
    response: InviteeResponse,
) -> Result<(), AppError> {
    diesel::update(meeting_invitees::table.find((meeting_id, participant_id)))
        .set((
            meeting_invitees::response.eq(response),
            meeting_invitees::responded_at.eq(Some(Utc::now())),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = meetings)]
pub struct MeetingChanges {
    pub kind: Option<MeetingKind>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub place: Option<String>,
    pub agenda: Option<String>,
    pub state: Option<MeetingState>,
    pub minutes_entry_id: Option<Uuid>,
    pub cancel_reason: Option<String>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// Applies `changes`, moves the version on, and the calendar sequence when `calendar_sees_it`.
pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    changes: &MeetingChanges,
    calendar_sees_it: bool,
) -> Result<MeetingRow, AppError> {
    let step = i32::from(calendar_sees_it);
    Ok(diesel::update(meetings::table.find(id))
        .set((
            changes,
            meetings::version.eq(meetings::version + 1),
            meetings::sequence.eq(meetings::sequence + step),
        ))
        .returning(MeetingRow::as_returning())
        .get_result(conn)?)
}

impl MeetingChanges {
    /// Whether these changes would alter the stored meeting (`crate::patch`).
    pub fn alters(&self, row: &MeetingRow) -> bool {
        differs(self.starts_at.as_ref(), &row.starts_at)
            || differs(self.ends_at.as_ref(), &row.ends_at)
            || self.moves_place(row)
            || self.tells_more(row)
            || differs(self.state.as_ref(), &row.state)
            || differs(
                self.minutes_entry_id.map(Some).as_ref(),
                &row.minutes_entry_id,
            )
            || differs(
                self.cancel_reason.as_deref().map(Some).as_ref(),
                &row.cancel_reason.as_deref(),
            )
            || differs(self.cancelled_at.map(Some).as_ref(), &row.cancelled_at)
    }

    /// The meeting moves somewhere else.
    pub fn moves_place(&self, row: &MeetingRow) -> bool {
        differs(
            self.place.as_deref().map(Some).as_ref(),
            &row.place.as_deref(),
        )
    }

    /// The invitees learn something new about the meeting besides its time and place: its kind or agenda.
    pub fn tells_more(&self, row: &MeetingRow) -> bool {
        differs(self.kind.as_ref(), &row.kind)
            || differs(
                self.agenda.as_deref().map(Some).as_ref(),
                &row.agenda.as_deref(),
            )
    }
}

/// Cancels the case's planned meetings (the case is closing): calendars show them cancelled, since their
/// sequence moves on.
pub fn cancel_planned(
    conn: &mut PgConnection,
    case_id: Uuid,
    reason: &str,
) -> Result<usize, AppError> {
    Ok(diesel::update(
        meetings::table
            .filter(meetings::case_id.eq(case_id))
            .filter(meetings::state.eq(MeetingState::Planned)),
    )
    .set((
        meetings::state.eq(MeetingState::Cancelled),
        meetings::cancel_reason.eq(reason),
        meetings::cancelled_at.eq(Some(Utc::now())),
        meetings::version.eq(meetings::version + 1),
        meetings::sequence.eq(meetings::sequence + 1),
    ))
    .execute(conn)?)
}

/// Moves the version on after a change of the invitations alone.
pub fn touch(conn: &mut PgConnection, id: Uuid) -> Result<MeetingRow, AppError> {
    update(conn, id, &MeetingChanges::default(), false)
}

/// Whose meetings: a professional by login, a guardian or youth by national id.
pub struct Person<'a> {
    pub user_id: Option<&'a str>,
    pub pid_hash: Option<&'a [u8]>,
}

/// The meetings `person` is invited to that end after `since`, soonest first, at most `limit`. Who may
/// still read each case is the caller's to decide (`crate::policy`).
pub fn of_person(
    conn: &mut PgConnection,
    person: &Person,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(MeetingRow, Uuid)>, AppError> {
    let mine = case_participants::active.and(
        case_participants::user_id
            .eq(person.user_id)
            .and(case_participants::kind.eq("professional"))
            .or(case_participants::national_id_hash
                .eq(person.pid_hash)
                .and(case_participants::kind.ne("professional"))),
    );
    Ok(meetings::table
        .inner_join(meeting_invitees::table.on(meeting_invitees::meeting_id.eq(meetings::id)))
        .inner_join(
            case_participants::table.on(case_participants::id.eq(meeting_invitees::participant_id)),
        )
        .filter(mine)
        .filter(meetings::ends_at.ge(since))
        .order((meetings::starts_at.asc(), meetings::id.asc()))
        .limit(limit)
        .select((MeetingRow::as_select(), meeting_invitees::participant_id))
        .load(conn)?)
}
