//! The queries of the attention lists: a professional's open cases and their overdue evaluations, and
//! everything of a service's attention in one statement.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Date, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::api::{
    LeaderConsentExpiring, LeaderDecisionDue, LeaderDepartedHolder, LeaderEvaluationDue,
    LeaderHandoverWaiting, ServiceAttention,
};
use super::rules::{EXPIRY_HORIZON_DAYS, HANDOVER_WAIT_DAYS};
use crate::cases::api::CaseStatus;
use crate::cases::store::CaseFilter;
use crate::cases::store::CaseRow;
use crate::db::schema::{cases, measures};
use crate::http::error::AppError;
use crate::measures::api::MeasureState;
use crate::measures::store::MeasureRow;

/// The open cases among `candidates`, newest first, at most `limit`.
pub fn open_cases(
    conn: &mut PgConnection,
    candidates: CaseFilter,
    limit: i64,
) -> Result<Vec<CaseRow>, AppError> {
    Ok(cases::table
        .filter(candidates)
        .filter(cases::status.eq(CaseStatus::Open))
        .select(CaseRow::as_select())
        .order(cases::id.desc())
        .limit(limit)
        .load(conn)?)
}

/// The planned and active measures of these cases whose evaluation was due before `today`, the most
/// overdue first.
pub fn overdue_measures(
    conn: &mut PgConnection,
    case_ids: &[Uuid],
    today: NaiveDate,
) -> Result<Vec<MeasureRow>, AppError> {
    Ok(measures::table
        .filter(measures::case_id.eq_any(case_ids))
        .filter(measures::state.eq_any([MeasureState::Planned, MeasureState::Active]))
        .filter(measures::evaluate_by.lt(today))
        .order(measures::evaluate_by.asc())
        .select(MeasureRow::as_select())
        .load(conn)?)
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
         SELECT c.id, c.level, c.decision_due, c.level0_since, h.user_id, h.name \
           FROM cases c JOIN case_participants h ON h.id = c.holder_participant_id \
          WHERE c.municipality = $1 AND c.status = 'open' AND h.service = $2 AND h.kind = 'professional') \
       SELECT 'decision' AS kind, id AS case_id, NULL::uuid AS item_id, decision_due AS day, \
              NULL::text AS name, NULL::text AS service, NULL::timestamptz AS at, NULL::date AS day2 \
         FROM svc WHERE level = 0 AND decision_due < $3 \
          AND NOT EXISTS (SELECT FROM level0_decisions d \
                           WHERE d.case_id = svc.id AND d.period_started_at = svc.level0_since) \
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
pub struct ItemRow {
    #[diesel(sql_type = Text)]
    pub kind: ItemKind,
    #[diesel(sql_type = SqlUuid)]
    pub case_id: Uuid,
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

impl ItemRow {
    /// Puts the row into the list of the answer its kind names. A row missing what its kind needs is a
    /// broken statement, not a client's mistake: 500.
    pub fn add_to(self, out: &mut ServiceAttention, today: NaiveDate) -> Result<(), AppError> {
        let missing = AppError::internal;
        match self.kind {
            ItemKind::Decision => out.overdue_level0_decisions.push(LeaderDecisionDue {
                case_id: self.case_id,
                decision_due: self.day.ok_or_else(missing)?,
            }),
            ItemKind::Evaluation => out.overdue_evaluations.push(LeaderEvaluationDue {
                case_id: self.case_id,
                measure_id: self.item_id.ok_or_else(missing)?,
                evaluate_by: self.day.ok_or_else(missing)?,
            }),
            ItemKind::Handover => out.handovers_waiting.push(LeaderHandoverWaiting {
                case_id: self.case_id,
                handover_id: self.item_id.ok_or_else(missing)?,
                to_name: self.name.ok_or_else(missing)?,
                to_service: self.service.ok_or_else(missing)?,
                proposed_at: self.at.ok_or_else(missing)?,
                answer_by: self.day,
                expired: crate::handovers::api::expired(self.day, today),
            }),
            ItemKind::Consent => out.consents_expiring.push(LeaderConsentExpiring {
                case_id: self.case_id,
                consent_id: self.item_id.ok_or_else(missing)?,
                valid_until: self.day.ok_or_else(missing)?,
            }),
            ItemKind::Departed => out.departed_holders.push(LeaderDepartedHolder {
                case_id: self.case_id,
                holder_user_id: self.service.ok_or_else(missing)?,
                holder_name: self.name.ok_or_else(missing)?,
                departed_on: self.day.ok_or_else(missing)?,
            }),
        }
        Ok(())
    }
}

/// Every item of the service's attention on `today`.
pub fn service_items(
    conn: &mut PgConnection,
    municipality: &str,
    service: &str,
    today: NaiveDate,
) -> Result<Vec<ItemRow>, AppError> {
    Ok(AttentionItems {
        municipality,
        service,
        today,
        wait_days: HANDOVER_WAIT_DAYS,
        horizon_days: EXPIRY_HORIZON_DAYS as i32,
    }
    .load(conn)?)
}
