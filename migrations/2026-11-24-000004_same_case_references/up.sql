-- Every reference from case data to a participant points at a participant of the same case, as a
-- constraint and not only as a check in the handlers.
ALTER TABLE case_participants ADD CONSTRAINT case_participants_id_case UNIQUE (id, case_id);

ALTER TABLE measures ADD CONSTRAINT measures_responsible_in_case
    FOREIGN KEY (responsible_participant_id, case_id) REFERENCES case_participants (id, case_id);
ALTER TABLE evaluations ADD CONSTRAINT evaluations_evaluator_in_case
    FOREIGN KEY (evaluated_by_participant, case_id) REFERENCES case_participants (id, case_id);
ALTER TABLE level_changes ADD CONSTRAINT level_changes_recorder_in_case
    FOREIGN KEY (recorded_by_participant, case_id) REFERENCES case_participants (id, case_id);
ALTER TABLE log_entries ADD CONSTRAINT log_entries_author_in_case
    FOREIGN KEY (author_participant_id, case_id) REFERENCES case_participants (id, case_id);
ALTER TABLE consents ADD CONSTRAINT consents_withdrawn_by_in_case
    FOREIGN KEY (withdrawn_by_participant, case_id) REFERENCES case_participants (id, case_id);
ALTER TABLE handovers ADD CONSTRAINT handovers_from_in_case
    FOREIGN KEY (from_participant_id, case_id) REFERENCES case_participants (id, case_id);
ALTER TABLE holder_periods ADD CONSTRAINT holder_periods_holder_in_case
    FOREIGN KEY (participant_id, case_id) REFERENCES case_participants (id, case_id);

-- Consent givers carry their case too, so the same holds for them.
ALTER TABLE consent_givers ADD COLUMN case_id UUID;
UPDATE consent_givers g SET case_id = c.case_id FROM consents c WHERE c.id = g.consent_id;
ALTER TABLE consent_givers ALTER COLUMN case_id SET NOT NULL;
ALTER TABLE consent_givers ADD CONSTRAINT consent_givers_consent_in_case
    FOREIGN KEY (consent_id, case_id) REFERENCES consents (id, case_id);
ALTER TABLE consent_givers ADD CONSTRAINT consent_givers_giver_in_case
    FOREIGN KEY (participant_id, case_id) REFERENCES case_participants (id, case_id);
