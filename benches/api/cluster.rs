//! The throwaway PostgreSQL both the service and pgbench use: the project's own test cluster (fsync off,
//! a private Unix socket, a watchdog that removes it if this process dies), restarted once with
//! pg_stat_statements loaded so the statements each run sends can be counted on the server side.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use diesel::connection::SimpleConnection;
use diesel::sql_types::BigInt;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use stafettlogg::db::embedded::{find_bindir, Cluster};

pub struct BenchCluster {
    cluster: Cluster,
    pgdata: PathBuf,
    pub database: String,
    service_url: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

impl BenchCluster {
    /// A fresh cluster with one migrated database, the service's role allowed to log in.
    pub fn start(database: &str) -> BenchCluster {
        let cluster = Cluster::start_throwaway().expect("a throwaway PostgreSQL cluster");
        let mut conn = PgConnection::establish(&cluster.url("postgres")).expect("the cluster");
        let pgdata: String = show(&mut conn, "data_directory");
        // The guard exists before the restart, so a failure below still stops the cluster.
        let mut guard = BenchCluster {
            cluster,
            pgdata: PathBuf::from(pgdata),
            database: database.to_string(),
            service_url: String::new(),
        };
        // shared_buffers: the 128 MB default would make a 100k-case run mostly a page-cache benchmark.
        // One statement at a time: ALTER SYSTEM refuses the implicit transaction of a batch.
        for setting in [
            "shared_preload_libraries = 'pg_stat_statements'",
            "shared_buffers = '512MB'",
        ] {
            conn.batch_execute(&format!("ALTER SYSTEM SET {setting}"))
                .expect("ALTER SYSTEM");
        }
        drop(conn);
        guard.restart();
        let mut conn = guard.owner();
        conn.batch_execute(&format!("CREATE DATABASE {database}"))
            .expect("CREATE DATABASE");
        let mut db = PgConnection::establish(&guard.owner_url()).expect("the bench database");
        // In a schema of its own: the server refuses to start while its role may read a relation of
        // `public` that has no row-level security, and the extension's views are readable by everyone.
        db.batch_execute("CREATE SCHEMA pgss; CREATE EXTENSION pg_stat_statements SCHEMA pgss")
            .expect("pg_stat_statements (contrib of the PostgreSQL server package)");
        stafettlogg::db::migrate::run_migrations(&guard.owner_url()).expect("migrations");
        // The migrations create the role; the cluster lets it log in over its private socket.
        guard.service_url = guard
            .cluster
            .service_url(database)
            .expect("a login for the service role");
        guard
    }

    /// `pg_ctl restart` keeps the options the cluster was started with (its socket directory).
    fn restart(&self) {
        let pg_ctl = find_bindir().expect("PostgreSQL binaries").join("pg_ctl");
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(pg_ctl);
            c
        } else {
            Command::new(pg_ctl)
        };
        // With its log file: without one the new postmaster would keep this process's pipes open and
        // `output()` would wait for it forever.
        let out = cmd
            .args(["restart", "-m", "fast", "-w", "-t", "60", "-D"])
            .arg(&self.pgdata)
            .arg("-l")
            .arg(self.pgdata.join("server.log"))
            // Its own process group, like the cluster's first start: Ctrl-C reaches this process only,
            // whose guards then stop the server before the database.
            .process_group(0)
            .stdin(Stdio::null())
            .output()
            .expect("pg_ctl");
        assert!(
            out.status.success(),
            "pg_ctl restart failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The superuser's URL of the bench database (migrations, seeding checks, counting statements).
    pub fn owner_url(&self) -> String {
        self.cluster.url(&self.database)
    }

    pub fn owner(&self) -> PgConnection {
        PgConnection::establish(&self.cluster.url("postgres")).expect("the cluster")
    }

    pub fn bench_db(&self) -> PgConnection {
        PgConnection::establish(&self.owner_url()).expect("the bench database")
    }

    /// The service's restricted login (row-level security applies to it), as the server and pgbench use.
    pub fn service_url(&self) -> &str {
        &self.service_url
    }

    /// Statements the service role has sent to the bench database so far, and the shared buffers they
    /// touched (hit or read), by pg_stat_statements (each statement of a batch counts; the difference
    /// across a run is what the run sent). Pages touched per request do not depend on the machine's
    /// cache: equal at 100k and 1M cases is what "flat" means for the plan.
    pub fn statements_of_service_role(&self) -> (i64, i64) {
        #[derive(QueryableByName)]
        struct Totals {
            #[diesel(sql_type = BigInt)]
            calls: i64,
            #[diesel(sql_type = BigInt)]
            blocks: i64,
        }
        let t = diesel::sql_query(
            "SELECT coalesce(sum(s.calls), 0)::bigint AS calls,
                    coalesce(sum(s.shared_blks_hit + s.shared_blks_read), 0)::bigint AS blocks
             FROM pgss.pg_stat_statements s
             JOIN pg_roles r ON r.oid = s.userid
             WHERE r.rolname = 'stafettlogg_app' AND s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .get_result::<Totals>(&mut self.bench_db())
        .expect("pg_stat_statements");
        (t.calls, t.blocks)
    }

    /// The cluster's postmaster (the first line of `postmaster.pid`): its backends are its children.
    pub fn postmaster_pid(&self) -> u32 {
        std::fs::read_to_string(self.pgdata.join("postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next()?.trim().parse().ok())
            .expect("postmaster.pid")
    }

    pub fn count(&self, sql: &str) -> i64 {
        diesel::sql_query(sql)
            .get_result::<Count>(&mut self.bench_db())
            .expect("a count")
            .n
    }
}

impl Drop for BenchCluster {
    fn drop(&mut self) {
        // The watchdog would remove it after this process exits; stopping here frees the CPU and the
        // disk now, and the directory goes with it.
        let _ = self.cluster.stop();
        // Only the directory start_throwaway made, never whatever a surprising data_directory names.
        if let Some(root) = self.pgdata.parent().filter(|r| {
            r.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("stafettlogg-test-"))
        }) {
            let _ = std::fs::remove_dir_all(root);
        }
    }
}

fn show(conn: &mut PgConnection, setting: &str) -> String {
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    diesel::sql_query(format!("SELECT current_setting('{setting}') AS value"))
        .get_result::<Setting>(conn)
        .expect("a setting")
        .value
}

/// initdb and postgres refuse to run as root; the project's cluster then runs them as `postgres`.
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}
