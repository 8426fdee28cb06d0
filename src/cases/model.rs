use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::cases::api::{CaseStatus, CloseReason, SubjectKind};
use crate::db::schema::{case_external_refs, cases};

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Identifiable)]
#[diesel(table_name = cases)]
pub struct CaseRow {
    pub id: Uuid,
    pub municipality: String,
    pub subject_kind: SubjectKind,
    pub subject_given_name: String,
    pub subject_family_name: String,
    pub subject_birth_date: Option<NaiveDate>,
    pub subject_national_id_enc: Option<Vec<u8>>,
    pub subject_national_id_hash: Option<Vec<u8>>,
    pub concern: String,
    pub status: CaseStatus,
    pub level: i16,
    pub opened_in_service: String,
    pub holder_participant_id: Uuid,
    pub decision_due: Option<NaiveDate>,
    pub opened_at: DateTime<Utc>,
    pub opened_by: String,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<CloseReason>,
    pub close_note: Option<String>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
    pub guide_version: Option<i32>,
    pub guide_step_key: Option<String>,
    pub guide_step_title: Option<String>,
    pub guide_next_key: Option<String>,
    pub guide_next_title: Option<String>,
    /// When `stafettlogg purge` erased its personal data, the retention period being over.
    pub purged_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = cases)]
pub struct NewCase<'a> {
    pub id: Uuid,
    pub municipality: &'a str,
    pub subject_kind: SubjectKind,
    pub subject_given_name: &'a str,
    pub subject_family_name: &'a str,
    pub subject_birth_date: Option<NaiveDate>,
    pub subject_national_id_enc: Option<Vec<u8>>,
    pub subject_national_id_hash: Option<Vec<u8>>,
    pub concern: &'a str,
    pub opened_in_service: &'a str,
    pub holder_participant_id: Uuid,
    pub decision_due: Option<NaiveDate>,
    pub opened_by: &'a str,
    pub guide_version: Option<i32>,
    pub guide_step_key: Option<&'a str>,
    pub guide_step_title: Option<&'a str>,
    pub guide_next_key: Option<&'a str>,
    pub guide_next_title: Option<&'a str>,
}

/// A case with every column given: an imported case keeps the state and the dates its history gave it.
#[derive(Debug, Insertable)]
#[diesel(table_name = cases)]
pub struct CaseInsert<'a> {
    pub id: Uuid,
    pub municipality: &'a str,
    pub subject_kind: SubjectKind,
    pub subject_given_name: &'a str,
    pub subject_family_name: &'a str,
    pub subject_birth_date: Option<NaiveDate>,
    pub subject_national_id_enc: Option<Vec<u8>>,
    pub subject_national_id_hash: Option<Vec<u8>>,
    pub concern: &'a str,
    pub status: CaseStatus,
    pub level: i16,
    pub opened_in_service: &'a str,
    pub holder_participant_id: Uuid,
    pub decision_due: Option<NaiveDate>,
    pub opened_at: DateTime<Utc>,
    pub opened_by: &'a str,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<CloseReason>,
    pub close_note: Option<&'a str>,
}

/// Only the columns a PATCH may touch; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = cases)]
pub struct CaseChanges<'a> {
    pub concern: Option<&'a str>,
    pub subject_kind: Option<SubjectKind>,
    pub subject_given_name: Option<&'a str>,
    pub subject_family_name: Option<&'a str>,
    pub subject_birth_date: Option<Option<NaiveDate>>,
    pub subject_national_id_enc: Option<Option<Vec<u8>>>,
    pub subject_national_id_hash: Option<Option<Vec<u8>>>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = case_external_refs)]
pub struct ExternalRefRow {
    pub municipality: String,
    pub system: String,
    pub ref_id: String,
    pub case_id: Uuid,
}
