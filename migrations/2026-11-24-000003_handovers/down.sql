ALTER TABLE access_events DROP CONSTRAINT access_events_action_check;
ALTER TABLE access_events ADD CONSTRAINT access_events_action_check
    CHECK (action IN ('read', 'list', 'create', 'update', 'close', 'export', 'withdraw', 'deactivate'));
DROP TRIGGER cases_holder_period_consistent ON cases;
DROP TABLE holder_periods;
DROP FUNCTION check_holder_periods();
DROP TABLE handovers;
