//! A case as the API shows it to a caller who may read it: national ids in full only for the
//! stafettholder, the step in the guide, the consent summary.

use super::api::{CaseView, ConsentSummary, ExternalRef, HolderView, SubjectView};
use crate::national_id::NationalIdKey;
use crate::policy::CaseAccess;

/// The API view of readable cases: no query of its own (the references came with the access facts).
pub fn views(key: &NationalIdKey, accesses: &[CaseAccess]) -> Vec<CaseView> {
    accesses.iter().map(|a| view_one(key, a)).collect()
}

pub fn view_one(key: &NationalIdKey, access: &CaseAccess) -> CaseView {
    view(access, key, access.facts.external_refs.clone())
}

fn view(a: &CaseAccess, key: &NationalIdKey, external_refs: Vec<ExternalRef>) -> CaseView {
    let c = &a.case;
    let holder = a.holder();
    let national_id = c
        .subject_national_id_enc
        .as_deref()
        .map(|enc| match key.decrypt(enc) {
            Some(id) if a.shows_full_ids() => id.as_str().to_string(),
            Some(id) => id.masked(),
            // Written with another key: say so rather than fail the whole read.
            None => "unreadable".to_string(),
        });
    let (guide_step, next_step) = crate::guide::steps::view(c);
    CaseView {
        id: c.id,
        municipality: c.municipality.clone(),
        subject: SubjectView {
            kind: c.subject_kind,
            given_name: c.subject_given_name.clone(),
            family_name: c.subject_family_name.clone(),
            birth_date: c.subject_birth_date,
            national_id,
        },
        concern: c.concern.clone(),
        status: c.status,
        level: c.level,
        holder: HolderView {
            participant_id: holder.id,
            user_id: holder.user_id.clone().unwrap_or_default(),
            name: holder.name.clone(),
            service: holder.service.clone().unwrap_or_default(),
        },
        consent: ConsentSummary {
            effective: !a.effective.consent_ids.is_empty(),
            services: a.effective.services.iter().cloned().collect(),
            valid_until: a.effective.valid_until,
        },
        opened_in_service: c.opened_in_service.clone(),
        decision_due: c.decision_due,
        opened_at: c.opened_at,
        closed_at: c.closed_at,
        close_reason: c.close_reason,
        close_note: c.close_note.clone(),
        purged_at: c.purged_at,
        archived: c.archived(),
        version: c.version,
        external_refs,
        guide_step,
        next_step,
    }
}
