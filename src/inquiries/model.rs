//! Diesel rows of inquiries and their answers. Never API types: see `api.rs` for those.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::api::{InquiryAbout, InquiryStatus, InquiryWants};
use crate::db::schema::{inquiries, inquiry_answers};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = inquiries)]
pub struct InquiryRow {
    pub id: Uuid,
    pub municipality: String,
    pub service: String,
    pub about: InquiryAbout,
    pub wants: InquiryWants,
    pub status: InquiryStatus,
    pub inquirer_user_id: String,
    pub inquirer_name: String,
    pub inquirer_role: String,
    pub inquirer_pid_enc: Vec<u8>,
    pub inquirer_pid_hash: Vec<u8>,
    pub child_given_name: Option<String>,
    pub child_birth_date: Option<NaiveDate>,
    pub child_national_id_enc: Option<Vec<u8>>,
    pub child_national_id_hash: Option<Vec<u8>>,
    pub message: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub case_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub erased_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = inquiries)]
pub struct NewInquiryRow<'a> {
    pub id: Uuid,
    pub municipality: &'a str,
    pub service: &'a str,
    pub about: InquiryAbout,
    pub wants: InquiryWants,
    pub inquirer_user_id: &'a str,
    pub inquirer_name: &'a str,
    pub inquirer_role: &'static str,
    pub inquirer_pid_enc: Vec<u8>,
    pub inquirer_pid_hash: Vec<u8>,
    pub child_given_name: Option<&'a str>,
    pub child_birth_date: Option<NaiveDate>,
    pub child_national_id_enc: Option<Vec<u8>>,
    pub child_national_id_hash: Option<Vec<u8>>,
    pub message: &'a str,
    pub contact_phone: Option<&'a str>,
    pub contact_email: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = inquiry_answers)]
pub struct AnswerRow {
    pub id: Uuid,
    pub inquiry_id: Uuid,
    pub at: DateTime<Utc>,
    pub by_name: String,
    pub message: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = inquiry_answers)]
pub struct NewAnswer<'a> {
    pub id: Uuid,
    pub inquiry_id: Uuid,
    pub municipality: &'a str,
    pub by_user_id: &'a str,
    pub by_name: &'a str,
    pub message: &'a str,
}
