-- A reopened case's earlier closings. Reopening clears the case row's `closed_at` and `close_reason`, from
-- which the timeline showed the closing, so each closing a reopen ends is kept here: when it closed, why,
-- and when it was reopened. No person and no free text (the reopen's reason is in its log entry).
CREATE TABLE case_closures (
    id            UUID PRIMARY KEY,
    case_id       UUID NOT NULL,
    municipality  TEXT NOT NULL DEFAULT current_setting('app.municipality', true),
    closed_at     TIMESTAMPTZ NOT NULL,
    close_reason  TEXT NOT NULL CHECK (close_reason IN ('consent_withdrawn', 'consent_expired')),
    -- Not checked against `closed_at`: an imported case may carry a closing time ahead of this server's
    -- clock, and its reopening must not fail on that.
    reopened_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (case_id, municipality) REFERENCES cases (id, municipality) ON DELETE CASCADE
);
CREATE INDEX case_closures_case ON case_closures (case_id);

GRANT SELECT, INSERT ON case_closures TO stafettlogg_app;
ALTER TABLE case_closures ENABLE ROW LEVEL SECURITY;
CREATE POLICY one_municipality ON case_closures
    USING (municipality = current_setting('app.municipality', true))
    WITH CHECK (municipality = current_setting('app.municipality', true));
