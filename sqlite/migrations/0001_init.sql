-- Times are INTEGER microseconds since the Unix epoch (UTC): the precision
-- both stores keep, so event hashes verify the same everywhere.
CREATE TABLE departments (
	id INTEGER PRIMARY KEY,
	code TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	kind TEXT NOT NULL,
	parent TEXT NOT NULL DEFAULT '',
	keywords TEXT NOT NULL DEFAULT '[]',
	disabled INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
);
CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	login TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	dept TEXT NOT NULL REFERENCES departments(code),
	roles TEXT NOT NULL,
	phone TEXT NOT NULL DEFAULT '',
	disabled INTEGER NOT NULL DEFAULT 0,
	password_hash TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id),
	csrf TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE api_keys (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	hash TEXT NOT NULL UNIQUE,
	prefix TEXT NOT NULL,
	revoked INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
);
CREATE TABLE categories (
	code TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	dept TEXT NOT NULL DEFAULT '',
	limits TEXT NOT NULL DEFAULT '{}',
	limit_hours INTEGER NOT NULL DEFAULT 0,
	reply_needs_approval INTEGER NOT NULL DEFAULT 0,
	keywords TEXT NOT NULL DEFAULT '[]',
	active INTEGER NOT NULL DEFAULT 1,
	ord INTEGER NOT NULL DEFAULT 0,
	updated_at INTEGER NOT NULL
);
CREATE TABLE cases (
	id INTEGER PRIMARY KEY,
	kind TEXT NOT NULL,
	workflow TEXT NOT NULL,
	tracking_code TEXT NOT NULL UNIQUE,
	type TEXT NOT NULL DEFAULT '',
	channel TEXT NOT NULL,
	category TEXT NOT NULL DEFAULT '',
	title TEXT NOT NULL,
	body TEXT NOT NULL,
	address TEXT NOT NULL DEFAULT '',
	lat REAL,
	long REAL,
	req_name TEXT NOT NULL DEFAULT '',
	req_phone TEXT NOT NULL DEFAULT '',
	req_email TEXT NOT NULL DEFAULT '',
	confidential INTEGER NOT NULL DEFAULT 0,
	lead TEXT NOT NULL DEFAULT '',
	co TEXT NOT NULL DEFAULT '[]',
	first TEXT NOT NULL DEFAULT '',
	assignee TEXT NOT NULL DEFAULT '',
	step TEXT NOT NULL,
	status TEXT NOT NULL,
	received_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	step_started_at INTEGER NOT NULL,
	step_deadline INTEGER,
	deadline INTEGER NOT NULL,
	closed_at INTEGER,
	reply TEXT NOT NULL DEFAULT '',
	replied_at INTEGER,
	draft_reply TEXT NOT NULL DEFAULT '',
	rating INTEGER NOT NULL DEFAULT 0,
	rating_comment TEXT NOT NULL DEFAULT '',
	returns INTEGER NOT NULL DEFAULT 0,
	reopens INTEGER NOT NULL DEFAULT 0,
	transfers INTEGER NOT NULL DEFAULT 0,
	extension_days INTEGER NOT NULL DEFAULT 0,
	pending TEXT NOT NULL DEFAULT '',
	parent_id INTEGER NOT NULL DEFAULT 0,
	attrs TEXT NOT NULL DEFAULT '',
	version INTEGER NOT NULL,
	last_hash TEXT NOT NULL
);
CREATE INDEX cases_status_step ON cases(status, step, deadline);
CREATE INDEX cases_lead ON cases(lead, status, deadline);
CREATE INDEX cases_first ON cases(first);
CREATE INDEX cases_received ON cases(received_at);
CREATE INDEX cases_category ON cases(category, received_at);
CREATE TABLE events (
	id INTEGER PRIMARY KEY,
	case_id INTEGER NOT NULL REFERENCES cases(id),
	seq INTEGER NOT NULL,
	action TEXT NOT NULL,
	from_step TEXT NOT NULL,
	to_step TEXT NOT NULL,
	actor_id INTEGER NOT NULL DEFAULT 0,
	actor TEXT NOT NULL,
	actor_dept TEXT NOT NULL DEFAULT '',
	at INTEGER NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	note TEXT NOT NULL DEFAULT '',
	public INTEGER NOT NULL DEFAULT 0,
	payload TEXT NOT NULL DEFAULT '',
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL,
	UNIQUE (case_id, seq)
);
CREATE TABLE attachments (
	id INTEGER PRIMARY KEY,
	case_id INTEGER NOT NULL REFERENCES cases(id),
	name TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size INTEGER NOT NULL,
	sha256 TEXT NOT NULL,
	data BLOB NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX attachments_case ON attachments(case_id);
CREATE TABLE calendar_overrides (
	date TEXT PRIMARY KEY,
	off INTEGER NOT NULL,
	name TEXT NOT NULL DEFAULT ''
);
CREATE TABLE pii_access (
	id INTEGER PRIMARY KEY,
	case_id INTEGER NOT NULL,
	user_id INTEGER NOT NULL,
	login TEXT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	at INTEGER NOT NULL
);
CREATE INDEX pii_access_case ON pii_access(case_id);
