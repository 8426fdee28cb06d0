DROP INDEX consents_withdrawn;
DROP INDEX handovers_accepted;
DROP INDEX measures_pending_due;
DROP INDEX evaluations_due;
DROP INDEX level_changes_case_decided;
DROP INDEX level_changes_from_level0;
DROP INDEX cases_closed;
DROP INDEX cases_opened;
ALTER TABLE evaluations DROP COLUMN due_on;
