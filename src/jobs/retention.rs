//! Retention (GDPR Art. 5(1)(e), Normen fact sheet 25): a closed case is kept for its
//! municipality's `retention_years` (default 10), archived meanwhile (the export, as JSON or PDF), and
//! then its personal data is erased: names, national ids, contact details, the free text of the concern,
//! entries, measures, evaluations, consents, level changes, handovers and step moves, its references in
//! other systems, and the inquiry it came from. What stays is what the statistics need: levels, dates,
//! states and counts, and the access log. The case remains as a tombstone with `purged_at`.
//!
//! `stafettlogg purge [--dry-run]` runs it as the schema's owner across every municipality (the
//! append-only tables accept this one kind of update, and only from a session that says so). An
//! open case is never touched. A transaction-level advisory lock makes concurrent runs take turns: the
//! second finds nothing left to do.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Caller, Role};
use crate::changes::api::ChangeType;
use crate::db::{self, Pool};
use crate::http::error::AppError;

/// What erased text reads as.
pub const ERASED: &str = "[slettet]";

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(retention_preview);
}

/// What a purge does, or would do, in one municipality.
#[derive(Debug, Serialize, ToSchema)]
pub struct PurgeCount {
    #[schema(min_length = 4, max_length = 4)]
    pub municipality: String,
    #[schema(minimum = 1, maximum = 100)]
    pub retention_years: i16,
    /// Cases closed before this instant are due.
    pub closed_before: DateTime<Utc>,
    /// Closed cases past their retention whose personal data is (or would be) erased.
    #[schema(minimum = 0)]
    pub cases: i64,
    /// Closed cases past their retention that wait for an archive system's report (`POST
    /// /cases/{id}/archived`) before they are erased; always 0 with `purge_unarchived`.
    #[schema(minimum = 0)]
    pub waiting_for_archive: i64,
    pub oldest_closed_at: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct DueRow {
    #[diesel(sql_type = Text)]
    municipality: String,
    #[diesel(sql_type = diesel::sql_types::Int2)]
    retention_years: i16,
    #[diesel(sql_type = Timestamptz)]
    closed_before: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    cases: i64,
    #[diesel(sql_type = BigInt)]
    waiting_for_archive: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    oldest_closed_at: Option<DateTime<Utc>>,
}

/// Per municipality (all, or the one given): how many closed cases are past their retention at `now`.
fn due_counts(
    conn: &mut PgConnection,
    municipality: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<PurgeCount>, AppError> {
    let rows: Vec<DueRow> = diesel::sql_query(
        "SELECT m.number AS municipality, m.retention_years, \
                $1 - make_interval(years => m.retention_years) AS closed_before, \
                count(c.id) FILTER (WHERE c.archived_on IS NOT NULL OR m.purge_unarchived) AS cases, \
                count(c.id) FILTER (WHERE c.archived_on IS NULL AND NOT m.purge_unarchived) \
                    AS waiting_for_archive, \
                min(c.closed_at) FILTER (WHERE c.archived_on IS NOT NULL OR m.purge_unarchived) \
                    AS oldest_closed_at \
           FROM municipalities m \
           LEFT JOIN cases c ON c.municipality = m.number AND c.status = 'closed' \
                AND c.purged_at IS NULL AND c.closed_at < $1 - make_interval(years => m.retention_years) \
          WHERE $2::text IS NULL OR m.number = $2 \
          GROUP BY m.number, m.retention_years, m.purge_unarchived ORDER BY m.number",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<Nullable<Text>, _>(municipality)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| PurgeCount {
            municipality: r.municipality,
            retention_years: r.retention_years,
            closed_before: r.closed_before,
            cases: r.cases,
            waiting_for_archive: r.waiting_for_archive,
            oldest_closed_at: r.oldest_closed_at,
        })
        .collect())
}

#[derive(QueryableByName)]
struct Due {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    municipality: String,
}

/// The personal data of one batch of cases, erased; one statement per table, each naming the cases.
const ERASE: &[&str] = &[
    "UPDATE cases SET subject_given_name = '[slettet]', subject_family_name = '[slettet]', \
        subject_birth_date = NULL, subject_national_id_enc = NULL, subject_national_id_hash = NULL, \
        concern = '[slettet]', close_note = NULL, purged_at = $2, version = version + 1 \
      WHERE id = ANY($1)",
    "UPDATE case_participants SET name = '[slettet]', national_id_enc = NULL, national_id_hash = NULL, \
        email = NULL, phone = NULL, title = NULL, role = CASE WHEN role IS NULL THEN NULL ELSE '[slettet]' END \
      WHERE case_id = ANY($1)",
    "DELETE FROM participant_external_refs WHERE participant_id IN \
        (SELECT id FROM case_participants WHERE case_id = ANY($1))",
    "DELETE FROM case_external_refs WHERE case_id = ANY($1)",
    // The outboxes: what was sent about the case, and its webhook deliveries (ids and times only, but
    // they tell who was involved and when).
    "DELETE FROM notifications WHERE case_id = ANY($1)",
    "DELETE FROM webhook_deliveries WHERE case_id = ANY($1)",
    "UPDATE consents SET purpose = '[slettet]', document_ref = NULL, \
        withdrawal_reason = CASE WHEN withdrawal_reason IS NULL THEN NULL ELSE '[slettet]' END \
      WHERE case_id = ANY($1)",
    "UPDATE measures SET title = '[slettet]', goal = '[slettet]', description = NULL \
      WHERE case_id = ANY($1)",
    "UPDATE plans SET goals = '{}', \
        end_reason = CASE WHEN end_reason IS NULL THEN NULL ELSE '[slettet]' END \
      WHERE case_id = ANY($1)",
    "UPDATE plan_members SET role = NULL WHERE case_id = ANY($1)",
    "UPDATE meetings SET place = NULL, agenda = NULL, \
        cancel_reason = CASE WHEN cancel_reason IS NULL THEN NULL ELSE '[slettet]' END \
      WHERE case_id = ANY($1)",
    "UPDATE evaluations SET assessment = '[slettet]', child_view = NULL, evaluated_by_name = '[slettet]' \
      WHERE case_id = ANY($1)",
    "UPDATE level_changes SET reason = '[slettet]', recorded_by_name = '[slettet]' \
      WHERE case_id = ANY($1)",
    "UPDATE level0_decisions SET note = NULL, recorded_by_name = '[slettet]' WHERE case_id = ANY($1)",
    "UPDATE log_entries SET title = NULL, body = '[slettet]', decisions = NULL, author_name = '[slettet]' \
      WHERE case_id = ANY($1)",
    "UPDATE case_step_moves SET note = NULL, recorded_by_name = '[slettet]' \
      WHERE case_id = ANY($1)",
    "UPDATE handovers SET note = NULL, \
        answer_reason = CASE WHEN answer_reason IS NULL THEN NULL ELSE '[slettet]' END \
      WHERE case_id = ANY($1)",
    "UPDATE holder_reassignments SET note = NULL WHERE case_id = ANY($1)",
    "UPDATE inquiry_answers SET message = NULL WHERE inquiry_id IN \
        (SELECT id FROM inquiries WHERE case_id = ANY($1))",
    "UPDATE inquiries SET message = NULL, child_given_name = NULL, child_birth_date = NULL, \
        child_national_id_enc = NULL, child_national_id_hash = NULL, contact_phone = NULL, \
        contact_email = NULL, inquirer_name = '[slettet]', erased_at = $2 \
      WHERE case_id = ANY($1) AND erased_at IS NULL",
];

/// Purges every case past its retention at `now` (or, with `dry_run`, only counts them), in one
/// transaction. Returns the count per municipality.
pub fn purge(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<Vec<PurgeCount>, AppError> {
    conn.transaction(|conn| {
        // Concurrent runs take turns; the second then finds the cases purged and does nothing.
        conn.batch_execute(
            "SELECT pg_advisory_xact_lock(hashtext('stafettlogg.purge')); \
             SELECT set_config('stafettlogg.purge', 'on', true)",
        )?;
        let counts = due_counts(conn, None, now)?;
        if dry_run {
            return Ok(counts);
        }
        let due: Vec<Due> = diesel::sql_query(
            "SELECT c.id, c.municipality FROM cases c JOIN municipalities m ON m.number = c.municipality \
              WHERE c.status = 'closed' AND c.purged_at IS NULL \
                AND c.closed_at < $1 - make_interval(years => m.retention_years) \
                AND (c.archived_on IS NOT NULL OR m.purge_unarchived) \
              ORDER BY c.municipality, c.id FOR UPDATE OF c",
        )
        .bind::<Timestamptz, _>(now)
        .load(conn)?;
        let ids: Vec<Uuid> = due.iter().map(|d| d.id).collect();
        for statement in ERASE {
            let query = diesel::sql_query(*statement).bind::<Array<SqlUuid>, _>(&ids);
            // Only the case and the inquiry record when they were purged.
            if statement.contains("$2") {
                query.bind::<Timestamptz, _>(now).execute(conn)?;
            } else {
                query.execute(conn)?;
            }
        }
        record(conn, &due)?;
        Ok(counts)
    })
}

/// One access event of kind `purge` per case, by the service itself, and a `case.purged` event in each
/// municipality's change feed.
fn record(conn: &mut PgConnection, due: &[Due]) -> Result<(), AppError> {
    if due.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = due.iter().map(|d| d.id).collect();
    let municipalities: Vec<&str> = due.iter().map(|d| d.municipality.as_str()).collect();
    diesel::sql_query(
        "INSERT INTO access_events (municipality, case_id, actor_user_id, actor_name, actor_role, action, \
             resource, request_id, basis) \
         SELECT m, c, 'stafettlogg', 'Stafettlogg', 'system', 'purge', 'case', '', 'administration' \
           FROM unnest($1::uuid[], $2::text[]) AS u(c, m)",
    )
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<Text>, _>(&municipalities)
    .execute(conn)?;
    // `due` is ordered by municipality: each municipality's feed gets its cases in one statement.
    for group in due.chunk_by(|a, b| a.municipality == b.municipality) {
        let events: Vec<(Uuid, ChangeType)> = group
            .iter()
            .map(|d| (d.id, ChangeType::CasePurged))
            .collect();
        crate::changes::store::emit_many(conn, &group[0].municipality, &events)?;
    }
    Ok(())
}

/// What a purge would erase in the caller's municipality now.
///
/// For administrators (403 otherwise): the municipality's retention, the cut-off, and how many closed
/// cases are past it. Nothing is changed; `stafettlogg purge` does the erasing.
#[utoipa::path(
    tag = "configuration",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What a purge would erase now", body = PurgeCount),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[get("/retention")]
pub async fn retention_preview(
    caller: Caller,
    pool: web::Data<Pool>,
) -> Result<HttpResponse, AppError> {
    caller.require_role(Role::Admin)?;
    let count = db::transaction(&pool, caller.session(), move |conn| {
        crate::municipality::store::ensure(conn, &caller.tenant)?;
        due_counts(conn, Some(&caller.tenant), Utc::now())?
            .pop()
            .ok_or_else(AppError::internal)
    })
    .await?;
    Ok(HttpResponse::Ok().json(count))
}
