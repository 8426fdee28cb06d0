use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::api::{NewServiceRequest, Service, ServiceContact, ServicePatch};
use crate::db::schema::services;
use crate::http::error::AppError;
use crate::patch::{differs, Patched};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = services)]
pub struct ServiceRow {
    pub id: Uuid,
    pub municipality: String,
    pub code: String,
    pub name: String,
    pub kind: crate::services::api::ServiceKind,
    pub org_number: Option<String>,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub contact_address: Option<String>,
    pub contact_web: Option<String>,
}

#[derive(AsChangeset)]
#[diesel(table_name = services)]
struct ServiceChanges<'a> {
    name: Option<&'a str>,
    kind: Option<crate::services::api::ServiceKind>,
    org_number: Option<&'a str>,
    active: Option<bool>,
    // `Some(None)` clears a column: a contact in a patch replaces all four.
    contact_phone: Option<Option<&'a str>>,
    contact_email: Option<Option<&'a str>>,
    contact_address: Option<Option<&'a str>>,
    contact_web: Option<Option<&'a str>>,
}

pub fn list(
    conn: &mut PgConnection,
    municipality: &str,
    active: Option<bool>,
    after_code: Option<&str>,
    limit: i64,
) -> Result<Vec<ServiceRow>, AppError> {
    let mut q = services::table
        .filter(services::municipality.eq(municipality))
        .select(ServiceRow::as_select())
        .order(services::code.asc())
        .limit(limit)
        .into_boxed();
    if let Some(active) = active {
        q = q.filter(services::active.eq(active));
    }
    if let Some(after) = after_code {
        q = q.filter(services::code.gt(after));
    }
    Ok(q.load(conn)?)
}

pub fn insert(
    conn: &mut PgConnection,
    municipality: &str,
    s: &NewServiceRequest,
) -> Result<ServiceRow, AppError> {
    let exists: i64 = services::table
        .filter(services::municipality.eq(municipality))
        .filter(services::code.eq(&s.code))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Err(AppError::conflict(format!(
            "a service with code `{}` already exists",
            s.code
        )));
    }
    Ok(diesel::insert_into(services::table)
        .values((
            services::id.eq(Uuid::now_v7()),
            services::municipality.eq(municipality),
            services::code.eq(&s.code),
            services::name.eq(&s.name),
            services::kind.eq(s.kind),
            services::org_number.eq(&s.org_number),
            services::active.eq(s.active),
            services::contact_phone.eq(s.contact.as_ref().and_then(|c| c.phone.as_deref())),
            services::contact_email.eq(s.contact.as_ref().and_then(|c| c.email.as_deref())),
            services::contact_address.eq(s.contact.as_ref().and_then(|c| c.address.as_deref())),
            services::contact_web.eq(s.contact.as_ref().and_then(|c| c.web.as_deref())),
        ))
        .returning(ServiceRow::as_returning())
        .get_result(conn)?)
}

pub fn find_locked(
    conn: &mut PgConnection,
    municipality: &str,
    id: Uuid,
) -> Result<ServiceRow, AppError> {
    services::table
        .filter(services::id.eq(id))
        .filter(services::municipality.eq(municipality))
        .select(ServiceRow::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("service"))
}

/// Applies the patch to `current` (the row as locked); a patch that alters nothing writes nothing
/// (`crate::patch`).
pub fn update(
    conn: &mut PgConnection,
    current: ServiceRow,
    p: &ServicePatch,
) -> Result<Patched<ServiceRow>, AppError> {
    let changes = ServiceChanges {
        name: p.name.as_deref(),
        kind: p.kind,
        org_number: p.org_number.as_deref(),
        active: p.active,
        contact_phone: p.contact.as_ref().map(|c| c.phone.as_deref()),
        contact_email: p.contact.as_ref().map(|c| c.email.as_deref()),
        contact_address: p.contact.as_ref().map(|c| c.address.as_deref()),
        contact_web: p.contact.as_ref().map(|c| c.web.as_deref()),
    };
    let alter = changes.alters(&current);
    Patched::unless_unchanged(current, alter, |current| {
        Ok(diesel::update(services::table.find(current.id))
            .set((&changes, services::version.eq(services::version + 1)))
            .returning(ServiceRow::as_returning())
            .get_result(conn)?)
    })
}

impl ServiceChanges<'_> {
    fn alters(&self, row: &ServiceRow) -> bool {
        differs(self.name, row.name.as_str())
            || differs(self.kind.as_ref(), &row.kind)
            || differs(
                self.org_number.map(Some).as_ref(),
                &row.org_number.as_deref(),
            )
            || differs(self.active.as_ref(), &row.active)
            || differs(self.contact_phone.as_ref(), &row.contact_phone.as_deref())
            || differs(self.contact_email.as_ref(), &row.contact_email.as_deref())
            || differs(
                self.contact_address.as_ref(),
                &row.contact_address.as_deref(),
            )
            || differs(self.contact_web.as_ref(), &row.contact_web.as_deref())
    }
}

/// The codes of every service of the municipality, active or not.
pub fn codes(conn: &mut PgConnection, municipality: &str) -> Result<Vec<String>, AppError> {
    Ok(services::table
        .filter(services::municipality.eq(municipality))
        .select(services::code)
        .load(conn)?)
}

/// The code and kind of each of the municipality's services (active or not).
pub fn kinds(
    conn: &mut PgConnection,
    municipality: &str,
) -> Result<Vec<(String, crate::services::api::ServiceKind)>, AppError> {
    Ok(services::table
        .filter(services::municipality.eq(municipality))
        .select((services::code, services::kind))
        .load(conn)?)
}

/// The kinds of the services of `codes` (each once).
pub fn kinds_of(
    conn: &mut PgConnection,
    codes: &[String],
) -> Result<Vec<crate::services::api::ServiceKind>, AppError> {
    Ok(services::table
        .filter(services::code.eq_any(codes))
        .select(services::kind)
        .distinct()
        .load(conn)?)
}

/// The active service with this code in the municipality, if any.
pub fn find_active_by_code(
    conn: &mut PgConnection,
    municipality: &str,
    code: &str,
) -> Result<Option<ServiceRow>, AppError> {
    Ok(services::table
        .filter(services::municipality.eq(municipality))
        .filter(services::code.eq(code))
        .filter(services::active.eq(true))
        .select(ServiceRow::as_select())
        .first(conn)
        .optional()?)
}

impl From<ServiceRow> for Service {
    fn from(r: ServiceRow) -> Self {
        Service {
            id: r.id,
            kind: r.kind,
            code: r.code,
            name: r.name,
            org_number: r.org_number,
            active: r.active,
            contact: ServiceContact::from_columns(
                r.contact_phone,
                r.contact_email,
                r.contact_address,
                r.contact_web,
            ),
            version: r.version,
            created_at: r.created_at,
        }
    }
}
