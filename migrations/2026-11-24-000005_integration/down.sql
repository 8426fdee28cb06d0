ALTER TABLE access_events DROP CONSTRAINT access_events_basis_check;
ALTER TABLE access_events ADD CONSTRAINT access_events_basis_check
    CHECK (basis IN ('participant', 'holder_service', 'consent', 'guardian', 'subject_youth'));
ALTER TABLE access_events DROP CONSTRAINT access_events_action_check;
ALTER TABLE access_events ADD CONSTRAINT access_events_action_check
    CHECK (action IN ('read', 'list', 'create', 'update', 'close', 'export', 'withdraw', 'deactivate',
                      'propose', 'accept', 'decline', 'cancel'));
DROP TABLE change_events;
DROP TABLE change_counter;
DROP TABLE participant_external_refs;
