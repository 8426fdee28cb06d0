-- A webhook acts for the services of the token that created it, and only a token naming all of them
-- manages it. An older build let a token that named no services create one: such a webhook is nobody's (no
-- token can list, change or delete it) and may read no case, so it is disabled here, saying why. From now
-- on an active webhook names at least one service; a disabled one keeps its list as it was, for the record.
UPDATE webhooks
   SET state = 'disabled',
       disabled_reason = 'acts for no service: created by a token that named none, which no token can manage'
 WHERE cardinality(services) = 0 AND state = 'active';
ALTER TABLE webhooks ADD CONSTRAINT webhooks_act_for_a_service
    CHECK (cardinality(services) >= 1 OR state = 'disabled');
