//! Who may see the overviews that are not one case: the municipality's figures (administrators, and
//! leaders for the services they lead) and a citizen's own overview of their data (guardians and youth
//! signed in with a national login).

use crate::auth::{Caller, Role};
use crate::http::error::AppError;

/// Whose cases a caller counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Municipality,
    /// A leader: the cases held in the services they lead.
    Led(Vec<String>),
}

/// Statistics are for administrators (the whole municipality) and leaders (the services they lead).
pub fn statistics_scope(caller: &Caller) -> Result<Scope, AppError> {
    admin_or_leader(
        caller,
        "statistics are for administrators (the whole municipality) and leaders (their services)",
    )
}

/// The administrator sees the municipality, a leader the services they lead; anyone else is refused with
/// `refusal`.
pub fn admin_or_leader(caller: &Caller, refusal: &str) -> Result<Scope, AppError> {
    if caller.has_role(Role::Admin) {
        Ok(Scope::Municipality)
    } else if caller.has_role(Role::Leader) {
        Ok(Scope::Led(caller.services.clone()))
    } else {
        Err(AppError::forbidden(refusal))
    }
}

/// The caller as a citizen: only the roles a national login gives, so a token that is also a
/// professional's finds the cases they are in as a guardian or youth, on that basis.
pub fn citizen(caller: &Caller) -> Result<Caller, AppError> {
    let roles: Vec<Role> = caller
        .roles
        .iter()
        .copied()
        .filter(|r| matches!(r, Role::Guardian | Role::Youth))
        .collect();
    if roles.is_empty() || caller.pid_hash.is_none() {
        return Err(AppError::forbidden(
            "this overview is for guardians and youth signed in with a national login (a pid claim); \
             professionals find their access in each case's access log",
        ));
    }
    let mut citizen = caller.clone();
    citizen.roles = roles;
    Ok(citizen)
}
