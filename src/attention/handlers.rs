//! The two attention lists: the calling professional's (rule 7) and a service leader's.

use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use uuid::Uuid;

use super::api::{
    Attention, ExpiringConsent, OverdueDecision, OverdueEvaluation, ServiceAttention,
};
use super::rules::{self, MAX_CASES};
use super::store;
use crate::access_log::store::Basis;
use crate::access_log::store::Resource;
use crate::access_log::store::{self as access_log, Action};
use crate::auth::{Caller, Role};
use crate::cases::store::CaseRow;
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::measures::store::MeasureRow;
use crate::policy::{self, CaseAccess};

/// What needs the calling professional's attention now.
///
/// For the `professional` role (403 otherwise), rule 7: overdue evaluations of the measures they or
/// their service are responsible for (every measure of the cases they hold), level-0 decisions past
/// their deadline and consents in force running out within 30 days in the cases they hold, pending
/// handovers addressed to them, and inquiries to their services that no one has answered for longer than
/// the municipality allows. It looks through the newest 2,000 of their open cases that they may read
/// (`complete` says whether that was all). Every case with something in it leaves an access event; every
/// handover and inquiry shown, its own.
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
        my_attention(conn, &caller)
    })
    .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// The calling professional's attention, over the newest of their open cases that they may read. Every
/// case with something in it leaves an access event; every handover and inquiry shown, its own.
fn my_attention(conn: &mut diesel::PgConnection, caller: &Caller) -> Result<Attention, AppError> {
    let rows = store::open_cases(conn, policy::candidate_filter(caller), MAX_CASES + 1)?;
    let complete = rows.len() as i64 <= MAX_CASES;
    let rows: Vec<CaseRow> = rows.into_iter().take(MAX_CASES as usize).collect();
    let readable = policy::readable(conn, caller, rows)?;
    let ids: Vec<Uuid> = readable.iter().map(|a| a.case.id).collect();
    let today = crate::clock::today();
    let overdue_measures = store::overdue_measures(conn, &ids, today)?;
    let decided = crate::decisions::store::decided_now(conn, &ids)?;
    let mut waiting = crate::handovers::store::inbox(
        conn,
        &caller.tenant,
        &caller.user_id,
        &caller.services,
        crate::handovers::api::HandoverState::Pending,
    )?;
    let handovers_complete = waiting.len() <= rules::MAX_LISTED;
    waiting.truncate(rules::MAX_LISTED);
    crate::handovers::handlers::record_shown(conn, caller, &waiting, Resource::MeAttention)?;
    let (inquiries_waiting, inquiries_complete) = crate::inquiries::store::waiting_in(
        conn,
        caller,
        crate::policy::inquiries::inbox_services(caller),
    )?;
    let mut out = Attention {
        overdue_evaluations: vec![],
        overdue_level0_decisions: vec![],
        consents_expiring: vec![],
        handovers_waiting: waiting.iter().map(|h| h.view(today)).collect(),
        inquiries_waiting,
        cases_checked: readable.len(),
        complete: complete && handovers_complete && inquiries_complete,
    };
    let mut touched: Vec<(Uuid, Basis)> = Vec::new();
    for a in &readable {
        let seen = Seen {
            overdue_measures: &overdue_measures,
            decided: decided.contains(&a.case.id),
        };
        if add_case(&mut out, a, &seen, caller, today) {
            touched.push((a.case.id, a.basis));
        }
    }
    access_log::record(conn, caller, &touched, Action::List, Resource::MeAttention)?;
    Ok(out)
}

/// What was read of the cases beside their facts.
struct Seen<'a> {
    overdue_measures: &'a [MeasureRow],
    /// The case's level-0 period has its decision (rule 12).
    decided: bool,
}

/// Adds what one case holds for the caller; whether it added anything, i.e. whether the case is shown.
fn add_case(
    out: &mut Attention,
    a: &CaseAccess,
    seen: &Seen,
    caller: &Caller,
    today: NaiveDate,
) -> bool {
    let holds = a.is_holder();
    let me = a.me.as_ref().map(|p| p.id);
    let mut shown = false;
    for m in seen
        .overdue_measures
        .iter()
        .filter(|m| m.case_id == a.case.id)
    {
        if rules::evaluation_needs(&m.responsible(), me, |s| caller.works_in(s), holds) {
            if !room(&out.overdue_evaluations, &mut out.complete) {
                continue;
            }
            out.overdue_evaluations.push(OverdueEvaluation {
                case_id: m.case_id,
                measure_id: m.id,
                title: m.title.clone(),
                evaluate_by: m.evaluate_by,
            });
            shown = true;
        }
    }
    if !holds {
        return shown;
    }
    let due =
        rules::overdue_level0_decision(a.case.level, a.case.decision_due, seen.decided, today);
    if let Some(due) = due.filter(|_| room(&out.overdue_level0_decisions, &mut out.complete)) {
        out.overdue_level0_decisions.push(OverdueDecision {
            case_id: a.case.id,
            decision_due: due,
        });
        shown = true;
    }
    let horizon = rules::expiry_horizon(today);
    for c in &a.consents {
        let in_force = a.effective.consent_ids.contains(&c.row.id);
        if rules::consent_expiring(in_force, c.row.valid_until, horizon) {
            if !room(&out.consents_expiring, &mut out.complete) {
                continue;
            }
            out.consents_expiring.push(ExpiringConsent {
                case_id: a.case.id,
                consent_id: c.row.id,
                valid_until: c.row.valid_until,
            });
            shown = true;
        }
    }
    shown
}

/// Whether `list` has room for one more item; when it has not, the answer is marked incomplete.
fn room<T>(list: &[T], complete: &mut bool) -> bool {
    let has = list.len() < rules::MAX_LISTED;
    *complete &= has;
    has
}

/// What in a service needs its leader now.
///
/// For a leader of the service (role `leader`, the service in `services`; 403 otherwise); a service the
/// municipality does not have, or no longer runs, is 404. On the open cases held in the service: level-0
/// decisions past their deadline, overdue evaluations, handovers pending more than 7 days or past their
/// answer-by date, consents running out within 30 days and holders who have departed; and inquiries to
/// the service waiting longer than the municipality allows. Never content. Every case named leaves an
/// access event on the basis `leader`; every inquiry shown, an inquiry access event.
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
        crate::leaders::require_service(conn, &caller, &service)?;
        let today = crate::clock::today();
        let rows = store::service_items(conn, &caller.tenant, &service, today)?;
        let (rows, complete) = rules::at_most_listed_per_kind(rows, |r| r.kind);
        let mut shown: Vec<(Uuid, Basis)> =
            rows.iter().map(|r| (r.case_id, Basis::Leader)).collect();
        shown.sort_by_key(|c| c.0);
        shown.dedup_by_key(|c| c.0);
        let (inquiries_waiting, inquiries_complete) = crate::inquiries::store::waiting_in(
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
            complete: complete && inquiries_complete,
        };
        for row in rows {
            row.add_to(&mut out, today)?;
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
