//! Rule 5: what happens when coverage shrinks (a consent withdrawn, replaced by a narrower one, or expired).
//! All of it in the transaction of the change, or, for expiry, the first time the case is touched after.

use std::collections::BTreeSet;

use diesel::PgConnection;
use uuid::Uuid;

use crate::access_log::store::Resource;
use crate::access_log::store::{self as access_log, Action};
use crate::cases::api::CloseReason;
use crate::cases::facts::CaseFacts;
use crate::changes::api::ChangeType;
use crate::consents::rules as consent_rules;
use crate::consents::store::Consent;
use crate::http::error::AppError;

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
        .filter(|p| p.active && p.kind == crate::participants::api::ParticipantKind::Professional)
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
    let cancelled = crate::handovers::store::cancel_pending(
        conn,
        facts.case.id,
        crate::handovers::store::Receiving::NotIn(&keep),
        "rule 5: the consent no longer covers the receiving service",
    )?;
    if holder_was_covered
        && !facts.effective.covers(&holder_service)
        && facts.case.status == crate::cases::api::CaseStatus::Open
    {
        facts.case = crate::cases::store::close(conn, facts.case.id, reason, None)?;
        changes.push(ChangeType::CaseClosed);
    }
    changes.extend((0..cancelled).map(|_| ChangeType::HandoverCancelled));
    crate::changes::store::emit(conn, &facts.case.municipality, facts.case.id, &changes)
}

/// Rule 5 for expiry, found on the first touch after a consent ran out: professionals of the `lost`
/// services leave, handovers to them are cancelled, and the case closes as "consent expired" when the
/// holder's own service is among them. Professionals of services that are uncovered for another reason (a
/// giver missing today) keep their participation: their access returns when the consent is completed.
/// Returns whether the case closed.
pub fn apply_expiry(
    conn: &mut diesel::PgConnection,
    facts: &mut CaseFacts,
    lost: &BTreeSet<String>,
) -> Result<bool, AppError> {
    let holder_service = facts.holder_service().to_string();
    let leaving: Vec<Uuid> = facts
        .participants
        .iter()
        .filter(|p| p.active && p.kind == crate::participants::api::ParticipantKind::Professional)
        .filter(|p| {
            let service = p.service.as_deref().unwrap_or_default();
            service != holder_service && lost.contains(service)
        })
        .map(|p| p.id)
        .collect();
    let mut changes = Vec::new();
    if !leaving.is_empty() {
        changes.extend(leaving.iter().map(|_| ChangeType::ParticipantDeactivated));
        for row in crate::participants::store::deactivate(conn, &leaving)? {
            if let Some(p) = facts.participants.iter_mut().find(|p| p.id == row.id) {
                *p = row;
            }
        }
    }
    let services: Vec<String> = lost.iter().cloned().collect();
    let cancelled = crate::handovers::store::cancel_pending(
        conn,
        facts.case.id,
        crate::handovers::store::Receiving::In(&services),
        "rule 5: the consent covering the receiving service expired",
    )?;
    let closes =
        lost.contains(&holder_service) && facts.case.status == crate::cases::api::CaseStatus::Open;
    if closes {
        facts.case =
            crate::cases::store::close(conn, facts.case.id, CloseReason::ConsentExpired, None)?;
        changes.push(ChangeType::CaseClosed);
    }
    changes.extend((0..cancelled).map(|_| ChangeType::HandoverCancelled));
    if !changes.is_empty() {
        crate::changes::store::emit(conn, &facts.case.municipality, facts.case.id, &changes)?;
    }
    Ok(closes)
}

/// Rule 5 for expiry applied to freshly loaded facts of an open case.
pub fn settled(conn: &mut PgConnection, mut facts: CaseFacts) -> Result<CaseFacts, AppError> {
    if facts.case.status == crate::cases::api::CaseStatus::Open {
        // A consent that ran out before the case was reopened was settled by the close it caused.
        let consent_facts: Vec<_> = facts
            .consents
            .iter()
            .map(Consent::facts)
            .filter(|c| consent_rules::expiry_still_to_settle(c, facts.case.reopened_on))
            .collect();
        let lost = consent_rules::services_lost_to_expiry(
            &consent_facts,
            &facts.givers,
            &facts.effective,
            facts.today,
        );
        if !lost.is_empty() {
            settle_expiry(conn, &mut facts, &lost)?;
        }
    }
    Ok(facts)
}

/// Rule 5 for expiry, the first time anyone touches the case after a consent ran out. Deactivating or
/// closing locks the case first (as every writer does, so no deadlock) and skips a case a writer holds:
/// access is denied meanwhile all the same, and the next touch settles it. Cancelling handovers to the lost
/// services needs no lock (a conditional update that finds nothing pending the next time).
fn settle_expiry(
    conn: &mut PgConnection,
    facts: &mut CaseFacts,
    lost: &std::collections::BTreeSet<String>,
) -> Result<(), AppError> {
    let holder_service = facts.holder_service().to_string();
    let someone_leaves = lost.contains(&holder_service)
        || facts.participants.iter().any(|p| {
            p.active
                && p.kind == crate::participants::api::ParticipantKind::Professional
                && p.service
                    .as_deref()
                    .is_some_and(|s| s != holder_service && lost.contains(s))
        });
    if someone_leaves {
        match crate::cases::store::lock_open_unless_busy(conn, facts.case.id)? {
            Some(case) => facts.case = case,
            // Closed meanwhile, or a writer holds it (it will see the expiry itself): read what is there.
            None => {
                facts.case = crate::cases::store::find(conn, facts.case.id)?;
                return Ok(());
            }
        }
    }
    if apply_expiry(conn, facts, lost)? {
        access_log::record_system(conn, &facts.case, Action::Close, Resource::Case)?;
    }
    Ok(())
}
