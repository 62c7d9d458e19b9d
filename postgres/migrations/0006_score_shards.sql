-- Scorecard counters are split over a few rows per (dim, period, key), one
-- chosen per transaction, so that concurrent transactions (batches of new
-- cases on several instances) do not queue on one row lock each. Every
-- reader sums over shards; dumps show one row per key as before.
ALTER TABLE score_days ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE score_days DROP CONSTRAINT score_days_pkey;
ALTER TABLE score_days ADD PRIMARY KEY (dim, day, key, shard);
ALTER TABLE score_months ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE score_months DROP CONSTRAINT score_months_pkey;
ALTER TABLE score_months ADD PRIMARY KEY (dim, month, key, shard);
