//! The right of access as a request: who may ask, JSON or PDF (the collecting is `collect.rs`).

use actix_web::{get, web, HttpRequest, HttpResponse};

use super::api::MyData;
use super::collect;
use crate::auth::Caller;
use crate::db::{self, Pool};
use crate::documents::handlers::pdf_response;
use crate::documents::pdf;
use crate::http::error::AppError;
use crate::national_id::NationalIdKey;

/// What the service holds about you, and who has looked at it (a guardian or youth with a national
/// login): every case of your municipality you may read (as a guardian, or as the subject youth once old
/// enough to consent alone), each with your own participant rows, the consents you gave, the entries you
/// wrote, and its access log. At most 500 cases (`complete` says whether that was all). National ids are
/// masked. Each case shown gets an access event (`export`, `case.my_data`).
///
/// `Accept: application/pdf` gives the same as a document; JSON is the default, anything else is 406.
/// Professionals and administrators get 403: what they did is in each case's access log.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Your data (JSON), or the same as a document (PDF)", content(
            (MyData = "application/json"),
            (crate::documents::pdf::PdfFile = "application/pdf"),
        )),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 406, response = crate::http::openapi::NotAcceptable),
    )
)]
#[get("/me/data")]
pub async fn my_data(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
) -> Result<HttpResponse, AppError> {
    let as_pdf = crate::http::negotiate::choose(&req, &["application/json", pdf::CONTENT_TYPE])?
        == pdf::CONTENT_TYPE;
    let citizen = crate::policy::overviews::citizen(&caller)?;
    let key = key.into_inner();
    let (data, ctx) = db::transaction(&pool, caller.session(), move |conn| {
        let data = collect::collect(conn, &citizen, &key)?;
        let ctx = if as_pdf {
            Some(pdf::Context::load(conn, &citizen.tenant, &citizen.name)?)
        } else {
            None
        };
        Ok((data, ctx))
    })
    .await?;
    match ctx {
        Some(ctx) => {
            pdf_response("stafettlogg-mine-data.pdf", move || {
                pdf::my_data(&data, &ctx)
            })
            .await
        }
        None => Ok(HttpResponse::Ok().json(data)),
    }
}
