//! The shape of a case's participants (rules 3 and 4), as plain functions of the case's facts: who may
//! join, and which guardians cannot be removed once consents exist. Who may change participants at all is
//! the stafettholder (`crate::policy::Need::Holder`).

use super::api::{NewParticipant, ParticipantKind};
use super::store::ParticipantRow;
use crate::cases::facts::CaseFacts;
use crate::http::error::AppError;

/// Rule 3 and the shape of a case: a professional of another service needs coverage, a user joins once,
/// the subject youth once.
pub fn check_new(
    facts: &CaseFacts,
    p: &NewParticipant,
    service_is_active: impl FnOnce(&str) -> Result<bool, AppError>,
) -> Result<(), AppError> {
    match p {
        NewParticipant::Professional(p) => {
            if !service_is_active(&p.service)? {
                return Err(AppError::invalid(
                    "service",
                    format!(
                        "`{}` is not an active service of the municipality",
                        p.service
                    ),
                ));
            }
            if !facts.service_in_case(&p.service) {
                return Err(AppError::conflict(format!(
                    "rule 3: no effective consent covers the service `{}`; record the family's consent first",
                    p.service
                )));
            }
            let already = facts.participants.iter().any(|x| {
                x.active
                    && x.kind == ParticipantKind::Professional
                    && x.user_id.as_deref() == Some(p.user_id.as_str())
            });
            if already {
                return Err(AppError::conflict(format!(
                    "`{}` is already an active participant of the case",
                    p.user_id
                )));
            }
        }
        NewParticipant::Youth(_) => {
            if facts
                .participants
                .iter()
                .any(|x| x.active && x.kind == ParticipantKind::Youth)
            {
                return Err(AppError::conflict(
                    "the case already has its subject youth as a participant",
                ));
            }
        }
        NewParticipant::Guardian(_) | NewParticipant::Other(_) => {}
    }
    Ok(())
}

/// Rule 4 cannot be sidestepped: once the case has consents, the stafettholder cannot remove a guardian
/// who must give them, or take parental responsibility away, to make another guardian's consent
/// effective without them. A guardian whose responsibility is not yet confirmed (joined from an inquiry)
/// counts as one who must (`crate::cases::facts::must_give_consent`): removing her would decide that question without
/// anyone deciding it; the holder settles it with `parental_responsibility`. (A registration mistake
/// before any consent can still be corrected.)
pub fn protect_consent_givers(
    facts: &CaseFacts,
    target: &ParticipantRow,
    change: GiverChange,
) -> Result<(), AppError> {
    let guardian = target.kind == ParticipantKind::Guardian;
    let refused = match change {
        GiverChange::Deactivate => {
            target.active && crate::cases::facts::must_give_consent(target.parental_responsibility)
        }
        GiverChange::Patch {
            dropping_responsibility,
        } => dropping_responsibility && target.parental_responsibility == Some(true),
    };
    if guardian && refused && !facts.consents.is_empty() {
        return Err(AppError::conflict(
            "rule 4: a guardian with parental responsibility (or not yet confirmed without it) must give \
             every consent of this case; they cannot be removed, or lose that responsibility, once \
             consents exist",
        ));
    }
    Ok(())
}

/// What the holder does to a participant, as far as rule 4 cares.
pub enum GiverChange {
    Deactivate,
    Patch { dropping_responsibility: bool },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::facts::fixture::{case, guardian, person, professional};
    use crate::http::error::ProblemType;
    use crate::participants::api::{NewProfessional, NewYouth};

    fn joining(user_id: &str, service: &str) -> NewParticipant {
        NewParticipant::Professional(NewProfessional {
            user_id: user_id.into(),
            name: "Testperson".into(),
            service: service.into(),
            title: None,
            external_refs: vec![],
        })
    }

    fn kind(r: Result<(), AppError>) -> Option<ProblemType> {
        r.err().map(|e| e.kind)
    }

    #[test]
    fn rule_3_a_professional_joins_only_from_the_holders_service_or_a_covered_one() {
        let facts = case(professional("ola", "skole"), vec![]);
        let active = |_: &str| Ok(true);
        assert_eq!(
            kind(check_new(&facts, &joining("kari", "skole"), active)),
            None
        );
        assert_eq!(
            kind(check_new(&facts, &joining("kari", "ppt"), active)),
            Some(ProblemType::Conflict)
        );
        assert_eq!(
            kind(check_new(&facts, &joining("kari", "nedlagt"), |_| Ok(
                false
            ))),
            Some(ProblemType::Validation)
        );
    }

    #[test]
    fn a_professional_joins_a_case_once_and_the_subject_youth_once() {
        let facts = case(
            professional("ola", "skole"),
            vec![person(ParticipantKind::Youth)],
        );
        assert_eq!(
            kind(check_new(&facts, &joining("ola", "skole"), |_| Ok(true))),
            Some(ProblemType::Conflict)
        );
        let youth = NewParticipant::Youth(
            serde_json::from_value::<NewYouth>(serde_json::json!({
                "name": "Mina Testesen"
            }))
            .expect("a youth"),
        );
        assert_eq!(
            kind(check_new(&facts, &youth, |_| Ok(true))),
            Some(ProblemType::Conflict)
        );
    }

    #[test]
    fn rule_4_without_consents_a_registration_mistake_can_still_be_corrected() {
        let mother = guardian(Some(true));
        let facts = case(professional("ola", "skole"), vec![mother.clone()]);
        assert_eq!(
            kind(protect_consent_givers(
                &facts,
                &mother,
                GiverChange::Deactivate
            )),
            None
        );
        let patch = GiverChange::Patch {
            dropping_responsibility: true,
        };
        assert_eq!(kind(protect_consent_givers(&facts, &mother, patch)), None);
    }
}
