-- Statistics: what the figures need that the schema did not keep, and indexes that let
-- them read one period of one municipality instead of every row.

-- The deadline an evaluation answered. A continuing evaluation moves the measure's `evaluate_by` to the
-- next deadline, so the deadline it met (or missed) was lost; "evaluated on time" needs it. The service
-- writes it with every evaluation (the measure's `evaluate_by` when the evaluation is recorded), an import
-- from the evaluations' chain. Existing rows get it from the chain too: the deadline the previous
-- evaluation set; for a measure's first evaluation only when nothing has moved the deadline since (it is
-- the measure's only evaluation and set no next one). The others stay NULL: not counted as due.
ALTER TABLE evaluations ADD COLUMN due_on DATE;
ALTER TABLE evaluations DISABLE TRIGGER USER;
UPDATE evaluations e SET due_on = d.due_on
FROM (
    SELECT x.id,
           CASE WHEN x.previous_deadline IS NOT NULL THEN x.previous_deadline
                WHEN x.n = 1 AND x.total = 1 AND x.next_evaluate_by IS NULL THEN m.evaluate_by
           END AS due_on
    FROM (
        SELECT id, measure_id, next_evaluate_by,
               lag(next_evaluate_by) OVER w AS previous_deadline,
               row_number() OVER w AS n,
               count(*) OVER (PARTITION BY measure_id) AS total
        FROM evaluations
        WINDOW w AS (PARTITION BY measure_id ORDER BY evaluated_on, recorded_at, id)
    ) x
    JOIN measures m ON m.id = x.measure_id
) d
WHERE d.id = e.id AND d.due_on IS NOT NULL;
ALTER TABLE evaluations ENABLE TRIGGER USER;

-- One period of one municipality, for each kind of event the statistics count.
CREATE INDEX cases_opened ON cases (municipality, opened_at);
CREATE INDEX cases_closed ON cases (municipality, closed_at) WHERE closed_at IS NOT NULL;
-- The level-0 decision: each case's first change away from level 0, in one ordered pass (index only).
CREATE INDEX level_changes_from_level0 ON level_changes (municipality, case_id, decided_on, recorded_at, id)
    WHERE from_level = 0;
-- A case's level at a past day: its last change decided by then.
CREATE INDEX level_changes_case_decided ON level_changes (case_id, decided_on, recorded_at);
CREATE INDEX evaluations_due ON evaluations (municipality, due_on) WHERE due_on IS NOT NULL;
CREATE INDEX measures_pending_due ON measures (municipality, evaluate_by) WHERE state IN ('planned', 'active');
CREATE INDEX handovers_accepted ON handovers (municipality, answered_at) WHERE state = 'accepted';
CREATE INDEX consents_withdrawn ON consents (municipality, withdrawn_at) WHERE withdrawn_at IS NOT NULL;
