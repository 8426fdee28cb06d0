DROP INDEX case_grants_case;
CREATE INDEX case_grants_case ON case_grants (case_id);
