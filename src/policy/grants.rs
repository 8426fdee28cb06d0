//! Rule 8 read from the precomputed grants (`crate::cases::grants`): the database works out who may read
//! a case when the case changes, and a read only picks the caller's rows here. What only the token knows
//! stays a check per request: the caller's roles, the services they work in today, their national id's
//! hash, and the date against the grant's window.
//!
//! `super::decide` computes the same rule from the case's facts. It is the definition the grants are held
//! to: a test drives random histories of changes through the database and compares the two for many
//! callers and days.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::access_log::store::Basis;
use crate::auth::{Caller, Role};
pub use crate::cases::grants::Grant;

fn professional_of(g: &Grant, caller: &Caller) -> bool {
    caller.has_role(Role::Professional)
        && g.user_id.as_deref() == Some(caller.user_id.as_str())
        && g.service.as_deref().is_some_and(|s| caller.works_in(s))
}

fn person_of(g: &Grant, caller: &Caller, role: Role) -> bool {
    caller.has_role(role)
        && caller.pid_hash.is_some()
        && g.pid_hash.as_deref() == caller.pid_hash.as_deref()
}

/// Rule 8 on the grants of one case (of the caller's municipality): the caller's participation, if any,
/// and the basis on which they read it on `day`. The bases are tried in the rule's order: a professional's
/// own participation, then an integration's services, then a guardian, then the subject youth.
pub fn choose(caller: &Caller, grants: &[Grant], day: NaiveDate) -> Option<(Option<Uuid>, Basis)> {
    let holding = |g: &&Grant| g.holds_on(day);
    let found = |basis: Basis, mine: &dyn Fn(&Grant) -> bool| {
        grants
            .iter()
            .filter(holding)
            .find(|g| g.basis == basis && mine(g))
            .map(|g| (g.participant_id, basis))
    };
    found(Basis::HolderService, &|g| professional_of(g, caller))
        .or_else(|| found(Basis::Consent, &|g| professional_of(g, caller)))
        .or_else(|| {
            found(Basis::Integration, &|g| {
                caller.has_role(Role::Integration)
                    && g.service.as_deref().is_some_and(|s| caller.works_in(s))
            })
        })
        .or_else(|| found(Basis::Guardian, &|g| person_of(g, caller, Role::Guardian)))
        .or_else(|| found(Basis::SubjectYouth, &|g| person_of(g, caller, Role::Youth)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Caller;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn grant(basis: Basis) -> Grant {
        Grant {
            basis,
            user_id: None,
            service: None,
            pid_hash: None,
            participant_id: Some(Uuid::now_v7()),
            valid_from: None,
            valid_until: None,
            settle_on: None,
        }
    }

    fn professional(user: &str, service: &str, basis: Basis) -> Grant {
        Grant {
            user_id: Some(user.into()),
            service: Some(service.into()),
            ..grant(basis)
        }
    }

    fn caller(roles: &[Role], services: &[&str], pid_hash: Option<&[u8]>) -> Caller {
        let mut c = Caller::for_tests("3805", "u1", roles, services);
        c.pid_hash = pid_hash.map(<[u8]>::to_vec);
        c
    }

    #[test]
    fn a_professional_reads_through_their_own_grant_while_working_in_its_service() {
        let g = professional("u1", "skole", Basis::HolderService);
        let works = caller(&[Role::Professional], &["skole"], None);
        let moved = caller(&[Role::Professional], &["helse"], None);
        assert_eq!(
            choose(&works, std::slice::from_ref(&g), day("2026-06-01")),
            Some((g.participant_id, Basis::HolderService))
        );
        assert_eq!(choose(&moved, &[g], day("2026-06-01")), None);
    }

    #[test]
    fn a_consent_grant_holds_only_inside_its_window() {
        let g = Grant {
            valid_from: Some(day("2026-01-01")),
            valid_until: Some(day("2026-12-31")),
            ..professional("u1", "helse", Basis::Consent)
        };
        let c = caller(&[Role::Professional], &["helse"], None);
        let g = std::slice::from_ref(&g);
        assert_eq!(choose(&c, g, day("2025-12-31")), None);
        assert!(choose(&c, g, day("2026-01-01")).is_some());
        assert!(choose(&c, g, day("2026-12-31")).is_some());
        assert_eq!(choose(&c, g, day("2027-01-01")), None);
    }

    #[test]
    fn a_grant_needs_the_role_it_was_given_for() {
        let g = professional("u1", "skole", Basis::HolderService);
        let guardian = caller(&[Role::Guardian], &["skole"], None);
        assert_eq!(choose(&guardian, &[g], day("2026-06-01")), None);
    }

    #[test]
    fn an_integration_reads_for_the_services_it_acts_for() {
        let g = Grant {
            service: Some("skole".into()),
            participant_id: None,
            ..grant(Basis::Integration)
        };
        let ours = caller(&[Role::Integration], &["skole"], None);
        let theirs = caller(&[Role::Integration], &["helse"], None);
        let g = std::slice::from_ref(&g);
        assert_eq!(
            choose(&ours, g, day("2026-06-01")),
            Some((None, Basis::Integration))
        );
        assert_eq!(choose(&theirs, g, day("2026-06-01")), None);
    }

    #[test]
    fn a_guardian_and_a_youth_are_matched_by_their_national_ids_hash() {
        let guardian = Grant {
            pid_hash: Some(vec![1]),
            ..grant(Basis::Guardian)
        };
        let youth = Grant {
            pid_hash: Some(vec![2]),
            valid_from: Some(day("2026-03-04")),
            participant_id: None,
            ..grant(Basis::SubjectYouth)
        };
        let grants = [guardian.clone(), youth];
        let parent = caller(&[Role::Guardian], &[], Some(&[1]));
        let stranger = caller(&[Role::Guardian], &[], Some(&[3]));
        let child = caller(&[Role::Youth], &[], Some(&[2]));
        let today = day("2026-06-01");
        assert_eq!(
            choose(&parent, &grants, today),
            Some((guardian.participant_id, Basis::Guardian))
        );
        assert_eq!(choose(&stranger, &grants, today), None);
        assert_eq!(
            choose(&child, &grants, today),
            Some((None, Basis::SubjectYouth))
        );
        assert_eq!(choose(&child, &grants, day("2026-03-03")), None);
    }

    #[test]
    fn a_professional_participation_comes_before_an_integration_or_a_family_role() {
        let own = professional("u1", "skole", Basis::Consent);
        let own = Grant {
            valid_from: Some(day("2026-01-01")),
            valid_until: Some(day("2026-12-31")),
            ..own
        };
        let service = Grant {
            service: Some("skole".into()),
            participant_id: None,
            ..grant(Basis::Integration)
        };
        let c = caller(&[Role::Integration, Role::Professional], &["skole"], None);
        assert_eq!(
            choose(&c, &[service, own.clone()], day("2026-06-01")),
            Some((own.participant_id, Basis::Consent))
        );
    }

    #[test]
    fn a_settled_expiry_is_due_from_its_day() {
        let g = Grant {
            settle_on: Some(day("2026-06-02")),
            ..grant(Basis::Guardian)
        };
        assert!(!g.settle_due(day("2026-06-01")));
        assert!(g.settle_due(day("2026-06-02")));
    }
}
