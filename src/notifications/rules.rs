//! The rules of notifications as plain functions: which settings are valid, what a message says, and when
//! a failed one is tried again.

use std::time::Duration;

use uuid::Uuid;

use super::api::{NotificationEvent, NotificationSettings};
use crate::http::error::{AppError, FieldError};

/// An address the service can hand to an SMTP server: one `@`, a local part and a domain with a dot, no
/// spaces or angle brackets (which would let an address smuggle a second header or recipient).
pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let allowed = |c: char| !c.is_whitespace() && !c.is_control() && !"<>()[],;:\\\"@".contains(c);
    !local.is_empty()
        && local.len() <= 64
        && local.chars().all(allowed)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain.chars().all(|c| allowed(c) && c != '_')
}

/// A mobile number in international form (E.164): `+` and 8 to 15 digits, e.g. `+4791234567`.
pub fn valid_phone(phone: &str) -> bool {
    phone
        .strip_prefix('+')
        .is_some_and(|d| (8..=15).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()))
}

/// Settings a sender can act on: each address well-formed, and each channel that is on has its address.
pub fn check_settings(s: &NotificationSettings) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let mut fail = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        })
    };
    if s.email.as_deref().is_some_and(|e| !valid_email(e)) {
        fail("email", "not an e-mail address");
    }
    if s.phone.as_deref().is_some_and(|p| !valid_phone(p)) {
        fail(
            "phone",
            "not a mobile number in international form (+ and 8-15 digits)",
        );
    }
    if s.channels.email && s.email.is_none() {
        fail("channels.email", "e-mail is on, but there is no `email`");
    }
    if s.channels.sms && s.phone.is_none() {
        fail("channels.sms", "SMS is on, but there is no `phone`");
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::invalid_fields(errors))
    }
}

/// Only employees hear of the municipality's surveys of its employees.
pub fn surveys_are_for_employees(s: &NotificationSettings, employee: bool) -> Result<(), AppError> {
    if s.surveys && !employee {
        Err(AppError::invalid(
            "surveys",
            "surveys are of the municipality's employees: this needs the `professional` or `leader` role",
        ))
    } else {
        Ok(())
    }
}

/// A message as its recipient gets it. It says what happened and links to it; it never names a person,
/// carries a national id or quotes the case (rule 14), because an e-mail or SMS is kept and forwarded by
/// systems outside the municipality's control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub sms: String,
}

/// The one sentence of each event (Norwegian bokmål), and its subject line.
fn wording(event: NotificationEvent) -> (&'static str, &'static str) {
    use NotificationEvent::*;
    match event {
        HandoverProposed => (
            "Stafettholderrollen venter på deg",
            "En overføring av stafettholderrollen venter på svaret ditt",
        ),
        HandoverAnswered => (
            "Svar på overføringen",
            "Overføringen av stafettholderrollen som du foreslo, er besvart",
        ),
        SignatureAwaited => (
            "Et samtykke venter på signaturen din",
            "Et samtykke venter på signaturen din",
        ),
        EvaluationDue => (
            "Et tiltak skal evalueres",
            "Et tiltak skal evalueres innen sju dager",
        ),
        ConsentExpiring => (
            "Et samtykke går snart ut",
            "Et samtykke i en sak du er stafettholder for, går ut innen 30 dager",
        ),
        DecisionOverdue => (
            "Fristen for en beslutning er passert",
            "Fristen for å beslutte videre oppfølging i en sak på nivå 0 er passert",
        ),
        InquiryReceived => (
            "Ny henvendelse",
            "En ny henvendelse venter på tjenesten din",
        ),
        InquiryAnswered => ("Svar på henvendelsen din", "Henvendelsen din har fått svar"),
        HolderReassigned => ("Du er stafettholder", "Du er blitt stafettholder i en sak"),
        MeetingInvited => (
            "Invitasjon til møte",
            "Du er invitert til et møte; svar om du kommer",
        ),
        MeetingChanged => (
            "Et møte er endret",
            "Et møte du er invitert til, har fått nytt tidspunkt, sted eller innhold",
        ),
        MeetingCancelled => ("Et møte er avlyst", "Et møte du er invitert til, er avlyst"),
        SurveyOpened => (
            "En kartlegging er åpnet",
            "Kommunen har åpnet en BTI-kartlegging blant de ansatte; svaret ditt er anonymt",
        ),
    }
}

const FOOTER: &str =
    "Meldingen er sendt automatisk fra Stafettlogg og inneholder ingen opplysninger om \
                      saken. Logg inn for å se mer. Varslene dine endrer du under innstillinger.";

/// Where a message points: under the front end's address (`PUBLIC_BASE_URL`), the thing that waits.
pub fn link(
    base: &str,
    event: NotificationEvent,
    case_id: Option<Uuid>,
    subject_id: Option<Uuid>,
) -> String {
    use NotificationEvent::*;
    let base = base.trim_end_matches('/');
    let path = match (event, case_id, subject_id) {
        (InquiryReceived | InquiryAnswered, _, Some(inquiry)) => format!("/inquiries/{inquiry}"),
        (SurveyOpened, _, Some(survey)) => format!("/surveys/{survey}"),
        (HandoverProposed | HandoverAnswered, Some(case), Some(h)) => {
            format!("/cases/{case}/handovers/{h}")
        }
        (SignatureAwaited | ConsentExpiring, Some(case), Some(c)) => {
            format!("/cases/{case}/consents/{c}")
        }
        (EvaluationDue, Some(case), Some(m)) => format!("/cases/{case}/measures/{m}"),
        (MeetingInvited | MeetingChanged | MeetingCancelled, Some(case), Some(m)) => {
            format!("/cases/{case}/meetings/{m}")
        }
        (_, Some(case), _) => format!("/cases/{case}"),
        (_, None, _) => "/".to_string(),
    };
    format!("{base}{path}")
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The message of `event`, pointing at `link`.
pub fn message(event: NotificationEvent, link: &str) -> Message {
    let (subject, sentence) = wording(event);
    let text = format!("{sentence}:\n{link}\n\n{FOOTER}\n");
    let link_html = escape_html(link);
    let html = format!(
        "<!DOCTYPE html><html lang=\"nb\"><head><meta charset=\"utf-8\"><title>{subject}</title></head>\
         <body><p>{sentence}: <a href=\"{link_html}\">{link_html}</a></p><p><small>{FOOTER}</small></p>\
         </body></html>",
        subject = escape_html(subject),
        sentence = escape_html(sentence),
    );
    Message {
        subject: format!("Stafettlogg: {subject}"),
        text,
        html,
        sms: format!("Stafettlogg: {sentence}: {link}"),
    }
}

/// After the `attempts`-th failed try, how long until the next, or `None`: give up. `schedule` is the
/// waits in order (the first retry soon, later ones further apart).
pub fn next_try(attempts: i32, schedule: &[Duration]) -> Option<Duration> {
    usize::try_from(attempts)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| schedule.get(i).copied())
}

#[cfg(test)]
mod tests {
    use strum::VariantArray;

    use super::*;
    use crate::notifications::api::Channels;

    fn settings(
        email: Option<&str>,
        phone: Option<&str>,
        e: bool,
        s: bool,
    ) -> NotificationSettings {
        NotificationSettings {
            email: email.map(String::from),
            phone: phone.map(String::from),
            channels: Channels { email: e, sms: s },
            surveys: false,
        }
    }

    #[test]
    fn only_employees_hear_of_surveys() {
        let mut s = settings(Some("a@x.no"), None, true, false);
        assert!(surveys_are_for_employees(&s, false).is_ok());
        s.surveys = true;
        assert!(surveys_are_for_employees(&s, true).is_ok());
        let refused = surveys_are_for_employees(&s, false).unwrap_err();
        assert_eq!(refused.errors[0].field, "surveys");
    }

    #[test]
    fn an_email_address_has_one_at_and_a_dotted_domain_and_nothing_that_could_add_a_header() {
        assert!(valid_email("kari.lærer@skole.kommune.no"));
        assert!(valid_email("a+b@x.no"));
        for bad in [
            "no-at.no",
            "@x.no",
            "a@nodot",
            "a@x..no",
            "a@.x.no",
            "two@at@x.no",
            "a b@x.no",
            "a@x.no\r\nBcc: y@z.no",
            "<a@x.no>",
        ] {
            assert!(!valid_email(bad), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_phone_number_is_international_with_8_to_15_digits() {
        assert!(valid_phone("+4791234567"));
        for bad in [
            "91234567",
            "+47 912 34 567",
            "+1234567",
            "+1234567890123456",
            "+47abc45678",
        ] {
            assert!(!valid_phone(bad), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_channel_that_is_on_needs_its_address_and_errors_name_the_field() {
        assert!(check_settings(&settings(Some("a@x.no"), None, true, false)).is_ok());
        assert!(check_settings(&settings(None, None, false, false)).is_ok());
        let e = check_settings(&settings(None, Some("123"), true, true)).unwrap_err();
        let fields: Vec<_> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["phone", "channels.email"]);
        let e = check_settings(&settings(None, None, false, true)).unwrap_err();
        assert_eq!(e.errors[0].field, "channels.sms");
    }

    #[test]
    fn a_message_says_what_happened_and_links_to_it_and_nothing_else() {
        let case = Uuid::now_v7();
        let h = Uuid::now_v7();
        let link = link(
            "https://stafett.kommune.no/",
            NotificationEvent::HandoverProposed,
            Some(case),
            Some(h),
        );
        assert_eq!(
            link,
            format!("https://stafett.kommune.no/cases/{case}/handovers/{h}")
        );
        let m = message(NotificationEvent::HandoverProposed, &link);
        assert!(m
            .text
            .starts_with("En overføring av stafettholderrollen venter på svaret ditt:\nhttps://"));
        assert!(m.html.contains(&format!("<a href=\"{link}\">")));
        assert!(m.sms.ends_with(&link));
        assert!(m.sms.chars().count() < 300, "one or two SMS: {}", m.sms);
    }

    #[test]
    fn every_event_has_its_own_sentence() {
        let sentences: std::collections::HashSet<_> = NotificationEvent::VARIANTS
            .iter()
            .map(|e| wording(*e).1)
            .collect();
        assert_eq!(sentences.len(), NotificationEvent::VARIANTS.len());
    }

    #[test]
    fn a_link_points_at_what_waits_and_an_inquiry_link_names_no_case() {
        let (case, id) = (Uuid::now_v7(), Uuid::now_v7());
        let base = "https://x.no";
        use NotificationEvent::*;
        assert_eq!(
            link(base, InquiryAnswered, None, Some(id)),
            format!("{base}/inquiries/{id}")
        );
        assert_eq!(
            link(base, DecisionOverdue, Some(case), None),
            format!("{base}/cases/{case}")
        );
        assert_eq!(
            link(base, EvaluationDue, Some(case), Some(id)),
            format!("{base}/cases/{case}/measures/{id}")
        );
    }

    #[test]
    fn a_failed_message_is_retried_on_the_schedule_and_then_given_up() {
        let s = [Duration::from_secs(5), Duration::from_secs(30)];
        assert_eq!(next_try(1, &s), Some(Duration::from_secs(5)));
        assert_eq!(next_try(2, &s), Some(Duration::from_secs(30)));
        assert_eq!(next_try(3, &s), None);
        assert_eq!(next_try(0, &s), None);
        assert!(crate::config::DEFAULT_RETRIES[0] <= Duration::from_secs(10));
    }
}
