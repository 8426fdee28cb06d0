//! What needs me (rule 7): for a professional, the evaluations past their deadline on measures they or
//! their cases are responsible for, level-0 decisions past their deadline on cases they hold, consents
//! expiring within 30 days on cases they hold, handovers waiting for them, and inquiries to their
//! services that wait longer than the municipality allows.

use actix_web::{get, web, HttpResponse};
use chrono::{Days, NaiveDate};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access_log::store::Basis;
use crate::access_log::store::Resource;
use crate::access_log::store::{self as access_log, Action};
use crate::auth::{Caller, Role};
use crate::cases::model::CaseRow;
use crate::db::schema::{cases, measures};
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::measures::api::{MeasureState, Responsible};
use crate::measures::store::MeasureRow;
use crate::policy;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(attention);
}

/// Consents running out within this many days need attention (a professional's and a leader's).
pub const EXPIRY_HORIZON_DAYS: u64 = 30;
/// A professional with more open cases than this is asked to narrow down through the case list.
const MAX_CASES: i64 = 2000;

#[derive(Debug, Serialize, ToSchema)]
pub struct OverdueEvaluation {
    pub case_id: Uuid,
    pub measure_id: Uuid,
    pub title: String,
    pub evaluate_by: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OverdueDecision {
    pub case_id: Uuid,
    pub decision_due: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExpiringConsent {
    pub case_id: Uuid,
    pub consent_id: Uuid,
    pub valid_until: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Attention {
    pub overdue_evaluations: Vec<OverdueEvaluation>,
    pub overdue_level0_decisions: Vec<OverdueDecision>,
    pub consents_expiring: Vec<ExpiringConsent>,
    /// Pending handovers addressed to me; `overdue` once past their answer-by date.
    pub handovers_waiting: Vec<crate::handovers::api::HandoverView>,
    /// Inquiries to my services that no one has answered for longer than the municipality's
    /// `inquiry_attention_days` (default 5), oldest first.
    pub inquiries_waiting: Vec<crate::inquiries::api::WaitingInquiry>,
    /// How many of my open cases were looked through.
    pub cases_checked: usize,
    /// `false` when I have more open cases than one answer looks through (2,000): the lists above then
    /// cover the newest cases only, and the case list (`GET /api/v1/cases?holder=me`) shows the rest.
    pub complete: bool,
}

/// What needs the calling professional's attention now.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Things past or near their deadline", body = Attention),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[get("/me/attention")]
pub async fn attention(caller: Caller, pool: web::Data<Pool>) -> Result<HttpResponse, AppError> {
    caller.require_role(Role::Professional)?;
    let result = db::transaction(&pool, caller.session(), move |conn| {
        let rows: Vec<CaseRow> = cases::table
            .filter(policy::candidate_filter(&caller))
            .filter(cases::status.eq(crate::cases::api::CaseStatus::Open))
            .select(CaseRow::as_select())
            .order(cases::id.desc())
            .limit(MAX_CASES + 1)
            .load(conn)?;
        let complete = rows.len() as i64 <= MAX_CASES;
        let rows: Vec<CaseRow> = rows.into_iter().take(MAX_CASES as usize).collect();
        let readable = policy::readable(conn, &caller, rows)?;
        let ids: Vec<Uuid> = readable.iter().map(|a| a.case.id).collect();
        let today = crate::clock::today();
        let horizon = today
            .checked_add_days(Days::new(EXPIRY_HORIZON_DAYS))
            .unwrap_or(today);
        let overdue_measures: Vec<MeasureRow> = measures::table
            .filter(measures::case_id.eq_any(&ids))
            .filter(measures::state.eq_any([MeasureState::Planned, MeasureState::Active]))
            .filter(measures::evaluate_by.lt(today))
            .order(measures::evaluate_by.asc())
            .select(MeasureRow::as_select())
            .load(conn)?;

        let waiting = crate::handovers::store::inbox(
            conn,
            &caller.tenant,
            &caller.user_id,
            &caller.services,
            crate::handovers::api::HandoverState::Pending,
        )?;
        crate::handovers::handlers::record_shown(conn, &caller, &waiting, Resource::MeAttention)?;
        let inquiries_waiting = crate::inquiries::store::waiting_in(
            conn,
            &caller,
            crate::policy::inquiries::inbox_services(&caller),
        )?;
        let mut out = Attention {
            overdue_evaluations: vec![],
            overdue_level0_decisions: vec![],
            consents_expiring: vec![],
            handovers_waiting: waiting.iter().map(|h| h.view(today)).collect(),
            inquiries_waiting,
            cases_checked: readable.len(),
            complete,
        };
        let mut touched: Vec<(Uuid, Basis)> = Vec::new();
        for a in &readable {
            let holds = a.is_holder();
            let me = a.me.as_ref().map(|p| p.id);
            let mut shown = false;
            for m in overdue_measures.iter().filter(|m| m.case_id == a.case.id) {
                let mine = match m.responsible() {
                    Responsible::Participant { participant_id } => Some(participant_id) == me,
                    Responsible::Service { service } => caller.works_in(&service),
                    Responsible::Subject => false,
                };
                if mine || holds {
                    out.overdue_evaluations.push(OverdueEvaluation {
                        case_id: m.case_id,
                        measure_id: m.id,
                        title: m.title.clone(),
                        evaluate_by: m.evaluate_by,
                    });
                    shown = true;
                }
            }
            if holds {
                if let Some(due) = a
                    .case
                    .decision_due
                    .filter(|d| a.case.level == 0 && *d < today)
                {
                    out.overdue_level0_decisions.push(OverdueDecision {
                        case_id: a.case.id,
                        decision_due: due,
                    });
                    shown = true;
                }
                for c in &a.consents {
                    if a.effective.consent_ids.contains(&c.row.id) && c.row.valid_until <= horizon {
                        out.consents_expiring.push(ExpiringConsent {
                            case_id: a.case.id,
                            consent_id: c.row.id,
                            valid_until: c.row.valid_until,
                        });
                        shown = true;
                    }
                }
            }
            if shown {
                touched.push((a.case.id, a.basis));
            }
        }
        access_log::record(conn, &caller, &touched, Action::List, Resource::MeAttention)?;
        Ok(out)
    })
    .await?;
    Ok(HttpResponse::Ok().json(result))
}
