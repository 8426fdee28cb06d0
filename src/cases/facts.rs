//! The case as the rules see it: the case row with its participants, consents, who must give consent and
//! what the consents cover today. `load` reads it in one statement; the policy decides on it.

use chrono::NaiveDate;
use uuid::Uuid;

use super::load;
use super::store::CaseRow;
use crate::consents::rules::{self as consent_rules, Effective, GiverContext};
use crate::consents::store::Consent;
use crate::participants::store::ParticipantRow;

/// Everything the rules need to know about one case, loaded in a few batched queries.
#[derive(Debug, Clone)]
pub struct CaseFacts {
    pub case: CaseRow,
    pub participants: Vec<ParticipantRow>,
    pub consents: Vec<Consent>,
    pub givers: GiverContext,
    pub effective: Effective,
    pub today: NaiveDate,
    /// The case's references in other systems (loaded with the facts, as the case view shows them).
    pub external_refs: Vec<crate::cases::api::ExternalRef>,
}

impl CaseFacts {
    pub fn holder(&self) -> &ParticipantRow {
        self.participants
            .iter()
            .find(|p| p.id == self.case.holder_participant_id)
            .expect("the holder is a participant of the case (foreign key)")
    }

    pub fn holder_service(&self) -> &str {
        self.holder().service.as_deref().unwrap_or_default()
    }

    /// A service is "in the case" when it is the holder's or the effective consent covers it (rule 3).
    pub fn service_in_case(&self, service: &str) -> bool {
        self.holder_service() == service || self.effective.covers(service)
    }

    pub fn participant(&self, id: Uuid) -> Option<&ParticipantRow> {
        self.participants.iter().find(|p| p.id == id)
    }
}

/// The facts of loaded rows, with the self-consent age their municipality has.
pub fn facts_of(loaded: load::Loaded, today: NaiveDate) -> CaseFacts {
    let mut facts = facts_for(
        loaded.case,
        loaded.participants,
        loaded.consents,
        loaded.self_consent_age,
        today,
    );
    facts.external_refs = loaded.external_refs;
    facts
}

/// Rule 4 for a guardian whose parental responsibility is not confirmed yet (`None`: one who joined from
/// their own inquiry): they count as a required giver until the stafettholder confirms it either way, and
/// since only a confirmed guardian may give consent, no consent is effective meanwhile. Counting them out
/// instead would let the other parent's consent alone share the child's case before anyone checked.
pub fn must_give_consent(parental_responsibility: Option<bool>) -> bool {
    parental_responsibility != Some(false)
}

pub fn facts_for(
    case: CaseRow,
    participants: Vec<ParticipantRow>,
    consents: Vec<Consent>,
    self_consent_age: u32,
    today: NaiveDate,
) -> CaseFacts {
    let givers = GiverContext {
        responsible_guardians: participants
            .iter()
            .filter(|p| {
                p.active
                    && p.kind == crate::participants::api::ParticipantKind::Guardian
                    && must_give_consent(p.parental_responsibility)
            })
            .map(|p| p.id)
            .collect(),
        subject_youth: participants
            .iter()
            .find(|p| p.active && p.kind == crate::participants::api::ParticipantKind::Youth)
            .map(|p| p.id),
        subject_age: case
            .subject_birth_date
            .map(|b| consent_rules::age_on(b, today)),
        self_consent_age,
    };
    let consent_facts: Vec<_> = consents.iter().map(Consent::facts).collect();
    let effective = consent_rules::effective(&consent_facts, &givers, today);
    CaseFacts {
        case,
        participants,
        consents,
        givers,
        effective,
        today,
        external_refs: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::must_give_consent;

    #[test]
    fn rule_4_a_guardian_whose_parental_responsibility_is_unconfirmed_must_still_give_consent() {
        assert!(must_give_consent(None));
        assert!(must_give_consent(Some(true)));
        assert!(!must_give_consent(Some(false)));
    }
}
