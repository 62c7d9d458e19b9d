package tongban

import (
	"cmp"
	"context"
	"time"
)

// Store is the persistence port. There is one implementation per database
// (sqlite, postgres) and one conformance suite (storetest) that both pass.
//
// Writes that change a case take the case's new state and the event that
// caused it together, and write both in one transaction: the state row is
// updated only if its version is still expectVersion (optimistic
// concurrency), so of two concurrent actions exactly one wins and the other
// gets ErrConflict.
type Store interface {
	Departments
	Users
	Categories
	Cases
	Sessions
	APIKeys

	ListCalendarOverrides(ctx context.Context) ([]CalendarOverride, error)
	SetCalendarOverride(ctx context.Context, o CalendarOverride) error
	DeleteCalendarOverride(ctx context.Context, date string) error

	// LogPIIAccess records an unmasked view of a requester's data.
	LogPIIAccess(ctx context.Context, a *PIIAccess) error
	ListPIIAccess(ctx context.Context, caseID int64) ([]PIIAccess, error)

	// HitRate counts one hit for key in the fixed window containing now
	// and returns the count so far; shared by all instances on one store.
	HitRate(ctx context.Context, key string, window time.Duration, now time.Time) (int, error)

	// Backup writes a consistent copy of the live store to path.
	Backup(ctx context.Context, path string) error
	Ping(ctx context.Context) error
	Close() error

	SupervisionStore

	Transfer

	TextStore
}

// Transfer moves the whole system between stores (tongban dump / load):
// a consistent read-only snapshot to read everything from in pages, and
// inserts that keep the given IDs.
type Transfer interface {
	// Snapshot opens a consistent read-only view of the whole store; the
	// caller must Close it. Writers go on meanwhile.
	Snapshot(ctx context.Context) (Snapshot, error)
	// Load inserts every record of b with its given ID (and hashes,
	// versions, times) in one transaction: departments, users,
	// categories, matters, calendar overrides, API keys, cases, events,
	// attachments, PII access, alarms, findings, score days, score
	// months, in that order. Case.Attachments is ignored: attachments
	// come in b.Attachments. Score rows are inserted as they are, not
	// added to (the store must not hold them yet). Batches may be loaded
	// on two goroutines at once only after the first batch of cases has
	// been loaded alone (PostgreSQL drops its search index with that
	// batch); dump.Load does so.
	Load(ctx context.Context, b *LoadBatch) error
	// FinishLoad makes IDs assigned after a load follow the loaded ones
	// (PostgreSQL: setval of every identity sequence to max(id), alarms
	// and findings included).
	FinishLoad(ctx context.Context) error
	// IsEmpty reports whether the store holds no departments, users,
	// categories, matters, calendar overrides, API keys, cases, events,
	// attachments, PII access records, alarms, findings or scorecard
	// rows. Sessions and rate-limit counters are not counted.
	IsEmpty(ctx context.Context) (bool, error)
}

// Snapshot is a consistent, read-only view of a store for dumps. The
// paged methods return up to limit records with id > afterID in id order;
// an empty page means the end.
type Snapshot interface {
	DumpDepartments(ctx context.Context) ([]*Department, error) // by ID
	DumpUsers(ctx context.Context) ([]*User, error)             // by ID, with password hashes
	DumpCategories(ctx context.Context) ([]*Category, error)    // by code (bytewise)
	// DumpMatters returns up to limit stored matter versions (every
	// version of every matter) after the one keyed after (nil: from the
	// first) in (Code bytewise, Version) order; an empty page means the
	// end.
	DumpMatters(ctx context.Context, after *MatterKey, limit int) ([]MatterRecord, error)
	DumpCalendarOverrides(ctx context.Context) ([]CalendarOverride, error)
	DumpAPIKeys(ctx context.Context) ([]*APIKey, error) // by ID, with hashes
	// DumpCases returns cases without their attachments.
	DumpCases(ctx context.Context, afterID int64, limit int) ([]*Case, error)
	DumpEvents(ctx context.Context, afterID int64, limit int) ([]*Event, error)
	// DumpAttachments returns attachments with their data.
	DumpAttachments(ctx context.Context, afterID int64, limit int) ([]*Attachment, error)
	DumpPIIAccess(ctx context.Context, afterID int64, limit int) ([]PIIAccess, error)
	// DumpAlarms returns alarm rows, cleared or not; TrackingCode and
	// Title are left empty.
	DumpAlarms(ctx context.Context, afterID int64, limit int) ([]*Alarm, error)
	DumpFindings(ctx context.Context, afterID int64, limit int) ([]*Finding, error)
	// DumpScoreDays and DumpScoreMonths return up to limit scorecard rows
	// (score_days, Period YYYYMMDD; score_months, Period YYYYMM) after
	// the row keyed after (nil: from the first) in (Dim, Period, Key)
	// order, strings compared bytewise; an empty page means the end.
	DumpScoreDays(ctx context.Context, after *ScoreKey, limit int) ([]ScoreEntry, error)
	DumpScoreMonths(ctx context.Context, after *ScoreKey, limit int) ([]ScoreEntry, error)
	Close() error
}

// ScoreKey names one stored scorecard row: a key of a dimension on a day
// (YYYYMMDD) or in a month (YYYYMM).
type ScoreKey struct {
	Dim    string
	Period int
	Key    string
}

// Compare orders keys by Dim, Period, then Key, strings bytewise.
func (k ScoreKey) Compare(o ScoreKey) int {
	if c := cmp.Compare(k.Dim, o.Dim); c != 0 {
		return c
	}
	if c := cmp.Compare(k.Period, o.Period); c != 0 {
		return c
	}
	return cmp.Compare(k.Key, o.Key)
}

// MatterKey names one stored version of a matter.
type MatterKey struct {
	Code    string
	Version int
}

// Compare orders keys by Code (bytewise), then Version.
func (k MatterKey) Compare(o MatterKey) int {
	if c := cmp.Compare(k.Code, o.Code); c != 0 {
		return c
	}
	return cmp.Compare(k.Version, o.Version)
}

// MatterRecord is one stored version of a matter (a row of matters), as
// dumped and loaded: Definition is the stored JSON text, byte for byte;
// Name and LeadDept are the columns kept beside it for lists and lookups.
type MatterRecord struct {
	MatterKey
	Name       string
	LeadDept   string
	Definition string
	CreatedAt  time.Time
	CreatedBy  string
}

// ScoreEntry is one stored scorecard row, as dumped and loaded.
type ScoreEntry struct {
	ScoreKey
	ScoreCounts
}

// LoadBatch is a set of records for Store.Load.
type LoadBatch struct {
	Departments       []*Department
	Users             []*User
	Categories        []*Category
	Matters           []MatterRecord // every version of every matter
	CalendarOverrides []CalendarOverride
	APIKeys           []*APIKey
	Cases             []*Case
	Events            []*Event
	Attachments       []*Attachment
	PIIAccess         []PIIAccess
	Alarms            []*Alarm
	Findings          []*Finding
	ScoreDays         []ScoreEntry // Period YYYYMMDD
	ScoreMonths       []ScoreEntry // Period YYYYMM
}

// Len is the number of records in the batch.
func (b *LoadBatch) Len() int {
	return len(b.Departments) + len(b.Users) + len(b.Categories) + len(b.Matters) + len(b.CalendarOverrides) + len(b.APIKeys) +
		len(b.Cases) + len(b.Events) + len(b.Attachments) + len(b.PIIAccess) +
		len(b.Alarms) + len(b.Findings) + len(b.ScoreDays) + len(b.ScoreMonths)
}

// Departments stores departments.
type Departments interface {
	CreateDepartment(ctx context.Context, d *Department) error
	UpdateDepartment(ctx context.Context, d *Department) error
	Department(ctx context.Context, code string) (*Department, error)
	ListDepartments(ctx context.Context) ([]*Department, error)
}

// Users stores staff accounts.
type Users interface {
	CreateUser(ctx context.Context, u *User) error
	UpdateUser(ctx context.Context, u *User) error
	User(ctx context.Context, id int64) (*User, error)
	UserByLogin(ctx context.Context, login string) (*User, error)
	ListUsers(ctx context.Context) ([]*User, error)
}

// Categories stores request categories.
type Categories interface {
	PutCategory(ctx context.Context, c *Category) error
	Category(ctx context.Context, code string) (*Category, error)
	ListCategories(ctx context.Context) ([]*Category, error)
}

// Cases stores cases, their events and attachments.
type Cases interface {
	// CreateCase inserts a case with its first event and attachments,
	// assigning IDs; durable when it returns nil.
	CreateCase(ctx context.Context, c *Case, first *Event) error
	// UpdateCase writes c's new state and appends ev, if the stored
	// version is still expectVersion; ErrConflict otherwise.
	UpdateCase(ctx context.Context, c *Case, expectVersion int64, ev *Event) error
	Case(ctx context.Context, id int64) (*Case, error)
	CaseByCode(ctx context.Context, code string) (*Case, error)
	ListCases(ctx context.Context, f CaseFilter) (*CasePage, error)
	// CountCases counts open cases by step, for inbox badges.
	CountCases(ctx context.Context, f CaseFilter) (int, error)
	Events(ctx context.Context, caseID int64) ([]*Event, error)
	Attachment(ctx context.Context, id int64) (*Attachment, error)
}

// Sessions stores logins; only token hashes are kept.
type Sessions interface {
	CreateSession(ctx context.Context, s *Session) error
	Session(ctx context.Context, tokenHash string) (*Session, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	DeleteUserSessions(ctx context.Context, userID int64) error
}

// APIKeys stores machine clients' keys; only hashes are kept.
type APIKeys interface {
	CreateAPIKey(ctx context.Context, k *APIKey) error
	APIKeyByHash(ctx context.Context, hash string) (*APIKey, error)
	ListAPIKeys(ctx context.Context) ([]*APIKey, error)
	RevokeAPIKey(ctx context.Context, id int64) error
}
