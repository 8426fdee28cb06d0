-- The access log grows by every read, for years. It becomes a table partitioned by the
-- month of `at` (UTC), so that a month can be detached once the retention allows (crate::partitions)
-- while the queries by case and by actor stay index scans, each partition with its own index.
--
-- The existing rows move in this one transaction. The partitioned table keeps the name, columns, sequence,
-- checks, foreign key, policy, grants and append-only trigger of the old one; only the primary key gains
-- `at`, since a partitioned table's unique keys must contain the partition key (ids still come from one
-- sequence).

ALTER TABLE access_events RENAME TO access_events_unpartitioned;

CREATE TABLE access_events (LIKE access_events_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (at);
ALTER SEQUENCE access_events_id_seq OWNED BY access_events.id;

-- Rows of a month without its partition land here instead of failing the request that wrote them: the
-- law wants the log complete. Normally empty; `stafettlogg_ensure_access_partitions` keeps months ahead.
CREATE TABLE access_events_default PARTITION OF access_events DEFAULT;

-- A partition carries the parent's policy too. The service role has no grant on any partition and
-- reaches them only through the parent (whose policy then applies); this holds should one be granted.
CREATE FUNCTION stafettlogg_guard_access_partition(name TEXT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', name);
    EXECUTE format('CREATE POLICY one_municipality ON %I
                        USING (municipality = current_setting(''app.municipality'', true))
                        WITH CHECK (municipality = current_setting(''app.municipality'', true))', name);
END $$;
SELECT stafettlogg_guard_access_partition('access_events_default');

-- Creates the monthly partitions from `from_month` to `months_ahead` months after the current one (UTC),
-- those that are missing; returns how many it created. A month whose rows already sit in the default
-- partition is left there with a warning (moving them would need deleting from an append-only table).
-- Several instances may call it at once: the advisory lock serialises them. Creating a partition locks
-- the whole log (and its default partition) exclusively: behind a long reader that would queue every
-- request's access event, so it waits at most a second and leaves the month for the next run (there are
-- months to spare), with a warning.
CREATE FUNCTION stafettlogg_ensure_access_partitions(months_ahead INT, from_month DATE DEFAULT NULL)
RETURNS INT LANGUAGE plpgsql AS $$
DECLARE
    m DATE := date_trunc('month', COALESCE(from_month, (now() AT TIME ZONE 'UTC')::date));
    stop_month DATE := date_trunc('month', (now() AT TIME ZONE 'UTC')::date) + make_interval(months => months_ahead);
    lo TIMESTAMPTZ;
    hi TIMESTAMPTZ;
    name TEXT;
    created INT := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('stafettlogg.access_partitions'));
    WHILE m <= stop_month LOOP
        name := 'access_events_' || to_char(m, 'YYYY_MM');
        lo := (m::TIMESTAMP) AT TIME ZONE 'UTC';
        hi := ((m + INTERVAL '1 month')::TIMESTAMP) AT TIME ZONE 'UTC';
        IF to_regclass(name) IS NULL THEN
            IF EXISTS (SELECT FROM access_events_default WHERE at >= lo AND at < hi) THEN
                RAISE WARNING 'access events of % are in the default partition; % not created', m, name;
            ELSE
                BEGIN
                    PERFORM set_config('lock_timeout', '1s', true);
                    EXECUTE format('CREATE TABLE %I PARTITION OF access_events FOR VALUES FROM (%L) TO (%L)',
                                   name, lo, hi);
                    PERFORM stafettlogg_guard_access_partition(name);
                    created := created + 1;
                EXCEPTION WHEN lock_not_available THEN
                    RAISE WARNING 'the access log is busy; % not created this time', name;
                END;
            END IF;
        END IF;
        m := m + INTERVAL '1 month';
    END LOOP;
    RETURN created;
END $$;

SELECT stafettlogg_ensure_access_partitions(
    12, (SELECT min(at) AT TIME ZONE 'UTC' FROM access_events_unpartitioned)::DATE);

INSERT INTO access_events SELECT * FROM access_events_unpartitioned;
DROP TABLE access_events_unpartitioned;

ALTER TABLE access_events ADD PRIMARY KEY (id, at);
ALTER TABLE access_events ADD FOREIGN KEY (case_id, municipality) REFERENCES cases (id, municipality);
CREATE INDEX access_events_case_at ON access_events (case_id, id DESC);
CREATE INDEX access_events_actor ON access_events (actor_user_id, id DESC);
CREATE TRIGGER access_events_append_only BEFORE UPDATE OR DELETE ON access_events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- The policy and grants are the parent's; the service role gets none on the partitions, so it can only
-- reach them through the parent, where the policy applies.
ALTER TABLE access_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON access_events
    USING (municipality = current_setting('app.municipality', true))
    WITH CHECK (municipality = current_setting('app.municipality', true));
GRANT SELECT, INSERT ON access_events TO stafettlogg_app;

-- The months that may be detached: every case with an event in them is purged (its retention has run
-- out), and the month ended longer ago than the longest retention of any municipality. A detached month
-- stays as a table of its own for the operator to archive and drop.
CREATE FUNCTION stafettlogg_detachable_access_partitions()
RETURNS TABLE (partition_name TEXT, month DATE, events BIGINT) LANGUAGE plpgsql STABLE AS $$
DECLARE
    p RECORD;
    horizon TIMESTAMPTZ := now() - make_interval(
        years => COALESCE((SELECT max(retention_years) FROM municipalities), 10));
    n BIGINT;
BEGIN
    FOR p IN
        SELECT c.relname::TEXT AS rel, to_date(substr(c.relname, 15), 'YYYY_MM') AS m
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'access_events'::regclass AND c.relname ~ '^access_events_\d{4}_\d{2}$'
         ORDER BY 2
    LOOP
        EXIT WHEN ((p.m + INTERVAL '1 month')::TIMESTAMP AT TIME ZONE 'UTC') > horizon;
        EXECUTE format(
            'SELECT count(*) FROM (SELECT FROM %I e WHERE NOT EXISTS
                 (SELECT FROM cases c WHERE c.id = e.case_id AND c.purged_at IS NOT NULL) LIMIT 1) x',
            p.rel) INTO n;
        CONTINUE WHEN n > 0;
        EXECUTE format('SELECT count(*) FROM %I', p.rel) INTO n;
        partition_name := p.rel;
        month := p.m;
        events := n;
        RETURN NEXT;
    END LOOP;
END $$;

-- The owner's tools, not the service's (they run with the caller's rights anyway).
REVOKE EXECUTE ON FUNCTION stafettlogg_ensure_access_partitions(INT, DATE) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION stafettlogg_detachable_access_partitions() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION stafettlogg_guard_access_partition(TEXT) FROM PUBLIC;
