//! `/webhooks`: an integration's subscriptions to the change feed, their deliveries and a test delivery.
//! Only `integration` tokens; each sees its own webhooks (by `sub`), and another's is 404.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::api::{
    CreatedWebhook, Delivery, DeliveryQuery, Webhook, WebhookInput, WebhookList, WebhookState,
};
use super::{client, rules, store};
use crate::auth::{Caller, Role};
use crate::config::Delivery as DeliveryConfig;
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::{ValidJson, ValidQuery};
use crate::http::pagination::{self, Page};
use crate::national_id::NationalIdKey;

/// Runs `f` in a transaction on one of the caller's webhooks: `integration` tokens only (403), and
/// another integration's webhook, or one acting for a service the token does not name, is 404, as if it
/// did not exist.
async fn on_own_webhook<T, F>(pool: &Pool, caller: Caller, id: Uuid, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut diesel::PgConnection, Webhook) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    caller.require_role(Role::Integration)?;
    db::transaction(pool, caller.session(), move |conn| {
        let w = store::find(conn, &caller.tenant, &caller.user_id, &caller.services, id)?;
        f(conn, w)
    })
    .await
}

/// Subscribe a webhook to change types of the feed.
///
/// For the `integration` role (403 otherwise). Each event is POSTed to `url` following the Standard
/// Webhooks convention: headers `webhook-id` (the same on every retry), `webhook-timestamp` and
/// `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, body `{type, timestamp,
/// data: {seq, case_id}}` with ids only, and only for a case the token's services may read when the
/// event is delivered (the feed's rule). At least once: a failed delivery (no 2xx within 5 s) is
/// retried, the first time within 10 s, then further apart; after the last retry the webhook is
/// `disabled`. Redirects are not followed. The `secret` is in this answer only. A token that names no
/// services is refused (403): a webhook acts for the services of the token that made it.
#[utoipa::path(
    tag = "integration",
    security(("bearer" = [])),
    request_body = WebhookInput,
    responses(
        (status = 201, description = "Subscribed; the secret is shown now and never again", body = CreatedWebhook,
            headers(("Location" = String, description = "The webhook"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 422, response = crate::http::openapi::Validation),
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    caller: Caller,
    pool: web::Data<Pool>,
    config: web::Data<DeliveryConfig>,
    key: web::Data<NationalIdKey>,
    body: ValidJson<WebhookInput>,
) -> Result<HttpResponse, AppError> {
    caller.require_role(Role::Integration)?;
    rules::acts_for_named_services(&caller.services)?;
    let input = body.0;
    let repeated = rules::events_problems(&input.events);
    if !repeated.is_empty() {
        return Err(AppError::invalid_fields(repeated));
    }
    let policy = rules::UrlPolicy::from(config.get_ref());
    let url = rules::check_url(&input.url, policy)?;
    let checked = url.clone();
    web::block(move || client::check_host(&checked, policy))
        .await
        .map_err(|_| AppError::internal())??;
    let (secret, raw) = rules::new_secret();
    let sealed = key.seal_secret(&raw);
    let webhook = db::transaction(&pool, caller.session(), move |conn| {
        store::insert(
            conn,
            store::NewWebhook {
                municipality: &caller.tenant,
                owner_user_id: &caller.user_id,
                services: &caller.services,
                url: url.as_str(),
                events: &input.events,
                secret_enc: sealed,
            },
        )
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/webhooks/{}", webhook.id)))
        .json(CreatedWebhook { webhook, secret }))
}

/// The caller's webhooks.
///
/// Those this integration made, oldest first, with their state, for the `integration` role (403
/// otherwise). Their secrets are not shown again.
#[utoipa::path(
    tag = "integration",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's webhooks", body = WebhookList),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    caller: Caller,
    pool: web::Data<Pool>,
) -> Result<HttpResponse, AppError> {
    caller.require_role(Role::Integration)?;
    let items = db::transaction(&pool, caller.session(), move |conn| {
        store::of_owner(conn, &caller.tenant, &caller.user_id, &caller.services)
    })
    .await?;
    Ok(HttpResponse::Ok().json(WebhookList { items }))
}

/// One of the caller's webhooks.
///
/// With its state (and why it was disabled), for the `integration` role (403 otherwise). Another
/// integration's webhook is 404, as if it did not exist.
#[utoipa::path(
    tag = "integration",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The webhook id")),
    responses(
        (status = 200, description = "The webhook", body = Webhook),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
    )
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let w = on_own_webhook(&pool, caller, path.into_inner(), |_, w| Ok(w)).await?;
    Ok(HttpResponse::Ok().json(w))
}

/// Unsubscribe a webhook.
///
/// The webhook and its deliveries are deleted; nothing more is sent. For the `integration` role (403
/// otherwise); another integration's webhook is 404.
#[utoipa::path(
    tag = "integration",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The webhook id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
    )
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    on_own_webhook(&pool, caller, path.into_inner(), |conn, w| {
        store::delete(conn, w.id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Start a disabled webhook again.
///
/// Its deliveries still pending are tried again from now on. For the `integration` role (403 otherwise);
/// another integration's webhook is 404.
#[utoipa::path(
    tag = "integration",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The webhook id")),
    responses(
        (status = 200, description = "Active again", body = Webhook),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
    )
)]
#[post("/webhooks/{id}/enable")]
pub async fn enable_webhook(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let w = on_own_webhook(&pool, caller, path.into_inner(), |conn, mut w| {
        store::set_state(conn, w.id, WebhookState::Active, None)?;
        w.state = WebhookState::Active;
        w.disabled_reason = None;
        Ok(w)
    })
    .await?;
    Ok(HttpResponse::Ok().json(w))
}

/// The webhook's deliveries, newest first.
///
/// Each try's outcome, the receiver's last status or error, a page at a time. For the `integration` role
/// (403 otherwise); another integration's webhook is 404.
#[utoipa::path(
    tag = "integration",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The webhook id"), DeliveryQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = Page<Delivery>,
            headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn webhook_deliveries(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
    query: ValidQuery<DeliveryQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let (limit, before) = pagination::uuid_keyset(q.limit, q.cursor.as_deref())?;
    let rows = on_own_webhook(&pool, caller, path.into_inner(), move |conn, w| {
        store::deliveries(conn, w.id, before, limit + 1)
    })
    .await?;
    let more = rows.len() as i64 > limit;
    let mut rows = rows;
    rows.truncate(limit as usize);
    // The cursor is the row's id; what clients see as `id` is its `webhook-id`.
    let next_cursor = rows
        .last()
        .filter(|_| more)
        .map(|(k, _)| pagination::encode_cursor(&k.to_string()));
    let page = Page {
        items: rows.into_iter().map(|(_, d)| d).collect(),
        next_cursor,
    };
    Ok(pagination::respond(&req, page))
}

/// Send a test delivery to a webhook now.
///
/// Type `webhook.test`, no case, to check the receiver and its signature check. The answer is the queued
/// delivery; its outcome shows in the deliveries. A disabled webhook is 409 (enable it first); another
/// integration's webhook is 404.
#[utoipa::path(
    tag = "integration",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The webhook id")),
    responses(
        (status = 202, description = "Queued; see its outcome in the deliveries", body = Delivery),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/webhooks/{id}/test")]
pub async fn test_webhook(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let tenant = caller.tenant.clone();
    let d = on_own_webhook(&pool, caller, path.into_inner(), move |conn, w| {
        if w.state == WebhookState::Disabled {
            return Err(AppError::conflict(
                "the webhook is disabled; enable it first",
            ));
        }
        store::insert_test(conn, &tenant, w.id)
    })
    .await?;
    Ok(HttpResponse::Accepted().json(d))
}
