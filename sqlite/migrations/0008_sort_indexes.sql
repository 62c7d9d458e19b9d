-- Indexes in the orders a list or a search can be sorted by that had none:
-- sort=-updated (updated_at DESC, id DESC: this index read backwards) and
-- sort=deadline (status DESC, deadline, id: open before closed, least time
-- left first; the rowid is the last key of every index). A search with
-- one of these sorts reads windows of its index, or walks it, instead of
-- sorting every match (docs/TEXT.md, "An explicit sort on SQLite").
CREATE INDEX IF NOT EXISTS cases_updated ON cases(updated_at);
CREATE INDEX IF NOT EXISTS cases_deadline ON cases(status DESC, deadline);
