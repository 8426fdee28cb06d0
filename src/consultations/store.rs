//! Queries for consultations and their answers.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::api::{AgeGroup, Consultation, ConsultationAnswer};
use crate::db::schema::{consultation_answers, consultations};
use crate::http::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = consultations)]
pub struct ConsultationRow {
    pub id: Uuid,
    pub from_service: String,
    pub asked_by: String,
    pub to_service: String,
    pub question: String,
    pub age_group: Option<AgeGroup>,
    pub asked_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = consultation_answers)]
pub struct AnswerRow {
    pub id: Uuid,
    pub consultation_id: Uuid,
    pub answered_by: String,
    pub text: String,
    pub answered_at: DateTime<Utc>,
}

impl ConsultationRow {
    /// As `user_id` sees it: which of it is theirs, never who else wrote it.
    pub fn view(&self, answers: &[AnswerRow], user_id: &str) -> Consultation {
        Consultation {
            id: self.id,
            from_service: self.from_service.clone(),
            to_service: self.to_service.clone(),
            question: self.question.clone(),
            age_group: self.age_group,
            asked_at: self.asked_at,
            yours: self.asked_by == user_id,
            answers: answers
                .iter()
                .filter(|a| a.consultation_id == self.id)
                .map(|a| ConsultationAnswer {
                    id: a.id,
                    text: a.text.clone(),
                    answered_at: a.answered_at,
                    yours: a.answered_by == user_id,
                })
                .collect(),
        }
    }
}

pub struct NewConsultation<'a> {
    pub municipality: &'a str,
    pub from_service: &'a str,
    pub asked_by: &'a str,
    pub to_service: &'a str,
    pub question: &'a str,
    pub age_group: Option<AgeGroup>,
}

pub fn insert(conn: &mut PgConnection, c: &NewConsultation) -> Result<ConsultationRow, AppError> {
    Ok(diesel::insert_into(consultations::table)
        .values((
            consultations::id.eq(Uuid::now_v7()),
            consultations::municipality.eq(c.municipality),
            consultations::from_service.eq(c.from_service),
            consultations::asked_by.eq(c.asked_by),
            consultations::to_service.eq(c.to_service),
            consultations::question.eq(c.question),
            consultations::age_group.eq(c.age_group),
        ))
        .returning(ConsultationRow::as_returning())
        .get_result(conn)?)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<ConsultationRow, AppError> {
    consultations::table
        .find(id)
        .select(ConsultationRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("consultation"))
}

/// The consultations `user_id` asked or that went to `services`, newest first.
pub fn visible_to(
    conn: &mut PgConnection,
    user_id: Option<&str>,
    services: &[String],
    limit: i64,
) -> Result<Vec<ConsultationRow>, AppError> {
    Ok(consultations::table
        .filter(
            consultations::asked_by
                .nullable()
                .eq(user_id)
                .or(consultations::to_service.eq_any(services)),
        )
        .order(consultations::id.desc())
        .limit(limit)
        .select(ConsultationRow::as_select())
        .load(conn)?)
}

pub fn answers_of(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<AnswerRow>, AppError> {
    Ok(consultation_answers::table
        .filter(consultation_answers::consultation_id.eq_any(ids))
        .order(consultation_answers::answered_at.asc())
        .select(AnswerRow::as_select())
        .load(conn)?)
}

/// Adds an answer and moves the consultation's erasure date on.
pub fn answer(
    conn: &mut PgConnection,
    c: &ConsultationRow,
    municipality: &str,
    by: &str,
    text: &str,
) -> Result<(), AppError> {
    let at: DateTime<Utc> = diesel::insert_into(consultation_answers::table)
        .values((
            consultation_answers::id.eq(Uuid::now_v7()),
            consultation_answers::consultation_id.eq(c.id),
            consultation_answers::municipality.eq(municipality),
            consultation_answers::answered_by.eq(by),
            consultation_answers::text.eq(text),
        ))
        .returning(consultation_answers::answered_at)
        .get_result(conn)?;
    diesel::update(consultations::table.find(c.id))
        .set(consultations::last_answer_at.eq(at))
        .execute(conn)?;
    Ok(())
}

/// Erases every consultation (with its answers) whose last answer, or question, is from before `before`,
/// in every municipality (as the schema's owner). Returns how many.
pub fn erase_before(conn: &mut PgConnection, before: DateTime<Utc>) -> Result<usize, AppError> {
    Ok(diesel::delete(
        consultations::table.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("coalesce(last_answer_at, asked_at) < ")
                .bind::<diesel::sql_types::Timestamptz, _>(before),
        ),
    )
    .execute(conn)?)
}
