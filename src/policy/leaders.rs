//! The leader's side of rule 8. A unit leader (*enhetsleder*, role `leader`; the token's
//! `services` are the services they lead) is not a participant:
//! - for the open cases held in a service they lead, they see metadata: the subject's name and birth date,
//!   level, holder, dates, counts and flags (`crate::leaders`), never content (concern, entries, measures'
//!   and evaluations' text, consents' text), and every listing leaves an access event on the basis
//!   `leader`;
//! - they move the relay of such a case at once (`crate::handovers::reassign`), within rule 3;
//! - nothing else: `decide` (rule 8 for content) does not know the role, so a leader reads content only
//!   where they are also a participant, on that basis.
//!
//! A case belongs to the service of its stafettholder: when the relay passes to another service, the
//! case passes to that service's leaders.

use uuid::Uuid;

use crate::auth::{Caller, Role};
use crate::cases::facts::CaseFacts;
use crate::http::error::AppError;

/// Whether the caller leads the service that holds this case.
pub fn leads_case(caller: &Caller, facts: &CaseFacts) -> bool {
    caller.tenant == facts.case.municipality && caller.leads(facts.holder_service())
}

/// A service's overview, attention and statistics are for those who lead it.
pub fn require_leads(caller: &Caller, service: &str) -> Result<(), AppError> {
    if caller.leads(service) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "only a leader of the service `{service}` may see its cases (role `leader`, the service in `services`)"
        )))
    }
}

/// The scope an `integration` token needs to register departures (the municipality's HR or identity
/// system): a departure cuts a person off from every case, which is no business of a record system that
/// only exchanges cases.
pub const STAFF_SCOPE: &str = "staff";

/// Who may register departures: an administrator, or an integration token with the `staff` scope.
pub fn may_register_departures(caller: &Caller) -> Result<(), AppError> {
    if caller.has_role(Role::Admin)
        || (caller.has_role(Role::Integration) && caller.has_scope(STAFF_SCOPE))
    {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "this needs the `admin` role, or the `integration` role with the `{STAFF_SCOPE}` scope (the \
             token's `scope` claim)"
        )))
    }
}

/// The facts of a case a leader acts on, locked for the transaction (the caller's transaction must hold
/// the case's lock already: `crate::db::transaction_for_case`). A caller who does not lead the holder's
/// service gets 403 if they may read the case otherwise, and 404 if not: whether it exists is only for
/// those who may see it.
pub fn case_for_leader(
    conn: &mut diesel::PgConnection,
    caller: &Caller,
    case_id: Uuid,
) -> Result<CaseFacts, AppError> {
    let facts = super::settled_case(conn, caller, case_id, true)?;
    if leads_case(caller, &facts) {
        return Ok(facts);
    }
    if super::by_grants(caller, &facts).is_some() {
        return Err(AppError::forbidden(format!(
            "only a leader of the stafettholder's service (`{}`) may do this",
            facts.holder_service()
        )));
    }
    Err(AppError::not_found("case"))
}

/// Runs `f` in one transaction that holds the case's lock, once the caller leads the holder's service
/// (see `case_for_leader`): the leader's counterpart of `super::change_case`.
pub async fn change_led_case<T, F>(
    pool: &crate::db::Pool,
    caller: Caller,
    case_id: Uuid,
    f: F,
) -> Result<T, AppError>
where
    F: FnOnce(&mut diesel::PgConnection, &Caller, CaseFacts) -> Result<T, AppError>
        + Send
        + 'static,
    T: Send + 'static,
{
    crate::db::transaction_for_case(pool, caller.session(), case_id, move |conn| {
        let facts = case_for_leader(conn, &caller, case_id)?;
        f(conn, &caller, facts)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(roles: &[Role], services: &[&str]) -> Caller {
        Caller::for_tests("3805", "lea", roles, services)
    }

    #[test]
    fn a_leader_leads_only_the_services_in_their_token() {
        let lea = caller(&[Role::Leader], &["skole-nordby"]);
        assert!(require_leads(&lea, "skole-nordby").is_ok());
        assert!(require_leads(&lea, "barnehage-solstua").is_err());
    }

    #[test]
    fn departures_are_registered_by_an_administrator_or_an_integration_with_the_staff_scope() {
        assert!(may_register_departures(&caller(&[Role::Admin], &[])).is_ok());
        let mut system = caller(&[Role::Integration], &["barnehage-solstua"]);
        let e = may_register_departures(&system).unwrap_err();
        assert!(e.detail.contains("`staff` scope"), "{}", e.detail);
        system.scopes = vec!["cases".into(), STAFF_SCOPE.into()];
        assert!(may_register_departures(&system).is_ok());
        let lea = caller(&[Role::Leader], &["barnehage-solstua"]);
        assert!(may_register_departures(&lea).is_err());
    }

    #[test]
    fn a_professional_of_a_service_does_not_lead_it() {
        let ola = caller(&[Role::Professional], &["skole-nordby"]);
        assert!(require_leads(&ola, "skole-nordby").is_err());
    }
}
