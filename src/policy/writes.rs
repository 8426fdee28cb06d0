//! Who may change a case (rules 6 and 8): every change of a case asks `change_case` once, with the
//! [`Need`] of its action, and gets the locked, settled facts or the problem to answer. The order of the
//! answers is the same for every change: 404 (the caller may not read the case), 403 (they may read it but
//! not do this), 409 (the case is closed), 428/412 (the `If-Match` version).

use diesel::prelude::*;
use uuid::Uuid;

use super::{load_one, CaseAccess};
use crate::access_log::store::Basis;
use crate::auth::{Caller, Role};
use crate::cases::api::CaseStatus;
use crate::db::{self, Pool};
use crate::http::error::{AppError, FieldError};
use crate::http::extract::IfMatch;

/// What an action needs of the caller, beyond being able to read the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Any reader, even of a closed case: what a closed case still allows (withdrawing a consent,
    /// tidying up a handover) is decided by the action's own rule.
    Reader,
    /// Any reader of an open case; the action's own rule says who among them (signing a consent).
    Open,
    /// A professional who reads the case on the holder's service or by consent, case open.
    Professional,
    /// The stafettholder (rule 6: one actor coordinates and documents), case open.
    Holder,
    /// The stafettholder or a guardian with parental responsibility, case open (closing a case).
    HolderOrResponsibleGuardian,
}

/// A change's need, and the case version the client saw when the change is of the case itself.
#[derive(Debug, Clone)]
pub struct Write {
    need: Need,
    version: Option<IfMatch>,
}

impl Need {
    /// The change rewrites the case itself: the client's `If-Match` must name its current version.
    pub fn at(self, if_match: IfMatch) -> Write {
        Write {
            need: self,
            version: Some(if_match),
        }
    }
}

impl From<Need> for Write {
    fn from(need: Need) -> Write {
        Write {
            need,
            version: None,
        }
    }
}

/// Runs `f` in one transaction that holds the case's lock, once the caller may make this change.
pub async fn change_case<T, F>(
    pool: &Pool,
    caller: Caller,
    case_id: Uuid,
    write: impl Into<Write>,
    f: F,
) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection, &Caller, CaseAccess) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let write = write.into();
    db::transaction_for_case(pool, caller.session(), case_id, move |conn| {
        let access = case_for_write(conn, &caller, case_id, write)?;
        f(conn, &caller, access)
    })
    .await
}

/// The case's facts, read after its row lock (taken in the transaction's `BEGIN` batch by
/// `db::transaction_for_case`, so concurrent changes of one case queue up instead of overwriting each
/// other), once the caller may make a change that needs `write`.
fn case_for_write(
    conn: &mut PgConnection,
    caller: &Caller,
    case_id: Uuid,
    write: Write,
) -> Result<CaseAccess, AppError> {
    let access = load_one(conn, caller, case_id, true)?;
    access.may(write.need)?;
    if let Some(if_match) = write.version {
        if_match.check(access.case.version)?;
    }
    Ok(access)
}

/// Rule 1: a case starts at level 0 inside one of the creator's own services. Only professionals open cases.
pub fn may_open_case_in(caller: &Caller, service: &str) -> Result<(), AppError> {
    caller.require_role(Role::Professional)?;
    if caller.works_in(service) {
        Ok(())
    } else {
        let mut e = AppError::forbidden(format!(
            "you can only open a case in one of your own services (token claim `services`); `{service}` is not one"
        ));
        e.errors = vec![FieldError {
            field: "service".into(),
            message: "not one of your services".into(),
        }];
        Err(e)
    }
}

impl CaseAccess {
    /// Rule 6 and rule 8 for writes: may the caller do what needs `need`?
    pub fn may(&self, need: Need) -> Result<(), AppError> {
        match need {
            Need::Reader | Need::Open => {}
            Need::Professional => self.require_professional()?,
            Need::Holder => self.require_holder()?,
            Need::HolderOrResponsibleGuardian => {
                if !self.is_responsible_guardian() {
                    self.require_holder()?;
                }
            }
        }
        if need != Need::Reader {
            self.require_open()?;
        }
        Ok(())
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

    fn require_professional(&self) -> Result<(), AppError> {
        if self.is_professional() {
            Ok(())
        } else {
            Err(AppError::forbidden(
                "only professionals in the case may do this",
            ))
        }
    }

    /// The case's record as a whole (its access log, its export) is for the holder and the guardians.
    pub fn require_holder_or_guardian(&self, what: &str) -> Result<(), AppError> {
        if self.is_holder() || self.is_guardian() {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "the {what} is for the stafettholder and the guardians"
            )))
        }
    }

    /// A guardian who has parental responsibility (who may, for instance, close the case).
    pub fn is_responsible_guardian(&self) -> bool {
        self.basis == Basis::Guardian
            && self
                .me
                .as_ref()
                .is_some_and(|g| g.parental_responsibility == Some(true))
    }

    /// Closed cases are kept for the record and refuse changes.
    fn require_open(&self) -> Result<(), AppError> {
        if self.case.status == CaseStatus::Open {
            Ok(())
        } else {
            Err(AppError::conflict(
                "the case is closed and can no longer be changed",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use crate::cases::api::CaseStatus;
    use crate::cases::facts::fixture::{case, guardian, professional};
    use crate::http::error::ProblemType;

    fn kind(r: Result<(), AppError>) -> Option<ProblemType> {
        r.err().map(|e| e.kind)
    }

    /// The same case seen by its holder, by a professional of a covered service, and by a guardian.
    fn seen_by() -> (CaseAccess, CaseAccess, CaseAccess, CaseAccess) {
        let holder = professional("ola", "skole");
        let colleague = professional("kari", "helsestasjon");
        let mother = guardian(Some(true));
        let father = guardian(Some(false));
        let facts = case(
            holder.clone(),
            vec![colleague.clone(), mother.clone(), father.clone()],
        );
        let as_ = |me: &crate::participants::store::ParticipantRow, basis| CaseAccess {
            facts: facts.clone(),
            me: Some(me.clone()),
            basis,
        };
        (
            as_(&holder, Basis::HolderService),
            as_(&colleague, Basis::Consent),
            as_(&mother, Basis::Guardian),
            as_(&father, Basis::Guardian),
        )
    }

    #[test]
    fn rule_6_only_the_stafettholder_makes_the_holders_changes() {
        let (holder, colleague, mother, _) = seen_by();
        assert_eq!(kind(holder.may(Need::Holder)), None);
        assert_eq!(
            kind(colleague.may(Need::Holder)),
            Some(ProblemType::Forbidden)
        );
        assert_eq!(kind(mother.may(Need::Holder)), Some(ProblemType::Forbidden));
    }

    #[test]
    fn professionals_in_the_case_write_what_needs_a_professional_and_guardians_do_not() {
        let (holder, colleague, mother, _) = seen_by();
        assert_eq!(kind(holder.may(Need::Professional)), None);
        assert_eq!(kind(colleague.may(Need::Professional)), None);
        assert_eq!(
            kind(mother.may(Need::Professional)),
            Some(ProblemType::Forbidden)
        );
    }

    #[test]
    fn a_guardian_with_parental_responsibility_may_close_the_case_and_one_without_may_not() {
        let (holder, colleague, mother, father) = seen_by();
        let need = Need::HolderOrResponsibleGuardian;
        assert_eq!(kind(holder.may(need)), None);
        assert_eq!(kind(mother.may(need)), None);
        assert_eq!(kind(father.may(need)), Some(ProblemType::Forbidden));
        assert_eq!(kind(colleague.may(need)), Some(ProblemType::Forbidden));
    }

    #[test]
    fn a_closed_case_refuses_changes_after_the_callers_right_is_settled() {
        let (mut holder, mut colleague, _, _) = seen_by();
        holder.facts.case.status = CaseStatus::Closed;
        colleague.facts.case.status = CaseStatus::Closed;
        assert_eq!(kind(holder.may(Need::Holder)), Some(ProblemType::Conflict));
        assert_eq!(kind(holder.may(Need::Open)), Some(ProblemType::Conflict));
        // Someone who may not do it at all hears that, not that the case is closed.
        assert_eq!(
            kind(colleague.may(Need::Holder)),
            Some(ProblemType::Forbidden)
        );
        // What a closed case still allows is the action's own rule.
        assert_eq!(kind(holder.may(Need::Reader)), None);
        assert_eq!(kind(colleague.may(Need::Reader)), None);
    }
    #[test]
    fn rule_1_case_opens_only_in_one_of_the_creators_services() {
        let c = Caller::for_tests("3805", "u", &[Role::Professional], &["barnehage-a"]);
        assert!(may_open_case_in(&c, "barnehage-a").is_ok());
        let err = may_open_case_in(&c, "skole-b").unwrap_err();
        assert_eq!(err.errors[0].field, "service");
    }

    #[test]
    fn rule_1_only_professionals_open_cases() {
        let c = Caller::for_tests("3805", "u", &[Role::Guardian], &["barnehage-a"]);
        assert!(may_open_case_in(&c, "barnehage-a").is_err());
    }
}
