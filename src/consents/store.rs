use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{consent_givers, consent_services, consents};
use crate::http::error::AppError;

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

/// Every consent of these cases with givers and services: three queries, whatever the number of cases.
pub fn for_cases(conn: &mut PgConnection, case_ids: &[Uuid]) -> Result<Vec<Consent>, AppError> {
    let rows: Vec<ConsentRow> = consents::table
        .filter(consents::case_id.eq_any(case_ids))
        .order(consents::id.asc())
        .select(ConsentRow::as_select())
        .load(conn)?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut givers: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut signed: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (c, p, at) in consent_givers::table
        .filter(consent_givers::consent_id.eq_any(&ids))
        .order(consent_givers::participant_id)
        .select((
            consent_givers::consent_id,
            consent_givers::participant_id,
            consent_givers::signed_at,
        ))
        .load::<(Uuid, Uuid, Option<chrono::DateTime<chrono::Utc>>)>(conn)?
    {
        givers.entry(c).or_default().push(p);
        if at.is_some() {
            signed.entry(c).or_default().push(p);
        }
    }
    let mut services: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (c, s) in consent_services::table
        .filter(consent_services::consent_id.eq_any(&ids))
        .order(consent_services::service)
        .select((consent_services::consent_id, consent_services::service))
        .load::<(Uuid, String)>(conn)?
    {
        services.entry(c).or_default().push(s);
    }
    Ok(rows
        .into_iter()
        .map(|row| Consent {
            givers: givers.remove(&row.id).unwrap_or_default(),
            signed: signed.remove(&row.id).unwrap_or_default(),
            services: services.remove(&row.id).unwrap_or_default(),
            row,
        })
        .collect())
}

pub struct NewConsent<'a> {
    pub case_id: Uuid,
    pub purpose: &'a str,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub form: crate::consents::api::ConsentForm,
    pub document_ref: Option<&'a str>,
    pub supersedes: Option<Uuid>,
    pub recorded_by_user: &'a str,
    pub recorded_by_name: &'a str,
    pub givers: &'a [Uuid],
    /// Givers who have not signed yet (a digital consent one guardian recorded for several).
    pub unsigned: &'a [Uuid],
    pub services: &'a [String],
}

/// Records a consent now: its row, its givers, its services, and the consent it replaces.
pub fn insert(conn: &mut PgConnection, c: NewConsent) -> Result<Uuid, AppError> {
    let id = Uuid::now_v7();
    diesel::insert_into(consents::table)
        .values((
            consents::id.eq(id),
            consents::case_id.eq(c.case_id),
            consents::purpose.eq(c.purpose),
            consents::valid_from.eq(c.valid_from),
            consents::valid_until.eq(c.valid_until),
            consents::form.eq(c.form),
            consents::document_ref.eq(c.document_ref),
            consents::supersedes.eq(c.supersedes),
            consents::recorded_by_user.eq(c.recorded_by_user),
            consents::recorded_by_name.eq(c.recorded_by_name),
        ))
        .execute(conn)?;
    insert_givers(conn, id, &c)?;
    insert_services(conn, id, c.services)?;
    if let Some(old) = c.supersedes {
        supersede(conn, old, id)?;
    }
    Ok(id)
}

/// Signed givers take the column's default (`now()`, the transaction's time, the same as the consent's
/// `recorded_at`); those still to sign get NULL. A signature is never taken back (trigger).
fn insert_givers(conn: &mut PgConnection, id: Uuid, c: &NewConsent) -> Result<(), AppError> {
    let (signed, unsigned): (Vec<Uuid>, Vec<Uuid>) =
        c.givers.iter().partition(|p| !c.unsigned.contains(p));
    let rows = |ids: &[Uuid]| -> Vec<_> {
        ids.iter()
            .map(|p| {
                (
                    consent_givers::consent_id.eq(id),
                    consent_givers::participant_id.eq(*p),
                    consent_givers::case_id.eq(c.case_id),
                )
            })
            .collect()
    };
    if !signed.is_empty() {
        diesel::insert_into(consent_givers::table)
            .values(&rows(&signed))
            .execute(conn)?;
    }
    if !unsigned.is_empty() {
        let pending: Vec<_> = rows(&unsigned)
            .into_iter()
            .map(|(k, p, cs)| {
                (
                    k,
                    p,
                    cs,
                    consent_givers::signed_at.eq(None::<DateTime<Utc>>),
                )
            })
            .collect();
        diesel::insert_into(consent_givers::table)
            .values(&pending)
            .execute(conn)?;
    }
    Ok(())
}

fn insert_services(conn: &mut PgConnection, id: Uuid, services: &[String]) -> Result<(), AppError> {
    let rows: Vec<_> = services
        .iter()
        .map(|s| {
            (
                consent_services::consent_id.eq(id),
                consent_services::service.eq(s),
            )
        })
        .collect();
    diesel::insert_into(consent_services::table)
        .values(&rows)
        .execute(conn)?;
    Ok(())
}

/// Conditional on the old one still standing, so two concurrent replacements cannot both win.
fn supersede(conn: &mut PgConnection, old: Uuid, by: Uuid) -> Result<(), AppError> {
    let n = diesel::update(consents::table.find(old))
        .filter(consents::superseded_by.is_null())
        .filter(consents::withdrawn_at.is_null())
        .set((
            consents::superseded_by.eq(by),
            consents::superseded_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    if n != 1 {
        return Err(AppError::conflict(
            "the consent named in `supersedes` was withdrawn or replaced already",
        ));
    }
    Ok(())
}

/// Consents with every column given, their givers and their services, any number of each.
pub fn insert_all(
    conn: &mut PgConnection,
    rows: &[ConsentInsert],
    givers: &[ConsentGiverRow],
    services: &[ConsentServiceRow],
) -> Result<(), AppError> {
    crate::db::bulk::insert(rows, |chunk| {
        diesel::insert_into(consents::table)
            .values(chunk)
            .execute(conn)
    })?;
    crate::db::bulk::insert(givers, |chunk| {
        diesel::insert_into(consent_givers::table)
            .values(chunk)
            .execute(conn)
    })?;
    crate::db::bulk::insert(services, |chunk| {
        diesel::insert_into(consent_services::table)
            .values(chunk)
            .execute(conn)
    })
}

/// Tells replaced consents their successors, in one statement: a consent is inserted before the one that
/// replaces it, so this comes after both.
pub fn mark_superseded(conn: &mut PgConnection, changes: &[Supersession]) -> Result<(), AppError> {
    use diesel::sql_types::{Array, Timestamptz, Uuid as SqlUuid};
    if changes.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = changes.iter().map(|s| s.consent_id).collect();
    let by: Vec<Uuid> = changes.iter().map(|s| s.by).collect();
    let at: Vec<chrono::DateTime<chrono::Utc>> = changes.iter().map(|s| s.at).collect();
    diesel::sql_query(
        "UPDATE consents SET superseded_by = s.successor, superseded_at = s.replaced_at \
         FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS s(id, successor, replaced_at) \
         WHERE consents.id = s.id",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Array<SqlUuid>, _>(by)
    .bind::<Array<Timestamptz>, _>(at)
    .execute(conn)?;
    Ok(())
}

/// Marks a consent withdrawn, once: a second withdrawal finds no standing consent and is a 409.
pub fn withdraw(conn: &mut PgConnection, id: Uuid, by: Uuid, reason: &str) -> Result<(), AppError> {
    let n = diesel::update(consents::table.find(id))
        .filter(consents::withdrawn_at.is_null())
        .filter(consents::superseded_by.is_null())
        .set((
            consents::withdrawn_at.eq(diesel::dsl::now),
            consents::withdrawn_by_participant.eq(by),
            consents::withdrawal_reason.eq(reason),
        ))
        .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(AppError::conflict(
            "the consent is already withdrawn or replaced",
        ))
    }
}

/// A giver's own signature, once: conditional on it still missing, so two concurrent signatures of one
/// giver cannot both count. `false` when it was there already.
pub fn sign(conn: &mut PgConnection, consent_id: Uuid, giver: Uuid) -> Result<bool, AppError> {
    let n = diesel::update(consent_givers::table)
        .filter(consent_givers::consent_id.eq(consent_id))
        .filter(consent_givers::participant_id.eq(giver))
        .filter(consent_givers::signed_at.is_null())
        .set(consent_givers::signed_at.eq(diesel::dsl::now))
        .execute(conn)?;
    Ok(n == 1)
}
