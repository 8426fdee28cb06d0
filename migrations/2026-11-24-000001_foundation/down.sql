DROP TABLE access_events;
DROP FUNCTION forbid_change();
DROP TABLE case_external_refs;
ALTER TABLE cases DROP CONSTRAINT cases_holder_is_active_professional;
DROP TABLE case_participants;
DROP TABLE cases;
DROP TABLE level_definitions;
DROP TABLE services;
DROP TABLE municipalities;
