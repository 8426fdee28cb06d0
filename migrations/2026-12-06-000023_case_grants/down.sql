DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['cases', 'case_participants', 'consents', 'consent_givers', 'consent_services', 'staff_departures']
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_grants_insert', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_grants_delete', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_grants_update', t);
    END LOOP;
END $$;
DROP TRIGGER municipalities_grants_update ON municipalities;
DROP FUNCTION case_grants_after_row();
DROP TABLE case_grants_pending;
DROP FUNCTION case_grants_refresh_pending();
DROP FUNCTION case_grants_later(UUID[]);
DROP FUNCTION case_grants_after_rows();
DROP FUNCTION refresh_case_grants(UUID[]);
DROP FUNCTION age_reached_on(DATE, INTEGER);
DROP TABLE case_grants;
