-- Notifications: people hear that something waits for them (e-mail, SMS), and integrations get webhooks.
-- Both are outboxes: a change writes its messages in its own transaction, and a sender in every instance
-- takes the due ones (FOR UPDATE SKIP LOCKED, with a lease), so a rolled-back change sends nothing and two
-- instances never send one message twice. A message holds ids and the kind of event only; the text is
-- written when it is sent, and never names a person or quotes the case.

-- Time-ordered ids (UUID version 7, as the service makes them), for rows written by SQL: lists of messages
-- and deliveries page by id, newest first.
CREATE FUNCTION uuid_v7() RETURNS UUID LANGUAGE sql VOLATILE AS $$
    SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
               PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::BIGINT) FROM 3)
               FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::UUID;
$$;

-- What a person wants to hear, and where. Kept per login (`user_id` is the token's `sub`) with the roles,
-- services and national-id hash of the token that saved it: "the professionals of a service" and "the
-- guardian who must sign" are found here, never through another participant row's contact details.
CREATE TABLE notification_settings (
    municipality TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    email        TEXT CHECK (length(email) BETWEEN 3 AND 254),
    phone        TEXT CHECK (phone ~ '^\+[0-9]{8,15}$'),
    email_on     BOOLEAN NOT NULL DEFAULT false,
    sms_on       BOOLEAN NOT NULL DEFAULT false,
    roles        TEXT[] NOT NULL,
    services     TEXT[] NOT NULL,
    pid_hash     BYTEA,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (municipality, user_id),
    CHECK (NOT email_on OR email IS NOT NULL),
    CHECK (NOT sms_on OR phone IS NOT NULL)
);
CREATE INDEX notification_settings_pid ON notification_settings (municipality, pid_hash)
    WHERE pid_hash IS NOT NULL;

CREATE TABLE notifications (
    id              UUID PRIMARY KEY,
    municipality    TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    event           TEXT NOT NULL CONSTRAINT notifications_event_check
        CHECK (event IN ('handover.proposed', 'handover.answered', 'signature.awaited', 'evaluation.due',
                         'consent.expiring', 'decision.overdue', 'inquiry.received', 'inquiry.answered',
                         'holder.reassigned')),
    channel         TEXT NOT NULL CONSTRAINT notifications_channel_check CHECK (channel IN ('email', 'sms')),
    case_id         UUID REFERENCES cases (id),
    -- What the link points at besides the case: the handover, the inquiry, the consent, the measure.
    subject_id      UUID,
    state           TEXT NOT NULL DEFAULT 'queued' CONSTRAINT notifications_state_check
        CHECK (state IN ('queued', 'sent', 'failed')),
    -- Why a message failed, in the service's own words (never the content of a message or a case).
    reason          TEXT CHECK (length(reason) <= 500),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- While a sender holds it: another sender takes it only after this (a sender that crashed between
    -- sending and marking it sent; the message then goes out at most once more).
    lease_until     TIMESTAMPTZ,
    -- Reminders: one per event and person (e.g. this consent running out on this date).
    dedup_key       TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at         TIMESTAMPTZ,
    CHECK ((state = 'sent') = (sent_at IS NOT NULL)),
    CHECK (state <> 'failed' OR reason IS NOT NULL),
    UNIQUE (municipality, user_id, channel, dedup_key)
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE state = 'queued';
CREATE INDEX notifications_of_person ON notifications (municipality, user_id, created_at DESC, id DESC);
CREATE INDEX notifications_of_case ON notifications (case_id) WHERE case_id IS NOT NULL;

-- An integration's subscription to the change feed, delivered by HTTP POST (Standard Webhooks). It acts for
-- the services of the token that created it: a delivery is sent only when those services may read the case.
CREATE TABLE webhooks (
    id              UUID PRIMARY KEY,
    municipality    TEXT NOT NULL,
    owner_user_id   TEXT NOT NULL,
    services        TEXT[] NOT NULL,
    url             TEXT NOT NULL CHECK (length(url) BETWEEN 8 AND 2000),
    events          TEXT[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 100),
    -- `whsec_` secret, sealed with the service's data key (AES-256-GCM), never shown again.
    secret_enc      BYTEA NOT NULL,
    state           TEXT NOT NULL DEFAULT 'active' CONSTRAINT webhooks_state_check
        CHECK (state IN ('active', 'disabled')),
    disabled_reason TEXT CHECK (length(disabled_reason) <= 500),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((state = 'disabled') = (disabled_reason IS NOT NULL))
);
CREATE INDEX webhooks_active ON webhooks (municipality) WHERE state = 'active';
CREATE INDEX webhooks_of_owner ON webhooks (municipality, owner_user_id, created_at);

CREATE TABLE webhook_deliveries (
    id              UUID PRIMARY KEY,
    webhook_id      UUID NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    municipality    TEXT NOT NULL,
    seq             BIGINT,
    type            TEXT NOT NULL CHECK (length(type) <= 100),
    case_id         UUID,
    state           TEXT NOT NULL DEFAULT 'pending' CONSTRAINT webhook_deliveries_state_check
        CHECK (state IN ('pending', 'delivered', 'failed', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    lease_until     TIMESTAMPTZ,
    last_status     INTEGER,
    last_error      TEXT CHECK (length(last_error) <= 500),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at     TIMESTAMPTZ,
    CHECK ((state = 'pending') = (finished_at IS NULL)),
    CHECK ((seq IS NULL) = (case_id IS NULL))
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_of_webhook ON webhook_deliveries (webhook_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_of_case ON webhook_deliveries (case_id) WHERE case_id IS NOT NULL;

GRANT SELECT, INSERT, UPDATE ON notification_settings TO stafettlogg_app;
GRANT SELECT, INSERT, UPDATE ON notifications TO stafettlogg_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON webhooks TO stafettlogg_app;
GRANT SELECT, INSERT, UPDATE ON webhook_deliveries TO stafettlogg_app;
DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['notification_settings', 'notifications', 'webhooks', 'webhook_deliveries']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY one_municipality ON %I
                            USING (municipality = current_setting(''app.municipality'', true))
                            WITH CHECK (municipality = current_setting(''app.municipality'', true))', t);
    END LOOP;
END $$;

-- Every event of the change feed becomes a delivery of each active webhook of its municipality that
-- subscribed to its type, in the transaction that wrote the event: whatever wrote it (a request, the
-- import, the purge) and only if it commits.
CREATE FUNCTION webhook_deliveries_of_events() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO webhook_deliveries (id, webhook_id, municipality, seq, type, case_id)
    SELECT uuid_v7(), w.id, e.municipality, e.seq, e.type, e.case_id
      FROM added e JOIN webhooks w ON w.municipality = e.municipality AND w.state = 'active'
                                   AND e.type = ANY (w.events);
    RETURN NULL;
END $$;
CREATE TRIGGER change_events_webhooks AFTER INSERT ON change_events
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION webhook_deliveries_of_events();

-- The senders work across municipalities, which the service's role cannot see: these functions are the
-- only way it takes work from another municipality's outbox, and they hand out what a sender needs and
-- nothing more. A claimed row carries a lease, which is also the claim's token: it is finished (sent,
-- retried later, failed) in a transaction of its own municipality, and only while the lease is still the
-- one this sender took, so a sender whose lease ran out cannot overwrite what another one recorded.
CREATE FUNCTION claim_notifications(n INTEGER, lease INTERVAL)
RETURNS TABLE (id UUID, municipality TEXT, user_id TEXT, event TEXT, channel TEXT, case_id UUID,
               subject_id UUID, attempts INTEGER, lease_until TIMESTAMPTZ, address TEXT)
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH due AS (
        SELECT x.id FROM notifications x
         WHERE x.state = 'queued' AND x.next_attempt_at <= now()
           AND (x.lease_until IS NULL OR x.lease_until < now())
         ORDER BY x.next_attempt_at
         LIMIT n
         FOR UPDATE SKIP LOCKED),
    claimed AS (
        UPDATE notifications x SET lease_until = now() + lease, attempts = x.attempts + 1
          FROM due WHERE x.id = due.id
        RETURNING x.*)
    SELECT c.id, c.municipality, c.user_id, c.event, c.channel, c.case_id, c.subject_id, c.attempts,
           c.lease_until,
           CASE WHEN c.channel = 'email' AND s.email_on THEN s.email
                WHEN c.channel = 'sms' AND s.sms_on THEN s.phone END
      FROM claimed c LEFT JOIN notification_settings s
        ON s.municipality = c.municipality AND s.user_id = c.user_id;
$$;

CREATE FUNCTION claim_webhook_deliveries(n INTEGER, lease INTERVAL)
RETURNS TABLE (id UUID, webhook_id UUID, municipality TEXT, seq BIGINT, type TEXT, case_id UUID,
               attempts INTEGER, created_at TIMESTAMPTZ, lease_until TIMESTAMPTZ, url TEXT, secret_enc BYTEA,
               owner_user_id TEXT, services TEXT[])
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH due AS (
        SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
         WHERE d.state = 'pending' AND d.next_attempt_at <= now() AND w.state = 'active'
           AND (d.lease_until IS NULL OR d.lease_until < now())
         ORDER BY d.next_attempt_at, d.seq
         LIMIT n
         FOR UPDATE OF d SKIP LOCKED),
    claimed AS (
        UPDATE webhook_deliveries d SET lease_until = now() + lease, attempts = d.attempts + 1
          FROM due WHERE d.id = due.id
        RETURNING d.*)
    SELECT c.id, c.webhook_id, c.municipality, c.seq, c.type, c.case_id, c.attempts, c.created_at,
           c.lease_until, w.url, w.secret_enc, w.owner_user_id, w.services
      FROM claimed c JOIN webhooks w ON w.id = c.webhook_id;
$$;

-- The daily reminders, across municipalities: an evaluation due within 7 days (to the participant the
-- measure names, a professional by login or a guardian by national id, or else the holder), a consent in
-- force running out within 30 days and a level-0 decision past its deadline (to the holder). Only to
-- someone who may read the case today (a grant of `case_grants`) and has not left the municipality's
-- service. One per event, date, person and channel: a second pass (or another instance's) adds nothing.
CREATE FUNCTION enqueue_reminders(today DATE) RETURNS INTEGER
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    added INTEGER;
BEGIN
    WITH holder AS (
        SELECT c.id AS case_id, c.municipality, p.user_id
          FROM cases c JOIN case_participants p ON p.id = c.holder_participant_id
         WHERE c.status = 'open' AND c.purged_at IS NULL AND p.user_id IS NOT NULL),
    due AS (
        SELECT m.case_id, h.municipality,
               CASE WHEN r.id IS NULL THEN h.user_id ELSE r.user_id END AS user_id,
               CASE WHEN r.id IS NULL THEN NULL ELSE r.national_id_hash END AS pid_hash,
               'evaluation.due' AS event, m.id AS subject_id,
               'evaluation.due:' || m.id || ':' || m.evaluate_by AS dedup_key
          FROM measures m JOIN holder h ON h.case_id = m.case_id
          LEFT JOIN case_participants r ON r.id = m.responsible_participant_id AND r.active
                                        AND (r.user_id IS NOT NULL OR r.national_id_hash IS NOT NULL)
         WHERE m.state IN ('planned', 'active') AND m.evaluate_by BETWEEN today AND today + 7
        UNION ALL
        SELECT k.case_id, h.municipality, h.user_id, NULL, 'consent.expiring', k.id,
               'consent.expiring:' || k.id || ':' || k.valid_until
          FROM consents k JOIN holder h ON h.case_id = k.case_id
         WHERE k.withdrawn_at IS NULL AND k.superseded_by IS NULL AND k.valid_from <= today
           AND k.valid_until BETWEEN today AND today + 30
           AND NOT EXISTS (SELECT 1 FROM consent_givers g WHERE g.consent_id = k.id AND g.signed_at IS NULL)
        UNION ALL
        SELECT c.id, h.municipality, h.user_id, NULL, 'decision.overdue', NULL::uuid,
               'decision.overdue:' || c.id || ':' || c.decision_due
          FROM cases c JOIN holder h ON h.case_id = c.id
         WHERE c.level = 0 AND c.decision_due < today)
    INSERT INTO notifications (id, municipality, user_id, event, channel, case_id, subject_id, dedup_key)
    SELECT uuid_v7(), d.municipality, s.user_id, d.event, ch.channel, d.case_id, d.subject_id, d.dedup_key
      FROM due d
      JOIN notification_settings s
        ON s.municipality = d.municipality AND (s.user_id = d.user_id OR s.pid_hash = d.pid_hash)
      CROSS JOIN LATERAL (VALUES ('email', s.email_on), ('sms', s.sms_on)) AS ch(channel, wanted)
     WHERE ch.wanted
       AND EXISTS (SELECT 1 FROM case_grants g
                    WHERE g.case_id = d.case_id AND (g.user_id = s.user_id OR g.pid_hash = s.pid_hash)
                      AND (g.valid_from IS NULL OR g.valid_from <= today)
                      AND (g.valid_until IS NULL OR g.valid_until >= today))
       AND NOT EXISTS (SELECT 1 FROM staff_departures x
                        WHERE x.municipality = s.municipality AND x.user_id = s.user_id
                          AND x.departed_on <= today)
    ON CONFLICT (municipality, user_id, channel, dedup_key) DO NOTHING;
    GET DIAGNOSTICS added = ROW_COUNT;
    RETURN added;
END $$;

-- The outboxes are kept as long as they help: a person's list of messages for 13 months, a webhook's
-- finished deliveries for 90 days. (The purge of a case deletes its rows at once.)
CREATE FUNCTION prune_outboxes(now_at TIMESTAMPTZ) RETURNS INTEGER
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    gone INTEGER;
    more INTEGER;
BEGIN
    DELETE FROM notifications WHERE created_at < now_at - interval '13 months' AND state <> 'queued';
    GET DIAGNOSTICS gone = ROW_COUNT;
    DELETE FROM webhook_deliveries WHERE finished_at < now_at - interval '90 days';
    GET DIAGNOSTICS more = ROW_COUNT;
    RETURN gone + more;
END $$;

-- For the metrics: what waits to be sent, per channel, all municipalities (counts only).
CREATE FUNCTION outbox_waiting() RETURNS TABLE (channel TEXT, waiting BIGINT)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT x.channel, count(*) FROM notifications x WHERE x.state = 'queued' GROUP BY x.channel
    UNION ALL
    SELECT 'webhook', count(*) FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
     WHERE d.state = 'pending' AND w.state = 'active';
$$;

REVOKE ALL ON FUNCTION outbox_waiting() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION outbox_waiting() TO stafettlogg_app;
REVOKE ALL ON FUNCTION claim_notifications(INTEGER, INTERVAL) FROM PUBLIC;
REVOKE ALL ON FUNCTION claim_webhook_deliveries(INTEGER, INTERVAL) FROM PUBLIC;
REVOKE ALL ON FUNCTION enqueue_reminders(DATE) FROM PUBLIC;
REVOKE ALL ON FUNCTION prune_outboxes(TIMESTAMPTZ) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION prune_outboxes(TIMESTAMPTZ) TO stafettlogg_app;
GRANT EXECUTE ON FUNCTION claim_notifications(INTEGER, INTERVAL) TO stafettlogg_app;
GRANT EXECUTE ON FUNCTION claim_webhook_deliveries(INTEGER, INTERVAL) TO stafettlogg_app;
GRANT EXECUTE ON FUNCTION enqueue_reminders(DATE) TO stafettlogg_app;
