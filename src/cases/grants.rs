//! The rows of `case_grants`: who may read a case, as the database works it out when the case changes
//! (`refresh_case_grants`, called by triggers on every table rule 8 reads; the migration `case_grants`
//! spells the rule out in SQL). `crate::policy::grants` decides on them.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bytea, Date, Nullable, Record, Text, Uuid as SqlUuid};
use uuid::Uuid;

use crate::access_log::store::Basis;
use crate::auth::Caller;
use crate::http::error::AppError;

/// One row of `case_grants`: who, on which basis, from and until which day (both inclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub basis: Basis,
    /// A professional's user id (`holder_service`, `consent`).
    pub user_id: Option<String>,
    /// The service the professional takes part for, or the integration's service.
    pub service: Option<String>,
    /// A guardian's or youth's national id, hashed as participants' are.
    pub pid_hash: Option<Vec<u8>>,
    /// The participation the grant comes from (none for an integration, or an unlisted subject youth).
    pub participant_id: Option<Uuid>,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    /// The next day a consent of the case runs out: a reader settles the expiry from then on.
    pub settle_on: Option<NaiveDate>,
}

/// The SQL record of a grant, as `cases::load` reads them with the facts.
pub type GrantSql = Record<(
    Text,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Bytea>,
    Nullable<SqlUuid>,
    Nullable<Date>,
    Nullable<Date>,
    Nullable<Date>,
)>;

pub type GrantTuple = (
    Basis,
    Option<String>,
    Option<String>,
    Option<Vec<u8>>,
    Option<Uuid>,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<NaiveDate>,
);

impl From<GrantTuple> for Grant {
    fn from(t: GrantTuple) -> Grant {
        Grant {
            basis: t.0,
            user_id: t.1,
            service: t.2,
            pid_hash: t.3,
            participant_id: t.4,
            valid_from: t.5,
            valid_until: t.6,
            settle_on: t.7,
        }
    }
}

/// The columns of a grant, in `GrantSql`'s order.
pub const GRANT_COLUMNS: &str = "g.basis, g.user_id, g.service, g.pid_hash, g.participant_id, \
     g.valid_from, g.valid_until, g.settle_on";

impl Grant {
    /// Whether the grant holds on `day`.
    pub fn holds_on(&self, day: NaiveDate) -> bool {
        self.valid_from.is_none_or(|from| from <= day)
            && self.valid_until.is_none_or(|until| day <= until)
    }

    /// Whether a consent of the case has run out by `day` and nobody settled it since.
    pub fn settle_due(&self, day: NaiveDate) -> bool {
        self.settle_on.is_some_and(|on| on <= day)
    }
}

#[derive(QueryableByName)]
struct GrantRow {
    #[diesel(sql_type = Text)]
    basis: Basis,
    #[diesel(sql_type = Nullable<Text>)]
    user_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    service: Option<String>,
    #[diesel(sql_type = Nullable<Bytea>)]
    pid_hash: Option<Vec<u8>>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    participant_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Date>)]
    valid_from: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    valid_until: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    settle_on: Option<NaiveDate>,
}

impl From<GrantRow> for Grant {
    fn from(r: GrantRow) -> Grant {
        Grant::from((
            r.basis,
            r.user_id,
            r.service,
            r.pid_hash,
            r.participant_id,
            r.valid_from,
            r.valid_until,
            r.settle_on,
        ))
    }
}

crate::prepared_statement! {
    /// The grants of one case that could be the caller's: by user id, by national id, or by service for an
    /// integration. The case's few rows come by its index; `choose` decides among them.
    pub struct CallersGrants<'a> {
        1 => case_id: &'a Uuid as SqlUuid,
        2 => municipality: &'a str as Text,
        3 => user_id: &'a str as Text,
        4 => pid_hash: Option<&'a [u8]> as Nullable<Bytea>,
        5 => services: &'a [String] as Array<Text>,
    }
    = "SELECT g.basis, g.user_id, g.service, g.pid_hash, g.participant_id, g.valid_from, g.valid_until, \
              g.settle_on \
         FROM case_grants g \
        WHERE g.case_id = $1 AND g.municipality = $2 \
          AND (g.user_id = $3 OR g.pid_hash = $4 OR (g.basis = 'integration' AND g.service = ANY($5)))";
}

/// The grants of `case_id` that could be the caller's.
pub fn callers(
    conn: &mut PgConnection,
    caller: &Caller,
    case_id: Uuid,
) -> Result<Vec<Grant>, AppError> {
    Ok(CallersGrants {
        case_id: &case_id,
        municipality: &caller.tenant,
        user_id: &caller.user_id,
        pid_hash: caller.pid_hash.as_deref(),
        services: &caller.services,
    }
    .load::<GrantRow>(conn)?
    .into_iter()
    .map(Grant::from)
    .collect())
}

/// Every grant of one case, as the database keeps them now.
pub fn of_case(conn: &mut PgConnection, case_id: Uuid) -> Result<Vec<Grant>, AppError> {
    Ok(diesel::sql_query(format!(
        "SELECT {GRANT_COLUMNS} FROM case_grants g WHERE g.case_id = $1 \
         ORDER BY g.basis, g.user_id, g.pid_hash, g.service, g.valid_from"
    ))
    .bind::<SqlUuid, _>(case_id)
    .load::<GrantRow>(conn)?
    .into_iter()
    .map(Grant::from)
    .collect())
}

/// Works the case's grants out again. The triggers do this on every change; a reader calls it after
/// settling an expiry that changed nothing, so that `settle_on` moves on.
pub fn refresh(conn: &mut PgConnection, case_id: Uuid) -> Result<(), AppError> {
    diesel::sql_query("SELECT refresh_case_grants(ARRAY[$1])")
        .bind::<SqlUuid, _>(case_id)
        .execute(conn)?;
    Ok(())
}
