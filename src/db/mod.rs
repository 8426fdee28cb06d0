//! The database: the connection pool, migrations, the managed local cluster, and the one helper through
//! which every handler reaches PostgreSQL (off the async executor, in a transaction of one municipality).
//!
//! Row-level security is the second wall between municipalities, behind the access checks in the code:
//! the service acts as [`APP_ROLE`], which owns no table and may not bypass row-level security, and every
//! transaction names its municipality in `app.municipality`. A query that forgets its `municipality`
//! filter then still sees only that municipality's rows (migration `2026-11-26-000008`).

pub mod connections;
pub mod embedded;
pub mod listen;
pub mod partitions;
pub mod prepared;
pub mod schema;

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::CustomizeConnection;
use diesel::{Connection, PgConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::http::error::AppError;
pub use connections::blocking;
use connections::Manager;
use uuid::Uuid;

pub type Pool = diesel::r2d2::Pool<Manager>;
pub type Pooled = diesel::r2d2::PooledConnection<Manager>;
pub type Conn = PgConnection;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// How long a request waits for a connection before answering 503: long enough to ride out a burst,
/// short enough that a database that is down never makes a client hang.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(3);

/// The time limits every pooled connection runs with. A lock held by another transaction for longer than
/// `lock_timeout`, or a statement running longer than `statement_timeout`, ends the request with 503 and
/// `Retry-After` instead of holding a connection (and a client) indefinitely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            statement_timeout: Duration::from_secs(30),
            lock_timeout: Duration::from_secs(10),
        }
    }
}

/// The role the service acts as: no superuser, no `BYPASSRLS`, owns no table, granted only the rows and
/// statements it needs. Created by the migrations; [`check_service_role`] refuses to serve as anything else.
pub const APP_ROLE: &str = "stafettlogg_app";

/// Who every pooled connection acts as, and its clock; sent with its time limits ([`SessionLimits`]) as one
/// batch when the connection is opened, so one round trip. No parallel workers: every statement of the
/// service reads a few index ranges, and PostgreSQL starts the workers a plan names before it finds that a
/// branch has nothing to do (a list of one's own cases spent 5 of its 14 ms at 1M cases starting two
/// workers for the branch of a youth's own case, which a professional's list never runs).
pub const SESSION_SETTINGS: &str =
    "SET ROLE stafettlogg_app; SET TIME ZONE 'UTC'; SET max_parallel_workers_per_gather = 0";

#[derive(Debug)]
struct SessionSettings(SessionLimits);

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        // English error messages where the login may choose them, before it becomes the service role:
        // `crate::http::error::classify` tells a lock timeout from a deadlock by the message, as diesel exposes no
        // SQLSTATE. A login that may not set it keeps the server's default, which is English on most servers.
        // Then the role: a login that may not act as the service role gets no connection at all (when the
        // login is the service role itself, `SET ROLE` to it changes nothing). Then the time limits: a
        // runaway statement must not hold a connection (and a client) forever.
        conn.batch_execute(&format!(
            "DO $$ BEGIN SET lc_messages = 'C'; EXCEPTION WHEN insufficient_privilege THEN NULL; END $$; \
             {SESSION_SETTINGS}; SET statement_timeout = {}; SET lock_timeout = {}",
            self.0.statement_timeout.as_millis(),
            self.0.lock_timeout.as_millis(),
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// A municipality as a transaction names it: exactly four ASCII digits, checked once when the token is
/// read, so it can be written into the SQL text of the `BEGIN` batch without any escaping.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Municipality([u8; 4]);

impl Municipality {
    pub fn parse(s: &str) -> Option<Municipality> {
        let bytes: [u8; 4] = s.as_bytes().try_into().ok()?;
        bytes
            .iter()
            .all(u8::is_ascii_digit)
            .then_some(Municipality(bytes))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("four ASCII digits")
    }

    /// `BEGIN` and the setting the row-level security policies read, sent as one batch: naming the
    /// municipality costs no round trip of its own. `SET LOCAL` ends with the transaction, so a pooled
    /// connection never carries one request's municipality into the next.
    pub fn begin_sql(&self) -> String {
        format!("BEGIN; {SET_MUNICIPALITY}'{}'", self.as_str())
    }
}

impl std::fmt::Debug for Municipality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Municipality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a transaction is for: its municipality, and for a staff caller (professional, leader,
/// administrator, integration) their user id, so the `BEGIN` batch also refuses someone the municipality
/// registered as departed (`stafettlogg_staff_present` in the leaders migration). Folding the
/// check into that batch costs no round trip, and no handler can forget it: `Caller::session` is the only
/// way a request names its municipality.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    municipality: Municipality,
    /// The user id in hex: it is written into SQL text, and hex needs no escaping.
    staff_hex: Option<String>,
}

impl Session {
    pub fn staff(municipality: Municipality, user_id: &str) -> Session {
        Session {
            municipality,
            staff_hex: Some(user_id.bytes().map(|b| format!("{b:02x}")).collect()),
        }
    }

    pub fn municipality(&self) -> Municipality {
        self.municipality
    }

    fn begin_sql(&self) -> String {
        let mut sql = self.municipality.begin_sql();
        if let Some(hex) = &self.staff_hex {
            sql.push_str(&format!("; {STAFF_PRESENT}'{hex}')"));
        }
        sql
    }
}

impl From<Municipality> for Session {
    fn from(municipality: Municipality) -> Session {
        Session {
            municipality,
            staff_hex: None,
        }
    }
}

impl std::fmt::Debug for Session {
    // The user id stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Session({}, staff: {})",
            self.municipality,
            self.staff_hex.is_some()
        )
    }
}

/// Builds the pool without connecting, so the server can start (and answer 503 on readiness) while the
/// database is still coming up.
pub fn build_pool(url: &str, size: u32) -> Pool {
    build_pool_with(url, size, SessionLimits::default())
}

/// [`build_pool`] with other time limits (tests provoke lock timeouts with short ones).
pub fn build_pool_with(url: &str, size: u32, limits: SessionLimits) -> Pool {
    diesel::r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(CHECKOUT_TIMEOUT)
        // No `SELECT 1` before every request: a lost connection is noticed when it fails (see
        // `connections`), and a request whose first statement finds it lost takes another.
        .test_on_check_out(false)
        .connection_customizer(Box::new(SessionSettings(limits)))
        .build_unchecked(Manager::new(with_network_limits(url)))
}

/// What every connection asks of the network unless its URL says otherwise. libpq waits for an
/// unreachable host, and the kernel for a peer that vanished without closing its sockets (a host or a zone
/// lost, not a killed process), for minutes by default; a failover must not wait that long:
/// - `connect_timeout`: how long libpq tries each host of the URL before the next;
/// - `keepalives_*`: an idle connection (the listener's, or one the pool holds) to a vanished server is
///   given up after about 11 s;
/// - `tcp_user_timeout`: so is one whose sent bytes stay unacknowledged 10 s (a request's `BEGIN` or
///   `COMMIT`), instead of the kernel's 15 minutes of retransmissions.
///
/// libpq ignores the last two for Unix sockets.
const NETWORK_LIMITS: [(&str, &str); 5] = [
    ("connect_timeout", "3"),
    ("keepalives_idle", "5"),
    ("keepalives_interval", "2"),
    ("keepalives_count", "3"),
    ("tcp_user_timeout", "10000"),
];

/// `url` with [`NETWORK_LIMITS`] it does not set itself.
pub fn with_network_limits(url: &str) -> String {
    NETWORK_LIMITS
        .iter()
        .fold(url.trim().to_string(), |url, (name, value)| {
            with_parameter(&url, name, value)
        })
}

/// Adds one parameter unless the URL sets it. The URL is either a URI (`postgres://...`, a parameter joins
/// its query string) or a keyword/value string (`host=a,b port=1,2 dbname=x
/// target_session_attrs=read-write`, a failover formation's usual form, where a parameter is one more
/// `keyword=value` pair): appending `?connect_timeout=3` to the latter made libpq refuse it.
fn with_parameter(url: &str, name: &str, value: &str) -> String {
    if is_uri(url) {
        if uri_has_parameter(url, name) {
            url.to_string()
        } else if url.contains('?') {
            format!("{url}&{name}={value}")
        } else {
            format!("{url}?{name}={value}")
        }
    } else if keyword_value_has(url, name) {
        url.to_string()
    } else if url.is_empty() {
        format!("{name}={value}")
    } else {
        format!("{url} {name}={value}")
    }
}

/// Whether libpq reads `url` as a URI rather than as keyword/value pairs (its rule: the prefix).
fn is_uri(url: &str) -> bool {
    ["postgresql://", "postgres://"].iter().any(|p| {
        url.get(..p.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(p))
    })
}

fn uri_has_parameter(url: &str, name: &str) -> bool {
    url.split_once('?').is_some_and(|(_, query)| {
        query
            .split('&')
            .any(|pair| pair.split('=').next() == Some(name))
    })
}

/// Whether a keyword/value string sets `keyword` (a value in quotes that merely contains the word does
/// not count: only the start of a pair does).
fn keyword_value_has(conninfo: &str, keyword: &str) -> bool {
    let mut in_quotes = false;
    let mut escaped = false;
    let mut at_pair_start = true;
    for (i, c) in conninfo.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '\'' => in_quotes = !in_quotes,
            c if c.is_whitespace() && !in_quotes => at_pair_start = true,
            _ if at_pair_start && !in_quotes => {
                at_pair_start = false;
                let rest = conninfo[i..].strip_prefix(keyword);
                if rest.is_some_and(|r| r.trim_start().starts_with('=')) {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// Requests of this process waiting for a pooled connection right now (a metric: a pool too small for the
/// load shows here before it shows as 503s).
pub static WAITING_FOR_CONNECTION: AtomicI64 = AtomicI64::new(0);

/// Checks a connection out of the pool, counted in [`WAITING_FOR_CONNECTION`] while it waits.
pub fn checkout(pool: &Pool) -> Result<Pooled, AppError> {
    checkout_by(pool, Instant::now() + CHECKOUT_TIMEOUT)
}

/// [`checkout`] that gives up at `deadline`: the time a request may wait for a connection counts from
/// when it asked, not from when a blocking thread got round to it.
fn checkout_by(pool: &Pool, deadline: Instant) -> Result<Pooled, AppError> {
    let Some(left) = deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
    else {
        log::warn!("no database connection: the request waited {CHECKOUT_TIMEOUT:?} for a thread");
        return Err(AppError::busy(format!(
            "no database connection became free within {} s; nothing was written, try again shortly",
            CHECKOUT_TIMEOUT.as_secs()
        )));
    };
    WAITING_FOR_CONNECTION.fetch_add(1, Ordering::Relaxed);
    let conn = pool.get_timeout(left);
    WAITING_FOR_CONNECTION.fetch_sub(1, Ordering::Relaxed);
    Ok(conn?)
}

/// Runs `f` in one transaction of `municipality` on a pooled connection, on the blocking thread pool. Every
/// database call of a handler goes through here, so a handler cannot block the executor, half-write, or
/// see another municipality's rows.
///
/// The wait for a connection is bounded by [`CHECKOUT_TIMEOUT`] from this call, including the time the
/// work waited for a blocking thread, so an overloaded instance answers 503 within that bound instead of
/// after an ever longer queue.
pub async fn transaction<T, F>(
    pool: &Pool,
    session: impl Into<Session>,
    f: F,
) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    let deadline = Instant::now() + CHECKOUT_TIMEOUT;
    let begin = Begin {
        session: session.into(),
        lock_case: None,
    };
    blocking(move || {
        let mut pooled = checkout_begun(&pool, deadline, begin)?;
        run_begun(&mut pooled, f)
    })
    .await?
}

/// [`transaction`] for work on one case that changes it: the case's row is locked (`FOR UPDATE`) in the
/// same batch as `BEGIN`, so the lock costs no round trip of its own, and everything `f` reads afterwards
/// is read after the lock was granted, i.e. after any concurrent writer of the case committed.
/// `crate::policy::case_for_write` knows the lock is held and does not take it again.
pub async fn transaction_for_case<T, F>(
    pool: &Pool,
    session: impl Into<Session>,
    case_id: Uuid,
    f: F,
) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    let deadline = Instant::now() + CHECKOUT_TIMEOUT;
    let begin = Begin {
        session: session.into(),
        lock_case: Some(case_id),
    };
    blocking(move || {
        let mut pooled = checkout_begun(&pool, deadline, begin)?;
        let _held = CaseLockHeld::set(case_id);
        run_begun(&mut pooled, f)
    })
    .await?
}

const SET_MUNICIPALITY: &str = "SET LOCAL app.municipality = ";
const STAFF_PRESENT: &str = "SELECT stafettlogg_staff_present(";
/// Municipality first: `access::case_for_write` sends the same lock on its own (`id` first) when the
/// transaction did not take it, and a statement counter must tell that round trip from this companion.
const LOCK_CASE: &str = "SELECT FROM cases WHERE municipality = ";

/// How the statements that ride behind `BEGIN` in a transaction's first batch begin: the service sends them
/// nowhere else. A counter of statements (`pg_stat_statements`) sees each of them, the service's count of
/// round trips sees the batch once, so these are what tells the two counts apart.
pub const SENT_ONLY_BEHIND_BEGIN: [&str; 3] = [SET_MUNICIPALITY, STAFF_PRESENT, LOCK_CASE];

/// What the first batch of a transaction does.
#[derive(Debug, Clone)]
struct Begin {
    session: Session,
    /// Lock this case's row.
    lock_case: Option<Uuid>,
}

impl Begin {
    fn sql(&self) -> String {
        let mut sql = self.session.begin_sql();
        if let Some(id) = self.lock_case {
            // A `Uuid` prints as hex digits and dashes only: nothing to escape.
            sql.push_str(&format!(
                "; {LOCK_CASE}'{}' AND id = '{id}' FOR UPDATE",
                self.session.municipality.as_str()
            ));
        }
        sql
    }
}

thread_local! {
    /// The case whose row lock the running transaction took in its `BEGIN` batch.
    static CASE_LOCK_HELD: std::cell::Cell<Option<Uuid>> = const { std::cell::Cell::new(None) };
}

/// Marks the case as locked for as long as the transaction's work runs on this thread.
struct CaseLockHeld;

impl CaseLockHeld {
    fn set(case_id: Uuid) -> CaseLockHeld {
        CASE_LOCK_HELD.with(|c| c.set(Some(case_id)));
        CaseLockHeld
    }
}

impl Drop for CaseLockHeld {
    fn drop(&mut self) {
        CASE_LOCK_HELD.with(|c| c.set(None));
    }
}

/// Whether the running transaction locked this case's row when it began ([`transaction_for_case`]).
pub fn holds_case_lock(case_id: Uuid) -> bool {
    CASE_LOCK_HELD.with(|c| c.get() == Some(case_id))
}

/// A pooled connection on which `BEGIN` (with the municipality) went through. A connection that turns
/// out lost at `BEGIN` (it died while idle: the database restarted, an administrator ended it) is dropped
/// and another taken, until the deadline: nothing was done on it, so nothing is done twice.
fn checkout_begun(pool: &Pool, deadline: Instant, begin: Begin) -> Result<Pooled, AppError> {
    loop {
        let mut pooled = checkout_by(pool, deadline)?;
        match begin_sql(&mut pooled, &begin) {
            Ok(()) => return Ok(pooled),
            // A read-only server (the case lock's `FOR UPDATE` is a write): another connection to it
            // would be refused the same way, so answer now. This one is dropped (see `connections`).
            Err(e) if crate::http::error::is_read_only_error(&e) => return Err(e.into()),
            Err(_) if connections::is_lost(&mut pooled) => {
                log::info!("a pooled connection was lost while idle; taking another");
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// [`transaction`] on a connection the caller holds already (the import runs one per line): `BEGIN` and
/// `app.municipality` in one batch, then `f`, then `COMMIT`, or `ROLLBACK` when `f` fails. Diesel's
/// transaction manager is told about the transaction (`begin_transaction_sql`), so a nested
/// `conn.transaction` inside `f` becomes a savepoint as usual.
pub fn in_municipality<T, F>(
    conn: &mut PgConnection,
    session: impl Into<Session>,
    f: F,
) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError>,
{
    let begin = Begin {
        session: session.into(),
        lock_case: None,
    };
    begin_with(conn, &begin)?;
    run_begun(conn, f)
}

/// `BEGIN`, `app.municipality` and the case lock if any, one batch.
fn begin_with(conn: &mut PgConnection, begin: &Begin) -> Result<(), AppError> {
    Ok(begin_sql(conn, begin)?)
}

fn begin_sql(conn: &mut PgConnection, begin: &Begin) -> Result<(), diesel::result::Error> {
    if let Err(e) = AnsiTransactionManager::begin_transaction_sql(conn, &begin.sql()) {
        // `BEGIN` may have run before the batch failed: never leave a transaction open on the connection.
        let _ = conn.batch_execute("ROLLBACK");
        return Err(e);
    }
    Ok(())
}

/// `f` in the transaction [`begin`] opened, then `COMMIT`, or `ROLLBACK` when `f` fails.
fn run_begun<T, F>(conn: &mut PgConnection, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError>,
{
    match f(conn) {
        Ok(value) => {
            if let Err(e) = AnsiTransactionManager::commit_transaction(conn) {
                crate::db::listen::rolled_back();
                return Err(e.into());
            }
            crate::db::listen::committed();
            Ok(value)
        }
        Err(user_error) => {
            crate::db::listen::rolled_back();
            match AnsiTransactionManager::rollback_transaction(conn) {
                // A broken transaction manager: the original error says more.
                Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(user_error),
                Err(rollback_error) => Err(rollback_error.into()),
            }
        }
    }
}

/// Runs `f` on a pooled connection outside any municipality, on the blocking thread pool: for statements
/// that touch no municipality's rows (readiness). Row-level security hides every municipality's rows here,
/// so a mistake reads nothing rather than everything.
pub async fn without_municipality<T, F>(pool: &Pool, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    blocking(move || {
        let mut pooled = checkout(&pool)?;
        f(&mut pooled)
    })
    .await?
}

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

/// Tables the service role may use that have no row-level security, on purpose: they hold no
/// municipality's case data a forgotten filter could leak. `feed_counters` holds one number per
/// municipality, which the metrics scrape (belonging to no municipality) sums, and every statement of the
/// service names its row;
/// `idempotency_keys` is only ever addressed by its whole primary key, whose first part is the token's
/// municipality, in statements of their own outside any request transaction (a policy there would cost
/// each of them a transaction of its own), and its cleanup spans municipalities on purpose. Relations that
/// belong to an extension (`pg_stat_statements`, which pg_auto_failover creates in each database it
/// manages) are not the service's tables: [`check_service_role`] leaves them out.
pub const TABLES_WITHOUT_ROW_SECURITY: [&str; 2] = ["feed_counters", "idempotency_keys"];

#[derive(diesel::QueryableByName)]
struct RoleFacts {
    #[diesel(sql_type = diesel::sql_types::Text)]
    session_role: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    acting_role: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    session_super: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    session_bypass: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    session_owns: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    acting_super: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    acting_bypass: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    acting_owns: bool,
    #[diesel(sql_type = diesel::sql_types::Array<diesel::sql_types::Text>)]
    unprotected: Vec<String>,
}

const ROLE_FACTS_SQL: &str = "\
SELECT session_user::text AS session_role, current_user::text AS acting_role,
       s.rolsuper AS session_super, s.rolbypassrls AS session_bypass,
       pg_has_role(session_user, c.relowner, 'USAGE') AS session_owns,
       a.rolsuper AS acting_super, a.rolbypassrls AS acting_bypass,
       pg_has_role(current_user, c.relowner, 'USAGE') AS acting_owns,
       ARRAY(SELECT t.relname::text FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
             WHERE n.nspname = 'public' AND t.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT t.relrowsecurity
               AND has_table_privilege(current_user, t.oid, 'SELECT, INSERT, UPDATE, DELETE')
               AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                               AND d.objid = t.oid AND d.deptype = 'e')
               AND t.relname <> ALL($1) ORDER BY 1) AS unprotected
FROM pg_roles s, pg_roles a, pg_class c
WHERE s.rolname = session_user AND a.rolname = current_user AND c.oid = 'public.cases'::regclass";

fn role_traits(is_super: bool, bypass: bool, owns: bool) -> Vec<&'static str> {
    let mut traits = Vec::new();
    if is_super {
        traits.push("is a superuser");
    }
    if bypass {
        traits.push("has BYPASSRLS");
    }
    if owns && !is_super {
        traits.push("owns the tables");
    }
    traits
}

/// Checks at start, on a connection opened as the pool opens its own, that row-level security holds for
/// what the service will send. Refuses (the error says what to change) when the role the service acts
/// as is a superuser, has `BYPASSRLS` or owns the tables; when `dedicated` (the URL is meant to be the
/// service's own login: `DATABASE_APP_URL`, the managed cluster) and that login is such a role; or when a
/// table the service may use has no row-level security and is not one of
/// [`TABLES_WITHOUT_ROW_SECURITY`]. Returns a warning when one URL serves both the migrations and the
/// service and its login is privileged: the service still acts as [`APP_ROLE`] (`SET ROLE`), but SQL that
/// managed to run `RESET ROLE` would be privileged again. `name` says where the URL came from.
pub fn check_service_role(
    url: &str,
    name: &str,
    dedicated: bool,
) -> Result<Option<String>, String> {
    use diesel::RunQueryDsl;
    let mut conn = PgConnection::establish(&with_network_limits(url))
        .map_err(|e| format!("cannot connect with {name}: {e}"))?;
    conn.batch_execute(SESSION_SETTINGS).map_err(|e| {
        format!(
            "the login of {name} may not act as `{APP_ROLE}` ({e}). Grant it \
             (`GRANT {APP_ROLE} TO <that login>`), or use a login of `{APP_ROLE}` itself"
        )
    })?;
    let facts: RoleFacts = diesel::sql_query(ROLE_FACTS_SQL)
        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(
            TABLES_WITHOUT_ROW_SECURITY.to_vec(),
        )
        .get_result(&mut conn)
        .map_err(|e| format!("cannot check the database role of {name}: {e}"))?;
    let acting = role_traits(facts.acting_super, facts.acting_bypass, facts.acting_owns);
    if !acting.is_empty() {
        return Err(format!(
            "the service would act as `{}`, which {}: row-level security would not restrict it to one \
             municipality. `{APP_ROLE}` must be NOSUPERUSER NOBYPASSRLS and own no table; the migrations \
             create it so",
            facts.acting_role,
            acting.join(" and ")
        ));
    }
    if !facts.unprotected.is_empty() {
        return Err(format!(
            "the service role may use {} without row-level security; give each a policy per municipality \
             in a migration (or, for a table that holds no municipality's data, list it in \
             TABLES_WITHOUT_ROW_SECURITY)",
            facts.unprotected.join(", ")
        ));
    }
    let session = role_traits(
        facts.session_super,
        facts.session_bypass,
        facts.session_owns,
    );
    if session.is_empty() {
        return Ok(None);
    }
    if dedicated {
        return Err(format!(
            "{name} logs in as `{}`, which {}: the service's own login must be restricted. Use a login of \
             `{APP_ROLE}` (`ALTER ROLE {APP_ROLE} LOGIN PASSWORD '...'`) or of a role that is a member of it",
            facts.session_role,
            session.join(" and ")
        ));
    }
    Ok(Some(format!(
        "{name} logs in as `{}`, which {}. The service acts as `{APP_ROLE}` (SET ROLE on each connection), \
         so row-level security restricts every query it sends to one municipality; but SQL that managed to \
         run RESET ROLE would not be restricted. Set DATABASE_APP_URL to a login of `{APP_ROLE}` for the \
         service, and keep {name} for the migrations",
        facts.session_role,
        session.join(" and ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parameter_joins_a_uri_or_a_keyword_value_string_in_its_own_syntax() {
        assert_eq!(
            with_parameter("postgres://u@h/db", "connect_timeout", "3"),
            "postgres://u@h/db?connect_timeout=3"
        );
        assert_eq!(
            with_parameter(
                "postgresql://u@h1:5432,h2:5433/db?target_session_attrs=read-write",
                "connect_timeout",
                "3"
            ),
            "postgresql://u@h1:5432,h2:5433/db?target_session_attrs=read-write&connect_timeout=3"
        );
        assert_eq!(
            with_parameter(
                "postgres://u@h/db?connect_timeout=10",
                "connect_timeout",
                "3"
            ),
            "postgres://u@h/db?connect_timeout=10"
        );
        let multi = "host=127.0.0.1,127.0.0.1 port=5433,5434 dbname=x user=postgres \
                     target_session_attrs=read-write";
        assert_eq!(
            with_parameter(multi, "connect_timeout", "3"),
            format!("{multi} connect_timeout=3")
        );
        assert_eq!(
            with_parameter(
                "host=h connect_timeout = 7 dbname=x",
                "connect_timeout",
                "3"
            ),
            "host=h connect_timeout = 7 dbname=x"
        );
        // A password that merely contains the word sets nothing.
        assert_eq!(
            with_parameter(
                "host=h password='a connect_timeout=1' dbname=x",
                "connect_timeout",
                "3"
            ),
            "host=h password='a connect_timeout=1' dbname=x connect_timeout=3"
        );
        assert_eq!(
            with_parameter("", "connect_timeout", "3"),
            "connect_timeout=3"
        );
        // Every limit, each once, and one the URL sets stays its own.
        let all = with_network_limits("host=h dbname=x keepalives_idle=60");
        for (name, _) in NETWORK_LIMITS {
            assert_eq!(all.matches(&format!("{name}=")).count(), 1, "{all}");
        }
        assert!(all.contains("keepalives_idle=60") && !all.contains("keepalives_idle=5"));
    }

    /// libpq itself accepts what comes out: it parses the keyword/value form (a malformed string fails
    /// with "invalid connection option" or "missing =" before any host is tried) and then finds nothing
    /// listening, within the connect timeout.
    #[test]
    fn libpq_accepts_a_multi_host_keyword_value_url_with_the_network_limits() {
        let url = with_network_limits(
            "host=/nonexistent-stafettlogg-a,/nonexistent-stafettlogg-b port=5432,5433 \
             dbname=x user=postgres target_session_attrs=read-write",
        );
        let started = Instant::now();
        let e = PgConnection::establish(&url)
            .err()
            .expect("nothing listens");
        let text = e.to_string();
        assert!(
            !text.contains("invalid") && !text.contains("missing"),
            "libpq refused the string itself: {text}"
        );
        assert!(
            text.contains("nonexistent-stafettlogg-b"),
            "both hosts tried: {text}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn the_wait_for_a_connection_counts_from_when_the_request_asked() {
        // Nothing listens there: every checkout waits until its deadline.
        let pool = build_pool(
            "postgres://postgres@/nowhere?host=/nonexistent-stafettlogg-socket-dir&port=5432",
            1,
        );
        let started = Instant::now();
        let e = checkout_by(&pool, started).err().expect("no connection");
        assert_eq!(e.kind, crate::http::error::ProblemType::Unavailable);
        assert!(e.retry_after.is_some());
        let e = checkout_by(&pool, started + Duration::from_millis(300))
            .err()
            .expect("no connection");
        assert_eq!(e.kind, crate::http::error::ProblemType::Unavailable);
        // Not CHECKOUT_TIMEOUT from the start of the wait: what was left of it.
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
}
