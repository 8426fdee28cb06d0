//! What needs attention and when, as plain rules: the deadlines past or near, and whose they are.

use chrono::{Days, NaiveDate};
use uuid::Uuid;

use crate::measures::api::Responsible;

/// Consents running out within this many days need attention (a professional's and a leader's).
pub const EXPIRY_HORIZON_DAYS: u64 = 30;
/// A handover pending longer than this shows to the leader even before its answer-by date.
pub const HANDOVER_WAIT_DAYS: i32 = 7;
/// A professional with more open cases than this is asked to narrow down through the case list.
pub const MAX_CASES: i64 = 2000;
/// The most items one list of an attention answer holds (the spec's `maxItems`); `complete` is false when
/// more were due, and the case list or the next answer shows the rest.
pub const MAX_LISTED: usize = 1000;

/// The first [`MAX_LISTED`] items of each kind, in their order; and whether none was left out.
pub fn at_most_listed_per_kind<T, K: PartialEq>(
    items: Vec<T>,
    kind: impl Fn(&T) -> K,
) -> (Vec<T>, bool) {
    let mut counts: Vec<(K, usize)> = Vec::new();
    let mut complete = true;
    let kept = items
        .into_iter()
        .filter(|item| {
            let k = kind(item);
            let n = match counts.iter_mut().find(|(c, _)| *c == k) {
                Some((_, n)) => n,
                None => {
                    counts.push((k, 0));
                    &mut counts.last_mut().expect("just pushed").1
                }
            };
            *n += 1;
            complete &= *n <= MAX_LISTED;
            *n <= MAX_LISTED
        })
        .collect();
    (kept, complete)
}

/// The last day a consent may run to and still need attention `today`.
pub fn expiry_horizon(today: NaiveDate) -> NaiveDate {
    today
        .checked_add_days(Days::new(EXPIRY_HORIZON_DAYS))
        .unwrap_or(today)
}

/// An overdue evaluation is the business of whoever the measure names as responsible (the participant, or
/// anyone working in the service) and of the case's stafettholder, who follows up every measure of the
/// case (one the subject youth is responsible for has no professional of its own).
pub fn evaluation_needs(
    responsible: &Responsible,
    me: Option<Uuid>,
    works_in: impl Fn(&str) -> bool,
    holds: bool,
) -> bool {
    let mine = match responsible {
        Responsible::Participant { participant_id } => Some(*participant_id) == me,
        Responsible::Service { service } => works_in(service),
        Responsible::Subject => false,
    };
    mine || holds
}

/// A level-0 case whose deadline for deciding on it has passed with no decision recorded in this level-0
/// period (rule 12), and that deadline.
pub fn overdue_level0_decision(
    level: i16,
    decision_due: Option<NaiveDate>,
    decided: bool,
    today: NaiveDate,
) -> Option<NaiveDate> {
    decision_due.filter(|d| level == 0 && !decided && *d < today)
}

/// A consent in force that runs out within the horizon needs attention; one not in force (withdrawn,
/// superseded, not yet valid, missing a signature) has nothing left to run out.
pub fn consent_expiring(in_force: bool, valid_until: NaiveDate, horizon: NaiveDate) -> bool {
    in_force && valid_until <= horizon
}

#[cfg(test)]
mod tests {
    #[test]
    fn at_most_listed_per_kind_keeps_the_first_of_each_kind_and_says_what_was_left_out() {
        let items: Vec<(char, usize)> = (0..MAX_LISTED + 2)
            .map(|i| ('a', i))
            .chain([('b', 0)])
            .collect();
        let (kept, complete) = at_most_listed_per_kind(items, |i| i.0);
        assert!(!complete);
        assert_eq!(kept.iter().filter(|i| i.0 == 'a').count(), MAX_LISTED);
        assert_eq!(kept.last(), Some(&('b', 0)));
        assert_eq!(kept[MAX_LISTED - 1], ('a', MAX_LISTED - 1));
        let (all, complete) = at_most_listed_per_kind(vec![('a', 1), ('b', 2)], |i| i.0);
        assert!(complete);
        assert_eq!(all.len(), 2);
    }

    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn an_overdue_evaluation_needs_its_responsible_participant_or_service_and_the_holder() {
        let me = Uuid::now_v7();
        let other = Uuid::now_v7();
        let in_ppt = |s: &str| s == "ppt";
        let mine = Responsible::Participant { participant_id: me };
        let theirs = Responsible::Participant {
            participant_id: other,
        };
        let ppt = Responsible::Service {
            service: "ppt".into(),
        };
        let skole = Responsible::Service {
            service: "skole".into(),
        };
        assert!(evaluation_needs(&mine, Some(me), in_ppt, false));
        assert!(!evaluation_needs(&theirs, Some(me), in_ppt, false));
        assert!(!evaluation_needs(&mine, None, in_ppt, false));
        assert!(evaluation_needs(&ppt, Some(me), in_ppt, false));
        assert!(!evaluation_needs(&skole, Some(me), in_ppt, false));
        assert!(!evaluation_needs(
            &Responsible::Subject,
            Some(me),
            in_ppt,
            false
        ));
        for r in [theirs, skole, Responsible::Subject] {
            assert!(evaluation_needs(&r, Some(me), in_ppt, true), "{r:?}");
        }
    }

    #[test]
    fn a_level_0_decision_is_overdue_from_the_day_after_its_deadline() {
        let due = day("2026-03-10");
        let after = day("2026-03-11");
        assert_eq!(overdue_level0_decision(0, Some(due), false, due), None);
        assert_eq!(
            overdue_level0_decision(0, Some(due), false, after),
            Some(due)
        );
        assert_eq!(overdue_level0_decision(1, Some(due), false, after), None);
        assert_eq!(overdue_level0_decision(0, None, false, after), None);
    }

    #[test]
    fn rule_12_a_level_0_decision_recorded_in_the_period_is_no_longer_overdue() {
        let due = day("2026-03-10");
        assert_eq!(
            overdue_level0_decision(0, Some(due), true, day("2026-03-11")),
            None
        );
    }

    #[test]
    fn a_consent_in_force_needs_attention_from_30_days_before_it_runs_out() {
        let today = day("2026-03-01");
        let horizon = expiry_horizon(today);
        assert_eq!(horizon, day("2026-03-31"));
        assert!(consent_expiring(true, day("2026-03-31"), horizon));
        assert!(consent_expiring(true, today, horizon));
        assert!(!consent_expiring(true, day("2026-04-01"), horizon));
        assert!(!consent_expiring(false, day("2026-03-15"), horizon));
    }
}
