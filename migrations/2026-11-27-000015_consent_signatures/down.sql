ALTER TABLE access_events DROP CONSTRAINT access_events_action_check;
ALTER TABLE access_events ADD CONSTRAINT access_events_action_check
    CHECK (action IN ('read', 'list', 'create', 'update', 'close', 'export', 'withdraw', 'deactivate',
                      'propose', 'accept', 'decline', 'cancel', 'import', 'reassign'));
REVOKE UPDATE (signed_at) ON consent_givers FROM stafettlogg_app;
DROP TRIGGER consent_signature_stays ON consent_givers;
DROP FUNCTION consent_signature_stays();
ALTER TABLE consent_givers DROP COLUMN signed_at;
