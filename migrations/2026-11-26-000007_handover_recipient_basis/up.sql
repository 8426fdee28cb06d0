-- A professional shown a handover proposed to them (the inbox, "what needs me") reads part of a case they
-- are not yet in: the access log records it on this basis.
ALTER TABLE access_events DROP CONSTRAINT access_events_basis_check;
ALTER TABLE access_events ADD CONSTRAINT access_events_basis_check
    CHECK (basis IN ('participant', 'holder_service', 'consent', 'guardian', 'subject_youth', 'integration',
                     'handover_recipient'));
