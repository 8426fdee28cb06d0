-- The holder-period check runs at commit, after every change of the transaction, so checking one case
-- once per transaction is enough: later invocations for the same case would see the same state.
CREATE OR REPLACE FUNCTION check_holder_periods() RETURNS trigger AS $$
DECLARE
    c UUID;
    marker TEXT;
    gaps INTEGER;
    open_periods INTEGER;
    open_holder UUID;
    case_status TEXT;
    case_holder UUID;
BEGIN
    IF TG_TABLE_NAME = 'cases' THEN
        c := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        c := OLD.case_id;
    ELSE
        c := NEW.case_id;
    END IF;
    marker := 'stafettlogg.holder_checked_' || replace(c::text, '-', '_');
    IF current_setting(marker, true) = '1' THEN
        RETURN NULL;
    END IF;
    PERFORM set_config(marker, '1', true);

    SELECT count(*) FILTER (WHERE n > 1 AND prev_hi IS DISTINCT FROM lo),
           count(*) FILTER (WHERE hi IS NULL),
           (array_agg(participant_id) FILTER (WHERE hi IS NULL))[1]
      INTO gaps, open_periods, open_holder
      FROM (SELECT participant_id, lower(period) AS lo, upper(period) AS hi,
                   lag(upper(period)) OVER w AS prev_hi, row_number() OVER w AS n
              FROM holder_periods WHERE case_id = c WINDOW w AS (ORDER BY lower(period))) p;
    IF gaps > 0 THEN
        RAISE EXCEPTION 'holder periods of case % leave a gap', c USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    SELECT status, holder_participant_id INTO case_status, case_holder FROM cases WHERE id = c;
    IF case_status = 'open' AND (open_periods <> 1 OR open_holder <> case_holder) THEN
        RAISE EXCEPTION 'open case % must have exactly one open holder period, held by its holder', c
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF case_status = 'closed' AND open_periods <> 0 THEN
        RAISE EXCEPTION 'closed case % still has an open holder period', c USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
