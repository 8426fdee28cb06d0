-- "My cases" walks a person's grants newest case first and needs, besides the case, the participation
-- the grant comes from (a case "held by me" is one whose holder is that participation) and, for a
-- national id's grants, the basis. Carried in the index, the walk reads no grant row.
DROP INDEX case_grants_user;
DROP INDEX case_grants_person;
CREATE INDEX case_grants_user ON case_grants (municipality, user_id, case_id DESC) INCLUDE (participant_id)
    WHERE user_id IS NOT NULL;
CREATE INDEX case_grants_person ON case_grants (municipality, pid_hash, case_id DESC) INCLUDE (basis, participant_id)
    WHERE pid_hash IS NOT NULL;
