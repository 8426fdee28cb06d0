//! Lines whose references name a case that exists: is the case this token's to read, does the document
//! say what the case says already, and if not, is the difference one an import may make.

use std::collections::HashMap;

use diesel::PgConnection;
use uuid::Uuid;

use super::compare::{compare, Verdict};
use crate::auth::Caller;
use crate::cases::api::ExternalRef;
use crate::cases::store::{CaseChanges, ExternalRefRow};
use crate::documents::api::CaseDocument;
use crate::documents::export::Shown;
use crate::http::error::AppError;
use crate::national_id::{NationalIdKey, SealedColumns, SealedId};

/// A stored case as a line is compared with it: national ids in full, as the stafettholder exports
/// them; the access log is no part of the comparison.
const COMPARED: Shown = Shown {
    full_ids: true,
    access_log: false,
    // An integration imports, and never reads a report (rule 11): a difference there would tell of one.
    reports: false,
};

/// What a line does to the stored case it names.
pub enum Judged<'d> {
    Unchanged(Uuid),
    Update(Update<'d>),
}

/// The concern, the subject and further references of a stored case, as a line brings them.
pub struct Update<'d> {
    pub case_id: Uuid,
    doc: &'d CaseDocument,
    national_id: SealedColumns,
    new_refs: Vec<&'d ExternalRef>,
}

/// Judges each line against the stored case it names (`(case id, document)`), with the cases locked
/// until the transaction ends. Three statements for the cases and their access facts, and one per kind of
/// record for the stored documents, however many lines.
pub fn judge<'d>(
    conn: &mut PgConnection,
    caller: &Caller,
    key: &NationalIdKey,
    lines: &[(Uuid, &'d CaseDocument)],
) -> Result<Vec<Result<Judged<'d>, AppError>>, AppError> {
    if lines.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<Uuid> = lines.iter().map(|(id, _)| *id).collect();
    let rows = crate::cases::store::locked(conn, &ids)?;
    let facts = crate::policy::load_facts(conn, rows)?;
    let readable: Vec<_> = facts
        .into_iter()
        .filter(|f| crate::policy::may_read(caller, f))
        .map(|f| f.case)
        .collect();
    let docs = crate::documents::export::build_many(conn, key, &readable, COMPARED)?;
    let stored: HashMap<Uuid, CaseDocument> =
        readable.iter().map(|case| case.id).zip(docs).collect();
    Ok(lines
        .iter()
        .map(|(id, doc)| match stored.get(id) {
            None => Err(not_yours()),
            Some(stored) => verdict(key, *id, stored, doc),
        })
        .collect())
}

/// A line whose references name a case this token may not read is answered as a case that is not found
/// would be (404), naming nothing of that case: not that it exists elsewhere, not its service or state.
/// (References are unique in the municipality, one child one log, so the line cannot make a new case
/// with them either.)
fn not_yours() -> AppError {
    let mut e = AppError::new(
        crate::http::error::ProblemType::NotFound,
        "no case you may read has these references",
    );
    e.errors = vec![crate::http::error::FieldError {
        field: "case.external_refs".into(),
        message: "not found among the cases this token may read".into(),
    }];
    e
}

fn verdict<'d>(
    key: &NationalIdKey,
    case_id: Uuid,
    stored: &CaseDocument,
    doc: &'d CaseDocument,
) -> Result<Judged<'d>, AppError> {
    match compare(stored, doc)? {
        Verdict::Unchanged => Ok(Judged::Unchanged(case_id)),
        Verdict::Update => Ok(Judged::Update(Update {
            case_id,
            doc,
            national_id: SealedId::columns(key.seal_field(
                "case.subject.national_id",
                doc.case.subject.national_id.as_deref(),
            )?),
            new_refs: doc
                .case
                .external_refs
                .iter()
                .filter(|r| !stored.case.external_refs.contains(r))
                .collect(),
        })),
    }
}

impl Update<'_> {
    /// The case takes the line's concern and subject, and keeps its references with the new ones added.
    pub fn write(&self, conn: &mut PgConnection, municipality: &str) -> Result<(), AppError> {
        let s = &self.doc.case.subject;
        let changes = CaseChanges {
            concern: Some(&self.doc.case.concern),
            subject_kind: Some(s.kind),
            subject_given_name: Some(&s.given_name),
            subject_family_name: Some(&s.family_name),
            subject_birth_date: Some(s.birth_date),
            subject_national_id_enc: Some(self.national_id.0.clone()),
            subject_national_id_hash: Some(self.national_id.1.clone()),
        };
        crate::cases::store::update(conn, self.case_id, &changes)?;
        let refs: Vec<ExternalRefRow> = self
            .new_refs
            .iter()
            .map(|r| ExternalRefRow {
                municipality: municipality.to_string(),
                system: r.system.clone(),
                ref_id: r.id.clone(),
                case_id: self.case_id,
            })
            .collect();
        crate::cases::store::insert_refs(conn, &refs)
    }
}
