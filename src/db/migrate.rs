//! The schema's migrations, embedded in the binary, and how they are applied.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::network::with_network_limits;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Applies pending migrations. An advisory lock serialises concurrent migrators (several instances
/// starting at once, or parallel test processes on one server).
pub fn run_migrations(url: &str) -> Result<Vec<String>, String> {
    let mut conn = PgConnection::establish(&with_network_limits(url))
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    conn.batch_execute("SELECT pg_advisory_lock(7215001)")
        .map_err(|e| format!("cannot take the migration lock: {e}"))?;
    let result = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|applied| applied.iter().map(|m| m.to_string()).collect())
        .map_err(|e| format!("migration failed: {e}"))
        .and_then(|applied| {
            crate::db::partitions::ensure_ahead(&mut conn)
                .map_err(|e| format!("cannot create the access log's partitions: {e}"))?;
            Ok(applied)
        });
    let _ = conn.batch_execute("SELECT pg_advisory_unlock(7215001)");
    result
}
