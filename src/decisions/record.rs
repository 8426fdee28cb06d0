//! What recording a level-0 decision does (rule 12): the decision row, then what its outcome moves.

use diesel::PgConnection;
use uuid::Uuid;

use super::api::{Decision, DecisionInput, DecisionOutcome};
use super::rules;
use super::store::{self, DecisionInsert};
use crate::access_log::store::{Action, Resource};
use crate::auth::Caller;
use crate::cases::api::CloseReason;
use crate::changes::api::ChangeType;
use crate::http::error::AppError;
use crate::level_changes::change::{move_level, LevelMove};
use crate::policy::CaseAccess;

/// The level change's reason when the decision gives no note.
const DEFAULT_REASON: &str = "Beslutning ved slutten av nivå 0";

/// Records the decision that ends the case's level-0 period and does what it says: `level_1`/`level_2`
/// move the level through rules 1 and 2, `close` closes the case (`no_need`), `report_child_welfare`
/// changes nothing the family reads: no change in the feed, the case's version stays, and its access
/// event is one rule 11 keeps from the family. Returns the decision and the case's version after it.
pub fn decide(
    conn: &mut PgConnection,
    caller: &Caller,
    access: &CaseAccess,
    input: &DecisionInput,
) -> Result<(Decision, i32), AppError> {
    let case = &access.case;
    let period = store::current_period(conn, case.id)?;
    rules::one_decision_ends_a_level0_period(case.level, period.decided)?;
    let began = crate::clock::day_of(period.since);
    rules::decided_within_the_period(input.decided_on, began, access.today)?;
    let me = access.actor()?;
    let row = store::insert(
        conn,
        &DecisionInsert {
            id: Uuid::now_v7(),
            case_id: case.id,
            period_started_at: period.since,
            outcome: input.outcome,
            decided_on: input.decided_on,
            note: input.note.as_deref(),
            service: access.holder_service(),
            recorded_at: None,
            recorded_by_participant: me.id,
            recorded_by_name: &me.name,
        },
    )?;
    let version = match input.outcome {
        DecisionOutcome::Level1 | DecisionOutcome::Level2 => {
            let to = LevelMove {
                to_level: input.outcome.to_level().unwrap_or(1),
                reason: input.note.as_deref().unwrap_or(DEFAULT_REASON),
                decided_on: input.decided_on,
            };
            move_level(conn, caller, access, to)?.1
        }
        DecisionOutcome::Close => {
            let note = input.note.as_deref();
            let closed = crate::cases::store::close(conn, case.id, CloseReason::NoNeed, note)?;
            access.changed(
                conn,
                caller,
                Action::Close,
                Resource::Case,
                ChangeType::CaseClosed,
            )?;
            closed.version
        }
        DecisionOutcome::ReportChildWelfare => {
            access.record(conn, caller, Action::Create, Resource::ChildWelfareReport)?;
            case.version
        }
    };
    Ok((row.view(), version))
}
