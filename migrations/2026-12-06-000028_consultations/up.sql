-- Anonymous consultation (anonym drøfting): an employee asks another service about a worry before
-- anything is recorded about a child. No case, no person: a question from one service to another, an
-- optional age group, and the answers of the asked service. Erased whole 90 days after the last answer
-- (or the question, if none came) by the daily `stafettlogg erase-inquiries`.
CREATE TABLE consultations (
    id             UUID PRIMARY KEY,
    municipality   TEXT NOT NULL,
    from_service   TEXT NOT NULL CHECK (length(from_service) BETWEEN 1 AND 64),
    asked_by       TEXT NOT NULL CHECK (length(asked_by) BETWEEN 1 AND 200),
    to_service     TEXT NOT NULL CHECK (length(to_service) BETWEEN 1 AND 64),
    question       TEXT NOT NULL CHECK (length(question) BETWEEN 1 AND 5000),
    age_group      TEXT CHECK (age_group IN ('pregnancy', '0-5', '6-12', '13-15', '16-18')),
    asked_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_answer_at TIMESTAMPTZ,
    UNIQUE (id, municipality)
);
CREATE INDEX consultations_to ON consultations (municipality, to_service, asked_at DESC);
CREATE INDEX consultations_by ON consultations (municipality, asked_by, asked_at DESC);
CREATE INDEX consultations_due ON consultations ((coalesce(last_answer_at, asked_at)));

CREATE TABLE consultation_answers (
    id              UUID PRIMARY KEY,
    consultation_id UUID NOT NULL,
    municipality    TEXT NOT NULL,
    answered_by     TEXT NOT NULL CHECK (length(answered_by) BETWEEN 1 AND 200),
    text            TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 5000),
    answered_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (consultation_id, municipality) REFERENCES consultations (id, municipality) ON DELETE CASCADE
);
CREATE INDEX consultation_answers_of ON consultation_answers (consultation_id, answered_at);

GRANT SELECT, INSERT, UPDATE ON consultations, consultation_answers TO stafettlogg_app;
DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['consultations', 'consultation_answers']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY one_municipality ON %I
                            USING (municipality = current_setting(''app.municipality'', true))
                            WITH CHECK (municipality = current_setting(''app.municipality'', true))', t);
    END LOOP;
END $$;
