//! Thin handlers for the case document: the export (JSON or the archive PDF) and the import.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{get, post, web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;
use validator::Validate;

use super::api::{CaseDocument, ImportReport, ImportSummary, LineResult, LineStatus};
use super::import::{self, Outcome};
use super::pdf;
use crate::access_log::store::Action;
use crate::access_log::store::Resource;
use crate::auth::{Caller, Role};
use crate::db::{self, Pool};
use crate::http::error::{AppError, ProblemType};
use crate::http::extract::ValidQuery;
use crate::national_id::NationalIdKey;
use crate::policy;

/// The complete case as one document (the stafettholder and the guardians: the family's right of access,
/// and the archive on closure). The holder's JSON export carries national ids in full and imports again.
/// The JSON is streamed: the access log, which grows with every read of the case, follows the rest of the
/// document a page at a time; `access_log=false` leaves it out (read it from `GET /cases/{id}/access-log`,
/// page by page, instead).
///
/// `Accept: application/pdf` gives the archive document instead: the same records laid out for people
/// (the subject, services and participants, consents and their periods, the level history, measures
/// with their evaluations, every log entry with author and time, corrections marked, holder periods, the
/// closure and a summary of the access log), with every national id masked, page numbers, and fonts
/// embedded (PDF/A-2u), for the pupil's file when the case closes. JSON stays the default; any other
/// `Accept` is 406. Either leaves one access event (`export`).
#[utoipa::path(
    tag = "integration",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ExportQuery),
    responses(
        (status = 200, description = "The case document (JSON), or the archive document (PDF)", content(
            (CaseDocument = "application/json"),
            (crate::documents::pdf::PdfFile = "application/pdf"),
        )),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 406, response = crate::http::openapi::NotAcceptable),
    )
)]
#[get("/cases/{id}/export")]
pub async fn export(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    path: web::Path<Uuid>,
    query: ValidQuery<ExportQuery>,
) -> Result<HttpResponse, AppError> {
    let pdf =
        crate::http::negotiate::choose(&req, &[JSON, pdf::CONTENT_TYPE])? == pdf::CONTENT_TYPE;
    let id = path.into_inner();
    let key = key.into_inner();
    let with_log = pdf || query.0.access_log.unwrap_or(true);
    let session = caller.session();
    let export = db::transaction(&pool, caller.session(), move |conn| {
        let access = policy::case_for_read(conn, &caller, id)?;
        access.require_holder_or_guardian("export")?;
        let export = read_export(conn, &caller, &key, &access, pdf, with_log)?;
        access.record(conn, &caller, Action::Export, Resource::Case)?;
        Ok(export)
    })
    .await?;
    match export {
        Export::Pdf(doc, ctx) => {
            let name = format!("stafettlogg-{id}.pdf");
            pdf_response(&name, move || pdf::case(&doc, &ctx)).await
        }
        Export::Json(doc, tail) => {
            let body = super::stream::json(pool.get_ref().clone(), session, &doc, tail)?;
            Ok(HttpResponse::Ok().content_type(JSON).streaming(body))
        }
    }
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `false`: the JSON document's `access_log` is empty (page through `GET /cases/{id}/access-log`
    /// instead). The archive document (PDF) always summarises the whole log.
    #[param(default = true)]
    pub access_log: Option<bool>,
}

/// What an export answers with, read in its transaction.
enum Export {
    Pdf(CaseDocument, pdf::Context),
    /// The document without its access log, and which events of the log follow it in the stream.
    Json(CaseDocument, Option<super::stream::LogTail>),
}

/// The document as this reader may have it, read before the export's own access event is recorded (the
/// document shows the access log up to this export).
fn read_export(
    conn: &mut diesel::PgConnection,
    caller: &Caller,
    key: &NationalIdKey,
    access: &policy::CaseAccess,
    pdf: bool,
    with_log: bool,
) -> Result<Export, AppError> {
    let id = access.case.id;
    // Rule 11: a report to child welfare is in the stafettholder's document, not a guardian's.
    let reports = policy::decisions::sees_reports(access);
    let shown = super::export::Shown {
        // The archive document is for people and archives: national ids masked for everyone.
        full_ids: access.shows_full_ids() && !pdf,
        access_log: pdf,
        reports,
    };
    let doc = super::export::build_many(conn, key, std::slice::from_ref(&access.case), shown)?
        .pop()
        .ok_or_else(AppError::internal)?;
    if pdf {
        let ctx = pdf::Context::load(conn, &caller.tenant, &caller.name)?;
        return Ok(Export::Pdf(doc, ctx));
    }
    let tail = if with_log {
        Some(super::stream::LogTail {
            case_id: id,
            upto: super::export::last_access_event(conn, id)?,
            reports,
        })
    } else {
        None
    };
    Ok(Export::Json(doc, tail))
}

const JSON: &str = "application/json";

/// A PDF built on the blocking pool (laying out a long log is CPU work the executor must not wait on).
pub async fn pdf_response(
    file_name: &str,
    build: impl FnOnce() -> Result<Vec<u8>, AppError> + Send + 'static,
) -> Result<HttpResponse, AppError> {
    let span = tracing::Span::current();
    let bytes = web::block(move || {
        let _entered = span.enter();
        build()
    })
    .await??;
    Ok(HttpResponse::Ok()
        .content_type(pdf::CONTENT_TYPE)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{file_name}\""),
        ))
        .body(bytes))
}

/// The request body of an import: NDJSON, one case document per line.
pub struct Ndjson(pub web::Bytes);

impl FromRequest for Ndjson {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let ct = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if ct.split(';').next().map(str::trim) != Some("application/x-ndjson") {
                return Err(AppError::new(
                    ProblemType::UnsupportedMediaType,
                    "send the file with Content-Type: application/x-ndjson (one case document per line)",
                ));
            }
            let limit = req
                .app_data::<web::Data<crate::http::extract::ImportLimit>>()
                .map(|l| l.0)
                .unwrap_or(8 * 1024 * 1024);
            let body = crate::http::extract::read_body_limited(&req, &mut payload, limit).await?;
            Ok(Ndjson(body))
        })
    }
}

/// What became of each line, and the counts.
fn report(outcomes: import::Outcomes) -> ImportReport {
    let mut summary = ImportSummary::default();
    let lines = outcomes
        .into_iter()
        .map(|(line, outcome)| {
            let (status, case_id) = match &outcome {
                Ok(Outcome::Created(id)) => (LineStatus::Created, Some(*id)),
                Ok(Outcome::Updated(id)) => (LineStatus::Updated, Some(*id)),
                Ok(Outcome::Unchanged(id)) => (LineStatus::Unchanged, Some(*id)),
                Err(_) => (LineStatus::Error, None),
            };
            match status {
                LineStatus::Created => summary.created += 1,
                LineStatus::Updated => summary.updated += 1,
                LineStatus::Unchanged => summary.unchanged += 1,
                LineStatus::Error => summary.failed += 1,
            }
            let (errors, detail) = match outcome {
                Ok(_) => (vec![], None),
                Err(e) => (e.errors, Some(e.detail)),
            };
            LineResult {
                line,
                status,
                case_id,
                errors,
                detail,
            }
        })
        .collect();
    ImportReport { summary, lines }
}

/// Import case documents (the `integration` role).
///
/// `application/x-ndjson`, one document per line in the shape of the export, keyed by the case's
/// external references. Each line is all or nothing: a bad line is reported with its number and field
/// and never stops the others or leaves half a case (lines are written in batches, and a batch that
/// fails is written again line by line). Running the same file again creates nothing
/// (`unchanged`). Bodies are limited to IMPORT_BODY_LIMIT_BYTES (default 8 MiB); `stafettlogg import`
/// splits larger files.
#[utoipa::path(
    tag = "integration",
    security(("bearer" = [])),
    request_body(content = String, content_type = "application/x-ndjson", description = "One CaseDocument per line"),
    responses(
        (status = 200, description = "What happened to each line", body = ImportReport),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[post("/imports")]
pub async fn import_cases(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    body: Ndjson,
) -> Result<HttpResponse, AppError> {
    caller.require_role(Role::Integration)?;
    let key = key.into_inner();
    let outcomes =
        db::without_municipality(&pool, move |conn| import::run(conn, &caller, &key, &body.0))
            .await?;
    Ok(HttpResponse::Ok().json(report(outcomes)))
}
