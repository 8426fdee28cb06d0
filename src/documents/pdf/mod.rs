//! Documents for people: the case's archive document (the JSON export laid out, for the pupil's file
//! on closure) and a person's right-of-access overview, as PDF/A-2u with an embedded font, so they
//! print and archive without the service. Built with krilla, on the blocking pool (a long log takes
//! tens of milliseconds of CPU).

pub(crate) mod case;
pub mod layout;
mod my_data;
pub mod text;
mod words;

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::documents::api::CaseDocument;
use crate::http::error::AppError;
use layout::{Layout, Meta};

pub const CONTENT_TYPE: &str = "application/pdf";

/// A PDF file (PDF/A-2u, fonts embedded), in the contract.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary, content_media_type = "application/pdf")]
pub struct PdfFile(#[allow(dead_code)] Vec<u8>);

/// What the records do not say themselves: the municipality's names for its services and levels, and
/// who printed the document when.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub services: HashMap<String, String>,
    pub levels: HashMap<i16, String>,
    pub printed_at: DateTime<Utc>,
    pub printed_by: String,
}

impl Context {
    /// The names of the caller's municipality, read in the request's transaction.
    pub fn load(
        conn: &mut diesel::PgConnection,
        municipality: &str,
        printed_by: &str,
    ) -> Result<Context, AppError> {
        let services = crate::services::store::list(conn, municipality, None, None, 10_000)?
            .into_iter()
            .map(|s| (s.code, s.name))
            .collect();
        let levels = crate::levels::store::list(conn, municipality)?
            .into_iter()
            .map(|l| (l.level, l.name))
            .collect();
        Ok(Context {
            services,
            levels,
            printed_at: Utc::now(),
            printed_by: printed_by.to_string(),
        })
    }
}

/// The archive document of one case.
pub fn case(doc: &CaseDocument, ctx: &Context) -> Result<Vec<u8>, AppError> {
    let mut l = Layout::new();
    case::lay_out(&mut l, doc, ctx);
    l.finish(&Meta {
        title: format!("Stafettlogg – sak {}", doc.case.id),
        footer: format!(
            "Stafettlogg · sak {} · {}",
            doc.case.id,
            words::time(ctx.printed_at)
        ),
        created: ctx.printed_at,
    })
}

pub use my_data::my_data;
