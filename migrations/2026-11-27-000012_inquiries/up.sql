-- Inquiries: the family's own way in. A guardian or youth signed in through a national
-- login asks a service for help; the service answers, closes it, or opens a level-0 case from it.
-- Invariants that must never break are constraints here, so no code path can break them.

-- How long an inquiry may wait before it shows in the attention of the service's professionals.
ALTER TABLE municipalities ADD COLUMN inquiry_attention_days INTEGER NOT NULL DEFAULT 5
    CHECK (inquiry_attention_days BETWEEN 1 AND 90);

CREATE TABLE inquiries (
    id                     UUID PRIMARY KEY,
    municipality           TEXT NOT NULL REFERENCES municipalities (number),
    service                TEXT NOT NULL,
    about                  TEXT NOT NULL CHECK (about IN ('own_child', 'other_child', 'myself', 'pregnancy')),
    wants                  TEXT NOT NULL CHECK (wants IN ('conversation', 'advice')),
    status                 TEXT NOT NULL DEFAULT 'open'
                               CHECK (status IN ('open', 'answered', 'case_opened', 'closed')),
    -- Who asked: their national login (the number encrypted, plus the keyed hash that finds their
    -- inquiries), so a case opened from it can name them as a guardian the login recognises.
    inquirer_user_id       TEXT NOT NULL,
    inquirer_name          TEXT NOT NULL,
    inquirer_role          TEXT NOT NULL CHECK (inquirer_role IN ('guardian', 'youth')),
    inquirer_pid_enc       BYTEA NOT NULL,
    inquirer_pid_hash      BYTEA NOT NULL,
    child_given_name       TEXT,
    child_birth_date       DATE,
    child_national_id_enc  BYTEA,
    child_national_id_hash BYTEA,
    -- NULL only once erased (data minimisation, see erased_at).
    message                TEXT,
    contact_phone          TEXT,
    contact_email          TEXT,
    case_id                UUID,
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    closed_at              TIMESTAMPTZ,
    erased_at              TIMESTAMPTZ,
    version                INTEGER NOT NULL DEFAULT 1,
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (id, municipality),
    FOREIGN KEY (municipality, service) REFERENCES services (municipality, code),
    FOREIGN KEY (case_id, municipality) REFERENCES cases (id, municipality),
    CHECK ((child_national_id_enc IS NULL) = (child_national_id_hash IS NULL)),
    -- Another family's child is never identified by number; only one's own child may be.
    CHECK (about = 'own_child' OR child_national_id_enc IS NULL),
    -- A case was opened exactly when the inquiry says so, and then it names the case.
    CHECK ((status = 'case_opened') = (case_id IS NOT NULL)),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL)),
    CHECK (message IS NOT NULL OR erased_at IS NOT NULL),
    -- Only a closed inquiry about another family's child is erased, and then all of its text is gone.
    CHECK (erased_at IS NULL OR (about = 'other_child' AND status = 'closed' AND message IS NULL
        AND child_given_name IS NULL AND child_birth_date IS NULL AND contact_phone IS NULL
        AND contact_email IS NULL))
);
SELECT diesel_manage_updated_at('inquiries');
-- The service's inbox, newest first (UUIDv7 ids sort by creation time).
CREATE INDEX inquiries_inbox ON inquiries (municipality, service, id DESC);
-- The inquirer's own list.
CREATE INDEX inquiries_inquirer ON inquiries (municipality, inquirer_pid_hash, id DESC);
-- What the erasure looks for, across municipalities.
CREATE INDEX inquiries_to_erase ON inquiries (closed_at)
    WHERE about = 'other_child' AND status = 'closed' AND erased_at IS NULL;

CREATE TABLE inquiry_answers (
    id           UUID PRIMARY KEY,
    inquiry_id   UUID NOT NULL,
    municipality TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    by_user_id   TEXT NOT NULL,
    by_name      TEXT NOT NULL,
    -- NULL only once the inquiry's text was erased.
    message      TEXT,
    FOREIGN KEY (inquiry_id, municipality) REFERENCES inquiries (id, municipality)
);
CREATE INDEX inquiry_answers_inquiry ON inquiry_answers (inquiry_id, id);

-- Every read of an inquiry leaves a row here (rule 9 for inquiries). A table of its own rather than a
-- nullable case id in access_events: the family's access log of a case stays exactly what it was, and an
-- inquiry's trace cannot be mistaken for a case's.
CREATE TABLE inquiry_access_events (
    id            BIGSERIAL PRIMARY KEY,
    municipality  TEXT NOT NULL,
    inquiry_id    UUID NOT NULL,
    actor_user_id TEXT NOT NULL,
    actor_name    TEXT NOT NULL,
    actor_role    TEXT NOT NULL,
    action        TEXT NOT NULL CHECK (action IN ('read', 'list', 'create', 'answer', 'close',
                      'open_case', 'erase')),
    request_id    TEXT NOT NULL,
    at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (inquiry_id, municipality) REFERENCES inquiries (id, municipality)
);
CREATE INDEX inquiry_access_events_inquiry ON inquiry_access_events (inquiry_id, id DESC);
CREATE TRIGGER inquiry_access_events_append_only BEFORE UPDATE OR DELETE ON inquiry_access_events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- A guardian who joins a case from their own inquiry says they are the child's parent; whether they have
-- parental responsibility is for the stafettholder to confirm. NULL now means "not confirmed yet": such a
-- guardian cannot give consent, and counts as a required giver (so no consent is effective) until the
-- holder confirms it either way.
DO $$
DECLARE c TEXT;
BEGIN
    SELECT conname INTO c FROM pg_constraint
     WHERE conrelid = 'case_participants'::regclass AND contype = 'c'
       AND pg_get_constraintdef(oid) LIKE '%parental_responsibility IS NOT NULL%';
    EXECUTE format('ALTER TABLE case_participants DROP CONSTRAINT %I', c);
END $$;
ALTER TABLE case_participants ADD CONSTRAINT case_participants_guardian_relation
    CHECK (kind <> 'guardian' OR relation IS NOT NULL);

-- The service may read and write inquiries, add answers and access events; erasing is done by the
-- `erase-inquiries` command as the owner (it spans municipalities), so the service never updates answers.
GRANT SELECT, INSERT, UPDATE ON inquiries TO stafettlogg_app;
GRANT SELECT, INSERT ON inquiry_answers, inquiry_access_events TO stafettlogg_app;
GRANT USAGE ON SEQUENCE inquiry_access_events_id_seq TO stafettlogg_app;

ALTER TABLE inquiries ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON inquiries
    USING (municipality = current_setting('app.municipality', true))
    WITH CHECK (municipality = current_setting('app.municipality', true));

ALTER TABLE inquiry_answers ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON inquiry_answers
    USING (municipality = current_setting('app.municipality', true))
    WITH CHECK (municipality = current_setting('app.municipality', true));

ALTER TABLE inquiry_access_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON inquiry_access_events
    USING (municipality = current_setting('app.municipality', true))
    WITH CHECK (municipality = current_setting('app.municipality', true));
