-- Unit leaders, staff who leave, reassigning the relay at once, and handovers that expire.

-- A handover past its answer-by date is expired. That is computed when it is read (no job); the stored
-- state becomes `expired` only when something needs the case's one pending slot (a new proposal).
ALTER TABLE handovers DROP CONSTRAINT handovers_state_check;
ALTER TABLE handovers ADD CONSTRAINT handovers_state_check
    CHECK (state IN ('pending', 'accepted', 'declined', 'cancelled', 'expired'));

-- Staff who have left the municipality (told by an administrator, or by the HR or identity system through
-- an integration). From `departed_on` their tokens reach nothing: every transaction a staff caller opens
-- asks `stafettlogg_staff_present` in its BEGIN batch (crate::db::Session). Undo deletes the row.
CREATE TABLE staff_departures (
    municipality   TEXT NOT NULL REFERENCES municipalities (number),
    user_id        TEXT NOT NULL CHECK (length(user_id) BETWEEN 1 AND 200),
    departed_on    DATE NOT NULL,
    recorded_by    TEXT NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (municipality, user_id)
);

-- `caller_hex` is the caller's user id in hex: it travels inside the BEGIN batch's SQL text, and hex
-- needs no escaping. Today is Norway's (crate::clock): a departure dated today counts from midnight
-- in Oslo.
CREATE FUNCTION stafettlogg_staff_present(caller_hex TEXT) RETURNS VOID
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF EXISTS (SELECT FROM staff_departures d
               WHERE d.municipality = current_setting('app.municipality', true)
                 AND d.user_id = convert_from(decode(caller_hex, 'hex'), 'UTF8')
                 AND d.departed_on <= (now() AT TIME ZONE 'Europe/Oslo')::date) THEN
        RAISE EXCEPTION 'stafettlogg: the caller has departed' USING ERRCODE = 'insufficient_privilege';
    END IF;
END $$;

-- The relay moved by a leader without the holder's proposal (the holder is away or has left). The
-- timeline shows it to the family; the access event says who did it; the reason is a word, no free text
-- in the access log (the note stays here).
CREATE TABLE holder_reassignments (
    id                   UUID PRIMARY KEY,
    case_id              UUID NOT NULL,
    municipality         TEXT NOT NULL DEFAULT current_setting('app.municipality', true),
    from_participant_id  UUID NOT NULL REFERENCES case_participants (id),
    to_participant_id    UUID NOT NULL REFERENCES case_participants (id),
    to_name              TEXT NOT NULL,
    to_service           TEXT NOT NULL,
    reason               TEXT NOT NULL CHECK (reason IN ('absence', 'left', 'workload', 'other')),
    note                 TEXT CHECK (length(note) BETWEEN 1 AND 5000),
    by_user_id           TEXT NOT NULL,
    by_name              TEXT NOT NULL,
    at                   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (from_participant_id <> to_participant_id),
    FOREIGN KEY (case_id, municipality) REFERENCES cases (id, municipality)
);
CREATE INDEX holder_reassignments_case ON holder_reassignments (case_id, at);

-- A leader reads metadata on the basis of leading the holder's service, and reassigns.
ALTER TABLE access_events DROP CONSTRAINT access_events_basis_check;
ALTER TABLE access_events ADD CONSTRAINT access_events_basis_check
    CHECK (basis IN ('participant', 'holder_service', 'consent', 'guardian', 'subject_youth', 'integration',
                     'handover_recipient', 'leader', 'administration'));
ALTER TABLE access_events DROP CONSTRAINT access_events_action_check;
ALTER TABLE access_events ADD CONSTRAINT access_events_action_check
    CHECK (action IN ('read', 'list', 'create', 'update', 'close', 'export', 'withdraw', 'deactivate',
                      'propose', 'accept', 'decline', 'cancel', 'import', 'reassign'));

-- The service overview finds the open cases held in a service through their holders.
CREATE INDEX case_participants_service_professional ON case_participants (service, id)
    WHERE kind = 'professional';
CREATE INDEX cases_open_holder ON cases (holder_participant_id) WHERE status = 'open';
-- Who did what, by person: whether a departing user id is known to the municipality at all (a leader
-- or an administrator is in no case), and later the right of access and the log's own queries by actor.
CREATE INDEX access_events_actor ON access_events (actor_user_id, id DESC);

GRANT SELECT, INSERT, UPDATE, DELETE ON staff_departures TO stafettlogg_app;
GRANT SELECT, INSERT ON holder_reassignments TO stafettlogg_app;
GRANT EXECUTE ON FUNCTION stafettlogg_staff_present(TEXT) TO stafettlogg_app;

ALTER TABLE staff_departures ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON staff_departures
    USING (municipality = current_setting('app.municipality', true))
    WITH CHECK (municipality = current_setting('app.municipality', true));
ALTER TABLE holder_reassignments ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON holder_reassignments
    USING (municipality = current_setting('app.municipality', true))
    WITH CHECK (municipality = current_setting('app.municipality', true));
