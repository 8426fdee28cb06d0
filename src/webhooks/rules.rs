//! The rules of webhooks as plain functions: which URLs may receive deliveries, which addresses they may
//! reach, and how a delivery is signed (the Standard Webhooks convention).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::http::error::{AppError, FieldError};

/// What the server allows of a webhook's URL (`WEBHOOK_ALLOW_HTTP`, `WEBHOOK_ALLOW_PRIVATE`).
#[derive(Debug, Clone, Copy, Default)]
pub struct UrlPolicy {
    pub allow_http: bool,
    pub allow_private: bool,
}

impl From<&crate::config::Delivery> for UrlPolicy {
    fn from(d: &crate::config::Delivery) -> Self {
        UrlPolicy {
            allow_http: d.webhook_allow_http,
            allow_private: d.webhook_allow_private,
        }
    }
}

/// A URL that may receive deliveries, as far as it can be told without resolving its host: `https` (or
/// `http` where allowed), a host, no user or password (a secret in a URL ends up in logs), no fragment, and
/// an IP address given literally must be one it may reach. Host names are checked after resolution, at
/// creation and at every delivery ([`reachable`]).
pub fn check_url(raw: &str, policy: UrlPolicy) -> Result<url::Url, AppError> {
    let bad = |m: &str| AppError::invalid("url", m);
    let url = url::Url::parse(raw).map_err(|e| bad(&format!("not a URL ({e})")))?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        "http" => {
            return Err(bad(
                "must be https (this server does not allow plain http: WEBHOOK_ALLOW_HTTP)",
            ))
        }
        other => return Err(bad(&format!("must be https, not {other}"))),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not hold a user or password"));
    }
    if url.fragment().is_some() {
        return Err(bad("must not have a fragment (#...)"));
    }
    match url.host() {
        None => return Err(bad("has no host")),
        Some(url::Host::Ipv4(ip)) => reachable(IpAddr::V4(ip), policy)?,
        Some(url::Host::Ipv6(ip)) => reachable(IpAddr::V6(ip), policy)?,
        Some(url::Host::Domain(_)) => {}
    }
    Ok(url)
}

/// Whether a delivery may go to `ip`: a public address, unless the server allows private ones. Refused:
/// loopback, private networks, link-local (cloud metadata services live there), carrier-grade NAT,
/// unspecified, multicast, broadcast, documentation and reserved ranges, and IPv6 forms of all of these.
pub fn reachable(ip: IpAddr, policy: UrlPolicy) -> Result<(), AppError> {
    if policy.allow_private || is_public(ip) {
        Ok(())
    } else {
        // The address is not named: the answer must not tell what a name resolves to inside the network.
        Err(AppError::invalid(
            "url",
            "reaches a private, loopback or link-local address (refused unless WEBHOOK_ALLOW_PRIVATE)",
        ))
    }
}

pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        // An IPv6 address that carries an IPv4 one (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`,
        // 6to4 `2002:aabb:ccdd::`) is judged by the IPv4 address it leads to.
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    if s[0] == 0x2002 {
        let [a, b] = s[1].to_be_bytes();
        let [c, d] = s[2].to_be_bytes();
        return Some(Ipv4Addr::new(a, b, c, d));
    }
    ip.to_ipv4()
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

/// Public IPv6 is global unicast (`2000::/3`) but for the special-purpose ranges inside it: Teredo and
/// the other IETF protocol assignments (`2001::/23`), documentation (`2001:db8::/32`).
fn is_public_v6(ip: Ipv6Addr) -> bool {
    let [first, second, ..] = ip.segments();
    (first & 0xe000) == 0x2000 && !(first == 0x2001 && (second < 0x0200 || second == 0x0db8))
}

/// What follows a failed try of a delivery: another try after a wait, or none. A test delivery shows its
/// outcome once: it is not tried again (and, failing, does not disable the webhook).
pub fn after_failure(
    test: bool,
    attempts: i32,
    schedule: &[std::time::Duration],
) -> Option<std::time::Duration> {
    if test {
        return None;
    }
    crate::notifications::rules::next_try(attempts, schedule)
}

/// A new signing secret: `whsec_` and base64 of 32 random bytes.
pub fn new_secret() -> (String, Vec<u8>) {
    let mut key = vec![0u8; 32];
    rand::fill(&mut key[..]);
    let shown = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(&key)
    );
    (shown, key)
}

/// The `webhook-signature` header of a delivery: `v1,` and base64 of HMAC-SHA256 over
/// `{id}.{timestamp}.{body}` with the secret's bytes (the part after `whsec_`, base64-decoded).
pub fn signature(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// The `webhook-id` of a delivery: the same on every try.
pub fn message_id(delivery: uuid::Uuid) -> String {
    format!("msg_{}", delivery.simple())
}

/// A webhook names each change type once: a repeated one is most likely a mistake, and stored twice it
/// would read as two subscriptions.
pub fn events_problems(events: &[crate::changes::api::ChangeType]) -> Vec<FieldError> {
    events
        .iter()
        .enumerate()
        .filter(|(i, e)| events[..*i].contains(e))
        .map(|(i, _)| FieldError::new(format!("events[{i}]"), "is listed twice"))
        .collect()
}

/// A webhook acts for the services of the token that made it: its deliveries are of cases those services
/// may read, and only a token naming them all sees or manages it. A token naming none would make one that
/// delivers nothing and that every token of the same login could read and change: refused.
pub fn acts_for_named_services(services: &[String]) -> Result<(), AppError> {
    if services.is_empty() {
        return Err(AppError::forbidden(
            "a webhook acts for the services its token names, and this token names none: \
             use a token whose `services` claim names the services it works for",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_webhook_acts_for_the_services_its_token_names_and_needs_one() {
        assert!(super::acts_for_named_services(&[]).is_err());
        assert!(super::acts_for_named_services(&["ppt".to_string()]).is_ok());
    }

    #[test]
    fn a_webhook_names_each_change_type_once() {
        use crate::changes::api::ChangeType;
        let once = [ChangeType::CaseOpened, ChangeType::EntryAdded];
        assert!(events_problems(&once).is_empty());
        let twice = [
            ChangeType::CaseOpened,
            ChangeType::EntryAdded,
            ChangeType::CaseOpened,
        ];
        let problems = events_problems(&twice);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "events[2]");
    }

    use super::*;

    const STRICT: UrlPolicy = UrlPolicy {
        allow_http: false,
        allow_private: false,
    };

    /// The example of the Standard Webhooks specification, signed as a receiver's library verifies it.
    #[test]
    fn a_delivery_is_signed_as_the_standard_webhooks_specification_signs_its_example() {
        let key = base64::engine::general_purpose::STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap();
        assert_eq!(
            signature(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                r#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_webhook_url_is_https_with_a_host_and_no_credentials() {
        assert!(check_url("https://fagsystem.kommune.no/hooks", STRICT).is_ok());
        for bad in [
            "http://fagsystem.kommune.no/hooks",
            "ftp://fagsystem.kommune.no/",
            "https://user:pw@fagsystem.kommune.no/",
            "https://fagsystem.kommune.no/#x",
            "not a url",
        ] {
            let e = check_url(bad, STRICT).unwrap_err();
            assert_eq!(e.errors[0].field, "url", "{bad}");
        }
        let http = UrlPolicy {
            allow_http: true,
            ..STRICT
        };
        assert!(check_url("http://fagsystem.kommune.no/hooks", http).is_ok());
    }

    #[test]
    fn a_webhook_may_not_reach_loopback_private_or_link_local_addresses_unless_allowed() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_public(ip), "{ip} counted as public");
            assert!(reachable(ip, STRICT).is_err());
            let open = UrlPolicy {
                allow_private: true,
                ..STRICT
            };
            assert!(reachable(ip, open).is_ok());
        }
        for ip in ["93.184.216.34", "2a00:1450:4001:82a::200e", "8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        assert!(check_url("https://127.0.0.1/x", STRICT).is_err());
        assert!(check_url("https://[::1]/x", STRICT).is_err());
    }

    #[test]
    fn an_ipv6_address_is_public_only_in_global_unicast_and_never_when_it_carries_a_private_ipv4_one(
    ) {
        for ip in [
            "::127.0.0.1",
            "::ffff:10.0.0.1",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "fec0::1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "100::1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} counted as public");
        }
        for ip in [
            "2a00:1450:4001:82a::200e",
            "2002:5db8:d822::1",
            "::ffff:93.184.216.34",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn a_failed_delivery_is_tried_again_on_the_schedule_but_a_test_delivery_never() {
        let s = [std::time::Duration::from_secs(5)];
        assert_eq!(after_failure(false, 1, &s), Some(s[0]));
        assert_eq!(after_failure(false, 2, &s), None);
        assert_eq!(after_failure(true, 1, &s), None);
    }

    #[test]
    fn a_refusal_does_not_tell_the_address_a_name_resolved_to() {
        let e = reachable("10.1.2.3".parse().unwrap(), STRICT).unwrap_err();
        assert!(
            !e.errors[0].message.contains("10.1.2.3"),
            "{}",
            e.errors[0].message
        );
    }

    #[test]
    fn a_secret_is_whsec_and_32_random_bytes() {
        let (shown, key) = new_secret();
        assert!(shown.starts_with("whsec_"));
        assert_eq!(key.len(), 32);
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(shown.trim_start_matches("whsec_"))
            .unwrap();
        assert_eq!(decoded, key);
        assert_ne!(new_secret().1, key);
    }
}
