use chrono::{DateTime, Utc};
use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::prelude::*;
use diesel::sql_types::Int2;

use super::api::{Municipality, MunicipalityPatch};
use crate::db::schema::municipalities;
use crate::http::error::AppError;
use crate::patch::differs;

/// The age from which a youth consents alone, as read from the database: 15 or 16, what its CHECK and
/// the settings' API allow. Any other number is an error when read, never a default: read as 0 it would
/// let every youth consent alone, and read every case their parents are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::FromSqlRow)]
pub struct SelfConsentAge(u32);

impl SelfConsentAge {
    pub fn years(self) -> u32 {
        self.0
    }
}

impl TryFrom<i16> for SelfConsentAge {
    type Error = String;

    fn try_from(years: i16) -> Result<Self, Self::Error> {
        match u32::try_from(years) {
            Ok(y @ 15..=16) => Ok(SelfConsentAge(y)),
            _ => Err(format!(
                "the database holds a self-consent age of {years}, where only 15 or 16 can be"
            )),
        }
    }
}

impl FromSql<Int2, Pg> for SelfConsentAge {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let years = <i16 as FromSql<Int2, Pg>>::from_sql(value)?;
        Ok(SelfConsentAge::try_from(years)?)
    }
}

impl From<SelfConsentAge> for i16 {
    fn from(age: SelfConsentAge) -> i16 {
        // 15 or 16: always fits.
        age.0 as i16
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = municipalities)]
pub struct MunicipalityRow {
    pub number: String,
    pub name: String,
    pub self_consent_age: SelfConsentAge,
    pub level0_deadline_days: i32,
    pub consent_validity_months: i32,
    pub inquiry_attention_days: i32,
    pub retention_years: i16,
    pub purge_unarchived: bool,
    pub survey_retention_years: i16,
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
    purge_unarchived: Option<bool>,
    survey_retention_years: Option<i16>,
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

/// Applies the patch to `current` (the row as locked); a patch that alters nothing writes nothing
/// (`crate::patch`).
pub fn update(
    conn: &mut PgConnection,
    current: MunicipalityRow,
    patch: &MunicipalityPatch,
) -> Result<MunicipalityRow, AppError> {
    let changes = MunicipalityChanges {
        name: patch.name.as_deref(),
        self_consent_age: patch.self_consent_age,
        level0_deadline_days: patch.level0_deadline_days,
        consent_validity_months: patch.consent_validity_months,
        inquiry_attention_days: patch.inquiry_attention_days,
        retention_years: patch.retention_years,
        purge_unarchived: patch.purge_unarchived,
        survey_retention_years: patch.survey_retention_years,
    };
    if !changes.alters(&current) {
        return Ok(current);
    }
    Ok(diesel::update(municipalities::table.find(&current.number))
        .set((
            &changes,
            municipalities::version.eq(municipalities::version + 1),
        ))
        .returning(MunicipalityRow::as_returning())
        .get_result(conn)?)
}

impl MunicipalityChanges<'_> {
    fn alters(&self, row: &MunicipalityRow) -> bool {
        let age = self
            .self_consent_age
            .map(|years| u32::try_from(years).ok() != Some(row.self_consent_age.years()));
        differs(self.name, row.name.as_str())
            || age.unwrap_or(false)
            || differs(
                self.level0_deadline_days.as_ref(),
                &row.level0_deadline_days,
            )
            || differs(
                self.consent_validity_months.as_ref(),
                &row.consent_validity_months,
            )
            || differs(
                self.inquiry_attention_days.as_ref(),
                &row.inquiry_attention_days,
            )
            || differs(self.retention_years.as_ref(), &row.retention_years)
            || differs(self.purge_unarchived.as_ref(), &row.purge_unarchived)
            || differs(
                self.survey_retention_years.as_ref(),
                &row.survey_retention_years,
            )
    }
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
            self_consent_age: r.self_consent_age.into(),
            level0_deadline_days: r.level0_deadline_days,
            consent_validity_months: r.consent_validity_months,
            inquiry_attention_days: r.inquiry_attention_days,
            retention_years: r.retention_years,
            purge_unarchived: r.purge_unarchived,
            survey_retention_years: r.survey_retention_years,
            version: r.version,
            updated_at: r.updated_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SelfConsentAge;

    #[test]
    fn a_self_consent_age_other_than_15_or_16_is_an_error_never_0() {
        assert_eq!(SelfConsentAge::try_from(15).unwrap().years(), 15);
        assert_eq!(SelfConsentAge::try_from(16).unwrap().years(), 16);
        for years in [i16::MIN, -1, 0, 14, 17, i16::MAX] {
            assert!(SelfConsentAge::try_from(years).is_err(), "{years}");
        }
        assert_eq!(i16::from(SelfConsentAge::try_from(16).unwrap()), 16);
    }
}
