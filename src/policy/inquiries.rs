//! THE place that decides who may see and work an inquiry. Handlers ask `visible` or
//! `for_service_action` (one inquiry, on `decide`), `inboxes` (which inboxes a caller opens) or
//! `require_national_login` (the family's side); nothing else decides.
//!
//! Who sees an inquiry:
//! - the inquirer, recognised by the national login it was sent with (`pid`), reads it and its answers;
//! - the professionals and leaders of the receiving service (their token's `services` names it) read and
//!   work it;
//! - nobody else: another service, an administrator or an integration gets 404, as for a case, since
//!   that a family asked for help is itself sensitive.
//!
//! The service's side ([`works_inbox`]) is its professionals and its leaders.

use diesel::PgConnection;
use uuid::Uuid;

use crate::auth::{Caller, Role};
use crate::http::error::AppError;
use crate::inquiries::store::InquiryRow;

/// On which basis a caller sees an inquiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InquiryBasis {
    /// The guardian or youth who sent it.
    Inquirer,
    /// A professional of the service it was sent to.
    ReceivingService,
}

/// What the rule needs to know about one inquiry.
#[derive(Debug, Clone, Copy)]
pub struct InquiryFacts<'a> {
    pub municipality: &'a str,
    pub service: &'a str,
    pub inquirer_pid_hash: &'a [u8],
}

/// The service's side: who works the inbox of `service` (reads, answers, closes, opens a case): its
/// professionals and its leaders.
pub fn works_inbox(caller: &Caller, service: &str) -> bool {
    (caller.has_role(Role::Professional) || caller.has_role(Role::Leader))
        && caller.works_in(service)
}

/// What the rule needs of a stored inquiry.
pub fn facts_of(row: &InquiryRow) -> InquiryFacts<'_> {
    InquiryFacts {
        municipality: &row.municipality,
        service: &row.service,
        inquirer_pid_hash: &row.inquirer_pid_hash,
    }
}

/// The services whose inbox the caller may open (none for families, administrators and integrations).
pub fn inbox_services(caller: &Caller) -> Vec<String> {
    caller
        .services
        .iter()
        .filter(|s| works_inbox(caller, s))
        .cloned()
        .collect()
}

/// The family's side: a guardian or youth signed in through a national login (a `pid` the service
/// could read). Only they may send an inquiry, and only they can be recognised as its sender.
pub fn has_national_login(caller: &Caller) -> bool {
    (caller.has_role(Role::Guardian) || caller.has_role(Role::Youth)) && caller.pid_hash.is_some()
}

/// Who sees this inquiry, and on which basis; `None` answers 404.
pub fn decide(caller: &Caller, inquiry: &InquiryFacts) -> Option<InquiryBasis> {
    if caller.tenant != inquiry.municipality {
        return None;
    }
    if works_inbox(caller, inquiry.service) {
        return Some(InquiryBasis::ReceivingService);
    }
    let is_sender =
        has_national_login(caller) && caller.pid_hash.as_deref() == Some(inquiry.inquirer_pid_hash);
    is_sender.then_some(InquiryBasis::Inquirer)
}

/// The refusal for anyone but a guardian or youth with a national login, where only they may act.
pub fn no_national_login() -> AppError {
    AppError::forbidden(
        "rule: an inquiry is sent and followed by a guardian or youth signed in through a national \
         login (a token with the guardian or youth role and a `pid`)",
    )
}

/// Sending and following one's own inquiries is for a guardian or youth with a national login.
pub fn require_national_login(caller: &Caller) -> Result<(), AppError> {
    if has_national_login(caller) {
        Ok(())
    } else {
        Err(no_national_login())
    }
}

/// The inboxes a caller opens: all those they may (`inbox_services`), or the one they name, if theirs.
pub fn inboxes(caller: &Caller, one: Option<&str>) -> Result<Vec<String>, AppError> {
    let services = inbox_services(caller);
    if services.is_empty() {
        return Err(AppError::forbidden(
            "the inbox of inquiries is for the professionals of the service they were sent to",
        ));
    }
    match one {
        Some(one) if !services.iter().any(|s| s == one) => Err(AppError::forbidden(format!(
            "you do not work in service `{one}`, so its inbox is not yours"
        ))),
        Some(one) => Ok(vec![one.to_string()]),
        None => Ok(services),
    }
}

/// The inquiry, if the caller may see it (404 otherwise), locked when `lock` (the caller changes it).
pub fn visible(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    lock: bool,
) -> Result<(InquiryRow, InquiryBasis), AppError> {
    let row = crate::inquiries::store::find(conn, &caller.tenant, id, lock)?
        .ok_or_else(|| AppError::not_found("inquiry"))?;
    let basis = decide(caller, &facts_of(&row)).ok_or_else(|| AppError::not_found("inquiry"))?;
    Ok((row, basis))
}

/// The inquiry locked for a change by its service: 404 when the caller may not see it, 403 for the
/// inquirer, 409 when it is closed or became a case.
pub fn for_service_action(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<InquiryRow, AppError> {
    let (row, basis) = visible(conn, caller, id, true)?;
    if basis != InquiryBasis::ReceivingService {
        return Err(AppError::forbidden(
            "only the professionals of the service the inquiry was sent to may do this",
        ));
    }
    crate::inquiries::rules::service_may_act(row.status)?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(roles: &[Role], services: &[&str], pid_hash: Option<&[u8]>) -> Caller {
        let mut caller = Caller::for_tests("3805", "someone", roles, services);
        caller.pid = pid_hash.map(|_| "x".into());
        caller.pid_hash = pid_hash.map(<[u8]>::to_vec);
        caller
    }

    const FACTS: InquiryFacts = InquiryFacts {
        municipality: "3805",
        service: "helsestasjon-sentrum",
        inquirer_pid_hash: b"mother",
    };

    #[test]
    fn the_receiving_services_professionals_see_the_inquiry() {
        let nurse = caller(&[Role::Professional], &["helsestasjon-sentrum"], None);
        assert_eq!(decide(&nurse, &FACTS), Some(InquiryBasis::ReceivingService));
    }

    #[test]
    fn another_service_sees_nothing_of_an_inquiry() {
        let teacher = caller(&[Role::Professional], &["skole-bakke"], None);
        assert_eq!(decide(&teacher, &FACTS), None);
        let integration = caller(&[Role::Integration], &["helsestasjon-sentrum"], None);
        assert_eq!(decide(&integration, &FACTS), None);
        let admin = caller(&[Role::Admin], &[], None);
        assert_eq!(decide(&admin, &FACTS), None);
    }

    #[test]
    fn the_inquirer_sees_their_own_inquiry_by_national_login_and_no_one_elses() {
        let mother = caller(&[Role::Guardian], &[], Some(b"mother"));
        assert_eq!(decide(&mother, &FACTS), Some(InquiryBasis::Inquirer));
        let neighbour = caller(&[Role::Guardian], &[], Some(b"neighbour"));
        assert_eq!(decide(&neighbour, &FACTS), None);
    }

    #[test]
    fn another_municipality_sees_nothing_even_in_a_service_of_the_same_code() {
        let mut nurse = caller(&[Role::Professional], &["helsestasjon-sentrum"], None);
        nurse.tenant = "5401".into();
        assert_eq!(decide(&nurse, &FACTS), None);
    }

    #[test]
    fn only_a_guardian_or_youth_with_a_national_login_may_send_an_inquiry() {
        assert!(has_national_login(&caller(&[Role::Youth], &[], Some(b"y"))));
        assert!(!has_national_login(&caller(&[Role::Guardian], &[], None)));
        assert!(!has_national_login(&caller(
            &[Role::Professional],
            &[],
            Some(b"p")
        )));
    }

    #[test]
    fn a_professional_works_the_inboxes_of_their_own_services_only() {
        let nurse = caller(
            &[Role::Professional],
            &["helsestasjon-sentrum", "ppt"],
            None,
        );
        assert_eq!(inbox_services(&nurse), vec!["helsestasjon-sentrum", "ppt"]);
        let integration = caller(&[Role::Integration], &["ppt"], None);
        assert!(inbox_services(&integration).is_empty());
    }

    #[test]
    fn a_professional_opens_the_inboxes_of_their_own_services_only() {
        let nurse = caller(
            &[Role::Professional],
            &["helsestasjon-sentrum", "ppt"],
            None,
        );
        assert_eq!(inboxes(&nurse, None).unwrap().len(), 2);
        assert_eq!(inboxes(&nurse, Some("ppt")).unwrap(), vec!["ppt"]);
        assert!(inboxes(&nurse, Some("skole-bakke")).is_err());
        let mother = caller(&[Role::Guardian], &[], Some(b"mother"));
        assert!(inboxes(&mother, None).is_err());
        assert!(require_national_login(&mother).is_ok());
        assert!(require_national_login(&nurse).is_err());
    }
}
