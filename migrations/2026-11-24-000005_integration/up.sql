-- Integration: external references on participants, and the change feed (an outbox written in the same
-- transaction as the change it announces).

CREATE TABLE participant_external_refs (
    municipality   TEXT NOT NULL,
    system         TEXT NOT NULL CHECK (length(system) BETWEEN 1 AND 100),
    ref_id         TEXT NOT NULL CHECK (length(ref_id) BETWEEN 1 AND 200),
    participant_id UUID NOT NULL REFERENCES case_participants (id),
    PRIMARY KEY (municipality, system, ref_id)
);
CREATE INDEX participant_external_refs_participant ON participant_external_refs (participant_id);

-- Sequence numbers are handed out from one counter row, updated in the writing transaction: the row lock
-- is held until commit, so numbers follow commit order and a rolled-back change gives its numbers back.
-- A reader therefore never sees event n+1 before event n.
CREATE TABLE change_counter (
    only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    last_seq BIGINT NOT NULL
);
INSERT INTO change_counter (last_seq) VALUES (0);

CREATE TABLE change_events (
    seq          BIGINT PRIMARY KEY,
    municipality TEXT NOT NULL,
    case_id      UUID NOT NULL REFERENCES cases (id),
    type         TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX change_events_feed ON change_events (municipality, seq);
CREATE TRIGGER change_events_append_only BEFORE UPDATE OR DELETE ON change_events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

ALTER TABLE access_events DROP CONSTRAINT access_events_action_check;
ALTER TABLE access_events ADD CONSTRAINT access_events_action_check
    CHECK (action IN ('read', 'list', 'create', 'update', 'close', 'export', 'withdraw', 'deactivate',
                      'propose', 'accept', 'decline', 'cancel', 'import'));

ALTER TABLE access_events DROP CONSTRAINT access_events_basis_check;
ALTER TABLE access_events ADD CONSTRAINT access_events_basis_check
    CHECK (basis IN ('participant', 'holder_service', 'consent', 'guardian', 'subject_youth', 'integration'));
