//! Rule 9: every read and change of case data leaves an access event, written in the same transaction as
//! the read or the change, so there is no change without its trace. Only ids, roles and the actor's name
//! are stored: never the content that was read.

use diesel::prelude::*;
use uuid::Uuid;

use crate::access::Basis;
use crate::auth::Caller;
use crate::db::schema::access_events;
use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    Read,
    List,
    Create,
    Update,
    Close,
    Export,
    Withdraw,
    Deactivate,
}

#[derive(Insertable)]
#[diesel(table_name = access_events)]
struct NewAccessEvent<'a> {
    municipality: &'a str,
    case_id: Uuid,
    actor_user_id: &'a str,
    actor_name: &'a str,
    actor_role: &'static str,
    action: &'static str,
    resource: &'a str,
    request_id: &'a str,
    basis: &'static str,
}

/// Records that `caller` did `action` on `resource` (e.g. `case`, `case.participants`) of each case, on
/// the given basis. One multi-row insert, however many cases a list showed.
pub fn record(
    conn: &mut PgConnection,
    caller: &Caller,
    case_ids: &[(Uuid, Basis)],
    action: Action,
    resource: &str,
) -> Result<(), AppError> {
    if case_ids.is_empty() {
        return Ok(());
    }
    let rows: Vec<NewAccessEvent> = case_ids
        .iter()
        .map(|&(case_id, basis)| NewAccessEvent {
            municipality: &caller.tenant,
            case_id,
            actor_user_id: &caller.user_id,
            actor_name: &caller.name,
            actor_role: caller.primary_role().into(),
            action: action.into(),
            resource,
            request_id: &caller.request_id,
            basis: match basis {
                Basis::HolderService | Basis::Consent => "participant",
                Basis::Guardian => "guardian",
                Basis::SubjectYouth => "subject_youth",
            },
        })
        .collect();
    diesel::insert_into(access_events::table)
        .values(&rows)
        .execute(conn)?;
    Ok(())
}
