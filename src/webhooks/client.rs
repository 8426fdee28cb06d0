//! The HTTP client of deliveries: a 5-second limit, no redirects, and a resolver that refuses any host whose
//! addresses are not all ones a webhook may reach (`rules::reachable`). The check and the connection use
//! the same lookup, so a name cannot resolve to a public address for the check and a private one for the
//! connection.

use std::net::ToSocketAddrs;
use std::time::Duration;

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use super::rules::{self, UrlPolicy};
use crate::http::error::AppError;

pub const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct Guarded {
    policy: UrlPolicy,
    inner: DefaultResolver,
}

impl Resolver for Guarded {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let found = self.inner.resolve(uri, config, timeout)?;
        for addr in found.iter() {
            if let Err(e) = rules::reachable(addr.ip(), self.policy) {
                return Err(ureq::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    e.errors
                        .first()
                        .map(|f| f.message.clone())
                        .unwrap_or(e.detail),
                )));
            }
        }
        Ok(found)
    }
}

pub fn agent(policy: UrlPolicy) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .max_redirects(0)
        .https_only(!policy.allow_http)
        // A proxy from the environment (HTTPS_PROXY, ALL_PROXY) would resolve the host itself, past the
        // check below.
        .proxy(None)
        .build();
    ureq::Agent::with_parts(
        config,
        DefaultConnector::default(),
        Guarded {
            policy,
            inner: DefaultResolver::default(),
        },
    )
}

/// Resolves the URL's host now and refuses it when any of its addresses may not be reached, or when it
/// does not resolve: a mistyped host is better found when the webhook is made than at its first delivery.
/// Blocking (DNS): call it off the executor.
pub fn check_host(url: &url::Url, policy: UrlPolicy) -> Result<(), AppError> {
    let Some(url::Host::Domain(host)) = url.host() else {
        return Ok(());
    };
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|_| AppError::invalid("url", format!("the host {host} does not resolve")))?
        .collect();
    if addrs.is_empty() {
        return Err(AppError::invalid(
            "url",
            format!("the host {host} does not resolve"),
        ));
    }
    for a in addrs {
        rules::reachable(a.ip(), policy)?;
    }
    Ok(())
}

/// One POST; the receiver's status, or why there was none.
pub fn post(
    agent: &ureq::Agent,
    url: &str,
    headers: &[(&str, String)],
    body: &str,
) -> Result<u16, String> {
    let mut req = agent.post(url).content_type("application/json");
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    req.send(body.as_bytes())
        .map(|res| res.status().as_u16())
        .map_err(|e| e.to_string())
}
