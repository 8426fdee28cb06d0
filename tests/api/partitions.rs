//! The access log partitioned by month. The migration moves an existing, seeded table
//! without losing or changing a row; the queries by case and by actor stay index scans; the log stays
//! append-only; and a month is detached only once every case in it is purged and the longest retention
//! has passed.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::MigrationHarness;
use serde_json::Value;

use crate::family::{family, BARNEHAGE};
use crate::retention::close;
use crate::support::{owner_command, TestApp};

#[derive(QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    t: String,
}

fn text(conn: &mut PgConnection, sql: &str) -> String {
    diesel::sql_query(sql).get_result::<Text>(conn).unwrap().t
}

/// Every row of the access log, in one hash: the migration must move them unchanged.
fn fingerprint(app: &TestApp) -> String {
    text(
        &mut app.db(),
        "SELECT count(*) || ':' || md5(string_agg(e::text, '|' ORDER BY id)) AS t FROM access_events e",
    )
}

fn relkind(app: &TestApp) -> String {
    text(
        &mut app.db(),
        "SELECT relkind::text AS t FROM pg_class WHERE oid = 'access_events'::regclass",
    )
}

/// Years of history as an older deployment would have it: 60,000 reads spread over the open cases and
/// 50 staff from January 2024 on, plus March 2014 (only the purged case) and April 2014 (an open one).
fn seed_history(app: &TestApp, purged: &str, open: &[String]) {
    let ids = open
        .iter()
        .map(|id| format!("'{id}'::uuid"))
        .collect::<Vec<_>>()
        .join(",");
    app.db()
        .batch_execute(&format!(
            "INSERT INTO access_events (municipality, case_id, actor_user_id, actor_name, actor_role, action, \
                 resource, request_id, at, basis)
             SELECT '3805', (ARRAY[{ids}])[1 + g % {n}], 'staff-' || (g % 50), 'Syntetisk Ansatt', \
                 'professional', 'read', 'case', '', timestamptz '2024-01-01 00:00+00' + g * interval '24 minutes', \
                 'participant'
               FROM generate_series(1, 60000) g;
             INSERT INTO access_events (municipality, case_id, actor_user_id, actor_name, actor_role, action, \
                 resource, request_id, at, basis)
             SELECT '3805', c, 'staff-old', 'Syntetisk Ansatt', 'professional', 'read', 'case', '', at, 'participant'
               FROM (SELECT '{purged}'::uuid, timestamptz '2014-03-01 00:00+00' UNION ALL
                     SELECT '{purged}'::uuid, timestamptz '2014-03-31 23:59:59.999+00' UNION ALL
                     SELECT {first}, timestamptz '2014-04-15 12:00+00') AS x(c, at),
                    generate_series(1, 50);
             ANALYZE access_events;",
            n = open.len(),
            first = format_args!("'{}'::uuid", open[0]),
        ))
        .unwrap();
}

/// The plan of `sql` as the service's role sees it (row-level security on), one line per node.
fn plan_as_service(app: &TestApp, sql: &str) -> String {
    let mut conn = app.db();
    conn.batch_execute("SET ROLE stafettlogg_app; SET app.municipality = '3805'")
        .unwrap();
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
        line: String,
    }
    diesel::sql_query(format!("EXPLAIN {sql}"))
        .load::<Line>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_index_scans_only(plan: &str) {
    assert!(plan.contains("Index"), "{plan}");
    let seq: Vec<_> = plan
        .lines()
        .filter(|l| l.contains("Seq Scan") && !l.contains("access_events_default"))
        .collect();
    assert!(seq.is_empty(), "a monthly partition is read whole:\n{plan}");
}

#[actix_web::test]
async fn the_access_log_moves_into_monthly_partitions_whole_and_months_detach_only_after_retention()
{
    let f = family().await;
    close(&f).await;
    let purged = f.case_id.clone();
    let mut open = Vec::new();
    for i in 0..40 {
        let c = f
            .app
            .open_case(&f.ola, BARNEHAGE, &format!("Barn{i}"))
            .await;
        open.push(c["id"].as_str().unwrap().to_string());
    }
    f.app
        .db()
        .batch_execute(&format!(
            "UPDATE cases SET closed_at = closed_at - interval '11 years' WHERE id = '{purged}'; \
             UPDATE municipalities SET purge_unarchived = true WHERE number = '3805'"
        ))
        .unwrap();
    let (ok, said) = owner_command(&f.app.db_url, &["purge"]);
    assert!(ok, "{said}");

    // Back to the table as it was before the partitioning, and years of history in it.
    // Later migrations are reverted too, down to the one that partitioned the table.
    while relkind(&f.app) == "p" {
        f.app
            .db()
            .revert_last_migration(stafettlogg::db::migrate::MIGRATIONS)
            .unwrap();
    }
    seed_history(&f.app, &purged, &open);
    let before = fingerprint(&f.app);
    assert!(before.starts_with("60"), "{before}");

    stafettlogg::db::migrate::run_migrations(&f.app.db_url).unwrap();
    assert_eq!(relkind(&f.app), "p");
    assert_eq!(fingerprint(&f.app), before, "every row moved, unchanged");
    assert_eq!(f.app.count("access_events_default"), 0);
    // Each row sits in the partition of its month (UTC), from March 2014 to a year ahead.
    assert_eq!(
        f.app.count(
            "access_events WHERE to_char(at AT TIME ZONE 'UTC', 'YYYY_MM') <> substr(tableoid::regclass::text, 15)"
        ),
        0
    );
    assert_eq!(f.app.count("access_events_2014_03"), 100);
    let ahead = (chrono::Utc::now().date_naive() + chrono::Months::new(12))
        .format("access_events_%Y_%m")
        .to_string();
    assert_eq!(
        f.app.count(&format!(
            "pg_class WHERE relname = '{ahead}' AND relispartition"
        )),
        1
    );

    // The service's queries by case and by actor read indexes, not whole months.
    assert_index_scans_only(&plan_as_service(
        &f.app,
        &format!(
            "SELECT id, at, actor_user_id, action FROM access_events WHERE case_id = '{}' ORDER BY id DESC LIMIT 51",
            open[3]
        ),
    ));
    assert_index_scans_only(&plan_as_service(
        &f.app,
        "SELECT id, case_id FROM access_events WHERE actor_user_id = 'staff-7' ORDER BY id DESC LIMIT 51",
    ));

    // The service writes into this month's partition, and reads the history through the parent.
    let log: Value = f.json("/access-log?limit=200", &f.ola).await;
    assert!(!log["items"].as_array().unwrap().is_empty());
    let res = f
        .app
        .get(&format!("/api/v1/cases/{}", open[0]), &f.ola)
        .await;
    assert_eq!(res.status(), 200);
    let newest = text(
        &mut f.app.db(),
        "SELECT tableoid::regclass::text AS t FROM access_events ORDER BY id DESC LIMIT 1",
    );
    assert_eq!(
        newest,
        chrono::Utc::now().format("access_events_%Y_%m").to_string()
    );
    let history = f.app.count(&format!(
        "access_events WHERE case_id = '{}' AND at < '2015-01-01'",
        open[0]
    ));
    assert_eq!(history, 50);

    // Still append-only, on the parent and on a partition alike.
    for sql in [
        "DELETE FROM access_events WHERE actor_user_id = 'staff-old'",
        "UPDATE access_events_2014_04 SET actor_name = 'x'",
    ] {
        let err = f.app.db().batch_execute(sql).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }

    // March 2014 holds only the purged case and is older than the longest retention (10 years); April 2014
    // holds an open case's reads and stays.
    let detachable = stafettlogg::db::partitions::detachable(&mut f.app.db()).unwrap();
    let names: Vec<_> = detachable
        .iter()
        .map(|d| d.partition_name.as_str())
        .collect();
    assert_eq!(names.first(), Some(&"access_events_2014_03"), "{names:?}");
    assert_eq!(detachable[0].events, 100);
    assert!(!names.contains(&"access_events_2014_04"), "{names:?}");
    assert!(
        detachable[1..].iter().all(|d| d.events == 0),
        "{detachable:?}"
    );
    let horizon = chrono::Utc::now().date_naive() - chrono::Months::new(12 * 10);
    assert!(
        detachable
            .iter()
            .all(|d| d.month + chrono::Months::new(1) <= horizon),
        "{names:?}"
    );

    let (ok, said) = owner_command(&f.app.db_url, &["partitions", "--detach"]);
    assert!(ok, "{said}");
    assert!(
        said.contains("access_events_2014_03 (2014-03-01, 100 events): detached"),
        "{said}"
    );
    // Detached is not dropped: the month is a table of its own for the operator to archive.
    assert_eq!(
        f.app
            .count("pg_class WHERE relname = 'access_events_2014_03' AND NOT relispartition"),
        1
    );
    assert_eq!(f.app.count("access_events_2014_03"), 100);
    // Still append-only, on its own.
    let err = f
        .app
        .db()
        .batch_execute("DELETE FROM access_events_2014_03")
        .unwrap_err()
        .to_string();
    assert!(err.contains("append-only"), "{err}");
    assert_eq!(
        f.app.count(&format!(
            "access_events WHERE case_id = '{purged}' AND at < '2015-01-01'"
        )),
        0
    );
    assert_eq!(f.app.count("access_events WHERE at < '2015-01-01'"), 50);
    // A second run finds nothing more.
    let (ok, said) = owner_command(&f.app.db_url, &["partitions", "--detach"]);
    assert!(ok, "{said}");
    assert!(
        said.contains("0 month(s) of the access log detached"),
        "{said}"
    );
}

#[actix_web::test]
async fn a_missing_month_waits_for_no_long_reader_and_is_created_on_the_next_run() {
    let app = TestApp::spawn().await;
    let ahead = (chrono::Utc::now().date_naive() + chrono::Months::new(12))
        .format("access_events_%Y_%m")
        .to_string();
    let mut owner = app.db();
    owner.batch_execute(&format!("DROP TABLE {ahead}")).unwrap();
    // A long reader of the log (an export, a dump) holds its lock.
    let mut reader = app.db();
    reader
        .batch_execute("BEGIN; SELECT count(*) FROM access_events")
        .unwrap();
    // Creating the month needs the log exclusively: it gives up at once instead of queueing every
    // request's access event behind the reader, and says so without failing.
    assert_eq!(
        stafettlogg::db::partitions::ensure_ahead(&mut owner).unwrap(),
        0
    );
    assert_eq!(app.count(&format!("pg_class WHERE relname = '{ahead}'")), 0);
    reader.batch_execute("COMMIT").unwrap();
    assert_eq!(
        stafettlogg::db::partitions::ensure_ahead(&mut owner).unwrap(),
        1
    );
    assert_eq!(
        app.count(&format!(
            "pg_class WHERE relname = '{ahead}' AND relispartition"
        )),
        1
    );
}
