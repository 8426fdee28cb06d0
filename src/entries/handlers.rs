use std::collections::HashMap;

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Uuid as SqlUuid};
use uuid::Uuid;

use super::api::{EntryInput, EntryKind, EntryListQuery, EntryRow, EntryView};
use crate::access_log::store::Resource;
use crate::access_log::store::{Action, EventValues};
use crate::auth::Caller;
use crate::cases::facts::CaseFacts;
use crate::changes::api::ChangeType;
use crate::db::schema::log_entries;
use crate::db::{self, Pool};
use crate::http::error::{AppError, FieldError};
use crate::http::extract::{ValidJson, ValidQuery};
use crate::http::pagination::{self, Page};
use crate::policy;

/// Rules 10 and 11 and the shape of each kind of entry, as a plain function.
pub fn check_entry(
    facts: &CaseFacts,
    existing_target: Option<&EntryRow>,
    e: &EntryInput,
) -> Result<(), AppError> {
    if e.kind == EntryKind::BarnevernReport {
        return Err(AppError::invalid(
            "kind",
            "rule 11: a report to child welfare needs no consent and is sent through the child welfare \
             service's own channel; it is never written into the family-readable log",
        ));
    }
    let mut errors = Vec::new();
    let mut only_for = |field: &str, present: bool, kinds: &[EntryKind]| {
        if present && !kinds.contains(&e.kind) {
            errors.push(FieldError {
                field: field.into(),
                message: format!("does not apply to a {} entry", <&str>::from(e.kind)),
            });
        }
    };
    only_for("attendees", e.attendees.is_some(), &[EntryKind::Meeting]);
    only_for(
        "next_meeting",
        e.next_meeting.is_some(),
        &[EntryKind::Meeting],
    );
    only_for(
        "decisions",
        e.decisions.is_some(),
        &[EntryKind::Meeting, EntryKind::Decision],
    );
    for (i, a) in e.attendees.iter().flatten().enumerate() {
        if e.attendees.iter().flatten().take(i).any(|b| b == a) {
            errors.push(FieldError {
                field: format!("attendees[{i}]"),
                message: "is listed twice".into(),
            });
        } else if facts.participant(*a).is_none() {
            errors.push(FieldError {
                field: format!("attendees[{i}]"),
                message: "is not a participant of this case".into(),
            });
        }
    }
    if e.occurred_at > chrono::Utc::now() + chrono::Duration::minutes(5) {
        errors.push(FieldError {
            field: "occurred_at".into(),
            message: "cannot be in the future".into(),
        });
    }
    if e.corrects.is_some() && existing_target.is_none() {
        errors.push(FieldError {
            field: "corrects".into(),
            message: "is not an entry of this case".into(),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::invalid_fields(errors))
    }
}

fn corrections_of(conn: &mut PgConnection, ids: &[Uuid]) -> Result<HashMap<Uuid, Uuid>, AppError> {
    Ok(log_entries::table
        .filter(log_entries::corrects.eq_any(ids))
        .select((log_entries::corrects.assume_not_null(), log_entries::id))
        .load::<(Uuid, Uuid)>(conn)?
        .into_iter()
        .collect())
}

/// A page of the log with the correction of each entry, and the read's access event, in one statement.
macro_rules! entries_page_sql {
    ($after:literal) => {
        concat!(
            "WITH ",
            crate::access_event_cte!(),
            " SELECT e.id, e.case_id, e.kind, e.occurred_at, e.title, e.body, e.attendees, e.decisions, \
                e.next_meeting, e.corrects, e.author_participant_id, e.author_name, e.recorded_at, \
                (SELECT x.id FROM log_entries x WHERE x.corrects = e.id) AS corrected_by \
             FROM log_entries e WHERE e.case_id = $1 ",
            $after,
            " ORDER BY e.id DESC LIMIT $2"
        )
    };
}

crate::prepared_statement! {
    struct EntriesPage<'a> { event: EventValues<'a>, case_id: Uuid, limit: i64 }
    binds {
        1 => case_id as SqlUuid,
        2 => limit as BigInt,
        101 => event.municipality as Text,
        102 => event.case_id as SqlUuid,
        103 => event.actor_user_id as Text,
        104 => event.actor_name as Text,
        105 => event.actor_role as Text,
        106 => event.action as Text,
        107 => event.resource as Text,
        108 => event.request_id as Text,
        109 => event.basis as Text,
    }
    = entries_page_sql!("");
}

crate::prepared_statement! {
    /// A later page: a plan of its own, so the first page's plan never carries an "or no cursor" branch.
    struct EntriesPageAfter<'a> { event: EventValues<'a>, case_id: Uuid, after: Uuid, limit: i64 }
    binds {
        1 => case_id as SqlUuid,
        2 => limit as BigInt,
        3 => after as SqlUuid,
        101 => event.municipality as Text,
        102 => event.case_id as SqlUuid,
        103 => event.actor_user_id as Text,
        104 => event.actor_name as Text,
        105 => event.actor_role as Text,
        106 => event.action as Text,
        107 => event.resource as Text,
        108 => event.request_id as Text,
        109 => event.basis as Text,
    }
    = entries_page_sql!("AND e.id < $3");
}

#[derive(QueryableByName)]
struct EntryPageRow {
    #[diesel(embed)]
    entry: EntryRow,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    corrected_by: Option<Uuid>,
}

/// The log, newest first.
#[utoipa::path(
    tag = "entries",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), EntryListQuery),
    responses((status = 200, description = "A page of log entries", body = Page<EntryView>))
)]
#[get("/cases/{id}/entries")]
pub async fn list_entries(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
    query: ValidQuery<EntryListQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let limit = pagination::effective_limit(query.0.limit);
    let after = query
        .0
        .cursor
        .as_deref()
        .map(pagination::decode_uuid_cursor)
        .transpose()?;
    let items = db::transaction(&pool, caller.session(), move |conn| {
        let access = policy::case_for_read(conn, &caller, id)?;
        let event = EventValues::new(
            &caller,
            (id, access.basis),
            Action::Read,
            Resource::CaseEntries,
        );
        let rows: Vec<EntryPageRow> = match after {
            None => EntriesPage {
                event,
                case_id: id,
                limit: limit + 1,
            }
            .load(conn)?,
            Some(after) => EntriesPageAfter {
                event,
                case_id: id,
                after,
                limit: limit + 1,
            }
            .load(conn)?,
        };
        Ok(rows
            .into_iter()
            .map(|r| r.entry.view(r.corrected_by))
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(pagination::respond(
        &req,
        pagination::page(items, limit, |e| e.id),
    ))
}

/// One entry, with the entry that corrects it, if any.
#[utoipa::path(
    tag = "entries",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), ("eid" = Uuid, Path, description = "The entry id")),
    responses((status = 200, description = "The entry", body = EntryView))
)]
#[get("/cases/{id}/entries/{eid}")]
pub async fn get_entry(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (id, eid) = path.into_inner();
    let view = db::transaction(&pool, caller.session(), move |conn| {
        let access = policy::case_for_read(conn, &caller, id)?;
        let row: EntryRow = log_entries::table
            .filter(log_entries::id.eq(eid))
            .filter(log_entries::case_id.eq(id))
            .select(EntryRow::as_select())
            .first(conn)
            .optional()?
            .ok_or_else(|| AppError::not_found("entry"))?;
        access.record(conn, &caller, Action::Read, Resource::CaseEntries)?;
        let by = corrections_of(conn, &[eid])?.get(&eid).copied();
        Ok(row.view(by))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Write to the log: any participant with access, guardians included. To correct an entry, write a new
/// one with `corrects`; entries are never changed or deleted.
#[utoipa::path(
    tag = "entries",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id")),
    request_body = EntryInput,
    responses(
        (status = 201, description = "Written", body = EntryView, headers(("Location" = String, description = "The entry"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/cases/{id}/entries")]
pub async fn add_entry(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
    body: ValidJson<EntryInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = body.0;
    let view = db::transaction_for_case(&pool, caller.session(), id, move |conn| {
        let access = policy::case_for_write(conn, &caller, id)?;
        access.require_open()?;
        let me = access.actor()?.clone();
        let target: Option<EntryRow> = match input.corrects {
            Some(c) => log_entries::table
                .filter(log_entries::id.eq(c))
                .filter(log_entries::case_id.eq(id))
                .select(EntryRow::as_select())
                .first(conn)
                .optional()?,
            None => None,
        };
        check_entry(&access, target.as_ref(), &input)?;
        if let Some(t) = &target {
            if !corrections_of(conn, &[t.id])?.is_empty() {
                return Err(AppError::conflict(
                    "that entry is already corrected; correct the correction instead",
                ));
            }
        }
        let row: EntryRow = diesel::insert_into(log_entries::table)
            .values((
                log_entries::id.eq(Uuid::now_v7()),
                log_entries::case_id.eq(id),
                log_entries::kind.eq(input.kind),
                log_entries::occurred_at.eq(input.occurred_at),
                log_entries::title.eq(&input.title),
                log_entries::body.eq(&input.body),
                log_entries::attendees.eq(input.attendees.clone().unwrap_or_default()),
                log_entries::decisions.eq(&input.decisions),
                log_entries::next_meeting.eq(input.next_meeting),
                log_entries::corrects.eq(input.corrects),
                log_entries::author_participant_id.eq(me.id),
                log_entries::author_name.eq(&me.name),
            ))
            .returning(EntryRow::as_returning())
            .get_result(conn)?;
        access.changed(
            conn,
            &caller,
            Action::Create,
            Resource::CaseEntries,
            ChangeType::EntryAdded,
        )?;
        Ok(row.view(None))
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/cases/{id}/entries/{}", view.id),
        ))
        .json(view))
}
