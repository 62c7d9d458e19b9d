-- Text intelligence (textproc): a full-text index over the pre-segmented
-- title (t), body (b), reply (r) and address (a) of every case, rowid =
-- case id; contentless, since the text is in cases. text_sig is the
-- MinHash signature of title and body; NULL means "not indexed yet" (a
-- loaded or pre-0004 case), which the store's RebuildText fills in.
CREATE VIRTUAL TABLE case_fts USING fts5(t, b, r, a, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0');
ALTER TABLE cases ADD COLUMN text_sig BLOB;
CREATE INDEX cases_unindexed ON cases(id) WHERE text_sig IS NULL;
