//! A new case as the rows of every table, with ids of this service, made before anything is written: a
//! line whose rows cannot be made is that line's error, and the rows of many lines go to the database
//! together, one multi-row insert per table through each store's own insert function.

use std::collections::HashMap;

use uuid::Uuid;

use super::periods_of;
use crate::access_log::store::PastAccessEvent;
use crate::cases::store::{CaseInsert, ExternalRefRow};
use crate::consents::store::{ConsentGiverRow, ConsentInsert, ConsentServiceRow, Supersession};
use crate::decisions::store::DecisionInsert;
use crate::documents::api::*;
use crate::entries::store::EntryInsert;
use crate::handovers::store::HandoverInsert;
use crate::handovers::store::{HolderPeriod, NewReassignment};
use crate::http::error::AppError;
use crate::level_changes::store::LevelChangeInsert;
use crate::measures::store::{EvaluationInsert, MeasureInsert};
use crate::meetings::store::{InviteeInsert, MeetingInsert};
use crate::national_id::{NationalIdKey, SealedId};
use crate::participants::store::{ParticipantInsert, ParticipantRefInsert};
use crate::plans::store::{MemberInsert, PlanInsert};

/// Rows of one or more new cases, table by table, in document order.
#[derive(Default)]
pub struct Rows<'d> {
    cases: Vec<CaseInsert<'d>>,
    refs: Vec<ExternalRefRow>,
    participants: Vec<ParticipantInsert<'d>>,
    participant_refs: Vec<ParticipantRefInsert<'d>>,
    periods: Vec<HolderPeriod>,
    consents: Vec<ConsentInsert<'d>>,
    givers: Vec<ConsentGiverRow>,
    consent_services: Vec<ConsentServiceRow<'d>>,
    superseded: Vec<Supersession>,
    measures: Vec<MeasureInsert<'d>>,
    evaluations: Vec<EvaluationInsert<'d>>,
    level_changes: Vec<LevelChangeInsert<'d>>,
    handovers: Vec<HandoverInsert<'d>>,
    reassignments: Vec<NewReassignment<'d>>,
    entries: Vec<EntryInsert<'d>>,
    plans: Vec<PlanInsert<'d>>,
    plan_members: Vec<MemberInsert<'d>>,
    meetings: Vec<MeetingInsert<'d>>,
    invitees: Vec<InviteeInsert>,
    decisions: Vec<DecisionInsert<'d>>,
    /// Earlier closings, each with its new id.
    closings: Vec<(Uuid, crate::cases::store::Closure)>,
    /// When each case's current level-0 period began, where the document says (the database's trigger
    /// takes the opening otherwise).
    level0_since: Vec<(Uuid, chrono::DateTime<chrono::Utc>)>,
    history: Vec<PastAccessEvent<'d>>,
}

impl<'d> Rows<'d> {
    /// The new case `doc` describes, in `municipality`: its id and its rows.
    pub fn of(
        doc: &'d CaseDocument,
        municipality: &'d str,
        key: &NationalIdKey,
    ) -> Result<(Uuid, Rows<'d>), AppError> {
        let ids = Ids::of(doc);
        let mut rows = Rows::default();
        rows.add_case(doc, municipality, key, &ids)?;
        rows.add_participants(doc, municipality, key, &ids)?;
        rows.add_consents(doc, &ids);
        rows.add_plans(doc, &ids);
        rows.add_measures(doc, &ids);
        rows.add_history(doc, &ids);
        rows.add_reassignments(doc, municipality, &ids);
        rows.add_log(doc, municipality, &ids);
        rows.add_meetings(doc, &ids);
        Ok((ids.case, rows))
    }

    /// Appends another case's rows, keeping each table in document order.
    pub fn append(&mut self, mut other: Rows<'d>) {
        self.cases.append(&mut other.cases);
        self.refs.append(&mut other.refs);
        self.participants.append(&mut other.participants);
        self.participant_refs.append(&mut other.participant_refs);
        self.periods.append(&mut other.periods);
        self.consents.append(&mut other.consents);
        self.givers.append(&mut other.givers);
        self.consent_services.append(&mut other.consent_services);
        self.superseded.append(&mut other.superseded);
        self.measures.append(&mut other.measures);
        self.evaluations.append(&mut other.evaluations);
        self.level_changes.append(&mut other.level_changes);
        self.handovers.append(&mut other.handovers);
        self.reassignments.append(&mut other.reassignments);
        self.entries.append(&mut other.entries);
        self.plans.append(&mut other.plans);
        self.plan_members.append(&mut other.plan_members);
        self.meetings.append(&mut other.meetings);
        self.invitees.append(&mut other.invitees);
        self.decisions.append(&mut other.decisions);
        self.closings.append(&mut other.closings);
        self.level0_since.append(&mut other.level0_since);
        self.history.append(&mut other.history);
    }

    /// Writes every row, a statement or a few per table whatever the number of cases; a row that refers
    /// to another comes after it (the holder and the consents' successors are checked at commit).
    pub fn insert(&self, conn: &mut diesel::PgConnection) -> Result<(), AppError> {
        crate::cases::store::insert_all(conn, &self.cases)?;
        if let Some(first) = self.cases.first() {
            let placed: Vec<_> = self.cases.iter().map(|c| (c.id, c.level)).collect();
            crate::guide::steps::place_imported(conn, first.municipality, &placed)?;
        }
        crate::cases::store::insert_refs(conn, &self.refs)?;
        crate::cases::store::insert_closures(conn, &self.closings)?;
        crate::participants::store::insert_all(conn, &self.participants)?;
        crate::participants::store::insert_ref_rows(conn, &self.participant_refs)?;
        crate::handovers::store::insert_holder_periods(conn, &self.periods)?;
        crate::consents::store::insert_all(
            conn,
            &self.consents,
            &self.givers,
            &self.consent_services,
        )?;
        crate::consents::store::mark_superseded(conn, &self.superseded)?;
        crate::plans::store::insert_all(conn, &self.plans)?;
        crate::plans::store::insert_members(conn, &self.plan_members)?;
        crate::measures::store::insert_all(conn, &self.measures)?;
        crate::measures::store::insert_evaluations(conn, &self.evaluations)?;
        crate::level_changes::store::insert_all(conn, &self.level_changes)?;
        crate::decisions::store::set_periods(conn, &self.level0_since)?;
        crate::decisions::store::insert_all(conn, &self.decisions)?;
        crate::handovers::store::insert_all(conn, &self.handovers)?;
        crate::handovers::store::insert_reassignments(conn, &self.reassignments)?;
        crate::entries::store::insert_all(conn, &self.entries)?;
        crate::meetings::store::insert_all(conn, &self.meetings)?;
        crate::meetings::store::insert_invitees(conn, &self.invitees)?;
        crate::access_log::store::record_past(conn, &self.history)
    }

    fn add_case(
        &mut self,
        doc: &'d CaseDocument,
        municipality: &'d str,
        key: &NationalIdKey,
        ids: &Ids,
    ) -> Result<(), AppError> {
        let c = &doc.case;
        let (enc, hash) = SealedId::columns(
            key.seal_field("case.subject.national_id", c.subject.national_id.as_deref())?,
        );
        self.cases.push(CaseInsert {
            id: ids.case,
            municipality,
            subject_kind: c.subject.kind,
            subject_given_name: &c.subject.given_name,
            subject_family_name: &c.subject.family_name,
            subject_birth_date: c.subject.birth_date,
            subject_national_id_enc: enc,
            subject_national_id_hash: hash,
            concern: &c.concern,
            status: c.status,
            level: c.level,
            opened_in_service: &c.opened_in_service,
            holder_participant_id: ids.get(&doc.holder),
            decision_due: c.decision_due,
            opened_at: c.opened_at,
            opened_by: &c.opened_by,
            closed_at: c.closed_at,
            close_reason: c.close_reason,
            close_note: c.close_note.as_deref(),
            archived_system: c.archived.as_ref().map(|a| a.system.as_str()),
            archived_reference: c.archived.as_ref().map(|a| a.reference.as_str()),
            archived_on: c.archived.as_ref().map(|a| a.archived_on),
            archived_by: c.archived.as_ref().map(|a| a.archived_by.as_str()),
            reopened_on: c.reopened_on.or_else(|| {
                doc.closings
                    .iter()
                    .map(|k| crate::clock::day_of(k.reopened_at))
                    .max()
            }),
        });
        self.refs
            .extend(c.external_refs.iter().map(|r| ExternalRefRow {
                municipality: municipality.to_string(),
                system: r.system.clone(),
                ref_id: r.id.clone(),
                case_id: ids.case,
            }));
        self.periods
            .extend(periods_of(doc).into_iter().map(|p| HolderPeriod {
                case_id: ids.case,
                participant_id: ids.get(&p.participant_id),
                from: p.from,
                to: p.to,
            }));
        Ok(())
    }

    fn add_participants(
        &mut self,
        doc: &'d CaseDocument,
        municipality: &'d str,
        key: &NationalIdKey,
        ids: &Ids,
    ) -> Result<(), AppError> {
        for (i, p) in doc.participants.iter().enumerate() {
            let (enc, hash) = SealedId::columns(key.seal_field(
                &format!("participants[{i}].national_id"),
                p.national_id.as_deref(),
            )?);
            let id = ids.get(&p.id);
            self.participants.push(ParticipantInsert {
                id,
                case_id: ids.case,
                kind: p.kind,
                name: &p.name,
                user_id: p.user_id.as_deref(),
                service: p.service.as_deref(),
                title: p.title.as_deref(),
                relation: p.relation,
                parental_responsibility: p.parental_responsibility,
                national_id_enc: enc,
                national_id_hash: hash,
                email: p.email.as_deref(),
                phone: p.phone.as_deref(),
                role: p.role.as_deref(),
                active: p.active,
                joined_at: p.joined_at,
                left_at: p.left_at,
            });
            self.participant_refs
                .extend(p.external_refs.iter().map(|r| ParticipantRefInsert {
                    municipality,
                    system: &r.system,
                    ref_id: &r.id,
                    participant_id: id,
                }));
        }
        Ok(())
    }

    fn add_consents(&mut self, doc: &'d CaseDocument, ids: &Ids) {
        for k in &doc.consents {
            let id = ids.get(&k.id);
            self.consents.push(ConsentInsert {
                id,
                case_id: ids.case,
                purpose: &k.purpose,
                valid_from: k.valid_from,
                valid_until: k.valid_until,
                form: k.form,
                document_ref: k.document_ref.as_deref(),
                supersedes: k.supersedes.as_deref().map(|s| ids.get(s)),
                recorded_by_user: &k.recorded_by_user,
                recorded_by_name: &k.recorded_by_name,
                recorded_at: k.recorded_at,
                withdrawn_at: k.withdrawn_at,
                withdrawn_by_participant: k.withdrawn_by.as_deref().map(|w| ids.get(w)),
                withdrawal_reason: k.withdrawal_reason.as_deref(),
            });
            self.givers
                .extend(k.given_by.iter().map(|g| ConsentGiverRow {
                    consent_id: id,
                    participant_id: ids.get(g),
                    case_id: ids.case,
                    signed_at: (!k.missing_signatures.contains(g)).then_some(k.recorded_at),
                }));
            self.consent_services
                .extend(k.services.iter().map(|s| ConsentServiceRow {
                    consent_id: id,
                    service: s,
                }));
        }
        // The replaced consent learns its successor once both exist; without a time of its own, it was
        // replaced when the successor was recorded.
        for k in &doc.consents {
            let successor = doc
                .consents
                .iter()
                .find(|n| n.supersedes.as_ref() == Some(&k.id));
            if let Some(successor) = successor {
                self.superseded.push(Supersession {
                    consent_id: ids.get(&k.id),
                    by: ids.get(&successor.id),
                    at: k.superseded_at.unwrap_or(successor.recorded_at),
                });
            }
        }
    }

    fn add_measures(&mut self, doc: &'d CaseDocument, ids: &Ids) {
        for m in &doc.measures {
            let (kind, service, participant) = match &m.responsible {
                ResponsibleRecord::Service { service } => ("service", Some(service.as_str()), None),
                ResponsibleRecord::Participant { participant_id } => {
                    ("participant", None, Some(ids.get(participant_id)))
                }
                ResponsibleRecord::Subject => ("subject", None, None),
            };
            let id = ids.get(&m.id);
            self.measures.push(MeasureInsert {
                id,
                case_id: ids.case,
                title: &m.title,
                goal: &m.goal,
                description: m.description.as_deref(),
                responsible_kind: kind,
                responsible_service: service,
                responsible_participant_id: participant,
                start_date: m.start_date,
                evaluate_by: m.evaluate_by,
                state: m.state,
                created_by_user: &m.created_by_user,
                created_at: m.created_at,
                plan_id: m.plan.as_deref().map(|p| ids.get(p)),
            });
            let chain: Vec<_> = m
                .evaluations
                .iter()
                .map(|e| (e.evaluated_on, e.recorded_at, e.next_evaluate_by))
                .collect();
            let deadlines = crate::measures::rules::answered_deadlines(m.evaluate_by, &chain);
            self.evaluations
                .extend(
                    m.evaluations
                        .iter()
                        .zip(deadlines)
                        .map(|(e, due_on)| EvaluationInsert {
                            id: ids.get(&e.id),
                            measure_id: id,
                            case_id: ids.case,
                            evaluated_on: e.evaluated_on,
                            evaluated_by_participant: ids.get(&e.evaluated_by),
                            evaluated_by_name: &e.evaluated_by_name,
                            assessment: &e.assessment,
                            child_view: e.child_view.as_deref(),
                            outcome: e.outcome,
                            next_evaluate_by: e.next_evaluate_by,
                            recorded_at: e.recorded_at,
                            due_on,
                        }),
                );
        }
    }

    /// The plans with their groups, as they stand.
    fn add_plans(&mut self, doc: &'d CaseDocument, ids: &Ids) {
        for p in &doc.plans {
            let id = ids.get(&p.id);
            self.plans.push(PlanInsert {
                id,
                case_id: ids.case,
                kind: p.kind,
                owner_service: &p.owner_service,
                coordinator_participant_id: p.coordinator.as_deref().map(|c| ids.get(c)),
                state: p.state,
                starts_on: p.starts_on,
                ends_on: p.ends_on,
                goals: &p.goals,
                end_reason: p.end_reason.as_deref(),
                created_by_user: &p.created_by_user,
                created_at: Some(p.created_at),
                activated_at: p.activated_at,
                ended_at: p.ended_at,
            });
            self.plan_members
                .extend(p.members.iter().map(|m| MemberInsert {
                    plan_id: id,
                    case_id: ids.case,
                    participant_id: ids.get(&m.participant_id),
                    role: m.role.as_deref(),
                    added_at: Some(m.added_at),
                }));
        }
    }

    /// The meetings with their invitations and answers, after the log that holds their minutes.
    fn add_meetings(&mut self, doc: &'d CaseDocument, ids: &Ids) {
        for m in &doc.meetings {
            let id = ids.get(&m.id);
            self.meetings.push(MeetingInsert {
                id,
                case_id: ids.case,
                kind: m.kind,
                starts_at: m.starts_at,
                ends_at: m.ends_at,
                place: m.place.as_deref(),
                agenda: m.agenda.as_deref(),
                state: m.state,
                minutes_entry_id: m.minutes_entry.as_deref().map(|e| ids.get(e)),
                cancel_reason: m.cancel_reason.as_deref(),
                created_by_user: &m.created_by_user,
                created_at: Some(m.created_at),
                cancelled_at: m.cancelled_at,
                sequence: m.sequence,
            });
            self.invitees
                .extend(m.invitees.iter().map(|i| InviteeInsert {
                    meeting_id: id,
                    case_id: ids.case,
                    participant_id: ids.get(&i.participant_id),
                    response: i.response,
                    responded_at: i.responded_at,
                }));
        }
    }

    /// The level history, the earlier closings and the handovers, as they happened.
    fn add_history(&mut self, doc: &'d CaseDocument, ids: &Ids) {
        if let Some(since) = doc.case.level0_since {
            self.level0_since.push((ids.case, since));
        }
        self.decisions
            .extend(doc.decisions.iter().map(|d| DecisionInsert {
                id: ids.get(&d.id),
                case_id: ids.case,
                period_started_at: d.period_started_at,
                outcome: d.outcome,
                decided_on: d.decided_on,
                note: d.note.as_deref(),
                service: &d.service,
                recorded_at: Some(d.recorded_at),
                recorded_by_participant: ids.get(&d.recorded_by),
                recorded_by_name: &d.recorded_by_name,
            }));
        self.closings.extend(doc.closings.iter().map(|c| {
            let closure = crate::cases::store::Closure {
                case_id: ids.case,
                closed_at: c.closed_at,
                close_reason: c.close_reason,
                reopened_at: c.reopened_at,
            };
            (Uuid::now_v7(), closure)
        }));
        self.level_changes
            .extend(doc.level_changes.iter().map(|l| LevelChangeInsert {
                id: ids.get(&l.id),
                case_id: ids.case,
                from_level: l.from_level,
                to_level: l.to_level,
                reason: &l.reason,
                decided_on: l.decided_on,
                recorded_at: Some(l.recorded_at),
                recorded_by_participant: ids.get(&l.recorded_by),
                recorded_by_name: &l.recorded_by_name,
            }));
        self.handovers
            .extend(doc.handovers.iter().map(|h| HandoverInsert {
                id: ids.get(&h.id),
                case_id: ids.case,
                from_participant_id: ids.get(&h.from),
                from_user_id: &h.from_user_id,
                to_user_id: &h.to.user_id,
                to_name: &h.to.name,
                to_service: &h.to.service,
                reason: h.reason,
                note: h.note.as_deref(),
                answer_by: h.answer_by,
                previous_holder_leaves: h.previous_holder_leaves,
                state: h.state,
                proposed_at: h.proposed_at,
                answered_at: h.answered_at,
                answered_by_user: h.answered_by_user.as_deref(),
                answer_reason: h.answer_reason.as_deref(),
            }));
    }

    /// The unit leaders' moves of the relay (their notes stayed where they were written).
    fn add_reassignments(&mut self, doc: &'d CaseDocument, municipality: &'d str, ids: &Ids) {
        self.reassignments
            .extend(doc.reassignments.iter().map(|r| NewReassignment {
                id: Uuid::now_v7(),
                case_id: ids.case,
                municipality,
                from_participant_id: ids.get(&r.from_participant),
                to_participant_id: ids.get(&r.to_participant),
                to_name: &r.to_name,
                to_service: &r.to_service,
                reason: r.reason,
                note: None,
                by_user_id: &r.by_user_id,
                by_name: &r.by_name,
                at: Some(r.at),
            }));
    }

    /// The log, and the family's history of who accessed the case, which moves along with it.
    fn add_log(&mut self, doc: &'d CaseDocument, municipality: &'d str, ids: &Ids) {
        self.entries.extend(doc.entries.iter().map(|e| EntryInsert {
            id: ids.get(&e.id),
            case_id: ids.case,
            kind: e.kind,
            occurred_at: e.occurred_at,
            title: e.title.as_deref(),
            body: &e.body,
            attendees: e.attendees.iter().map(|a| ids.get(a)).collect(),
            decisions: e.decisions.as_deref(),
            next_meeting: e.next_meeting,
            corrects: e.corrects.as_deref().map(|c| ids.get(c)),
            author_participant_id: ids.get(&e.author),
            author_name: &e.author_name,
            recorded_at: Some(e.recorded_at),
        }));
        self.history
            .extend(doc.access_log.iter().map(|a| PastAccessEvent {
                municipality,
                case_id: ids.case,
                actor_user_id: &a.actor_user_id,
                actor_name: &a.actor_name,
                actor_role: &a.actor_role,
                action: &a.action,
                resource: &a.resource,
                request_id: "",
                basis: &a.basis,
                at: a.at,
            }));
    }
}

/// The service's ids for the document's records, given in document order: UUIDv7 keeps that order, so
/// an export lists the records as they came.
struct Ids {
    case: Uuid,
    records: HashMap<String, Uuid>,
}

impl Ids {
    fn of(doc: &CaseDocument) -> Ids {
        let case = Uuid::now_v7();
        let ordered =
            doc.participants
                .iter()
                .map(|p| &p.id)
                .chain(doc.consents.iter().map(|c| &c.id))
                .chain(doc.measures.iter().flat_map(|m| {
                    std::iter::once(&m.id).chain(m.evaluations.iter().map(|e| &e.id))
                }))
                .chain(doc.level_changes.iter().map(|l| &l.id))
                .chain(doc.handovers.iter().map(|h| &h.id))
                .chain(doc.entries.iter().map(|e| &e.id))
                .chain(doc.plans.iter().map(|p| &p.id))
                .chain(doc.meetings.iter().map(|m| &m.id))
                .chain(doc.decisions.iter().map(|d| &d.id));
        let mut records = HashMap::new();
        for id in ordered {
            records.entry(id.clone()).or_insert_with(Uuid::now_v7);
        }
        Ids { case, records }
    }

    /// The id of a record the document names; `check` made sure every name is a record of the document.
    fn get(&self, doc_id: &str) -> Uuid {
        self.records[doc_id]
    }
}
