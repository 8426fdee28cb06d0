-- The level-0 decision (rule 12): the level-0 period of a case ends in one recorded decision of its
-- stafettholder: close, level 1, level 2, or a report to child welfare (barnevern). A report is recorded
-- for the reporting service and the holder's service only (rule 11); the service keeps it out of what the
-- family, other services and integrations read.

-- When the case's current level-0 period began: when it was opened, came back to level 0 or was reopened
-- at level 0. Kept by the database, so no writer can forget it; a decision names the period it ends.
ALTER TABLE cases ADD COLUMN level0_since TIMESTAMPTZ;
UPDATE cases c SET level0_since = greatest(c.opened_at,
    (SELECT max(l.recorded_at) FROM level_changes l WHERE l.case_id = c.id AND l.to_level = 0),
    c.reopened_on::timestamp AT TIME ZONE 'Europe/Oslo');
ALTER TABLE cases ALTER COLUMN level0_since SET NOT NULL;

CREATE FUNCTION level0_period() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.level0_since := coalesce(NEW.level0_since, NEW.opened_at, now());
    ELSIF NEW.level = 0 AND (OLD.level <> 0 OR (OLD.status = 'closed' AND NEW.status = 'open')) THEN
        NEW.level0_since := now();
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER cases_level0_period BEFORE INSERT OR UPDATE ON cases
    FOR EACH ROW EXECUTE FUNCTION level0_period();

CREATE TABLE level0_decisions (
    id                      UUID PRIMARY KEY,
    municipality            TEXT NOT NULL DEFAULT current_setting('app.municipality', true),
    case_id                 UUID NOT NULL,
    period_started_at       TIMESTAMPTZ NOT NULL,
    outcome                 TEXT NOT NULL CHECK (outcome IN ('close', 'level_1', 'level_2', 'report_child_welfare')),
    decided_on              DATE NOT NULL,
    note                    TEXT CHECK (length(note) BETWEEN 1 AND 2000),
    -- The stafettholder's service when the decision was made: a report is that service's.
    service                 TEXT NOT NULL CHECK (length(service) BETWEEN 1 AND 64),
    recorded_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    recorded_by_participant UUID NOT NULL,
    recorded_by_name        TEXT NOT NULL,
    CONSTRAINT level0_decisions_case_municipality FOREIGN KEY (case_id, municipality) REFERENCES cases (id, municipality),
    FOREIGN KEY (recorded_by_participant, case_id) REFERENCES case_participants (id, case_id),
    -- Once per level-0 period.
    CONSTRAINT level0_decisions_one_per_period UNIQUE (case_id, period_started_at)
);
CREATE TRIGGER level0_decisions_append_only BEFORE UPDATE OR DELETE ON level0_decisions
    FOR EACH ROW EXECUTE FUNCTION forbid_change_but_purge();
GRANT SELECT, INSERT ON level0_decisions TO stafettlogg_app;
ALTER TABLE level0_decisions ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON level0_decisions
    USING (municipality = current_setting('app.municipality', true))
    WITH CHECK (municipality = current_setting('app.municipality', true));

ALTER TABLE access_events DROP CONSTRAINT access_events_resource_check;
ALTER TABLE access_events ADD CONSTRAINT access_events_resource_check
    CHECK (resource IN ('case', 'case.access_log', 'case.consents', 'case.entries', 'case.handovers',
                        'case.level_changes', 'case.measures', 'case.my_data', 'case.participants',
                        'case.steps', 'case.timeline', 'case.plans', 'case.meetings',
                        'case.decisions', 'case.child_welfare_report',
                        'case.holder (reason: absence)', 'case.holder (reason: left)',
                        'case.holder (reason: workload)', 'case.holder (reason: other)',
                        'handovers.inbox', 'me.attention', 'me.meetings', 'me.calendar',
                        'service.attention', 'service.cases')) NOT VALID;

-- A level-0 decision recorded in the period is no longer overdue, whatever it was (the reminder must not
-- tell a report apart from anything else, and it does not need to).
CREATE OR REPLACE FUNCTION enqueue_reminders(today DATE) RETURNS INTEGER
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    added INTEGER;
BEGIN
    WITH holder AS (
        SELECT c.id AS case_id, c.municipality, p.user_id
          FROM cases c JOIN case_participants p ON p.id = c.holder_participant_id
         WHERE c.status = 'open' AND c.purged_at IS NULL AND p.user_id IS NOT NULL),
    due AS (
        SELECT m.case_id, h.municipality,
               CASE WHEN r.id IS NULL THEN h.user_id ELSE r.user_id END AS user_id,
               CASE WHEN r.id IS NULL THEN NULL ELSE r.national_id_hash END AS pid_hash,
               'evaluation.due' AS event, m.id AS subject_id,
               'evaluation.due:' || m.id || ':' || m.evaluate_by AS dedup_key
          FROM measures m JOIN holder h ON h.case_id = m.case_id
          LEFT JOIN case_participants r ON r.id = m.responsible_participant_id AND r.active
                                        AND (r.user_id IS NOT NULL OR r.national_id_hash IS NOT NULL)
         WHERE m.state IN ('planned', 'active') AND m.evaluate_by BETWEEN today AND today + 7
        UNION ALL
        SELECT k.case_id, h.municipality, h.user_id, NULL, 'consent.expiring', k.id,
               'consent.expiring:' || k.id || ':' || k.valid_until
          FROM consents k JOIN holder h ON h.case_id = k.case_id
         WHERE k.withdrawn_at IS NULL AND k.superseded_by IS NULL AND k.valid_from <= today
           AND k.valid_until BETWEEN today AND today + 30
           AND NOT EXISTS (SELECT 1 FROM consent_givers g WHERE g.consent_id = k.id AND g.signed_at IS NULL)
        UNION ALL
        SELECT c.id, h.municipality, h.user_id, NULL, 'decision.overdue', NULL::uuid,
               'decision.overdue:' || c.id || ':' || c.decision_due
          FROM cases c JOIN holder h ON h.case_id = c.id
         WHERE c.level = 0 AND c.decision_due < today
           AND NOT EXISTS (SELECT 1 FROM level0_decisions d
                            WHERE d.case_id = c.id AND d.period_started_at = c.level0_since))
    INSERT INTO notifications (id, municipality, user_id, event, channel, case_id, subject_id, dedup_key)
    SELECT uuid_v7(), d.municipality, s.user_id, d.event, ch.channel, d.case_id, d.subject_id, d.dedup_key
      FROM due d
      JOIN notification_settings s
        ON s.municipality = d.municipality AND (s.user_id = d.user_id OR s.pid_hash = d.pid_hash)
      CROSS JOIN LATERAL (VALUES ('email', s.email_on), ('sms', s.sms_on)) AS ch(channel, wanted)
     WHERE ch.wanted
       AND EXISTS (SELECT 1 FROM case_grants g
                    WHERE g.case_id = d.case_id AND (g.user_id = s.user_id OR g.pid_hash = s.pid_hash)
                      AND (g.valid_from IS NULL OR g.valid_from <= today)
                      AND (g.valid_until IS NULL OR g.valid_until >= today))
       AND NOT EXISTS (SELECT 1 FROM staff_departures x
                        WHERE x.municipality = s.municipality AND x.user_id = s.user_id
                          AND x.departed_on <= today)
    ON CONFLICT (municipality, user_id, channel, dedup_key) DO NOTHING;
    GET DIAGNOSTICS added = ROW_COUNT;
    RETURN added;
END $$;
