-- Retention. A closed case is kept for the municipality's `retention_years`, then its
-- personal data is erased by `stafettlogg purge` (crate::retention): names, national ids, contact
-- details, the free text of entries, measures, evaluations, consents and level changes, and its
-- references in other systems. The structure the statistics need (levels, dates, states, counts) stays;
-- the case remains as a tombstone with `purged_at`.

ALTER TABLE municipalities ADD COLUMN retention_years SMALLINT NOT NULL DEFAULT 10
    CHECK (retention_years BETWEEN 1 AND 100);

ALTER TABLE cases ADD COLUMN purged_at TIMESTAMPTZ;
-- Only a closed case is purged, and a purged case stays closed.
ALTER TABLE cases ADD CONSTRAINT cases_purged_only_when_closed
    CHECK (purged_at IS NULL OR (status = 'closed' AND closed_at IS NOT NULL AND purged_at > closed_at));
CREATE INDEX cases_closed_unpurged ON cases (closed_at) WHERE status = 'closed' AND purged_at IS NULL;

-- The append-only tables take one kind of update: the purge's, which names itself in
-- `stafettlogg.purge` and runs as the schema's owner (the service's role has no UPDATE on these tables).
CREATE FUNCTION forbid_change_but_purge() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('stafettlogg.purge', true) = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER log_entries_append_only ON log_entries;
CREATE TRIGGER log_entries_append_only BEFORE UPDATE OR DELETE ON log_entries
    FOR EACH ROW EXECUTE FUNCTION forbid_change_but_purge();
DROP TRIGGER evaluations_append_only ON evaluations;
CREATE TRIGGER evaluations_append_only BEFORE UPDATE OR DELETE ON evaluations
    FOR EACH ROW EXECUTE FUNCTION forbid_change_but_purge();
DROP TRIGGER level_changes_append_only ON level_changes;
CREATE TRIGGER level_changes_append_only BEFORE UPDATE OR DELETE ON level_changes
    FOR EACH ROW EXECUTE FUNCTION forbid_change_but_purge();
DROP TRIGGER case_step_moves_append_only ON case_step_moves;
CREATE TRIGGER case_step_moves_append_only BEFORE UPDATE OR DELETE ON case_step_moves
    FOR EACH ROW EXECUTE FUNCTION forbid_change_but_purge();

-- The purge leaves one access event per case, as the service itself.
ALTER TABLE access_events DROP CONSTRAINT access_events_action_check;
ALTER TABLE access_events ADD CONSTRAINT access_events_action_check
    CHECK (action IN ('read', 'list', 'create', 'update', 'close', 'export', 'withdraw', 'deactivate',
                      'propose', 'accept', 'decline', 'cancel', 'import', 'reassign', 'sign', 'purge'));

-- An inquiry that became a purged case is erased with it (its message, the child, the contact details,
-- who sent it by name): the erasure rule of inquiries gains that case.
DO $$
DECLARE
    c TEXT;
BEGIN
    SELECT conname INTO STRICT c FROM pg_constraint
     WHERE conrelid = 'inquiries'::regclass AND contype = 'c'
       AND pg_get_constraintdef(oid) LIKE '%erased_at IS NULL)%other_child%';
    EXECUTE format('ALTER TABLE inquiries DROP CONSTRAINT %I', c);
END $$;
ALTER TABLE inquiries ADD CONSTRAINT inquiries_erased_whole CHECK (erased_at IS NULL OR (
    ((about = 'other_child' AND status = 'closed') OR status = 'case_opened')
    AND message IS NULL AND child_given_name IS NULL AND child_birth_date IS NULL
    AND contact_phone IS NULL AND contact_email IS NULL));
