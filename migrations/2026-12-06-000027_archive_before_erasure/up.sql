-- Archive before erasure. The archive law wants a closed case's record in the municipality's archive
-- before its personal data is erased, so the purge erases only cases an archive system has reported as
-- taken in (`POST /cases/{id}/archived`), unless the municipality says unarchived cases may go too
-- (`purge_unarchived`, for a municipality that archives some other way).
ALTER TABLE municipalities ADD COLUMN purge_unarchived BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE cases
    ADD COLUMN archived_system    TEXT CHECK (length(archived_system) BETWEEN 1 AND 100),
    ADD COLUMN archived_reference TEXT CHECK (length(archived_reference) BETWEEN 1 AND 200),
    ADD COLUMN archived_on        DATE,
    ADD COLUMN archived_by        TEXT CHECK (length(archived_by) BETWEEN 1 AND 200);
-- NOT VALID: the columns are new and empty, and checking the whole table would hold a lock that stops
-- every write meanwhile; new and changed rows are checked.
ALTER TABLE cases ADD CONSTRAINT cases_archived_whole
    CHECK ((archived_system IS NULL) = (archived_reference IS NULL)
       AND (archived_system IS NULL) = (archived_on IS NULL)
       AND (archived_system IS NULL) = (archived_by IS NULL)) NOT VALID;
ALTER TABLE cases ADD CONSTRAINT cases_archived_only_when_closed
    CHECK (archived_system IS NULL OR status = 'closed') NOT VALID;

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
