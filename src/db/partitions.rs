//! The access log's monthly partitions (migration 000019): kept a year ahead, and detached once the
//! retention allows. The SQL functions hold the rules; this is what the commands and the start call.
//!
//! - `stafettlogg_ensure_access_partitions` runs after every migration run (so at every start of the
//!   service) and every `purge`: a service that runs for years without a restart still gets its months as
//!   long as the daily purge runs. A month that was missed anyway lands in the default partition, never
//!   lost.
//! - A month may be detached when every case with an event in it is purged and the month ended longer
//!   ago than the longest `retention_years`. Detaching keeps it as a table of its own, for the operator
//!   to archive (pg_dump -t) and drop: the service never drops any part of the access log itself.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Text};

/// How many months after the current one have their partition ready.
pub const MONTHS_AHEAD: i32 = 12;

/// Creates the missing partitions up to [`MONTHS_AHEAD`]; how many it created.
pub fn ensure_ahead(conn: &mut PgConnection) -> QueryResult<i32> {
    #[derive(QueryableByName)]
    struct Created {
        #[diesel(sql_type = Integer)]
        created: i32,
    }
    let row: Created =
        diesel::sql_query("SELECT stafettlogg_ensure_access_partitions($1) AS created")
            .bind::<Integer, _>(MONTHS_AHEAD)
            .get_result(conn)?;
    Ok(row.created)
}

/// A month of the access log that the retention allows to detach.
#[derive(Debug, QueryableByName, PartialEq)]
pub struct Detachable {
    #[diesel(sql_type = Text)]
    pub partition_name: String,
    #[diesel(sql_type = Date)]
    pub month: chrono::NaiveDate,
    #[diesel(sql_type = BigInt)]
    pub events: i64,
}

/// The months that may be detached now, oldest first.
pub fn detachable(conn: &mut PgConnection) -> QueryResult<Vec<Detachable>> {
    diesel::sql_query(
        "SELECT partition_name, month, events FROM stafettlogg_detachable_access_partitions()",
    )
    .load(conn)
}

/// Detaches every month that may be detached, in one transaction (under the partition lock, so a
/// concurrent run detaches nothing twice); what it detached.
///
/// Detaching locks the whole log exclusively (`CONCURRENTLY` is refused beside a default partition), so
/// it waits at most 5 s for a long reader and then fails without detaching anything: run it again. A
/// detached month loses the triggers it had from the log, so it gets its own append-only trigger back.
pub fn detach(conn: &mut PgConnection) -> QueryResult<Vec<Detachable>> {
    conn.transaction(|conn| {
        conn.batch_execute(
            "SET LOCAL lock_timeout = '5s'; \
             SELECT pg_advisory_xact_lock(hashtext('stafettlogg.access_partitions'))",
        )?;
        let months = detachable(conn)?;
        for m in &months {
            // The name comes from pg_class and matches ^access_events_\d{4}_\d{2}$ (the function's filter).
            let name = &m.partition_name;
            conn.batch_execute(&format!(
                "ALTER TABLE access_events DETACH PARTITION \"{name}\"; \
                 CREATE TRIGGER access_events_append_only BEFORE UPDATE OR DELETE ON \"{name}\" \
                     FOR EACH ROW EXECUTE FUNCTION forbid_change()"
            ))?;
        }
        Ok(months)
    })
}
