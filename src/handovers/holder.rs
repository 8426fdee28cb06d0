//! Who becomes the holder when the relay passes on: the new holder's participation in their service.
//! The holder periods themselves are written by `store.rs`.

use diesel::PgConnection;
use uuid::Uuid;

use crate::cases::facts::CaseFacts;
use crate::http::error::AppError;
use crate::participants::api::{NewParticipant, NewProfessional, ParticipantKind};

/// The new holder's participation in their service: theirs if they are in the case in that service
/// already, otherwise they join (ending a participation of theirs in another service). Returns it and
/// whether they joined.
pub fn participation_of(
    conn: &mut PgConnection,
    key: &crate::national_id::NationalIdKey,
    facts: &CaseFacts,
    to: &super::api::HandoverTo,
) -> Result<(Uuid, bool), AppError> {
    let current = facts.participants.iter().find(|p| {
        p.active
            && p.kind == ParticipantKind::Professional
            && p.user_id.as_deref() == Some(to.user_id.as_str())
    });
    match current {
        Some(p) if p.service.as_deref() == Some(to.service.as_str()) => Ok((p.id, false)),
        other => {
            if let Some(p) = other {
                // Same person, another service: the old participation ends, a new one begins.
                crate::participants::store::deactivate(conn, &[p.id])?;
            }
            let joined = crate::participants::store::insert(
                conn,
                key,
                facts.case.id,
                &NewParticipant::Professional(NewProfessional {
                    user_id: to.user_id.clone(),
                    name: to.name.clone(),
                    service: to.service.clone(),
                    title: None,
                    external_refs: vec![],
                }),
            )?;
            Ok((joined.id, true))
        }
    }
}
