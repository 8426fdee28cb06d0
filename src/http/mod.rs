//! The plumbing of HTTP, below every resource and knowing none of them: the one error type and its
//! problem documents, extractors that name the bad field, body limits and timeouts, request ids, CORS,
//! `Idempotency-Key`, rate limits, content negotiation, keyset pagination, metrics, logs, health, and the assembly of
//! the OpenAPI document's shared parts.

pub mod bounds;
pub mod cors;
pub mod error;
pub mod extract;
pub mod health;
pub mod idempotency;
pub mod metrics;
pub mod negotiate;
pub mod openapi;
pub mod pagination;
pub mod rate_limit;
pub mod request_body;
pub mod request_id;
pub mod telemetry;
