-- Handover of the stafettholder role (rule 6). The database itself guarantees: every open case has
-- exactly one holder (cases.holder_participant_id, NOT NULL + FK to an active professional of the case),
-- at most one pending handover per case, and a history of holder periods without overlap or gap.

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE handovers (
    id                     UUID PRIMARY KEY,
    case_id                UUID NOT NULL REFERENCES cases (id),
    from_participant_id    UUID NOT NULL REFERENCES case_participants (id),
    from_user_id           TEXT NOT NULL,
    to_user_id             TEXT NOT NULL CHECK (length(to_user_id) BETWEEN 1 AND 200),
    to_name                TEXT NOT NULL CHECK (length(to_name) BETWEEN 1 AND 200),
    to_service             TEXT NOT NULL,
    reason                 TEXT NOT NULL CHECK (reason IN ('transition', 'change_of_service', 'absence', 'other')),
    note                   TEXT,
    answer_by              DATE,
    previous_holder_leaves BOOLEAN NOT NULL DEFAULT FALSE,
    state                  TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted', 'declined', 'cancelled')),
    proposed_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    answered_at            TIMESTAMPTZ,
    answered_by_user       TEXT,
    answer_reason          TEXT,
    CHECK ((state = 'pending') = (answered_at IS NULL)),
    CHECK (state <> 'declined' OR answer_reason IS NOT NULL)
);
CREATE INDEX handovers_case ON handovers (case_id);
CREATE INDEX handovers_inbox ON handovers (to_user_id) WHERE state = 'pending';
-- At most one pending handover per case.
CREATE UNIQUE INDEX handovers_one_pending ON handovers (case_id) WHERE state = 'pending';

-- Who held the relay when. The open period (upper bound infinite) is the current holder's.
CREATE TABLE holder_periods (
    case_id        UUID NOT NULL REFERENCES cases (id),
    participant_id UUID NOT NULL REFERENCES case_participants (id),
    period         TSTZRANGE NOT NULL CHECK (NOT isempty(period) AND lower(period) IS NOT NULL),
    PRIMARY KEY (case_id, period),
    -- Never two holders at once.
    EXCLUDE USING gist (case_id WITH =, period WITH &&)
);

-- Checked at commit, for every case a transaction touched: the periods join end to start (no gap), and an
-- open case has exactly one open period, held by cases.holder_participant_id.
CREATE FUNCTION check_holder_periods() RETURNS trigger AS $$
DECLARE
    c UUID;
    gaps INTEGER;
    open_periods INTEGER;
    open_holder UUID;
    case_status TEXT;
    case_holder UUID;
BEGIN
    IF TG_TABLE_NAME = 'cases' THEN
        c := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        c := OLD.case_id;
    ELSE
        c := NEW.case_id;
    END IF;
    SELECT count(*) INTO gaps FROM (
        SELECT lower(period) AS lo, lag(upper(period)) OVER (ORDER BY lower(period)) AS prev_hi,
               row_number() OVER (ORDER BY lower(period)) AS n
        FROM holder_periods WHERE case_id = c
    ) p WHERE n > 1 AND prev_hi IS DISTINCT FROM lo;
    IF gaps > 0 THEN
        RAISE EXCEPTION 'holder periods of case % leave a gap', c USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    SELECT status, holder_participant_id INTO case_status, case_holder FROM cases WHERE id = c;
    SELECT count(*), max(participant_id::text)::uuid INTO open_periods, open_holder
        FROM holder_periods WHERE case_id = c AND upper_inf(period);
    IF case_status = 'open' AND (open_periods <> 1 OR open_holder <> case_holder) THEN
        RAISE EXCEPTION 'open case % must have exactly one open holder period, held by its holder', c
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF case_status = 'closed' AND open_periods <> 0 THEN
        RAISE EXCEPTION 'closed case % still has an open holder period', c USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER holder_periods_consistent AFTER INSERT OR UPDATE OR DELETE ON holder_periods
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_holder_periods();
CREATE CONSTRAINT TRIGGER cases_holder_period_consistent AFTER INSERT OR UPDATE OF holder_participant_id, status ON cases
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_holder_periods();
CREATE TRIGGER holder_periods_no_delete BEFORE DELETE ON holder_periods FOR EACH ROW EXECUTE FUNCTION forbid_delete();

-- Cases that exist already get their history: one period from opening (to closing).
INSERT INTO holder_periods (case_id, participant_id, period)
SELECT id, holder_participant_id, tstzrange(opened_at, closed_at, '[)') FROM cases;

ALTER TABLE access_events DROP CONSTRAINT access_events_action_check;
ALTER TABLE access_events ADD CONSTRAINT access_events_action_check
    CHECK (action IN ('read', 'list', 'create', 'update', 'close', 'export', 'withdraw', 'deactivate',
                      'propose', 'accept', 'decline', 'cancel'));
