//! The network limits every connection URL gets unless it sets them itself, written in the URL's own syntax
//! (a URI or keyword/value pairs).

/// What every connection asks of the network unless its URL says otherwise. libpq waits for an
/// unreachable host, and the kernel for a peer that vanished without closing its sockets (a host or a zone
/// lost, not a killed process), for minutes by default; a failover must not wait that long:
/// - `connect_timeout`: how long libpq tries each host of the URL before the next;
/// - `keepalives_*`: an idle connection (the listener's, or one the pool holds) to a vanished server is
///   given up after about 11 s;
/// - `tcp_user_timeout`: so is one whose sent bytes stay unacknowledged 10 s (a request's `BEGIN` or
///   `COMMIT`), instead of the kernel's 15 minutes of retransmissions.
///
/// libpq ignores the last two for Unix sockets.
const NETWORK_LIMITS: [(&str, &str); 5] = [
    ("connect_timeout", "3"),
    ("keepalives_idle", "5"),
    ("keepalives_interval", "2"),
    ("keepalives_count", "3"),
    ("tcp_user_timeout", "10000"),
];

/// `url` with [`NETWORK_LIMITS`] it does not set itself.
pub fn with_network_limits(url: &str) -> String {
    NETWORK_LIMITS
        .iter()
        .fold(url.trim().to_string(), |url, (name, value)| {
            with_parameter(&url, name, value)
        })
}

/// Adds one parameter unless the URL sets it. The URL is either a URI (`postgres://...`, a parameter joins
/// its query string) or a keyword/value string (`host=a,b port=1,2 dbname=x
/// target_session_attrs=read-write`, a failover formation's usual form, where a parameter is one more
/// `keyword=value` pair): appending `?connect_timeout=3` to the latter made libpq refuse it.
fn with_parameter(url: &str, name: &str, value: &str) -> String {
    if is_uri(url) {
        if uri_has_parameter(url, name) {
            url.to_string()
        } else if url.contains('?') {
            format!("{url}&{name}={value}")
        } else {
            format!("{url}?{name}={value}")
        }
    } else if keyword_value_has(url, name) {
        url.to_string()
    } else if url.is_empty() {
        format!("{name}={value}")
    } else {
        format!("{url} {name}={value}")
    }
}

/// Whether libpq reads `url` as a URI rather than as keyword/value pairs (its rule: the prefix).
fn is_uri(url: &str) -> bool {
    ["postgresql://", "postgres://"].iter().any(|p| {
        url.get(..p.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(p))
    })
}

fn uri_has_parameter(url: &str, name: &str) -> bool {
    url.split_once('?').is_some_and(|(_, query)| {
        query
            .split('&')
            .any(|pair| pair.split('=').next() == Some(name))
    })
}

/// Whether a keyword/value string sets `keyword` (a value in quotes that merely contains the word does
/// not count: only the start of a pair does).
fn keyword_value_has(conninfo: &str, keyword: &str) -> bool {
    let mut in_quotes = false;
    let mut escaped = false;
    let mut at_pair_start = true;
    for (i, c) in conninfo.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '\'' => in_quotes = !in_quotes,
            c if c.is_whitespace() && !in_quotes => at_pair_start = true,
            _ if at_pair_start && !in_quotes => {
                at_pair_start = false;
                let rest = conninfo[i..].strip_prefix(keyword);
                if rest.is_some_and(|r| r.trim_start().starts_with('=')) {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use diesel::{Connection, PgConnection};

    use super::*;

    #[test]
    fn a_parameter_joins_a_uri_or_a_keyword_value_string_in_its_own_syntax() {
        assert_eq!(
            with_parameter("postgres://u@h/db", "connect_timeout", "3"),
            "postgres://u@h/db?connect_timeout=3"
        );
        assert_eq!(
            with_parameter(
                "postgresql://u@h1:5432,h2:5433/db?target_session_attrs=read-write",
                "connect_timeout",
                "3"
            ),
            "postgresql://u@h1:5432,h2:5433/db?target_session_attrs=read-write&connect_timeout=3"
        );
        assert_eq!(
            with_parameter(
                "postgres://u@h/db?connect_timeout=10",
                "connect_timeout",
                "3"
            ),
            "postgres://u@h/db?connect_timeout=10"
        );
        let multi = "host=127.0.0.1,127.0.0.1 port=5433,5434 dbname=x user=postgres \
                     target_session_attrs=read-write";
        assert_eq!(
            with_parameter(multi, "connect_timeout", "3"),
            format!("{multi} connect_timeout=3")
        );
        assert_eq!(
            with_parameter(
                "host=h connect_timeout = 7 dbname=x",
                "connect_timeout",
                "3"
            ),
            "host=h connect_timeout = 7 dbname=x"
        );
        // A password that merely contains the word sets nothing.
        assert_eq!(
            with_parameter(
                "host=h password='a connect_timeout=1' dbname=x",
                "connect_timeout",
                "3"
            ),
            "host=h password='a connect_timeout=1' dbname=x connect_timeout=3"
        );
        assert_eq!(
            with_parameter("", "connect_timeout", "3"),
            "connect_timeout=3"
        );
        // Every limit, each once, and one the URL sets stays its own.
        let all = with_network_limits("host=h dbname=x keepalives_idle=60");
        for (name, _) in NETWORK_LIMITS {
            assert_eq!(all.matches(&format!("{name}=")).count(), 1, "{all}");
        }
        assert!(all.contains("keepalives_idle=60") && !all.contains("keepalives_idle=5"));
    }

    /// libpq itself accepts what comes out: it parses the keyword/value form (a malformed string fails
    /// with "invalid connection option" or "missing =" before any host is tried) and then finds nothing
    /// listening, within the connect timeout.
    #[test]
    fn libpq_accepts_a_multi_host_keyword_value_url_with_the_network_limits() {
        let url = with_network_limits(
            "host=/nonexistent-stafettlogg-a,/nonexistent-stafettlogg-b port=5432,5433 \
             dbname=x user=postgres target_session_attrs=read-write",
        );
        let started = Instant::now();
        let e = PgConnection::establish(&url)
            .err()
            .expect("nothing listens");
        let text = e.to_string();
        assert!(
            !text.contains("invalid") && !text.contains("missing"),
            "libpq refused the string itself: {text}"
        );
        assert!(
            text.contains("nonexistent-stafettlogg-b"),
            "both hosts tried: {text}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
