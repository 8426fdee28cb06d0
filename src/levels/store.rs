use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::api::{LevelDefinition, LevelDefinitionInput};
use crate::db::schema::level_definitions;
use crate::http::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = level_definitions)]
pub struct LevelRow {
    pub municipality: String,
    pub level: i16,
    pub name: String,
    pub description: String,
    pub guidance: String,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

/// The standard Norwegian levels of the BTI action path.
pub const DEFAULT_LEVELS: [(i16, &str, &str); 4] = [
    (0, "Undring / bekymring", "En ansatt setter ord på en undring eller bekymring, drøfter med kollega eller leder, snakker med barnet og foresatte, og beslutter innen fristen: avslutte, gå til nivå 1 eller 2, eller melde til barnevernet."),
    (1, "Tiltak i egen tjeneste", "Tiltak i egen tjeneste sammen med familien. En stafettholder er utnevnt."),
    (2, "Tverrfaglig samarbeid", "Enkelt samarbeid, vanligvis mellom to tjenester."),
    (3, "Utvidet tverrfaglig samarbeid", "Bred koordinering mellom flere tjenester."),
];

pub fn seed_defaults(conn: &mut PgConnection, municipality: &str) -> Result<(), AppError> {
    let rows: Vec<_> = DEFAULT_LEVELS
        .iter()
        .map(|(level, name, description)| {
            (
                level_definitions::municipality.eq(municipality),
                level_definitions::level.eq(*level),
                level_definitions::name.eq(*name),
                level_definitions::description.eq(*description),
            )
        })
        .collect();
    diesel::insert_into(level_definitions::table)
        .values(&rows)
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(())
}

pub fn list(conn: &mut PgConnection, municipality: &str) -> Result<Vec<LevelRow>, AppError> {
    Ok(level_definitions::table
        .filter(level_definitions::municipality.eq(municipality))
        .order(level_definitions::level.asc())
        .select(LevelRow::as_select())
        .load(conn)?)
}

pub fn find_locked(
    conn: &mut PgConnection,
    municipality: &str,
    level: i16,
) -> Result<LevelRow, AppError> {
    Ok(level_definitions::table
        .find((municipality, level))
        .select(LevelRow::as_select())
        .for_update()
        .first(conn)?)
}

pub fn update(
    conn: &mut PgConnection,
    municipality: &str,
    level: i16,
    input: &LevelDefinitionInput,
) -> Result<LevelRow, AppError> {
    Ok(
        diesel::update(level_definitions::table.find((municipality, level)))
            .set((
                level_definitions::name.eq(&input.name),
                level_definitions::description.eq(&input.description),
                level_definitions::guidance.eq(&input.guidance),
                level_definitions::version.eq(level_definitions::version + 1),
            ))
            .returning(LevelRow::as_returning())
            .get_result(conn)?,
    )
}

impl From<LevelRow> for LevelDefinition {
    fn from(r: LevelRow) -> Self {
        LevelDefinition {
            level: r.level,
            name: r.name,
            description: r.description,
            guidance: r.guidance,
            version: r.version,
            updated_at: r.updated_at,
        }
    }
}
