-- The action guide: a municipality's handlingsveileder as data. An admin edits one draft and
-- publishes it as an immutable numbered version; the public reads the newest version; each case remembers
-- the step it stands on, copied onto its row, so reading a case costs no extra query and a step a newer
-- version removed still reads as it was.

-- The working copy, one per municipality. `version` is its ETag (If-Match on every change once it exists).
CREATE TABLE guide_drafts (
    municipality TEXT PRIMARY KEY REFERENCES municipalities (number),
    document     JSONB NOT NULL CHECK (jsonb_typeof(document) = 'object'),
    version      INT NOT NULL DEFAULT 1 CHECK (version >= 1),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by   TEXT NOT NULL
);

-- Published versions, numbered from 1 per municipality (0 is the project's default guide, never stored).
-- Immutable: cases and old links refer to them by number.
CREATE TABLE guide_versions (
    municipality TEXT NOT NULL REFERENCES municipalities (number),
    number       INT NOT NULL CHECK (number >= 1),
    document     JSONB NOT NULL CHECK (jsonb_typeof(document) = 'object'),
    published_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_by TEXT NOT NULL,
    PRIMARY KEY (municipality, number)
);
CREATE TRIGGER guide_versions_immutable BEFORE UPDATE OR DELETE ON guide_versions
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- Whom to contact: shown on the public guide next to the service.
ALTER TABLE services
    ADD COLUMN contact_phone   TEXT CHECK (length(contact_phone) BETWEEN 1 AND 40),
    ADD COLUMN contact_email   TEXT CHECK (length(contact_email) BETWEEN 3 AND 254),
    ADD COLUMN contact_address TEXT CHECK (length(contact_address) BETWEEN 1 AND 500),
    ADD COLUMN contact_web     TEXT CHECK (length(contact_web) BETWEEN 1 AND 2000);

-- The step a case stands on: the guide version it was taken from, the step's key and title as they were
-- then, and the step after it in that version (what the case answer shows as "what now").
ALTER TABLE cases
    ADD COLUMN guide_version    INT CHECK (guide_version >= 0),
    ADD COLUMN guide_step_key   TEXT CHECK (length(guide_step_key) BETWEEN 1 AND 20),
    ADD COLUMN guide_step_title TEXT CHECK (length(guide_step_title) BETWEEN 1 AND 300),
    ADD COLUMN guide_next_key   TEXT CHECK (length(guide_next_key) BETWEEN 1 AND 20),
    ADD COLUMN guide_next_title TEXT CHECK (length(guide_next_title) BETWEEN 1 AND 300),
    ADD CONSTRAINT cases_guide_step_whole CHECK (
        (guide_version IS NULL) = (guide_step_key IS NULL)
        AND (guide_step_key IS NULL) = (guide_step_title IS NULL)
        AND (guide_next_key IS NULL) = (guide_next_title IS NULL)
        AND (guide_next_key IS NULL OR guide_step_key IS NOT NULL));

-- Cases opened before the guide existed stand on the first step of their level in the default guide
-- (src/guide/default_guide.json; a unit test holds these keys and titles to it). Filling a new column is
-- no change to a case: `updated_at` (its ETag's source) stays as it was.
ALTER TABLE cases DISABLE TRIGGER set_updated_at;
UPDATE cases SET guide_version = 0,
    guide_step_key = s.key, guide_step_title = s.title, guide_next_key = s.next_key, guide_next_title = s.next_title
FROM (VALUES
    (0::smallint, '0.1', 'Legg merke til undringen', '0.2', 'Drøft med en kollega eller leder'),
    (1::smallint, '1.1', 'Utnevn stafettholder og lag en plan', '1.2', 'Gjennomfør tiltakene sammen med familien'),
    (2::smallint, '2.1', 'Samtykke til samarbeid', '2.2', 'Stafettmøte med den andre tjenesten'),
    (3::smallint, '3.1', 'Samtykke og koordinering', '3.2', 'Bred tverrfaglig samarbeidsgruppe')
) AS s (level, key, title, next_key, next_title)
WHERE cases.level = s.level AND cases.guide_version IS NULL;
ALTER TABLE cases ENABLE TRIGGER set_updated_at;

-- The history of step moves: the timeline and the change feed show them. Append-only like level changes.
CREATE TABLE case_step_moves (
    id            UUID PRIMARY KEY,
    case_id       UUID NOT NULL REFERENCES cases (id),
    guide_version INT NOT NULL CHECK (guide_version >= 0),
    level         SMALLINT NOT NULL CHECK (level BETWEEN 0 AND 3),
    step_key      TEXT NOT NULL CHECK (length(step_key) BETWEEN 1 AND 20),
    step_title    TEXT NOT NULL CHECK (length(step_title) BETWEEN 1 AND 300),
    note          TEXT CHECK (length(note) BETWEEN 1 AND 5000),
    recorded_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    recorded_by_participant UUID NOT NULL REFERENCES case_participants (id),
    recorded_by_name TEXT NOT NULL
);
CREATE INDEX case_step_moves_case ON case_step_moves (case_id);
CREATE TRIGGER case_step_moves_append_only BEFORE UPDATE OR DELETE ON case_step_moves
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- What the service does with them: drafts change, versions and moves are only ever added.
GRANT SELECT, INSERT, UPDATE ON guide_drafts TO stafettlogg_app;
GRANT SELECT, INSERT ON guide_versions, case_step_moves TO stafettlogg_app;

-- Row-level security as in 2026-11-26-000008: the guide tables carry their municipality (the public
-- endpoint names it from its path for its transaction); step moves reach theirs through the case.
ALTER TABLE guide_drafts ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON guide_drafts
    USING (municipality = current_setting('app.municipality', true))
    WITH CHECK (municipality = current_setting('app.municipality', true));

ALTER TABLE guide_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON guide_versions
    USING (municipality = current_setting('app.municipality', true))
    WITH CHECK (municipality = current_setting('app.municipality', true));

ALTER TABLE case_step_moves ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON case_step_moves
    USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = case_step_moves.case_id
                   AND c.municipality = current_setting('app.municipality', true)))
    WITH CHECK (EXISTS (SELECT 1 FROM cases c WHERE c.id = case_step_moves.case_id
                        AND c.municipality = current_setting('app.municipality', true)));
