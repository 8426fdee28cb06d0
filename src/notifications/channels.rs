//! The channels a message leaves by: e-mail over SMTP (lettre) and SMS through the municipality's HTTP
//! gateway. Both are blocking; the sender calls them off the async executor.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::SmtpTransport;
use lettre::Transport;
use secrecy::ExposeSecret;

use super::rules::Message;
use crate::config::Delivery;

/// Why a send failed: `Permanent` will not get better by trying again (the server refused the address),
/// `Transient` may (the server is down, busy or timed out).
#[derive(Debug)]
pub enum SendError {
    Permanent(String),
    Transient(String),
}

/// How long one SMTP conversation or gateway call may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The configured channels; a channel that is not configured refuses every message with a reason the
/// recipient can read in their list of messages.
pub struct Channels {
    mailer: Option<(SmtpTransport, Mailbox)>,
    sms: Option<(ureq::Agent, String)>,
}

pub const NO_SMTP: &str = "e-mail is not configured on this server (SMTP_URL is not set)";
pub const NO_SMS: &str = "SMS is not configured on this server (SMS_URL is not set)";

impl Channels {
    pub fn new(config: &Delivery) -> Result<Self, String> {
        let mailer = match &config.smtp_url {
            Some(url) => {
                let transport = SmtpTransport::from_url(url.expose_secret())
                    .map_err(|e| format!("SMTP_URL: {e}"))?
                    .timeout(Some(TIMEOUT))
                    .build();
                let from: Mailbox = config
                    .from
                    .parse()
                    .map_err(|e| format!("NOTIFY_FROM: {e}"))?;
                Some((transport, from))
            }
            None => None,
        };
        let sms = config.sms_url.as_ref().map(|url| {
            let agent = ureq::Agent::config_builder()
                .timeout_global(Some(TIMEOUT))
                .http_status_as_error(false)
                .max_redirects(0)
                .build()
                .new_agent();
            (agent, url.expose_secret().to_string())
        });
        Ok(Channels { mailer, sms })
    }

    /// One e-mail, plain text and HTML, to `to`.
    pub fn email(&self, to: &str, m: &Message) -> Result<(), SendError> {
        let Some((transport, from)) = &self.mailer else {
            return Err(SendError::Permanent(NO_SMTP.into()));
        };
        let to: Mailbox = to
            .parse()
            .map_err(|_| SendError::Permanent("the saved e-mail address is not usable".into()))?;
        let email = lettre::Message::builder()
            .from(from.clone())
            .to(to)
            .subject(&m.subject)
            .multipart(MultiPart::alternative_plain_html(
                m.text.clone(),
                m.html.clone(),
            ))
            .map_err(|e| SendError::Permanent(format!("the message could not be built: {e}")))?;
        transport.send(&email).map(|_| ()).map_err(|e| {
            let what = format!("the SMTP server: {e}");
            if e.is_permanent() {
                SendError::Permanent(what)
            } else {
                SendError::Transient(what)
            }
        })
    }

    /// One SMS through the gateway: a POST of `{"to", "text"}`; any 2xx is sent, a 4xx refused for good.
    pub fn sms(&self, to: &str, m: &Message) -> Result<(), SendError> {
        let Some((agent, url)) = &self.sms else {
            return Err(SendError::Permanent(NO_SMS.into()));
        };
        let body = serde_json::json!({ "to": to, "text": m.sms }).to_string();
        match agent
            .post(url)
            .content_type("application/json")
            .send(body.as_bytes())
        {
            Ok(res) => match res.status().as_u16() {
                200..=299 => Ok(()),
                // Too many at once, or too slow: the gateway may well take it later.
                s @ (408 | 429) => Err(SendError::Transient(format!(
                    "the SMS gateway answered HTTP {s}"
                ))),
                s @ 400..=499 => Err(SendError::Permanent(format!(
                    "the SMS gateway refused it (HTTP {s})"
                ))),
                s => Err(SendError::Transient(format!(
                    "the SMS gateway answered HTTP {s}"
                ))),
            },
            Err(e) => Err(SendError::Transient(format!("the SMS gateway: {e}"))),
        }
    }
}
