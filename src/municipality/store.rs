use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::api::{Municipality, MunicipalityPatch};
use crate::db::schema::municipalities;
use crate::http::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = municipalities)]
pub struct MunicipalityRow {
    pub number: String,
    pub name: String,
    pub self_consent_age: i16,
    pub level0_deadline_days: i32,
    pub consent_validity_months: i32,
    pub inquiry_attention_days: i32,
    pub retention_years: i16,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(AsChangeset)]
#[diesel(table_name = municipalities)]
struct MunicipalityChanges<'a> {
    name: Option<&'a str>,
    self_consent_age: Option<i16>,
    level0_deadline_days: Option<i32>,
    consent_validity_months: Option<i32>,
    inquiry_attention_days: Option<i32>,
    retention_years: Option<i16>,
}

/// Creates the municipality with default settings and the standard levels the first time it is seen.
/// Safe under concurrency: the inserts do nothing when another request got there first.
pub fn ensure(conn: &mut PgConnection, number: &str) -> Result<MunicipalityRow, AppError> {
    let inserted = diesel::insert_into(municipalities::table)
        .values((
            municipalities::number.eq(number),
            municipalities::name.eq(format!("Kommune {number}")),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted > 0 {
        crate::levels::store::seed_defaults(conn, number)?;
    }
    Ok(municipalities::table
        .find(number)
        .select(MunicipalityRow::as_select())
        .first(conn)?)
}

pub fn ensure_locked(conn: &mut PgConnection, number: &str) -> Result<MunicipalityRow, AppError> {
    ensure(conn, number)?;
    Ok(municipalities::table
        .find(number)
        .select(MunicipalityRow::as_select())
        .for_update()
        .first(conn)?)
}

pub fn update(
    conn: &mut PgConnection,
    number: &str,
    patch: &MunicipalityPatch,
) -> Result<MunicipalityRow, AppError> {
    let changes = MunicipalityChanges {
        name: patch.name.as_deref(),
        self_consent_age: patch.self_consent_age,
        level0_deadline_days: patch.level0_deadline_days,
        consent_validity_months: patch.consent_validity_months,
        inquiry_attention_days: patch.inquiry_attention_days,
        retention_years: patch.retention_years,
    };
    let has_changes = changes.name.is_some()
        || changes.self_consent_age.is_some()
        || changes.level0_deadline_days.is_some()
        || changes.consent_validity_months.is_some()
        || changes.inquiry_attention_days.is_some()
        || changes.retention_years.is_some();
    if !has_changes {
        return Ok(municipalities::table
            .find(number)
            .select(MunicipalityRow::as_select())
            .first(conn)?);
    }
    Ok(diesel::update(municipalities::table.find(number))
        .set((
            &changes,
            municipalities::version.eq(municipalities::version + 1),
        ))
        .returning(MunicipalityRow::as_returning())
        .get_result(conn)?)
}

/// The settings a rule needs, for a municipality known to exist.
/// The settings of a municipality that is known to exist (a case of it does): one plain read, no
/// first-use insert on the hot path of every case access.
pub fn get(conn: &mut PgConnection, number: &str) -> Result<MunicipalityRow, AppError> {
    Ok(municipalities::table
        .find(number)
        .select(MunicipalityRow::as_select())
        .first(conn)?)
}

impl From<MunicipalityRow> for Municipality {
    fn from(r: MunicipalityRow) -> Self {
        Municipality {
            number: r.number,
            name: r.name,
            self_consent_age: r.self_consent_age,
            level0_deadline_days: r.level0_deadline_days,
            consent_validity_months: r.consent_validity_months,
            inquiry_attention_days: r.inquiry_attention_days,
            retention_years: r.retention_years,
            version: r.version,
            updated_at: r.updated_at,
        }
    }
}
