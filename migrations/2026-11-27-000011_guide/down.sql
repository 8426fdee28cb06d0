DROP TABLE case_step_moves;
ALTER TABLE cases DROP CONSTRAINT cases_guide_step_whole,
    DROP COLUMN guide_version, DROP COLUMN guide_step_key, DROP COLUMN guide_step_title,
    DROP COLUMN guide_next_key, DROP COLUMN guide_next_title;
ALTER TABLE services DROP COLUMN contact_phone, DROP COLUMN contact_email, DROP COLUMN contact_address,
    DROP COLUMN contact_web;
DROP TABLE guide_versions;
DROP TABLE guide_drafts;
