//! The rules of inquiries as plain functions of their facts, tested directly below. Who may see one is
//! decided in `crate::policy::inquiries`.

use chrono::{DateTime, Duration, Utc};

use super::api::{InquiryAbout, InquiryChild, InquiryStatus, InquiryView};
use crate::http::error::AppError;

/// Data minimisation: the text of a closed inquiry about another family's child is kept this long.
pub const ERASE_AFTER_DAYS: i64 = 90;

/// What an inquiry may say about a child, given whom it is about: a child only for `own_child` and
/// `other_child`, and a national id only for one's own child (422 naming the field).
pub fn child_fits_about(about: InquiryAbout, child: Option<&InquiryChild>) -> Result<(), AppError> {
    let Some(child) = child else { return Ok(()) };
    match about {
        InquiryAbout::OwnChild => Ok(()),
        InquiryAbout::OtherChild if child.national_id.is_some() => Err(AppError::invalid(
            "child.national_id",
            "an inquiry about another family's child takes no national id",
        )),
        InquiryAbout::OtherChild => Ok(()),
        InquiryAbout::Myself | InquiryAbout::Pregnancy => Err(AppError::invalid(
            "child",
            "only an inquiry about your own child or another child names a child",
        )),
    }
}

/// The service acts on an inquiry (answers, closes, opens a case) while it is open or answered; a closed
/// one, or one a case was opened from, is done (409).
pub fn service_may_act(status: InquiryStatus) -> Result<(), AppError> {
    match status {
        InquiryStatus::Open | InquiryStatus::Answered => Ok(()),
        InquiryStatus::CaseOpened => Err(AppError::conflict(
            "a case was opened from this inquiry; continue in the case",
        )),
        InquiryStatus::Closed => Err(AppError::conflict("the inquiry is closed")),
    }
}

/// For an inquiry about one's own child, the inquirer joins the case opened from it as a guardian.
pub fn inquirer_joins_as_guardian(about: InquiryAbout) -> bool {
    about == InquiryAbout::OwnChild
}

/// An inquiry no one has answered for longer than the municipality allows needs the service's attention.
pub fn waits_too_long(
    status: InquiryStatus,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
    attention_days: i32,
) -> bool {
    status == InquiryStatus::Open && created_at < attention_cutoff(now, attention_days)
}

/// Open inquiries sent before this instant wait too long.
pub fn attention_cutoff(now: DateTime<Utc>, attention_days: i32) -> DateTime<Utc> {
    now - Duration::days(attention_days.into())
}

/// Inquiries closed before this instant are due for erasure (when about another family's child).
pub fn erasure_cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(ERASE_AFTER_DAYS)
}

/// Whether this inquiry's text must be gone by `now`.
pub fn due_for_erasure(
    about: InquiryAbout,
    status: InquiryStatus,
    closed_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    about == InquiryAbout::OtherChild
        && status == InquiryStatus::Closed
        && closed_at.is_some_and(|c| c < erasure_cutoff(now))
}

/// Whether a case was opened about another family's child is not the inquirer's to know: a case's
/// existence is shown only to those in it (rule 8). To its inquirer such an inquiry reads as closed,
/// without the case. About one's own child, oneself or a pregnancy the inquirer is in the case anyway.
pub fn as_the_inquirer_sees_it(mut view: InquiryView) -> InquiryView {
    if view.about == InquiryAbout::OtherChild && view.status == InquiryStatus::CaseOpened {
        view.status = InquiryStatus::Closed;
        view.case_id = None;
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opened(about: InquiryAbout) -> InquiryView {
        InquiryView {
            id: uuid::Uuid::now_v7(),
            service: "helsestasjon".into(),
            about,
            child: None,
            message: Some("Hei".into()),
            contact: None,
            wants: super::super::api::InquiryWants::Advice,
            status: InquiryStatus::CaseOpened,
            created_at: Utc::now(),
            answers: vec![],
            case_id: Some(uuid::Uuid::now_v7()),
            closed_at: None,
            erased_at: None,
        }
    }

    #[test]
    fn the_inquirer_about_another_familys_child_does_not_learn_that_a_case_was_opened() {
        let seen = as_the_inquirer_sees_it(opened(InquiryAbout::OtherChild));
        assert_eq!(seen.status, InquiryStatus::Closed);
        assert_eq!(seen.case_id, None);
        let own = as_the_inquirer_sees_it(opened(InquiryAbout::OwnChild));
        assert_eq!(own.status, InquiryStatus::CaseOpened);
        assert!(own.case_id.is_some());
    }

    fn child(national_id: Option<&str>) -> InquiryChild {
        InquiryChild {
            given_name: "Emma".into(),
            birth_date: None,
            national_id: national_id.map(str::to_string),
        }
    }

    fn field(e: AppError) -> String {
        e.errors[0].field.clone()
    }

    #[test]
    fn an_inquiry_about_another_familys_child_takes_no_national_id() {
        let with_id = child(Some("14832010082"));
        let e = child_fits_about(InquiryAbout::OtherChild, Some(&with_id)).unwrap_err();
        assert_eq!(field(e), "child.national_id");
        assert!(child_fits_about(InquiryAbout::OtherChild, Some(&child(None))).is_ok());
        assert!(child_fits_about(InquiryAbout::OwnChild, Some(&with_id)).is_ok());
    }

    #[test]
    fn only_an_inquiry_about_a_child_names_a_child() {
        for about in [InquiryAbout::Myself, InquiryAbout::Pregnancy] {
            let e = child_fits_about(about, Some(&child(None))).unwrap_err();
            assert_eq!(field(e), "child");
            assert!(child_fits_about(about, None).is_ok());
        }
    }

    #[test]
    fn the_service_acts_only_on_an_open_or_answered_inquiry() {
        assert!(service_may_act(InquiryStatus::Open).is_ok());
        assert!(service_may_act(InquiryStatus::Answered).is_ok());
        assert!(service_may_act(InquiryStatus::Closed).is_err());
        assert!(service_may_act(InquiryStatus::CaseOpened).is_err());
    }

    #[test]
    fn only_the_inquirer_about_their_own_child_joins_the_case_as_guardian() {
        assert!(inquirer_joins_as_guardian(InquiryAbout::OwnChild));
        assert!(!inquirer_joins_as_guardian(InquiryAbout::OtherChild));
        assert!(!inquirer_joins_as_guardian(InquiryAbout::Myself));
        assert!(!inquirer_joins_as_guardian(InquiryAbout::Pregnancy));
    }

    #[test]
    fn an_unanswered_inquiry_needs_attention_after_the_municipalitys_days() {
        let now = Utc::now();
        let six_days = now - Duration::days(6);
        assert!(waits_too_long(InquiryStatus::Open, six_days, now, 5));
        assert!(!waits_too_long(InquiryStatus::Open, six_days, now, 7));
        assert!(!waits_too_long(InquiryStatus::Answered, six_days, now, 5));
        assert!(!waits_too_long(
            InquiryStatus::Open,
            now - Duration::days(4),
            now,
            5
        ));
    }

    #[test]
    fn the_text_about_another_familys_child_is_erased_90_days_after_closing() {
        let now = Utc::now();
        let closed = |days| Some(now - Duration::days(days));
        let other = InquiryAbout::OtherChild;
        assert!(due_for_erasure(
            other,
            InquiryStatus::Closed,
            closed(91),
            now
        ));
        assert!(!due_for_erasure(
            other,
            InquiryStatus::Closed,
            closed(89),
            now
        ));
        assert!(!due_for_erasure(
            InquiryAbout::OwnChild,
            InquiryStatus::Closed,
            closed(400),
            now
        ));
        assert!(!due_for_erasure(other, InquiryStatus::Answered, None, now));
    }
}
