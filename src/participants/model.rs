use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{case_participants, participant_external_refs};
use crate::participants::api::{ParticipantKind, Relation};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = case_participants)]
pub struct ParticipantRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: ParticipantKind,
    pub name: String,
    pub user_id: Option<String>,
    pub service: Option<String>,
    pub title: Option<String>,
    pub relation: Option<Relation>,
    pub parental_responsibility: Option<bool>,
    pub national_id_enc: Option<Vec<u8>>,
    pub national_id_hash: Option<Vec<u8>>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub role: Option<String>,
    pub active: bool,
    pub joined_at: DateTime<Utc>,
    pub left_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = case_participants)]
pub struct NewProfessional<'a> {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: ParticipantKind,
    pub name: &'a str,
    pub user_id: &'a str,
    pub service: &'a str,
    pub title: Option<&'a str>,
}

/// A participant with every column given: an imported one keeps when they joined and left.
#[derive(Debug, Insertable)]
#[diesel(table_name = case_participants)]
pub struct ParticipantInsert<'a> {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: ParticipantKind,
    pub name: &'a str,
    pub user_id: Option<&'a str>,
    pub service: Option<&'a str>,
    pub title: Option<&'a str>,
    pub relation: Option<Relation>,
    pub parental_responsibility: Option<bool>,
    pub national_id_enc: Option<Vec<u8>>,
    pub national_id_hash: Option<Vec<u8>>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub role: Option<&'a str>,
    pub active: bool,
    pub joined_at: DateTime<Utc>,
    pub left_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = participant_external_refs)]
pub struct ParticipantRefInsert<'a> {
    pub municipality: &'a str,
    pub system: &'a str,
    pub ref_id: &'a str,
    pub participant_id: Uuid,
}
