-- The role stays: it belongs to the cluster, and other databases of it (test clones) may still use it.
DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['municipalities', 'services', 'level_definitions', 'cases', 'case_external_refs',
        'participant_external_refs', 'access_events', 'change_events', 'case_participants', 'consents',
        'consent_givers', 'consent_services', 'measures', 'evaluations', 'level_changes', 'log_entries',
        'handovers', 'holder_periods']
    LOOP
        EXECUTE format('DROP POLICY one_municipality ON %I', t);
        EXECUTE format('ALTER TABLE %I DISABLE ROW LEVEL SECURITY', t);
        EXECUTE format('REVOKE ALL ON %I FROM stafettlogg_app', t);
    END LOOP;
END $$;
REVOKE ALL ON change_counter, idempotency_keys FROM stafettlogg_app;
REVOKE ALL ON SEQUENCE access_events_id_seq FROM stafettlogg_app;
