//! `GET /api/v1/services/{code}/attention`: what in a service needs its leader now. Case ids, dates and
//! names of staff only; never content.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Date, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access_log::store::Basis;
use crate::access_log::store::Resource;
use crate::access_log::store::{self as access_log, Action};
use crate::auth::Caller;
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::policy;

/// A handover pending longer than this shows to the leader even before its answer-by date.
const HANDOVER_WAIT_DAYS: i32 = 7;

#[derive(Debug, Serialize, ToSchema)]
pub struct LeaderDecisionDue {
    pub case_id: Uuid,
    pub decision_due: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeaderEvaluationDue {
    pub case_id: Uuid,
    pub measure_id: Uuid,
    pub evaluate_by: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeaderHandoverWaiting {
    pub case_id: Uuid,
    pub handover_id: Uuid,
    pub to_name: String,
    pub to_service: String,
    pub proposed_at: DateTime<Utc>,
    pub answer_by: Option<NaiveDate>,
    /// Past its answer-by date: it can no longer be accepted; propose again or reassign.
    pub expired: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeaderConsentExpiring {
    pub case_id: Uuid,
    pub consent_id: Uuid,
    pub valid_until: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeaderDepartedHolder {
    pub case_id: Uuid,
    pub holder_user_id: String,
    pub holder_name: String,
    pub departed_on: NaiveDate,
}

/// What needs the leader of one service: on the open cases held in it, level-0 decisions past their
/// deadline, overdue evaluations, handovers pending more than 7 days or past their answer-by date,
/// consents (not withdrawn or superseded) running out within 30 days, and holders who have departed;
/// and inquiries to the service waiting longer than the municipality allows.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceAttention {
    pub service: String,
    pub overdue_level0_decisions: Vec<LeaderDecisionDue>,
    pub overdue_evaluations: Vec<LeaderEvaluationDue>,
    pub handovers_waiting: Vec<LeaderHandoverWaiting>,
    pub consents_expiring: Vec<LeaderConsentExpiring>,
    pub departed_holders: Vec<LeaderDepartedHolder>,
    pub inquiries_waiting: Vec<crate::inquiries::api::WaitingInquiry>,
}

crate::prepared_statement! {
    /// Every item of a service's attention, one row each, told apart by `kind`; `$3` is today in Norway.
    struct AttentionItems<'a> {
        1 => municipality: &'a str as Text,
        2 => service: &'a str as Text,
        3 => today: NaiveDate as Date,
        4 => wait_days: i32 as diesel::sql_types::Int4,
        5 => horizon_days: i32 as diesel::sql_types::Int4,
    }
    = "WITH svc AS ( \
         SELECT c.id, c.level, c.decision_due, h.user_id, h.name \
           FROM cases c JOIN case_participants h ON h.id = c.holder_participant_id \
          WHERE c.municipality = $1 AND c.status = 'open' AND h.service = $2 AND h.kind = 'professional') \
       SELECT 'decision' AS kind, id AS case_id, NULL::uuid AS item_id, decision_due AS day, \
              NULL::text AS name, NULL::text AS service, NULL::timestamptz AS at, NULL::date AS day2 \
         FROM svc WHERE level = 0 AND decision_due < $3 \
       UNION ALL \
       SELECT 'evaluation', m.case_id, m.id, m.evaluate_by, NULL, NULL, NULL, NULL \
         FROM svc JOIN measures m ON m.case_id = svc.id \
        WHERE m.state IN ('planned', 'active') AND m.evaluate_by < $3 \
       UNION ALL \
       SELECT 'handover', o.case_id, o.id, o.answer_by, o.to_name, o.to_service, o.proposed_at, NULL \
         FROM svc JOIN handovers o ON o.case_id = svc.id AND o.state = 'pending' \
        WHERE o.proposed_at < now() - make_interval(days => $4) OR o.answer_by < $3 \
       UNION ALL \
       SELECT 'consent', k.case_id, k.id, k.valid_until, NULL, NULL, NULL, NULL \
         FROM svc JOIN consents k ON k.case_id = svc.id \
        WHERE k.withdrawn_at IS NULL AND k.superseded_by IS NULL AND k.valid_from <= $3 \
          AND k.valid_until BETWEEN $3 AND $3 + $5 \
       UNION ALL \
       SELECT 'departed', svc.id, NULL, d.departed_on, svc.name, svc.user_id, NULL, NULL \
         FROM svc JOIN staff_departures d ON d.municipality = $1 AND d.user_id = svc.user_id \
        WHERE d.departed_on <= $3 \
       ORDER BY 4, 2";
}

crate::text_enum! {
    /// Which list of the attention a row of `AttentionItems` belongs to.
    pub enum ItemKind {
        Decision,
        Evaluation,
        Handover,
        Consent,
        Departed,
    }
}

#[derive(QueryableByName)]
struct ItemRow {
    #[diesel(sql_type = Text)]
    kind: ItemKind,
    #[diesel(sql_type = SqlUuid)]
    case_id: Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    item_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Date>)]
    day: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    service: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    at: Option<DateTime<Utc>>,
}

impl ServiceAttention {
    fn add(&mut self, row: ItemRow, today: NaiveDate) -> Result<(), AppError> {
        let missing = AppError::internal;
        match row.kind {
            ItemKind::Decision => self.overdue_level0_decisions.push(LeaderDecisionDue {
                case_id: row.case_id,
                decision_due: row.day.ok_or_else(missing)?,
            }),
            ItemKind::Evaluation => self.overdue_evaluations.push(LeaderEvaluationDue {
                case_id: row.case_id,
                measure_id: row.item_id.ok_or_else(missing)?,
                evaluate_by: row.day.ok_or_else(missing)?,
            }),
            ItemKind::Handover => self.handovers_waiting.push(LeaderHandoverWaiting {
                case_id: row.case_id,
                handover_id: row.item_id.ok_or_else(missing)?,
                to_name: row.name.ok_or_else(missing)?,
                to_service: row.service.ok_or_else(missing)?,
                proposed_at: row.at.ok_or_else(missing)?,
                answer_by: row.day,
                expired: crate::handovers::api::expired(row.day, today),
            }),
            ItemKind::Consent => self.consents_expiring.push(LeaderConsentExpiring {
                case_id: row.case_id,
                consent_id: row.item_id.ok_or_else(missing)?,
                valid_until: row.day.ok_or_else(missing)?,
            }),
            ItemKind::Departed => self.departed_holders.push(LeaderDepartedHolder {
                case_id: row.case_id,
                holder_user_id: row.service.ok_or_else(missing)?,
                holder_name: row.name.ok_or_else(missing)?,
                departed_on: row.day.ok_or_else(missing)?,
            }),
        }
        Ok(())
    }
}

/// What in the service needs its leader now. Every case named leaves an access event on the basis
/// `leader`; every inquiry shown, an inquiry access event.
#[utoipa::path(
    tag = "leaders",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The service's code")),
    responses(
        (status = 200, description = "Things past or near their deadline in the service", body = ServiceAttention),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
    )
)]
#[get("/services/{code}/attention")]
pub async fn service_attention(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let service = path.into_inner();
    policy::leaders::require_leads(&caller, &service)?;
    let out = db::transaction(&pool, caller.session(), move |conn| {
        super::require_service(conn, &caller, &service)?;
        let today = crate::clock::today();
        let rows: Vec<ItemRow> = AttentionItems {
            municipality: &caller.tenant,
            service: &service,
            today,
            wait_days: HANDOVER_WAIT_DAYS,
            horizon_days: crate::attention::EXPIRY_HORIZON_DAYS as i32,
        }
        .load(conn)?;
        let mut shown: Vec<(Uuid, Basis)> =
            rows.iter().map(|r| (r.case_id, Basis::Leader)).collect();
        shown.sort_by_key(|c| c.0);
        shown.dedup_by_key(|c| c.0);
        let inquiries_waiting = crate::inquiries::store::waiting_in(
            conn,
            &caller,
            crate::policy::inquiries::works_inbox(&caller, &service)
                .then(|| service.clone())
                .into_iter()
                .collect(),
        )?;
        let mut out = ServiceAttention {
            service,
            overdue_level0_decisions: vec![],
            overdue_evaluations: vec![],
            handovers_waiting: vec![],
            consents_expiring: vec![],
            departed_holders: vec![],
            inquiries_waiting,
        };
        for row in rows {
            out.add(row, today)?;
        }
        access_log::record(
            conn,
            &caller,
            &shown,
            Action::List,
            Resource::ServiceAttention,
        )?;
        Ok(out)
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}
