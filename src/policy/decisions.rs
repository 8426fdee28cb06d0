//! Rule 11: who sees that a service reported a case to child welfare (barnevern). The duty to report
//! needs no consent, and the record of it is the reporting service's: shown to the professionals of that
//! service and of the stafettholder's service who read the case (and, as metadata, to the leaders of the
//! holder's service: `crate::leaders::overview`), kept out of what guardians, the youth, other services
//! and integrations read: the case, the log, the timeline, the feed and webhooks, the access log, the
//! family's export and `/me/data`. The other level-0 decisions are read as the case is.

use super::CaseAccess;
use crate::access_log::store::Basis;

/// May this reader see the report the service `reporting_service` recorded?
pub fn sees_report(access: &CaseAccess, reporting_service: &str) -> bool {
    match access.basis {
        Basis::HolderService => true,
        Basis::Consent => {
            access.me.as_ref().and_then(|p| p.service.as_deref()) == Some(reporting_service)
        }
        _ => false,
    }
}

/// May this reader see every trace of the case's reports (the access events of recording them)?
pub fn sees_reports(access: &CaseAccess, reporting_services: &[String]) -> bool {
    reporting_services.iter().all(|s| sees_report(access, s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::facts::fixture::{case, professional};
    use crate::policy::CaseAccess;

    fn reader(basis: Basis, service: &str) -> CaseAccess {
        let me = professional("kari", service);
        let facts = case(professional("pia", "barnehage"), vec![me.clone()]);
        CaseAccess {
            facts,
            me: Some(me),
            basis,
        }
    }

    #[test]
    fn rule_11_a_report_is_seen_by_the_holders_service_and_the_reporting_service_only() {
        assert!(sees_report(
            &reader(Basis::HolderService, "barnehage"),
            "skole"
        ));
        assert!(sees_report(&reader(Basis::Consent, "skole"), "skole"));
        assert!(!sees_report(
            &reader(Basis::Consent, "helsestasjon"),
            "skole"
        ));
        for family in [
            Basis::Guardian,
            Basis::SubjectYouth,
            Basis::Integration,
            Basis::Leader,
        ] {
            assert!(
                !sees_report(&reader(family, "barnehage"), "barnehage"),
                "{family:?}"
            );
        }
        let both = ["skole".to_string(), "barnehage".to_string()];
        assert!(!sees_reports(&reader(Basis::Consent, "skole"), &both));
        assert!(sees_reports(&reader(Basis::Consent, "skole"), &both[..1]));
        assert!(sees_reports(&reader(Basis::Guardian, "skole"), &[]));
    }
}
