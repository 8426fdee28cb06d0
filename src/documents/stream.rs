//! The JSON export as a stream, so a case with a long access log takes no more of the server's memory
//! than one page of it: the document without its access log is written first, then the log, read a page
//! at a time in short transactions of its own, up to the last event before the export's own.

use actix_web::web::Bytes;
use futures_util::stream::{self, Stream};
use uuid::Uuid;

use super::api::CaseDocument;
use crate::db::{self, session::Session, Pool};
use crate::http::error::AppError;

/// Access events per page of the stream.
const PAGE: i64 = 1000;

/// Which part of a case's access log follows the document.
pub struct LogTail {
    pub case_id: Uuid,
    /// The last event the document shows (the export's own comes after it).
    pub upto: i64,
    /// Whether the reports' events are shown (rule 11).
    pub reports: bool,
}

enum State {
    Head(Vec<u8>),
    Page { after: i64, first: bool },
    Done,
}

/// The document's JSON, its (empty) `access_log` filled from the database page by page when `tail` says
/// which events. A database failure halfway ends the stream: the client gets a cut-off document, never
/// a wrong one.
pub fn json(
    pool: Pool,
    session: Session,
    doc: &CaseDocument,
    tail: Option<LogTail>,
) -> Result<impl Stream<Item = Result<Bytes, AppError>>, AppError> {
    let mut head = serde_json::to_vec(doc).map_err(|_| AppError::internal())?;
    // `access_log` is the document's last field: the array is opened here and closed by the last page.
    let open_log = br#""access_log":[]}"#;
    if tail.is_some() {
        if !head.ends_with(open_log) {
            return Err(AppError::internal());
        }
        head.truncate(head.len() - 2);
    }
    let tail = tail.map(std::sync::Arc::new);
    Ok(stream::try_unfold(State::Head(head), move |state| {
        let (pool, session, tail) = (pool.clone(), session.clone(), tail.clone());
        async move {
            match (state, tail) {
                (State::Head(head), Some(_)) => Ok(Some((
                    Bytes::from(head),
                    State::Page {
                        after: 0,
                        first: true,
                    },
                ))),
                (State::Head(head), None) => Ok(Some((Bytes::from(head), State::Done))),
                (State::Page { after, first }, Some(tail)) => {
                    page(pool, session, &tail, after, first).await.map(Some)
                }
                (State::Done, _) | (State::Page { .. }, None) => Ok(None),
            }
        }
    }))
}

/// The next page of events as JSON array items; the closing of the document after the last.
async fn page(
    pool: Pool,
    session: Session,
    tail: &LogTail,
    after: i64,
    first: bool,
) -> Result<(Bytes, State), AppError> {
    let (case_id, upto, reports) = (tail.case_id, tail.upto, tail.reports);
    let rows = db::transaction(&pool, session, move |conn| {
        super::export::access_page(conn, case_id, (after, upto), reports, PAGE)
    })
    .await?;
    let mut out = Vec::with_capacity(rows.len() * 200 + 2);
    let last = rows.last().map(|(id, _)| *id);
    for (i, (_, record)) in rows.iter().enumerate() {
        if !(first && i == 0) {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, record).map_err(|_| AppError::internal())?;
    }
    match last {
        Some(last) if rows.len() as i64 == PAGE => Ok((
            Bytes::from(out),
            State::Page {
                after: last,
                first: false,
            },
        )),
        _ => {
            out.extend_from_slice(b"]}");
            Ok((Bytes::from(out), State::Done))
        }
    }
}
