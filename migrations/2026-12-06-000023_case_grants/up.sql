-- Who may read a case, decided when the case changes instead of on every read: one row per grant, kept by
-- the database itself. Rule 8 (docs/rules.md) in rows:
--   holder_service  a professional (user_id) of the stafettholder's service;
--   consent         a professional of a service an effective consent covers, for that consent's window;
--   integration     a service with an active professional in the case, while the service is in the case;
--   guardian        an active guardian (pid_hash of their national id);
--   subject_youth   the subject or a listed youth (pid_hash), from the day they reach the self-consent age.
-- A read probes the rows of (case, caller) and `crate::policy::grants::choose` picks the basis, checking
-- what only the token knows (roles, the services the caller works in) and the date against the window.
--
-- Triggers on every table the rule reads have `refresh_case_grants` run in the changing transaction, at
-- its commit, whoever writes (the service, an import, the purge, a migration): a rolled-back change leaves
-- the old grants. The service may only read this table; the function is the only writer (SECURITY
-- DEFINER, as the owner), so a bug or injection in the service cannot hand itself a grant.
--
-- `settle_on` is the next day a consent of the case runs out: from then on a reader takes the slow path
-- once, which settles the expiry (rule 5: professionals of the lost services leave, the case may close)
-- and refreshes the grants, moving `settle_on` on.

CREATE TABLE case_grants (
    case_id        UUID NOT NULL,
    municipality   TEXT NOT NULL,
    basis          TEXT NOT NULL
        CHECK (basis IN ('holder_service', 'consent', 'integration', 'guardian', 'subject_youth')),
    user_id        TEXT,
    service        TEXT,
    pid_hash       BYTEA,
    participant_id UUID,
    valid_from     DATE,
    valid_until    DATE,
    settle_on      DATE,
    FOREIGN KEY (case_id, municipality) REFERENCES cases (id, municipality) ON DELETE CASCADE,
    CHECK (valid_from IS NULL OR valid_until IS NULL OR valid_from <= valid_until),
    CHECK (CASE basis
        WHEN 'holder_service' THEN user_id IS NOT NULL AND service IS NOT NULL AND participant_id IS NOT NULL
                                   AND pid_hash IS NULL AND valid_from IS NULL
        WHEN 'consent' THEN user_id IS NOT NULL AND service IS NOT NULL AND participant_id IS NOT NULL
                            AND pid_hash IS NULL AND valid_from IS NOT NULL AND valid_until IS NOT NULL
        WHEN 'integration' THEN service IS NOT NULL AND user_id IS NULL AND pid_hash IS NULL
                                AND participant_id IS NULL
        WHEN 'guardian' THEN pid_hash IS NOT NULL AND participant_id IS NOT NULL AND user_id IS NULL
                             AND service IS NULL AND valid_from IS NULL AND valid_until IS NULL
        WHEN 'subject_youth' THEN pid_hash IS NOT NULL AND valid_from IS NOT NULL AND user_id IS NULL
                                  AND service IS NULL AND valid_until IS NULL
    END)
);
CREATE INDEX case_grants_case ON case_grants (case_id);
-- "My cases": the grants of one grantee, newest case first.
CREATE INDEX case_grants_user ON case_grants (municipality, user_id, case_id DESC) WHERE user_id IS NOT NULL;
CREATE INDEX case_grants_person ON case_grants (municipality, pid_hash, case_id DESC) WHERE pid_hash IS NOT NULL;
CREATE INDEX case_grants_service ON case_grants (municipality, service, case_id DESC) WHERE basis = 'integration';

ALTER TABLE case_grants ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON case_grants
    USING (municipality = current_setting('app.municipality', true));
GRANT SELECT ON case_grants TO stafettlogg_app;

-- The first day on which someone born on `birth` is `years` old, as `consents::rules::age_on` counts: one
-- born on 29 February has their birthday on 1 March in other years.
CREATE FUNCTION age_reached_on(birth DATE, years INTEGER) RETURNS DATE
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN extract(day FROM d) <> extract(day FROM birth) THEN d + 1 ELSE d END
      FROM (SELECT (birth + make_interval(years => years))::date AS d) x
$$;

CREATE FUNCTION refresh_case_grants(ids UUID[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
-- One refresh of a case at a time (a reader settling an expiry takes no lock of the case row): the next
-- one then sees the rows the first wrote, and no grant is doubled.
SELECT pg_advisory_xact_lock(hashtextextended(id::text, 2212))
  FROM (SELECT DISTINCT unnest(ids) AS id ORDER BY 1) x;
WITH c AS (
    SELECT c.id, c.municipality, c.subject_national_id_hash AS subject_hash, h.service AS holder_service,
           CASE WHEN c.subject_birth_date IS NOT NULL
                THEN age_reached_on(c.subject_birth_date, m.self_consent_age) END AS youth_from
      FROM cases c
      JOIN municipalities m ON m.number = c.municipality
      JOIN case_participants h ON h.id = c.holder_participant_id
     WHERE c.id = ANY(ids)
), p AS (
    SELECT * FROM case_participants WHERE case_id = ANY(ids) AND active
), responsible AS (
    -- Rule 4: guardians whose parental responsibility is not denied must give consent.
    SELECT case_id, id FROM p WHERE kind = 'guardian' AND parental_responsibility IS DISTINCT FROM false
), first_youth AS (
    SELECT DISTINCT ON (case_id) case_id, id FROM p WHERE kind = 'youth' ORDER BY case_id, id
), window_of AS (
    -- An effective consent: neither withdrawn nor replaced, signed by every giver, and given by every
    -- responsible guardian (any day of its validity) or by the subject youth (from the self-consent age).
    SELECT k.id, k.case_id, k.valid_until,
           CASE WHEN EXISTS (SELECT 1 FROM responsible r WHERE r.case_id = k.case_id)
                     AND NOT EXISTS (SELECT 1 FROM responsible r WHERE r.case_id = k.case_id
                                       AND NOT EXISTS (SELECT 1 FROM consent_givers g
                                                        WHERE g.consent_id = k.id AND g.participant_id = r.id))
                THEN k.valid_from
                WHEN c.youth_from IS NOT NULL
                     AND EXISTS (SELECT 1 FROM first_youth y JOIN consent_givers g
                                   ON g.consent_id = k.id AND g.participant_id = y.id
                                  WHERE y.case_id = k.case_id)
                THEN greatest(k.valid_from, c.youth_from)
           END AS valid_from
      FROM consents k JOIN c ON c.id = k.case_id
     WHERE k.withdrawn_at IS NULL AND k.superseded_by IS NULL
       AND NOT EXISTS (SELECT 1 FROM consent_givers g WHERE g.consent_id = k.id AND g.signed_at IS NULL)
), effective AS (
    SELECT * FROM window_of WHERE valid_from IS NOT NULL AND valid_from <= valid_until
), covered AS (
    SELECT e.case_id, s.service, e.valid_from, e.valid_until
      FROM effective e JOIN consent_services s ON s.consent_id = e.id
), settle AS (
    SELECT case_id, min(valid_until) + 1 AS settle_on FROM effective
     WHERE valid_until >= (now() AT TIME ZONE 'Europe/Oslo')::date
     GROUP BY case_id
), professional AS (
    -- A departed professional's grants end the day before their departure (their participation may stay:
    -- the relay waits for a leader to reassign it).
    SELECT p.case_id, p.user_id, p.service, p.id,
           (SELECT d.departed_on - 1 FROM staff_departures d
             WHERE d.municipality = p.municipality AND d.user_id = p.user_id) AS last_day
      FROM p WHERE p.kind = 'professional'
), grants AS (
    SELECT x.case_id, 'holder_service' AS basis, x.user_id, x.service, NULL::bytea AS pid_hash,
           x.id AS participant_id, NULL::date AS valid_from, x.last_day AS valid_until
      FROM professional x JOIN c ON c.id = x.case_id AND x.service = c.holder_service
    UNION ALL
    SELECT x.case_id, 'consent', x.user_id, x.service, NULL, x.id, v.valid_from,
           least(v.valid_until, x.last_day)
      FROM professional x JOIN c ON c.id = x.case_id AND x.service <> c.holder_service
      JOIN covered v ON v.case_id = x.case_id AND v.service = x.service
    UNION ALL
    SELECT s.case_id, 'integration', NULL, s.service, NULL, NULL, v.valid_from, v.valid_until
      FROM (SELECT DISTINCT case_id, service FROM professional) s
      JOIN c ON c.id = s.case_id
      LEFT JOIN covered v ON v.case_id = s.case_id AND v.service = s.service AND s.service <> c.holder_service
     WHERE s.service = c.holder_service OR v.service IS NOT NULL
    UNION ALL
    SELECT x.case_id, 'guardian', NULL, NULL, x.national_id_hash, x.id, NULL, NULL
      FROM (SELECT DISTINCT ON (case_id, national_id_hash) case_id, national_id_hash, id
              FROM p WHERE kind = 'guardian' AND national_id_hash IS NOT NULL
             ORDER BY case_id, national_id_hash, id) x
    UNION ALL
    SELECT y.case_id, 'subject_youth', NULL, NULL, y.pid_hash, y.participant_id, c.youth_from, NULL
      FROM (SELECT DISTINCT ON (case_id, national_id_hash) case_id, national_id_hash AS pid_hash,
                   id AS participant_id
              FROM p WHERE kind = 'youth' AND national_id_hash IS NOT NULL
             ORDER BY case_id, national_id_hash, id) y
      JOIN c ON c.id = y.case_id AND c.youth_from IS NOT NULL
    UNION ALL
    SELECT c.id, 'subject_youth', NULL, NULL, c.subject_hash, NULL, c.youth_from, NULL
      FROM c
     WHERE c.youth_from IS NOT NULL AND c.subject_hash IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM p WHERE p.case_id = c.id AND p.kind = 'youth'
                          AND p.national_id_hash = c.subject_hash)
)
-- Only what changed is written: a grant that stays keeps its row (a case changes a few times in one
-- transaction, an import's line five, and rewriting every grant each time left the case's grants spread
-- over as many pages). Both statements see the rows as they were before.
, fresh AS (
    SELECT g.case_id, c.municipality, g.basis, g.user_id, g.service, g.pid_hash, g.participant_id,
           g.valid_from, g.valid_until, s.settle_on
      FROM grants g JOIN c ON c.id = g.case_id LEFT JOIN settle s ON s.case_id = g.case_id
     WHERE g.valid_from IS NULL OR g.valid_until IS NULL OR g.valid_from <= g.valid_until
), gone AS (
    DELETE FROM case_grants o
     WHERE o.case_id = ANY(ids)
       AND NOT EXISTS (SELECT 1 FROM fresh f
                        WHERE f.case_id = o.case_id
                          AND (f.municipality, f.basis, f.user_id, f.service, f.pid_hash,
                               f.participant_id, f.valid_from, f.valid_until, f.settle_on)
                              IS NOT DISTINCT FROM
                              (o.municipality, o.basis, o.user_id, o.service, o.pid_hash,
                               o.participant_id, o.valid_from, o.valid_until, o.settle_on))
)
INSERT INTO case_grants (case_id, municipality, basis, user_id, service, pid_hash, participant_id,
                         valid_from, valid_until, settle_on)
SELECT * FROM fresh f
 WHERE NOT EXISTS (SELECT 1 FROM case_grants o
                    WHERE o.case_id = f.case_id
                      AND (f.municipality, f.basis, f.user_id, f.service, f.pid_hash, f.participant_id,
                           f.valid_from, f.valid_until, f.settle_on)
                          IS NOT DISTINCT FROM
                          (o.municipality, o.basis, o.user_id, o.service, o.pid_hash, o.participant_id,
                           o.valid_from, o.valid_until, o.settle_on));
$$;
REVOKE ALL ON FUNCTION refresh_case_grants(UUID[]) FROM PUBLIC;
-- A reader that settled an expiry moves `settle_on` on (nothing else may have changed).
GRANT EXECUTE ON FUNCTION refresh_case_grants(UUID[]) TO stafettlogg_app;

-- The triggers note which cases changed (`case_grants_pending`) and the grants of all of them are worked
-- out once, when the transaction commits (a deferred trigger): a consent with its givers and services, or
-- an import line with its participants, is one refresh, not one per statement. Inserts and deletes are
-- noted once per statement (an import inserts thousands of rows at once); updates once per row, and only
-- when a column the rule reads changed (the case row is updated by every write, for its version). Within
-- the changing transaction the grants are those it began with; the policy decides before it changes.
CREATE UNLOGGED TABLE case_grants_pending (
    case_id      UUID PRIMARY KEY,
    municipality TEXT DEFAULT current_setting('app.municipality', true)
);
-- Only the functions below (as the owner) write it; the service may read it (outside a transaction that
-- is changing a case it is empty). Guarded as every table of a municipality's rows is.
GRANT SELECT ON case_grants_pending TO stafettlogg_app;
ALTER TABLE case_grants_pending ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON case_grants_pending
    USING (municipality = current_setting('app.municipality', true))
    WITH CHECK (municipality = current_setting('app.municipality', true));

CREATE FUNCTION case_grants_later(ids UUID[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO case_grants_pending (case_id) SELECT DISTINCT unnest(ids) ON CONFLICT DO NOTHING;
$$;

-- Fires at commit once per noted case; the first refreshes every case the transaction noted, the others
-- find theirs done. (The import sets its constraints immediate: then it fires at once, as often as needed.)
CREATE FUNCTION case_grants_refresh_pending() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ids UUID[];
BEGIN
    IF NOT EXISTS (SELECT 1 FROM case_grants_pending WHERE case_id = NEW.case_id) THEN
        RETURN NULL;
    END IF;
    WITH done AS (DELETE FROM case_grants_pending RETURNING case_id)
    SELECT array_agg(case_id) INTO ids FROM done;
    PERFORM refresh_case_grants(ids);
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER case_grants_pending_refresh AFTER INSERT ON case_grants_pending
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION case_grants_refresh_pending();
CREATE FUNCTION case_grants_after_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF TG_TABLE_NAME = 'consent_services' THEN
            PERFORM case_grants_later(ARRAY(SELECT DISTINCT k.case_id FROM gone x JOIN consents k ON k.id = x.consent_id));
        ELSIF TG_TABLE_NAME = 'cases' THEN
            RETURN NULL;
        ELSIF TG_TABLE_NAME = 'staff_departures' THEN
            PERFORM case_grants_later(ARRAY(SELECT DISTINCT p.case_id FROM gone x JOIN case_participants p
                                               ON p.municipality = x.municipality AND p.user_id = x.user_id
                                              WHERE p.kind = 'professional' AND p.active));
        ELSE
            PERFORM case_grants_later(ARRAY(SELECT DISTINCT case_id FROM gone));
        END IF;
    ELSE
        IF TG_TABLE_NAME = 'consent_services' THEN
            PERFORM case_grants_later(ARRAY(SELECT DISTINCT k.case_id FROM added x JOIN consents k ON k.id = x.consent_id));
        ELSIF TG_TABLE_NAME = 'cases' THEN
            PERFORM case_grants_later(ARRAY(SELECT id FROM added));
        ELSIF TG_TABLE_NAME = 'staff_departures' THEN
            PERFORM case_grants_later(ARRAY(SELECT DISTINCT p.case_id FROM added x JOIN case_participants p
                                               ON p.municipality = x.municipality AND p.user_id = x.user_id
                                              WHERE p.kind = 'professional' AND p.active));
        ELSE
            PERFORM case_grants_later(ARRAY(SELECT DISTINCT case_id FROM added));
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION case_grants_after_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'cases' THEN
        PERFORM case_grants_later(ARRAY[NEW.id]);
    ELSIF TG_TABLE_NAME = 'consent_services' THEN
        PERFORM case_grants_later(ARRAY(SELECT k.case_id FROM consents k WHERE k.id IN (OLD.consent_id, NEW.consent_id)));
    ELSIF TG_TABLE_NAME = 'staff_departures' THEN
        PERFORM case_grants_later(ARRAY(SELECT p.case_id FROM case_participants p
                                           WHERE p.kind = 'professional' AND p.active
                                             AND p.municipality = NEW.municipality AND p.user_id IN (OLD.user_id, NEW.user_id)));
    ELSIF TG_TABLE_NAME = 'municipalities' THEN
        PERFORM case_grants_later(ARRAY(SELECT id FROM cases WHERE municipality = NEW.number));
    ELSE
        PERFORM case_grants_later(ARRAY[NEW.case_id]);
    END IF;
    RETURN NULL;
END;
$$;

DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['cases', 'case_participants', 'consents', 'consent_givers', 'consent_services',
                             'staff_departures']
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS added '
                       'FOR EACH STATEMENT EXECUTE FUNCTION case_grants_after_rows()', t || '_grants_insert', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS gone '
                       'FOR EACH STATEMENT EXECUTE FUNCTION case_grants_after_rows()', t || '_grants_delete', t);
    END LOOP;
END $$;

CREATE TRIGGER cases_grants_update AFTER UPDATE ON cases FOR EACH ROW
    WHEN (OLD.holder_participant_id IS DISTINCT FROM NEW.holder_participant_id
          OR OLD.subject_birth_date IS DISTINCT FROM NEW.subject_birth_date
          OR OLD.subject_national_id_hash IS DISTINCT FROM NEW.subject_national_id_hash)
    EXECUTE FUNCTION case_grants_after_row();
CREATE TRIGGER case_participants_grants_update AFTER UPDATE ON case_participants FOR EACH ROW
    WHEN (OLD.active IS DISTINCT FROM NEW.active OR OLD.kind IS DISTINCT FROM NEW.kind
          OR OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.service IS DISTINCT FROM NEW.service
          OR OLD.national_id_hash IS DISTINCT FROM NEW.national_id_hash
          OR OLD.parental_responsibility IS DISTINCT FROM NEW.parental_responsibility
          OR OLD.case_id IS DISTINCT FROM NEW.case_id)
    EXECUTE FUNCTION case_grants_after_row();
CREATE TRIGGER consents_grants_update AFTER UPDATE ON consents FOR EACH ROW
    WHEN (OLD.withdrawn_at IS DISTINCT FROM NEW.withdrawn_at OR OLD.superseded_by IS DISTINCT FROM NEW.superseded_by
          OR OLD.valid_from IS DISTINCT FROM NEW.valid_from OR OLD.valid_until IS DISTINCT FROM NEW.valid_until)
    EXECUTE FUNCTION case_grants_after_row();
CREATE TRIGGER consent_givers_grants_update AFTER UPDATE ON consent_givers FOR EACH ROW
    WHEN (OLD.signed_at IS DISTINCT FROM NEW.signed_at OR OLD.participant_id IS DISTINCT FROM NEW.participant_id)
    EXECUTE FUNCTION case_grants_after_row();
CREATE TRIGGER consent_services_grants_update AFTER UPDATE ON consent_services FOR EACH ROW
    EXECUTE FUNCTION case_grants_after_row();
CREATE TRIGGER staff_departures_grants_update AFTER UPDATE ON staff_departures FOR EACH ROW
    WHEN (OLD.departed_on IS DISTINCT FROM NEW.departed_on OR OLD.user_id IS DISTINCT FROM NEW.user_id)
    EXECUTE FUNCTION case_grants_after_row();
CREATE TRIGGER municipalities_grants_update AFTER UPDATE ON municipalities FOR EACH ROW
    WHEN (OLD.self_consent_age IS DISTINCT FROM NEW.self_consent_age)
    EXECUTE FUNCTION case_grants_after_row();

SELECT refresh_case_grants(ARRAY(SELECT id FROM cases));
