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
    /// Who may read the case, as the database keeps it (empty for facts built in memory).
    pub grants: Vec<crate::cases::grants::Grant>,
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
    facts.grants = loaded.grants;
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
        grants: Vec::new(),
    }
}

/// Cases as the rules see them, built in memory, for the rules' unit tests.
#[cfg(test)]
pub mod fixture {
    use chrono::{NaiveDate, Utc};
    use uuid::Uuid;

    use super::{facts_for, CaseFacts};
    use crate::cases::api::{CaseStatus, SubjectKind};
    use crate::cases::store::CaseRow;
    use crate::participants::api::ParticipantKind;
    use crate::participants::store::ParticipantRow;

    pub const TODAY: &str = "2026-06-01";

    pub fn today() -> NaiveDate {
        TODAY.parse().expect("a date")
    }

    pub fn person(kind: ParticipantKind) -> ParticipantRow {
        ParticipantRow {
            id: Uuid::now_v7(),
            case_id: Uuid::nil(),
            kind,
            name: "Testperson".into(),
            user_id: None,
            service: None,
            title: None,
            relation: None,
            parental_responsibility: None,
            national_id_enc: None,
            national_id_hash: None,
            email: None,
            phone: None,
            role: None,
            active: true,
            joined_at: Utc::now(),
            left_at: None,
            version: 1,
            updated_at: Utc::now(),
        }
    }

    pub fn professional(user_id: &str, service: &str) -> ParticipantRow {
        ParticipantRow {
            user_id: Some(user_id.into()),
            service: Some(service.into()),
            ..person(ParticipantKind::Professional)
        }
    }

    pub fn guardian(parental_responsibility: Option<bool>) -> ParticipantRow {
        ParticipantRow {
            parental_responsibility,
            ..person(ParticipantKind::Guardian)
        }
    }

    /// An open case at level 0, held by `holder`, with `others` in it too, and no consents.
    pub fn case(holder: ParticipantRow, others: Vec<ParticipantRow>) -> CaseFacts {
        let row = CaseRow {
            id: Uuid::now_v7(),
            municipality: "3805".into(),
            subject_kind: SubjectKind::Child,
            subject_given_name: "Mina".into(),
            subject_family_name: "Testesen".into(),
            subject_birth_date: NaiveDate::from_ymd_opt(2016, 3, 4),
            subject_national_id_enc: None,
            subject_national_id_hash: None,
            concern: "Bekymring".into(),
            status: CaseStatus::Open,
            level: 0,
            opened_in_service: holder.service.clone().unwrap_or_default(),
            holder_participant_id: holder.id,
            decision_due: None,
            opened_at: Utc::now(),
            opened_by: "test".into(),
            closed_at: None,
            close_reason: None,
            close_note: None,
            version: 1,
            updated_at: Utc::now(),
            guide_version: None,
            guide_step_key: None,
            guide_step_title: None,
            guide_next_key: None,
            guide_next_title: None,
            purged_at: None,
            archived_system: None,
            archived_reference: None,
            archived_on: None,
            archived_by: None,
            reopened_on: None,
        };
        let mut participants = vec![holder];
        participants.extend(others);
        for p in &mut participants {
            p.case_id = row.id;
        }
        facts_for(row, participants, vec![], 15, today())
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
