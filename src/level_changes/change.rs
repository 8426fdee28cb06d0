//! What a level change does, wherever it is asked for: a level change of its own, or a level-0 decision
//! for level 1 or 2 (rule 12 sends those through the same rules).

use chrono::NaiveDate;
use diesel::PgConnection;
use uuid::Uuid;

use super::api::LevelChange;
use super::rules;
use super::store::{self, LevelChangeInsert};
use crate::access_log::store::{Action, Resource};
use crate::auth::Caller;
use crate::changes::api::ChangeType;
use crate::http::error::AppError;
use crate::policy::CaseAccess;

/// A move to another level, with its reason and the day it was decided.
pub struct LevelMove<'a> {
    pub to_level: i16,
    pub reason: &'a str,
    pub decided_on: NaiveDate,
}

/// Rules 1 and 2, then the move: the history row, the case's level, its decision deadline and its first
/// step of the new level, the access event and the feed's `level.changed`. Returns the change and the
/// case's new version.
pub fn move_level(
    conn: &mut PgConnection,
    caller: &Caller,
    access: &CaseAccess,
    to: LevelMove,
) -> Result<(LevelChange, i32), AppError> {
    rules::check_level_change(access, to.to_level, to.decided_on)?;
    let me = access.actor()?;
    let id = access.case.id;
    let change = store::insert(
        conn,
        &LevelChangeInsert {
            id: Uuid::now_v7(),
            case_id: id,
            from_level: access.case.level,
            to_level: to.to_level,
            reason: to.reason,
            decided_on: to.decided_on,
            recorded_at: None,
            recorded_by_participant: me.id,
            recorded_by_name: &me.name,
        },
    )?;
    // Back at level 0 a new decision is due; above it, the level-0 deadline no longer applies.
    let decision_due = if to.to_level == 0 {
        let settings = crate::municipality::store::get(conn, &caller.tenant)?;
        Some(crate::cases::rules::level0_decision_due(
            access.today,
            settings.level0_deadline_days,
        ))
    } else {
        None
    };
    // A new level starts at its first step, in the guide in force now.
    let step = crate::guide::steps::first_step(conn, &caller.tenant, to.to_level)?;
    let version = store::set_case_level(conn, id, to.to_level, decision_due, &step)?;
    access.changed(
        conn,
        caller,
        Action::Update,
        Resource::CaseLevelChanges,
        ChangeType::LevelChanged,
    )?;
    Ok((change, version))
}
