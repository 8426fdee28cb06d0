//! Queries for plans and their members.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::api::{PlanKind, PlanMember, PlanState, PlanView};
use crate::db::schema::{case_participants, plan_members, plans};
use crate::http::error::AppError;
use crate::patch::{differs, Patched};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = plans)]
pub struct PlanRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: PlanKind,
    pub owner_service: String,
    pub coordinator_participant_id: Option<Uuid>,
    pub state: PlanState,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub goals: Vec<String>,
    pub end_reason: Option<String>,
    pub created_by_user: String,
    pub created_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A member of a plan's group, with the name and state of their participation.
#[derive(Debug, Clone, Queryable)]
pub struct MemberRow {
    pub plan_id: Uuid,
    pub participant_id: Uuid,
    pub role: Option<String>,
    pub added_at: DateTime<Utc>,
    pub name: String,
    pub active: bool,
}

impl PlanRow {
    pub fn view(&self, members: &[MemberRow]) -> PlanView {
        PlanView {
            id: self.id,
            case_id: self.case_id,
            kind: self.kind,
            owner_service: self.owner_service.clone(),
            coordinator: self.coordinator_participant_id,
            state: self.state,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            goals: self.goals.clone(),
            members: members
                .iter()
                .filter(|m| m.plan_id == self.id)
                .map(|m| PlanMember {
                    participant_id: m.participant_id,
                    name: m.name.clone(),
                    role: m.role.clone(),
                    active: m.active,
                })
                .collect(),
            end_reason: self.end_reason.clone(),
            created_at: self.created_at,
            activated_at: self.activated_at,
            ended_at: self.ended_at,
            version: self.version,
        }
    }
}

/// The plans of these cases, oldest first.
pub fn for_cases(conn: &mut PgConnection, case_ids: &[Uuid]) -> Result<Vec<PlanRow>, AppError> {
    Ok(plans::table
        .filter(plans::case_id.eq_any(case_ids))
        .order(plans::id.asc())
        .select(PlanRow::as_select())
        .load(conn)?)
}

pub fn find(
    conn: &mut PgConnection,
    case_id: Uuid,
    id: Uuid,
    lock: bool,
) -> Result<PlanRow, AppError> {
    let q = plans::table
        .filter(plans::id.eq(id))
        .filter(plans::case_id.eq(case_id))
        .select(PlanRow::as_select());
    if lock {
        q.for_update().first(conn)
    } else {
        q.first(conn)
    }
    .optional()?
    .ok_or_else(|| AppError::not_found("plan"))
}

/// The members of the plans of these cases, in the order they were added.
pub fn members_of_cases(
    conn: &mut PgConnection,
    case_ids: &[Uuid],
) -> Result<Vec<MemberRow>, AppError> {
    Ok(plan_members::table
        .inner_join(
            case_participants::table.on(case_participants::id.eq(plan_members::participant_id)),
        )
        .filter(plan_members::case_id.eq_any(case_ids))
        .order((
            plan_members::added_at.asc(),
            plan_members::participant_id.asc(),
        ))
        .select((
            plan_members::plan_id,
            plan_members::participant_id,
            plan_members::role,
            plan_members::added_at,
            case_participants::name,
            case_participants::active,
        ))
        .load(conn)?)
}

/// A plan with every column given: an imported one keeps its state and times.
#[derive(Debug, Insertable)]
#[diesel(table_name = plans)]
pub struct PlanInsert<'a> {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: PlanKind,
    pub owner_service: &'a str,
    pub coordinator_participant_id: Option<Uuid>,
    pub state: PlanState,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub goals: &'a [String],
    pub end_reason: Option<&'a str>,
    pub created_by_user: &'a str,
    pub created_at: Option<DateTime<Utc>>,
    pub activated_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = plan_members)]
pub struct MemberInsert<'a> {
    pub plan_id: Uuid,
    pub case_id: Uuid,
    pub participant_id: Uuid,
    pub role: Option<&'a str>,
    pub added_at: Option<DateTime<Utc>>,
}

pub fn insert(conn: &mut PgConnection, row: &PlanInsert) -> Result<PlanRow, AppError> {
    Ok(diesel::insert_into(plans::table)
        .values(row)
        .returning(PlanRow::as_returning())
        .get_result(conn)?)
}

/// Plans with every column given, any number (an import brings whole cases).
pub fn insert_all(conn: &mut PgConnection, rows: &[PlanInsert]) -> Result<(), AppError> {
    crate::db::bulk::insert(rows, |chunk| {
        diesel::insert_into(plans::table)
            .values(chunk)
            .execute(conn)
    })
}

pub fn insert_members(conn: &mut PgConnection, rows: &[MemberInsert]) -> Result<(), AppError> {
    crate::db::bulk::insert(rows, |chunk| {
        diesel::insert_into(plan_members::table)
            .values(chunk)
            .execute(conn)
    })
}

/// Adds a member, or changes their role if they are one already.
pub fn add_member(conn: &mut PgConnection, m: &MemberInsert) -> Result<(), AppError> {
    diesel::insert_into(plan_members::table)
        .values(m)
        .on_conflict((plan_members::plan_id, plan_members::participant_id))
        .do_update()
        .set(plan_members::role.eq(m.role))
        .execute(conn)?;
    Ok(())
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = plans)]
pub struct PlanChanges {
    pub owner_service: Option<String>,
    pub coordinator_participant_id: Option<Option<Uuid>>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<Option<NaiveDate>>,
    pub goals: Option<Vec<String>>,
    pub state: Option<PlanState>,
    pub end_reason: Option<String>,
    pub activated_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// Applies `changes` and moves the version on (the ETag of every later read).
pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    changes: &PlanChanges,
) -> Result<PlanRow, AppError> {
    Ok(diesel::update(plans::table.find(id))
        .set((changes, plans::version.eq(plans::version + 1)))
        .returning(PlanRow::as_returning())
        .get_result(conn)?)
}

/// A patch of `current`: [`update`], unless the changes alter nothing (`crate::patch`).
pub fn patch(
    conn: &mut PgConnection,
    current: PlanRow,
    changes: &PlanChanges,
) -> Result<Patched<PlanRow>, AppError> {
    let alter = changes.alters(&current);
    Patched::unless_unchanged(current, alter, |c| update(conn, c.id, changes))
}

impl PlanChanges {
    /// Whether these changes would alter the stored plan (`crate::patch`).
    pub fn alters(&self, row: &PlanRow) -> bool {
        differs(self.owner_service.as_deref(), row.owner_service.as_str())
            || differs(
                self.coordinator_participant_id.as_ref(),
                &row.coordinator_participant_id,
            )
            || differs(self.starts_on.as_ref(), &row.starts_on)
            || differs(self.ends_on.as_ref(), &row.ends_on)
            || differs(self.goals.as_ref(), &row.goals)
            || differs(self.state.as_ref(), &row.state)
            || differs(
                self.end_reason.as_deref().map(Some).as_ref(),
                &row.end_reason.as_deref(),
            )
            || differs(self.activated_at.map(Some).as_ref(), &row.activated_at)
            || differs(self.ended_at.map(Some).as_ref(), &row.ended_at)
    }
}

/// Moves the version on after a change of the plan's members.
pub fn touch(conn: &mut PgConnection, id: Uuid) -> Result<PlanRow, AppError> {
    Ok(diesel::update(plans::table.find(id))
        .set(plans::version.eq(plans::version + 1))
        .returning(PlanRow::as_returning())
        .get_result(conn)?)
}

/// The kinds and states of the case's plans (what closing into a plan asks).
pub fn kinds_of(
    conn: &mut PgConnection,
    case_id: Uuid,
) -> Result<Vec<(PlanKind, PlanState)>, AppError> {
    Ok(plans::table
        .filter(plans::case_id.eq(case_id))
        .select((plans::kind, plans::state))
        .load(conn)?)
}
