//! Queries for inquiries: plain functions on a connection, called inside the handler's transaction.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::api::{
    AnswerView, InquiryAbout, InquiryChildView, InquiryContact, InquiryStatus, InquiryView,
    InquiryWants, WaitingInquiry,
};
use crate::auth::Caller;
use crate::db::schema::{inquiries, inquiry_access_events, inquiry_answers};
use crate::http::error::AppError;
use crate::national_id::NationalIdKey;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = inquiries)]
pub struct InquiryRow {
    pub id: Uuid,
    pub municipality: String,
    pub service: String,
    pub about: InquiryAbout,
    pub wants: InquiryWants,
    pub status: InquiryStatus,
    pub inquirer_user_id: String,
    pub inquirer_name: String,
    pub inquirer_role: String,
    pub inquirer_pid_enc: Vec<u8>,
    pub inquirer_pid_hash: Vec<u8>,
    pub child_given_name: Option<String>,
    pub child_birth_date: Option<NaiveDate>,
    pub child_national_id_enc: Option<Vec<u8>>,
    pub child_national_id_hash: Option<Vec<u8>>,
    pub message: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub case_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub erased_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = inquiries)]
pub struct NewInquiryRow<'a> {
    pub id: Uuid,
    pub municipality: &'a str,
    pub service: &'a str,
    pub about: InquiryAbout,
    pub wants: InquiryWants,
    pub inquirer_user_id: &'a str,
    pub inquirer_name: &'a str,
    pub inquirer_role: &'static str,
    pub inquirer_pid_enc: Vec<u8>,
    pub inquirer_pid_hash: Vec<u8>,
    pub child_given_name: Option<&'a str>,
    pub child_birth_date: Option<NaiveDate>,
    pub child_national_id_enc: Option<Vec<u8>>,
    pub child_national_id_hash: Option<Vec<u8>>,
    pub message: &'a str,
    pub contact_phone: Option<&'a str>,
    pub contact_email: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = inquiry_answers)]
pub struct AnswerRow {
    pub id: Uuid,
    pub inquiry_id: Uuid,
    pub at: DateTime<Utc>,
    pub by_name: String,
    pub message: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = inquiry_answers)]
pub struct NewAnswer<'a> {
    pub id: Uuid,
    pub inquiry_id: Uuid,
    pub municipality: &'a str,
    pub by_user_id: &'a str,
    pub by_name: &'a str,
    pub message: &'a str,
}

crate::text_enum! {
    /// What was done to an inquiry, in its access events.
    pub enum InquiryAction {
        Read,
        List,
        Create,
        Answer,
        Close,
        OpenCase,
        /// Its text was erased (data minimisation), by the service itself.
        Erase,
    }
}

#[derive(Insertable)]
#[diesel(table_name = inquiry_access_events)]
struct NewEvent<'a> {
    municipality: &'a str,
    inquiry_id: Uuid,
    actor_user_id: &'a str,
    actor_name: &'a str,
    actor_role: &'static str,
    action: InquiryAction,
    request_id: &'a str,
}

/// Every read of an inquiry, one or each of a list, and every change leaves an access event: one
/// statement for any number.
pub fn record(
    conn: &mut PgConnection,
    caller: &Caller,
    ids: &[Uuid],
    action: InquiryAction,
) -> Result<(), AppError> {
    if ids.is_empty() {
        return Ok(());
    }
    let events: Vec<NewEvent> = ids
        .iter()
        .map(|id| NewEvent {
            municipality: &caller.tenant,
            inquiry_id: *id,
            actor_user_id: &caller.user_id,
            actor_name: &caller.name,
            actor_role: caller.primary_role().into(),
            action,
            request_id: &caller.request_id,
        })
        .collect();
    diesel::insert_into(inquiry_access_events::table)
        .values(&events)
        .execute(conn)?;
    Ok(())
}

pub fn insert(conn: &mut PgConnection, row: &NewInquiryRow) -> Result<InquiryRow, AppError> {
    Ok(diesel::insert_into(inquiries::table)
        .values(row)
        .returning(InquiryRow::as_returning())
        .get_result(conn)?)
}

/// One inquiry of the municipality; locked for the rest of the transaction when the caller will change it.
pub fn find(
    conn: &mut PgConnection,
    municipality: &str,
    id: Uuid,
    lock: bool,
) -> Result<Option<InquiryRow>, AppError> {
    let q = inquiries::table
        .filter(inquiries::municipality.eq(municipality))
        .filter(inquiries::id.eq(id))
        .select(InquiryRow::as_select());
    let row = if lock {
        q.for_update().first(conn).optional()?
    } else {
        q.first(conn).optional()?
    };
    Ok(row)
}

/// A page of the inboxes of `services`, newest first after the cursor (UUIDv7 ids sort by creation).
pub fn inbox(
    conn: &mut PgConnection,
    municipality: &str,
    services: &[String],
    status: Option<InquiryStatus>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<InquiryRow>, AppError> {
    let mut q = inquiries::table
        .filter(inquiries::municipality.eq(municipality))
        .filter(inquiries::service.eq_any(services))
        .order(inquiries::id.desc())
        .limit(limit)
        .select(InquiryRow::as_select())
        .into_boxed();
    if let Some(status) = status {
        q = q.filter(inquiries::status.eq(status));
    }
    if let Some(after) = after {
        q = q.filter(inquiries::id.lt(after));
    }
    Ok(q.load(conn)?)
}

/// A page of the inquiries sent with this national login, newest first after the cursor.
pub fn mine(
    conn: &mut PgConnection,
    municipality: &str,
    pid_hash: &[u8],
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<InquiryRow>, AppError> {
    let mut q = inquiries::table
        .filter(inquiries::municipality.eq(municipality))
        .filter(inquiries::inquirer_pid_hash.eq(pid_hash))
        .order(inquiries::id.desc())
        .limit(limit)
        .select(InquiryRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(inquiries::id.lt(after));
    }
    Ok(q.load(conn)?)
}

/// Open inquiries of `services` sent before `before`, oldest first: what waits too long.
pub fn waiting(
    conn: &mut PgConnection,
    municipality: &str,
    services: &[String],
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<InquiryRow>, AppError> {
    Ok(inquiries::table
        .filter(inquiries::municipality.eq(municipality))
        .filter(inquiries::service.eq_any(services))
        .filter(inquiries::status.eq(InquiryStatus::Open))
        .filter(inquiries::created_at.lt(before))
        .order(inquiries::id.asc())
        .limit(limit)
        .select(InquiryRow::as_select())
        .load(conn)?)
}

/// The answers of these inquiries, oldest first, in one query.
pub fn answers_for(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<AnswerRow>>, AppError> {
    let mut out: HashMap<Uuid, Vec<AnswerRow>> = HashMap::new();
    for a in inquiry_answers::table
        .filter(inquiry_answers::inquiry_id.eq_any(ids))
        .order(inquiry_answers::id.asc())
        .select(AnswerRow::as_select())
        .load(conn)?
    {
        out.entry(a.inquiry_id).or_default().push(a);
    }
    Ok(out)
}

pub fn add_answer(conn: &mut PgConnection, answer: &NewAnswer) -> Result<(), AppError> {
    diesel::insert_into(inquiry_answers::table)
        .values(answer)
        .execute(conn)?;
    Ok(())
}

/// Moves a locked inquiry to `status` (with the case opened from it, or the time it closed).
pub fn set_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: InquiryStatus,
    case_id: Option<Uuid>,
) -> Result<InquiryRow, AppError> {
    let closed_at = (status == InquiryStatus::Closed).then(Utc::now);
    Ok(diesel::update(inquiries::table.find(id))
        .set((
            inquiries::status.eq(status),
            inquiries::case_id.eq(case_id),
            inquiries::closed_at.eq(closed_at),
            inquiries::version.eq(inquiries::version + 1),
        ))
        .returning(InquiryRow::as_returning())
        .get_result(conn)?)
}

/// The API view of rows with their answers (one query for the answers of all of them). `full_ids`: the
/// child's national id in full (one inquiry read) or masked (lists).
pub fn views(
    conn: &mut PgConnection,
    key: &NationalIdKey,
    rows: Vec<InquiryRow>,
    full_ids: bool,
) -> Result<Vec<InquiryView>, AppError> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut answers = answers_for(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let answers = answers.remove(&r.id).unwrap_or_default();
            view(r, answers, key, full_ids)
        })
        .collect())
}

pub fn view_one(
    conn: &mut PgConnection,
    key: &NationalIdKey,
    row: InquiryRow,
) -> Result<InquiryView, AppError> {
    views(conn, key, vec![row], true)?
        .pop()
        .ok_or_else(AppError::internal)
}

fn view(r: InquiryRow, answers: Vec<AnswerRow>, key: &NationalIdKey, full: bool) -> InquiryView {
    let national_id = r
        .child_national_id_enc
        .as_deref()
        .map(|enc| match key.decrypt(enc) {
            Some(id) if full => id.as_str().to_string(),
            Some(id) => id.masked(),
            // Written with another key: say so rather than fail the whole read.
            None => "unreadable".to_string(),
        });
    let child = r.child_given_name.map(|given_name| InquiryChildView {
        given_name,
        birth_date: r.child_birth_date,
        national_id,
    });
    let contact =
        (r.contact_phone.is_some() || r.contact_email.is_some()).then_some(InquiryContact {
            phone: r.contact_phone,
            email: r.contact_email,
        });
    InquiryView {
        id: r.id,
        service: r.service,
        about: r.about,
        child,
        message: r.message,
        contact,
        wants: r.wants,
        status: r.status,
        created_at: r.created_at,
        answers: answers
            .into_iter()
            .map(|a| AnswerView {
                at: a.at,
                by_name: a.by_name,
                message: a.message,
            })
            .collect(),
        case_id: r.case_id,
        closed_at: r.closed_at,
        erased_at: r.erased_at,
    }
}

/// What waits too long, as attention shows it: ids and dates, no text.
pub fn waiting_view(r: &InquiryRow, now: DateTime<Utc>) -> WaitingInquiry {
    WaitingInquiry {
        inquiry_id: r.id,
        service: r.service.clone(),
        about: r.about,
        created_at: r.created_at,
        waiting_days: (now - r.created_at).num_days(),
    }
}

/// The municipality's `inquiry_attention_days`, or its default for a municipality not yet configured.
fn attention_days(conn: &mut PgConnection, municipality: &str) -> Result<i32, AppError> {
    use crate::db::schema::municipalities;
    Ok(municipalities::table
        .find(municipality)
        .select(municipalities::inquiry_attention_days)
        .first(conn)
        .optional()?
        .unwrap_or(DEFAULT_ATTENTION_DAYS))
}

/// The default of `inquiry_attention_days` (as the migration sets it).
pub const DEFAULT_ATTENTION_DAYS: i32 = 5;

/// How many waiting inquiries one attention answer lists at most (the inbox shows the rest).
const MAX_WAITING: i64 = 200;

/// The inquiries of `services` (inboxes the policy let the caller work) that wait too long, the oldest
/// [`MAX_WAITING`]; each shown one leaves an access event. And whether that was all of them.
pub fn waiting_in(
    conn: &mut PgConnection,
    caller: &Caller,
    services: Vec<String>,
) -> Result<(Vec<WaitingInquiry>, bool), AppError> {
    if services.is_empty() {
        return Ok((vec![], true));
    }
    let now = Utc::now();
    let days = attention_days(conn, &caller.tenant)?;
    let cutoff = super::rules::attention_cutoff(now, days);
    let mut rows = waiting(conn, &caller.tenant, &services, cutoff, MAX_WAITING + 1)?;
    let complete = rows.len() as i64 <= MAX_WAITING;
    rows.truncate(MAX_WAITING as usize);
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    record(conn, caller, &ids, InquiryAction::List)?;
    Ok((
        rows.iter().map(|r| waiting_view(r, now)).collect(),
        complete,
    ))
}
