-- The service catalogue (事项目录): every version of every matter is kept,
-- since an application keeps the version it was filed under. The
-- definition is the matter's JSON; the columns beside it are what lists
-- and lookups need.
CREATE TABLE matters (
	code TEXT NOT NULL,
	version INTEGER NOT NULL,
	name TEXT NOT NULL,
	lead_dept TEXT NOT NULL DEFAULT '',
	definition TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (code, version)
);
