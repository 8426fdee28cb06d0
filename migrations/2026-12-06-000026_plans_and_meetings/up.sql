-- Plans beside the log (rule 13) and meetings with the family. Both are rows of a case: they carry the
-- case's municipality (filled from the transaction's setting, tied to the case by a foreign key) and the
-- same row-level security as the case's other rows.

-- An individual plan (ip), an individual education plan (iop), an individual development plan (iup) or a
-- school's activity plan for a pupil's school environment (aktivitetsplan). What the law ties to the kind
-- is held here too, so no writer can break it: an ip in force has a coordinator (a draft may end unused
-- without one), a plan ends with a reason, and a case has at most one unfinished plan of each kind (one ip for one child).
CREATE TABLE plans (
    id                         UUID PRIMARY KEY,
    municipality               TEXT NOT NULL DEFAULT current_setting('app.municipality', true),
    case_id                    UUID NOT NULL,
    kind                       TEXT NOT NULL CHECK (kind IN ('ip', 'iop', 'iup', 'aktivitetsplan')),
    owner_service              TEXT NOT NULL CHECK (length(owner_service) BETWEEN 1 AND 50),
    coordinator_participant_id UUID,
    state                      TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'active', 'ended')),
    starts_on                  DATE NOT NULL,
    ends_on                    DATE,
    goals                      TEXT[] NOT NULL DEFAULT '{}' CHECK (cardinality(goals) <= 50),
    end_reason                 TEXT CHECK (length(end_reason) BETWEEN 1 AND 2000),
    created_by_user            TEXT NOT NULL,
    created_at                 TIMESTAMPTZ NOT NULL DEFAULT now(),
    activated_at               TIMESTAMPTZ,
    ended_at                   TIMESTAMPTZ,
    version                    INTEGER NOT NULL DEFAULT 1,
    updated_at                 TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT plans_case_municipality FOREIGN KEY (case_id, municipality) REFERENCES cases (id, municipality),
    FOREIGN KEY (coordinator_participant_id, case_id) REFERENCES case_participants (id, case_id),
    UNIQUE (id, case_id),
    CHECK (ends_on IS NULL OR ends_on >= starts_on),
    -- helse- og omsorgstjenesteloven § 7-2: an individual plan has a coordinator.
    CONSTRAINT plans_ip_has_coordinator CHECK (kind <> 'ip' OR state <> 'active' OR coordinator_participant_id IS NOT NULL),
    CHECK (state <> 'active' OR activated_at IS NOT NULL),
    CHECK ((state = 'ended') = (ended_at IS NOT NULL)),
    CHECK ((state = 'ended') = (end_reason IS NOT NULL))
);
SELECT diesel_manage_updated_at('plans');
CREATE INDEX plans_case ON plans (case_id);
CREATE UNIQUE INDEX plans_one_unfinished_of_a_kind ON plans (case_id, kind) WHERE state <> 'ended';

-- The ansvarsgruppe: participants of the case who work on the plan, each with an optional role.
CREATE TABLE plan_members (
    plan_id        UUID NOT NULL,
    municipality   TEXT NOT NULL DEFAULT current_setting('app.municipality', true),
    case_id        UUID NOT NULL,
    participant_id UUID NOT NULL,
    role           TEXT CHECK (length(role) BETWEEN 1 AND 100),
    added_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, participant_id),
    FOREIGN KEY (plan_id, case_id) REFERENCES plans (id, case_id),
    FOREIGN KEY (participant_id, case_id) REFERENCES case_participants (id, case_id),
    CONSTRAINT plan_members_case_municipality FOREIGN KEY (case_id, municipality) REFERENCES cases (id, municipality)
);

-- A measure may belong to a plan of its own case.
ALTER TABLE measures ADD COLUMN plan_id UUID,
    ADD CONSTRAINT measures_plan_same_case FOREIGN KEY (plan_id, case_id) REFERENCES plans (id, case_id);
CREATE INDEX measures_plan ON measures (plan_id) WHERE plan_id IS NOT NULL;

-- A meeting with the family, planned ahead. Its minutes are a `meeting` entry of the log; `sequence` is
-- what calendars compare (RFC 5545 SEQUENCE): it moves when the time, the place or the state does.
CREATE TABLE meetings (
    id               UUID PRIMARY KEY,
    municipality     TEXT NOT NULL DEFAULT current_setting('app.municipality', true),
    case_id          UUID NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('samarbeidsmote', 'ansvarsgruppe', 'evaluering', 'other')),
    starts_at        TIMESTAMPTZ NOT NULL,
    ends_at          TIMESTAMPTZ NOT NULL,
    place            TEXT CHECK (length(place) BETWEEN 1 AND 200),
    agenda           TEXT CHECK (length(agenda) BETWEEN 1 AND 5000),
    state            TEXT NOT NULL DEFAULT 'planned' CHECK (state IN ('planned', 'held', 'cancelled')),
    minutes_entry_id UUID,
    cancel_reason    TEXT CHECK (length(cancel_reason) BETWEEN 1 AND 2000),
    created_by_user  TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    cancelled_at     TIMESTAMPTZ,
    sequence         INTEGER NOT NULL DEFAULT 0 CHECK (sequence >= 0),
    version          INTEGER NOT NULL DEFAULT 1,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT meetings_case_municipality FOREIGN KEY (case_id, municipality) REFERENCES cases (id, municipality),
    -- The minutes are an entry of the meeting's own case.
    FOREIGN KEY (minutes_entry_id, case_id) REFERENCES log_entries (id, case_id),
    UNIQUE (id, case_id),
    CHECK (ends_at > starts_at AND ends_at <= starts_at + interval '24 hours'),
    CHECK ((state = 'held') = (minutes_entry_id IS NOT NULL)),
    CHECK ((state = 'cancelled') = (cancelled_at IS NOT NULL))
);
SELECT diesel_manage_updated_at('meetings');
CREATE INDEX meetings_case ON meetings (case_id, starts_at);

CREATE TABLE meeting_invitees (
    meeting_id     UUID NOT NULL,
    municipality   TEXT NOT NULL DEFAULT current_setting('app.municipality', true),
    case_id        UUID NOT NULL,
    participant_id UUID NOT NULL,
    response       TEXT NOT NULL DEFAULT 'pending' CHECK (response IN ('pending', 'accepted', 'declined')),
    responded_at   TIMESTAMPTZ,
    PRIMARY KEY (meeting_id, participant_id),
    FOREIGN KEY (meeting_id, case_id) REFERENCES meetings (id, case_id),
    FOREIGN KEY (participant_id, case_id) REFERENCES case_participants (id, case_id),
    CONSTRAINT meeting_invitees_case_municipality FOREIGN KEY (case_id, municipality) REFERENCES cases (id, municipality),
    CHECK ((response = 'pending') = (responded_at IS NULL))
);
-- A person's coming meetings: their participations first, then these.
CREATE INDEX meeting_invitees_participant ON meeting_invitees (participant_id);

-- A person's calendar subscription: the secret in its address is kept only as a hash, with what the token
-- that made it said about the person (as for notification settings), since the calendar app that reads it
-- has no token. One per person; making a new one replaces it, so the old address stops working.
CREATE TABLE calendar_feeds (
    municipality  TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    roles         TEXT[] NOT NULL,
    services      TEXT[] NOT NULL,
    pid_hash      BYTEA,
    secret_hash   BYTEA NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    include_place BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (municipality, user_id)
);

-- An ended plan, and a held or cancelled meeting, are the record: they stay as they were, whoever writes,
-- but for the purge, which erases their free text (it names itself as `forbid_change_but_purge` expects).
CREATE FUNCTION finished_stays_as_it_was() RETURNS trigger AS $$
BEGIN
    IF OLD.state IN ('ended', 'held', 'cancelled') AND current_setting('stafettlogg.purge', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION '% % is %: it stays as it was', TG_TABLE_NAME, OLD.id, OLD.state
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER plans_ended_stay BEFORE UPDATE ON plans FOR EACH ROW EXECUTE FUNCTION finished_stays_as_it_was();
CREATE TRIGGER meetings_finished_stay BEFORE UPDATE ON meetings FOR EACH ROW EXECUTE FUNCTION finished_stays_as_it_was();

GRANT SELECT, INSERT, UPDATE ON plans, plan_members, meetings TO stafettlogg_app;
-- Invitees dropped from a planned meeting are no longer invited.
GRANT SELECT, INSERT, UPDATE, DELETE ON meeting_invitees TO stafettlogg_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON calendar_feeds TO stafettlogg_app;
DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['plans', 'plan_members', 'meetings', 'meeting_invitees', 'calendar_feeds']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY one_municipality ON %I
                            USING (municipality = current_setting(''app.municipality'', true))
                            WITH CHECK (municipality = current_setting(''app.municipality'', true))', t);
    END LOOP;
END $$;

-- A calendar app asks with the secret only: this finds whose feed it is, in any municipality, and nothing
-- else. The service then reads the feed as that person, inside their municipality.
CREATE FUNCTION calendar_feed_owner(secret BYTEA)
RETURNS TABLE (municipality TEXT, user_id TEXT, name TEXT, roles TEXT[], services TEXT[], pid_hash BYTEA,
               include_place BOOLEAN)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT f.municipality, f.user_id, f.name, f.roles, f.services, f.pid_hash, f.include_place
      FROM calendar_feeds f WHERE f.secret_hash = secret;
$$;
REVOKE ALL ON FUNCTION calendar_feed_owner(BYTEA) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION calendar_feed_owner(BYTEA) TO stafettlogg_app;

-- The closed lists grow by the new words (see the migrations that made them closed for why NOT VALID).
ALTER TABLE change_events DROP CONSTRAINT change_events_type_check;
ALTER TABLE change_events ADD CONSTRAINT change_events_type_check
    CHECK (type IN ('case.opened', 'case.updated', 'case.closed', 'case.purged', 'case.imported',
                    'participant.added', 'participant.updated', 'participant.deactivated',
                    'consent.recorded', 'consent.withdrawn', 'consent.signed',
                    'measure.created', 'measure.updated', 'evaluation.added',
                    'level.changed', 'step.moved',
                    'handover.proposed', 'handover.accepted', 'handover.declined', 'handover.cancelled',
                    'holder.reassigned', 'entry.added',
                    'plan.created', 'plan.updated', 'plan.activated', 'plan.ended',
                    'meeting.planned', 'meeting.changed', 'meeting.answered', 'meeting.cancelled',
                    'meeting.held')) NOT VALID;

ALTER TABLE access_events DROP CONSTRAINT access_events_resource_check;
ALTER TABLE access_events ADD CONSTRAINT access_events_resource_check
    CHECK (resource IN ('case', 'case.access_log', 'case.consents', 'case.entries', 'case.handovers',
                        'case.level_changes', 'case.measures', 'case.my_data', 'case.participants',
                        'case.steps', 'case.timeline', 'case.plans', 'case.meetings',
                        'case.holder (reason: absence)', 'case.holder (reason: left)',
                        'case.holder (reason: workload)', 'case.holder (reason: other)',
                        'handovers.inbox', 'me.attention', 'me.meetings', 'me.calendar',
                        'service.attention', 'service.cases')) NOT VALID;

ALTER TABLE notifications DROP CONSTRAINT notifications_event_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_event_check
    CHECK (event IN ('handover.proposed', 'handover.answered', 'signature.awaited', 'evaluation.due',
                     'consent.expiring', 'decision.overdue', 'inquiry.received', 'inquiry.answered',
                     'holder.reassigned', 'meeting.invited', 'meeting.changed', 'meeting.cancelled'));
