//! The timeline's one query: a union over the source tables, read with the access event of the read.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::api::{Keyset, TimelineItem, TimelineRef};
use crate::access_log::store::EventValues;
use crate::http::error::AppError;

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
    UNION ALL SELECT closed_at, 'case.closed', 'Case closed: ' || close_reason, 'case', case_id
           FROM case_closures WHERE case_id = $1
    UNION ALL SELECT reopened_at, 'case.reopened', 'Case reopened at level 0', 'case', case_id
           FROM case_closures WHERE case_id = $1
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
    UNION ALL SELECT created_at, 'plan.created', 'Plan (' || kind || ') started, owned by ' || owner_service, 'plan', id
           FROM plans WHERE case_id = $1
    UNION ALL SELECT activated_at, 'plan.activated', 'Plan (' || kind || ') in force', 'plan', id
           FROM plans WHERE case_id = $1 AND activated_at IS NOT NULL
    UNION ALL SELECT ended_at, 'plan.ended', 'Plan (' || kind || ') ended', 'plan', id
           FROM plans WHERE case_id = $1 AND ended_at IS NOT NULL
    UNION ALL SELECT created_at, 'meeting.planned', 'Meeting (' || kind || ') planned for '
           || to_char(starts_at AT TIME ZONE 'Europe/Oslo', 'YYYY-MM-DD HH24:MI'), 'meeting', id
           FROM meetings WHERE case_id = $1
    UNION ALL SELECT cancelled_at, 'meeting.cancelled', 'Meeting (' || kind || ') cancelled', 'meeting', id
           FROM meetings WHERE case_id = $1 AND cancelled_at IS NOT NULL
) t
WHERE $2::timestamptz IS NULL OR (at, item_type, ref_id) < ($2, $3, $4)
ORDER BY at DESC, item_type DESC, ref_id DESC
LIMIT $5"
    };
}

/// The timeline's union, its keyset condition, order and limit, without the access event: the benchmark
/// builds its minimal SQL of the same job from this, so the two cannot drift apart.
pub const PAGE_SQL: &str = timeline_sql!();

crate::prepared_statement! {
    /// The timeline page and the read's access event, one prepared statement (the 19-branch union is
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

/// One page of the case's timeline after `after`, newest first, and the access event of reading it, in
/// one round trip.
pub fn page(
    conn: &mut PgConnection,
    event: EventValues,
    case_id: Uuid,
    after: Keyset,
    limit: i64,
) -> Result<Vec<TimelineItem>, AppError> {
    let (at, kind, ref_id) = after;
    let rows: Vec<Row> = TimelinePage {
        event,
        case_id,
        at,
        kind,
        ref_id,
        limit,
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
        .collect())
}
