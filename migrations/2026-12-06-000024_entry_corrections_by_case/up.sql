-- The corrections of one case in one probe, without visiting the table (an entries page looks up each of
-- its entries' correction among them).
CREATE INDEX log_entries_case_corrections ON log_entries (case_id) INCLUDE (corrects, id)
    WHERE corrects IS NOT NULL;
