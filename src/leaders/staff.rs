//! Staff who leave. `POST /api/v1/staff/{user_id}/departed` by an administrator, or by
//! an integration acting for the municipality's HR or identity system: from that date the person's tokens
//! reach nothing (the check is in every staff transaction's `BEGIN` batch, `crate::db::session::Session`), pending
//! handovers to them are cancelled, and every case they hold shows in their service leaders' attention as
//! `departed` until a leader reassigns it. `DELETE` undoes a mistaken departure.

use actix_web::{delete, post, web, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text, Uuid as SqlUuid};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::access_log::store::Basis;
use crate::access_log::store::Resource;
use crate::access_log::store::{self as access_log, Action};
use crate::auth::Caller;
use crate::changes::api::ChangeType;
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::ValidJson;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartedInput {
    /// The first day the person no longer works in the municipality (today or earlier: at once; a later
    /// date: from that day).
    #[validate(custom(function = "crate::dates::date"))]
    pub on: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Departure {
    #[schema(max_length = 200)]
    pub user_id: String,
    pub departed_on: NaiveDate,
    /// Pending handovers to them, cancelled now (also when the date is still to come).
    #[schema(minimum = 0)]
    pub handovers_cancelled: i64,
    /// Open cases they hold: their services' leaders see them as `departed` and reassign them.
    #[schema(minimum = 0)]
    pub cases_held: i64,
}

fn check_user_id(user_id: &str) -> Result<(), AppError> {
    if (1..=200).contains(&user_id.chars().count()) && !user_id.contains('\0') {
        Ok(())
    } else {
        Err(AppError::invalid("user_id", "must be 1-200 characters"))
    }
}

crate::prepared_statement! {
    /// Whether the municipality knows this person: a professional of some case, the recipient of a
    /// pending handover, or anyone who ever read or changed a case (a leader or an administrator is in
    /// no case).
    struct KnownStaff<'a> {
        1 => municipality: &'a str as Text,
        2 => user_id: &'a str as Text,
    }
    = "SELECT count(*) AS n FROM (SELECT FROM case_participants p \
         WHERE p.municipality = $1 AND p.kind = 'professional' AND p.user_id = $2 LIMIT 1) k \
       UNION ALL SELECT count(*) FROM (SELECT FROM handovers o \
         WHERE o.to_user_id = $2 AND o.state = 'pending' AND o.municipality = $1 LIMIT 1) h \
       UNION ALL SELECT count(*) FROM (SELECT FROM access_events e \
         WHERE e.actor_user_id = $2 AND e.municipality = $1 LIMIT 1) a";
}

crate::prepared_statement! {
    /// Cancels the pending handovers to a person who has left, returning their cases.
    struct CancelHandoversTo<'a> {
        1 => municipality: &'a str as Text,
        2 => user_id: &'a str as Text,
        3 => by_user: &'a str as Text,
    }
    = "UPDATE handovers SET state = 'cancelled', answered_at = now(), answered_by_user = $3, \
           answer_reason = 'the recipient has left the municipality' \
       WHERE municipality = $1 AND to_user_id = $2 AND state = 'pending' RETURNING case_id";
}

crate::prepared_statement! {
    struct OpenCasesHeldBy<'a> {
        1 => municipality: &'a str as Text,
        2 => user_id: &'a str as Text,
    }
    = "SELECT count(*) AS n FROM cases c JOIN case_participants h ON h.id = c.holder_participant_id \
       WHERE c.municipality = $1 AND c.status = 'open' AND h.kind = 'professional' AND h.user_id = $2";
}

crate::prepared_statement! {
    /// Whether a departure of this person is registered, whatever its date.
    struct DepartureRegistered<'a> {
        1 => municipality: &'a str as Text,
        2 => user_id: &'a str as Text,
    }
    = "SELECT count(*) AS n FROM staff_departures WHERE municipality = $1 AND user_id = $2";
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct CaseId {
    #[diesel(sql_type = SqlUuid)]
    case_id: Uuid,
}

/// Whether the municipality registered a departure of this person, today or to come: nobody passes the
/// relay to someone who is leaving (a proposal or a reassign to them is refused).
pub fn is_leaving(
    conn: &mut PgConnection,
    municipality: &str,
    user_id: &str,
) -> Result<bool, AppError> {
    let found: Count = DepartureRegistered {
        municipality,
        user_id,
    }
    .get_result(conn)?;
    Ok(found.n > 0)
}

/// Register that a staff member leaves the municipality.
///
/// A professional, a leader or an administrator; registered by an administrator, or an `integration`
/// token with the `staff` scope (its `scope` claim; the municipality's HR or identity system). From
/// `on`, their tokens reach nothing; pending handovers to them are cancelled now, and none can be
/// proposed to them any more; the cases they hold show in their leaders' attention from `on` until
/// reassigned. Repeating it with another date moves the date. An id the municipality has never seen (in
/// no case, no pending handover, no access event) is 404.
#[utoipa::path(
    tag = "leaders",
    security(("bearer" = [])),
    params(("user_id" = String, Path, description = "The person's user id (the `sub` of their tokens)")),
    request_body = DepartedInput,
    responses(
        (status = 200, description = "Registered", body = Departure),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
        (status = 422, response = crate::http::openapi::Validation),
    )
)]
#[post("/staff/{user_id}/departed")]
pub async fn departed(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
    body: ValidJson<DepartedInput>,
) -> Result<HttpResponse, AppError> {
    crate::policy::leaders::may_register_departures(&caller)?;
    let user_id = path.into_inner();
    check_user_id(&user_id)?;
    let on = body.0.on;
    let out = db::transaction(&pool, caller.session(), move |conn| {
        let m = caller.tenant.as_str();
        let known: Vec<Count> = KnownStaff {
            municipality: m,
            user_id: &user_id,
        }
        .load(conn)?;
        if known.iter().all(|k| k.n == 0) {
            return Err(AppError::not_found("staff member"));
        }
        diesel::sql_query(
            "INSERT INTO staff_departures (municipality, user_id, departed_on, recorded_by) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (municipality, user_id) \
             DO UPDATE SET departed_on = $3, recorded_by = $4, recorded_at = now()",
        )
        .bind::<Text, _>(m)
        .bind::<Text, _>(&user_id)
        .bind::<Date, _>(on)
        .bind::<Text, _>(&caller.user_id)
        .execute(conn)?;
        // Also for a date to come: the relay should not pass to someone about to leave, and nothing would
        // cancel the proposal on the day.
        let cancelled: Vec<CaseId> = CancelHandoversTo {
            municipality: m,
            user_id: &user_id,
            by_user: &caller.user_id,
        }
        .load(conn)?;
        let cases: Vec<(Uuid, Basis)> = cancelled
            .iter()
            .map(|c| (c.case_id, Basis::Administration))
            .collect();
        access_log::record(
            conn,
            &caller,
            &cases,
            Action::Cancel,
            Resource::CaseHandovers,
        )?;
        let events: Vec<(Uuid, ChangeType)> = cancelled
            .iter()
            .map(|c| (c.case_id, ChangeType::HandoverCancelled))
            .collect();
        crate::changes::store::emit_many(conn, m, &events)?;
        let held: Count = OpenCasesHeldBy {
            municipality: m,
            user_id: &user_id,
        }
        .get_result(conn)?;
        Ok(Departure {
            user_id,
            departed_on: on,
            handovers_cancelled: cancelled.len() as i64,
            cases_held: held.n,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Undo a mistaken departure.
///
/// The person's tokens reach their cases again. Handovers cancelled by the departure stay cancelled (the
/// holder proposes again). An administrator, or an `integration` token with the `staff` scope (403
/// otherwise); a person with no departure registered is 404.
#[utoipa::path(
    tag = "leaders",
    security(("bearer" = [])),
    params(("user_id" = String, Path, description = "The person's user id")),
    responses(
        (status = 204, description = "Undone"),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
        (status = 422, response = crate::http::openapi::Validation),
    )
)]
#[delete("/staff/{user_id}/departed")]
pub async fn undo_departed(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    crate::policy::leaders::may_register_departures(&caller)?;
    let user_id = path.into_inner();
    check_user_id(&user_id)?;
    db::transaction(&pool, caller.session(), move |conn| {
        let removed = diesel::sql_query(
            "DELETE FROM staff_departures WHERE municipality = $1 AND user_id = $2",
        )
        .bind::<Text, _>(&caller.tenant)
        .bind::<Text, _>(&user_id)
        .execute(conn)?;
        if removed == 0 {
            return Err(AppError::not_found("departure"));
        }
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
