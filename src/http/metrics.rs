//! Prometheus metrics on a listener of their own (`METRICS_ADDR`), never on the public port: request
//! counts and latency per route template and status, the connection pool, the change feed's sequence and
//! the build. Pool and feed figures are read when scraped, so requests pay nothing for them.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, App, HttpResponse, HttpServer};
use diesel::prelude::*;
use prometheus::{
    HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::db::{self, Pool};

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_connections: IntGaugeVec,
    round_trips: IntCounterVec,
    feed_sequence: IntGauge,
    outbox: IntCounterVec,
    outbox_waiting: IntGaugeVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("stafettlogg".into()), None).expect("registry");
        let labels = ["method", "route", "status"];
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered"),
            &labels,
        )
        .expect("metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from the request's arrival to its response",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
            &labels,
        )
        .expect("metric");
        let pool_connections = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database connections by state: in_use, idle, and requests waiting for one",
            ),
            &["state"],
        )
        .expect("metric");
        let round_trips = IntCounterVec::new(
            Opts::new(
                "db_round_trips_total",
                "Round trips to PostgreSQL sent for requests (a batch is one); divided by \
                 http_requests_total of the same route, the statements a request costs",
            ),
            &["method", "route"],
        )
        .expect("metric");
        let feed_sequence = IntGauge::new(
            "feed_events",
            "Change-feed events handed out, all municipalities (the sum of their highest sequence numbers)",
        )
        .expect("metric");
        let (outbox, outbox_waiting) = outbox_metrics();
        let build = IntGaugeVec::new(
            Opts::new("build_info", "The running build (always 1)"),
            &["version"],
        )
        .expect("metric");
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool_connections.clone()),
            Box::new(round_trips.clone()),
            Box::new(feed_sequence.clone()),
            Box::new(outbox.clone()),
            Box::new(outbox_waiting.clone()),
            Box::new(build),
        ] {
            registry.register(c).expect("unique metric names");
        }
        Metrics {
            registry,
            requests,
            latency,
            pool_connections,
            round_trips,
            feed_sequence,
            outbox,
            outbox_waiting,
        }
    }

    /// One try of a message or delivery on `channel` ended with `outcome`.
    pub fn delivered(&self, channel: &str, outcome: &str) {
        self.outbox.with_label_values(&[channel, outcome]).inc();
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency
            .with_label_values(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Counts the round trips to PostgreSQL a request's database work sends, per route: the statement
    /// budget of a request is visible in production, and a test holds it (tests/api/statements.rs).
    pub async fn count_round_trips(
        req: ServiceRequest,
        next: Next<impl MessageBody + 'static>,
    ) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
        let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
        let method = req.method().as_str().to_string();
        let metrics = req.app_data::<web::Data<Metrics>>().cloned();
        let counter = Arc::new(AtomicU32::new(0));
        let res = db::connections::counting_round_trips(counter.clone(), next.call(req)).await;
        if let Some(metrics) = metrics {
            metrics
                .round_trips
                .with_label_values(&[method.as_str(), route.as_str()])
                .inc_by(u64::from(counter.load(Ordering::Relaxed)));
        }
        res
    }

    /// The text exposition, with the pool and feed read now.
    fn render(&self, pool: &Pool, feed_sequence: Option<i64>, waiting: Vec<Waiting>) -> String {
        for channel in ["email", "sms", "webhook"] {
            let n = waiting
                .iter()
                .find(|w| w.channel == channel)
                .map_or(0, |w| w.waiting);
            self.outbox_waiting.with_label_values(&[channel]).set(n);
        }
        let state = pool.state();
        let gauge = |s: &str| self.pool_connections.with_label_values(&[s]);
        gauge("in_use").set(i64::from(state.connections - state.idle_connections));
        gauge("idle").set(i64::from(state.idle_connections));
        gauge("waiting").set(db::pool::WAITING_FOR_CONNECTION.load(Ordering::Relaxed));
        if let Some(seq) = feed_sequence {
            self.feed_sequence.set(seq);
        }
        TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .expect("metrics encode")
    }
}

/// The outboxes' metrics: tries by channel and outcome, and what waits.
fn outbox_metrics() -> (IntCounterVec, IntGaugeVec) {
    let outbox = IntCounterVec::new(
        Opts::new(
            "outbox_tries_total",
            "Tries of notifications (channel email, sms) and webhook deliveries (channel webhook) by \
             this instance, by outcome: sent, retried (failed, to be tried again), failed (given up), \
             skipped (a webhook's integration may no longer read the case)",
        ),
        &["channel", "outcome"],
    )
    .expect("metric");
    let outbox_waiting = IntGaugeVec::new(
        Opts::new(
            "outbox_queued",
            "Notifications and webhook deliveries waiting to be sent (or retried), all instances",
        ),
        &["channel"],
    )
    .expect("metric");
    (outbox, outbox_waiting)
}

fn feed_sequence(pool: &Pool) -> Option<i64> {
    #[derive(QueryableByName)]
    struct Seq {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        seq: i64,
    }
    let mut conn = pool.get().ok()?;
    // The counters, not the events: the scrape belongs to no municipality, so row-level security hides
    // every event from it. Each counter holds the last number its municipality handed out, committed with
    // its events, so the sum counts the events of all municipalities.
    diesel::sql_query("SELECT coalesce(sum(last_seq), 0)::bigint AS seq FROM feed_counters")
        .get_result::<Seq>(&mut conn)
        .ok()
        .map(|s| s.seq)
}

#[derive(QueryableByName)]
struct Waiting {
    #[diesel(sql_type = diesel::sql_types::Text)]
    channel: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    waiting: i64,
}

/// What waits in the outboxes; a function of the database counts across municipalities (counts only).
fn outbox_waiting(pool: &Pool) -> Vec<Waiting> {
    let Ok(mut conn) = pool.get() else {
        return vec![];
    };
    diesel::sql_query("SELECT channel, waiting FROM outbox_waiting()")
        .load(&mut conn)
        .unwrap_or_default()
}

async fn scrape(metrics: web::Data<Metrics>, pool: web::Data<Pool>) -> HttpResponse {
    let pool = pool.get_ref().clone();
    let metrics = metrics.into_inner();
    // An unreachable database must not make the scrape fail: the feed gauge keeps its last value.
    let body = web::block(move || {
        let seq = feed_sequence(&pool);
        let waiting = outbox_waiting(&pool);
        metrics.render(&pool, seq, waiting)
    })
    .await
    .unwrap_or_default();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}

/// The metrics listener: `GET /metrics` only.
pub fn serve(
    listener: TcpListener,
    metrics: web::Data<Metrics>,
    pool: Pool,
) -> std::io::Result<actix_web::dev::Server> {
    let pool = web::Data::new(pool);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(metrics.clone())
            .app_data(pool.clone())
            .route("/metrics", web::get().to(scrape))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run())
}
