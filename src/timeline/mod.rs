//! Everything that happened in a case, newest first, as one keyset-paginated list: the case opening and
//! closing, participants joining and leaving, consents recorded, withdrawn and replaced, level changes,
//! measures and evaluations, and log entries. One SQL query over the source tables, so nothing is copied.

use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::access_log::store::Resource;
use crate::access_log::store::{Action, EventValues};
use crate::auth::Caller;
use crate::db::{self, Pool};
use crate::http::error::AppError;
use crate::http::extract::ValidQuery;
use crate::http::pagination::{self, Page};
use crate::policy;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(timeline);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineRef {
    /// case, participant, consent, level_change, step_move, measure, evaluation, entry, handover,
    /// reassignment
    pub kind: String,
    pub id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineItem {
    pub at: DateTime<Utc>,
    /// e.g. case.opened, participant.added, consent.withdrawn, level.changed, entry.added
    #[serde(rename = "type")]
    pub item_type: String,
    pub summary: String,
    #[serde(rename = "ref")]
    pub reference: TimelineRef,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// From `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Timestamptz)]
    at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    item_type: String,
    #[diesel(sql_type = Text)]
    summary: String,
    #[diesel(sql_type = Text)]
    ref_kind: String,
    #[diesel(sql_type = SqlUuid)]
    ref_id: Uuid,
}

/// Each source contributes `(at, item_type, summary, ref_kind, ref_id)`.
macro_rules! timeline_sql {
    () => {
"
SELECT at, item_type, summary, ref_kind, ref_id FROM (
    SELECT opened_at AS at, 'case.opened' AS item_type, 'Case opened at level 0 in ' || opened_in_service AS summary,
           'case' AS ref_kind, id AS ref_id FROM cases WHERE id = $1
    UNION ALL SELECT closed_at, 'case.closed', 'Case closed: ' || close_reason, 'case', id
           FROM cases WHERE id = $1 AND closed_at IS NOT NULL
    UNION ALL SELECT joined_at, 'participant.added', 'Participant added: ' || name || ' (' || kind || ')', 'participant', id
           FROM case_participants WHERE case_id = $1
    UNION ALL SELECT left_at, 'participant.deactivated', 'Participant left: ' || name || ' (' || kind || ')', 'participant', id
           FROM case_participants WHERE case_id = $1 AND left_at IS NOT NULL
    UNION ALL SELECT recorded_at, 'consent.recorded', 'Consent recorded for ' ||
           (SELECT string_agg(service, ', ' ORDER BY service) FROM consent_services s WHERE s.consent_id = c.id), 'consent', id
           FROM consents c WHERE case_id = $1
    UNION ALL SELECT g.signed_at, 'consent.signed', 'Consent signed by ' || p.name, 'consent', k.id
           FROM consents k JOIN consent_givers g ON g.consent_id = k.id
           JOIN case_participants p ON p.id = g.participant_id
           WHERE k.case_id = $1 AND g.signed_at > k.recorded_at
    UNION ALL SELECT withdrawn_at, 'consent.withdrawn', 'Consent withdrawn', 'consent', id
           FROM consents WHERE case_id = $1 AND withdrawn_at IS NOT NULL
    UNION ALL SELECT superseded_at, 'consent.superseded', 'Consent replaced by a new one', 'consent', id
           FROM consents WHERE case_id = $1 AND superseded_at IS NOT NULL
    UNION ALL SELECT recorded_at, 'level.changed', 'Level ' || from_level || ' -> ' || to_level, 'level_change', id
           FROM level_changes WHERE case_id = $1
    UNION ALL SELECT recorded_at, 'step.moved', 'Step ' || step_key || ': ' || step_title, 'step_move', id
           FROM case_step_moves WHERE case_id = $1
    UNION ALL SELECT created_at, 'measure.created', 'Measure: ' || title, 'measure', id
           FROM measures WHERE case_id = $1
    UNION ALL SELECT recorded_at, 'evaluation.added', 'Evaluation: ' || outcome, 'evaluation', id
           FROM evaluations WHERE case_id = $1
    UNION ALL SELECT proposed_at, 'handover.proposed', 'Handover proposed to ' || to_name || ' (' || to_service || ')',
           'handover', id FROM handovers WHERE case_id = $1
    UNION ALL SELECT answered_at, 'handover.' || state, 'Handover to ' || to_name || ' ' || state, 'handover', id
           FROM handovers WHERE case_id = $1 AND answered_at IS NOT NULL
    UNION ALL SELECT at, 'holder.reassigned', 'Stafettholder role reassigned by ' || by_name || ' to ' || to_name
           || ' (' || to_service || '), reason: ' || reason, 'reassignment', id
           FROM holder_reassignments WHERE case_id = $1
    UNION ALL SELECT recorded_at, 'entry.added', 'Log entry (' || kind || ')' || coalesce(': ' || title, ''), 'entry', id
           FROM log_entries WHERE case_id = $1
) t
WHERE $2::timestamptz IS NULL OR (at, item_type, ref_id) < ($2, $3, $4)
ORDER BY at DESC, item_type DESC, ref_id DESC
LIMIT $5"
    };
}

crate::prepared_statement! {
    /// The timeline page and the read's access event, one prepared statement (the 14-branch union is
    /// parsed and planned once per connection).
    struct TimelinePage<'a> {
        event: EventValues<'a>,
        case_id: Uuid,
        at: Option<DateTime<Utc>>,
        kind: Option<String>,
        ref_id: Option<Uuid>,
        limit: i64,
    }
    binds {
        1 => case_id as SqlUuid,
        2 => at as Nullable<Timestamptz>,
        3 => kind as Nullable<Text>,
        4 => ref_id as Nullable<SqlUuid>,
        5 => limit as BigInt,
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
    = concat!("WITH ", crate::access_event_cte!(), timeline_sql!());
}

fn cursor_of(item: &TimelineItem) -> String {
    format!(
        "{}|{}|{}",
        item.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        item.item_type,
        item.reference.id
    )
}

type Keyset = (Option<DateTime<Utc>>, Option<String>, Option<Uuid>);

fn parse_cursor(cursor: Option<&str>) -> Result<Keyset, AppError> {
    let Some(c) = cursor else {
        return Ok((None, None, None));
    };
    let raw = pagination::decode_cursor(c)?;
    let mut parts = raw.splitn(3, '|');
    let bad = pagination::not_issued;
    let at = parts
        .next()
        .and_then(|p| DateTime::parse_from_rfc3339(p).ok())
        .ok_or_else(bad)?;
    let kind = parts.next().ok_or_else(bad)?.to_string();
    let id = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    Ok((Some(at.with_timezone(&Utc)), Some(kind), Some(id)))
}

/// One newest-first list of everything that happened in the case.
#[utoipa::path(
    tag = "timeline",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The case id"), TimelineQuery),
    responses((status = 200, description = "A page of the timeline", body = Page<TimelineItem>))
)]
#[get("/cases/{id}/timeline")]
pub async fn timeline(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
    query: ValidQuery<TimelineQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let limit = pagination::effective_limit(query.0.limit);
    let (at, kind, ref_id) = parse_cursor(query.0.cursor.as_deref())?;
    let items = db::transaction(&pool, caller.session(), move |conn| {
        let access = policy::case_for_read(conn, &caller, id)?;
        let rows: Vec<Row> = TimelinePage {
            event: EventValues::new(
                &caller,
                (id, access.basis),
                Action::Read,
                Resource::CaseTimeline,
            ),
            case_id: id,
            at,
            kind,
            ref_id,
            limit: limit + 1,
        }
        .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|r| TimelineItem {
                at: r.at,
                item_type: r.item_type,
                summary: r.summary,
                reference: TimelineRef {
                    kind: r.ref_kind,
                    id: r.ref_id,
                },
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(pagination::respond(
        &req,
        pagination::page(items, limit, cursor_of),
    ))
}
