-- Row-level security per municipality: the second wall between municipalities, behind the access checks
-- in the code. The service acts as `stafettlogg_app` (never the owner of these tables, never a superuser,
-- never BYPASSRLS: the server refuses to start otherwise) and names its municipality at the start of
-- every transaction (`BEGIN; SET LOCAL app.municipality = '3805'`, one round trip). A query that forgets
-- its `municipality` filter then sees, and may write, only that municipality's rows; without the setting
-- it sees none. The migrations run as the owner, to whom the policies do not apply (no FORCE): they may
-- have to fix data across municipalities.

-- Roles belong to the whole cluster: create it once, so a DBA may also create it beforehand (then the
-- migrating role needs no CREATEROLE). It gets LOGIN only where someone decides so (the managed cluster
-- does; in production a password login of it is DATABASE_APP_URL).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'stafettlogg_app') THEN
        CREATE ROLE stafettlogg_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
    -- When one URL serves migrations and service, the service drops to this role with SET ROLE, which
    -- needs membership (a superuser has it anyway).
    IF NOT pg_has_role(current_user, 'stafettlogg_app', 'MEMBER') THEN
        EXECUTE format('GRANT stafettlogg_app TO %I', current_user);
    END IF;
    IF NOT has_schema_privilege('stafettlogg_app', 'public', 'USAGE') THEN
        GRANT USAGE ON SCHEMA public TO stafettlogg_app;
    END IF;
END $$;

-- What the service does, and no more: no DELETE but for expired idempotency keys (rows of case data are
-- never deleted), no UPDATE of the append-only tables, nothing on the migrations' own table. A later
-- table is invisible to the service until its migration grants it (and gives it a policy: the server
-- refuses to start while a table it may use has none, see db::TABLES_WITHOUT_ROW_SECURITY).
GRANT SELECT, INSERT, UPDATE ON municipalities, services, level_definitions, cases, case_participants,
    consents, measures, handovers, holder_periods TO stafettlogg_app;
GRANT SELECT, INSERT ON case_external_refs, participant_external_refs, access_events, consent_givers,
    consent_services, evaluations, level_changes, log_entries, change_events TO stafettlogg_app;
GRANT USAGE ON SEQUENCE access_events_id_seq TO stafettlogg_app;
-- Global on purpose (db::TABLES_WITHOUT_ROW_SECURITY says why): one shared number, and keys addressed by
-- (tenant, subject, key) outside any request transaction.
GRANT SELECT, UPDATE ON change_counter TO stafettlogg_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO stafettlogg_app;

-- Tables that carry their municipality: the policy reads it directly. USING filters what is read,
-- updated and locked; WITH CHECK refuses a written row of another municipality.
ALTER TABLE municipalities ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON municipalities
    USING (number = current_setting('app.municipality', true))
    WITH CHECK (number = current_setting('app.municipality', true));

ALTER TABLE services ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON services
    USING (municipality = current_setting('app.municipality', true))
    WITH CHECK (municipality = current_setting('app.municipality', true));

ALTER TABLE level_definitions ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON level_definitions
    USING (municipality = current_setting('app.municipality', true))
    WITH CHECK (municipality = current_setting('app.municipality', true));

ALTER TABLE cases ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON cases
    USING (municipality = current_setting('app.municipality', true))
    WITH CHECK (municipality = current_setting('app.municipality', true));

ALTER TABLE case_external_refs ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON case_external_refs
    USING (municipality = current_setting('app.municipality', true))
    WITH CHECK (municipality = current_setting('app.municipality', true));

ALTER TABLE participant_external_refs ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON participant_external_refs
    USING (municipality = current_setting('app.municipality', true))
    WITH CHECK (municipality = current_setting('app.municipality', true));

ALTER TABLE access_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON access_events
    USING (municipality = current_setting('app.municipality', true))
    WITH CHECK (municipality = current_setting('app.municipality', true));

ALTER TABLE change_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON change_events
    USING (municipality = current_setting('app.municipality', true))
    WITH CHECK (municipality = current_setting('app.municipality', true));

-- Tables of a case's content: through the owning case (a primary-key probe per row), so they need no
-- column of their own. The case's municipality is named here too, not left to the policy on cases, so
-- each policy holds on its own.
ALTER TABLE case_participants ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON case_participants
    USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = case_participants.case_id
                   AND c.municipality = current_setting('app.municipality', true)))
    WITH CHECK (EXISTS (SELECT 1 FROM cases c WHERE c.id = case_participants.case_id
                        AND c.municipality = current_setting('app.municipality', true)));

ALTER TABLE consents ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON consents
    USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = consents.case_id
                   AND c.municipality = current_setting('app.municipality', true)))
    WITH CHECK (EXISTS (SELECT 1 FROM cases c WHERE c.id = consents.case_id
                        AND c.municipality = current_setting('app.municipality', true)));

ALTER TABLE consent_givers ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON consent_givers
    USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = consent_givers.case_id
                   AND c.municipality = current_setting('app.municipality', true)))
    WITH CHECK (EXISTS (SELECT 1 FROM cases c WHERE c.id = consent_givers.case_id
                        AND c.municipality = current_setting('app.municipality', true)));

-- A consent's services reach their case through the consent.
ALTER TABLE consent_services ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON consent_services
    USING (EXISTS (SELECT 1 FROM consents k JOIN cases c ON c.id = k.case_id
                   WHERE k.id = consent_services.consent_id
                   AND c.municipality = current_setting('app.municipality', true)))
    WITH CHECK (EXISTS (SELECT 1 FROM consents k JOIN cases c ON c.id = k.case_id
                        WHERE k.id = consent_services.consent_id
                        AND c.municipality = current_setting('app.municipality', true)));

ALTER TABLE measures ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON measures
    USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = measures.case_id
                   AND c.municipality = current_setting('app.municipality', true)))
    WITH CHECK (EXISTS (SELECT 1 FROM cases c WHERE c.id = measures.case_id
                        AND c.municipality = current_setting('app.municipality', true)));

ALTER TABLE evaluations ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON evaluations
    USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = evaluations.case_id
                   AND c.municipality = current_setting('app.municipality', true)))
    WITH CHECK (EXISTS (SELECT 1 FROM cases c WHERE c.id = evaluations.case_id
                        AND c.municipality = current_setting('app.municipality', true)));

ALTER TABLE level_changes ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON level_changes
    USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = level_changes.case_id
                   AND c.municipality = current_setting('app.municipality', true)))
    WITH CHECK (EXISTS (SELECT 1 FROM cases c WHERE c.id = level_changes.case_id
                        AND c.municipality = current_setting('app.municipality', true)));

ALTER TABLE log_entries ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON log_entries
    USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = log_entries.case_id
                   AND c.municipality = current_setting('app.municipality', true)))
    WITH CHECK (EXISTS (SELECT 1 FROM cases c WHERE c.id = log_entries.case_id
                        AND c.municipality = current_setting('app.municipality', true)));

ALTER TABLE handovers ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON handovers
    USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = handovers.case_id
                   AND c.municipality = current_setting('app.municipality', true)))
    WITH CHECK (EXISTS (SELECT 1 FROM cases c WHERE c.id = handovers.case_id
                        AND c.municipality = current_setting('app.municipality', true)));

ALTER TABLE holder_periods ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON holder_periods
    USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = holder_periods.case_id
                   AND c.municipality = current_setting('app.municipality', true)))
    WITH CHECK (EXISTS (SELECT 1 FROM cases c WHERE c.id = holder_periods.case_id
                        AND c.municipality = current_setting('app.municipality', true)));
