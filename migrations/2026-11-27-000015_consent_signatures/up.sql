-- A digital consent is signed by each giver themselves. A giver row without
-- `signed_at` is a signature still missing: the consent is `pending_signatures` and not effective until
-- every named giver has signed (crate::consents::rules). Every consent recorded so far was recorded as
-- given by all its givers (in writing, orally, or digitally by the one giver it names): signed then.
ALTER TABLE consent_givers ADD COLUMN signed_at TIMESTAMPTZ DEFAULT now();

UPDATE consent_givers g SET signed_at = k.recorded_at FROM consents k WHERE k.id = g.consent_id;

-- A signature, once given, stays: the service may set it, never take it back.
CREATE FUNCTION consent_signature_stays() RETURNS trigger AS $$
BEGIN
    IF OLD.signed_at IS NOT NULL AND NEW.signed_at IS DISTINCT FROM OLD.signed_at THEN
        RAISE EXCEPTION 'a signature of a consent cannot be changed' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.consent_id <> OLD.consent_id OR NEW.participant_id <> OLD.participant_id OR NEW.case_id <> OLD.case_id THEN
        RAISE EXCEPTION 'only the signature of a consent giver may change' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER consent_signature_stays BEFORE UPDATE ON consent_givers
    FOR EACH ROW EXECUTE FUNCTION consent_signature_stays();

GRANT UPDATE (signed_at) ON consent_givers TO stafettlogg_app;

ALTER TABLE access_events DROP CONSTRAINT access_events_action_check;
ALTER TABLE access_events ADD CONSTRAINT access_events_action_check
    CHECK (action IN ('read', 'list', 'create', 'update', 'close', 'export', 'withdraw', 'deactivate',
                      'propose', 'accept', 'decline', 'cancel', 'import', 'reassign', 'sign'));
