//! Importing case documents, one per line of NDJSON, set-based. The lines are taken a group of up to
//! [`CASES_PER_TRANSACTION`] at a time (so an import holds one group's documents, whatever its body's
//! size); a group's lines are parsed and checked first (`check`: every rule of docs/rules.md, pure code),
//! then go to the database in one transaction: the references of all their documents are locked and
//! looked up at once, each line is judged (created, updated, unchanged or its error) before anything is
//! written, and the new cases are written with one multi-row insert per table (`rows`). When the
//! database refuses such a transaction (a constraint, a concurrent import that got there first), it is
//! done again line by line, each line in a transaction of its own, so the error is its line's and no
//! other line is lost or half-written. Documents are keyed by the case's external references, so importing the same file again
//! finds every case and changes nothing.

mod check;
mod compare;
mod existing;
#[cfg(test)]
mod fixture;
mod rows;

use std::collections::{HashMap, HashSet};

use diesel::PgConnection;
use uuid::Uuid;

pub use check::check;
pub use compare::canonical;

use super::api::{CaseDocument, HolderPeriodRecord};
use crate::access_log::store::Action;
use crate::access_log::store::Basis;
use crate::access_log::store::Resource;
use crate::auth::Caller;
use crate::cases::api::ExternalRef;
use crate::changes::api::ChangeType;
use crate::db;
use crate::http::error::{AppError, ProblemType};
use crate::national_id::NationalIdKey;
use existing::Judged;
use rows::Rows;

/// Lines per transaction: few statements per case, while a transaction the database refuses costs only
/// this many lines done again one by one.
pub const CASES_PER_TRANSACTION: usize = 250;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created(Uuid),
    Updated(Uuid),
    Unchanged(Uuid),
}

/// A line of the request body: its number (from 1) and its document, or why it has none.
pub type Line = (usize, Result<CaseDocument, AppError>);

/// Each line's number and what became of it.
pub type Outcomes = Vec<(usize, Result<Outcome, AppError>)>;

/// What every line of one import request shares: read once, not once per line.
pub struct Context {
    pub services: check::Services,
    pub self_consent_age: u32,
}

impl Context {
    pub fn load(conn: &mut PgConnection, tenant: &str) -> Result<Context, AppError> {
        let settings = crate::municipality::store::ensure(conn, tenant)?;
        let services = crate::services::store::kinds(conn, tenant)?;
        Ok(Context {
            services: services.into_iter().collect(),
            self_consent_age: settings.self_consent_age.years(),
        })
    }
}

/// The body's lines with their numbers (from 1), blank ones skipped but keeping their place in the
/// numbering.
fn numbered_lines(body: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    body.split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
        .map(|(i, l)| (i + 1, l))
}

/// One line, parsed on its own: one badly encoded line (Latin-1 from an old system) is that line's error
/// only.
fn parse_line((number, line): (usize, &[u8])) -> Line {
    let parsed = std::str::from_utf8(line)
        .map_err(|_| AppError::malformed("the line is not UTF-8"))
        .and_then(|text| crate::http::extract::parse_json::<CaseDocument>(text.as_bytes()));
    (number, parsed)
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

/// Imports the body's lines on `conn` for the caller's municipality. The lines are parsed, checked and
/// written a group of [`CASES_PER_TRANSACTION`] at a time, so an import holds the documents of one group
/// at once, whatever the size of its body (a line is the same as if the lines were imported one after
/// the other: an earlier group is committed before a later one is read). The database becoming
/// unreachable is not a line's fault: it ends the request (lines already committed stay so; importing
/// again finds them).
pub fn run(
    conn: &mut PgConnection,
    caller: &Caller,
    key: &NationalIdKey,
    body: &[u8],
) -> Result<Outcomes, AppError> {
    let ctx = db::in_municipality(conn, caller.session(), |c| Context::load(c, &caller.tenant))?;
    let mut lines = numbered_lines(body);
    let mut outcomes = Outcomes::new();
    loop {
        let group: Vec<Line> = lines
            .by_ref()
            .take(CASES_PER_TRANSACTION)
            .map(parse_line)
            .collect();
        if group.is_empty() {
            return Ok(outcomes);
        }
        outcomes.extend(import_group(conn, caller, key, &ctx, group)?);
    }
}

/// Checks a group of lines and imports the valid ones; every line gets its outcome, in line order.
fn import_group(
    conn: &mut PgConnection,
    caller: &Caller,
    key: &NationalIdKey,
    ctx: &Context,
    lines: Vec<Line>,
) -> Result<Outcomes, AppError> {
    let (numbers, checked): (Vec<usize>, Vec<_>) = lines
        .into_iter()
        .map(|(n, doc)| {
            let doc = doc.and_then(|d| check(&d, &ctx.services, ctx.self_consent_age).map(|()| d));
            (n, doc)
        })
        .unzip();
    let mut outcomes: Vec<Option<Result<Outcome, AppError>>> = checked
        .iter()
        .map(|doc| doc.as_ref().err().map(|e| Err(e.clone())))
        .collect();
    let valid: Vec<(usize, &CaseDocument)> = checked
        .iter()
        .enumerate()
        .filter_map(|(i, doc)| doc.as_ref().ok().map(|d| (i, d)))
        .collect();
    for batch in batches(&valid, CASES_PER_TRANSACTION) {
        for (i, outcome) in import_batch(conn, caller, key, &batch)? {
            outcomes[i] = Some(outcome);
        }
    }
    Ok(numbers
        .into_iter()
        .zip(outcomes)
        .map(|(n, o)| (n, o.unwrap_or_else(|| Err(AppError::internal()))))
        .collect())
}

/// Consecutive lines in groups of at most `size`, a new group starting where a line names a reference
/// an earlier line of the group names too: that line must see what the earlier one did, as if the lines
/// were imported one after the other.
fn batches<'d>(
    docs: &[(usize, &'d CaseDocument)],
    size: usize,
) -> Vec<Vec<(usize, &'d CaseDocument)>> {
    let mut out: Vec<Vec<(usize, &CaseDocument)>> = vec![];
    let mut named: HashSet<(&str, &str)> = HashSet::new();
    for &(i, doc) in docs {
        let refs: Vec<(&str, &str)> = doc
            .case
            .external_refs
            .iter()
            .map(|r| (r.system.as_str(), r.id.as_str()))
            .collect();
        let full = out.last().is_none_or(|b| b.len() >= size);
        if full || refs.iter().any(|r| named.contains(r)) {
            out.push(vec![]);
            named.clear();
        }
        named.extend(refs);
        out.last_mut().expect("a group").push((i, doc));
    }
    out
}

/// What became of a line in a transaction of several.
enum Step {
    Done(Result<Outcome, AppError>),
    /// The line names a stored case an earlier line of the transaction changes: it runs on its own after
    /// that transaction, so it sees the change.
    Alone,
}

/// One batch in one transaction; when the database refuses it, its lines one by one.
fn import_batch(
    conn: &mut PgConnection,
    caller: &Caller,
    key: &NationalIdKey,
    batch: &[(usize, &CaseDocument)],
) -> Result<Outcomes, AppError> {
    let docs: Vec<&CaseDocument> = batch.iter().map(|(_, d)| *d).collect();
    let steps =
        match db::in_municipality(conn, caller.session(), |c| together(c, caller, key, &docs)) {
            Ok(steps) => steps,
            Err(e) if e.kind == ProblemType::Unavailable => return Err(e),
            Err(e) => {
                log::info!(
                "the database refused a batch of {} import lines ({:?}); importing them one by one",
                docs.len(),
                e.kind
            );
                docs.iter().map(|_| Step::Alone).collect()
            }
        };
    let mut out = Vec::with_capacity(batch.len());
    for (&(i, doc), step) in batch.iter().zip(steps) {
        let outcome = match step {
            Step::Done(outcome) => outcome,
            Step::Alone => alone(conn, caller, key, doc)?,
        };
        out.push((i, outcome));
    }
    Ok(out)
}

/// One line in a transaction of its own: whatever the database refuses is this line's error.
fn alone(
    conn: &mut PgConnection,
    caller: &Caller,
    key: &NationalIdKey,
    doc: &CaseDocument,
) -> Result<Result<Outcome, AppError>, AppError> {
    match db::in_municipality(conn, caller.session(), |c| together(c, caller, key, &[doc])) {
        Ok(mut steps) => match steps.pop() {
            Some(Step::Done(outcome)) => Ok(outcome),
            _ => Ok(Err(AppError::internal())),
        },
        Err(e) if e.kind == ProblemType::Unavailable => Err(e),
        Err(e) => Ok(Err(e)),
    }
}

/// Where a line's references lead.
enum Target {
    New,
    Stored(Uuid),
    Refused(AppError),
    /// A stored case an earlier line of the batch names too.
    Later,
}

/// The lines of a batch in one transaction: lock and look up their references, judge every line, then
/// write what the lines bring. Nothing is written before every line is judged, so a line's error leaves
/// nothing of it behind.
fn together(
    conn: &mut PgConnection,
    caller: &Caller,
    key: &NationalIdKey,
    docs: &[&CaseDocument],
) -> Result<Vec<Step>, AppError> {
    let refs: Vec<&ExternalRef> = docs.iter().flat_map(|d| &d.case.external_refs).collect();
    crate::cases::store::lock_refs(conn, &caller.tenant, &refs)?;
    let found = crate::cases::store::cases_by_refs(conn, &caller.tenant, &refs)?;
    let targets = targets(docs, &found);
    let stored: Vec<(Uuid, &CaseDocument)> = targets
        .iter()
        .zip(docs)
        .filter_map(|(t, d)| match t {
            Target::Stored(id) => Some((*id, *d)),
            _ => None,
        })
        .collect();
    let mut judged = existing::judge(conn, caller, key, &stored)?.into_iter();
    let mut new_rows = Rows::default();
    let mut updates = vec![];
    let mut steps = Vec::with_capacity(docs.len());
    for (target, doc) in targets.into_iter().zip(docs) {
        let step = match target {
            Target::New => new_case(caller, key, doc).map(|(id, rows)| {
                new_rows.append(rows);
                Outcome::Created(id)
            }),
            Target::Stored(_) => match judged.next().expect("one judgement per stored case") {
                Ok(Judged::Unchanged(id)) => Ok(Outcome::Unchanged(id)),
                Ok(Judged::Update(update)) => {
                    let id = update.case_id;
                    updates.push(update);
                    Ok(Outcome::Updated(id))
                }
                Err(e) => Err(e),
            },
            Target::Refused(e) => Err(e),
            Target::Later => {
                steps.push(Step::Alone);
                continue;
            }
        };
        steps.push(Step::Done(step));
    }
    new_rows.insert(conn)?;
    for update in &updates {
        update.write(conn, &caller.tenant)?;
    }
    check_constraints_now(conn)?;
    record(conn, caller, &steps)?;
    Ok(steps)
}

/// Where each line's references lead, from the stored references found: nowhere (a new case), to one
/// stored case, or to several (the line's error).
fn targets(docs: &[&CaseDocument], found: &HashMap<(String, String), Uuid>) -> Vec<Target> {
    let mut claimed = HashSet::new();
    docs.iter()
        .map(|doc| {
            let mut cases: Vec<Uuid> = doc
                .case
                .external_refs
                .iter()
                .filter_map(|r| found.get(&(r.system.clone(), r.id.clone())).copied())
                .collect();
            cases.sort();
            cases.dedup();
            match cases[..] {
                [] => Target::New,
                [one] => {
                    let first = claimed.insert(one);
                    if first {
                        Target::Stored(one)
                    } else {
                        Target::Later
                    }
                }
                _ => Target::Refused(AppError::invalid(
                    "case.external_refs",
                    "these references name different cases",
                )),
            }
        })
        .collect()
}

/// A new case: an integration acts for its services, so it brings in cases held in one of them.
fn new_case<'d>(
    caller: &'d Caller,
    key: &NationalIdKey,
    doc: &'d CaseDocument,
) -> Result<(Uuid, Rows<'d>), AppError> {
    let holder_service = doc
        .participants
        .iter()
        .find(|p| p.id == doc.holder)
        .and_then(|p| p.service.as_deref());
    if !holder_service.is_some_and(|s| caller.works_in(s)) {
        return Err(AppError::invalid(
            "holder",
            "the token does not act for the stafettholder's service (claim `services`)",
        ));
    }
    Rows::of(doc, &caller.tenant, key)
}

/// Runs the checks PostgreSQL would run at commit (the holder of every new case, its holder periods)
/// now, before the change feed's counter is taken: that counter row stays locked until commit, and
/// every other import into the municipality waits for it meanwhile.
fn check_constraints_now(conn: &mut PgConnection) -> Result<(), AppError> {
    use diesel::connection::SimpleConnection;
    conn.batch_execute("SET CONSTRAINTS ALL IMMEDIATE")?;
    Ok(())
}

/// Rule 9 and the change feed for every case the batch created or updated, in line order.
fn record(conn: &mut PgConnection, caller: &Caller, steps: &[Step]) -> Result<(), AppError> {
    let changed: Vec<(Uuid, ChangeType)> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Done(Ok(Outcome::Created(id))) => Some((*id, ChangeType::CaseImported)),
            Step::Done(Ok(Outcome::Updated(id))) => Some((*id, ChangeType::CaseUpdated)),
            _ => None,
        })
        .collect();
    let events: Vec<(Uuid, Basis)> = changed
        .iter()
        .map(|(id, _)| (*id, Basis::Integration))
        .collect();
    crate::access_log::store::record(conn, caller, &events, Action::Import, Resource::Case)?;
    crate::changes::store::emit_many(conn, &caller.tenant, &changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fixture::valid;

    fn numbered(refs: &[&str]) -> CaseDocument {
        let mut doc = valid();
        doc.case.external_refs = refs
            .iter()
            .map(|id| ExternalRef {
                system: "gammel".into(),
                id: id.to_string(),
            })
            .collect();
        doc
    }

    fn lines_of(batches: &[Vec<(usize, &CaseDocument)>]) -> Vec<Vec<usize>> {
        batches
            .iter()
            .map(|b| b.iter().map(|(i, _)| *i).collect())
            .collect()
    }

    #[test]
    fn lines_go_in_transactions_of_at_most_the_given_size() {
        let docs: Vec<CaseDocument> = (0..5).map(|n| numbered(&[&n.to_string()])).collect();
        let lines: Vec<(usize, &CaseDocument)> = docs.iter().enumerate().collect();
        assert_eq!(
            lines_of(&batches(&lines, 2)),
            [vec![0, 1], vec![2, 3], vec![4]]
        );
    }

    #[test]
    fn a_line_naming_a_reference_of_an_earlier_line_starts_a_new_transaction() {
        let docs = [
            numbered(&["1"]),
            numbered(&["2", "3"]),
            numbered(&["4"]),
            numbered(&["3"]),
            numbered(&["1"]),
        ];
        let lines: Vec<(usize, &CaseDocument)> = docs.iter().enumerate().collect();
        assert_eq!(lines_of(&batches(&lines, 10)), [vec![0, 1, 2], vec![3, 4]]);
    }

    #[test]
    fn a_second_line_naming_the_same_stored_case_runs_after_the_first() {
        let docs = [
            numbered(&["1"]),
            numbered(&["2"]),
            numbered(&["3"]),
            numbered(&["1", "3"]),
        ];
        let stored = Uuid::now_v7();
        let other = Uuid::now_v7();
        let found: HashMap<(String, String), Uuid> = [("1", stored), ("2", stored), ("3", other)]
            .into_iter()
            .map(|(id, case)| (("gammel".to_string(), id.to_string()), case))
            .collect();
        let refs: Vec<&CaseDocument> = docs.iter().collect();
        let targets = targets(&refs, &found);
        assert!(matches!(targets[0], Target::Stored(id) if id == stored));
        assert!(matches!(targets[1], Target::Later));
        assert!(matches!(targets[2], Target::Stored(id) if id == other));
        let Target::Refused(e) = &targets[3] else {
            panic!("references naming two cases are refused")
        };
        assert_eq!(e.errors[0].field, "case.external_refs");
    }

    #[test]
    fn references_nobody_stored_make_a_new_case() {
        let doc = numbered(&["9"]);
        assert!(matches!(targets(&[&doc], &HashMap::new())[0], Target::New));
    }
}
