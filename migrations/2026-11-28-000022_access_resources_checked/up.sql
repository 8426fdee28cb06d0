-- What an access event touched is a closed list (`Resource`), read back as that enum when the family reads
-- the access log: a word the service does not know would fail every page that holds it, so the database
-- refuses it when written. Imports were already held to the service's own words for the action and the
-- basis, and are now for the resource too.
-- NOT VALID: the access log is the largest table (about 100 GB a year at national scale), and checking the
-- rows already there would hold a lock that stops every read of a case meanwhile; the service has only ever
-- written these words. `ALTER TABLE access_events VALIDATE CONSTRAINT access_events_resource_check`
-- checks old rows without stopping anything, at a quiet hour.
ALTER TABLE access_events ADD CONSTRAINT access_events_resource_check
    CHECK (resource IN ('case', 'case.access_log', 'case.consents', 'case.entries', 'case.handovers',
                        'case.level_changes', 'case.measures', 'case.my_data', 'case.participants',
                        'case.steps', 'case.timeline',
                        'case.holder (reason: absence)', 'case.holder (reason: left)',
                        'case.holder (reason: workload)', 'case.holder (reason: other)',
                        'handovers.inbox', 'me.attention', 'service.attention', 'service.cases')) NOT VALID;
