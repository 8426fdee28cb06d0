//! The meeting endpoints: thin; the rules are in `rules`, who may answer in `crate::policy::meetings`.

use actix_web::http::header::ETag;
use actix_web::{get, patch, post, web, HttpResponse};
use chrono::Utc;
use diesel::PgConnection;
use uuid::Uuid;

use super::api::{
    InvitationAnswerInput, InviteeResponse, MeetingCancelInput, MeetingInput, MeetingList,
    MeetingPatch, MeetingState, MeetingView, MinutesInput,
};
use super::rules;
use super::store::{self, InviteeInsert, MeetingChanges, MeetingInsert, MeetingRow};
use crate::access_log::store::{Action, Resource};
use crate::auth::Caller;
use crate::cases::facts::CaseFacts;
use crate::changes::api::ChangeType;
use crate::db::{self, Pool};
use crate::entries::api::{EntryInput, EntryKind};
use crate::http::error::AppError;
use crate::http::extract::{etag, IfMatch, ValidJson};
use crate::notifications::api::NotificationEvent;
use crate::notifications::store::{notify, Notice, Recipients};
use crate::patch::Patched;
use crate::policy::{self, CaseAccess, Need};

fn meeting_response(mut res: actix_web::HttpResponseBuilder, view: MeetingView) -> HttpResponse {
    res.insert_header(ETag(etag(view.version))).json(view)
}

fn view_of(conn: &mut PgConnection, row: &MeetingRow) -> Result<MeetingView, AppError> {
    Ok(row.view(&store::invitees_of(conn, &[row.id])?))
}

/// Everyone invited once, and within the consent's coverage (rule 3): nobody outside it is drawn in.
fn check_invitees(facts: &CaseFacts, invitees: &[Uuid]) -> Result<(), AppError> {
    rules::each_invitee_once(invitees, "invitees")?;
    for (i, p) in invitees.iter().enumerate() {
        policy::plans::in_coverage(facts, &format!("invitees[{i}]"), *p)?;
    }
    Ok(())
}

/// Tells `participants` of `event` about `meeting` (through their own notification settings).
fn tell(
    conn: &mut PgConnection,
    caller: &Caller,
    event: NotificationEvent,
    meeting: &MeetingRow,
    participants: Vec<Uuid>,
) -> Result<(), AppError> {
    let to = Recipients::participants(participants);
    notify(
        conn,
        &Notice::by(caller, event, Some(meeting.case_id), meeting.id, to),
    )?;
    Ok(())
}

/// The meetings of a case, soonest first.
///
/// Every meeting of the case, planned, held or cancelled, with its invitees and their answers, for
/// anyone who may read the case; for anyone else it is 404. Leaves an access event.
#[utoipa::path(
    tag = "meetings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    responses((status = 200, description = "The meetings", body = MeetingList))
)]
#[get("/cases/{id}/meetings")]
pub async fn list_meetings(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let list = policy::read_case(
        &pool,
        caller,
        id,
        Resource::CaseMeetings,
        move |conn, _, _| {
            let rows = store::for_cases(conn, &[id])?;
            let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
            let invitees = store::invitees_of(conn, &ids)?;
            Ok(MeetingList {
                items: rows.iter().map(|m| m.view(&invitees)).collect(),
            })
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Plan a meeting and invite participants of the case.
///
/// A professional in the case. Each invitee is an active participant within the consent's coverage
/// (rule 3), invited once; a meeting is planned ahead (one already held is written as a `meeting` entry
/// instead) and ends within 24 hours of its start. The invitees hear of it through their notification
/// settings and see it in `GET /me/meetings` and their calendar.
#[utoipa::path(
    tag = "meetings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    request_body = MeetingInput,
    responses(
        (status = 201, description = "Planned", body = MeetingView,
            headers(("Location" = String, description = "The meeting"), ("ETag" = String, description = "Its version"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/cases/{id}/meetings")]
pub async fn plan_meeting(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
    body: ValidJson<MeetingInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = body.0;
    let view = policy::change_case(
        &pool,
        caller,
        id,
        Need::Professional,
        move |conn, caller, access| {
            rules::a_meeting_ends_after_it_starts(input.starts_at, input.ends_at)?;
            rules::a_meeting_is_planned_ahead(input.starts_at, Utc::now())?;
            check_invitees(&access, &input.invitees)?;
            let row = store::insert(
                conn,
                &MeetingInsert {
                    id: Uuid::now_v7(),
                    case_id: id,
                    kind: input.kind,
                    starts_at: input.starts_at,
                    ends_at: input.ends_at,
                    place: input.place.as_deref(),
                    agenda: input.agenda.as_deref(),
                    state: MeetingState::Planned,
                    minutes_entry_id: None,
                    cancel_reason: None,
                    created_by_user: &caller.user_id,
                    created_at: None,
                    cancelled_at: None,
                    sequence: 0,
                },
            )?;
            let invitations: Vec<InviteeInsert> = input
                .invitees
                .iter()
                .map(|p| InviteeInsert {
                    meeting_id: row.id,
                    case_id: id,
                    participant_id: *p,
                    response: InviteeResponse::Pending,
                    responded_at: None,
                })
                .collect();
            store::insert_invitees(conn, &invitations)?;
            tell(
                conn,
                caller,
                NotificationEvent::MeetingInvited,
                &row,
                input.invitees,
            )?;
            access.changed(
                conn,
                caller,
                Action::Create,
                Resource::CaseMeetings,
                ChangeType::MeetingPlanned,
            )?;
            view_of(conn, &row)
        },
    )
    .await?;
    let location = format!("/api/v1/cases/{id}/meetings/{}", view.id);
    Ok(meeting_response(
        HttpResponse::Created()
            .insert_header(("Location", location))
            .take(),
        view,
    ))
}

/// One meeting of a case.
///
/// With its invitees and their answers, for anyone who may read the case; 404 when the caller may not,
/// or the case has no such meeting. The `ETag` is what `If-Match` takes. Leaves an access event.
#[utoipa::path(
    tag = "meetings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("meeting_id" = Uuid, Path, description = "The meeting id")),
    responses((status = 200, description = "The meeting", body = MeetingView, headers(("ETag" = String, description = "Its version"))))
)]
#[get("/cases/{id}/meetings/{meeting_id}")]
pub async fn get_meeting(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (id, mid) = path.into_inner();
    let view = db::transaction(&pool, caller.session(), move |conn| {
        let access = policy::case_for_read(conn, &caller, id)?;
        let row = store::find(conn, id, mid, false)?;
        access.record(conn, &caller, Action::Read, Resource::CaseMeetings)?;
        view_of(conn, &row)
    })
    .await?;
    Ok(meeting_response(HttpResponse::Ok(), view))
}

/// Runs a change of one planned meeting with the case locked, records it, and answers with the meeting
/// as it is afterwards.
async fn on_planned_meeting<F>(
    pool: &Pool,
    caller: Caller,
    (id, mid): (Uuid, Uuid),
    (need, change): (Need, ChangeType),
    f: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce(
            &mut PgConnection,
            &Caller,
            &CaseAccess,
            MeetingRow,
        ) -> Result<Patched<MeetingRow>, AppError>
        + Send
        + 'static,
{
    let view = policy::change_case(pool, caller, id, need, move |conn, caller, access| {
        let current = store::find(conn, id, mid, true)?;
        rules::only_planned_meetings_change(current.state)?;
        let patched = f(conn, caller, &access, current)?;
        access.patched(
            conn,
            caller,
            patched.changed(),
            Resource::CaseMeetings,
            change,
        )?;
        view_of(conn, patched.row())
    })
    .await?;
    Ok(meeting_response(HttpResponse::Ok(), view))
}

/// Change a planned meeting.
///
/// A professional in the case; `If-Match` with the meeting's ETag required. A new time asks every
/// invitee again; the invitees hear of the change, new ones of their invitation. A meeting held or
/// cancelled no longer changes (409). A patch that changes nothing answers the meeting as it is: the same
/// version, nothing in the feed, nobody told.
#[utoipa::path(
    tag = "meetings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("meeting_id" = Uuid, Path, description = "The meeting id"),
        ("If-Match" = String, Header, description = "The ETag of your last read")),
    request_body = MeetingPatch,
    responses(
        (status = 200, description = "Changed", body = MeetingView, headers(("ETag" = String, description = "Its version: a new one when the patch changed anything"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
        (status = 428, response = crate::http::openapi::PreconditionRequired),
    )
)]
#[patch("/cases/{id}/meetings/{meeting_id}")]
pub async fn change_meeting(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    body: ValidJson<MeetingPatch>,
) -> Result<HttpResponse, AppError> {
    let patch = body.0;
    let what = (Need::Professional, ChangeType::MeetingChanged);
    on_planned_meeting(
        &pool,
        caller,
        path.into_inner(),
        what,
        move |conn, caller, access, current| {
            if_match.check(current.version)?;
            apply_patch(conn, caller, access, current, patch)
        },
    )
    .await
}

fn apply_patch(
    conn: &mut PgConnection,
    caller: &Caller,
    access: &CaseAccess,
    current: MeetingRow,
    patch: MeetingPatch,
) -> Result<Patched<MeetingRow>, AppError> {
    let old_times = (current.starts_at, current.ends_at);
    let new_times = (
        patch.starts_at.unwrap_or(current.starts_at),
        patch.ends_at.unwrap_or(current.ends_at),
    );
    rules::a_meeting_ends_after_it_starts(new_times.0, new_times.1)?;
    // A time or list sent back as it is was checked when it was set: a meeting about to begin, or an
    // invitee who has left the case since, does not make an unchanged form fail.
    if patch.starts_at.is_some_and(|at| at != current.starts_at) {
        rules::a_meeting_is_planned_ahead(new_times.0, Utc::now())?;
    }
    let before: Vec<Uuid> = store::invitees_of(conn, &[current.id])?
        .iter()
        .map(|i| i.participant_id)
        .collect();
    let invitees = patch.invitees.unwrap_or_else(|| before.clone());
    let same_invitees = rules::same_people(&before, &invitees);
    if !same_invitees {
        check_invitees(access, &invitees)?;
    }
    let ask_again = !rules::answers_stand(old_times, new_times);
    let changes = MeetingChanges {
        kind: patch.kind,
        starts_at: patch.starts_at,
        ends_at: patch.ends_at,
        place: patch.place,
        agenda: patch.agenda,
        ..Default::default()
    };
    let place_moved = changes.moves_place(&current);
    let told_of_change = ask_again || place_moved || changes.tells_more(&current);
    if !changes.alters(&current) && same_invitees {
        return Ok(Patched::Unchanged(current));
    }
    let added = store::set_invitees(conn, &current, &invitees, ask_again)?;
    let seen = rules::calendar_sees_the_change(ask_again || place_moved, false);
    let row = store::update(conn, current.id, &changes, seen)?;
    if told_of_change {
        let kept: Vec<Uuid> = invitees
            .iter()
            .filter(|p| !added.contains(p))
            .copied()
            .collect();
        tell(conn, caller, NotificationEvent::MeetingChanged, &row, kept)?;
    }
    tell(conn, caller, NotificationEvent::MeetingInvited, &row, added)?;
    Ok(Patched::Changed(row))
}

/// Answer your own invitation to a meeting: accepted or declined.
///
/// The invitee themself, a guardian too; nobody answers for someone else (403). You may change your
/// answer while the meeting is planned; a meeting held or cancelled is 409.
#[utoipa::path(
    tag = "meetings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("meeting_id" = Uuid, Path, description = "The meeting id")),
    request_body = InvitationAnswerInput,
    responses(
        (status = 200, description = "Answered", body = MeetingView, headers(("ETag" = String, description = "Its new version"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/cases/{id}/meetings/{meeting_id}/respond")]
pub async fn answer_invitation(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(Uuid, Uuid)>,
    body: ValidJson<InvitationAnswerInput>,
) -> Result<HttpResponse, AppError> {
    let response = InviteeResponse::from(body.0.response);
    let what = (Need::Open, ChangeType::MeetingAnswered);
    on_planned_meeting(
        &pool,
        caller,
        path.into_inner(),
        what,
        move |conn, _, access, current| {
            let invited: Vec<Uuid> = store::invitees_of(conn, &[current.id])?
                .iter()
                .map(|i| i.participant_id)
                .collect();
            let me = policy::meetings::own_invitation(access, &invited)?;
            store::answer(conn, current.id, me, response)?;
            store::touch(conn, current.id).map(Patched::Changed)
        },
    )
    .await
}

/// Cancel a planned meeting.
///
/// A professional in the case; the invitees hear of it, and their calendars show it cancelled. A meeting
/// held or cancelled already is 409.
#[utoipa::path(
    tag = "meetings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("meeting_id" = Uuid, Path, description = "The meeting id")),
    request_body = MeetingCancelInput,
    responses(
        (status = 200, description = "Cancelled", body = MeetingView, headers(("ETag" = String, description = "Its new version"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/cases/{id}/meetings/{meeting_id}/cancel")]
pub async fn cancel_meeting(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(Uuid, Uuid)>,
    body: ValidJson<MeetingCancelInput>,
) -> Result<HttpResponse, AppError> {
    let reason = body.0.reason;
    let what = (Need::Professional, ChangeType::MeetingCancelled);
    on_planned_meeting(
        &pool,
        caller,
        path.into_inner(),
        what,
        move |conn, caller, _, current| {
            let changes = MeetingChanges {
                state: Some(MeetingState::Cancelled),
                cancel_reason: reason,
                cancelled_at: Some(Utc::now()),
                ..Default::default()
            };
            let row = store::update(
                conn,
                current.id,
                &changes,
                rules::calendar_sees_the_change(false, true),
            )?;
            let invited = store::invitees_of(conn, &[row.id])?;
            let to = invited.iter().map(|i| i.participant_id).collect();
            tell(conn, caller, NotificationEvent::MeetingCancelled, &row, to)?;
            Ok(Patched::Changed(row))
        },
    )
    .await
}

/// Write the minutes of a meeting that has begun.
///
/// A professional listed in the case: they become a `meeting` entry of the log, and the meeting is held.
/// Without `attendees`, the invitees who accepted are its attendees. A meeting that has not begun, or
/// was held or cancelled already, is 409.
#[utoipa::path(
    tag = "meetings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("meeting_id" = Uuid, Path, description = "The meeting id")),
    request_body = MinutesInput,
    responses(
        (status = 200, description = "Held; `minutes_entry_id` names the log entry", body = MeetingView, headers(("ETag" = String, description = "Its new version"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/cases/{id}/meetings/{meeting_id}/minutes")]
pub async fn write_minutes(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(Uuid, Uuid)>,
    body: ValidJson<MinutesInput>,
) -> Result<HttpResponse, AppError> {
    let input = body.0;
    let what = (Need::Professional, ChangeType::MeetingHeld);
    on_planned_meeting(
        &pool,
        caller,
        path.into_inner(),
        what,
        move |conn, caller, access, current| {
            rules::minutes_follow_the_meeting(current.starts_at, Utc::now())?;
            let entry = minutes_entry(conn, caller, access, &current, input)?;
            let changes = MeetingChanges {
                state: Some(MeetingState::Held),
                minutes_entry_id: Some(entry),
                ..Default::default()
            };
            store::update(conn, current.id, &changes, false).map(Patched::Changed)
        },
    )
    .await
}

/// The minutes as a `meeting` entry of the log, held to the rules of every entry (rules 10 and 11), with
/// its own access event and feed event.
fn minutes_entry(
    conn: &mut PgConnection,
    caller: &Caller,
    access: &CaseAccess,
    meeting: &MeetingRow,
    input: MinutesInput,
) -> Result<Uuid, AppError> {
    let me = access.actor()?.clone();
    let attendees = match input.attendees {
        Some(a) => a,
        None => store::invitees_of(conn, &[meeting.id])?
            .iter()
            .filter(|i| i.response == InviteeResponse::Accepted)
            .map(|i| i.participant_id)
            .collect(),
    };
    let entry = EntryInput {
        kind: EntryKind::Meeting,
        occurred_at: meeting.starts_at,
        title: Some(super::calendar::title(meeting.kind).to_string()),
        body: input.body,
        attendees: Some(attendees),
        decisions: input.decisions,
        next_meeting: input.next_meeting,
        corrects: None,
    };
    let is_participant = |p| access.participant(p).is_some();
    crate::entries::rules::check_entry(is_participant, false, &entry, Utc::now())?;
    let row = crate::entries::store::insert(
        conn,
        &crate::entries::store::EntryInsert {
            id: Uuid::now_v7(),
            case_id: meeting.case_id,
            kind: entry.kind,
            occurred_at: entry.occurred_at,
            title: entry.title.as_deref(),
            body: &entry.body,
            attendees: entry.attendees.unwrap_or_default(),
            decisions: entry.decisions.as_deref(),
            next_meeting: entry.next_meeting,
            corrects: None,
            author_participant_id: me.id,
            author_name: &me.name,
            recorded_at: None,
        },
    )?;
    access.changed(
        conn,
        caller,
        Action::Create,
        Resource::CaseEntries,
        ChangeType::EntryAdded,
    )?;
    Ok(row.id)
}

/// The caller's coming meetings across their cases, soonest first.
///
/// Those they are invited to in cases they may still read, planned or cancelled, until they end. Each
/// case shown leaves an access event.
#[utoipa::path(
    tag = "meetings",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The coming meetings", body = MeetingList),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[get("/me/meetings")]
pub async fn my_meetings(caller: Caller, pool: web::Data<Pool>) -> Result<HttpResponse, AppError> {
    let list = db::transaction(&pool, caller.session(), move |conn| {
        let mine = super::calendar::meetings_of(conn, &caller, Utc::now(), Resource::MeMeetings)?;
        let ids: Vec<Uuid> = mine.iter().map(|m| m.id).collect();
        let invitees = store::invitees_of(conn, &ids)?;
        Ok(MeetingList {
            items: mine
                .iter()
                .filter(|m| m.state != MeetingState::Held)
                .map(|m| m.view(&invitees))
                .collect(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}
