//! Rate limits (OWASP API4, unrestricted resource consumption): a token bucket per caller, so no one
//! token can take the service from everyone else. Three budgets, each a number of requests a minute and
//! a burst: reads (`GET`) and writes (every other method, the import included: an import is one request
//! however many cases it carries) per caller (the token's `sub` within its municipality, checked once
//! the token is verified), and the unauthenticated routes (`/public/...`, health, the docs and the spec)
//! per client address. A long poll is one request however long it waits.
//!
//! Every answer a budget counted carries `RateLimit-Policy` and `RateLimit` (the IETF httpapi draft:
//! `"reads";q=600;w=60` and `"reads";r=599;t=1`); an answer over budget is 429 problem+json with
//! `Retry-After`. The buckets live in the instance's memory: N instances give a caller N times the
//! budget. Behind a reverse proxy, the client address is taken from `X-Forwarded-For` only when the
//! peer is one of `TRUSTED_PROXIES`.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::http::error::{AppError, ProblemType};

/// So many requests a minute, and how many may come at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub per_minute: u32,
    pub burst: u32,
}

/// The configured budgets (`None`: that kind of request is not limited).
#[derive(Debug, Clone, Default)]
pub struct RateLimits {
    pub reads: Option<Budget>,
    pub writes: Option<Budget>,
    pub public: Option<Budget>,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpAddr>,
}

impl RateLimits {
    /// Nothing limited (the tests' servers, which send thousands of requests as one caller).
    pub fn off() -> RateLimits {
        RateLimits::default()
    }
}

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// Checks between two sweeps of the buckets of callers who went quiet.
const SWEEP_EVERY: u64 = 4096;

struct Bucket<K: std::hash::Hash + Eq + Clone> {
    name: &'static str,
    budget: Budget,
    limiter: Keyed<K>,
    checks: AtomicU64,
}

impl<K: std::hash::Hash + Eq + Clone> Bucket<K> {
    fn new(name: &'static str, budget: Budget) -> Option<Bucket<K>> {
        let per_minute = NonZeroU32::new(budget.per_minute)?;
        let burst = NonZeroU32::new(budget.burst).unwrap_or(per_minute);
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        Some(Bucket {
            name,
            budget,
            limiter: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            checks: AtomicU64::new(0),
        })
    }

    fn check(&self, key: &K) -> Result<Standing, AppError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
        }
        match self.limiter.check_key(key) {
            Ok(snapshot) => Ok(Standing {
                name: self.name,
                budget: self.budget,
                remaining: snapshot.remaining_burst_capacity(),
            }),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(too_many(self.name, seconds.max(1) as u32))
            }
        }
    }
}

fn too_many(name: &str, seconds: u32) -> AppError {
    AppError::new(
        ProblemType::TooManyRequests,
        format!("over the `{name}` rate limit of this service; try again in {seconds} s"),
    )
    .retry_after(seconds)
}

/// The buckets of one server, shared by its workers.
pub struct Limiters {
    reads: Option<Bucket<String>>,
    writes: Option<Bucket<String>>,
    public: Option<Bucket<IpAddr>>,
    trusted_proxies: Vec<IpAddr>,
}

impl Limiters {
    pub fn new(limits: &RateLimits) -> Limiters {
        Limiters {
            reads: limits.reads.and_then(|b| Bucket::new("reads", b)),
            writes: limits.writes.and_then(|b| Bucket::new("writes", b)),
            public: limits.public.and_then(|b| Bucket::new("public", b)),
            trusted_proxies: limits.trusted_proxies.clone(),
        }
    }
}

/// Where a request stands with the budget that counted it, for its answer's headers.
#[derive(Debug, Clone, Copy)]
pub struct Standing {
    name: &'static str,
    budget: Budget,
    remaining: u32,
}

impl Standing {
    /// Seconds until the bucket is full again.
    fn reset(&self) -> u64 {
        let missing = u64::from(self.budget.burst.saturating_sub(self.remaining));
        (missing * 60).div_ceil(u64::from(self.budget.per_minute.max(1)))
    }
}

/// Counts an authenticated request against its caller's budget (reads or writes by its method); the
/// caller is the token's `sub` within its municipality.
pub fn check_caller(req: &HttpRequest, tenant: &str, sub: &str) -> Result<(), AppError> {
    let Some(limiters) = req.app_data::<web::Data<Limiters>>() else {
        return Ok(());
    };
    let reads = matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS");
    let bucket = if reads {
        &limiters.reads
    } else {
        &limiters.writes
    };
    let Some(bucket) = bucket else {
        return Ok(());
    };
    let standing = bucket.check(&format!("{tenant}/{sub}"))?;
    req.extensions_mut().insert(standing);
    Ok(())
}

/// The routes anyone may call without a token: limited per client address.
fn is_public(path: &str) -> bool {
    path.starts_with("/public/")
        || path.starts_with("/health")
        || path.starts_with("/docs")
        || path == "/openapi.json"
}

/// The client's address: the peer's, or behind a trusted proxy the nearest address of
/// `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded: Option<&str>,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let hops = forwarded.unwrap_or("").split(',').rev();
    let parsed: Vec<Option<IpAddr>> = hops.map(|h| h.trim().parse().ok()).collect();
    for hop in parsed {
        match hop {
            Some(ip) if trusted.contains(&ip) => continue,
            Some(ip) => return Some(ip),
            // An address the proxy did not write cannot be trusted: count the proxy itself.
            None => return Some(peer),
        }
    }
    Some(peer)
}

/// Counts the unauthenticated routes per client address, and writes the rate-limit headers of every
/// answer a budget counted.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if let Err(e) = check_public(&req) {
        // Answered here, as the handlers' problems are (an `Err` would lose `Retry-After`).
        return Ok(req.error_response(e).map_into_right_body());
    }
    let mut res = next.call(req).await?;
    let standing = res.request().extensions().get::<Standing>().copied();
    if let Some(s) = standing {
        let policy = format!(
            "\"{}\";q={};w=60;burst={}",
            s.name, s.budget.per_minute, s.budget.burst
        );
        let now = format!("\"{}\";r={};t={}", s.name, s.remaining, s.reset());
        let headers = res.headers_mut();
        for (name, value) in [("ratelimit-policy", policy), ("ratelimit", now)] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), v);
            }
        }
    }
    Ok(res.map_into_left_body())
}

/// A request to a route without a token, counted against its client address.
fn check_public(req: &ServiceRequest) -> Result<(), AppError> {
    let Some(limiters) = req.app_data::<web::Data<Limiters>>() else {
        return Ok(());
    };
    let Some(bucket) = limiters.public.as_ref().filter(|_| is_public(req.path())) else {
        return Ok(());
    };
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let peer = req.peer_addr().map(|a| a.ip());
    if let Some(ip) = client_address(peer, forwarded, &limiters.trusted_proxies) {
        let standing = bucket.check(&ip)?;
        req.extensions_mut().insert(standing);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_client_address_is_the_peers_unless_the_peer_is_a_trusted_proxy() {
        let proxy = ip("10.0.0.1");
        let trusted = [proxy];
        let client = Some("203.0.113.7, 10.0.0.1");
        assert_eq!(
            client_address(Some(ip("198.51.100.2")), client, &trusted),
            Some(ip("198.51.100.2")),
            "an untrusted peer's forwarded header is ignored"
        );
        assert_eq!(
            client_address(Some(proxy), client, &trusted),
            Some(ip("203.0.113.7"))
        );
        assert_eq!(
            client_address(Some(proxy), Some("nonsense"), &trusted),
            Some(proxy)
        );
        assert_eq!(client_address(Some(proxy), None, &trusted), Some(proxy));
    }

    #[test]
    fn a_burst_over_the_budget_is_refused_with_the_seconds_to_wait() {
        let bucket = Bucket::new(
            "reads",
            Budget {
                per_minute: 60,
                burst: 3,
            },
        )
        .unwrap();
        let key = "3805/ola".to_string();
        let left: Vec<u32> = (0..3)
            .map(|_| bucket.check(&key).unwrap().remaining)
            .collect();
        assert_eq!(left, [2, 1, 0]);
        let e = bucket.check(&key).unwrap_err();
        assert_eq!(e.kind, ProblemType::TooManyRequests);
        assert_eq!(e.retry_after, Some(1));
        assert!(
            bucket.check(&"3805/kari".to_string()).is_ok(),
            "another caller has her own"
        );
    }

    #[test]
    fn a_budget_of_zero_limits_nothing() {
        assert!(Bucket::<String>::new(
            "reads",
            Budget {
                per_minute: 0,
                burst: 5
            }
        )
        .is_none());
    }
}
