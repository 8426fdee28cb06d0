ALTER TABLE access_events DROP CONSTRAINT access_events_action_check;
ALTER TABLE access_events ADD CONSTRAINT access_events_action_check
    CHECK (action IN ('read', 'list', 'create', 'update', 'close', 'export', 'withdraw', 'deactivate',
                      'propose', 'accept', 'decline', 'cancel', 'import', 'reassign', 'sign'));
DROP TRIGGER log_entries_append_only ON log_entries;
CREATE TRIGGER log_entries_append_only BEFORE UPDATE OR DELETE ON log_entries
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
DROP TRIGGER evaluations_append_only ON evaluations;
CREATE TRIGGER evaluations_append_only BEFORE UPDATE OR DELETE ON evaluations
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
DROP TRIGGER level_changes_append_only ON level_changes;
CREATE TRIGGER level_changes_append_only BEFORE UPDATE OR DELETE ON level_changes
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
DROP TRIGGER case_step_moves_append_only ON case_step_moves;
CREATE TRIGGER case_step_moves_append_only BEFORE UPDATE OR DELETE ON case_step_moves
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
DROP FUNCTION forbid_change_but_purge();
DROP INDEX cases_closed_unpurged;
ALTER TABLE cases DROP CONSTRAINT cases_purged_only_when_closed;
ALTER TABLE cases DROP COLUMN purged_at;
ALTER TABLE municipalities DROP COLUMN retention_years;
ALTER TABLE inquiries DROP CONSTRAINT inquiries_erased_whole;
ALTER TABLE inquiries ADD CHECK (erased_at IS NULL OR (about = 'other_child' AND status = 'closed' AND message IS NULL
        AND child_given_name IS NULL AND child_birth_date IS NULL AND contact_phone IS NULL
        AND contact_email IS NULL));
