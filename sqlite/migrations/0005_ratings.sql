-- 好差评: one row per rating of a case (online one per matter, at a window
-- one per visit), derived from the case's attrs and written in the same
-- transaction as the case write that changes them, so the published
-- aggregates are a GROUP BY and the 差评 workbench a range read. No
-- personal data: no rater, no comment. state is '' for a rating that is not
-- a 差评, else verify | rectify | callback | appeal | done | removed;
-- deadline is a 差评's rectification deadline.
CREATE TABLE ratings (
	case_id INTEGER NOT NULL REFERENCES cases(id),
	no INTEGER NOT NULL,
	kind TEXT NOT NULL,
	dept TEXT NOT NULL DEFAULT '',
	category TEXT NOT NULL DEFAULT '',
	channel TEXT NOT NULL,
	level INTEGER NOT NULL,
	at INTEGER NOT NULL,
	state TEXT NOT NULL DEFAULT '',
	verified INTEGER NOT NULL DEFAULT 0,
	called_back INTEGER NOT NULL DEFAULT 0,
	rectified INTEGER NOT NULL DEFAULT 0,
	on_time INTEGER NOT NULL DEFAULT 0,
	appealed INTEGER NOT NULL DEFAULT 0,
	removed INTEGER NOT NULL DEFAULT 0,
	deadline INTEGER,
	PRIMARY KEY (case_id, no)
) WITHOUT ROWID;
CREATE INDEX ratings_at ON ratings(at);
CREATE INDEX ratings_bad ON ratings(state, deadline) WHERE state <> '';
-- Supervision flags (fees, entries after the fact) are listed by scope.
CREATE INDEX alarms_scope ON alarms(scope, raised_at);
