//! Queries of the guide: drafts, published versions, and what the public page shows besides the guide.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::document::{default_document, GuideDocument};
use crate::db::schema::{
    case_step_moves, guide_drafts, guide_versions, level_definitions, services,
};
use crate::http::error::AppError;
use crate::services::api::{ServiceContact, ServiceKind};

use super::api::PublicService;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = guide_drafts)]
pub struct DraftRow {
    pub document: serde_json::Value,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = guide_versions)]
pub struct VersionRow {
    pub number: i32,
    pub document: serde_json::Value,
    pub published_at: DateTime<Utc>,
    pub published_by: String,
}

/// A case's move to a step, as recorded.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = case_step_moves)]
pub struct MoveRow {
    pub id: Uuid,
    pub guide_version: i32,
    pub level: i16,
    pub step_key: String,
    pub step_title: String,
    pub note: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by_participant: Uuid,
    pub recorded_by_name: String,
}

/// A move about to be recorded: the case stands on `placement` at `level`, moved by a participant.
pub struct NewMove<'a> {
    pub case_id: Uuid,
    pub level: i16,
    pub placement: &'a super::rules::Placement,
    pub note: Option<&'a str>,
    pub by_participant: Uuid,
    pub by_name: &'a str,
}

pub fn record_move(conn: &mut PgConnection, m: &NewMove) -> Result<MoveRow, AppError> {
    Ok(diesel::insert_into(case_step_moves::table)
        .values((
            case_step_moves::id.eq(Uuid::now_v7()),
            case_step_moves::case_id.eq(m.case_id),
            case_step_moves::guide_version.eq(m.placement.version),
            case_step_moves::level.eq(m.level),
            case_step_moves::step_key.eq(&m.placement.step.key),
            case_step_moves::step_title.eq(&m.placement.step.title),
            case_step_moves::note.eq(m.note),
            case_step_moves::recorded_by_participant.eq(m.by_participant),
            case_step_moves::recorded_by_name.eq(m.by_name),
        ))
        .returning(MoveRow::as_returning())
        .get_result(conn)?)
}

/// A stored document read back. It was checked when written, so failing to read it is a server fault,
/// never the reader's.
pub fn parse(value: serde_json::Value) -> Result<GuideDocument, AppError> {
    serde_json::from_value(value).map_err(|e| {
        log::error!("a stored guide document does not read back: {e}");
        AppError::internal()
    })
}

pub fn to_json(doc: &GuideDocument) -> serde_json::Value {
    serde_json::to_value(doc).expect("a guide document serializes")
}

pub fn draft(conn: &mut PgConnection, municipality: &str) -> Result<Option<DraftRow>, AppError> {
    Ok(guide_drafts::table
        .find(municipality)
        .select(DraftRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn draft_locked(
    conn: &mut PgConnection,
    municipality: &str,
) -> Result<Option<DraftRow>, AppError> {
    Ok(guide_drafts::table
        .find(municipality)
        .select(DraftRow::as_select())
        .for_update()
        .first(conn)
        .optional()?)
}

/// Writes the draft: the first one at version 1, later ones one version up.
pub fn save_draft(
    conn: &mut PgConnection,
    municipality: &str,
    doc: &GuideDocument,
    by: &str,
) -> Result<DraftRow, AppError> {
    Ok(diesel::insert_into(guide_drafts::table)
        .values((
            guide_drafts::municipality.eq(municipality),
            guide_drafts::document.eq(to_json(doc)),
            guide_drafts::updated_by.eq(by),
        ))
        .on_conflict(guide_drafts::municipality)
        .do_update()
        .set((
            guide_drafts::document.eq(to_json(doc)),
            guide_drafts::updated_by.eq(by),
            guide_drafts::updated_at.eq(diesel::dsl::now),
            guide_drafts::version.eq(guide_drafts::version + 1),
        ))
        .returning(DraftRow::as_returning())
        .get_result(conn)?)
}

/// The newest published version, if any.
pub fn newest(conn: &mut PgConnection, municipality: &str) -> Result<Option<VersionRow>, AppError> {
    Ok(guide_versions::table
        .filter(guide_versions::municipality.eq(municipality))
        .order(guide_versions::number.desc())
        .select(VersionRow::as_select())
        .first(conn)
        .optional()?)
}

/// The guide in force: the newest published version, or the project's default guide as version 0.
pub fn current(
    conn: &mut PgConnection,
    municipality: &str,
) -> Result<(i32, GuideDocument), AppError> {
    match newest(conn, municipality)? {
        Some(row) => Ok((row.number, parse(row.document)?)),
        None => Ok((0, default_document().clone())),
    }
}

pub fn version(
    conn: &mut PgConnection,
    municipality: &str,
    number: i32,
) -> Result<Option<VersionRow>, AppError> {
    Ok(guide_versions::table
        .find((municipality, number))
        .select(VersionRow::as_select())
        .first(conn)
        .optional()?)
}

/// Newest first, numbers below `before`.
pub fn versions(
    conn: &mut PgConnection,
    municipality: &str,
    before: Option<i32>,
    limit: i64,
) -> Result<Vec<(i32, DateTime<Utc>, String)>, AppError> {
    let mut q = guide_versions::table
        .filter(guide_versions::municipality.eq(municipality))
        .order(guide_versions::number.desc())
        .select((
            guide_versions::number,
            guide_versions::published_at,
            guide_versions::published_by,
        ))
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        q = q.filter(guide_versions::number.lt(before));
    }
    Ok(q.load(conn)?)
}

/// Publishes `doc` as the next number. The draft row is locked by the caller, so two publishes of one
/// municipality take turns; the primary key refuses a duplicate number in any case.
pub fn publish(
    conn: &mut PgConnection,
    municipality: &str,
    doc: &serde_json::Value,
    by: &str,
) -> Result<VersionRow, AppError> {
    let next = newest_number(conn, municipality)?.unwrap_or(0) + 1;
    Ok(diesel::insert_into(guide_versions::table)
        .values((
            guide_versions::municipality.eq(municipality),
            guide_versions::number.eq(next),
            guide_versions::document.eq(doc),
            guide_versions::published_by.eq(by),
        ))
        .returning(VersionRow::as_returning())
        .get_result(conn)?)
}

fn newest_number(conn: &mut PgConnection, municipality: &str) -> Result<Option<i32>, AppError> {
    Ok(guide_versions::table
        .filter(guide_versions::municipality.eq(municipality))
        .select(diesel::dsl::max(guide_versions::number))
        .first(conn)?)
}

/// The active services with their public contact details, by code.
pub fn public_services(
    conn: &mut PgConnection,
    municipality: &str,
) -> Result<Vec<PublicService>, AppError> {
    type Row = (
        String,
        String,
        ServiceKind,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = services::table
        .filter(services::municipality.eq(municipality))
        .filter(services::active.eq(true))
        .order(services::code.asc())
        .select((
            services::code,
            services::name,
            services::kind,
            services::contact_phone,
            services::contact_email,
            services::contact_address,
            services::contact_web,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(code, name, kind, phone, email, address, web)| PublicService {
                code,
                name,
                kind,
                contact: ServiceContact::from_columns(phone, email, address, web),
            },
        )
        .collect())
}

/// The level names of the municipality's level definitions, the standard names where it has none.
pub fn level_names(conn: &mut PgConnection, municipality: &str) -> Result<[String; 4], AppError> {
    let mut names = crate::levels::store::DEFAULT_LEVELS.map(|(_, name, _)| name.to_string());
    let rows: Vec<(i16, String)> = level_definitions::table
        .filter(level_definitions::municipality.eq(municipality))
        .select((level_definitions::level, level_definitions::name))
        .load(conn)?;
    for (level, name) in rows {
        if let Some(slot) = usize::try_from(level).ok().and_then(|l| names.get_mut(l)) {
            *slot = name;
        }
    }
    Ok(names)
}
