//! Importing one case document: every rule of domain.md is checked against the document first (a broken
//! rule is the line's error, never a silent fix), then the whole case is written in the caller's
//! transaction. Documents are keyed by the case's external references, so importing the same file again
//! finds every case and changes nothing.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, DurationRound, Utc};

use diesel::prelude::*;
use diesel::sql_types::{Nullable, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::*;
use crate::access_log::Action;
use crate::auth::Caller;
use crate::cases::model::CaseRow;
use crate::changes::ChangeType;
use crate::consents::rules::{self as consent_rules, ConsentFacts, GiverContext};
use crate::db::schema::{
    access_events, case_external_refs, case_participants, cases, consent_givers, consent_services,
    consents, evaluations, handovers, level_changes, log_entries, measures, services,
};
use crate::error::AppError;
use crate::national_id::{NationalIdKey, SealedId};

/// Rows per insert statement: the widest row has 17 columns, 17 x 2,000 stays below 65,535 parameters.
const INSERT_CHUNK: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created(Uuid),
    Updated(Uuid),
    Unchanged(Uuid),
}

fn err(field: impl Into<String>, message: impl Into<String>) -> AppError {
    AppError::invalid(field, message)
}

/// The document as it will be stored: implied holder periods filled in, and a replaced consent's
/// `superseded_at` defaulting to when its successor was recorded.
fn normalized(doc: &CaseDocument) -> CaseDocument {
    let mut doc = doc.clone();
    doc.holder_periods = periods_of(&doc);
    let successors: HashMap<String, chrono::DateTime<Utc>> = doc
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

/// The document's holder periods, or the one implied when it gives none: the holder from opening.
fn periods_of(doc: &CaseDocument) -> Vec<HolderPeriodRecord> {
    if doc.holder_periods.is_empty() {
        vec![HolderPeriodRecord {
            participant_id: doc.holder.clone(),
            from: doc.case.opened_at,
            to: doc.case.closed_at,
        }]
    } else {
        doc.holder_periods.clone()
    }
}

/// Rules 1-11 against the document alone, plus the municipality's services. Every error names its field.
pub fn check(
    doc: &CaseDocument,
    known_services: &HashSet<String>,
    self_consent_age: u32,
) -> Result<(), AppError> {
    use validator::Validate;
    if doc.format != FORMAT {
        return Err(err("format", format!("must be `{FORMAT}`")));
    }
    doc.validate()?;
    let c = &doc.case;
    let service_known = |field: String, s: &str| -> Result<(), AppError> {
        if known_services.contains(s) {
            Ok(())
        } else {
            Err(err(
                field,
                format!("`{s}` is not a service of this municipality"),
            ))
        }
    };
    service_known("case.opened_in_service".into(), &c.opened_in_service)?;
    let open = c.status == CaseStatus::Open;
    if open != c.closed_at.is_none() || open != c.close_reason.is_none() {
        return Err(err(
            "case.status",
            "an open case has no closed_at or close_reason; a closed one has both",
        ));
    }

    crate::cases::rules::refs_are_distinct(&c.external_refs)
        .map_err(|_| err("case.external_refs", "a reference is listed twice"))?;
    // Every record's id is unique in the document: they link records to each other.
    let mut all_ids = HashSet::new();
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
        if !all_ids.insert(id.as_str()) {
            return Err(err(
                section,
                format!("the id `{id}` is used twice in the document"),
            ));
        }
    }
    for (i, a) in doc.access_log.iter().enumerate() {
        let actions = [
            "read",
            "list",
            "create",
            "update",
            "close",
            "export",
            "withdraw",
            "deactivate",
            "propose",
            "accept",
            "decline",
            "cancel",
            "import",
        ];
        if !actions.contains(&a.action.as_str()) || !crate::access_log::known_basis(&a.basis) {
            return Err(err(
                format!("access_log[{i}]"),
                "has an action or basis this service does not know",
            ));
        }
    }

    // Participants.
    let mut people: HashMap<&str, &ParticipantRecord> = HashMap::new();
    for (i, p) in doc.participants.iter().enumerate() {
        let at = |f: &str| format!("participants[{i}].{f}");
        if people.insert(p.id.as_str(), p).is_some() {
            return Err(err(at("id"), "is used twice"));
        }
        match p.kind {
            ParticipantKind::Professional => {
                let service = p
                    .service
                    .as_deref()
                    .ok_or_else(|| err(at("service"), "a professional has a service"))?;
                if p.user_id.is_none() {
                    return Err(err(at("user_id"), "a professional has a user id"));
                }
                service_known(at("service"), service)?;
            }
            ParticipantKind::Guardian
                if p.relation.is_none() || p.parental_responsibility.is_none() =>
            {
                return Err(err(
                    at("parental_responsibility"),
                    "a guardian has a relation and says whether they have parental responsibility",
                ));
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
    }
    let mut active_users = HashSet::new();
    for (i, p) in doc.participants.iter().enumerate() {
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
    if doc
        .participants
        .iter()
        .filter(|p| p.active && p.kind == ParticipantKind::Youth)
        .count()
        > 1
    {
        return Err(err("participants", "a case has one subject youth"));
    }
    let person = |field: String, id: &str| -> Result<&ParticipantRecord, AppError> {
        people.get(id).copied().ok_or_else(|| {
            err(
                field,
                format!("`{id}` is not a participant of this document"),
            )
        })
    };

    // Rule 6: one holder, an active professional while the case is open, and a history without gap or overlap.
    let holder = person("holder".into(), &doc.holder)?;
    if holder.kind != ParticipantKind::Professional || (open && !holder.active) {
        return Err(err(
            "holder",
            "rule 6: the stafettholder is an active professional participant",
        ));
    }
    let periods = periods_of(doc);
    for (i, p) in periods.iter().enumerate() {
        person(
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

    // Rule 4: consents are given by guardians with parental responsibility or the subject youth.
    let mut consent_ids = HashSet::new();
    for (i, k) in doc.consents.iter().enumerate() {
        let at = |f: &str| format!("consents[{i}].{f}");
        if !consent_ids.insert(k.id.as_str()) {
            return Err(err(at("id"), "is used twice"));
        }
        for (j, g) in k.given_by.iter().enumerate() {
            let p = person(format!("consents[{i}].given_by[{j}]"), g)?;
            let may_give = matches!(p.kind, ParticipantKind::Youth)
                || (p.kind == ParticipantKind::Guardian && p.parental_responsibility == Some(true));
            if !may_give {
                return Err(err(
                    format!("consents[{i}].given_by[{j}]"),
                    "rule 4: consent is given by a guardian with parental responsibility or the subject youth",
                ));
            }
        }
        for (j, s) in k.services.iter().enumerate() {
            service_known(format!("consents[{i}].services[{j}]"), s)?;
            if k.services[..j].contains(s) {
                return Err(err(
                    format!("consents[{i}].services[{j}]"),
                    "is listed twice",
                ));
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
        if let Some(old) = &k.supersedes {
            if doc.consents[..i]
                .iter()
                .any(|o| o.supersedes.as_ref() == Some(old))
            {
                return Err(err(at("supersedes"), "that consent is replaced twice"));
            }
        }
        if k.valid_until < k.valid_from {
            return Err(err(at("valid_until"), "ends before valid_from"));
        }
        if let Some(old) = &k.supersedes {
            if !doc.consents[..i].iter().any(|o| &o.id == old) {
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
            person(at("withdrawn_by"), w)?;
        }
    }

    // Rule 2: at level 1 or above an open case needs consent covering the holder's service, today; rules 3
    // and 5: nobody of a service it does not cover is active in an open case or about to receive it.
    if open {
        let effective = effective_consent(doc, self_consent_age);
        let holder_service = holder.service.as_deref().unwrap_or_default();
        if c.level >= 1 && !effective.covers(holder_service) {
            return Err(err(
                "case.level",
                format!("rule 2: level {} needs an effective consent covering the holder's service `{holder_service}`", c.level),
            ));
        }
        check_coverage(doc, holder_service, &effective)?;
    }

    // Rule 7: measures with one responsible party in the case, a deadline, and sound evaluations.
    for (i, m) in doc.measures.iter().enumerate() {
        match &m.responsible {
            ResponsibleRecord::Service { service } => {
                service_known(format!("measures[{i}].responsible.service"), service)?
            }
            ResponsibleRecord::Participant { participant_id } => {
                let p = person(
                    format!("measures[{i}].responsible.participant_id"),
                    participant_id,
                )?;
                if !matches!(
                    p.kind,
                    ParticipantKind::Professional | ParticipantKind::Guardian
                ) {
                    return Err(err(
                        format!("measures[{i}].responsible.participant_id"),
                        "is a professional or a guardian",
                    ));
                }
            }
            ResponsibleRecord::Subject => {}
        }
        if m.evaluate_by < m.start_date {
            return Err(err(
                format!("measures[{i}].evaluate_by"),
                "is before start_date",
            ));
        }
        for (j, e) in m.evaluations.iter().enumerate() {
            person(
                format!("measures[{i}].evaluations[{j}].evaluated_by"),
                &e.evaluated_by,
            )?;
            let continues = matches!(
                e.outcome,
                crate::measures::api::Outcome::Continue | crate::measures::api::Outcome::Adjust
            );
            if continues != e.next_evaluate_by.is_some() {
                return Err(err(
                    format!("measures[{i}].evaluations[{j}].next_evaluate_by"),
                    "is given exactly when the outcome is continue or adjust",
                ));
            }
        }
    }

    // Level history.
    for (i, l) in doc.level_changes.iter().enumerate() {
        if l.from_level == l.to_level {
            return Err(err(
                format!("level_changes[{i}].to_level"),
                "equals from_level",
            ));
        }
        person(format!("level_changes[{i}].recorded_by"), &l.recorded_by)?;
    }
    if let Some(l) = doc.level_changes.last() {
        if l.to_level != c.level {
            return Err(err("case.level", "is not where the last level change went"));
        }
    }

    // Handovers: one pending at most, and only on an open case.
    let mut pending = 0;
    for (i, h) in doc.handovers.iter().enumerate() {
        person(format!("handovers[{i}].from"), &h.from)?;
        service_known(format!("handovers[{i}].to.service"), &h.to.service)?;
        let is_pending = h.state == HandoverState::Pending;
        if is_pending != h.answered_at.is_none() {
            return Err(err(
                format!("handovers[{i}].answered_at"),
                "is set exactly when the handover is answered",
            ));
        }
        if h.state == HandoverState::Declined && h.answer_reason.is_none() {
            return Err(err(
                format!("handovers[{i}].answer_reason"),
                "a decline has a reason",
            ));
        }
        if is_pending {
            pending += 1;
        }
    }
    if pending > 1 || (pending == 1 && !open) {
        return Err(err(
            "handovers",
            "rule 6: at most one pending handover, and only on an open case",
        ));
    }

    // Rules 10 and 11: the log.
    let mut entry_ids: HashMap<&str, usize> = HashMap::new();
    let mut corrected = HashSet::new();
    for (i, e) in doc.entries.iter().enumerate() {
        let at = |f: &str| format!("entries[{i}].{f}");
        if e.kind == EntryKind::BarnevernReport {
            return Err(err(
                at("kind"),
                "rule 11: a report to child welfare is never written into the family-readable log",
            ));
        }
        person(at("author"), &e.author)?;
        for (j, a) in e.attendees.iter().enumerate() {
            person(format!("entries[{i}].attendees[{j}]"), a)?;
        }
        if let Some(target) = &e.corrects {
            if !entry_ids.contains_key(target.as_str()) {
                return Err(err(
                    at("corrects"),
                    "is not an earlier entry of this document",
                ));
            }
            if !corrected.insert(target.as_str()) {
                return Err(err(at("corrects"), "that entry is corrected twice"));
            }
        }
        if entry_ids.insert(e.id.as_str(), i).is_some() {
            return Err(err(at("id"), "is used twice"));
        }
    }
    Ok(())
}

/// The consent the document's consents make effective today, under the rules of the importing municipality.
fn effective_consent(doc: &CaseDocument, self_consent_age: u32) -> consent_rules::Effective {
    let today = crate::clock::today();
    let c = &doc.case;
    let ctx = GiverContext {
        responsible_guardians: doc
            .participants
            .iter()
            .filter(|p| {
                p.active
                    && p.kind == ParticipantKind::Guardian
                    && p.parental_responsibility == Some(true)
            })
            .map(|p| doc_uuid(&p.id))
            .collect(),
        subject_youth: doc
            .participants
            .iter()
            .find(|p| p.active && p.kind == ParticipantKind::Youth)
            .map(|p| doc_uuid(&p.id)),
        subject_age: c
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
            services: k.services.clone(),
            valid_from: k.valid_from,
            valid_until: k.valid_until,
            withdrawn: k.withdrawn_at.is_some(),
            superseded: superseded.contains(k.id.as_str()),
        })
        .collect();
    consent_rules::effective(&facts, &ctx, today)
}

/// Rules 3 and 5 for an open case: every active professional works in the holder's service or one the
/// effective consent covers, and a pending handover goes to such a service.
fn check_coverage(
    doc: &CaseDocument,
    holder_service: &str,
    effective: &consent_rules::Effective,
) -> Result<(), AppError> {
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

/// A stable stand-in uuid for a document id, for running the consent rules on the document.
fn doc_uuid(id: &str) -> Uuid {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    let a = h.finish();
    id.len().hash(&mut h);
    Uuid::from_u64_pair(a, h.finish())
}

/// The document with ids replaced by their order of appearance, sets sorted, and the access log left
/// out: two documents of the same case compare equal whichever system gave the ids.
pub fn canonical(doc: &CaseDocument) -> serde_json::Value {
    let mut doc = normalized(doc);
    doc.access_log.clear();
    let mut order: HashMap<String, String> = HashMap::new();
    let mut name = |id: &str| {
        let n = order.len();
        order
            .entry(id.to_string())
            .or_insert_with(|| format!("#{n}"))
            .clone()
    };
    name(&doc.case.id);
    doc.participants.iter().for_each(|p| {
        name(&p.id);
    });
    doc.consents.iter().for_each(|c| {
        name(&c.id);
    });
    for m in &doc.measures {
        name(&m.id);
        m.evaluations.iter().for_each(|e| {
            name(&e.id);
        });
    }
    for l in &doc.level_changes {
        name(&l.id);
    }
    for h in &doc.handovers {
        name(&h.id);
    }
    for e in &doc.entries {
        name(&e.id);
    }
    /// The fields that hold document ids; other strings (a user id that looks like an id) stay as they are.
    const ID_FIELDS: [&str; 12] = [
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
    ];
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
                    walk(val, order, ID_FIELDS.contains(&k.as_str()));
                    if matches!(k.as_str(), "given_by" | "services" | "external_refs") {
                        if let serde_json::Value::Array(items) = val {
                            items.sort_by_key(|i| i.to_string());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let mut value = serde_json::to_value(&doc).expect("documents serialize");
    walk(&mut value, &order, false);
    value
}

/// The existing case the document's references point at, if any; references naming two different
/// cases are the line's error.
fn existing_case(
    conn: &mut PgConnection,
    tenant: &str,
    refs: &[crate::cases::api::ExternalRef],
) -> Result<Option<Uuid>, AppError> {
    let mut found: Vec<Uuid> = Vec::new();
    for r in refs {
        let hit: Option<Uuid> = case_external_refs::table
            .filter(case_external_refs::municipality.eq(tenant))
            .filter(case_external_refs::system.eq(&r.system))
            .filter(case_external_refs::ref_id.eq(&r.id))
            .select(case_external_refs::case_id)
            .first(conn)
            .optional()?;
        if let Some(h) = hit {
            if !found.contains(&h) {
                found.push(h);
            }
        }
    }
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        _ => Err(err(
            "case.external_refs",
            "these references name different cases",
        )),
    }
}

/// One line: create the case, find it unchanged, or update the fields an import may change (the concern,
/// the subject and further references). Anything else that differs from the stored case is the line's
/// error: records are added to an existing case through the API, where every change is its own act.
/// What every line of one import request shares: read once, not once per line.
pub struct Context {
    pub services: HashSet<String>,
    pub self_consent_age: u32,
}

impl Context {
    pub fn load(conn: &mut PgConnection, tenant: &str) -> Result<Context, AppError> {
        let settings = crate::municipality::store::ensure(conn, tenant)?;
        let services = services::table
            .filter(services::municipality.eq(tenant))
            .select(services::code)
            .load(conn)?
            .into_iter()
            .collect();
        Ok(Context {
            services,
            self_consent_age: settings.self_consent_age as u32,
        })
    }
}

pub fn import(
    conn: &mut PgConnection,
    caller: &Caller,
    key: &NationalIdKey,
    ctx: &Context,
    doc: &CaseDocument,
) -> Result<Outcome, AppError> {
    check(doc, &ctx.services, ctx.self_consent_age)?;
    // Two requests importing the same references queue here instead of both creating the case.
    for r in sorted_refs(&doc.case.external_refs) {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7215002))")
            .bind::<diesel::sql_types::Text, _>(format!(
                "{}\u{1f}{}\u{1f}{}",
                caller.tenant, r.system, r.id
            ))
            .execute(conn)?;
    }
    match existing_case(conn, &caller.tenant, &doc.case.external_refs)? {
        None => {
            // An integration acts for its services: it brings in cases held in one of them.
            let holder_service = doc
                .participants
                .iter()
                .find(|p| p.id == doc.holder)
                .and_then(|p| p.service.clone());
            if !holder_service
                .as_deref()
                .is_some_and(|s| caller.works_in(s))
            {
                return Err(err(
                    "holder",
                    "the token does not act for the stafettholder's service (claim `services`)",
                ));
            }
            create(conn, caller, key, doc).map(Outcome::Created)
        }
        Some(id) => {
            let case: CaseRow = cases::table
                .find(id)
                .select(CaseRow::as_select())
                .for_update()
                .first(conn)?;
            let facts = crate::access::load_facts(conn, ctx.self_consent_age, vec![case.clone()])?
                .pop()
                .ok_or_else(AppError::internal)?;
            if crate::access::decide(caller, &facts, ctx.self_consent_age).is_none() {
                // Say no more than that the reference is taken: the case itself is not this token's to see.
                return Err(err(
                    "case.external_refs",
                    "already name a case this token may not read",
                ));
            }
            let stored = super::export::build(conn, key, &case, true)?;
            // References the stored case has beyond the document's are kept, not a difference.
            let adds_refs = doc
                .case
                .external_refs
                .iter()
                .any(|r| !stored.case.external_refs.contains(r));
            let mut incoming_doc = doc.clone();
            if !adds_refs {
                incoming_doc.case.external_refs = stored.case.external_refs.clone();
            }
            let incoming = canonical(&incoming_doc);
            if canonical(&stored) == incoming {
                return Ok(Outcome::Unchanged(id));
            }
            let mut candidate = stored.clone();
            candidate.case.concern = doc.case.concern.clone();
            candidate.case.subject = doc.case.subject.clone();
            candidate.case.external_refs = incoming_doc.case.external_refs.clone();
            if canonical(&candidate) != incoming {
                let section = first_difference(&canonical(&stored), &incoming);
                return Err(err(
                    section,
                    "differs from the stored case; an import updates only the concern, the subject and references of an existing case",
                ));
            }
            if case.status != crate::cases::api::CaseStatus::Open {
                return Err(AppError::conflict(
                    "the case is closed and can no longer be changed",
                ));
            }
            update(conn, caller, key, &case, doc)?;
            Ok(Outcome::Updated(id))
        }
    }
}

fn sorted_refs(refs: &[crate::cases::api::ExternalRef]) -> Vec<&crate::cases::api::ExternalRef> {
    let mut v: Vec<_> = refs.iter().collect();
    v.sort_by(|a, b| (&a.system, &a.id).cmp(&(&b.system, &b.id)));
    v
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
        "entries",
    ];
    keys.iter()
        .find(|k| a.get(**k) != b.get(**k))
        .map(|k| k.to_string())
        .unwrap_or_else(|| "document".into())
}

fn update(
    conn: &mut PgConnection,
    caller: &Caller,
    key: &NationalIdKey,
    case: &CaseRow,
    doc: &CaseDocument,
) -> Result<(), AppError> {
    let s = &doc.case.subject;
    let sealed =
        SealedId::columns(key.seal_field("case.subject.national_id", s.national_id.as_deref())?);
    diesel::update(cases::table.find(case.id))
        .set((
            cases::concern.eq(&doc.case.concern),
            cases::subject_kind.eq(s.kind),
            cases::subject_given_name.eq(&s.given_name),
            cases::subject_family_name.eq(&s.family_name),
            cases::subject_birth_date.eq(s.birth_date),
            cases::subject_national_id_enc.eq(sealed.0),
            cases::subject_national_id_hash.eq(sealed.1),
            cases::version.eq(cases::version + 1),
        ))
        .execute(conn)?;
    let known = crate::cases::store::refs_for(conn, &[case.id])?
        .remove(&case.id)
        .unwrap_or_default();
    let new: Vec<_> = doc
        .case
        .external_refs
        .iter()
        .filter(|r| !known.contains(r))
        .cloned()
        .collect();
    crate::cases::store::ensure_refs_free(conn, &caller.tenant, &new)?;
    insert_case_refs(conn, &caller.tenant, case.id, &new)?;
    crate::access_log::record(
        conn,
        caller,
        &[(case.id, crate::access::Basis::Integration)],
        Action::Import,
        "case",
    )?;
    crate::changes::emit(conn, &caller.tenant, case.id, &[ChangeType::CaseUpdated])
}

fn insert_case_refs(
    conn: &mut PgConnection,
    tenant: &str,
    case_id: Uuid,
    refs: &[crate::cases::api::ExternalRef],
) -> Result<(), AppError> {
    let rows: Vec<_> = refs
        .iter()
        .map(|r| {
            (
                case_external_refs::municipality.eq(tenant),
                case_external_refs::system.eq(&r.system),
                case_external_refs::ref_id.eq(&r.id),
                case_external_refs::case_id.eq(case_id),
            )
        })
        .collect();
    diesel::insert_into(case_external_refs::table)
        .values(&rows)
        .execute(conn)?;
    Ok(())
}

/// Writes the whole document as a new case, with new ids and its own timestamps kept.
fn create(
    conn: &mut PgConnection,
    caller: &Caller,
    key: &NationalIdKey,
    doc: &CaseDocument,
) -> Result<Uuid, AppError> {
    // Ids in document order: UUIDv7 keeps that order, so an export lists the records as they came.
    let case_id = Uuid::now_v7();
    let mut map: HashMap<String, Uuid> = HashMap::new();
    let mut assign = |id: &str| -> Uuid { *map.entry(id.to_string()).or_insert_with(Uuid::now_v7) };
    for p in &doc.participants {
        assign(&p.id);
    }
    for c in &doc.consents {
        assign(&c.id);
    }
    for m in &doc.measures {
        assign(&m.id);
        for e in &m.evaluations {
            assign(&e.id);
        }
    }
    for l in &doc.level_changes {
        assign(&l.id);
    }
    for h in &doc.handovers {
        assign(&h.id);
    }
    for e in &doc.entries {
        assign(&e.id);
    }
    let m = |id: &str| map[id];
    let c = &doc.case;
    let subject = SealedId::columns(
        key.seal_field("case.subject.national_id", c.subject.national_id.as_deref())?,
    );
    diesel::insert_into(cases::table)
        .values((
            cases::id.eq(case_id),
            cases::municipality.eq(&caller.tenant),
            cases::subject_kind.eq(c.subject.kind),
            cases::subject_given_name.eq(&c.subject.given_name),
            cases::subject_family_name.eq(&c.subject.family_name),
            cases::subject_birth_date.eq(c.subject.birth_date),
            cases::subject_national_id_enc.eq(subject.0),
            cases::subject_national_id_hash.eq(subject.1),
            cases::concern.eq(&c.concern),
            cases::status.eq(c.status),
            cases::level.eq(c.level),
            cases::opened_in_service.eq(&c.opened_in_service),
            cases::holder_participant_id.eq(m(&doc.holder)),
            cases::decision_due.eq(c.decision_due),
            cases::opened_at.eq(c.opened_at),
            cases::opened_by.eq(&c.opened_by),
            cases::closed_at.eq(c.closed_at),
            cases::close_reason.eq(c.close_reason.map(<&'static str>::from)),
            cases::close_note.eq(&c.close_note),
        ))
        .execute(conn)?;
    insert_case_refs(conn, &caller.tenant, case_id, &c.external_refs)?;

    let mut participant_rows = Vec::with_capacity(doc.participants.len());
    for (i, p) in doc.participants.iter().enumerate() {
        let nid = SealedId::columns(key.seal_field(
            &format!("participants[{i}].national_id"),
            p.national_id.as_deref(),
        )?);
        participant_rows.push((
            case_participants::id.eq(m(&p.id)),
            case_participants::case_id.eq(case_id),
            case_participants::kind.eq(p.kind),
            case_participants::name.eq(&p.name),
            case_participants::user_id.eq(&p.user_id),
            case_participants::service.eq(&p.service),
            case_participants::title.eq(&p.title),
            case_participants::relation.eq(p.relation.map(<&'static str>::from)),
            case_participants::parental_responsibility.eq(p.parental_responsibility),
            case_participants::national_id_enc.eq(nid.0),
            case_participants::national_id_hash.eq(nid.1),
            case_participants::email.eq(&p.email),
            case_participants::phone.eq(&p.phone),
            case_participants::role.eq(&p.role),
            case_participants::active.eq(p.active),
            case_participants::joined_at.eq(p.joined_at),
            case_participants::left_at.eq(p.left_at),
        ));
    }
    for chunk in participant_rows.chunks(INSERT_CHUNK) {
        diesel::insert_into(case_participants::table)
            .values(chunk)
            .execute(conn)?;
    }
    for p in &doc.participants {
        if !p.external_refs.is_empty() {
            crate::participants::store::insert_refs(
                conn,
                &caller.tenant,
                m(&p.id),
                &p.external_refs,
            )?;
        }
    }

    for period in periods_of(doc) {
        diesel::sql_query("INSERT INTO holder_periods (case_id, participant_id, period) VALUES ($1, $2, tstzrange($3, $4, '[)'))")
            .bind::<SqlUuid, _>(case_id)
            .bind::<SqlUuid, _>(m(&period.participant_id))
            .bind::<Timestamptz, _>(period.from)
            .bind::<Nullable<Timestamptz>, _>(period.to)
            .execute(conn)?;
    }

    let superseded_by: HashMap<&str, &str> = doc
        .consents
        .iter()
        .filter_map(|k| k.supersedes.as_deref().map(|old| (old, k.id.as_str())))
        .collect();
    let consent_rows: Vec<_> = doc
        .consents
        .iter()
        .map(|k| {
            (
                consents::id.eq(m(&k.id)),
                consents::case_id.eq(case_id),
                consents::purpose.eq(&k.purpose),
                consents::valid_from.eq(k.valid_from),
                consents::valid_until.eq(k.valid_until),
                consents::form.eq(k.form),
                consents::document_ref.eq(&k.document_ref),
                consents::supersedes.eq(k.supersedes.as_deref().map(m)),
                consents::recorded_by_user.eq(&k.recorded_by_user),
                consents::recorded_by_name.eq(&k.recorded_by_name),
                consents::recorded_at.eq(k.recorded_at),
                consents::withdrawn_at.eq(k.withdrawn_at),
                consents::withdrawn_by_participant.eq(k.withdrawn_by.as_deref().map(m)),
                consents::withdrawal_reason.eq(&k.withdrawal_reason),
            )
        })
        .collect();
    // Chunks keep each statement under PostgreSQL's 65,535 parameters, however long the case's history.
    for chunk in consent_rows.chunks(INSERT_CHUNK) {
        diesel::insert_into(consents::table)
            .values(chunk)
            .execute(conn)?;
    }
    for k in &doc.consents {
        if let Some(newer) = superseded_by.get(k.id.as_str()) {
            let at = k.superseded_at.or_else(|| {
                doc.consents
                    .iter()
                    .find(|n| n.id == *newer)
                    .map(|n| n.recorded_at)
            });
            diesel::update(consents::table.find(m(&k.id)))
                .set((
                    consents::superseded_by.eq(m(newer)),
                    consents::superseded_at.eq(at),
                ))
                .execute(conn)?;
        }
    }
    let givers: Vec<_> = doc
        .consents
        .iter()
        .flat_map(|k| k.given_by.iter().map(move |g| (k, g)))
        .map(|(k, g)| {
            (
                consent_givers::consent_id.eq(m(&k.id)),
                consent_givers::participant_id.eq(m(g)),
                consent_givers::case_id.eq(case_id),
            )
        })
        .collect();
    // Chunks keep each statement under PostgreSQL's 65,535 parameters, however long the case's history.
    for chunk in givers.chunks(INSERT_CHUNK) {
        diesel::insert_into(consent_givers::table)
            .values(chunk)
            .execute(conn)?;
    }
    let consent_service_rows: Vec<_> = doc
        .consents
        .iter()
        .flat_map(|k| {
            k.services.iter().map(move |s| {
                (
                    consent_services::consent_id.eq(m(&k.id)),
                    consent_services::service.eq(s),
                )
            })
        })
        .collect();
    // Chunks keep each statement under PostgreSQL's 65,535 parameters, however long the case's history.
    for chunk in consent_service_rows.chunks(INSERT_CHUNK) {
        diesel::insert_into(consent_services::table)
            .values(chunk)
            .execute(conn)?;
    }

    let measure_rows: Vec<_> = doc
        .measures
        .iter()
        .map(|x| {
            let (kind, service, participant) = match &x.responsible {
                ResponsibleRecord::Service { service } => ("service", Some(service.clone()), None),
                ResponsibleRecord::Participant { participant_id } => {
                    ("participant", None, Some(m(participant_id)))
                }
                ResponsibleRecord::Subject => ("subject", None, None),
            };
            (
                measures::id.eq(m(&x.id)),
                measures::case_id.eq(case_id),
                measures::title.eq(&x.title),
                measures::goal.eq(&x.goal),
                measures::description.eq(&x.description),
                measures::responsible_kind.eq(kind),
                measures::responsible_service.eq(service),
                measures::responsible_participant_id.eq(participant),
                measures::start_date.eq(x.start_date),
                measures::evaluate_by.eq(x.evaluate_by),
                measures::state.eq(x.state),
                measures::created_by_user.eq(&x.created_by_user),
                measures::created_at.eq(x.created_at),
            )
        })
        .collect();
    // Chunks keep each statement under PostgreSQL's 65,535 parameters, however long the case's history.
    for chunk in measure_rows.chunks(INSERT_CHUNK) {
        diesel::insert_into(measures::table)
            .values(chunk)
            .execute(conn)?;
    }
    let evaluation_rows: Vec<_> = doc
        .measures
        .iter()
        .flat_map(|x| x.evaluations.iter().map(move |e| (x, e)))
        .map(|(x, e)| {
            (
                evaluations::id.eq(m(&e.id)),
                evaluations::measure_id.eq(m(&x.id)),
                evaluations::case_id.eq(case_id),
                evaluations::evaluated_on.eq(e.evaluated_on),
                evaluations::evaluated_by_participant.eq(m(&e.evaluated_by)),
                evaluations::evaluated_by_name.eq(&e.evaluated_by_name),
                evaluations::assessment.eq(&e.assessment),
                evaluations::child_view.eq(&e.child_view),
                evaluations::outcome.eq(e.outcome),
                evaluations::next_evaluate_by.eq(e.next_evaluate_by),
                evaluations::recorded_at.eq(e.recorded_at),
            )
        })
        .collect();
    // Chunks keep each statement under PostgreSQL's 65,535 parameters, however long the case's history.
    for chunk in evaluation_rows.chunks(INSERT_CHUNK) {
        diesel::insert_into(evaluations::table)
            .values(chunk)
            .execute(conn)?;
    }

    let level_rows: Vec<_> = doc
        .level_changes
        .iter()
        .map(|l| {
            (
                level_changes::id.eq(m(&l.id)),
                level_changes::case_id.eq(case_id),
                level_changes::from_level.eq(l.from_level),
                level_changes::to_level.eq(l.to_level),
                level_changes::reason.eq(&l.reason),
                level_changes::decided_on.eq(l.decided_on),
                level_changes::recorded_at.eq(l.recorded_at),
                level_changes::recorded_by_participant.eq(m(&l.recorded_by)),
                level_changes::recorded_by_name.eq(&l.recorded_by_name),
            )
        })
        .collect();
    // Chunks keep each statement under PostgreSQL's 65,535 parameters, however long the case's history.
    for chunk in level_rows.chunks(INSERT_CHUNK) {
        diesel::insert_into(level_changes::table)
            .values(chunk)
            .execute(conn)?;
    }

    let handover_rows: Vec<_> = doc
        .handovers
        .iter()
        .map(|h| {
            (
                handovers::id.eq(m(&h.id)),
                handovers::case_id.eq(case_id),
                handovers::from_participant_id.eq(m(&h.from)),
                handovers::from_user_id.eq(&h.from_user_id),
                handovers::to_user_id.eq(&h.to.user_id),
                handovers::to_name.eq(&h.to.name),
                handovers::to_service.eq(&h.to.service),
                handovers::reason.eq(h.reason),
                handovers::note.eq(&h.note),
                handovers::answer_by.eq(h.answer_by),
                handovers::previous_holder_leaves.eq(h.previous_holder_leaves),
                handovers::state.eq(h.state),
                handovers::proposed_at.eq(h.proposed_at),
                handovers::answered_at.eq(h.answered_at),
                handovers::answered_by_user.eq(&h.answered_by_user),
                handovers::answer_reason.eq(&h.answer_reason),
            )
        })
        .collect();
    // Chunks keep each statement under PostgreSQL's 65,535 parameters, however long the case's history.
    for chunk in handover_rows.chunks(INSERT_CHUNK) {
        diesel::insert_into(handovers::table)
            .values(chunk)
            .execute(conn)?;
    }

    let entry_rows: Vec<_> = doc
        .entries
        .iter()
        .map(|e| {
            (
                log_entries::id.eq(m(&e.id)),
                log_entries::case_id.eq(case_id),
                log_entries::kind.eq(e.kind),
                log_entries::occurred_at.eq(e.occurred_at),
                log_entries::title.eq(&e.title),
                log_entries::body.eq(&e.body),
                log_entries::attendees.eq(e.attendees.iter().map(|a| m(a)).collect::<Vec<_>>()),
                log_entries::decisions.eq(&e.decisions),
                log_entries::next_meeting.eq(e.next_meeting),
                log_entries::corrects.eq(e.corrects.as_deref().map(m)),
                log_entries::author_participant_id.eq(m(&e.author)),
                log_entries::author_name.eq(&e.author_name),
                log_entries::recorded_at.eq(e.recorded_at),
            )
        })
        .collect();
    // Chunks keep each statement under PostgreSQL's 65,535 parameters, however long the case's history.
    for chunk in entry_rows.chunks(INSERT_CHUNK) {
        diesel::insert_into(log_entries::table)
            .values(chunk)
            .execute(conn)?;
    }

    // The family's history of who accessed the case moves along; then this import itself.
    let history: Vec<_> = doc
        .access_log
        .iter()
        .map(|a| {
            (
                access_events::municipality.eq(&caller.tenant),
                access_events::case_id.eq(case_id),
                access_events::actor_user_id.eq(&a.actor_user_id),
                access_events::actor_name.eq(&a.actor_name),
                access_events::actor_role.eq(&a.actor_role),
                access_events::action.eq(&a.action),
                access_events::resource.eq(&a.resource),
                access_events::request_id.eq(""),
                access_events::basis.eq(&a.basis),
                access_events::at.eq(a.at),
            )
        })
        .collect();
    // Chunks keep each statement under PostgreSQL's 65,535 parameters, however long the case's history.
    for chunk in history.chunks(INSERT_CHUNK) {
        diesel::insert_into(access_events::table)
            .values(chunk)
            .execute(conn)?;
    }
    crate::access_log::record(
        conn,
        caller,
        &[(case_id, crate::access::Basis::Integration)],
        Action::Import,
        "case",
    )?;
    crate::changes::emit(conn, &caller.tenant, case_id, &[ChangeType::CaseImported])?;
    Ok(case_id)
}
