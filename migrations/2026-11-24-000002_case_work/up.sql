-- The stafettlogg itself: consents, measures and evaluations, level changes, the log.
-- Nothing here is deleted by normal use (rule 10): rows change state, the log only grows.

ALTER TABLE case_participants ADD CONSTRAINT case_participants_kind_fields CHECK (
    (kind <> 'other' OR role IS NOT NULL)
);
-- One subject youth per case.
CREATE UNIQUE INDEX case_participants_one_youth ON case_participants (case_id) WHERE kind = 'youth' AND active;
CREATE INDEX case_participants_national_id_hash ON case_participants (national_id_hash) WHERE national_id_hash IS NOT NULL;
CREATE INDEX case_participants_user ON case_participants (user_id) WHERE kind = 'professional';

CREATE TABLE consents (
    id                 UUID PRIMARY KEY,
    case_id            UUID NOT NULL REFERENCES cases (id),
    purpose            TEXT NOT NULL CHECK (length(purpose) BETWEEN 1 AND 2000),
    valid_from         DATE NOT NULL,
    valid_until        DATE NOT NULL,
    form               TEXT NOT NULL CHECK (form IN ('written', 'oral', 'digital')),
    document_ref       TEXT,
    supersedes         UUID REFERENCES consents (id),
    superseded_by      UUID REFERENCES consents (id),
    superseded_at      TIMESTAMPTZ,
    recorded_by_user   TEXT NOT NULL,
    recorded_by_name   TEXT NOT NULL,
    recorded_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    withdrawn_at       TIMESTAMPTZ,
    withdrawn_by_participant UUID REFERENCES case_participants (id),
    withdrawal_reason  TEXT,
    CHECK (valid_until >= valid_from),
    CHECK ((withdrawn_at IS NULL) = (withdrawal_reason IS NULL)),
    CHECK ((superseded_by IS NULL) = (superseded_at IS NULL)),
    UNIQUE (id, case_id)
);
CREATE INDEX consents_case ON consents (case_id);
-- A consent is replaced by at most one other.
CREATE UNIQUE INDEX consents_supersedes_once ON consents (supersedes) WHERE supersedes IS NOT NULL;

CREATE TABLE consent_givers (
    consent_id     UUID NOT NULL REFERENCES consents (id),
    participant_id UUID NOT NULL REFERENCES case_participants (id),
    PRIMARY KEY (consent_id, participant_id)
);

CREATE TABLE consent_services (
    consent_id UUID NOT NULL REFERENCES consents (id),
    service    TEXT NOT NULL,
    PRIMARY KEY (consent_id, service)
);

CREATE TABLE measures (
    id                  UUID PRIMARY KEY,
    case_id             UUID NOT NULL REFERENCES cases (id),
    title               TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    goal                TEXT NOT NULL CHECK (length(goal) BETWEEN 1 AND 5000),
    description         TEXT,
    responsible_kind    TEXT NOT NULL CHECK (responsible_kind IN ('service', 'participant', 'subject')),
    responsible_service TEXT,
    responsible_participant_id UUID REFERENCES case_participants (id),
    start_date          DATE NOT NULL,
    evaluate_by         DATE NOT NULL,
    state               TEXT NOT NULL DEFAULT 'planned' CHECK (state IN ('planned', 'active', 'completed', 'stopped')),
    created_by_user     TEXT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    version             INTEGER NOT NULL DEFAULT 1,
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Rule 7: exactly one responsible party.
    CHECK (
        (responsible_kind = 'service' AND responsible_service IS NOT NULL AND responsible_participant_id IS NULL) OR
        (responsible_kind = 'participant' AND responsible_participant_id IS NOT NULL AND responsible_service IS NULL) OR
        (responsible_kind = 'subject' AND responsible_service IS NULL AND responsible_participant_id IS NULL)
    ),
    CHECK (evaluate_by >= start_date),
    UNIQUE (id, case_id)
);
SELECT diesel_manage_updated_at('measures');
CREATE INDEX measures_case ON measures (case_id);
CREATE INDEX measures_due ON measures (evaluate_by) WHERE state IN ('planned', 'active');

CREATE TABLE evaluations (
    id               UUID PRIMARY KEY,
    measure_id       UUID NOT NULL,
    case_id          UUID NOT NULL,
    evaluated_on     DATE NOT NULL,
    evaluated_by_participant UUID NOT NULL REFERENCES case_participants (id),
    evaluated_by_name TEXT NOT NULL,
    assessment       TEXT NOT NULL CHECK (length(assessment) BETWEEN 1 AND 20000),
    child_view       TEXT,
    outcome          TEXT NOT NULL CHECK (outcome IN ('continue', 'adjust', 'stop', 'completed')),
    next_evaluate_by DATE,
    recorded_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((outcome IN ('continue', 'adjust')) = (next_evaluate_by IS NOT NULL)),
    FOREIGN KEY (measure_id, case_id) REFERENCES measures (id, case_id)
);
CREATE INDEX evaluations_measure ON evaluations (measure_id);
CREATE INDEX evaluations_case ON evaluations (case_id);

CREATE TABLE level_changes (
    id            UUID PRIMARY KEY,
    case_id       UUID NOT NULL REFERENCES cases (id),
    from_level    SMALLINT NOT NULL CHECK (from_level BETWEEN 0 AND 3),
    to_level      SMALLINT NOT NULL CHECK (to_level BETWEEN 0 AND 3),
    reason        TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 5000),
    decided_on    DATE NOT NULL,
    recorded_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    recorded_by_participant UUID NOT NULL REFERENCES case_participants (id),
    recorded_by_name TEXT NOT NULL,
    CHECK (from_level <> to_level)
);
CREATE INDEX level_changes_case ON level_changes (case_id);

CREATE TABLE log_entries (
    id            UUID PRIMARY KEY,
    case_id       UUID NOT NULL REFERENCES cases (id),
    kind          TEXT NOT NULL CHECK (kind IN ('note', 'meeting', 'conversation', 'lysglimt', 'decision')),
    occurred_at   TIMESTAMPTZ NOT NULL,
    title         TEXT,
    body          TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 50000),
    attendees     UUID[] NOT NULL DEFAULT '{}',
    decisions     TEXT,
    next_meeting  TIMESTAMPTZ,
    corrects      UUID,
    author_participant_id UUID NOT NULL REFERENCES case_participants (id),
    author_name   TEXT NOT NULL,
    recorded_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (id, case_id),
    -- A correction points at an entry of the same case.
    FOREIGN KEY (corrects, case_id) REFERENCES log_entries (id, case_id)
);
CREATE INDEX log_entries_case ON log_entries (case_id, id DESC);
-- An entry is corrected once; a later correction corrects the correction.
CREATE UNIQUE INDEX log_entries_corrected_once ON log_entries (corrects) WHERE corrects IS NOT NULL;

-- Rule 10: the log is append-only, for every caller and every code path.
CREATE TRIGGER log_entries_append_only BEFORE UPDATE OR DELETE ON log_entries
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER evaluations_append_only BEFORE UPDATE OR DELETE ON evaluations
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER level_changes_append_only BEFORE UPDATE OR DELETE ON level_changes
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
-- Participants and consents change state; they are never deleted.
CREATE FUNCTION forbid_delete() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% rows are never deleted', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER case_participants_no_delete BEFORE DELETE ON case_participants FOR EACH ROW EXECUTE FUNCTION forbid_delete();
CREATE TRIGGER consents_no_delete BEFORE DELETE ON consents FOR EACH ROW EXECUTE FUNCTION forbid_delete();
CREATE TRIGGER cases_no_delete BEFORE DELETE ON cases FOR EACH ROW EXECUTE FUNCTION forbid_delete();
CREATE TRIGGER measures_no_delete BEFORE DELETE ON measures FOR EACH ROW EXECUTE FUNCTION forbid_delete();

-- Access events now cover every kind of case data.
ALTER TABLE access_events DROP CONSTRAINT access_events_action_check;
ALTER TABLE access_events ADD CONSTRAINT access_events_action_check
    CHECK (action IN ('read', 'list', 'create', 'update', 'close', 'export', 'withdraw', 'deactivate'));

-- "On which basis" a caller reached the case (rule 9's access log shows it to the family).
ALTER TABLE access_events ADD COLUMN basis TEXT NOT NULL DEFAULT 'participant'
    CHECK (basis IN ('participant', 'holder_service', 'consent', 'guardian', 'subject_youth'));
