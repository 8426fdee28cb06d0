//! Multi-row inserts of any number of rows. PostgreSQL takes at most 65,535 bind parameters in one
//! statement; a row binds at most one parameter per column, so [`ROWS_PER_STATEMENT`] rows of the widest
//! table stay below that (a test checks every table of the schema against [`WIDEST_TABLE`]).

use crate::http::error::AppError;

/// No table of the schema has more columns than this.
const WIDEST_TABLE: usize = 32;
const ROWS_PER_STATEMENT: usize = 65_535 / WIDEST_TABLE;

/// Writes `rows` with `insert` (a multi-row insert of the slice it is given), in as few statements as
/// the parameter limit allows: one for up to [`ROWS_PER_STATEMENT`] rows, none for none. E.g.
/// `bulk::insert(&rows, |chunk| diesel::insert_into(cases::table).values(chunk).execute(conn))`.
pub fn insert<R>(
    rows: &[R],
    mut insert: impl FnMut(&[R]) -> diesel::QueryResult<usize>,
) -> Result<(), AppError> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        insert(chunk)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The columns of each `diesel::table!` in schema.rs, by table name.
    fn tables(schema: &str) -> Vec<(String, usize)> {
        let mut out = vec![];
        let mut lines = schema.lines();
        while let Some(line) = lines.next() {
            if line.trim() != "diesel::table! {" {
                continue;
            }
            let name = lines.next().unwrap_or_default().trim().to_string();
            let columns = lines
                .by_ref()
                .take_while(|l| l.trim() != "}")
                .filter(|l| l.contains("->"))
                .count();
            out.push((name, columns));
        }
        out
    }

    #[test]
    fn no_table_is_wider_than_a_chunk_allows() {
        let tables = tables(include_str!("schema.rs"));
        assert!(tables.len() > 10, "schema.rs is read: {tables:?}");
        for (name, columns) in tables {
            assert!(columns <= WIDEST_TABLE, "{name} has {columns} columns");
        }
    }
}
