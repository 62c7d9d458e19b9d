-- Text intelligence (textproc): search_tsv is to_tsvector('simple', …) of
-- the pre-segmented title (weight A), address (B), body (C) and reply (D),
-- written by the store with the case; text_sig the MinHash signature of
-- title and body. NULL text_sig means "not indexed yet" (a loaded or
-- pre-0004 case), which the store's RebuildText fills in.
ALTER TABLE cases ADD COLUMN search_tsv tsvector, ADD COLUMN text_sig bytea;
CREATE INDEX cases_search ON cases USING gin (search_tsv);
CREATE INDEX cases_unindexed ON cases (id) WHERE text_sig IS NULL;
