//! `GET /api/v1/services/{code}/cases`: the open cases held in a service, for its leaders. Metadata only
//! (`crate::policy::leaders`): no concern, entries, measures' text or consents' text is ever selected here.

use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Int2, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::access_log::store::Basis;
use crate::access_log::store::Resource;
use crate::access_log::store::{self as access_log, Action};
use crate::auth::Caller;
use crate::cases::api::CaseStatus;
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::ValidQuery;
use crate::http::pagination::{self, Page};
use crate::policy;

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceCaseSubject {
    #[schema(max_length = 200)]
    pub given_name: String,
    #[schema(max_length = 200)]
    pub family_name: String,
    pub birth_date: Option<NaiveDate>,
}

/// The stafettholder as the leader sees them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceCaseHolder {
    #[schema(max_length = 200)]
    pub user_id: String,
    #[schema(max_length = 200)]
    pub name: String,
    /// The municipality registered them as departed (`POST /api/v1/staff/{user_id}/departed`), from a
    /// date that has come: nobody coordinates this case until a leader reassigns it.
    pub departed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PendingHandoverSummary {
    pub id: Uuid,
    #[schema(max_length = 200)]
    pub to_name: String,
    pub proposed_at: DateTime<Utc>,
    pub answer_by: Option<NaiveDate>,
    /// Past its answer-by date: it can no longer be accepted.
    pub expired: bool,
}

/// One open case of the service: what a leader needs to keep the relay moving, and no content.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceCase {
    pub id: Uuid,
    #[schema(minimum = 0, maximum = 3)]
    pub level: i16,
    pub status: CaseStatus,
    pub subject: ServiceCaseSubject,
    pub holder: ServiceCaseHolder,
    pub opened_at: DateTime<Utc>,
    /// The level-0 decision's deadline, while the case is at level 0 and the decision is not recorded.
    pub decision_due: Option<NaiveDate>,
    /// The day of the latest report of concern the service recorded as a level-0 decision (rule 11: a
    /// leader of the holder's service sees that it was reported, never what).
    pub reported_to_child_welfare: Option<NaiveDate>,
    /// Measures still planned or active whose evaluation date has passed.
    #[schema(minimum = 0)]
    pub overdue_evaluations: i64,
    pub pending_handover: Option<PendingHandoverSummary>,
    /// The newest of the case's last change and its last log entry.
    pub last_activity_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ServiceCaseQuery {
    #[validate(range(min = 0, max = 3))]
    #[param(minimum = 0, maximum = 3)]
    pub level: Option<i16>,
    /// Only the cases this professional holds (their user id).
    #[validate(length(min = 1, max = 200))]
    #[param(min_length = 1, max_length = 200)]
    pub holder: Option<String>,
    /// `true`: only cases whose holder has departed.
    pub departed: Option<bool>,
    /// `true`: only cases with an overdue evaluation or a level-0 decision past its deadline.
    pub overdue: Option<bool>,
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// From `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

crate::prepared_statement! {
    /// A page of a service's open cases, newest first: found through their holders' participations in the
    /// service, with the counts and flags a leader sees. `$3` is today in Norway.
    struct ServiceCases<'a> {
        1 => municipality: &'a str as Text,
        2 => service: &'a str as Text,
        3 => today: NaiveDate as Date,
        4 => level: Option<i16> as Nullable<Int2>,
        5 => holder: Option<&'a str> as Nullable<Text>,
        6 => departed_only: bool as Bool,
        7 => overdue_only: bool as Bool,
        8 => after: Option<Uuid> as Nullable<SqlUuid>,
        9 => limit: i64 as BigInt,
        10 => ids: Option<&'a [Uuid]> as Nullable<diesel::sql_types::Array<SqlUuid>>,
    }
    = "SELECT * FROM ( \
         SELECT c.id, c.level, c.status, c.subject_given_name, c.subject_family_name, c.subject_birth_date, \
                h.user_id AS holder_user_id, h.name AS holder_name, \
                EXISTS (SELECT FROM staff_departures d WHERE d.municipality = c.municipality \
                        AND d.user_id = h.user_id AND d.departed_on <= $3) AS holder_departed, \
                c.opened_at, CASE WHEN c.level = 0 AND NOT EXISTS (SELECT FROM level0_decisions d \
                   WHERE d.case_id = c.id AND d.period_started_at = c.level0_since) \
                   THEN c.decision_due END AS decision_due, \
                (SELECT max(d.decided_on) FROM level0_decisions d WHERE d.case_id = c.id \
                   AND d.outcome = 'report_child_welfare') AS reported_to_child_welfare, \
                (SELECT count(*) FROM measures m WHERE m.case_id = c.id \
                   AND m.state IN ('planned', 'active') AND m.evaluate_by < $3) AS overdue_evaluations, \
                o.id AS handover_id, o.to_name AS handover_to_name, o.proposed_at AS handover_proposed_at, \
                o.answer_by AS handover_answer_by, \
                GREATEST(c.updated_at, (SELECT e.recorded_at FROM log_entries e WHERE e.case_id = c.id \
                                        ORDER BY e.id DESC LIMIT 1)) AS last_activity_at \
           FROM cases c \
           JOIN case_participants h ON h.id = c.holder_participant_id \
           LEFT JOIN handovers o ON o.case_id = c.id AND o.state = 'pending' \
          WHERE c.municipality = $1 AND c.status = 'open' AND h.service = $2 \
            AND h.kind = 'professional' \
            AND ($10::uuid[] IS NULL OR c.id = ANY($10)) \
            AND ($4::int2 IS NULL OR c.level = $4) \
            AND ($5::text IS NULL OR h.user_id = $5) \
            AND ($8::uuid IS NULL OR c.id < $8) \
          ORDER BY c.id DESC) page \
        WHERE (NOT $6 OR holder_departed) \
          AND (NOT $7 OR overdue_evaluations > 0 OR decision_due < $3) \
        ORDER BY id DESC LIMIT $9";
}

#[derive(QueryableByName)]
struct ServiceCaseRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Int2)]
    level: i16,
    #[diesel(sql_type = Text)]
    status: CaseStatus,
    #[diesel(sql_type = Text)]
    subject_given_name: String,
    #[diesel(sql_type = Text)]
    subject_family_name: String,
    #[diesel(sql_type = Nullable<Date>)]
    subject_birth_date: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Text>)]
    holder_user_id: Option<String>,
    #[diesel(sql_type = Text)]
    holder_name: String,
    #[diesel(sql_type = Bool)]
    holder_departed: bool,
    #[diesel(sql_type = Timestamptz)]
    opened_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Date>)]
    decision_due: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    reported_to_child_welfare: Option<NaiveDate>,
    #[diesel(sql_type = BigInt)]
    overdue_evaluations: i64,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    handover_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    handover_to_name: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    handover_proposed_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Date>)]
    handover_answer_by: Option<NaiveDate>,
    #[diesel(sql_type = Timestamptz)]
    last_activity_at: DateTime<Utc>,
}

impl ServiceCaseRow {
    fn view(self, today: NaiveDate) -> ServiceCase {
        let pending_handover = match (
            self.handover_id,
            self.handover_to_name,
            self.handover_proposed_at,
        ) {
            (Some(id), Some(to_name), Some(proposed_at)) => Some(PendingHandoverSummary {
                id,
                to_name,
                proposed_at,
                answer_by: self.handover_answer_by,
                expired: crate::handovers::api::expired(self.handover_answer_by, today),
            }),
            _ => None,
        };
        ServiceCase {
            id: self.id,
            level: self.level,
            status: self.status,
            subject: ServiceCaseSubject {
                given_name: self.subject_given_name,
                family_name: self.subject_family_name,
                birth_date: self.subject_birth_date,
            },
            holder: ServiceCaseHolder {
                user_id: self.holder_user_id.unwrap_or_default(),
                name: self.holder_name,
                departed: self.holder_departed,
            },
            opened_at: self.opened_at,
            decision_due: self.decision_due,
            reported_to_child_welfare: self.reported_to_child_welfare,
            overdue_evaluations: self.overdue_evaluations,
            pending_handover,
            last_activity_at: self.last_activity_at,
        }
    }
}

/// What to select: a page by filters, or the given cases (a reassign's answer).
pub struct Selection<'a> {
    pub query: &'a ServiceCaseQuery,
    pub after: Option<Uuid>,
    pub limit: i64,
    pub ids: Option<&'a [Uuid]>,
}

/// The service's open cases that `selection` names, as the leader sees them. Leaves no access event: the
/// caller records what it shows.
pub fn select(
    conn: &mut PgConnection,
    caller: &Caller,
    service: &str,
    selection: Selection,
) -> Result<Vec<ServiceCase>, AppError> {
    let today = crate::clock::today();
    let rows: Vec<ServiceCaseRow> = ServiceCases {
        municipality: &caller.tenant,
        service,
        today,
        level: selection.query.level,
        holder: selection.query.holder.as_deref(),
        departed_only: selection.query.departed == Some(true),
        overdue_only: selection.query.overdue == Some(true),
        after: selection.after,
        limit: selection.limit,
        ids: selection.ids,
    }
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.view(today)).collect())
}

/// The open cases held in a service, newest first, for its leaders.
///
/// Subject, level, holder (and whether they have departed), deadlines, overdue evaluations, a pending
/// handover and whether it expired, and the last activity. Never content. Someone who does not lead the
/// service gets 403; a service the municipality does not have, or no longer runs, is 404. Every listed
/// case leaves an access event on the basis `leader`.
#[utoipa::path(
    tag = "leaders",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The service's code"), ServiceCaseQuery),
    responses(
        (status = 200, description = "A page of the service's open cases", body = Page<ServiceCase>,
            headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
    )
)]
#[get("/services/{code}/cases")]
pub async fn service_cases(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
    query: ValidQuery<ServiceCaseQuery>,
) -> Result<HttpResponse, AppError> {
    let service = path.into_inner();
    policy::leaders::require_leads(&caller, &service)?;
    let q = query.0;
    let limit = pagination::effective_limit(q.limit);
    let after = q
        .cursor
        .as_deref()
        .map(pagination::decode_uuid_cursor)
        .transpose()?;
    let items = db::transaction(&pool, caller.session(), move |conn| {
        super::require_service(conn, &caller, &service)?;
        let selection = Selection {
            query: &q,
            after,
            limit: limit + 1,
            ids: None,
        };
        let items = select(conn, &caller, &service, selection)?;
        let shown: Vec<(Uuid, Basis)> = items
            .iter()
            .take(limit as usize)
            .map(|c| (c.id, Basis::Leader))
            .collect();
        access_log::record(conn, &caller, &shown, Action::List, Resource::ServiceCases)?;
        Ok(items)
    })
    .await?;
    Ok(pagination::respond(
        &req,
        pagination::page(items, limit, |c| c.id),
    ))
}
