//! Each case knows its step in the guide. The step is copied onto the case's row (version, key, title and
//! the next step), so reading a case costs no query of its own and a step that a newer version removed
//! still reads as it was. Moves take the guide in force when they happen.

use diesel::PgConnection;
use uuid::Uuid;

use super::api::{CaseGuideStep, NextStep};
use super::rules::{self, Placement};
use super::store;
use crate::cases::store::CaseRow;
use crate::http::error::AppError;

/// The first step of `level` in the municipality's guide in force. A level without a step for employees
/// cannot be published, so this only fails on a database error.
pub fn first_step(
    conn: &mut PgConnection,
    municipality: &str,
    level: i16,
) -> Result<Placement, AppError> {
    let (version, doc) = store::current(conn, municipality)?;
    rules::first_step_of_level(&doc, version, level).ok_or_else(|| {
        log::error!("guide version {version} has no step for employees at level {level}");
        AppError::internal()
    })
}

/// Imported cases stand on the first step of their level in the guide in force: one statement per level,
/// whatever the number of cases (the document carries no step: the guide is the importing
/// municipality's).
pub fn place_imported(
    conn: &mut PgConnection,
    municipality: &str,
    cases: &[(Uuid, i16)],
) -> Result<(), AppError> {
    let (version, doc) = store::current(conn, municipality)?;
    for level in 0..=3 {
        let ids: Vec<Uuid> = cases
            .iter()
            .filter(|(_, l)| *l == level)
            .map(|(id, _)| *id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        let Some(p) = rules::first_step_of_level(&doc, version, level) else {
            continue;
        };
        crate::cases::store::place_on_step(conn, &ids, &p)?;
    }
    Ok(())
}

/// The case answer's `guide_step` and `next_step`, from its row alone.
pub fn view(c: &CaseRow) -> (Option<CaseGuideStep>, Option<NextStep>) {
    let step = match (c.guide_version, &c.guide_step_key, &c.guide_step_title) {
        (Some(version), Some(key), Some(title)) => Some(CaseGuideStep {
            level: c.level,
            key: key.clone(),
            title: title.clone(),
            guide_version: version,
        }),
        _ => None,
    };
    let next = match (&c.guide_next_key, &c.guide_next_title) {
        (Some(key), Some(title)) => Some(NextStep {
            key: key.clone(),
            title: title.clone(),
        }),
        _ => None,
    };
    (step, next)
}
