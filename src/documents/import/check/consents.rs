//! The consents (rule 4: who gives them, to which services, and their life from given to replaced or
//! withdrawn) and what they cover today for an open case (rules 2, 3 and 5), decided by the same consent
//! rules the service applies to its own cases.

use std::collections::HashSet;

use uuid::Uuid;

use super::{err, person, service_known, People, Services};
use crate::consents::rules::{self as consent_rules, ConsentFacts, GiverContext};
use crate::documents::api::*;
use crate::handovers::api::HandoverState;
use crate::http::error::AppError;
use crate::participants::api::ParticipantKind;

pub(super) fn check_consents(
    consents: &[ConsentRecord],
    people: &People,
    services: &Services,
) -> Result<(), AppError> {
    for (i, k) in consents.iter().enumerate() {
        check_consent_parties(i, k, people, services)?;
        check_consent_history(i, k, &consents[..i], people)?;
    }
    Ok(())
}

/// Rule 4: consent is given by guardians with parental responsibility or the subject youth, to services
/// of the municipality, each named once.
fn check_consent_parties(
    i: usize,
    k: &ConsentRecord,
    people: &People,
    services: &Services,
) -> Result<(), AppError> {
    for (j, g) in k.given_by.iter().enumerate() {
        let field = format!("consents[{i}].given_by[{j}]");
        let p = person(people, field.clone(), g)?;
        let may_give = p.kind == ParticipantKind::Youth
            || (p.kind == ParticipantKind::Guardian && p.parental_responsibility == Some(true));
        if !may_give {
            return Err(err(
                field,
                "rule 4: consent is given by a guardian with parental responsibility or the subject youth",
            ));
        }
    }
    for (j, s) in k.services.iter().enumerate() {
        let field = format!("consents[{i}].services[{j}]");
        service_known(services, field.clone(), s)?;
        if k.services[..j].contains(s) {
            return Err(err(field, "is listed twice"));
        }
    }
    for (j, g) in k.given_by.iter().enumerate() {
        if k.given_by[..j].contains(g) {
            return Err(err(
                format!("consents[{i}].given_by[{j}]"),
                "is listed twice",
            ));
        }
    }
    for (j, g) in k.missing_signatures.iter().enumerate() {
        let field = format!("consents[{i}].missing_signatures[{j}]");
        if !k.given_by.contains(g) || k.missing_signatures[..j].contains(g) {
            return Err(err(field, "names a giver of this consent, once"));
        }
        if k.form != crate::consents::api::ConsentForm::Digital {
            return Err(err(field, "only a digital consent collects signatures"));
        }
    }
    Ok(())
}

/// A consent's life: it replaces at most one earlier consent, is valid for a period, and a withdrawal
/// says why and by whom.
fn check_consent_history(
    i: usize,
    k: &ConsentRecord,
    earlier: &[ConsentRecord],
    people: &People,
) -> Result<(), AppError> {
    let at = |f: &str| format!("consents[{i}].{f}");
    if let Some(old) = &k.supersedes {
        if earlier.iter().any(|o| o.supersedes.as_ref() == Some(old)) {
            return Err(err(at("supersedes"), "that consent is replaced twice"));
        }
    }
    if k.valid_until < k.valid_from {
        return Err(err(at("valid_until"), "ends before valid_from"));
    }
    if let Some(old) = &k.supersedes {
        if !earlier.iter().any(|o| &o.id == old) {
            return Err(err(
                at("supersedes"),
                "is not an earlier consent of this document",
            ));
        }
    }
    if k.withdrawn_at.is_some() != k.withdrawal_reason.is_some() {
        return Err(err(
            at("withdrawal_reason"),
            "a withdrawn consent has a withdrawal reason, and only it",
        ));
    }
    if let Some(w) = &k.withdrawn_by {
        person(people, at("withdrawn_by"), w)?;
    }
    Ok(())
}

/// Rule 2: at level 1 or above an open case needs consent covering the holder's service, today; rules 3
/// and 5: nobody of a service it does not cover is active in an open case or about to receive it.
pub(super) fn check_coverage(
    doc: &CaseDocument,
    holder: &ParticipantRecord,
    self_consent_age: u32,
) -> Result<(), AppError> {
    let effective = effective_consent(doc, self_consent_age);
    let holder_service = holder.service.as_deref().unwrap_or_default();
    if doc.case.level >= 1 && !effective.covers(holder_service) {
        return Err(err(
            "case.level",
            format!(
                "rule 2: level {} needs an effective consent covering the holder's service `{holder_service}`",
                doc.case.level
            ),
        ));
    }
    let in_case = |s: &str| s == holder_service || effective.covers(s);
    for (i, p) in doc.participants.iter().enumerate() {
        let service = p.service.as_deref().unwrap_or_default();
        if p.active && p.kind == ParticipantKind::Professional && !in_case(service) {
            return Err(err(
                format!("participants[{i}].service"),
                format!("rule 3: an active professional of `{service}`, which no effective consent covers"),
            ));
        }
    }
    for (i, h) in doc.handovers.iter().enumerate() {
        if h.state == HandoverState::Pending && !in_case(&h.to.service) {
            return Err(err(
                format!("handovers[{i}].to.service"),
                format!(
                    "rule 5: a pending handover to `{}`, which no effective consent covers",
                    h.to.service
                ),
            ));
        }
    }
    Ok(())
}

/// The consent the document's consents make effective today, under the rules of the importing municipality.
fn effective_consent(doc: &CaseDocument, self_consent_age: u32) -> consent_rules::Effective {
    let today = crate::clock::today();
    let active = |kind: ParticipantKind| {
        doc.participants
            .iter()
            .filter(move |p| p.active && p.kind == kind)
    };
    let ctx = GiverContext {
        responsible_guardians: active(ParticipantKind::Guardian)
            .filter(|p| crate::cases::facts::must_give_consent(p.parental_responsibility))
            .map(|p| doc_uuid(&p.id))
            .collect(),
        subject_youth: active(ParticipantKind::Youth)
            .next()
            .map(|p| doc_uuid(&p.id)),
        subject_age: doc
            .case
            .subject
            .birth_date
            .map(|b| consent_rules::age_on(b, today)),
        self_consent_age,
    };
    let superseded: HashSet<&str> = doc
        .consents
        .iter()
        .filter_map(|k| k.supersedes.as_deref())
        .collect();
    let facts: Vec<ConsentFacts> = doc
        .consents
        .iter()
        .map(|k| ConsentFacts {
            id: doc_uuid(&k.id),
            case_id: Uuid::nil(),
            givers: k.given_by.iter().map(|g| doc_uuid(g)).collect(),
            signed: k
                .given_by
                .iter()
                .filter(|g| !k.missing_signatures.contains(g))
                .map(|g| doc_uuid(g))
                .collect(),
            services: k.services.clone(),
            valid_from: k.valid_from,
            valid_until: k.valid_until,
            withdrawn: k.withdrawn_at.is_some(),
            superseded: superseded.contains(k.id.as_str()),
        })
        .collect();
    consent_rules::effective(&facts, &ctx, today)
}

/// A stable stand-in uuid for a document id, for running the consent rules on the document.
fn doc_uuid(id: &str) -> Uuid {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    let a = h.finish();
    id.len().hash(&mut h);
    Uuid::from_u64_pair(a, h.finish())
}

#[cfg(test)]
mod tests {
    use chrono::Days;

    use crate::documents::import::check::tests::refused;

    #[test]
    fn a_consent_given_by_someone_without_parental_responsibility_is_refused() {
        assert_eq!(
            refused(|d| d.consents[0].given_by = vec!["bestemor".into()]),
            "consents[0].given_by[0]"
        );
    }

    #[test]
    fn a_consent_naming_a_giver_or_a_service_twice_is_refused() {
        assert_eq!(
            refused(|d| d.consents[0].given_by.push("mor".into())),
            "consents[0].given_by[2]"
        );
        assert_eq!(
            refused(|d| d.consents[0].services.push("ppt".into())),
            "consents[0].services[2]"
        );
    }

    #[test]
    fn a_consent_to_an_unknown_service_is_refused() {
        assert_eq!(
            refused(|d| d.consents[0].services.push("bup".into())),
            "consents[0].services[2]"
        );
    }

    #[test]
    fn a_consent_that_ends_before_it_starts_is_refused() {
        assert_eq!(
            refused(|d| d.consents[0].valid_until = d.consents[0].valid_from - Days::new(1)),
            "consents[0].valid_until"
        );
    }

    #[test]
    fn a_consent_replacing_one_that_is_not_earlier_is_refused() {
        assert_eq!(
            refused(|d| d.consents[0].supersedes = Some("k2".into())),
            "consents[0].supersedes"
        );
    }

    #[test]
    fn a_consent_replaced_twice_is_refused() {
        assert_eq!(
            refused(|d| {
                let mut next = d.consents[0].clone();
                next.supersedes = Some("k1".into());
                next.id = "k2".into();
                let mut third = next.clone();
                third.id = "k3".into();
                d.consents.extend([next, third]);
            }),
            "consents[2].supersedes"
        );
    }

    #[test]
    fn a_withdrawal_without_a_reason_is_refused() {
        assert_eq!(
            refused(|d| d.consents[0].withdrawn_at = Some(d.case.opened_at)),
            "consents[0].withdrawal_reason"
        );
    }

    #[test]
    fn level_1_without_consent_covering_the_holders_service_is_refused() {
        assert_eq!(
            refused(|d| d.consents[0].given_by.retain(|g| g != "far")),
            "case.level"
        );
    }

    #[test]
    fn an_active_professional_of_a_service_no_consent_covers_is_refused() {
        assert_eq!(
            refused(|d| d.consents[0].services.retain(|s| s != "ppt")),
            "participants[1].service"
        );
    }

    #[test]
    fn a_pending_handover_to_a_service_no_consent_covers_is_refused() {
        assert_eq!(
            refused(|d| d.handovers[0].to.service = "skole".into()),
            "handovers[0].to.service"
        );
    }
}
