//! `GET|PUT /me/notifications` and `GET /me/notifications/sent`: a person's own settings and messages.

use actix_web::{get, put, web, HttpRequest, HttpResponse};

use super::api::{NotificationSettings, SentNotification, SentQuery};
use super::{rules, store};
use crate::auth::{Caller, Role};
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::{ValidJson, ValidQuery};
use crate::http::pagination::{self, Page};

/// The caller's notification settings.
///
/// Where and how the caller hears that something waits for them: e-mail address, phone, and which
/// channels are on. Every channel is off until the settings are saved.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's settings", body = NotificationSettings),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[get("/me/notifications")]
pub async fn notification_settings(
    caller: Caller,
    pool: web::Data<Pool>,
) -> Result<HttpResponse, AppError> {
    let settings = db::transaction(&pool, caller.session(), move |conn| {
        store::settings_of(conn, &caller)
    })
    .await?;
    Ok(HttpResponse::Ok().json(settings))
}

/// Save the caller's notification settings.
///
/// Where and how the caller wants to hear that something waits for them. Anyone with a token may:
/// professionals, leaders, guardians and youth. The roles and services of this token are kept with the
/// settings, so messages to a service's professionals reach the caller while the token said they work
/// there; save again after changing service.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    request_body = NotificationSettings,
    responses(
        (status = 200, description = "Saved", body = NotificationSettings),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 422, response = crate::http::openapi::Validation),
    )
)]
#[put("/me/notifications")]
pub async fn save_notification_settings(
    caller: Caller,
    pool: web::Data<Pool>,
    body: ValidJson<NotificationSettings>,
) -> Result<HttpResponse, AppError> {
    let settings = body.0;
    rules::check_settings(&settings)?;
    let employee = caller.has_role(Role::Professional) || caller.has_role(Role::Leader);
    rules::surveys_are_for_employees(&settings, employee)?;
    let saved = db::transaction(&pool, caller.session(), move |conn| {
        store::save_settings(conn, &caller, &settings)?;
        Ok(settings)
    })
    .await?;
    Ok(HttpResponse::Ok().json(saved))
}

/// What was sent to the caller, newest first.
///
/// Every message, whether it went out, and if not, why (for example that the server has no e-mail
/// configured), a page at a time.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(SentQuery),
    responses(
        (status = 200, description = "A page of messages", body = Page<SentNotification>,
            headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[get("/me/notifications/sent")]
pub async fn sent_notifications(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    query: ValidQuery<SentQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let (limit, before) = pagination::uuid_keyset(q.limit, q.cursor.as_deref())?;
    let rows = db::transaction(&pool, caller.session(), move |conn| {
        store::sent_to(conn, &caller, before, limit + 1)
    })
    .await?;
    Ok(pagination::respond(
        &req,
        pagination::page(rows, limit, |v| v.id),
    ))
}
