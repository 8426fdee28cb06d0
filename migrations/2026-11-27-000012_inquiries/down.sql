UPDATE case_participants SET parental_responsibility = FALSE
    WHERE kind = 'guardian' AND parental_responsibility IS NULL;
ALTER TABLE case_participants DROP CONSTRAINT case_participants_guardian_relation;
ALTER TABLE case_participants ADD CONSTRAINT case_participants_check1
    CHECK (kind <> 'guardian' OR (relation IS NOT NULL AND parental_responsibility IS NOT NULL));
DROP TABLE inquiry_access_events;
DROP TABLE inquiry_answers;
DROP TABLE inquiries;
ALTER TABLE municipalities DROP COLUMN inquiry_attention_days;
