-- The change feed numbers events per municipality instead of from one global counter row: every write in
-- every municipality used to update (and hold until commit) that one row, so writes of different
-- municipalities waited on each other. An integration token reads the feed of one municipality, so its
-- numbers only need to follow commit order within that municipality. The counter row of a municipality is
-- updated in the writing transaction and its lock held until commit, as before: a reader still never sees
-- event n+1 before event n, and a rolled-back change gives its numbers back.
--
-- Numbers already handed out stay what they are (a consumer's stored `seq` keeps its meaning); each
-- municipality continues from its own highest number.
CREATE TABLE feed_counters (
    municipality TEXT PRIMARY KEY REFERENCES municipalities (number),
    last_seq     BIGINT NOT NULL CHECK (last_seq > 0)
);
INSERT INTO feed_counters (municipality, last_seq)
    SELECT municipality, max(seq) FROM change_events GROUP BY municipality;

ALTER TABLE change_events DROP CONSTRAINT change_events_pkey;
ALTER TABLE change_events ADD PRIMARY KEY (municipality, seq);
DROP INDEX change_events_feed;
DROP TABLE change_counter;

-- One number per municipality and no case data; the metrics scrape, which belongs to no municipality,
-- reads the total (db::TABLES_WITHOUT_ROW_SECURITY). Every statement of the service names the row.
GRANT SELECT, INSERT, UPDATE ON feed_counters TO stafettlogg_app;
