ALTER TABLE notifications DROP CONSTRAINT notifications_event_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_event_check
    CHECK (event IN ('handover.proposed', 'handover.answered', 'signature.awaited', 'evaluation.due',
                     'consent.expiring', 'decision.overdue', 'inquiry.received', 'inquiry.answered',
                     'holder.reassigned')) NOT VALID;
ALTER TABLE access_events DROP CONSTRAINT access_events_resource_check;
ALTER TABLE access_events ADD CONSTRAINT access_events_resource_check
    CHECK (resource IN ('case', 'case.access_log', 'case.consents', 'case.entries', 'case.handovers',
                        'case.level_changes', 'case.measures', 'case.my_data', 'case.participants',
                        'case.steps', 'case.timeline',
                        'case.holder (reason: absence)', 'case.holder (reason: left)',
                        'case.holder (reason: workload)', 'case.holder (reason: other)',
                        'handovers.inbox', 'me.attention', 'service.attention', 'service.cases')) NOT VALID;
ALTER TABLE change_events DROP CONSTRAINT change_events_type_check;
ALTER TABLE change_events ADD CONSTRAINT change_events_type_check
    CHECK (type IN ('case.opened', 'case.updated', 'case.closed', 'case.purged', 'case.imported',
                    'participant.added', 'participant.updated', 'participant.deactivated',
                    'consent.recorded', 'consent.withdrawn', 'consent.signed',
                    'measure.created', 'measure.updated', 'evaluation.added',
                    'level.changed', 'step.moved',
                    'handover.proposed', 'handover.accepted', 'handover.declined', 'handover.cancelled',
                    'holder.reassigned', 'entry.added')) NOT VALID;
DROP FUNCTION calendar_feed_owner(BYTEA);
DROP TABLE calendar_feeds;
DROP TABLE meeting_invitees;
DROP TABLE meetings;
ALTER TABLE measures DROP COLUMN plan_id;
DROP TABLE plan_members;
DROP TABLE plans;
DROP FUNCTION finished_stays_as_it_was();
