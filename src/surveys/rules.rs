//! The rules of a survey as plain functions: its dates and state, its questions, what an answer must be,
//! how answers become counts, and how the counts are published without showing a small group (rule 15).

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};

use super::api::{
    AnswerValue, GroupResult, Question, QuestionKind, QuestionResult, RoundResults, SurveyState,
    ValueCount,
};
use crate::http::error::{AppError, FieldError};
use crate::services::api::ServiceKind;
use crate::statistics::rules::suppress_column;

/// Groups of fewer answers are never shown: the statistics' threshold.
pub const SUPPRESSED_BELOW: i64 = crate::statistics::rules::SUPPRESSED_BELOW;
/// The longest a survey stays open.
pub const LONGEST_OPEN_DAYS: u64 = 366;
/// The key of the row of everyone who answered.
pub const TOTAL: &str = "total";

/// Where a survey is on `today`: planned before `opens_on`, open through `closes_on`, closed after, or
/// from the day the administrator closed it early.
pub fn state(
    opens_on: NaiveDate,
    closes_on: NaiveDate,
    closed_early_on: Option<NaiveDate>,
    today: NaiveDate,
) -> SurveyState {
    if closed_early_on.is_some() {
        SurveyState::Closed
    } else if today < opens_on {
        SurveyState::Planned
    } else if today <= closes_on {
        SurveyState::Open
    } else {
        SurveyState::Closed
    }
}

/// A survey opens today or later (one that opened in the past would have missed its answers), and
/// closes on or after its opening day, at most [`LONGEST_OPEN_DAYS`] after it.
pub fn dates_are_ahead_and_in_order(
    opens_on: NaiveDate,
    closes_on: NaiveDate,
    today: NaiveDate,
) -> Result<(), AppError> {
    if opens_on < today {
        return Err(AppError::invalid(
            "opens_on",
            format!("is before today ({today}): a survey opens today or later"),
        ));
    }
    if closes_on < opens_on {
        return Err(AppError::invalid(
            "closes_on",
            format!("is before `opens_on` ({opens_on})"),
        ));
    }
    match opens_on.checked_add_days(Days::new(LONGEST_OPEN_DAYS)) {
        Some(last) if closes_on <= last => Ok(()),
        _ => Err(AppError::invalid(
            "closes_on",
            format!("is more than {LONGEST_OPEN_DAYS} days after `opens_on`"),
        )),
    }
}

/// Every key names one question only.
pub fn keys_are_unique(questions: &[Question]) -> Result<(), AppError> {
    let mut seen = std::collections::HashSet::new();
    let errors: Vec<FieldError> = questions
        .iter()
        .enumerate()
        .filter(|(_, q)| !seen.insert(q.key.as_str()))
        .map(|(i, q)| FieldError {
            field: format!("questions[{i}].key"),
            message: format!("`{}` is the key of an earlier question", q.key),
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::invalid_fields(errors))
    }
}

/// A survey is edited (or deleted) only until it opens; after that its questions are the layout of its
/// answers.
pub fn editable_until_it_opens(state: SurveyState) -> Result<(), AppError> {
    match state {
        SurveyState::Planned => Ok(()),
        _ => Err(AppError::conflict(
            "the survey has opened: it no longer changes",
        )),
    }
}

/// Answers are taken from the opening day through the closing day.
pub fn answered_only_while_open(state: SurveyState) -> Result<(), AppError> {
    match state {
        SurveyState::Open => Ok(()),
        SurveyState::Planned => Err(AppError::conflict("the survey has not opened yet")),
        SurveyState::Closed => Err(AppError::conflict("the survey has closed")),
    }
}

/// Only an open survey is closed early.
pub fn closed_early_only_while_open(state: SurveyState) -> Result<(), AppError> {
    match state {
        SurveyState::Open => Ok(()),
        SurveyState::Planned => Err(AppError::conflict(
            "the survey has not opened: change its dates or delete it",
        )),
        SurveyState::Closed => Err(AppError::conflict("the survey has closed already")),
    }
}

/// Results are published once the survey has closed: counts that moved while people answer would tell,
/// from one reading to the next, what the one who just answered said.
pub fn results_only_after_closing(state: SurveyState, field: &str) -> Result<(), AppError> {
    match state {
        SurveyState::Closed => Ok(()),
        _ => Err(AppError::conflict(format!(
            "{field}: the results of a survey are published once it has closed"
        ))),
    }
}

/// The values of a kind, in the order of its counts.
pub fn values(kind: QuestionKind) -> &'static [&'static str] {
    match kind {
        QuestionKind::Scale1To5 => &["1", "2", "3", "4", "5"],
        QuestionKind::YesNo => &["yes", "no"],
    }
}

/// Which count an answer adds to, or why it does not fit its question.
fn slot(kind: QuestionKind, value: AnswerValue) -> Result<usize, &'static str> {
    match (kind, value) {
        (QuestionKind::Scale1To5, AnswerValue::Scale(n)) if (1..=5).contains(&n) => {
            Ok((n - 1) as usize)
        }
        (QuestionKind::Scale1To5, _) => Err("is a number from 1 to 5"),
        (QuestionKind::YesNo, AnswerValue::YesNo(yes)) => Ok(if yes { 0 } else { 1 }),
        (QuestionKind::YesNo, _) => Err("is true (yes) or false (no)"),
    }
}

/// Every question answered, every answer fitting its question, no key the survey does not have; each
/// fault a 422 naming `answers.<key>`. Every question is required: skipped questions would make the
/// groups of each question differ, and a pattern of skips could single a person out.
pub fn every_question_answered_as_asked(
    questions: &[Question],
    answers: &BTreeMap<String, AnswerValue>,
) -> Result<Vec<(String, usize)>, AppError> {
    let mut errors = Vec::new();
    let mut fail = |key: &str, message: &str| {
        errors.push(FieldError {
            field: format!("answers.{key}"),
            message: message.into(),
        })
    };
    let mut chosen = Vec::with_capacity(questions.len());
    for q in questions {
        match answers.get(&q.key).map(|v| slot(q.kind, *v)) {
            Some(Ok(i)) => chosen.push((q.key.clone(), i)),
            Some(Err(message)) => fail(&q.key, message),
            None => fail(&q.key, "is required: every question is answered"),
        }
    }
    for key in answers.keys() {
        if !questions.iter().any(|q| &q.key == key) {
            fail(key, "is not a question of this survey");
        }
    }
    if errors.is_empty() {
        Ok(chosen)
    } else {
        Err(AppError::invalid_fields(errors))
    }
}

/// Per question key, how many answered each value (in the order of [`values`]).
pub type Counts = BTreeMap<String, Vec<i64>>;

/// The counts of one group.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tally {
    pub answers: i64,
    pub counts: Counts,
}

/// A group's counts before anyone answered.
pub fn empty_counts(questions: &[Question]) -> Counts {
    questions
        .iter()
        .map(|q| (q.key.clone(), vec![0; values(q.kind).len()]))
        .collect()
}

/// One more answer in a group.
pub fn add(tally: &mut Tally, chosen: &[(String, usize)]) {
    tally.answers += 1;
    for (key, i) in chosen {
        if let Some(c) = tally.counts.get_mut(key).and_then(|v| v.get_mut(*i)) {
            *c += 1;
        }
    }
}

/// Counts read from the database fit the questions (every key, one count per value, none negative, and
/// each question's counts adding up to the answers): anything else is an error, never a silent zero.
pub fn fits(questions: &[Question], tally: &Tally) -> bool {
    tally.counts.len() == questions.len()
        && questions.iter().all(|q| {
            tally.counts.get(&q.key).is_some_and(|c| {
                c.len() == values(q.kind).len()
                    && c.iter().all(|n| *n >= 0)
                    && c.iter().sum::<i64>() == tally.answers
            })
        })
}

/// The groups together.
pub fn sum<'a>(questions: &[Question], tallies: impl IntoIterator<Item = &'a Tally>) -> Tally {
    let mut total = Tally {
        answers: 0,
        counts: empty_counts(questions),
    };
    for t in tallies {
        total.answers += t.answers;
        for (key, counts) in &t.counts {
            if let Some(sum) = total.counts.get_mut(key) {
                sum.iter_mut().zip(counts).for_each(|(s, n)| *s += n);
            }
        }
    }
    total
}

/// A question's figures in a group that is shown: its mean (rounded to two decimals) and distribution.
fn question_result(q: &Question, counts: Option<&Vec<i64>>) -> QuestionResult {
    let counts: Vec<i64> = counts
        .cloned()
        .unwrap_or_else(|| vec![0; values(q.kind).len()]);
    let n: i64 = counts.iter().sum();
    let weighted: i64 = match q.kind {
        QuestionKind::Scale1To5 => counts.iter().zip(1..).map(|(c, v)| c * v).sum(),
        QuestionKind::YesNo => counts[0],
    };
    QuestionResult {
        key: q.key.clone(),
        mean: (n > 0).then(|| (weighted as f64 / n as f64 * 100.0).round() / 100.0),
        distribution: Some(
            values(q.kind)
                .iter()
                .zip(counts)
                .map(|(v, count)| ValueCount {
                    value: v.to_string(),
                    count,
                })
                .collect(),
        ),
    }
}

/// A group as published: its figures, or `null` everywhere when `answers` is suppressed.
fn group_result(questions: &[Question], key: &str, answers: Option<i64>, t: &Tally) -> GroupResult {
    GroupResult {
        key: key.to_string(),
        answers,
        questions: questions
            .iter()
            .map(|q| match answers {
                Some(_) => question_result(q, t.counts.get(&q.key)),
                None => QuestionResult {
                    key: q.key.clone(),
                    mean: None,
                    distribution: None,
                },
            })
            .collect(),
    }
}

/// The groups and their total as published. A group of 1-4 answers is suppressed whole; when exactly
/// one is and the total is shown, the total minus the others would give its figures away, so the
/// smallest other group goes too (the statistics' complementary suppression, [`suppress_column`]).
/// The groups add up to the total: every answer is in exactly one of them.
fn publish(
    questions: &[Question],
    groups: &[(String, Tally)],
    total: &Tally,
) -> (Vec<GroupResult>, GroupResult) {
    let cells: Vec<i64> = groups.iter().map(|(_, t)| t.answers).collect();
    let (shown, shown_total) = suppress_column(&cells, Some(total.answers));
    let published = groups
        .iter()
        .zip(shown)
        .map(|((key, t), answers)| group_result(questions, key, answers, t))
        .collect();
    (
        published,
        group_result(questions, TOTAL, shown_total, total),
    )
}

/// One row of counts as stored: a service kind's (`service` `None`) or one service's.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupTally {
    pub kind: ServiceKind,
    pub service: Option<String>,
    pub tally: Tally,
}

/// The results by service kind: the kinds' rows, their total, published.
pub fn publish_by_kind(
    questions: &[Question],
    rows: &[GroupTally],
) -> (Vec<GroupResult>, GroupResult) {
    let kinds: Vec<(String, Tally)> = rows
        .iter()
        .filter(|r| r.service.is_none())
        .map(|r| (r.kind.as_str().to_string(), r.tally.clone()))
        .collect();
    let total = sum(questions, kinds.iter().map(|(_, t)| t));
    publish(questions, &kinds, &total)
}

/// The results by service, suppressed so that together with the results by kind (which anyone who sees
/// these may also ask for) they give no small group away: a kind that is hidden there hides all its
/// services here, and within a kind that is shown its services are suppressed against the kind's count
/// as against a total (a hidden service takes a second one of the same kind with it). The total is the
/// one of the results by kind.
pub fn publish_by_service(
    questions: &[Question],
    rows: &[GroupTally],
) -> (Vec<GroupResult>, GroupResult) {
    let (kinds_shown, total) = publish_by_kind(questions, rows);
    let mut groups = Vec::new();
    for kind in rows.iter().filter(|r| r.service.is_none()) {
        let services: Vec<&GroupTally> = rows
            .iter()
            .filter(|r| r.kind == kind.kind && r.service.is_some())
            .collect();
        let kind_is_shown = kinds_shown
            .iter()
            .any(|g| g.key == kind.kind.as_str() && g.answers.is_some());
        let cells: Vec<i64> = services.iter().map(|s| s.tally.answers).collect();
        let shown = if kind_is_shown {
            suppress_column(&cells, Some(kind.tally.answers)).0
        } else {
            vec![None; cells.len()]
        };
        for (s, answers) in services.iter().zip(shown) {
            let key = s.service.as_deref().unwrap_or_default();
            groups.push(group_result(questions, key, answers, &s.tally));
        }
    }
    groups.sort_by(|a, b| a.key.cmp(&b.key));
    (groups, total)
}

/// The questions two rounds share (the same key and kind), in this round's order; none shared is a 422
/// naming `compare`.
pub fn shared_questions(this: &[Question], other: &[Question]) -> Result<Vec<Question>, AppError> {
    let shared: Vec<Question> = this
        .iter()
        .filter(|q| other.iter().any(|o| o.key == q.key && o.kind == q.kind))
        .cloned()
        .collect();
    if shared.is_empty() {
        Err(AppError::invalid(
            "compare",
            "shares no question (the same key and kind) with this survey",
        ))
    } else {
        Ok(shared)
    }
}

/// The results as CSV: one row per round, group and question, a suppressed figure an empty cell.
pub fn csv(questions: &[Question], rounds: &[&RoundResults]) -> String {
    let mut out = String::from("survey,group,answers,question,mean,1,2,3,4,5,yes,no\r\n");
    let columns = ["1", "2", "3", "4", "5", "yes", "no"];
    for round in rounds {
        for g in round.groups.iter().chain(std::iter::once(&round.total)) {
            for r in &g.questions {
                if !questions.iter().any(|q| q.key == r.key) {
                    continue;
                }
                let count = |value: &str| {
                    r.distribution
                        .as_ref()
                        .and_then(|d| d.iter().find(|v| v.value == value))
                        .map(|v| v.count.to_string())
                        .unwrap_or_default()
                };
                let cells: Vec<String> = columns.iter().map(|c| count(c)).collect();
                out.push_str(&format!(
                    "{},{},{},{},{},{}\r\n",
                    round.survey,
                    g.key,
                    g.answers.map(|n| n.to_string()).unwrap_or_default(),
                    r.key,
                    r.mean.map(|m| m.to_string()).unwrap_or_default(),
                    cells.join(",")
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surveys::api::QuestionText;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 3, d).unwrap()
    }

    fn question(key: &str, kind: QuestionKind) -> Question {
        Question {
            key: key.into(),
            text: QuestionText {
                nb: "Spørsmål".into(),
                nn: None,
            },
            kind,
        }
    }

    fn questions() -> Vec<Question> {
        vec![
            question("kjenner", QuestionKind::YesNo),
            question("samarbeid", QuestionKind::Scale1To5),
        ]
    }

    fn fields(e: AppError) -> Vec<String> {
        e.errors.into_iter().map(|f| f.field).collect()
    }

    /// A group of `yes` yes-answers and `no` no-answers, every one of them 4 on the scale.
    fn tally(yes: i64, no: i64) -> Tally {
        let mut t = Tally {
            answers: 0,
            counts: empty_counts(&questions()),
        };
        for i in 0..yes + no {
            let chosen = [
                ("kjenner".to_string(), usize::from(i >= yes)),
                ("samarbeid".to_string(), 3),
            ];
            add(&mut t, &chosen);
        }
        t
    }

    #[test]
    fn a_survey_is_planned_until_it_opens_open_through_its_closing_day_and_closed_after() {
        assert_eq!(state(day(10), day(20), None, day(9)), SurveyState::Planned);
        assert_eq!(state(day(10), day(20), None, day(10)), SurveyState::Open);
        assert_eq!(state(day(10), day(20), None, day(20)), SurveyState::Open);
        assert_eq!(state(day(10), day(20), None, day(21)), SurveyState::Closed);
        assert_eq!(
            state(day(10), day(20), Some(day(12)), day(12)),
            SurveyState::Closed
        );
    }

    #[test]
    fn a_survey_opens_today_or_later_and_closes_after_it_opens_within_a_year() {
        assert!(dates_are_ahead_and_in_order(day(5), day(5), day(5)).is_ok());
        assert_eq!(
            fields(dates_are_ahead_and_in_order(day(4), day(9), day(5)).unwrap_err()),
            ["opens_on"]
        );
        assert_eq!(
            fields(dates_are_ahead_and_in_order(day(6), day(5), day(5)).unwrap_err()),
            ["closes_on"]
        );
        let late = day(5) + Days::new(LONGEST_OPEN_DAYS + 1);
        assert_eq!(
            fields(dates_are_ahead_and_in_order(day(5), late, day(5)).unwrap_err()),
            ["closes_on"]
        );
    }

    #[test]
    fn question_keys_are_unique_and_the_second_is_named() {
        let mut qs = questions();
        qs.push(question("kjenner", QuestionKind::Scale1To5));
        assert_eq!(
            fields(keys_are_unique(&qs).unwrap_err()),
            ["questions[2].key"]
        );
        assert!(keys_are_unique(&questions()).is_ok());
    }

    use crate::surveys::api::check_key;

    #[test]
    fn a_key_is_lower_case_letters_digits_and_underscores_starting_with_a_letter() {
        for good in ["a", "kjenner_veilederen", "q1", &"a".repeat(40)] {
            assert!(check_key(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1a",
            "_a",
            "Kjenner",
            "kjenner-veileder",
            "æ",
            &"a".repeat(41),
        ] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_survey_changes_only_until_it_opens_and_is_answered_only_while_open() {
        assert!(editable_until_it_opens(SurveyState::Planned).is_ok());
        assert!(editable_until_it_opens(SurveyState::Open).is_err());
        assert!(answered_only_while_open(SurveyState::Open).is_ok());
        assert!(answered_only_while_open(SurveyState::Planned).is_err());
        assert!(answered_only_while_open(SurveyState::Closed).is_err());
        assert!(results_only_after_closing(SurveyState::Open, "id").is_err());
        assert!(results_only_after_closing(SurveyState::Closed, "id").is_ok());
        assert!(closed_early_only_while_open(SurveyState::Open).is_ok());
        assert!(closed_early_only_while_open(SurveyState::Closed).is_err());
    }

    #[test]
    fn every_question_is_answered_as_asked_and_each_fault_names_its_key() {
        let ok = BTreeMap::from([
            ("kjenner".to_string(), AnswerValue::YesNo(false)),
            ("samarbeid".to_string(), AnswerValue::Scale(5)),
        ]);
        assert_eq!(
            every_question_answered_as_asked(&questions(), &ok).unwrap(),
            [("kjenner".to_string(), 1), ("samarbeid".to_string(), 4)]
        );
        let bad = BTreeMap::from([
            ("kjenner".to_string(), AnswerValue::Scale(1)),
            ("ukjent".to_string(), AnswerValue::YesNo(true)),
        ]);
        assert_eq!(
            fields(every_question_answered_as_asked(&questions(), &bad).unwrap_err()),
            ["answers.kjenner", "answers.samarbeid", "answers.ukjent"]
        );
        for out_of_scale in [0, 6, -1] {
            let answers = BTreeMap::from([
                ("kjenner".to_string(), AnswerValue::YesNo(true)),
                ("samarbeid".to_string(), AnswerValue::Scale(out_of_scale)),
            ]);
            assert_eq!(
                fields(every_question_answered_as_asked(&questions(), &answers).unwrap_err()),
                ["answers.samarbeid"]
            );
        }
    }

    #[test]
    fn counts_read_back_fit_their_questions_or_are_refused() {
        let t = tally(3, 2);
        assert!(fits(&questions(), &t));
        let mut wrong = t.clone();
        wrong.counts.get_mut("samarbeid").unwrap().pop();
        assert!(!fits(&questions(), &wrong));
        let mut short = t.clone();
        short.answers += 1;
        assert!(!fits(&questions(), &short));
        let mut missing = t;
        missing.counts.remove("kjenner");
        assert!(!fits(&questions(), &missing));
    }

    #[test]
    fn a_group_of_fewer_than_five_is_suppressed_whole_and_so_is_the_group_that_would_give_it_away()
    {
        let groups = vec![
            ("barnehage".to_string(), tally(4, 2)),
            ("ppt".to_string(), tally(1, 1)),
        ];
        let total = sum(&questions(), groups.iter().map(|(_, t)| t));
        let (published, total) = publish(&questions(), &groups, &total);
        for g in &published {
            assert_eq!(g.answers, None, "{}", g.key);
            assert!(g
                .questions
                .iter()
                .all(|q| q.mean.is_none() && q.distribution.is_none()));
        }
        assert_eq!(total.key, TOTAL);
        assert_eq!(total.answers, Some(8));
        assert_eq!(total.questions[0].mean, Some(0.63));
        assert_eq!(total.questions[1].mean, Some(4.0));
    }

    #[test]
    fn groups_of_five_or_more_are_shown_with_their_mean_and_distribution() {
        let groups = vec![
            ("barnehage".to_string(), tally(5, 1)),
            ("skole".to_string(), tally(2, 3)),
        ];
        let total = sum(&questions(), groups.iter().map(|(_, t)| t));
        let (published, total) = publish(&questions(), &groups, &total);
        assert_eq!(published[0].answers, Some(6));
        assert_eq!(published[0].questions[0].mean, Some(0.83));
        let dist = published[1].questions[0].distribution.clone().unwrap();
        assert_eq!(
            dist.iter()
                .map(|v| (v.value.as_str(), v.count))
                .collect::<Vec<_>>(),
            [("yes", 2), ("no", 3)]
        );
        assert_eq!(
            published[1].questions[1]
                .distribution
                .as_ref()
                .unwrap()
                .len(),
            5
        );
        assert_eq!(total.answers, Some(11));
    }

    fn row(kind: ServiceKind, service: Option<&str>, answers: i64) -> GroupTally {
        GroupTally {
            kind,
            service: service.map(String::from),
            tally: tally(answers, 0),
        }
    }

    /// Kind K of services A (7) and B (3), kind L of C (6) and D (8); the kinds' rows as stored.
    fn two_kinds(a: i64) -> Vec<GroupTally> {
        vec![
            row(ServiceKind::Barnehage, None, a + 3),
            row(ServiceKind::Barnehage, Some("a"), a),
            row(ServiceKind::Barnehage, Some("b"), 3),
            row(ServiceKind::Skole, None, 14),
            row(ServiceKind::Skole, Some("c"), 6),
            row(ServiceKind::Skole, Some("d"), 8),
        ]
    }

    fn answers_of(groups: &[GroupResult]) -> Vec<(&str, Option<i64>)> {
        groups.iter().map(|g| (g.key.as_str(), g.answers)).collect()
    }

    #[test]
    fn a_small_service_is_not_given_away_by_its_kinds_count_in_the_results_by_kind() {
        let rows = two_kinds(7);
        let (by_kind, total) = publish_by_kind(&questions(), &rows);
        assert_eq!(
            answers_of(&by_kind),
            [("barnehage", Some(10)), ("skole", Some(14))]
        );
        assert_eq!(total.answers, Some(24));
        // K (10) minus A would give B's 3 away: A goes with B; L's services are both shown.
        let (by_service, total) = publish_by_service(&questions(), &rows);
        assert_eq!(
            answers_of(&by_service),
            [("a", None), ("b", None), ("c", Some(6)), ("d", Some(8))]
        );
        assert_eq!(total.answers, Some(24));
    }

    #[test]
    fn the_services_of_a_kind_hidden_in_the_results_by_kind_are_hidden_by_service() {
        // K has 3 answers in all: hidden by kind, and L with it (the total would give K away).
        let rows = vec![
            row(ServiceKind::Barnehage, None, 3),
            row(ServiceKind::Barnehage, Some("a"), 3),
            row(ServiceKind::Skole, None, 14),
            row(ServiceKind::Skole, Some("c"), 6),
            row(ServiceKind::Skole, Some("d"), 8),
        ];
        let (by_kind, _) = publish_by_kind(&questions(), &rows);
        assert_eq!(answers_of(&by_kind), [("barnehage", None), ("skole", None)]);
        let (by_service, total) = publish_by_service(&questions(), &rows);
        assert!(
            by_service.iter().all(|g| g.answers.is_none()),
            "{by_service:?}"
        );
        assert_eq!(total.answers, Some(17));
    }

    #[test]
    fn two_rounds_are_compared_on_the_questions_they_share() {
        let mut other = questions();
        other[1].kind = QuestionKind::YesNo;
        other.push(question("ny", QuestionKind::YesNo));
        let shared = shared_questions(&questions(), &other).unwrap();
        assert_eq!(
            shared.iter().map(|q| q.key.as_str()).collect::<Vec<_>>(),
            ["kjenner"]
        );
        let none = vec![question("annet", QuestionKind::YesNo)];
        assert_eq!(
            fields(shared_questions(&questions(), &none).unwrap_err()),
            ["compare"]
        );
    }

    #[test]
    fn the_csv_has_a_row_per_group_and_question_and_an_empty_cell_where_suppressed() {
        let groups = vec![
            ("barnehage".to_string(), tally(4, 2)),
            ("ppt".to_string(), tally(1, 1)),
        ];
        let total = sum(&questions(), groups.iter().map(|(_, t)| t));
        let (groups, total) = publish(&questions(), &groups, &total);
        let round = RoundResults {
            survey: uuid::Uuid::nil(),
            title: "Runde".into(),
            opens_on: day(1),
            closes_on: day(2),
            groups,
            total,
        };
        let csv = csv(&questions(), &[&round]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "survey,group,answers,question,mean,1,2,3,4,5,yes,no"
        );
        assert_eq!(lines.len(), 1 + 3 * 2);
        let nil = uuid::Uuid::nil();
        assert_eq!(lines[1], format!("{nil},barnehage,,kjenner,,,,,,,,"));
        assert_eq!(lines[5], format!("{nil},total,8,kjenner,0.63,,,,,,5,3"));
        assert_eq!(lines[6], format!("{nil},total,8,samarbeid,4,0,0,0,8,0,,"));
    }
}
