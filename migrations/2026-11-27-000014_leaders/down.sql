DROP INDEX access_events_actor;
DROP INDEX cases_open_holder;
DROP INDEX case_participants_service_professional;
ALTER TABLE access_events DROP CONSTRAINT access_events_action_check;
ALTER TABLE access_events ADD CONSTRAINT access_events_action_check
    CHECK (action IN ('read', 'list', 'create', 'update', 'close', 'export', 'withdraw', 'deactivate',
                      'propose', 'accept', 'decline', 'cancel', 'import'));
ALTER TABLE access_events DROP CONSTRAINT access_events_basis_check;
ALTER TABLE access_events ADD CONSTRAINT access_events_basis_check
    CHECK (basis IN ('participant', 'holder_service', 'consent', 'guardian', 'subject_youth', 'integration',
                     'handover_recipient'));
DROP TABLE holder_reassignments;
DROP FUNCTION stafettlogg_staff_present(TEXT);
DROP TABLE staff_departures;
UPDATE handovers SET state = 'cancelled' WHERE state = 'expired';
ALTER TABLE handovers DROP CONSTRAINT handovers_state_check;
ALTER TABLE handovers ADD CONSTRAINT handovers_state_check
    CHECK (state IN ('pending', 'accepted', 'declined', 'cancelled'));
