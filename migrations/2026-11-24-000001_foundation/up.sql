-- The foundation: municipalities (tenants), their services and level definitions, cases with their
-- professional participants, external references, and the access log.
-- Invariants that must never break are constraints here, so no code path can break them.

CREATE TABLE municipalities (
    number                  TEXT PRIMARY KEY CHECK (number ~ '^[0-9]{4}$'),
    name                    TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    self_consent_age        SMALLINT NOT NULL DEFAULT 15 CHECK (self_consent_age BETWEEN 15 AND 16),
    level0_deadline_days    INTEGER NOT NULL DEFAULT 14 CHECK (level0_deadline_days BETWEEN 1 AND 365),
    consent_validity_months INTEGER NOT NULL DEFAULT 12 CHECK (consent_validity_months BETWEEN 1 AND 120),
    version                 INTEGER NOT NULL DEFAULT 1,
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now()
);
SELECT diesel_manage_updated_at('municipalities');

CREATE TABLE services (
    id           UUID PRIMARY KEY,
    municipality TEXT NOT NULL REFERENCES municipalities (number),
    code         TEXT NOT NULL CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind         TEXT NOT NULL CHECK (kind IN ('helsestasjon', 'barnehage', 'skole', 'skolehelsetjeneste',
                     'ppt', 'barnevern', 'bup', 'fastlege', 'nav', 'familiesenter', 'psykisk_helse_rus',
                     'koordinerende_enhet', 'other')),
    org_number   TEXT CHECK (org_number ~ '^[0-9]{9}$'),
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    version      INTEGER NOT NULL DEFAULT 1,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (municipality, code)
);
SELECT diesel_manage_updated_at('services');

CREATE TABLE level_definitions (
    municipality TEXT NOT NULL REFERENCES municipalities (number),
    level        SMALLINT NOT NULL CHECK (level BETWEEN 0 AND 3),
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description  TEXT NOT NULL DEFAULT '',
    guidance     TEXT NOT NULL DEFAULT '',
    version      INTEGER NOT NULL DEFAULT 1,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (municipality, level)
);
SELECT diesel_manage_updated_at('level_definitions');

CREATE TABLE cases (
    id                    UUID PRIMARY KEY,
    municipality          TEXT NOT NULL REFERENCES municipalities (number),
    subject_kind          TEXT NOT NULL CHECK (subject_kind IN ('child', 'youth', 'pregnant', 'family')),
    subject_given_name    TEXT NOT NULL,
    subject_family_name   TEXT NOT NULL,
    subject_birth_date    DATE,
    -- The national identity number is never stored in clear: AES-256-GCM ciphertext plus a keyed hash for lookup.
    subject_national_id_enc  BYTEA,
    subject_national_id_hash BYTEA,
    concern               TEXT NOT NULL,
    status                TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    level                 SMALLINT NOT NULL DEFAULT 0 CHECK (level BETWEEN 0 AND 3),
    opened_in_service     TEXT NOT NULL,
    holder_participant_id UUID NOT NULL,
    decision_due          DATE,
    opened_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    opened_by             TEXT NOT NULL,
    closed_at             TIMESTAMPTZ,
    close_reason          TEXT CHECK (close_reason IN ('goal_reached', 'no_need', 'guardians_ended',
                              'consent_withdrawn', 'consent_expired', 'moved_to_individual_plan',
                              'moved_away', 'other')),
    close_note            TEXT,
    version               INTEGER NOT NULL DEFAULT 1,
    updated_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Only while the case is open must the holder be an active professional participant of this very case
    -- (rule 6); NULL on a closed case switches the composite foreign key below off (MATCH SIMPLE).
    holder_must_be_active BOOLEAN GENERATED ALWAYS AS (CASE WHEN status = 'open' THEN TRUE END) STORED,
    CHECK ((status = 'open') = (closed_at IS NULL)),
    CHECK ((status = 'open') = (close_reason IS NULL)),
    CHECK ((subject_national_id_enc IS NULL) = (subject_national_id_hash IS NULL)),
    UNIQUE (id, municipality),
    FOREIGN KEY (municipality, opened_in_service) REFERENCES services (municipality, code)
);
SELECT diesel_manage_updated_at('cases');
CREATE INDEX cases_municipality_id ON cases (municipality, id DESC);
CREATE INDEX cases_national_id_hash ON cases (municipality, subject_national_id_hash)
    WHERE subject_national_id_hash IS NOT NULL;

CREATE TABLE case_participants (
    id                     UUID PRIMARY KEY,
    case_id                UUID NOT NULL REFERENCES cases (id),
    kind                   TEXT NOT NULL CHECK (kind IN ('professional', 'guardian', 'youth', 'other')),
    name                   TEXT NOT NULL,
    user_id                TEXT,
    service                TEXT,
    title                  TEXT,
    relation               TEXT CHECK (relation IN ('mother', 'father', 'foster_parent', 'other')),
    parental_responsibility BOOLEAN,
    national_id_enc        BYTEA,
    national_id_hash       BYTEA,
    email                  TEXT,
    phone                  TEXT,
    role                   TEXT,
    active                 BOOLEAN NOT NULL DEFAULT TRUE,
    joined_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    left_at                TIMESTAMPTZ,
    version                INTEGER NOT NULL DEFAULT 1,
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    can_hold               BOOLEAN GENERATED ALWAYS AS (kind = 'professional' AND active) STORED,
    CHECK (kind <> 'professional' OR (user_id IS NOT NULL AND service IS NOT NULL)),
    CHECK (kind <> 'guardian' OR (relation IS NOT NULL AND parental_responsibility IS NOT NULL)),
    CHECK (active = (left_at IS NULL)),
    CHECK ((national_id_enc IS NULL) = (national_id_hash IS NULL)),
    UNIQUE (id, case_id, can_hold)
);
SELECT diesel_manage_updated_at('case_participants');
CREATE INDEX case_participants_case ON case_participants (case_id);
-- One active participation per professional per case; the visibility query walks this index.
CREATE UNIQUE INDEX case_participants_active_professional
    ON case_participants (user_id, case_id) WHERE kind = 'professional' AND active;

-- The holder is an active professional participant of the same case, checked at commit so a case and its
-- first participant can be inserted in one transaction.
ALTER TABLE cases ADD CONSTRAINT cases_holder_is_active_professional
    FOREIGN KEY (holder_participant_id, id, holder_must_be_active)
    REFERENCES case_participants (id, case_id, can_hold)
    DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE case_external_refs (
    municipality TEXT NOT NULL,
    system       TEXT NOT NULL CHECK (length(system) BETWEEN 1 AND 100),
    ref_id       TEXT NOT NULL CHECK (length(ref_id) BETWEEN 1 AND 200),
    case_id      UUID NOT NULL,
    PRIMARY KEY (municipality, system, ref_id),
    FOREIGN KEY (case_id, municipality) REFERENCES cases (id, municipality)
);
CREATE INDEX case_external_refs_case ON case_external_refs (case_id);

-- Rule 9: every read and change of case data leaves a row here. Append-only by design.
CREATE TABLE access_events (
    id           BIGSERIAL PRIMARY KEY,
    municipality TEXT NOT NULL,
    case_id      UUID NOT NULL,
    actor_user_id TEXT NOT NULL,
    actor_name   TEXT NOT NULL,
    actor_role   TEXT NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ('read', 'list', 'create', 'update', 'close', 'export')),
    resource     TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (case_id, municipality) REFERENCES cases (id, municipality)
);
CREATE INDEX access_events_case_at ON access_events (case_id, id DESC);

CREATE FUNCTION forbid_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER access_events_append_only BEFORE UPDATE OR DELETE ON access_events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
