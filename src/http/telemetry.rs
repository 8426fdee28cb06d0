//! Logs as data: one span per request carrying the request id the client saw, one access line per
//! request inside it, and `LOG_FORMAT=json` for one JSON object per line. Only the route template
//! (`/api/v1/cases/{id}`), never the query string or a body, goes into a log line: queries may carry
//! references from other systems, bodies carry names, national ids and free text.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{web, Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::EnvFilter;

use crate::http::metrics::Metrics;
use crate::http::request_id::RequestId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("LOG_FORMAT={other:?}: use text or json")),
        }
    }
}

/// Installs the process's log subscriber (also receiving `log` records of dependencies). Lines go to
/// `writer` (standard error in the binary), so `token` and `openapi` keep standard output to themselves.
pub fn init(format: LogFormat, filter: &str, writer: BoxMakeWriter) -> Result<(), String> {
    let filter = EnvFilter::try_new(filter).map_err(|e| format!("RUST_LOG={filter:?}: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let result = match format {
        LogFormat::Text => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    result.map_err(|e| format!("cannot install the logger: {e}"))
}

/// When a request started and which route it matched, for the access line and the metrics.
struct Started {
    at: Instant,
    route: String,
}

/// The root span of a request: its id, method and route template; the status is filled in at the end.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        // Unknown paths share one label, so a scan of random URLs cannot blow up the metrics.
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "unmatched".into());
        let span = tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %request.method(),
            route = %route,
            status = tracing::field::Empty,
        );
        request.extensions_mut().insert(Started {
            at: Instant::now(),
            route,
        });
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let _entered = span.enter();
        let res = match outcome {
            Ok(res) => res,
            Err(e) => {
                let status = e.as_response_error().status_code().as_u16();
                span.record("status", status);
                tracing::error!(status, "request failed before a response was made");
                return;
            }
        };
        let status = res.status().as_u16();
        span.record("status", status);
        let request = res.request();
        let Some((elapsed, route)) = request
            .extensions()
            .get::<Started>()
            .map(|s| (s.at.elapsed(), s.route.clone()))
        else {
            return;
        };
        if let Some(metrics) = request.app_data::<web::Data<Metrics>>() {
            metrics.observe(request.method().as_str(), &route, status, elapsed);
        }
        let elapsed_ms = elapsed.as_micros() as f64 / 1000.0;
        if status >= 500 {
            // The cause was logged where it happened, in this same span (same request id).
            tracing::error!(status, elapsed_ms, "request answered with a server error");
        } else {
            tracing::info!(status, elapsed_ms, "request");
        }
    }
}
