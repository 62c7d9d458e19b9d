-- The service catalogue (事项目录): every version of every matter is kept,
-- since an application keeps the version it was filed under. The
-- definition is the matter's JSON; the columns beside it are what lists
-- and lookups need.
CREATE TABLE matters (
	code text NOT NULL,
	version bigint NOT NULL,
	name text NOT NULL,
	lead_dept text NOT NULL DEFAULT '',
	definition text NOT NULL,
	created_at bigint NOT NULL,
	created_by text NOT NULL DEFAULT '',
	PRIMARY KEY (code, version)
);
