//! Which cases a person is in, and what each records about them. The cases are found and judged by
//! the same machinery as the person's case list (`crate::cases::load::mine`, `policy::judge`), so rule 8 is
//! decided in one place; their records come from the export's loader, so this is no second path to the
//! data.

use std::collections::HashSet;

use diesel::PgConnection;
use uuid::Uuid;

use super::api::{MyCase, MyData, MyDataPerson};
use crate::access_log::store::Basis;
use crate::access_log::store::Resource;
use crate::access_log::store::{self as access_log, Action};
use crate::auth::Caller;
use crate::cases::load;
use crate::documents::api::CaseDocument;
use crate::documents::export::{self, Shown};
use crate::http::error::AppError;
use crate::national_id::NationalIdKey;
use crate::policy::{self, CaseAccess};

/// The most cases one overview looks at (the person's candidate cases, nearly all of which they may read).
/// A family is in a handful; the bound keeps one request's work and its document bounded whatever the
/// data, and `complete` says when it was reached.
pub const MAX_CASES: i64 = 500;
const PAGE: i64 = 100;

/// The caller's readable cases among their newest [`MAX_CASES`] candidates, newest first; and whether
/// those were all their candidates.
fn my_cases(
    conn: &mut PgConnection,
    citizen: &Caller,
) -> Result<(Vec<CaseAccess>, bool), AppError> {
    let person = policy::person(citizen).ok_or_else(AppError::internal)?;
    let page = |after: Option<Uuid>, limit: i64| load::MinePage {
        status: None,
        level: None,
        holder_me: false,
        after,
        limit,
    };
    let mut out: Vec<CaseAccess> = Vec::new();
    let (mut after, mut seen) = (None, 0);
    while seen < MAX_CASES {
        let loaded = load::mine(conn, &citizen.tenant, &person, &page(after, PAGE))?;
        let n = loaded.len() as i64;
        seen += n;
        after = loaded.last().map(|l| l.case.id);
        out.extend(policy::judge(conn, citizen, loaded)?);
        if n < PAGE {
            return Ok((out, true));
        }
    }
    let more = load::mine(conn, &citizen.tenant, &person, &page(after, 1))?;
    Ok((out, more.is_empty()))
}

/// The overview, leaving one access event per case shown (after reading, so the log it shows ends
/// before this request).
pub fn collect(
    conn: &mut PgConnection,
    citizen: &Caller,
    key: &NationalIdKey,
) -> Result<MyData, AppError> {
    let (cases, complete) = my_cases(conn, citizen)?;
    let rows: Vec<_> = cases.iter().map(|a| a.case.clone()).collect();
    let shown = Shown {
        full_ids: false,
        access_log: true,
        reports: false,
    };
    let docs = export::build_many(conn, key, &rows, shown)?;
    let pid_hash = citizen.pid_hash.as_deref();
    let items: Vec<MyCase> = cases
        .iter()
        .zip(docs)
        .map(|(access, doc)| my_case(access, doc, pid_hash))
        .collect();
    let events: Vec<(Uuid, Basis)> = cases.iter().map(|a| (a.case.id, a.basis)).collect();
    access_log::record(conn, citizen, &events, Action::Export, Resource::CaseMyData)?;
    Ok(MyData {
        generated_at: chrono::Utc::now(),
        person: MyDataPerson {
            name: citizen.name.clone(),
            pid: citizen
                .pid
                .as_deref()
                .map(crate::national_id::mask)
                .unwrap_or_default(),
        },
        cases: items,
        complete,
    })
}

/// What one case records about the person whose national id hashes to `pid_hash`.
fn my_case(access: &CaseAccess, doc: CaseDocument, pid_hash: Option<&[u8]>) -> MyCase {
    let mine: HashSet<String> = access
        .participants
        .iter()
        .filter(|p| p.national_id_hash.is_some() && p.national_id_hash.as_deref() == pid_hash)
        .map(|p| p.id.to_string())
        .collect();
    let c = doc.case;
    MyCase {
        case_id: access.case.id,
        basis: <&str>::from(access.basis).to_string(),
        about_you: access.case.subject_national_id_hash.is_some()
            && access.case.subject_national_id_hash.as_deref() == pid_hash,
        subject: c.subject,
        status: c.status,
        level: c.level,
        opened_at: c.opened_at,
        closed_at: c.closed_at,
        close_reason: c.close_reason,
        you_as_participant: doc
            .participants
            .into_iter()
            .filter(|p| mine.contains(&p.id))
            .collect(),
        consents_given: doc
            .consents
            .into_iter()
            .filter(|k| k.given_by.iter().any(|g| mine.contains(g)))
            .collect(),
        entries_written: doc
            .entries
            .into_iter()
            .filter(|e| mine.contains(&e.author))
            .collect(),
        plans_you_are_in: doc
            .plans
            .into_iter()
            .filter(|p| p.members.iter().any(|m| mine.contains(&m.participant_id)))
            .collect(),
        meetings_you_are_invited_to: doc
            .meetings
            .into_iter()
            .filter(|m| m.invitees.iter().any(|i| mine.contains(&i.participant_id)))
            .collect(),
        access_log: doc.access_log,
    }
}
