//! All of the surveys' SQL: the survey and its questions, who has answered, and the counts per group.
//! An answer is never stored as a row of its own: it marks its author in `survey_respondents` and adds to
//! the counts of its groups in `survey_tallies`, in one transaction (see the migration `surveys`).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::api::{Question, QuestionKind, QuestionText, Survey, SurveyInput};
use super::rules::{self, Counts, Tally};
use crate::db::schema::{survey_questions, survey_respondents, survey_tallies, surveys};
use crate::http::error::AppError;
use crate::patch::differs;
use crate::services::api::ServiceKind;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = surveys)]
pub struct SurveyRow {
    pub id: Uuid,
    pub title: String,
    pub opens_on: NaiveDate,
    pub closes_on: NaiveDate,
    pub by_service: bool,
    pub closed_early_on: Option<NaiveDate>,
    pub reduced_on: Option<NaiveDate>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = survey_questions)]
struct QuestionRow {
    survey_id: Uuid,
    key: String,
    text_nb: String,
    text_nn: Option<String>,
    kind: QuestionKind,
}

impl From<QuestionRow> for Question {
    fn from(r: QuestionRow) -> Self {
        Question {
            key: r.key,
            text: QuestionText {
                nb: r.text_nb,
                nn: r.text_nn,
            },
            kind: r.kind,
        }
    }
}

impl SurveyRow {
    pub fn state(&self, today: NaiveDate) -> super::api::SurveyState {
        rules::state(self.opens_on, self.closes_on, self.closed_early_on, today)
    }

    /// As the API shows it, with what the caller and the counts add.
    pub fn view(
        &self,
        questions: Vec<Question>,
        you_answered: bool,
        answers: i64,
        today: NaiveDate,
    ) -> Survey {
        Survey {
            id: self.id,
            title: self.title.clone(),
            opens_on: self.opens_on,
            closes_on: self.closes_on,
            state: self.state(today),
            by_service: self.by_service,
            closed_early_on: self.closed_early_on,
            questions,
            you_answered,
            answers,
            reduced_on: self.reduced_on,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

pub fn insert(
    conn: &mut PgConnection,
    municipality: &str,
    s: &SurveyInput,
) -> Result<SurveyRow, AppError> {
    let row = diesel::insert_into(surveys::table)
        .values((
            surveys::id.eq(Uuid::now_v7()),
            surveys::municipality.eq(municipality),
            surveys::title.eq(&s.title),
            surveys::opens_on.eq(s.opens_on),
            surveys::closes_on.eq(s.closes_on),
            surveys::by_service.eq(s.by_service),
        ))
        .returning(SurveyRow::as_returning())
        .get_result(conn)?;
    replace_questions(conn, row.id, municipality, &s.questions)?;
    Ok(row)
}

/// The survey's questions become `questions`, in their order.
pub fn replace_questions(
    conn: &mut PgConnection,
    id: Uuid,
    municipality: &str,
    questions: &[Question],
) -> Result<(), AppError> {
    diesel::delete(survey_questions::table.filter(survey_questions::survey_id.eq(id)))
        .execute(conn)?;
    let rows: Vec<_> = questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            (
                survey_questions::survey_id.eq(id),
                survey_questions::municipality.eq(municipality),
                survey_questions::position.eq(i as i16),
                survey_questions::key.eq(&q.key),
                survey_questions::text_nb.eq(&q.text.nb),
                survey_questions::text_nn.eq(&q.text.nn),
                survey_questions::kind.eq(q.kind),
            )
        })
        .collect();
    diesel::insert_into(survey_questions::table)
        .values(rows)
        .execute(conn)?;
    Ok(())
}

/// The changes a patch makes; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = surveys)]
pub struct SurveyChanges {
    pub title: Option<String>,
    pub opens_on: Option<NaiveDate>,
    pub closes_on: Option<NaiveDate>,
    pub by_service: Option<bool>,
}

impl SurveyChanges {
    /// Whether these changes would alter the stored survey (`crate::patch`); its questions are compared
    /// apart.
    pub fn alters(&self, row: &SurveyRow) -> bool {
        differs(self.title.as_deref(), row.title.as_str())
            || differs(self.opens_on.as_ref(), &row.opens_on)
            || differs(self.closes_on.as_ref(), &row.closes_on)
            || differs(self.by_service.as_ref(), &row.by_service)
    }
}

pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    changes: &SurveyChanges,
) -> Result<SurveyRow, AppError> {
    Ok(diesel::update(surveys::table.find(id))
        .set((
            changes,
            surveys::version.eq(surveys::version + 1),
            surveys::updated_at.eq(diesel::dsl::now),
        ))
        .returning(SurveyRow::as_returning())
        .get_result(conn)?)
}

/// Closes the survey today, before its closing day.
pub fn close_early(
    conn: &mut PgConnection,
    id: Uuid,
    today: NaiveDate,
) -> Result<SurveyRow, AppError> {
    Ok(diesel::update(surveys::table.find(id))
        .set((
            surveys::closed_early_on.eq(today),
            surveys::version.eq(surveys::version + 1),
            surveys::updated_at.eq(diesel::dsl::now),
        ))
        .returning(SurveyRow::as_returning())
        .get_result(conn)?)
}

pub fn delete(conn: &mut PgConnection, id: Uuid) -> Result<(), AppError> {
    diesel::delete(surveys::table.find(id)).execute(conn)?;
    Ok(())
}

/// How a survey is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// A plain read.
    None,
    /// An answer: it waits for a change or an early closing to commit, and holds either off until it
    /// has committed, so it is counted against the questions and the state it read.
    Share,
    /// A change, a deletion or an early closing.
    Update,
}

pub fn find(conn: &mut PgConnection, id: Uuid, lock: Lock) -> Result<SurveyRow, AppError> {
    let q = surveys::table.find(id).select(SurveyRow::as_select());
    let row = match lock {
        Lock::None => q.first(conn).optional()?,
        Lock::Share => q.for_share().first(conn).optional()?,
        Lock::Update => q.for_update().first(conn).optional()?,
    };
    row.ok_or_else(|| AppError::not_found("survey"))
}

/// The surveys of the caller's municipality, newest opening first; only those opened by `opened_by`
/// unless it is `None`.
pub fn list(
    conn: &mut PgConnection,
    opened_by: Option<NaiveDate>,
) -> Result<Vec<SurveyRow>, AppError> {
    let mut q = surveys::table
        .order((surveys::opens_on.desc(), surveys::id.desc()))
        .limit(1000)
        .select(SurveyRow::as_select())
        .into_boxed();
    if let Some(today) = opened_by {
        q = q.filter(surveys::opens_on.le(today));
    }
    Ok(q.load(conn)?)
}

/// The questions of each survey of `ids`, in order.
pub fn questions_of(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, Question)>, AppError> {
    Ok(survey_questions::table
        .filter(survey_questions::survey_id.eq_any(ids))
        .order((survey_questions::survey_id, survey_questions::position))
        .select(QuestionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| (r.survey_id, r.into()))
        .collect())
}

pub fn questions(conn: &mut PgConnection, id: Uuid) -> Result<Vec<Question>, AppError> {
    Ok(questions_of(conn, &[id])?
        .into_iter()
        .map(|(_, q)| q)
        .collect())
}

/// Which of the surveys of `respondents` (each survey with its caller's respondent bytes) the caller has
/// answered.
pub fn answered_by(
    conn: &mut PgConnection,
    respondents: &[(Uuid, Vec<u8>)],
) -> Result<Vec<Uuid>, AppError> {
    let ids: Vec<Uuid> = respondents.iter().map(|(id, _)| *id).collect();
    let hashes: Vec<&[u8]> = respondents.iter().map(|(_, h)| h.as_slice()).collect();
    let found: Vec<(Uuid, Vec<u8>)> = survey_respondents::table
        .filter(survey_respondents::survey_id.eq_any(&ids))
        .filter(survey_respondents::respondent.eq_any(&hashes))
        .select((
            survey_respondents::survey_id,
            survey_respondents::respondent,
        ))
        .load(conn)?;
    Ok(found
        .into_iter()
        .filter(|f| respondents.contains(f))
        .map(|(id, _)| id)
        .collect())
}

/// How many answered each survey of `ids` (the counts of the kinds' rows, which every answer is in).
pub fn answer_counts(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<(Uuid, i64)>, AppError> {
    use diesel::dsl::sum;
    let rows: Vec<(Uuid, Option<i64>)> = survey_tallies::table
        .filter(survey_tallies::survey_id.eq_any(ids))
        .filter(survey_tallies::service.is_null())
        .group_by(survey_tallies::survey_id)
        .select((survey_tallies::survey_id, sum(survey_tallies::answers)))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id, n.unwrap_or(0)))
        .collect())
}

/// Marks `respondent` as having answered; `false` when they already had.
pub fn mark_answered(
    conn: &mut PgConnection,
    survey: Uuid,
    municipality: &str,
    respondent: &[u8],
) -> Result<bool, AppError> {
    let inserted = diesel::insert_into(survey_respondents::table)
        .values((
            survey_respondents::survey_id.eq(survey),
            survey_respondents::municipality.eq(municipality),
            survey_respondents::respondent.eq(respondent),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(inserted == 1)
}

/// One group of a survey: a service kind, and the service when the survey records it.
pub struct Group<'a> {
    pub kind: ServiceKind,
    pub service: Option<&'a str>,
}

/// Adds an answer (`chosen`: each key's value index) to the counts of `group`, under the group's row
/// lock. The row holds counts only, so what it says after the change cannot be told apart by author.
pub fn add_to_group(
    conn: &mut PgConnection,
    survey: Uuid,
    municipality: &str,
    questions: &[Question],
    group: &Group,
    chosen: &[(String, usize)],
) -> Result<(), AppError> {
    let empty =
        serde_json::to_value(rules::empty_counts(questions)).map_err(|_| AppError::internal())?;
    diesel::insert_into(survey_tallies::table)
        .values((
            survey_tallies::survey_id.eq(survey),
            survey_tallies::municipality.eq(municipality),
            survey_tallies::service_kind.eq(group.kind.as_str()),
            survey_tallies::service.eq(group.service),
            survey_tallies::answers.eq(0),
            survey_tallies::counts.eq(&empty),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    let of_group = survey_tallies::table
        .filter(survey_tallies::survey_id.eq(survey))
        .filter(survey_tallies::service_kind.eq(group.kind.as_str()))
        .filter(survey_tallies::service.is_not_distinct_from(group.service));
    let (answers, counts): (i32, serde_json::Value) = of_group
        .select((survey_tallies::answers, survey_tallies::counts))
        .for_update()
        .first(conn)?;
    let mut tally = tally_of(questions, answers, counts)?;
    rules::add(&mut tally, chosen);
    let answers = i32::try_from(tally.answers).map_err(|_| AppError::internal())?;
    let counts = serde_json::to_value(&tally.counts).map_err(|_| AppError::internal())?;
    diesel::update(of_group)
        .set((
            survey_tallies::answers.eq(answers),
            survey_tallies::counts.eq(&counts),
        ))
        .execute(conn)?;
    Ok(())
}

/// A row's counts, checked against the questions: a row that does not fit them is an error.
fn tally_of(
    questions: &[Question],
    answers: i32,
    counts: serde_json::Value,
) -> Result<Tally, AppError> {
    let counts: Counts = serde_json::from_value(counts).map_err(|e| {
        tracing::error!(error = %e, "a survey's counts are not counts");
        AppError::internal()
    })?;
    let tally = Tally {
        answers: i64::from(answers),
        counts,
    };
    if rules::fits(questions, &tally) {
        Ok(tally)
    } else {
        tracing::error!("a survey's counts do not fit its questions");
        Err(AppError::internal())
    }
}

/// Every group row of a survey: the kinds' rows (`service` `None`) and, where the survey records it, the
/// services' rows, ordered by kind and service.
pub fn tallies(
    conn: &mut PgConnection,
    survey: Uuid,
    questions: &[Question],
) -> Result<Vec<rules::GroupTally>, AppError> {
    let rows: Vec<(ServiceKind, Option<String>, i32, serde_json::Value)> = survey_tallies::table
        .filter(survey_tallies::survey_id.eq(survey))
        .order((survey_tallies::service_kind, survey_tallies::service))
        .select((
            survey_tallies::service_kind,
            survey_tallies::service,
            survey_tallies::answers,
            survey_tallies::counts,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(kind, service, answers, counts)| {
            Ok(rules::GroupTally {
                kind,
                service,
                tally: tally_of(questions, answers, counts)?,
            })
        })
        .collect()
}

/// What the purge did to the surveys.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reduced {
    /// Records of who answered a closed survey, forgotten.
    pub respondents: usize,
    /// Surveys past their retention whose per-service counts were erased.
    pub surveys: usize,
}

/// Data minimisation, in every municipality (as the schema's owner): who answered a survey is needed
/// only while it is open, so it is erased once the survey has closed; and `survey_retention_years` after
/// its closing a survey keeps only its counts per service kind.
pub fn reduce(conn: &mut PgConnection, today: NaiveDate) -> Result<Reduced, AppError> {
    let respondents = diesel::sql_query(
        "DELETE FROM survey_respondents r USING surveys v \
          WHERE v.id = r.survey_id AND (v.closes_on < $1 OR v.closed_early_on IS NOT NULL)",
    )
    .bind::<diesel::sql_types::Date, _>(today)
    .execute(conn)?;
    let due: Vec<Uuid> = diesel::sql_query(
        "UPDATE surveys v SET reduced_on = $1 FROM municipalities m \
          WHERE m.number = v.municipality AND v.reduced_on IS NULL \
            AND coalesce(v.closed_early_on, v.closes_on) < $1 - make_interval(years => m.survey_retention_years) \
          RETURNING v.id",
    )
    .bind::<diesel::sql_types::Date, _>(today)
    .load::<ReducedId>(conn)?
    .into_iter()
    .map(|r| r.id)
    .collect();
    diesel::delete(
        survey_tallies::table
            .filter(survey_tallies::survey_id.eq_any(&due))
            .filter(survey_tallies::service.is_not_null()),
    )
    .execute(conn)?;
    Ok(Reduced {
        respondents,
        surveys: due.len(),
    })
}

#[derive(QueryableByName)]
struct ReducedId {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
}
