DROP POLICY one_municipality ON consent_services;
CREATE POLICY one_municipality ON consent_services
    USING (EXISTS (SELECT 1 FROM consents k JOIN cases c ON c.id = k.case_id
                   WHERE k.id = consent_services.consent_id
                   AND c.municipality = current_setting('app.municipality', true)))
    WITH CHECK (EXISTS (SELECT 1 FROM consents k JOIN cases c ON c.id = k.case_id
                        WHERE k.id = consent_services.consent_id
                        AND c.municipality = current_setting('app.municipality', true)));
ALTER TABLE consent_services DROP COLUMN municipality;
ALTER TABLE consents DROP CONSTRAINT consents_id_municipality;

DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['case_participants', 'consents', 'consent_givers', 'measures', 'evaluations',
                             'level_changes', 'log_entries', 'handovers', 'holder_periods', 'case_step_moves']
    LOOP
        EXECUTE format('DROP POLICY one_municipality ON %I', t);
        EXECUTE format('CREATE POLICY one_municipality ON %I '
                       'USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = %I.case_id '
                       'AND c.municipality = current_setting(''app.municipality'', true))) '
                       'WITH CHECK (EXISTS (SELECT 1 FROM cases c WHERE c.id = %I.case_id '
                       'AND c.municipality = current_setting(''app.municipality'', true)))', t, t, t);
        EXECUTE format('ALTER TABLE %I DROP COLUMN municipality', t);
    END LOOP;
END $$;
