ALTER TABLE change_events DROP CONSTRAINT change_events_type_check;
ALTER TABLE change_events ADD CONSTRAINT change_events_type_check
    CHECK (type IN ('case.opened', 'case.updated', 'case.closed', 'case.purged', 'case.imported',
                    'case.archived',
                    'participant.added', 'participant.updated', 'participant.deactivated',
                    'consent.recorded', 'consent.withdrawn', 'consent.signed',
                    'measure.created', 'measure.updated', 'evaluation.added',
                    'level.changed', 'step.moved',
                    'handover.proposed', 'handover.accepted', 'handover.declined', 'handover.cancelled',
                    'holder.reassigned', 'entry.added',
                    'plan.created', 'plan.updated', 'plan.activated', 'plan.ended',
                    'meeting.planned', 'meeting.changed', 'meeting.answered', 'meeting.cancelled',
                    'meeting.held')) NOT VALID;
ALTER TABLE cases DROP COLUMN reopened_on;
