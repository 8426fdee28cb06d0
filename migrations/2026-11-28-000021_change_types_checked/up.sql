-- The change feed's types are a closed list (`ChangeType`), read back as that enum: a type the service
-- does not know would fail every page of the feed that holds it, so the database refuses it when written.
-- NOT VALID: the rows already there are not scanned under a lock that would stop every write meanwhile
-- (the service has only ever written these types); `ALTER TABLE change_events VALIDATE CONSTRAINT
-- change_events_type_check` checks them without stopping writes, at a quiet hour.
ALTER TABLE change_events ADD CONSTRAINT change_events_type_check
    CHECK (type IN ('case.opened', 'case.updated', 'case.closed', 'case.purged', 'case.imported',
                    'participant.added', 'participant.updated', 'participant.deactivated',
                    'consent.recorded', 'consent.withdrawn', 'consent.signed',
                    'measure.created', 'measure.updated', 'evaluation.added',
                    'level.changed', 'step.moved',
                    'handover.proposed', 'handover.accepted', 'handover.declined', 'handover.cancelled',
                    'holder.reassigned', 'entry.added')) NOT VALID;
