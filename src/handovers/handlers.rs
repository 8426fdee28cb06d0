use actix_web::{get, post, web, HttpResponse};
use uuid::Uuid;

use super::api::ReassignInput;
use super::api::{
    AcceptInput, CancelInput, DeclineInput, HandoverInput, HandoverList, HandoverState,
    HandoverView, InboxQuery, ReassignReason,
};
use super::store::HandoverRow;
use super::{holder, rules, store};
use crate::access_log::store::Basis;
use crate::access_log::store::Resource;
use crate::access_log::store::{self as access_log, Action};
use crate::auth::{Caller, Role};
use crate::changes::api::ChangeType;
use crate::clock::today;
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::{ValidJson, ValidQuery};
use crate::leaders::overview::{self, ServiceCase, ServiceCaseQuery};
use crate::notifications::api::NotificationEvent;
use crate::notifications::store::{notify, Notice, Recipients};
use crate::policy::{self, Need};

/// The handovers of a case, oldest first.
///
/// Every proposal of the stafettholder role in the case, with its state today (pending, accepted,
/// declined, cancelled or expired), for anyone who may read the case; for anyone else it is 404. Leaves
/// an access event.
#[utoipa::path(
    tag = "handovers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    responses((status = 200, description = "All handovers of the case", body = HandoverList))
)]
#[get("/cases/{id}/handovers")]
pub async fn list_handovers(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let seen = Resource::CaseHandovers;
    let list = policy::read_case(&pool, caller, id, seen, move |conn, _, access| {
        Ok(HandoverList {
            items: store::of_case(conn, id)?
                .iter()
                .map(|h| h.view(access.today))
                .collect(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Propose handing the stafettholder role to a professional.
///
/// The holder. The receiving service must be the holder's or covered by the effective consent; one
/// pending proposal per case (409 while another waits; an expired one gives its place up). A
/// professional the municipality has registered as departed or leaving is 409. The recipient is
/// notified.
#[utoipa::path(
    tag = "handovers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    request_body = HandoverInput,
    responses(
        (status = 201, description = "Proposed", body = HandoverView, headers(("Location" = String, description = "The handover"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/cases/{id}/handovers")]
pub async fn propose(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
    body: ValidJson<HandoverInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = body.0;
    let write = Need::Holder;
    let view = policy::change_case(&pool, caller, id, write, move |conn, caller, access| {
        let to = &input.to;
        let service_is_active =
            crate::services::store::find_active_by_code(conn, &caller.tenant, &to.service)?
                .is_some();
        let to_is_leaving = crate::leaders::staff::is_leaving(conn, &caller.tenant, &to.user_id)?;
        rules::check_proposal(caller, &access, &input, service_is_active, to_is_leaving)?;
        if let Some(pending) = store::pending_of(conn, id)? {
            if pending.state_on(access.today) != HandoverState::Expired {
                let pending_already =
                    "a handover is already pending for this case; cancel it first";
                return Err(AppError::conflict(pending_already).with_conflicting_id(pending.id));
            }
            // An expired proposal gives the case's one pending slot back: its state is stored now.
            store::answer(
                conn,
                pending.id,
                HandoverState::Expired,
                &caller.user_id,
                None,
            )?;
        }
        let me = access.actor()?;
        let row = store::insert(conn, id, (me.id, &caller.user_id), &input)?;
        let to = vec![input.to.user_id.as_str()];
        let event = NotificationEvent::HandoverProposed;
        notify(
            conn,
            &Notice::by(caller, event, Some(id), row.id, Recipients::users(to)),
        )?;
        let (action, change) = (Action::Propose, ChangeType::HandoverProposed);
        access.changed(conn, caller, action, Resource::CaseHandovers, change)?;
        Ok(row.view(access.today))
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/cases/{id}/handovers/{}", view.id),
        ))
        .json(view))
}

/// Accept the stafettholder role.
///
/// The recipient only: others who may read the case get 403, anyone else 404. Atomic: the recipient
/// joins the case if needed, becomes the holder, and the holder period passes on; the old holder leaves
/// the case when the proposal said so (`previous_holder_leaves`). A handover expired or answered
/// already, a closed case, or a service no longer covered by the consent is 409. The proposer is
/// notified.
#[utoipa::path(
    tag = "handovers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("hid" = Uuid, Path, description = "The handover id")),
    request_body = AcceptInput,
    responses(
        (status = 200, description = "Accepted", body = HandoverView),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/cases/{id}/handovers/{hid}/accept")]
pub async fn accept(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<crate::national_id::NationalIdKey>,
    path: web::Path<(Uuid, Uuid)>,
    _body: ValidJson<AcceptInput>,
) -> Result<HttpResponse, AppError> {
    let (id, hid) = path.into_inner();
    let view = db::transaction(&pool, caller.session(), move |conn| {
        let (case, handover) = policy::handovers::for_recipient(conn, &caller, id, hid)?;
        handover.require_pending(today())?;
        let facts = policy::load_facts(conn, vec![case])?
            .pop()
            .ok_or_else(AppError::internal)?;
        if facts.case.status != crate::cases::api::CaseStatus::Open {
            return Err(AppError::conflict("the case is closed"));
        }
        if !facts.service_in_case(&handover.to_service) {
            return Err(AppError::conflict(format!(
                "rule 3: no effective consent covers the service `{}` any more",
                handover.to_service
            )));
        }
        let row = store::answer(conn, hid, HandoverState::Accepted, &caller.user_id, None)?;
        let to = super::api::HandoverTo {
            user_id: handover.to_user_id.clone(),
            name: handover.to_name.clone(),
            service: handover.to_service.clone(),
        };
        let (new_holder, joined) = holder::participation_of(conn, &key, &facts, &to)?;
        store::pass_holder_period(conn, id, new_holder)?;
        store::set_holder(conn, id, new_holder)?;
        if handover.previous_holder_leaves && handover.from_participant_id != new_holder {
            crate::participants::store::deactivate(conn, &[handover.from_participant_id])?;
        }
        access_log::record(
            conn,
            &caller,
            &[(id, Basis::HolderService)],
            Action::Accept,
            Resource::CaseHandovers,
        )?;
        let mut changes = vec![ChangeType::HandoverAccepted];
        if joined {
            changes.insert(0, ChangeType::ParticipantAdded);
        }
        if handover.previous_holder_leaves {
            changes.push(ChangeType::ParticipantDeactivated);
        }
        crate::changes::store::emit(conn, &caller.tenant, id, &changes)?;
        let to = vec![handover.from_user_id.as_str()];
        let event = NotificationEvent::HandoverAnswered;
        notify(
            conn,
            &Notice::by(&caller, event, Some(id), hid, Recipients::users(to)),
        )?;
        Ok(row.view(today()))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Decline the stafettholder role, with a reason.
///
/// The recipient only: others who may read the case get 403, anyone else 404. The holder stays the
/// holder, and the proposer is notified. A handover expired or answered already is 409. Leaves an access
/// event and `handover.declined` in the change feed.
#[utoipa::path(
    tag = "handovers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("hid" = Uuid, Path, description = "The handover id")),
    request_body = DeclineInput,
    responses(
        (status = 200, description = "Declined", body = HandoverView),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/cases/{id}/handovers/{hid}/decline")]
pub async fn decline(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(Uuid, Uuid)>,
    body: ValidJson<DeclineInput>,
) -> Result<HttpResponse, AppError> {
    let (id, hid) = path.into_inner();
    let reason = body.0.reason;
    let view = db::transaction(&pool, caller.session(), move |conn| {
        let (_case, handover) = policy::handovers::for_recipient(conn, &caller, id, hid)?;
        handover.require_pending(today())?;
        let row = store::answer(
            conn,
            hid,
            HandoverState::Declined,
            &caller.user_id,
            Some(&reason),
        )?;
        // The recipient may not be a participant; record on the basis of the handover addressed to them.
        access_log::record(
            conn,
            &caller,
            &[(id, Basis::HandoverRecipient)],
            Action::Decline,
            Resource::CaseHandovers,
        )?;
        crate::changes::store::emit(conn, &caller.tenant, id, &[ChangeType::HandoverDeclined])?;
        let to = vec![handover.from_user_id.as_str()];
        let event = NotificationEvent::HandoverAnswered;
        notify(
            conn,
            &Notice::by(&caller, event, Some(id), hid, Recipients::users(to)),
        )?;
        Ok(row.view(today()))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Withdraw a handover proposal.
///
/// The holder. The holder stays the holder. A proposal answered already is 409; an expired one may still
/// be withdrawn, to tidy up, even of a closed case. Leaves an access event and `handover.cancelled` in
/// the change feed.
#[utoipa::path(
    tag = "handovers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("hid" = Uuid, Path, description = "The handover id")),
    request_body = CancelInput,
    responses(
        (status = 200, description = "Cancelled", body = HandoverView),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/cases/{id}/handovers/{hid}/cancel")]
pub async fn cancel(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(Uuid, Uuid)>,
    body: ValidJson<CancelInput>,
) -> Result<HttpResponse, AppError> {
    let (id, hid) = path.into_inner();
    let reason = body.0.reason;
    let write = Need::Reader;
    let view = policy::change_case(&pool, caller, id, write, move |conn, caller, access| {
        let handover = store::find_locked(conn, id, hid)?;
        policy::handovers::may_cancel(&access, &handover)?;
        let row = store::answer(
            conn,
            hid,
            HandoverState::Cancelled,
            &caller.user_id,
            reason.as_deref(),
        )?;
        access.changed(
            conn,
            caller,
            Action::Cancel,
            Resource::CaseHandovers,
            ChangeType::HandoverCancelled,
        )?;
        Ok(row.view(access.today))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The most handovers one inbox answer lists (the spec's `maxItems`).
const MAX_INBOX: usize = 1000;

/// The caller's inbox of handovers.
///
/// Handovers addressed to the calling professional in their services, oldest first, at most 1,000
/// (default: pending; `status` picks another state). For the `professional` role (403 otherwise). A proposal shows part of a case to
/// someone not yet in it, so every case shown leaves an access event.
#[utoipa::path(
    tag = "handovers",
    security(("bearer" = [])),
    params(InboxQuery),
    responses(
        (status = 200, description = "Handovers to the caller", body = HandoverList),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[get("/handovers")]
pub async fn inbox(
    caller: Caller,
    pool: web::Data<Pool>,
    query: ValidQuery<InboxQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require_role(Role::Professional)?;
    let state = query.0.status.unwrap_or(HandoverState::Pending);
    let list = db::transaction(&pool, caller.session(), move |conn| {
        let mut rows = store::inbox(
            conn,
            &caller.tenant,
            &caller.user_id,
            &caller.services,
            state,
        )?;
        rows.truncate(MAX_INBOX);
        // Rule 9: a proposal shows part of a case (its note) to someone not yet in it.
        record_shown(conn, &caller, &rows, Resource::HandoversInbox)?;
        Ok(HandoverList {
            items: rows.iter().map(|h| h.view(today())).collect(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// The access events for the cases whose handovers a list showed to `caller`, one per case.
pub fn record_shown(
    conn: &mut diesel::PgConnection,
    caller: &Caller,
    rows: &[HandoverRow],
    resource: Resource,
) -> Result<(), AppError> {
    let mut cases: Vec<(Uuid, Basis)> = rows
        .iter()
        .map(|h| (h.case_id, Basis::HandoverRecipient))
        .collect();
    cases.sort_by_key(|c| c.0);
    cases.dedup_by_key(|c| c.0);
    access_log::record(conn, caller, &cases, Action::List, resource)
}

/// The reassignment's own record: who moved the relay from whom to whom, and why.
fn record_reassignment(
    conn: &mut diesel::PgConnection,
    caller: &Caller,
    case_id: Uuid,
    (from, to): (Uuid, Uuid),
    input: &ReassignInput,
) -> Result<(), AppError> {
    store::insert_reassignments(
        conn,
        &[store::NewReassignment {
            id: Uuid::now_v7(),
            case_id,
            municipality: &caller.tenant,
            from_participant_id: from,
            to_participant_id: to,
            to_name: &input.to.name,
            to_service: &input.to.service,
            reason: input.reason,
            note: input.note.as_deref(),
            by_user_id: &caller.user_id,
            by_name: &caller.name,
            at: None,
        }],
    )
}

/// Move the stafettholder role at once (a leader of the holder's service).
///
/// The role passes to the named professional (joining the case if needed), a pending handover is
/// cancelled, and the old holder leaves the case only when the reason is `left`. The timeline shows it
/// to the family, the access log shows who did it and why, the change feed carries `holder.reassigned`.
/// Answers the case as the leader sees it. Someone who may read the case but does not lead the holder's
/// service gets 403, anyone else 404.
#[utoipa::path(
    tag = "leaders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    request_body = ReassignInput,
    responses(
        (status = 200, description = "Reassigned: the case with its new holder", body = ServiceCase),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 404, response = crate::http::openapi::NotFound),
        (status = 409, response = crate::http::openapi::Conflict),
        (status = 422, response = crate::http::openapi::Validation),
    )
)]
#[post("/cases/{id}/holder/reassign")]
pub async fn reassign(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<crate::national_id::NationalIdKey>,
    path: web::Path<Uuid>,
    body: ValidJson<ReassignInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = body.0;
    let view = policy::leaders::change_led_case(&pool, caller, id, move |conn, caller, facts| {
        let service_is_active =
            crate::services::store::find_active_by_code(conn, &caller.tenant, &input.to.service)?
                .is_some();
        let to_is_leaving =
            crate::leaders::staff::is_leaving(conn, &caller.tenant, &input.to.user_id)?;
        rules::check_reassign(caller, &facts, &input, service_is_active, to_is_leaving)?;
        let mut changes = Vec::new();
        if let Some(pending) = store::pending_of(conn, id)? {
            let why = "the stafettholder role was reassigned by a leader";
            store::answer(
                conn,
                pending.id,
                HandoverState::Cancelled,
                &caller.user_id,
                Some(why),
            )?;
            changes.push(ChangeType::HandoverCancelled);
        }
        let old = facts.holder().clone();
        let (new_holder, joined) = holder::participation_of(conn, &key, &facts, &input.to)?;
        if joined {
            changes.push(ChangeType::ParticipantAdded);
        }
        store::pass_holder_period(conn, id, new_holder)?;
        store::set_holder(conn, id, new_holder)?;
        // The same person moving to another service left their old participation in `participation_of`.
        let same_person = old.user_id.as_deref() == Some(input.to.user_id.as_str());
        if input.reason == ReassignReason::Left && !same_person && old.id != new_holder {
            crate::participants::store::deactivate(conn, &[old.id])?;
            changes.push(ChangeType::ParticipantDeactivated);
        }
        record_reassignment(conn, caller, id, (old.id, new_holder), &input)?;
        let resource = rules::logged_as(input.reason);
        access_log::record(
            conn,
            caller,
            &[(id, Basis::Leader)],
            Action::Reassign,
            resource,
        )?;
        changes.push(ChangeType::HolderReassigned);
        crate::changes::store::emit(conn, &caller.tenant, id, &changes)?;
        let to = vec![input.to.user_id.as_str()];
        let event = NotificationEvent::HolderReassigned;
        notify(
            conn,
            &Notice::by(caller, event, Some(id), new_holder, Recipients::users(to)),
        )?;
        let selection = overview::Selection {
            query: &ServiceCaseQuery::default(),
            after: None,
            limit: 1,
            ids: Some(&[id]),
        };
        overview::select(conn, caller, &input.to.service, selection)?
            .pop()
            .ok_or_else(AppError::internal)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
