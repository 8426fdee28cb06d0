DROP INDEX case_grants_user;
DROP INDEX case_grants_person;
CREATE INDEX case_grants_user ON case_grants (municipality, user_id, case_id DESC) WHERE user_id IS NOT NULL;
CREATE INDEX case_grants_person ON case_grants (municipality, pid_hash, case_id DESC) WHERE pid_hash IS NOT NULL;
