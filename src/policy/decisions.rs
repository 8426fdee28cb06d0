//! Rule 11: who sees that a service reported a case to child welfare (barnevern). The duty to report
//! needs no consent, and the record of it is the reporting service's: shown to the professionals of that
//! service and of the stafettholder's service who read the case (and, as metadata, to the leaders of the
//! holder's service: `crate::leaders::overview`), kept out of what guardians, the youth, other services
//! and integrations read: the case, the log, the timeline, the feed and webhooks, the access log, the
//! family's export and `/me/data`. The other level-0 decisions are read as the case is.

use super::CaseAccess;
use crate::access_log::store::{Basis, Resource};

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

/// May this reader see the trace of recording a report (its access event) and every report in the
/// case's documents? The professionals of the holder's service. Decided by who reads, never by whether a
/// report exists (that would be a race, and a tell); the access log and the export, which show these, are
/// the holder's and the guardians' alone.
pub fn sees_reports(access: &CaseAccess) -> bool {
    access.basis == Basis::HolderService
}

/// The access events left out of what a reader sees (the access log, the export): the trace of recording
/// a report, for a reader who does not see reports.
pub fn hidden_resources(sees_reports: bool) -> &'static [Resource] {
    if sees_reports {
        &[]
    } else {
        &[Resource::ChildWelfareReport]
    }
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
        assert!(sees_reports(&reader(Basis::HolderService, "barnehage")));
        for other in [
            Basis::Consent,
            Basis::Guardian,
            Basis::SubjectYouth,
            Basis::Integration,
        ] {
            assert!(!sees_reports(&reader(other, "barnehage")), "{other:?}");
        }
    }
}
