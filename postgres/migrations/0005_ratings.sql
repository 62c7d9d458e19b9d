-- 好差评: one row per rating of a case (online one per matter, at a window
-- one per visit), derived from the case's attrs and written in the same
-- transaction as the case write that changes them, so the published
-- aggregates are a GROUP BY and the 差评 workbench a range read. No
-- personal data: no rater, no comment. state is '' for a rating that is not
-- a 差评, else verify | rectify | callback | appeal | done | removed;
-- deadline is a 差评's rectification deadline.
CREATE TABLE ratings (
	case_id bigint NOT NULL REFERENCES cases(id),
	no integer NOT NULL,
	kind text NOT NULL,
	dept text NOT NULL DEFAULT '',
	category text NOT NULL DEFAULT '',
	channel text NOT NULL,
	level integer NOT NULL,
	at bigint NOT NULL,
	state text NOT NULL DEFAULT '',
	verified boolean NOT NULL DEFAULT false,
	called_back boolean NOT NULL DEFAULT false,
	rectified boolean NOT NULL DEFAULT false,
	on_time boolean NOT NULL DEFAULT false,
	appealed boolean NOT NULL DEFAULT false,
	removed boolean NOT NULL DEFAULT false,
	deadline bigint,
	PRIMARY KEY (case_id, no)
);
CREATE INDEX ratings_at ON ratings (at);
CREATE INDEX ratings_bad ON ratings (state, deadline) WHERE state <> '';
-- Supervision flags (fees, entries after the fact) are listed by scope.
CREATE INDEX alarms_scope ON alarms (scope, raised_at);
