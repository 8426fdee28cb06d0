//! The rules of docs/rules.md against one case document, before anything is written: plain functions, one
//! per section of the document, run in the order a reader meets the sections. The first broken rule is
//! the line's error, naming its field; a document is never fixed silently.
//!
//! This file runs the sections in order and checks the case itself, the ids and the access log;
//! `people.rs` the participants and the holder, `consents.rs` the consents and what they cover, and
//! `history.rs` the case's course: measures, level changes, decisions, earlier closings, handovers,
//! reassignments and the log; `plans.rs` the plans and the meetings.

mod consents;
mod history;
mod people;
mod plans;

use std::collections::{HashMap, HashSet};

use validator::Validate;

use crate::access_log::store::{known_action, known_basis, known_resource};
use crate::cases::api::CaseStatus;
use crate::documents::api::*;
use crate::http::error::AppError;

/// The document's participants by their document id.
type People<'d> = HashMap<&'d str, &'d ParticipantRecord>;

/// The municipality's services: code and kind.
pub type Services = HashMap<String, crate::services::api::ServiceKind>;

fn err(field: impl Into<String>, message: impl Into<String>) -> AppError {
    AppError::invalid(field, message)
}

fn service_known(services: &Services, field: String, s: &str) -> Result<(), AppError> {
    if services.contains_key(s) {
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
    services: &Services,
    self_consent_age: u32,
) -> Result<(), AppError> {
    if doc.format != FORMAT {
        return Err(err("format", format!("must be `{FORMAT}`")));
    }
    doc.validate()?;
    check_case(&doc.case, services)?;
    check_ids(doc)?;
    check_access_log(&doc.access_log)?;
    let people = people::check_participants(&doc.participants, services)?;
    let holder = people::check_holder(doc, &people)?;
    consents::check_consents(&doc.consents, &people, services)?;
    if doc.case.status == CaseStatus::Open {
        consents::check_coverage(doc, holder, self_consent_age)?;
    }
    history::check_measures(&doc.measures, &people, services)?;
    history::check_level_changes(doc, &people)?;
    history::check_decisions(doc, &people, services)?;
    history::check_closings(&doc.closings)?;
    history::check_handovers(doc, &people, services)?;
    history::check_reassignments(&doc.reassignments, &people)?;
    history::check_entries(&doc.entries, &people)?;
    plans::check_plans(doc, &people, services)?;
    plans::check_meetings(doc, &people)
}

fn check_case(c: &CaseRecord, services: &Services) -> Result<(), AppError> {
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
    if open && c.archived.is_some() {
        return Err(err("case.archived", "only a closed case is archived"));
    }
    if let (Some(a), Some(closed_at)) = (&c.archived, c.closed_at) {
        let closed_on = crate::clock::day_of(closed_at);
        if a.archived_on < closed_on || a.archived_on > crate::clock::today() {
            return Err(err(
                "case.archived.archived_on",
                "is a day from the case's closing (in Norway) up to today",
            ));
        }
    }
    if c.reopened_on.is_some_and(|r| r > crate::clock::today()) {
        return Err(err("case.reopened_on", "cannot be in the future"));
    }
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
        .chain(doc.entries.iter().map(|e| ("entries", &e.id)))
        .chain(doc.plans.iter().map(|p| ("plans", &p.id)))
        .chain(doc.meetings.iter().map(|m| ("meetings", &m.id)))
        .chain(doc.decisions.iter().map(|d| ("decisions", &d.id)));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::import::fixture::{closed, services, valid};

    /// The field the first error names when `change` is applied to the valid document.
    pub(super) fn refused(change: impl FnOnce(&mut CaseDocument)) -> String {
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
}
