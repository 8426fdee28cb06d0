//! Who answers an invitation to a meeting: the invitee themself, a guardian too, and nobody for them.
//! Who is invited follows the consent's coverage (`super::plans::in_coverage`); planning, changing,
//! cancelling and writing minutes need a professional of the case (`Need::Professional`).

use uuid::Uuid;

use super::CaseAccess;
use crate::http::error::AppError;

/// The caller's own invitation among `invitees`: their participation in the case must be one of them.
pub fn own_invitation(access: &CaseAccess, invitees: &[Uuid]) -> Result<Uuid, AppError> {
    match &access.me {
        Some(me) if invitees.contains(&me.id) => Ok(me.id),
        _ => Err(AppError::forbidden(
            "only an invitee answers an invitation, for themself",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access_log::store::Basis;
    use crate::cases::facts::fixture::{case, guardian, professional};

    #[test]
    fn only_the_invitee_answers_their_invitation() {
        let holder = professional("h", "helsestasjon");
        let mother = guardian(Some(true));
        let father = guardian(Some(true));
        let facts = case(holder, vec![mother.clone(), father.clone()]);
        let as_mother = CaseAccess {
            me: Some(mother.clone()),
            facts,
            basis: Basis::Guardian,
        };
        assert_eq!(own_invitation(&as_mother, &[mother.id]).unwrap(), mother.id);
        assert!(own_invitation(&as_mother, &[father.id]).is_err());
    }
}
