//! THE place that decides who may read or write a case (rules 6 and 8 of domain.md, growing with the
//! consent rules). Handlers never decide access themselves: they ask `case_for_read` / `case_for_write`,
//! and lists use `visible_cases`, which states the same rule in SQL.
//!
//! A case the caller may not see answers 404, never 403: its existence is itself sensitive.

use diesel::pg::Pg;
use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::Caller;
use crate::cases::model::CaseRow;
use crate::db::schema::{case_participants, cases};
use crate::error::AppError;
use crate::participants::model::ParticipantRow;

/// What the caller is to a case they may read.
#[derive(Debug, Clone)]
pub struct CaseAccess {
    pub case: CaseRow,
    /// The caller's own active participation, when they have one.
    pub me: Option<ParticipantRow>,
}

impl CaseAccess {
    pub fn is_holder(&self) -> bool {
        self.me
            .as_ref()
            .is_some_and(|p| p.id == self.case.holder_participant_id)
    }

    /// Writes reserved for the stafettholder (rule 6: one actor coordinates and documents).
    pub fn require_holder(&self) -> Result<(), AppError> {
        if self.is_holder() {
            Ok(())
        } else {
            Err(AppError::forbidden(
                "only the case's stafettholder may do this",
            ))
        }
    }

    /// Closed cases are kept for the record and refuse changes.
    pub fn require_open(&self) -> Result<(), AppError> {
        if self.case.status == "open" {
            Ok(())
        } else {
            Err(AppError::conflict(
                "the case is closed and can no longer be changed",
            ))
        }
    }
}

/// Rule 8, as a plain function: may this caller read this case, given their participation in it?
/// Today: same municipality, and an active professional participant. Consent coverage, guardians and the
/// subject youth join here with the consent rules.
pub fn may_read(caller: &Caller, case: &CaseRow, me: Option<&ParticipantRow>) -> bool {
    if caller.tenant != case.municipality {
        return false;
    }
    match me {
        Some(p) => {
            p.active && p.kind == "professional" && caller.has_role(crate::auth::Role::Professional)
        }
        None => false,
    }
}

fn load(
    conn: &mut PgConnection,
    caller: &Caller,
    case_id: Uuid,
    lock: bool,
) -> Result<CaseAccess, AppError> {
    let query = cases::table
        .filter(cases::id.eq(case_id))
        .filter(cases::municipality.eq(&caller.tenant))
        .select(CaseRow::as_select());
    let case = if lock {
        query.for_update().first(conn)
    } else {
        query.first(conn)
    }
    .optional()?
    .ok_or_else(|| AppError::not_found("case"))?;
    let me = case_participants::table
        .filter(case_participants::case_id.eq(case_id))
        .filter(case_participants::kind.eq("professional"))
        .filter(case_participants::user_id.eq(&caller.user_id))
        .filter(case_participants::active.eq(true))
        .select(ParticipantRow::as_select())
        .first(conn)
        .optional()?;
    if may_read(caller, &case, me.as_ref()) {
        Ok(CaseAccess { case, me })
    } else {
        Err(AppError::not_found("case"))
    }
}

/// The case, if the caller may read it; 404 otherwise.
pub fn case_for_read(
    conn: &mut PgConnection,
    caller: &Caller,
    case_id: Uuid,
) -> Result<CaseAccess, AppError> {
    load(conn, caller, case_id, false)
}

/// The case locked for the rest of the transaction (`SELECT ... FOR UPDATE`), so concurrent changes of one
/// case queue up instead of overwriting each other. Write rules (holder, open) are checked by the caller
/// through `CaseAccess`, because they differ per action.
pub fn case_for_write(
    conn: &mut PgConnection,
    caller: &Caller,
    case_id: Uuid,
) -> Result<CaseAccess, AppError> {
    load(conn, caller, case_id, true)
}

/// The ids of the cases the caller may read, as a subquery: rule 8 stated in SQL for lists. Must agree
/// with `may_read`; the tests of both check the same scenarios.
pub fn visible_cases(caller: &Caller) -> cases::BoxedQuery<'static, Pg, diesel::sql_types::Uuid> {
    let mut query = cases::table
        .filter(cases::municipality.eq(caller.tenant.clone()))
        .select(cases::id)
        .into_boxed();
    if caller.has_role(crate::auth::Role::Professional) {
        query = query.filter(
            cases::id.eq_any(
                case_participants::table
                    .filter(case_participants::kind.eq("professional"))
                    .filter(case_participants::user_id.eq(caller.user_id.clone()))
                    .filter(case_participants::active.eq(true))
                    .select(case_participants::case_id),
            ),
        );
    } else {
        query = query.filter(diesel::dsl::sql::<diesel::sql_types::Bool>("FALSE"));
    }
    query
}
