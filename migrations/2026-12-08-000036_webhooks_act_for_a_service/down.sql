-- The webhooks disabled on the way up stay disabled: nobody could manage them before either.
ALTER TABLE webhooks DROP CONSTRAINT webhooks_act_for_a_service;
