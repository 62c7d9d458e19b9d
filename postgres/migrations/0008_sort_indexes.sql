-- Indexes in the orders a list or a search can be sorted by that had none:
-- sort=-updated (updated_at DESC, id DESC: this index read backwards) and
-- sort=deadline (status DESC, deadline, id: open before closed, least time
-- left first). A search with one of these sorts walks its index, testing
-- each case, for the few pages a user reads, instead of sorting every
-- match (docs/TEXT.md, "Search on PostgreSQL").
CREATE INDEX IF NOT EXISTS cases_updated ON cases (updated_at, id);
CREATE INDEX IF NOT EXISTS cases_deadline ON cases (status DESC, deadline, id);
