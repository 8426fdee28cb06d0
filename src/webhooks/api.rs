//! What clients send and receive about webhooks. Never diesel rows: see `store.rs`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::changes::api::ChangeType;

crate::text_enum! {
    pub enum WebhookState {
        /// Deliveries are sent.
        Active,
        /// Deliveries failed until the last retry, so none are sent any more (`disabled_reason` says
        /// why); `POST /webhooks/{id}/enable` starts it again.
        Disabled,
    }
}

crate::text_enum! {
    pub enum DeliveryState {
        /// Waiting for its first try, or for a retry.
        Pending,
        /// The receiver answered 2xx.
        Delivered,
        /// Every try failed.
        Failed,
        /// Not sent: when it was due, the integration could not read the case (the feed's rule). Such a
        /// delivery forgets its case and is not listed.
        Skipped,
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// Where deliveries are POSTed: `https` (plain `http` only where the server allows it), a public
    /// address, no user or password in it.
    #[validate(length(min = 8, max = 2000))]
    #[schema(
        max_length = 2000,
        format = "uri",
        example = "https://fagsystem.kommune.no/stafettlogg/hooks"
    )]
    pub url: String,
    /// The change types to deliver, each once (a repeated one is 422).
    #[validate(length(min = 1, max = 100))]
    #[schema(min_items = 1, max_items = 100)]
    pub events: Vec<ChangeType>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    pub id: Uuid,
    #[schema(max_length = 2000)]
    pub url: String,
    #[schema(max_items = 100)]
    pub events: Vec<ChangeType>,
    pub state: WebhookState,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A new webhook with its signing secret, shown only in this answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_` and base64 of 32 random bytes: the key of the HMAC-SHA256 in `webhook-signature`
    /// (Standard Webhooks). Store it now; it is never shown again.
    #[schema(
        example = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        min_length = 50,
        max_length = 50
    )]
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    #[schema(max_items = 100)]
    pub items: Vec<Webhook>,
}

/// One delivery of an event to a webhook, and how its tries went.
#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    /// The `webhook-id` header: the same on every try, so a receiver can drop a repeat.
    #[schema(example = "msg_0193a1b2c3d4e5f6a7b8c9d0e1f2a3b4", max_length = 40)]
    pub id: String,
    #[serde(rename = "type")]
    #[schema(max_length = 50)]
    pub delivery_type: String,
    /// The event's number in the feed, once delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub seq: Option<i64>,
    /// The case, once delivered (until then it is not known whether the integration may read it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    pub state: DeliveryState,
    #[schema(minimum = 0)]
    pub attempts: i32,
    /// The receiver's HTTP status at the last try.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 100, maximum = 599)]
    pub last_status: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// From `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// What a delivery's body holds: the type, when it happened, and ids only (rule 14).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Payload {
    #[serde(rename = "type")]
    pub event_type: String,
    pub timestamp: DateTime<Utc>,
    pub data: PayloadData,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PayloadData {
    /// The event's number in the change feed (`GET /changes`); absent in a test delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
}

/// The type of a test delivery (`POST /webhooks/{id}/test`).
pub const TEST_TYPE: &str = "webhook.test";
