//! The role the service acts as, and the check at start that row-level security holds for it: the second
//! wall between municipalities, behind the access checks in the code.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use super::network::with_network_limits;
use super::pool::SESSION_SETTINGS;

/// The role the service acts as: no superuser, no `BYPASSRLS`, owns no table, granted only the rows and
/// statements it needs. Created by the migrations; [`check_service_role`] refuses to serve as anything else.
pub const APP_ROLE: &str = "stafettlogg_app";

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
