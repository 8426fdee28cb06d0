-- Back to one table, with every row (detached months stay detached).
DROP FUNCTION stafettlogg_detachable_access_partitions();
ALTER TABLE access_events RENAME TO access_events_partitioned;
CREATE TABLE access_events (LIKE access_events_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER SEQUENCE access_events_id_seq OWNED BY access_events.id;
INSERT INTO access_events SELECT * FROM access_events_partitioned;
DROP TABLE access_events_partitioned;
DROP FUNCTION stafettlogg_ensure_access_partitions(INT, DATE);
DROP FUNCTION stafettlogg_guard_access_partition(TEXT);
ALTER TABLE access_events ADD PRIMARY KEY (id);
ALTER TABLE access_events ADD FOREIGN KEY (case_id, municipality) REFERENCES cases (id, municipality);
CREATE INDEX access_events_case_at ON access_events (case_id, id DESC);
CREATE INDEX access_events_actor ON access_events (actor_user_id, id DESC);
CREATE TRIGGER access_events_append_only BEFORE UPDATE OR DELETE ON access_events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
ALTER TABLE access_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON access_events
    USING (municipality = current_setting('app.municipality', true))
    WITH CHECK (municipality = current_setting('app.municipality', true));
GRANT SELECT, INSERT ON access_events TO stafettlogg_app;
