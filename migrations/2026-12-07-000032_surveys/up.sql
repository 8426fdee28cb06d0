-- The municipality's BTI survey (kartlegging) of its own employees (rule 15: an answer cannot be traced
-- back to its author). Who has answered and what was answered live apart and share nothing but the survey:
-- `survey_respondents` holds who answered (so nobody answers twice), as a hash keyed with the service's
-- secret so the table alone names nobody; `survey_tallies` holds only running counts per group (the
-- service kind, and the service where the survey records it). No answer is ever a row of its own, so
-- there is no id, time or insertion order to join an answer to its author by; neither table has a
-- timestamp. Each answer adds to one row per group, whose counts say nothing about whose they are.
CREATE TABLE surveys (
    id           UUID PRIMARY KEY,
    municipality TEXT NOT NULL REFERENCES municipalities (number),
    title        TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    opens_on     DATE NOT NULL,
    closes_on    DATE NOT NULL,
    -- Whether an answer carries the employee's service besides its kind (the administrator chooses).
    by_service   BOOLEAN NOT NULL DEFAULT false,
    -- The day the administrator closed it before `closes_on` (it takes no answer after that).
    closed_early_on DATE,
    -- When the purge erased the per-service counts (only the counts per service kind remain).
    reduced_on   DATE,
    version      INTEGER NOT NULL DEFAULT 1,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (closes_on >= opens_on AND closes_on <= opens_on + 366),
    UNIQUE (id, municipality)
);
CREATE INDEX surveys_of ON surveys (municipality, opens_on DESC);

CREATE TABLE survey_questions (
    survey_id    UUID NOT NULL,
    municipality TEXT NOT NULL,
    position     SMALLINT NOT NULL CHECK (position BETWEEN 0 AND 49),
    key          TEXT NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,39}$'),
    text_nb      TEXT NOT NULL CHECK (length(text_nb) BETWEEN 1 AND 500),
    text_nn      TEXT CHECK (length(text_nn) BETWEEN 1 AND 500),
    kind         TEXT NOT NULL CONSTRAINT survey_questions_kind_check CHECK (kind IN ('scale_1_5', 'yes_no')),
    PRIMARY KEY (survey_id, key),
    UNIQUE (survey_id, position),
    FOREIGN KEY (survey_id, municipality) REFERENCES surveys (id, municipality) ON DELETE CASCADE
);

CREATE TABLE survey_respondents (
    survey_id    UUID NOT NULL,
    municipality TEXT NOT NULL,
    -- HMAC of the survey and the login, keyed with a sub-key of NATIONAL_ID_KEY.
    respondent   BYTEA NOT NULL CHECK (length(respondent) = 32),
    PRIMARY KEY (survey_id, respondent),
    FOREIGN KEY (survey_id, municipality) REFERENCES surveys (id, municipality) ON DELETE CASCADE
);

CREATE TABLE survey_tallies (
    survey_id    UUID NOT NULL,
    municipality TEXT NOT NULL,
    service_kind TEXT NOT NULL CHECK (length(service_kind) BETWEEN 1 AND 64),
    -- NULL: the row of the whole service kind (every answer counts there); a code: one service's row.
    service      TEXT CHECK (length(service) BETWEEN 1 AND 64),
    answers      INTEGER NOT NULL CHECK (answers >= 0),
    -- Per question key, the number of answers of each value (scale: 1..5, yes_no: yes, no).
    counts       JSONB NOT NULL CHECK (jsonb_typeof(counts) = 'object'),
    UNIQUE NULLS NOT DISTINCT (survey_id, service_kind, service),
    FOREIGN KEY (survey_id, municipality) REFERENCES surveys (id, municipality) ON DELETE CASCADE
);

-- The questions are the layout of the counts: once anyone has answered they never change, whatever
-- writes them.
CREATE FUNCTION survey_questions_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The questions go with their survey when it is deleted.
    IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM surveys WHERE id = OLD.survey_id) THEN
        RETURN OLD;
    END IF;
    IF EXISTS (SELECT 1 FROM survey_tallies t
                WHERE t.survey_id = coalesce(NEW.survey_id, OLD.survey_id)) THEN
        RAISE EXCEPTION 'stafettlogg: the questions of a survey that has answers do not change'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN coalesce(NEW, OLD);
END $$;
CREATE TRIGGER survey_questions_frozen BEFORE INSERT OR UPDATE OR DELETE ON survey_questions
    FOR EACH ROW EXECUTE FUNCTION survey_questions_frozen();

CREATE TRIGGER limit_surveys BEFORE INSERT ON surveys
    FOR EACH ROW EXECUTE FUNCTION limit_rows('1000', 'surveys in a municipality', 'municipality', 'municipality');

GRANT SELECT, INSERT, UPDATE, DELETE ON surveys, survey_questions TO stafettlogg_app;
GRANT SELECT, INSERT ON survey_respondents TO stafettlogg_app;
GRANT SELECT, INSERT, UPDATE ON survey_tallies TO stafettlogg_app;
DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['surveys', 'survey_questions', 'survey_respondents', 'survey_tallies']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY one_municipality ON %I
                            USING (municipality = current_setting(''app.municipality'', true))
                            WITH CHECK (municipality = current_setting(''app.municipality'', true))', t);
    END LOOP;
END $$;

-- After this many years from its closing, a survey keeps only its counts per service kind.
ALTER TABLE municipalities ADD COLUMN survey_retention_years SMALLINT NOT NULL DEFAULT 5
    CHECK (survey_retention_years BETWEEN 1 AND 100);

-- Employees choose to hear when a survey opens.
ALTER TABLE notification_settings ADD COLUMN surveys_on BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE notifications DROP CONSTRAINT notifications_event_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_event_check
    CHECK (event IN ('handover.proposed', 'handover.answered', 'signature.awaited', 'evaluation.due',
                     'consent.expiring', 'decision.overdue', 'inquiry.received', 'inquiry.answered',
                     'holder.reassigned', 'meeting.invited', 'meeting.changed', 'meeting.cancelled',
                     'survey.opened'));

CREATE OR REPLACE FUNCTION enqueue_reminders(today DATE) RETURNS INTEGER
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    added INTEGER;
    surveyed INTEGER;
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
    -- A survey open today, to the employees who asked to hear of surveys (once; who has answered is not
    -- known here: the record of it names nobody without the service's key).
    INSERT INTO notifications (id, municipality, user_id, event, channel, case_id, subject_id, dedup_key)
    SELECT uuid_v7(), s.municipality, s.user_id, 'survey.opened', ch.channel, NULL, v.id,
           'survey.opened:' || v.id
      FROM surveys v
      JOIN notification_settings s ON s.municipality = v.municipality
     CROSS JOIN LATERAL (VALUES ('email', s.email_on), ('sms', s.sms_on)) AS ch(channel, wanted)
     WHERE v.opens_on <= today AND v.closes_on >= today AND v.closed_early_on IS NULL
       AND s.surveys_on AND ch.wanted AND s.roles && ARRAY['professional', 'leader']
       AND NOT EXISTS (SELECT 1 FROM staff_departures x
                        WHERE x.municipality = s.municipality AND x.user_id = s.user_id
                          AND x.departed_on <= today)
    ON CONFLICT (municipality, user_id, channel, dedup_key) DO NOTHING;
    GET DIAGNOSTICS surveyed = ROW_COUNT;
    RETURN added + surveyed;
END $$;
