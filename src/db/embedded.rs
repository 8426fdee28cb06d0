//! A PostgreSQL cluster this process manages itself, for `cargo run` without `DATABASE_URL` and for tests.
//!
//! Why a socket and not a port: a Unix socket in a directory of our own cannot clash with another
//! PostgreSQL on the machine. Why `runuser`: `initdb` and `postgres` refuse to run as root, so as root we
//! run them as the `postgres` user, on directories that user owns.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use diesel::connection::SimpleConnection;

/// Unix socket paths are limited to about 107 bytes (sun_path); leave room for `/.s.PGSQL.5432`.
const MAX_SOCKET_DIR_LEN: usize = 90;
const PORT: u16 = 5432;

#[derive(Debug)]
pub struct Cluster {
    bindir: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    as_postgres: bool,
    /// This process started the server (it was not running already): only then does it stop it.
    started_here: bool,
}

fn is_root() -> bool {
    // The effective uid, from /proc: enough on Linux and needs no unsafe libc call.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// Where `initdb`, `pg_ctl` and `postgres` live: `PG_BINDIR`, then `pg_config --bindir`, then the newest
/// `/usr/lib/postgresql/*/bin`, then `PATH`.
pub fn find_bindir() -> Result<PathBuf, String> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Ok(dir) = std::env::var("PG_BINDIR") {
        let dir = PathBuf::from(dir);
        if has_tools(&dir) {
            return Ok(dir);
        }
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_tools(&dir) {
            return Ok(dir);
        }
    }
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            has_tools(&bin).then_some((v, bin))
        })
        .collect();
    versioned.sort();
    if let Some((_, dir)) = versioned.pop() {
        return Ok(dir);
    }
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(dir) = std::env::split_paths(&path).find(|d| has_tools(d)) {
            return Ok(dir);
        }
    }
    Err("PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found.\n\
         Install them (Debian/Ubuntu: `apt-get install postgresql`; Fedora: `dnf install postgresql-server`; \
         macOS: `brew install postgresql@15`), or set PG_BINDIR to their directory,\n\
         or set DATABASE_URL=postgres://user:password@host/dbname to use a PostgreSQL you already run."
        .into())
}

impl Cluster {
    fn command(&self, program: &str) -> Command {
        let exe = self.bindir.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let out = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {program}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    fn chown_to_postgres(&self, dir: &Path) -> Result<(), String> {
        if !self.as_postgres {
            return Ok(());
        }
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir)
            .status()
            .map_err(|e| format!("cannot run chown: {e}"))?;
        if !status.success() {
            return Err(format!(
                "cannot hand {} to the postgres user",
                dir.display()
            ));
        }
        // The postgres user must be able to walk down to its directory.
        let reachable = Command::new("runuser")
            .args(["-u", "postgres", "--", "test", "-w"])
            .arg(dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !reachable {
            return Err(format!(
                "the `postgres` user cannot reach {} (a parent directory is not traversable for it).\n\
                 Set DATA_DIR to a directory it can reach (for example DATA_DIR=/var/lib/stafettlogg), \
                 make the parents traversable (chmod o+x), or set DATABASE_URL.",
                dir.display()
            ));
        }
        Ok(())
    }

    fn is_running(&self) -> bool {
        self.command("pg_ctl")
            .arg("status")
            .arg("-D")
            .arg(&self.pgdata)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    fn init(&self, extra_settings: &str) -> Result<(), String> {
        std::fs::create_dir_all(&self.pgdata)
            .map_err(|e| format!("cannot create {}: {e}", self.pgdata.display()))?;
        self.chown_to_postgres(&self.pgdata)?;
        let pgdata = self.pgdata.to_string_lossy().to_string();
        self.run(
            "initdb",
            &[
                "-D",
                &pgdata,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
        )?;
        let conf = format!(
            "\n# Written by stafettlogg: only a private Unix socket, no TCP port to clash with.\n\
             listen_addresses = ''\nport = {PORT}\nunix_socket_permissions = 0700\nmax_connections = 200\n{extra_settings}"
        );
        use std::io::Write;
        std::fs::OpenOptions::new()
            .append(true)
            .open(self.pgdata.join("postgresql.conf"))
            .and_then(|mut f| f.write_all(conf.as_bytes()))
            .map_err(|e| format!("cannot write postgresql.conf: {e}"))
    }

    fn start(&self) -> Result<(), String> {
        std::fs::create_dir_all(&self.socket_dir)
            .map_err(|e| format!("cannot create {}: {e}", self.socket_dir.display()))?;
        self.chown_to_postgres(&self.socket_dir)?;
        let options = format!("-c unix_socket_directories='{}'", self.socket_dir.display());
        let log = self.pgdata.join("server.log");
        let out = self
            .command("pg_ctl")
            .arg("start")
            .arg("-D")
            .arg(&self.pgdata)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-o", &options])
            // Own process group: Ctrl-C in the terminal reaches this process, which then stops the cluster
            // after the HTTP server has drained, instead of the cluster dying under in-flight requests.
            .process_group(0)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run pg_ctl: {e}"))?;
        if !out.status.success() {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(10).collect();
            return Err(format!(
                "PostgreSQL did not start: {}\n{}",
                String::from_utf8_lossy(&out.stderr).trim(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ));
        }
        Ok(())
    }

    /// The project's own cluster under `data_dir/postgres`, kept across runs. Started if not running.
    pub fn start_persistent(data_dir: &Path) -> Result<Cluster, String> {
        let bindir = find_bindir()?;
        std::fs::create_dir_all(data_dir)
            .map_err(|e| format!("cannot create DATA_DIR {}: {e}", data_dir.display()))?;
        let mut socket_dir = data_dir.join("run");
        if socket_dir.as_os_str().len() > MAX_SOCKET_DIR_LEN {
            socket_dir = std::env::temp_dir().join(format!("stafettlogg-{}", short_hash(data_dir)));
            log::info!(
                "DATA_DIR is too deep for a Unix socket path; the socket lives in {}",
                socket_dir.display()
            );
        }
        let mut cluster = Cluster {
            bindir,
            pgdata: data_dir.join("postgres"),
            socket_dir,
            as_postgres: is_root(),
            started_here: false,
        };
        if !cluster.pgdata.join("PG_VERSION").exists() {
            log::info!(
                "creating the local PostgreSQL cluster in {}",
                cluster.pgdata.display()
            );
            cluster.init("")?;
        }
        if !cluster.is_running() {
            cluster.start()?;
            cluster.started_here = true;
        }
        cluster.ensure_database("stafettlogg")?;
        Ok(cluster)
    }

    /// A throwaway cluster under /tmp for tests: no durability (fsync off), removed by a watchdog process
    /// as soon as the process that started it exits, however it exits.
    pub fn start_throwaway() -> Result<Cluster, String> {
        Cluster::start_throwaway_with("")
    }

    /// [`Cluster::start_throwaway`] with more lines of `postgresql.conf`, e.g. a library to preload
    /// (`shared_preload_libraries` only takes effect when the server starts).
    pub fn start_throwaway_with(settings: &str) -> Result<Cluster, String> {
        let bindir = find_bindir()?;
        let mut suffix = [0u8; 4];
        rand::fill(&mut suffix);
        let root = std::env::temp_dir().join(format!(
            "stafettlogg-test-{}-{:08x}",
            std::process::id(),
            u32::from_le_bytes(suffix)
        ));
        std::fs::create_dir_all(&root)
            .map_err(|e| format!("cannot create {}: {e}", root.display()))?;
        let cluster = Cluster {
            bindir,
            pgdata: root.join("pgdata"),
            socket_dir: root.join("run"),
            as_postgres: is_root(),
            started_here: true,
        };
        cluster.chown_to_postgres(&root)?;
        cluster.init(&format!(
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 400\n{settings}\n"
        ))?;
        cluster.start()?;
        spawn_watchdog(&root, &cluster.pgdata)?;
        Ok(cluster)
    }

    /// A libpq URL for one database of this cluster, over its socket.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@/{database}?host={}&port={PORT}",
            self.socket_dir.display()
        )
    }

    /// A URL on which the service logs in as the service role itself ([`super::role::APP_ROLE`]), so no request
    /// runs under a superuser session. The migrations create the role without LOGIN; on this cluster,
    /// reachable only through its private socket, it may log in without a password.
    pub fn service_url(&self, database: &str) -> Result<String, String> {
        use diesel::{Connection, PgConnection};
        let mut conn = PgConnection::establish(&self.url("postgres"))
            .map_err(|e| format!("cannot connect to the local cluster: {e}"))?;
        conn.batch_execute(&format!("ALTER ROLE {} LOGIN", super::role::APP_ROLE))
            .map_err(|e| format!("cannot let the service role log in: {e}"))?;
        Ok(self
            .url(database)
            .replacen("postgres@", &format!("{}@", super::role::APP_ROLE), 1))
    }

    pub fn ensure_database(&self, name: &str) -> Result<(), String> {
        let mut conn = PgConnection::establish(&self.url("postgres"))
            .map_err(|e| format!("cannot connect to the local cluster: {e}"))?;
        use diesel::prelude::*;
        let exists: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
            "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}')"
        )))
        .get_result(&mut conn)
        .map_err(|e| format!("cannot list databases: {e}"))?;
        if !exists {
            conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
                .map_err(|e| format!("cannot create database {name}: {e}"))?;
        }
        Ok(())
    }

    /// Whether this process started the server; a command that found it running (`cargo run` serving in
    /// another terminal) leaves it running.
    pub fn started_here(&self) -> bool {
        self.started_here
    }

    pub fn stop(&self) -> Result<(), String> {
        let pgdata = self.pgdata.to_string_lossy().to_string();
        self.run(
            "pg_ctl",
            &["stop", "-D", &pgdata, "-m", "fast", "-w", "-t", "30"],
        )
    }
}

fn short_hash(p: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    p.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// Test processes end without running destructors of statics, so a tiny shell process outlives them, stops
/// the cluster with an immediate shutdown and removes its directory once the parent is gone.
fn spawn_watchdog(root: &Path, pgdata: &Path) -> Result<(), String> {
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         kill -QUIT $(head -1 '{pgdata}/postmaster.pid' 2>/dev/null) 2>/dev/null; sleep 2; rm -rf '{root}'",
        pid = std::process::id(),
        pgdata = pgdata.display(),
        root = root.display()
    );
    Command::new("sh")
        .args(["-c", &script])
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| format!("cannot start the cleanup watchdog: {e}"))
}
