use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{consent_givers, consent_services, consents};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = consents)]
pub struct ConsentRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub purpose: String,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub form: crate::consents::api::ConsentForm,
    pub document_ref: Option<String>,
    pub supersedes: Option<Uuid>,
    pub superseded_by: Option<Uuid>,
    pub superseded_at: Option<DateTime<Utc>>,
    pub recorded_by_user: String,
    pub recorded_by_name: String,
    pub recorded_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_by_participant: Option<Uuid>,
    pub withdrawal_reason: Option<String>,
}

/// A consent with every column given but its successor, which [`Supersession`] sets once that exists.
#[derive(Debug, Insertable)]
#[diesel(table_name = consents)]
pub struct ConsentInsert<'a> {
    pub id: Uuid,
    pub case_id: Uuid,
    pub purpose: &'a str,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub form: crate::consents::api::ConsentForm,
    pub document_ref: Option<&'a str>,
    pub supersedes: Option<Uuid>,
    pub recorded_by_user: &'a str,
    pub recorded_by_name: &'a str,
    pub recorded_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_by_participant: Option<Uuid>,
    pub withdrawal_reason: Option<&'a str>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = consent_givers)]
#[diesel(treat_none_as_default_value = false)]
pub struct ConsentGiverRow {
    pub consent_id: Uuid,
    pub participant_id: Uuid,
    pub case_id: Uuid,
    /// `None`: the giver has not signed yet.
    pub signed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = consent_services)]
pub struct ConsentServiceRow<'a> {
    pub consent_id: Uuid,
    pub service: &'a str,
}

/// `consent_id` was replaced by `by` at `at`.
#[derive(Debug, Clone, Copy)]
pub struct Supersession {
    pub consent_id: Uuid,
    pub by: Uuid,
    pub at: DateTime<Utc>,
}

/// A consent with its givers and services.
#[derive(Debug, Clone)]
pub struct Consent {
    pub row: ConsentRow,
    pub givers: Vec<Uuid>,
    /// The givers who have signed (all of them, but for a digital consent still collecting signatures).
    pub signed: Vec<Uuid>,
    pub services: Vec<String>,
}

impl Consent {
    pub fn facts(&self) -> super::rules::ConsentFacts {
        super::rules::ConsentFacts {
            id: self.row.id,
            case_id: self.row.case_id,
            givers: self.givers.clone(),
            signed: self.signed.clone(),
            services: self.services.clone(),
            valid_from: self.row.valid_from,
            valid_until: self.row.valid_until,
            withdrawn: self.row.withdrawn_at.is_some(),
            superseded: self.row.superseded_by.is_some(),
        }
    }
}
