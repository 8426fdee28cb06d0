//! Whether a document says what a stored case says already: documents of the same case compare equal
//! whichever system gave the ids, and an import may change only the concern, the subject and the
//! references of a case that exists.

use std::collections::HashMap;

use chrono::{DateTime, DurationRound, Utc};

use super::periods_of;
use crate::cases::api::CaseStatus;
use crate::documents::api::*;
use crate::http::error::AppError;

/// What a line does to the case its references name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Unchanged,
    /// The concern, the subject or further references differ: an import may change those.
    Update,
}

/// The document as it will be stored: implied holder periods filled in, and a replaced consent's
/// `superseded_at` defaulting to when its successor was recorded.
fn normalized(doc: &CaseDocument) -> CaseDocument {
    let mut doc = doc.clone();
    doc.holder_periods = periods_of(&doc);
    let successors: HashMap<String, DateTime<Utc>> = doc
        .consents
        .iter()
        .filter_map(|k| k.supersedes.clone().map(|old| (old, k.recorded_at)))
        .collect();
    for k in &mut doc.consents {
        match successors.get(&k.id) {
            Some(at) if k.superseded_at.is_none() => k.superseded_at = Some(*at),
            None => k.superseded_at = None,
            _ => {}
        }
    }
    doc
}

/// The fields that hold document ids; other strings (a user id that looks like an id) stay as they are.
const ID_FIELDS: [&str; 17] = [
    "id",
    "holder",
    "participant_id",
    "given_by",
    "supersedes",
    "withdrawn_by",
    "evaluated_by",
    "recorded_by",
    "from",
    "author",
    "attendees",
    "corrects",
    "coordinator",
    "plan",
    "minutes_entry",
    "from_participant",
    "to_participant",
];

/// The document with ids replaced by their order of appearance, sets sorted, and the access log left
/// out: two documents of the same case compare equal whichever system gave the ids.
pub fn canonical(doc: &CaseDocument) -> serde_json::Value {
    let mut doc = normalized(doc);
    doc.access_log.clear();
    let order = appearance_order(&doc);
    let mut value = serde_json::to_value(&doc).expect("documents serialize");
    walk(&mut value, &order, false);
    value
}

/// Each record's id and the name it gets by its place in the document: `#0` the case, `#1` ...
fn appearance_order(doc: &CaseDocument) -> HashMap<String, String> {
    let ids = std::iter::once(&doc.case.id)
        .chain(doc.participants.iter().map(|p| &p.id))
        .chain(doc.consents.iter().map(|c| &c.id))
        // Plans before the measures that name them, so a change further down does not renumber them.
        .chain(doc.plans.iter().map(|p| &p.id))
        .chain(
            doc.measures
                .iter()
                .flat_map(|m| std::iter::once(&m.id).chain(m.evaluations.iter().map(|e| &e.id))),
        )
        .chain(doc.level_changes.iter().map(|l| &l.id))
        .chain(doc.handovers.iter().map(|h| &h.id))
        .chain(doc.entries.iter().map(|e| &e.id))
        .chain(doc.meetings.iter().map(|m| &m.id))
        .chain(doc.decisions.iter().map(|d| &d.id));
    let mut order = HashMap::new();
    for id in ids {
        let n = order.len();
        order.entry(id.clone()).or_insert_with(|| format!("#{n}"));
    }
    order
}

fn walk(v: &mut serde_json::Value, order: &HashMap<String, String>, is_id: bool) {
    match v {
        serde_json::Value::String(s) => {
            if let Some(n) = order.get(s.as_str()).filter(|_| is_id) {
                *s = n.clone();
            } else if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                // Times are stored to the microsecond (diesel truncates): compare them as stored.
                let t = t.with_timezone(&Utc);
                let t = t
                    .duration_trunc(chrono::TimeDelta::microseconds(1))
                    .unwrap_or(t);
                *s = t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|i| walk(i, order, is_id)),
        serde_json::Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                // A reference is another system's id, kept as written: the one an export gives a case
                // without references is that case's id where it came from, not a record of this document.
                if k == "external_refs" {
                    if let serde_json::Value::Array(items) = val {
                        items.sort_by_key(|i| i.to_string());
                    }
                    continue;
                }
                walk(val, order, ID_FIELDS.contains(&k.as_str()));
                if matches!(k.as_str(), "given_by" | "services") {
                    if let serde_json::Value::Array(items) = val {
                        items.sort_by_key(|i| i.to_string());
                    }
                }
            }
        }
        _ => {}
    }
}

/// Compares the document with the stored case (exported with full national ids). References the stored
/// case has beyond the document's are kept, not a difference, and so is its archival. Anything beyond the concern, the subject
/// and references that differs is the line's error, naming the section: records are added to an
/// existing case through the API, where every change is its own act.
pub fn compare(stored: &CaseDocument, doc: &CaseDocument) -> Result<Verdict, AppError> {
    let adds_refs = doc
        .case
        .external_refs
        .iter()
        .any(|r| !stored.case.external_refs.contains(r));
    let mut incoming_doc = doc.clone();
    if !adds_refs {
        incoming_doc.case.external_refs = stored.case.external_refs.clone();
    }
    // An archival the stored case has and the document does not know of is no difference either: the
    // system the case came from need not hear of the archive.
    if incoming_doc.case.archived.is_none() {
        incoming_doc.case.archived = stored.case.archived.clone();
    }
    // Nor is when the current level-0 period began, which an older document or another system need not
    // say. A report to child welfare is never compared: the stored side leaves them out for the
    // integration (rule 11), so the line's own are set aside too.
    if incoming_doc.case.level0_since.is_none() {
        incoming_doc.case.level0_since = stored.case.level0_since;
    }
    // Nor the day it was last reopened, which a document of an older build does not say.
    if incoming_doc.case.reopened_on.is_none() {
        incoming_doc.case.reopened_on = stored.case.reopened_on;
    }
    incoming_doc
        .decisions
        .retain(|d| d.outcome != crate::decisions::api::DecisionOutcome::ReportChildWelfare);
    let incoming = canonical(&incoming_doc);
    let as_stored = canonical(stored);
    if as_stored == incoming {
        return Ok(Verdict::Unchanged);
    }
    let mut candidate = stored.clone();
    candidate.case.concern = doc.case.concern.clone();
    candidate.case.subject = doc.case.subject.clone();
    candidate.case.external_refs = incoming_doc.case.external_refs;
    if canonical(&candidate) != incoming {
        return Err(AppError::invalid(
            first_difference(&as_stored, &incoming),
            "differs from the stored case; an import updates only the concern, the subject and references of an existing case",
        ));
    }
    if stored.case.status != CaseStatus::Open {
        return Err(AppError::conflict(
            "the case is closed and can no longer be changed",
        ));
    }
    Ok(Verdict::Update)
}

fn first_difference(a: &serde_json::Value, b: &serde_json::Value) -> String {
    let keys = [
        "case",
        "participants",
        "holder",
        "holder_periods",
        "consents",
        "measures",
        "level_changes",
        "handovers",
        "reassignments",
        "entries",
        "plans",
        "meetings",
        "decisions",
        "closings",
    ];
    keys.iter()
        .find(|k| a.get(**k) != b.get(**k))
        .map(|k| k.to_string())
        .unwrap_or_else(|| "document".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::import::fixture::{closed, valid};
    use crate::http::error::ProblemType;

    /// The document as this service stores it: the same records under ids of its own.
    fn stored(doc: &CaseDocument) -> CaseDocument {
        let renamed: HashMap<String, String> = appearance_order(doc)
            .into_keys()
            .map(|id| (id.clone(), format!("0190-{id}")))
            .collect();
        let mut value = serde_json::to_value(doc).unwrap();
        walk(&mut value, &renamed, false);
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn the_same_case_under_other_ids_is_unchanged() {
        let doc = valid();
        assert_eq!(compare(&stored(&doc), &doc).unwrap(), Verdict::Unchanged);
    }

    #[test]
    fn the_access_log_and_the_order_of_sets_are_no_difference() {
        let mut doc = valid();
        let before = stored(&doc);
        doc.access_log.push(doc.access_log[0].clone());
        doc.consents[0].given_by.reverse();
        assert_eq!(compare(&before, &doc).unwrap(), Verdict::Unchanged);
    }

    #[test]
    fn references_the_stored_case_has_beyond_the_document_are_no_difference() {
        let doc = valid();
        let mut before = stored(&doc);
        before
            .case
            .external_refs
            .push(crate::cases::api::ExternalRef {
                system: "nytt".into(),
                id: "7".into(),
            });
        assert_eq!(compare(&before, &doc).unwrap(), Verdict::Unchanged);
    }

    #[test]
    fn a_new_concern_subject_or_reference_is_an_update() {
        let before = stored(&valid());
        let mut doc = valid();
        doc.case.concern = "Ny beskrivelse".into();
        assert_eq!(compare(&before, &doc).unwrap(), Verdict::Update);
        let mut doc = valid();
        doc.case.subject.given_name = "Emma Sofie".into();
        assert_eq!(compare(&before, &doc).unwrap(), Verdict::Update);
        let mut doc = valid();
        doc.case.external_refs.push(crate::cases::api::ExternalRef {
            system: "nytt".into(),
            id: "7".into(),
        });
        assert_eq!(compare(&before, &doc).unwrap(), Verdict::Update);
    }

    #[test]
    fn a_difference_beyond_concern_subject_and_references_is_refused_naming_the_section() {
        let before = stored(&valid());
        let field = |change: &dyn Fn(&mut CaseDocument)| {
            let mut doc = valid();
            change(&mut doc);
            compare(&before, &doc).unwrap_err().errors[0].field.clone()
        };
        assert_eq!(field(&|d| drop(d.entries.pop())), "entries");
        assert_eq!(field(&|d| d.case.level = 2), "case");
        assert_eq!(
            field(&|d| d.participants[4].name = "Mormor".into()),
            "participants"
        );
        assert_eq!(field(&|d| d.measures[0].evaluations.clear()), "measures");
    }

    #[test]
    fn an_update_of_a_closed_case_is_refused() {
        let mut doc = valid();
        closed(&mut doc);
        let before = stored(&doc);
        doc.case.concern = "Ny beskrivelse".into();
        let e = compare(&before, &doc).unwrap_err();
        assert_eq!(e.kind, ProblemType::Conflict);
    }
}
