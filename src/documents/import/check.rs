//! The rules of docs/rules.md against one case document, before anything is written: plain functions, one
//! per section of the document, run in the order a reader meets the sections. The first broken rule is
//! the line's error, naming its field; a document is never fixed silently.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;
use validator::Validate;

use super::periods_of;
use crate::access_log::store::{known_action, known_basis, known_resource};
use crate::cases::api::CaseStatus;
use crate::consents::rules::{self as consent_rules, ConsentFacts, GiverContext};
use crate::documents::*;
use crate::entries::api::EntryKind;
use crate::handovers::api::HandoverState;
use crate::http::error::AppError;
use crate::measures::api::Outcome;
use crate::participants::api::ParticipantKind;

/// The document's participants by their document id.
type People<'d> = HashMap<&'d str, &'d ParticipantRecord>;

fn err(field: impl Into<String>, message: impl Into<String>) -> AppError {
    AppError::invalid(field, message)
}

fn service_known(services: &HashSet<String>, field: String, s: &str) -> Result<(), AppError> {
    if services.contains(s) {
        Ok(())
    } else {
        Err(err(
            field,
            format!("`{s}` is not a service of this municipality"),
        ))
    }
}

fn person<'d>(
    people: &People<'d>,
    field: String,
    id: &str,
) -> Result<&'d ParticipantRecord, AppError> {
    people.get(id).copied().ok_or_else(|| {
        err(
            field,
            format!("`{id}` is not a participant of this document"),
        )
    })
}

/// Rules 1-11 against the document alone, plus the municipality's services. Every error names its field.
pub fn check(
    doc: &CaseDocument,
    services: &HashSet<String>,
    self_consent_age: u32,
) -> Result<(), AppError> {
    if doc.format != FORMAT {
        return Err(err("format", format!("must be `{FORMAT}`")));
    }
    doc.validate()?;
    check_case(&doc.case, services)?;
    check_ids(doc)?;
    check_access_log(&doc.access_log)?;
    let people = check_participants(&doc.participants, services)?;
    let holder = check_holder(doc, &people)?;
    check_consents(&doc.consents, &people, services)?;
    if doc.case.status == CaseStatus::Open {
        check_coverage(doc, holder, self_consent_age)?;
    }
    check_measures(&doc.measures, &people, services)?;
    check_level_changes(doc, &people)?;
    check_handovers(doc, &people, services)?;
    check_entries(&doc.entries, &people)
}

fn check_case(c: &CaseRecord, services: &HashSet<String>) -> Result<(), AppError> {
    if c.purged_at.is_some() {
        return Err(err(
            "case.purged_at",
            "a purged case is a tombstone: its personal data was erased, there is nothing to import",
        ));
    }
    service_known(
        services,
        "case.opened_in_service".into(),
        &c.opened_in_service,
    )?;
    let open = c.status == CaseStatus::Open;
    if open != c.closed_at.is_none() || open != c.close_reason.is_none() {
        return Err(err(
            "case.status",
            "an open case has no closed_at or close_reason; a closed one has both",
        ));
    }
    crate::cases::rules::refs_are_distinct(&c.external_refs)
        .map_err(|_| err("case.external_refs", "a reference is listed twice"))
}

/// Every record's id is unique in the document: the ids link records to each other.
fn check_ids(doc: &CaseDocument) -> Result<(), AppError> {
    let mut seen = HashSet::new();
    let ids = doc
        .participants
        .iter()
        .map(|p| ("participants", &p.id))
        .chain(doc.consents.iter().map(|k| ("consents", &k.id)))
        .chain(doc.measures.iter().map(|m| ("measures", &m.id)))
        .chain(
            doc.measures
                .iter()
                .flat_map(|m| m.evaluations.iter().map(|e| ("evaluations", &e.id))),
        )
        .chain(doc.level_changes.iter().map(|l| ("level_changes", &l.id)))
        .chain(doc.handovers.iter().map(|h| ("handovers", &h.id)))
        .chain(doc.entries.iter().map(|e| ("entries", &e.id)));
    for (section, id) in ids {
        if !seen.insert(id.as_str()) {
            return Err(err(
                section,
                format!("the id `{id}` is used twice in the document"),
            ));
        }
    }
    Ok(())
}

/// The history moves along as it was, so it may only hold what this service itself would have written.
fn check_access_log(log: &[AccessRecord]) -> Result<(), AppError> {
    for (i, a) in log.iter().enumerate() {
        if !(known_action(&a.action) && known_resource(&a.resource) && known_basis(&a.basis)) {
            return Err(err(
                format!("access_log[{i}]"),
                "has an action, resource or basis this service does not know",
            ));
        }
    }
    Ok(())
}

fn check_participants<'d>(
    participants: &'d [ParticipantRecord],
    services: &HashSet<String>,
) -> Result<People<'d>, AppError> {
    for (i, p) in participants.iter().enumerate() {
        check_participant(i, p, services)?;
    }
    let mut active_users = HashSet::new();
    for (i, p) in participants.iter().enumerate() {
        if p.active
            && p.kind == ParticipantKind::Professional
            && !active_users.insert(p.user_id.as_deref())
        {
            return Err(err(
                format!("participants[{i}].user_id"),
                "is an active professional of the case twice",
            ));
        }
    }
    let youths = participants
        .iter()
        .filter(|p| p.active && p.kind == ParticipantKind::Youth)
        .count();
    if youths > 1 {
        return Err(err("participants", "a case has one subject youth"));
    }
    Ok(participants.iter().map(|p| (p.id.as_str(), p)).collect())
}

/// What each kind of participant needs, as the participants' own API asks for it.
fn check_participant(
    i: usize,
    p: &ParticipantRecord,
    services: &HashSet<String>,
) -> Result<(), AppError> {
    let at = |f: &str| format!("participants[{i}].{f}");
    match p.kind {
        ParticipantKind::Professional => {
            let service = p
                .service
                .as_deref()
                .ok_or_else(|| err(at("service"), "a professional has a service"))?;
            if p.user_id.is_none() {
                return Err(err(at("user_id"), "a professional has a user id"));
            }
            service_known(services, at("service"), service)?;
        }
        // No parental responsibility (`None`) is a guardian who joined from their own inquiry and whom
        // the stafettholder has not confirmed yet: exported so, imported so.
        ParticipantKind::Guardian if p.relation.is_none() => {
            return Err(err(at("relation"), "a guardian has a relation"));
        }
        ParticipantKind::Other if p.role.is_none() => {
            return Err(err(at("role"), "another person has a role"))
        }
        _ => {}
    }
    if p.active == p.left_at.is_some() {
        return Err(err(
            at("left_at"),
            "an active participant has no left_at; one who left has it",
        ));
    }
    Ok(())
}

/// Rule 6: one holder, an active professional while the case is open.
fn check_holder<'d>(
    doc: &'d CaseDocument,
    people: &People<'d>,
) -> Result<&'d ParticipantRecord, AppError> {
    let open = doc.case.status == CaseStatus::Open;
    let holder = person(people, "holder".into(), &doc.holder)?;
    if holder.kind != ParticipantKind::Professional || (open && !holder.active) {
        return Err(err(
            "holder",
            "rule 6: the stafettholder is an active professional participant",
        ));
    }
    check_holder_periods(doc, people)?;
    Ok(holder)
}

/// Rule 6 over time: a history of holders without gap or overlap, ending with the holder of today.
fn check_holder_periods(doc: &CaseDocument, people: &People) -> Result<(), AppError> {
    let open = doc.case.status == CaseStatus::Open;
    let periods = periods_of(doc);
    for (i, p) in periods.iter().enumerate() {
        person(
            people,
            format!("holder_periods[{i}].participant_id"),
            &p.participant_id,
        )?;
        if p.to.is_some_and(|to| to <= p.from) {
            return Err(err(
                format!("holder_periods[{i}].to"),
                "ends before it starts",
            ));
        }
        if i > 0 && periods[i - 1].to != Some(p.from) {
            return Err(err(
                format!("holder_periods[{i}].from"),
                "rule 6: each period starts exactly when the one before ends",
            ));
        }
    }
    let last = periods.last().expect("at least one");
    if open && (last.to.is_some() || last.participant_id != doc.holder) {
        return Err(err(
            "holder_periods",
            "rule 6: an open case's last period is the holder's, still running",
        ));
    }
    if !open && last.to.is_none() {
        return Err(err(
            "holder_periods",
            "a closed case has no running holder period",
        ));
    }
    Ok(())
}

fn check_consents(
    consents: &[ConsentRecord],
    people: &People,
    services: &HashSet<String>,
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
    services: &HashSet<String>,
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
fn check_coverage(
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

/// Rule 7: measures with one responsible party in the case, a deadline, and sound evaluations.
fn check_measures(
    measures: &[MeasureRecord],
    people: &People,
    services: &HashSet<String>,
) -> Result<(), AppError> {
    for (i, m) in measures.iter().enumerate() {
        let at = |f: &str| format!("measures[{i}].{f}");
        match &m.responsible {
            ResponsibleRecord::Service { service } => {
                service_known(services, at("responsible.service"), service)?
            }
            ResponsibleRecord::Participant { participant_id } => {
                let field = at("responsible.participant_id");
                let p = person(people, field.clone(), participant_id)?;
                if !matches!(
                    p.kind,
                    ParticipantKind::Professional | ParticipantKind::Guardian
                ) {
                    return Err(err(field, "is a professional or a guardian"));
                }
            }
            ResponsibleRecord::Subject => {}
        }
        if m.evaluate_by < m.start_date {
            return Err(err(at("evaluate_by"), "is before start_date"));
        }
        check_evaluations(i, &m.evaluations, people)?;
    }
    Ok(())
}

fn check_evaluations(
    i: usize,
    evaluations: &[EvaluationRecord],
    people: &People,
) -> Result<(), AppError> {
    for (j, e) in evaluations.iter().enumerate() {
        let at = |f: &str| format!("measures[{i}].evaluations[{j}].{f}");
        person(people, at("evaluated_by"), &e.evaluated_by)?;
        let continues = matches!(e.outcome, Outcome::Continue | Outcome::Adjust);
        if continues != e.next_evaluate_by.is_some() {
            return Err(err(
                at("next_evaluate_by"),
                "is given exactly when the outcome is continue or adjust",
            ));
        }
    }
    Ok(())
}

/// The level history leads to the case's level, one real move at a time.
fn check_level_changes(doc: &CaseDocument, people: &People) -> Result<(), AppError> {
    for (i, l) in doc.level_changes.iter().enumerate() {
        if l.from_level == l.to_level {
            return Err(err(
                format!("level_changes[{i}].to_level"),
                "equals from_level",
            ));
        }
        person(
            people,
            format!("level_changes[{i}].recorded_by"),
            &l.recorded_by,
        )?;
    }
    match doc.level_changes.last() {
        Some(l) if l.to_level != doc.case.level => {
            Err(err("case.level", "is not where the last level change went"))
        }
        _ => Ok(()),
    }
}

/// Rule 6 for handovers: one pending at most, and only on an open case.
fn check_handovers(
    doc: &CaseDocument,
    people: &People,
    services: &HashSet<String>,
) -> Result<(), AppError> {
    let mut pending = 0;
    for (i, h) in doc.handovers.iter().enumerate() {
        let at = |f: &str| format!("handovers[{i}].{f}");
        person(people, at("from"), &h.from)?;
        service_known(services, at("to.service"), &h.to.service)?;
        let is_pending = h.state == HandoverState::Pending;
        if is_pending != h.answered_at.is_none() {
            return Err(err(
                at("answered_at"),
                "is set exactly when the handover is answered",
            ));
        }
        if h.state == HandoverState::Declined && h.answer_reason.is_none() {
            return Err(err(at("answer_reason"), "a decline has a reason"));
        }
        pending += usize::from(is_pending);
    }
    let open = doc.case.status == CaseStatus::Open;
    if pending > 1 || (pending == 1 && !open) {
        return Err(err(
            "handovers",
            "rule 6: at most one pending handover, and only on an open case",
        ));
    }
    Ok(())
}

/// Rules 10 and 11: the log is the family's to read, and a correction points back at what it corrects.
fn check_entries(entries: &[EntryRecord], people: &People) -> Result<(), AppError> {
    let mut earlier = HashSet::new();
    let mut corrected = HashSet::new();
    for (i, e) in entries.iter().enumerate() {
        let at = |f: &str| format!("entries[{i}].{f}");
        if e.kind == EntryKind::BarnevernReport {
            return Err(err(
                at("kind"),
                "rule 11: a report to child welfare is never written into the family-readable log",
            ));
        }
        person(people, at("author"), &e.author)?;
        for (j, a) in e.attendees.iter().enumerate() {
            person(people, format!("entries[{i}].attendees[{j}]"), a)?;
        }
        if let Some(target) = &e.corrects {
            if !earlier.contains(target.as_str()) {
                return Err(err(
                    at("corrects"),
                    "is not an earlier entry of this document",
                ));
            }
            if !corrected.insert(target.as_str()) {
                return Err(err(at("corrects"), "that entry is corrected twice"));
            }
        }
        earlier.insert(e.id.as_str());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::Days;

    use super::*;
    use crate::documents::import::fixture::{closed, services, valid};

    /// The field the first error names when `change` is applied to the valid document.
    fn refused(change: impl FnOnce(&mut CaseDocument)) -> String {
        let mut doc = valid();
        change(&mut doc);
        let e = check(&doc, &services(), 16).expect_err("the document is refused");
        e.errors
            .first()
            .expect("the error names a field")
            .field
            .clone()
    }

    #[test]
    fn a_document_with_every_kind_of_record_is_accepted() {
        check(&valid(), &services(), 16).unwrap();
        let mut doc = valid();
        closed(&mut doc);
        check(&doc, &services(), 16).unwrap();
    }

    #[test]
    fn a_document_of_another_format_is_refused() {
        assert_eq!(
            refused(|d| d.format = "stafettlogg.case/2".into()),
            "format"
        );
    }

    #[test]
    fn a_level_outside_0_to_3_is_refused() {
        assert_eq!(refused(|d| d.case.level = 7), "case.level");
    }

    #[test]
    fn a_case_opened_in_an_unknown_service_is_refused() {
        assert_eq!(
            refused(|d| d.case.opened_in_service = "bup".into()),
            "case.opened_in_service"
        );
    }

    #[test]
    fn an_open_case_with_a_close_reason_is_refused() {
        assert_eq!(
            refused(|d| d.case.close_reason = Some(crate::cases::api::CloseReason::Other)),
            "case.status"
        );
    }

    #[test]
    fn a_reference_listed_twice_is_refused() {
        assert_eq!(
            refused(|d| d.case.external_refs.push(d.case.external_refs[0].clone())),
            "case.external_refs"
        );
    }

    #[test]
    fn an_id_used_twice_in_the_document_is_refused() {
        assert_eq!(refused(|d| d.entries[1].id = "m1".into()), "entries");
        assert_eq!(refused(|d| d.consents[0].id = "ola".into()), "consents");
    }

    #[test]
    fn an_access_event_this_service_would_not_write_is_refused() {
        assert_eq!(
            refused(|d| d.access_log[0].action = "peek".into()),
            "access_log[0]"
        );
        assert_eq!(
            refused(|d| d.access_log[0].basis = "curiosity".into()),
            "access_log[0]"
        );
        // The access log shows the resource as a closed list: a word outside it could never be read back.
        assert_eq!(
            refused(|d| d.access_log[0].resource = "case.diary".into()),
            "access_log[0]"
        );
    }

    #[test]
    fn a_professional_without_a_service_is_refused() {
        assert_eq!(
            refused(|d| d.participants[1].service = None),
            "participants[1].service"
        );
        assert_eq!(
            refused(|d| d.participants[1].service = Some("bup".into())),
            "participants[1].service"
        );
    }

    #[test]
    fn a_guardian_without_a_relation_is_refused() {
        assert_eq!(
            refused(|d| d.participants[2].relation = None),
            "participants[2].relation"
        );
    }

    #[test]
    fn another_person_without_a_role_is_refused() {
        assert_eq!(
            refused(|d| d.participants[4].role = None),
            "participants[4].role"
        );
    }

    #[test]
    fn an_active_participant_who_left_is_refused() {
        assert_eq!(
            refused(|d| d.participants[4].left_at = Some(d.case.opened_at)),
            "participants[4].left_at"
        );
    }

    #[test]
    fn the_same_professional_active_twice_is_refused() {
        assert_eq!(
            refused(|d| d.participants[1].user_id = Some("ola".into())),
            "participants[1].user_id"
        );
    }

    #[test]
    fn two_subject_youths_are_refused() {
        assert_eq!(
            refused(|d| {
                for p in &mut d.participants[3..] {
                    p.kind = ParticipantKind::Youth;
                }
            }),
            "participants"
        );
    }

    #[test]
    fn a_holder_who_is_not_a_participant_is_refused() {
        assert_eq!(refused(|d| d.holder = "nobody".into()), "holder");
    }

    #[test]
    fn a_guardian_as_holder_is_refused() {
        assert_eq!(refused(|d| d.holder = "mor".into()), "holder");
    }

    #[test]
    fn a_document_with_two_holders_is_refused() {
        let overlapping = |d: &mut CaseDocument| {
            let start = d.case.opened_at;
            let both = |who: &str, to| HolderPeriodRecord {
                participant_id: who.into(),
                from: start,
                to,
            };
            d.holder_periods = vec![
                both("pia", Some(start + chrono::TimeDelta::days(2))),
                both("ola", None),
            ];
        };
        assert_eq!(refused(overlapping), "holder_periods[1].from");
    }

    #[test]
    fn an_open_case_whose_holder_period_has_ended_is_refused() {
        assert_eq!(
            refused(|d| {
                let start = d.case.opened_at;
                d.holder_periods = vec![HolderPeriodRecord {
                    participant_id: "ola".into(),
                    from: start,
                    to: Some(start + chrono::TimeDelta::days(1)),
                }];
            }),
            "holder_periods"
        );
    }

    #[test]
    fn a_closed_case_with_a_running_holder_period_is_refused() {
        assert_eq!(
            refused(|d| {
                closed(d);
                d.holder_periods = vec![HolderPeriodRecord {
                    participant_id: "ola".into(),
                    from: d.case.opened_at,
                    to: None,
                }];
            }),
            "holder_periods"
        );
    }

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

    #[test]
    fn a_measure_held_by_another_person_is_refused() {
        assert_eq!(
            refused(|d| {
                d.measures[0].responsible = ResponsibleRecord::Participant {
                    participant_id: "bestemor".into(),
                }
            }),
            "measures[0].responsible.participant_id"
        );
    }

    #[test]
    fn a_measure_due_before_it_starts_is_refused() {
        assert_eq!(
            refused(|d| d.measures[0].evaluate_by = d.measures[0].start_date - Days::new(1)),
            "measures[0].evaluate_by"
        );
    }

    #[test]
    fn an_evaluation_that_continues_without_a_next_deadline_is_refused() {
        assert_eq!(
            refused(|d| d.measures[0].evaluations[0].next_evaluate_by = None),
            "measures[0].evaluations[0].next_evaluate_by"
        );
    }

    #[test]
    fn a_level_change_to_the_same_level_is_refused() {
        assert_eq!(
            refused(|d| d.level_changes[0].from_level = 1),
            "level_changes[0].to_level"
        );
    }

    #[test]
    fn a_level_other_than_where_the_last_change_went_is_refused() {
        assert_eq!(
            refused(|d| {
                d.level_changes[0].to_level = 2;
            }),
            "case.level"
        );
    }

    #[test]
    fn two_pending_handovers_are_refused() {
        assert_eq!(
            refused(|d| {
                let mut second = d.handovers[0].clone();
                second.id = "h2".into();
                d.handovers.push(second);
            }),
            "handovers"
        );
    }

    #[test]
    fn a_pending_handover_on_a_closed_case_is_refused() {
        assert_eq!(
            refused(|d| {
                let pending = d.handovers.clone();
                closed(d);
                d.handovers = pending;
            }),
            "handovers"
        );
    }

    #[test]
    fn a_decline_without_a_reason_is_refused() {
        assert_eq!(
            refused(|d| {
                d.handovers[0].state = HandoverState::Declined;
                d.handovers[0].answered_at = Some(d.case.opened_at);
            }),
            "handovers[0].answer_reason"
        );
    }

    #[test]
    fn a_report_to_child_welfare_in_the_log_is_refused() {
        assert_eq!(
            refused(|d| d.entries[0].kind = EntryKind::BarnevernReport),
            "entries[0].kind"
        );
    }

    #[test]
    fn a_correction_of_a_later_entry_is_refused() {
        assert_eq!(refused(|d| d.entries.swap(0, 1)), "entries[0].corrects");
    }

    #[test]
    fn an_entry_corrected_twice_is_refused() {
        assert_eq!(
            refused(|d| {
                let mut again = d.entries[1].clone();
                again.id = "n3".into();
                d.entries.push(again);
            }),
            "entries[2].corrects"
        );
    }

    #[test]
    fn an_entry_by_someone_outside_the_case_is_refused() {
        assert_eq!(
            refused(|d| d.entries[0].attendees.push("nabo".into())),
            "entries[0].attendees[2]"
        );
    }
}
