ALTER TABLE change_events DROP CONSTRAINT change_events_type_check;
