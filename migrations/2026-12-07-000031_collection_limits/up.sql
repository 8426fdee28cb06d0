-- How many rows a case (or another owner) may hold of each kind. The same numbers bound the lists the API
-- answers with and the case document an import takes, so a case can always be exported and imported
-- again, and a client knows the longest list it will be sent. Checked here, under a lock per owner, so
-- concurrent inserts cannot pass the bound together.
--
-- Arguments: the most rows, a label for the refusal, the column whose value is locked (the case, for
-- everything a case holds, so an import of many cases takes one lock per case, not one per table), then
-- the columns naming the owner whose rows are counted.
CREATE FUNCTION limit_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    most int := TG_ARGV[0]::int;
    label text := TG_ARGV[1];
    condition text := '';
    lock_key text;
    n bigint;
BEGIN
    EXECUTE format('SELECT ($1).%I::text', TG_ARGV[2]) USING NEW INTO lock_key;
    FOR i IN 3 .. TG_NARGS - 1 LOOP
        condition := condition || CASE WHEN i > 3 THEN ' AND ' ELSE '' END
            || format('%I = ($1).%I', TG_ARGV[i], TG_ARGV[i]);
    END LOOP;
    PERFORM pg_advisory_xact_lock(hashtext('limit_rows'), hashtext(coalesce(lock_key, '')));
    EXECUTE format('SELECT count(*) FROM %I.%I WHERE %s', TG_TABLE_SCHEMA, TG_TABLE_NAME, condition)
        USING NEW INTO n;
    IF n >= most THEN
        RAISE EXCEPTION 'stafettlogg: at most % %', most, label USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER limit_participants BEFORE INSERT ON case_participants
    FOR EACH ROW EXECUTE FUNCTION limit_rows('500', 'participants in a case', 'case_id', 'case_id');
CREATE TRIGGER limit_holder_periods BEFORE INSERT ON holder_periods
    FOR EACH ROW EXECUTE FUNCTION limit_rows('2001', 'holder periods in a case', 'case_id', 'case_id');
CREATE TRIGGER limit_consents BEFORE INSERT ON consents
    FOR EACH ROW EXECUTE FUNCTION limit_rows('500', 'consents in a case', 'case_id', 'case_id');
CREATE TRIGGER limit_measures BEFORE INSERT ON measures
    FOR EACH ROW EXECUTE FUNCTION limit_rows('1000', 'measures in a case', 'case_id', 'case_id');
CREATE TRIGGER limit_evaluations BEFORE INSERT ON evaluations
    FOR EACH ROW EXECUTE FUNCTION limit_rows('1000', 'evaluations of a measure', 'case_id', 'measure_id');
CREATE TRIGGER limit_level_changes BEFORE INSERT ON level_changes
    FOR EACH ROW EXECUTE FUNCTION limit_rows('1000', 'level changes in a case', 'case_id', 'case_id');
CREATE TRIGGER limit_handovers BEFORE INSERT ON handovers
    FOR EACH ROW EXECUTE FUNCTION limit_rows('1000', 'handovers in a case', 'case_id', 'case_id');
CREATE TRIGGER limit_plans BEFORE INSERT ON plans
    FOR EACH ROW EXECUTE FUNCTION limit_rows('100', 'plans in a case', 'case_id', 'case_id');
CREATE TRIGGER limit_meetings BEFORE INSERT ON meetings
    FOR EACH ROW EXECUTE FUNCTION limit_rows('1000', 'meetings in a case', 'case_id', 'case_id');
CREATE TRIGGER limit_level0_decisions BEFORE INSERT ON level0_decisions
    FOR EACH ROW EXECUTE FUNCTION limit_rows('100', 'level-0 decisions in a case', 'case_id', 'case_id');
CREATE TRIGGER limit_inquiry_answers BEFORE INSERT ON inquiry_answers
    FOR EACH ROW EXECUTE FUNCTION limit_rows('100', 'answers to an inquiry', 'inquiry_id', 'inquiry_id');
CREATE TRIGGER limit_consultation_answers BEFORE INSERT ON consultation_answers
    FOR EACH ROW EXECUTE FUNCTION limit_rows('100', 'answers to a consultation', 'consultation_id', 'consultation_id');
CREATE TRIGGER limit_webhooks BEFORE INSERT ON webhooks
    FOR EACH ROW EXECUTE FUNCTION limit_rows('100', 'webhooks of a caller', 'owner_user_id', 'municipality', 'owner_user_id');
CREATE TRIGGER limit_services BEFORE INSERT ON services
    FOR EACH ROW EXECUTE FUNCTION limit_rows('1000', 'services in a municipality', 'municipality', 'municipality');
