//! Rule 7 as plain functions: one responsible party that is in the case, a deadline not before the start,
//! the state machine, and what an evaluation's outcome does to its measure.

use chrono::NaiveDate;

use super::api::{MeasureState, Outcome, Responsible};
use crate::cases::facts::CaseFacts;
use crate::http::error::AppError;

/// The responsible party must be in the case: the holder's or a covered service, an active professional
/// or guardian participant, or the subject.
pub fn check_responsible(facts: &CaseFacts, r: &Responsible) -> Result<(), AppError> {
    match r {
        Responsible::Service { service } if facts.service_in_case(service) => Ok(()),
        Responsible::Service { service } => Err(AppError::invalid(
            "responsible.service",
            format!("`{service}` is neither the stafettholder's service nor covered by the effective consent"),
        )),
        Responsible::Participant { participant_id } => match facts.participant(*participant_id) {
            Some(p) if p.active && (p.kind == crate::participants::api::ParticipantKind::Professional || p.kind == crate::participants::api::ParticipantKind::Guardian) => Ok(()),
            Some(p) if p.active && p.kind == crate::participants::api::ParticipantKind::Youth => {
                Err(AppError::invalid("responsible.participant_id", "for the child or youth use {\"kind\": \"subject\"}"))
            }
            _ => Err(AppError::invalid(
                "responsible.participant_id",
                "is not an active professional or guardian of this case",
            )),
        },
        Responsible::Subject => Ok(()),
    }
}

pub fn check_dates(start: NaiveDate, evaluate_by: NaiveDate) -> Result<(), AppError> {
    if evaluate_by < start {
        Err(AppError::invalid("evaluate_by", "is before start_date"))
    } else {
        Ok(())
    }
}

/// planned -> active -> completed | stopped; a planned measure may also be stopped before it starts.
pub fn check_transition(from: MeasureState, to: MeasureState) -> Result<(), AppError> {
    use MeasureState::*;
    match (from, to) {
        (a, b) if a == b => Ok(()),
        (Planned, Active) | (Planned, Stopped) | (Active, Completed) | (Active, Stopped) => Ok(()),
        _ => Err(AppError::conflict(format!(
            "a measure moves planned -> active -> completed | stopped; not {} -> {}",
            <&str>::from(from),
            <&str>::from(to)
        ))),
    }
}

pub fn is_finished(state: MeasureState) -> bool {
    matches!(state, MeasureState::Completed | MeasureState::Stopped)
}

/// What an evaluation does to its measure: continue or adjust keep it running with the next deadline
/// (required, not before the evaluation nor before the measure started), stop and completed end it.
pub fn apply_outcome(
    outcome: Outcome,
    next_evaluate_by: Option<NaiveDate>,
    evaluated_on: NaiveDate,
    start_date: NaiveDate,
) -> Result<(MeasureState, Option<NaiveDate>), AppError> {
    match (outcome, next_evaluate_by) {
        (Outcome::Continue | Outcome::Adjust, None) => Err(AppError::invalid(
            "next_evaluate_by",
            "is required when the outcome is continue or adjust",
        )),
        (Outcome::Continue | Outcome::Adjust, Some(next)) if next < evaluated_on => Err(
            AppError::invalid("next_evaluate_by", "is before evaluated_on"),
        ),
        (Outcome::Continue | Outcome::Adjust, Some(next)) if next < start_date => Err(
            AppError::invalid("next_evaluate_by", "is before the measure's start_date"),
        ),
        (Outcome::Continue | Outcome::Adjust, Some(next)) => Ok((MeasureState::Active, Some(next))),
        (Outcome::Stop | Outcome::Completed, Some(_)) => Err(AppError::invalid(
            "next_evaluate_by",
            "only a measure that continues gets a next evaluation",
        )),
        (Outcome::Stop, None) => Ok((MeasureState::Stopped, None)),
        (Outcome::Completed, None) => Ok((MeasureState::Completed, None)),
    }
}

/// One evaluation of a measure as a history brings it: when it was made, when it was recorded, and the
/// next deadline it set.
pub type EvaluationLink = (NaiveDate, chrono::DateTime<chrono::Utc>, Option<NaiveDate>);

/// The deadline each evaluation of a measure answered, for a history that does not say (an import): the
/// one the previous evaluation set; for the first, the measure's `evaluate_by` only while nothing has
/// moved it since (it is the only evaluation and set no next deadline). `None`: unknown, so the
/// statistics do not count it as due. In the order given; the chain is walked by date, then recording.
pub fn answered_deadlines(
    evaluate_by: NaiveDate,
    chain: &[EvaluationLink],
) -> Vec<Option<NaiveDate>> {
    let mut order: Vec<usize> = (0..chain.len()).collect();
    order.sort_by_key(|&i| (chain[i].0, chain[i].1));
    let mut out = vec![None; chain.len()];
    for (n, &i) in order.iter().enumerate() {
        out[i] = match n {
            0 if chain.len() == 1 && chain[i].2.is_none() => Some(evaluate_by),
            0 => None,
            _ => chain[order[n - 1]].2,
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_evaluation_answers_the_deadline_the_previous_one_set() {
        let d = |m: u32, day: u32| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let at = |m: u32, day: u32| d(m, day).and_hms_opt(12, 0, 0).unwrap().and_utc();
        // Given out of order: the chain is walked by date.
        let chain = [
            (d(4, 2), at(4, 2), None),
            (d(2, 1), at(2, 1), Some(d(4, 1))),
        ];
        assert_eq!(answered_deadlines(d(4, 1), &chain), [Some(d(4, 1)), None]);
        // The only evaluation, which set no next deadline, answered the measure's own.
        assert_eq!(
            answered_deadlines(d(3, 1), &[(d(2, 27), at(2, 27), None)]),
            [Some(d(3, 1))]
        );
        // ... but one that moved it leaves its own deadline unknown.
        assert_eq!(
            answered_deadlines(d(5, 1), &[(d(2, 27), at(2, 27), Some(d(5, 1)))]),
            [None]
        );
        assert!(answered_deadlines(d(5, 1), &[]).is_empty());
    }

    #[test]
    fn rule_7_state_machine() {
        use MeasureState::*;
        assert!(check_transition(Planned, Active).is_ok());
        assert!(check_transition(Active, Completed).is_ok());
        assert!(check_transition(Active, Stopped).is_ok());
        assert!(check_transition(Completed, Active).is_err());
        assert!(check_transition(Stopped, Active).is_err());
        assert!(check_transition(Planned, Completed).is_err());
    }

    #[test]
    fn rule_7_continuing_needs_a_next_deadline() {
        let d: NaiveDate = "2026-05-01".parse().unwrap();
        let next: NaiveDate = "2026-08-01".parse().unwrap();
        assert!(apply_outcome(Outcome::Continue, None, d, d).is_err());
        assert_eq!(
            apply_outcome(Outcome::Adjust, Some(next), d, d).unwrap(),
            (MeasureState::Active, Some(next))
        );
        assert_eq!(
            apply_outcome(Outcome::Completed, None, d, d).unwrap(),
            (MeasureState::Completed, None)
        );
        assert!(apply_outcome(Outcome::Stop, Some(next), d, d).is_err());
    }

    #[test]
    fn rule_7_deadline_not_before_start() {
        let a: NaiveDate = "2026-05-01".parse().unwrap();
        assert!(check_dates(a, a).is_ok());
        assert!(check_dates(a, a.pred_opt().unwrap()).is_err());
    }

    #[test]
    fn rule_7_the_next_evaluation_is_not_before_the_measure_started() {
        let evaluated = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
        let started = NaiveDate::from_ymd_opt(2026, 1, 20).unwrap();
        let next = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
        let e = apply_outcome(Outcome::Continue, Some(next), evaluated, started).unwrap_err();
        assert_eq!(e.errors[0].field, "next_evaluate_by");
        assert!(apply_outcome(Outcome::Continue, Some(started), evaluated, started).is_ok());
    }
}
