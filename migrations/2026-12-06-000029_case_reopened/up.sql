-- A case closed because its consent went can be reopened by its last stafettholder (`case.reopened`).
-- `reopened_on` is the day it was last reopened: a consent that ran out before it was settled by the close,
-- and must not close the case again on its next touch (rule 5 settles an expiry once).
ALTER TABLE cases ADD COLUMN reopened_on DATE;
ALTER TABLE change_events DROP CONSTRAINT change_events_type_check;
ALTER TABLE change_events ADD CONSTRAINT change_events_type_check
    CHECK (type IN ('case.opened', 'case.updated', 'case.closed', 'case.purged', 'case.imported',
                    'case.archived', 'case.reopened',
                    'participant.added', 'participant.updated', 'participant.deactivated',
                    'consent.recorded', 'consent.withdrawn', 'consent.signed',
                    'measure.created', 'measure.updated', 'evaluation.added',
                    'level.changed', 'step.moved',
                    'handover.proposed', 'handover.accepted', 'handover.declined', 'handover.cancelled',
                    'holder.reassigned', 'entry.added',
                    'plan.created', 'plan.updated', 'plan.activated', 'plan.ended',
                    'meeting.planned', 'meeting.changed', 'meeting.answered', 'meeting.cancelled',
                    'meeting.held')) NOT VALID;
