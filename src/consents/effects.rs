//! Rule 5: what happens when coverage shrinks (a consent withdrawn, replaced by a narrower one, or expired).
//! All of it in the transaction of the change, or, for expiry, the first time the case is touched after.

use uuid::Uuid;

use crate::access::CaseFacts;
use crate::cases::api::CloseReason;
use crate::changes::ChangeType;
use crate::error::AppError;

/// Professionals of services no longer covered lose access at once and stay listed as inactive
/// participants; pending handovers to such services are cancelled; and when the holder's own service was
/// covered and no longer is, the case closes with `reason`.
pub fn apply_coverage_change(
    conn: &mut diesel::PgConnection,
    facts: &mut CaseFacts,
    holder_was_covered: bool,
    reason: CloseReason,
) -> Result<(), AppError> {
    let holder_service = facts.holder_service().to_string();
    let lost: Vec<Uuid> = facts
        .participants
        .iter()
        .filter(|p| p.active && p.kind == "professional")
        .filter(|p| {
            let service = p.service.as_deref().unwrap_or_default();
            service != holder_service && !facts.effective.covers(service)
        })
        .map(|p| p.id)
        .collect();
    let mut changes = Vec::new();
    if !lost.is_empty() {
        changes.extend(lost.iter().map(|_| ChangeType::ParticipantDeactivated));
        for row in crate::participants::store::deactivate(conn, &lost)? {
            if let Some(p) = facts.participants.iter_mut().find(|p| p.id == row.id) {
                *p = row;
            }
        }
    }
    let mut keep: Vec<String> = facts.effective.services.iter().cloned().collect();
    keep.push(holder_service.clone());
    let cancelled = crate::handovers::store::cancel_pending_except(
        conn,
        facts.case.id,
        &keep,
        "rule 5: the consent no longer covers the receiving service",
    )?;
    if holder_was_covered && !facts.effective.covers(&holder_service) && facts.case.status == "open"
    {
        facts.case = crate::cases::store::close(conn, facts.case.id, reason, None)?;
        changes.push(ChangeType::CaseClosed);
    }
    changes.extend((0..cancelled).map(|_| ChangeType::HandoverCancelled));
    crate::changes::emit(conn, &facts.case.municipality, facts.case.id, &changes)
}

/// Expiry found on read: the holder's service was covered by a consent that ran out.
pub fn close_for_lost_coverage(
    conn: &mut diesel::PgConnection,
    facts: &mut CaseFacts,
    reason: CloseReason,
) -> Result<(), AppError> {
    apply_coverage_change(conn, facts, true, reason)
}
