-- The rows of a case's content carry their case's municipality, so their row-level security policy is a
-- comparison with the transaction's municipality instead of a probe of the owning case per row (and two
-- for a consent's services). Reading a case's facts, an entries page or a timeline touched each case
-- row once per child row; at 50 entries a page that was most of the database's work.
--
-- The column is filled by its default from the transaction's setting (`app.municipality`, which every
-- transaction of the service names), so no insert of the service has to name it, and a foreign key with
-- the case's id makes it equal to the case's municipality, whoever writes (checked as the owner, outside
-- the policies). Existing rows are filled from their case with the tables' own triggers off: they forbid
-- changing append-only rows and would stamp `updated_at`, and this is no change to what the rows say.

DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['case_participants', 'consents', 'consent_givers', 'measures', 'evaluations',
                             'level_changes', 'log_entries', 'handovers', 'holder_periods', 'case_step_moves']
    LOOP
        EXECUTE format('ALTER TABLE %I ADD COLUMN municipality TEXT', t);
        EXECUTE format('ALTER TABLE %I DISABLE TRIGGER USER', t);
        EXECUTE format('UPDATE %I x SET municipality = c.municipality FROM cases c WHERE c.id = x.case_id', t);
        EXECUTE format('ALTER TABLE %I ENABLE TRIGGER USER', t);
        EXECUTE format('ALTER TABLE %I ALTER COLUMN municipality SET DEFAULT current_setting(''app.municipality'', true), '
                       'ALTER COLUMN municipality SET NOT NULL, '
                       'ADD CONSTRAINT %I FOREIGN KEY (case_id, municipality) REFERENCES cases (id, municipality)',
                       t, t || '_case_municipality');
        EXECUTE format('DROP POLICY one_municipality ON %I', t);
        EXECUTE format('CREATE POLICY one_municipality ON %I '
                       'USING (municipality = current_setting(''app.municipality'', true)) '
                       'WITH CHECK (municipality = current_setting(''app.municipality'', true))', t);
    END LOOP;
END $$;

-- A consent's services reach their case through the consent.
ALTER TABLE consents ADD CONSTRAINT consents_id_municipality UNIQUE (id, municipality);
ALTER TABLE consent_services ADD COLUMN municipality TEXT;
UPDATE consent_services s SET municipality = k.municipality FROM consents k WHERE k.id = s.consent_id;
ALTER TABLE consent_services
    ALTER COLUMN municipality SET DEFAULT current_setting('app.municipality', true),
    ALTER COLUMN municipality SET NOT NULL,
    ADD CONSTRAINT consent_services_consent_municipality
        FOREIGN KEY (consent_id, municipality) REFERENCES consents (id, municipality);
DROP POLICY one_municipality ON consent_services;
CREATE POLICY one_municipality ON consent_services
    USING (municipality = current_setting('app.municipality', true))
    WITH CHECK (municipality = current_setting('app.municipality', true));
