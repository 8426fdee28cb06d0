//! Reassigning the relay at once: when the holder is away or has left, a leader of the
//! holder's service moves the role to a professional without a proposal or an accept. Rule 3 still holds
//! (the new holder's service is the holder's or one the effective consent covers), a pending handover is
//! cancelled, the holder periods pass on without a gap (`holder.rs`, and the database's constraint), and
//! the old holder stays a participant unless they have left. The case's lock makes a reassign and a
//! racing accept or cancel run one after the other: exactly one of them decides who holds the relay.

use actix_web::{post, web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::api::{HandoverState, HandoverTo};
use super::{holder, store};
use crate::access_log::store::Basis;
use crate::access_log::store::Resource;
use crate::access_log::store::{self as access_log, Action};
use crate::auth::Caller;
use crate::cases::facts::CaseFacts;
use crate::changes::api::ChangeType;
use crate::db::schema::holder_reassignments;
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::ValidJson;
use crate::leaders::overview::{self, ServiceCase, ServiceCaseQuery};
use crate::policy;

crate::text_enum! {
    pub enum ReassignReason {
        /// The holder is away (sick leave, leave of absence).
        Absence,
        /// The holder has left the service or the municipality: they leave the case too.
        Left,
        Workload,
        Other,
    }
}

impl ReassignReason {
    /// The access log names the reason with the resource, so the family reads why the relay moved.
    fn logged_as(self) -> Resource {
        match self {
            ReassignReason::Absence => Resource::CaseHolderAbsence,
            ReassignReason::Left => Resource::CaseHolderLeft,
            ReassignReason::Workload => Resource::CaseHolderWorkload,
            ReassignReason::Other => Resource::CaseHolderOther,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReassignInput {
    /// The new stafettholder: a professional of the holder's service or of one the effective consent covers.
    #[validate(nested)]
    pub to: HandoverTo,
    pub reason: ReassignReason,
    /// Shown in the reassignment's record; the timeline and the access log carry the reason only.
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub note: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = holder_reassignments)]
struct NewReassignment<'a> {
    id: Uuid,
    case_id: Uuid,
    municipality: &'a str,
    from_participant_id: Uuid,
    to_participant_id: Uuid,
    to_name: &'a str,
    to_service: &'a str,
    reason: ReassignReason,
    note: Option<&'a str>,
    by_user_id: &'a str,
    by_name: &'a str,
}

/// Rule 3 and the plain conflicts, before anything is written.
fn check(
    conn: &mut PgConnection,
    caller: &Caller,
    facts: &CaseFacts,
    input: &ReassignInput,
) -> Result<(), AppError> {
    // The holder must be able to coordinate: a leader who is only a leader cannot hold the relay.
    if input.to.user_id == caller.user_id && !caller.has_role(crate::auth::Role::Professional) {
        return Err(AppError::conflict(
            "the relay passes to a professional: your token leads the service but does not work in it",
        ));
    }
    if facts.case.status != crate::cases::api::CaseStatus::Open {
        return Err(AppError::conflict(
            "the case is closed and can no longer be changed",
        ));
    }
    let to = &input.to;
    if crate::services::store::find_active_by_code(conn, &facts.case.municipality, &to.service)?
        .is_none()
    {
        return Err(AppError::invalid(
            "to.service",
            format!(
                "`{}` is not an active service of the municipality",
                to.service
            ),
        ));
    }
    let holder = facts.holder();
    if holder.user_id.as_deref() == Some(to.user_id.as_str())
        && holder.service.as_deref() == Some(to.service.as_str())
    {
        return Err(AppError::conflict(
            "this professional already holds the relay",
        ));
    }
    if !facts.service_in_case(&to.service) {
        return Err(AppError::conflict(format!(
            "rule 3: no effective consent covers the service `{}`; the role can only pass to a covered service",
            to.service
        )));
    }
    if crate::leaders::staff::is_leaving(conn, &facts.case.municipality, &to.user_id)? {
        return Err(AppError::conflict(
            "the municipality has registered this professional as departed (or leaving)",
        ));
    }
    Ok(())
}

/// Move the stafettholder role at once (a leader of the holder's service). The role passes to the named
/// professional (joining the case if needed), a pending handover is cancelled, and the old holder leaves
/// the case only when the reason is `left`. The timeline shows it to the family, the access log shows who
/// did it and why, the change feed carries `holder.reassigned`. Answers the case as the leader sees it.
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
    let view = db::transaction_for_case(&pool, caller.session(), id, move |conn| {
        let facts = policy::leaders::case_for_leader(conn, &caller, id)?;
        check(conn, &caller, &facts, &input)?;
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
        holder::pass(conn, id, new_holder)?;
        store::set_holder(conn, id, new_holder)?;
        // The same person moving to another service left their old participation in `participation_of`.
        let same_person = old.user_id.as_deref() == Some(input.to.user_id.as_str());
        if input.reason == ReassignReason::Left && !same_person && old.id != new_holder {
            crate::participants::store::deactivate(conn, &[old.id])?;
            changes.push(ChangeType::ParticipantDeactivated);
        }
        diesel::insert_into(holder_reassignments::table)
            .values(NewReassignment {
                id: Uuid::now_v7(),
                case_id: id,
                municipality: &caller.tenant,
                from_participant_id: old.id,
                to_participant_id: new_holder,
                to_name: &input.to.name,
                to_service: &input.to.service,
                reason: input.reason,
                note: input.note.as_deref(),
                by_user_id: &caller.user_id,
                by_name: &caller.name,
            })
            .execute(conn)?;
        let resource = input.reason.logged_as();
        access_log::record(
            conn,
            &caller,
            &[(id, Basis::Leader)],
            Action::Reassign,
            resource,
        )?;
        changes.push(ChangeType::HolderReassigned);
        crate::changes::store::emit(conn, &caller.tenant, id, &changes)?;
        let selection = overview::Selection {
            query: &ServiceCaseQuery::default(),
            after: None,
            limit: 1,
            ids: Some(&[id]),
        };
        overview::select(conn, &caller, &input.to.service, selection)?
            .pop()
            .ok_or_else(AppError::internal)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[cfg(test)]
mod tests {
    use super::ReassignReason;
    use strum::VariantArray;

    #[test]
    fn the_access_log_names_the_reason_of_a_reassignment_as_it_always_has() {
        for reason in ReassignReason::VARIANTS {
            assert_eq!(
                reason.logged_as().as_str(),
                format!("case.holder (reason: {})", reason.as_str())
            );
        }
    }
}
