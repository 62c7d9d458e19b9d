// Package dump moves the whole system between stores of either kind
// (`tongban dump FILE`, `tongban load FILE`, and `tongban backup` on
// PostgreSQL) through one portable, versioned file.
//
// # Format (version 3)
//
// JSON Lines, UTF-8, one object per line, each line ending in "\n":
//
//	{"format":"tongban-dump","version":3,"exported_at":"2025-03-03T09:01:07.123456Z"}
//	{"type":"department","id":1,"code":"zx",…}
//	…
//	{"type":"end","counts":{"alarm":3,"api_key":1,…},"sha256":"…"}
//
// The header comes first. Then the records, by type in this order —
// department, user, category, matter, calendar_override, api_key, case,
// event, attachment, pii_access, alarm, finding, score_day, score_month —
// and within a type by id (categories by code, matters by code then
// version, calendar overrides by date, score rows by dim, then day or
// month, then key, strings bytewise).
// Field names are the database columns'. The last line, "end", holds the
// number of records of each type and the SHA-256 (hex) of every line
// between the header and itself, newlines included, so a truncated or
// altered file is refused. The header is left out of the checksum so that
// two dumps of unchanged data are byte for byte identical except for
// exported_at.
//
// Times are RFC 3339 in UTC with exactly six fractional digits (the
// microseconds both stores keep); nullable times are null. Attachment data
// is standard base64. Event payloads are JSON strings holding the exact
// bytes that were hashed. Maps have sorted keys and floats the shortest
// representation that reads back exactly, so the same data always gives
// the same bytes. Sessions, rate-limit counters and alarm scan leases
// (cases.alarm_lease: a loaded case is simply due for its next scan) are
// not dumped. A FILE ending in .gz is gzip-compressed with no name or time
// in its header, so it too is reproducible.
//
// IDs, hashes and versions are kept: a dump loaded into an empty store and
// dumped again gives the same file. Load checks every case's event hash
// chain (tongban.VerifyChain) and that the case's version and last hash are
// its last event's seq and hash.
//
// # Supervision records (version 2)
//
// Alarms (the live and cleared alarm list) and findings (问责) are primary
// records: each belongs to a case in the dump, which load checks, and
// keeps its id. The scorecard rows (score_day: YYYYMMDD, score_month:
// YYYYMM) are counters kept incrementally in the same transaction as the
// case events, and they are dumped as they are rather than recomputed:
// replaying the events would not give them back exactly, because a
// delta depends on the calendar and supervision configuration in force
// when it was written (handling time in working days, on-time, alarm
// thresholds), and rows may come from outside any case write
// (Store.AddScores: imports, rebuilds). Load checks the rows' days and
// months are dates, and that each score_month row is exactly the sum of its
// month's score_day rows (the invariant every store write keeps).
//
// # The service catalogue (version 3)
//
// Every version of every matter (事项) is a "matter" record, with the
// columns of the matters table: code, version, name, lead_dept,
// definition, created_at, created_by. The definition is the matter's JSON
// as stored, kept as a JSON string holding the exact stored text (like
// event payloads), so it is not re-encoded on the way. Load checks that
// each code's versions run 1, 2, 3… with no gap, and that the definition
// is JSON naming the same code and version. Applications keep the
// version they were filed under, so all versions are moved, not only the
// latest.
//
// Derived text-search data (the full-text index and cases.text_sig,
// migration 0004) is not dumped: the target store rebuilds it as it
// loads the cases.
//
// Version 1 files (without the supervision records) and version 2 files
// (without matters) are still read; a file holding a record type of a
// later version than its own is refused.
//
// For PostgreSQL, `pg_dump -Fc` is the alternative for whole-database
// backups (restore with pg_restore into an empty database); the dump
// format is the one that also moves data between SQLite and PostgreSQL.
package dump

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tongban/tongban"
)

// Format and Version identify the file format in the header; Write
// writes Version, and Load reads versions MinVersion to Version.
const (
	Format     = "tongban-dump"
	Version    = 3
	MinVersion = 1
)

// Record types, in file order.
const (
	TypeDepartment       = "department"
	TypeUser             = "user"
	TypeCategory         = "category"
	TypeMatter           = "matter" // version 3
	TypeCalendarOverride = "calendar_override"
	TypeAPIKey           = "api_key"
	TypeCase             = "case"
	TypeEvent            = "event"
	TypeAttachment       = "attachment"
	TypePIIAccess        = "pii_access"
	TypeAlarm            = "alarm"       // version 2
	TypeFinding          = "finding"     // version 2
	TypeScoreDay         = "score_day"   // version 2
	TypeScoreMonth       = "score_month" // version 2
	typeEnd              = "end"
)

// Types lists the record types in the order a dump holds them.
var Types = []string{TypeDepartment, TypeUser, TypeCategory, TypeMatter, TypeCalendarOverride, TypeAPIKey, TypeCase, TypeEvent, TypeAttachment, TypePIIAccess,
	TypeAlarm, TypeFinding, TypeScoreDay, TypeScoreMonth}

// since is the format version that introduced each record type; a file
// of an older version may not hold it.
var since = map[string]int{TypeAlarm: 2, TypeFinding: 2, TypeScoreDay: 2, TypeScoreMonth: 2, TypeMatter: 3}

// inVersion reports whether a file of the given version may hold typ.
func inVersion(typ string, version int) bool { return since[typ] <= version }

// typesOf lists, in file order, the record types a file of the given
// version may hold.
func typesOf(version int) []string {
	var out []string
	for _, t := range Types {
		if inVersion(t, version) {
			out = append(out, t)
		}
	}
	return out
}

func typeIndex(t string) int {
	for i, s := range Types {
		if s == t {
			return i
		}
	}
	return -1
}

// Counts is the number of records of each type.
type Counts map[string]int64

// Total is the number of records of all types.
func (c Counts) Total() int64 {
	var n int64
	for _, v := range c {
		n += v
	}
	return n
}

// String lists the counts in file order.
func (c Counts) String() string {
	s := ""
	for i, t := range Types {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", t, c[t])
	}
	return s
}

func newCounts() Counts {
	c := Counts{}
	for _, t := range Types {
		c[t] = 0
	}
	return c
}

// timeLayout is RFC 3339 in UTC with exactly microsecond precision.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// Time is a time as a dump writes it.
type Time struct{ time.Time }

// MarshalJSON writes the time in UTC with six fractional digits.
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(timeLayout)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, timeLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON reads exactly the layout MarshalJSON writes.
func (t *Time) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("time %s: want a string %q", b, timeLayout)
	}
	v, err := time.Parse(timeLayout, string(b[1:len(b)-1]))
	if err != nil {
		return fmt.Errorf("time %s: want %s", b, timeLayout)
	}
	t.Time = v.UTC()
	return nil
}

func tp(t *time.Time) *Time {
	if t == nil {
		return nil
	}
	return &Time{*t}
}

func fromTP(t *Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.Time
	return &v
}

type header struct {
	Format     string `json:"format"`
	Version    int    `json:"version"`
	ExportedAt Time   `json:"exported_at"`
}

type endRec struct {
	Type   string `json:"type"`
	Counts Counts `json:"counts"`
	SHA256 string `json:"sha256"`
}

type deptRec struct {
	Type      string   `json:"type"`
	ID        int64    `json:"id"`
	Code      string   `json:"code"`
	Name      string   `json:"name"`
	Kind      string   `json:"kind"`
	Parent    string   `json:"parent"`
	Keywords  []string `json:"keywords"`
	Disabled  bool     `json:"disabled"`
	CreatedAt Time     `json:"created_at"`
}

type userRec struct {
	Type         string   `json:"type"`
	ID           int64    `json:"id"`
	Login        string   `json:"login"`
	Name         string   `json:"name"`
	Dept         string   `json:"dept"`
	Roles        []string `json:"roles"`
	Phone        string   `json:"phone"`
	Disabled     bool     `json:"disabled"`
	PasswordHash string   `json:"password_hash"`
	CreatedAt    Time     `json:"created_at"`
}

type categoryRec struct {
	Type               string         `json:"type"`
	Code               string         `json:"code"`
	Name               string         `json:"name"`
	Description        string         `json:"description"`
	Dept               string         `json:"dept"`
	Limits             map[string]int `json:"limits"`
	LimitHours         int            `json:"limit_hours"`
	ReplyNeedsApproval bool           `json:"reply_needs_approval"`
	Keywords           []string       `json:"keywords"`
	Active             bool           `json:"active"`
	Order              int            `json:"ord"`
	UpdatedAt          Time           `json:"updated_at"`
}

type matterRec struct {
	Type     string `json:"type"`
	Code     string `json:"code"`
	Version  int    `json:"version"`
	Name     string `json:"name"`
	LeadDept string `json:"lead_dept"`
	// Definition is the stored JSON text, as a string.
	Definition string `json:"definition"`
	CreatedAt  Time   `json:"created_at"`
	CreatedBy  string `json:"created_by"`
}

func toMatter(m *tongban.MatterRecord) *matterRec {
	return &matterRec{TypeMatter, m.Code, m.Version, m.Name, m.LeadDept, m.Definition, Time{m.CreatedAt}, m.CreatedBy}
}

func (r *matterRec) domain() tongban.MatterRecord {
	return tongban.MatterRecord{MatterKey: tongban.MatterKey{Code: r.Code, Version: r.Version}, Name: r.Name, LeadDept: r.LeadDept,
		Definition: r.Definition, CreatedAt: r.CreatedAt.Time, CreatedBy: r.CreatedBy}
}

type calendarRec struct {
	Type string `json:"type"`
	Date string `json:"date"`
	Off  bool   `json:"off"`
	Name string `json:"name"`
}

type apiKeyRec struct {
	Type      string `json:"type"`
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Hash      string `json:"hash"`
	Prefix    string `json:"prefix"`
	Revoked   bool   `json:"revoked"`
	CreatedAt Time   `json:"created_at"`
}

type caseRec struct {
	Type          string                     `json:"type"`
	ID            int64                      `json:"id"`
	Kind          string                     `json:"kind"`
	Workflow      string                     `json:"workflow"`
	TrackingCode  string                     `json:"tracking_code"`
	CaseType      string                     `json:"case_type"`
	Channel       string                     `json:"channel"`
	Category      string                     `json:"category"`
	Title         string                     `json:"title"`
	Body          string                     `json:"body"`
	Address       string                     `json:"address"`
	Lat           *float64                   `json:"lat"`
	Long          *float64                   `json:"long"`
	ReqName       string                     `json:"req_name"`
	ReqPhone      string                     `json:"req_phone"`
	ReqEmail      string                     `json:"req_email"`
	Confidential  bool                       `json:"confidential"`
	Lead          string                     `json:"lead"`
	Co            []string                   `json:"co"`
	First         string                     `json:"first"`
	Assignee      string                     `json:"assignee"`
	Step          string                     `json:"step"`
	Status        string                     `json:"status"`
	ReceivedAt    Time                       `json:"received_at"`
	UpdatedAt     Time                       `json:"updated_at"`
	StepStartedAt Time                       `json:"step_started_at"`
	StepDeadline  *Time                      `json:"step_deadline"`
	Deadline      Time                       `json:"deadline"`
	ClosedAt      *Time                      `json:"closed_at"`
	Reply         string                     `json:"reply"`
	RepliedAt     *Time                      `json:"replied_at"`
	DraftReply    string                     `json:"draft_reply"`
	Rating        int                        `json:"rating"`
	RatingComment string                     `json:"rating_comment"`
	Returns       int                        `json:"returns"`
	Reopens       int                        `json:"reopens"`
	Transfers     int                        `json:"transfers"`
	ExtensionDays int                        `json:"extension_days"`
	Pending       *tongban.Pending           `json:"pending"`
	ParentID      int64                      `json:"parent_id"`
	Supervises    int64                      `json:"supervises"`
	NextAlarmAt   *Time                      `json:"next_alarm_at"`
	Supervision   *tongban.Supervision       `json:"supervision"`
	Attrs         map[string]json.RawMessage `json:"attrs"`
	Version       int64                      `json:"version"`
	LastHash      string                     `json:"last_hash"`
}

type eventRec struct {
	Type      string `json:"type"`
	ID        int64  `json:"id"`
	CaseID    int64  `json:"case_id"`
	Seq       int64  `json:"seq"`
	Action    string `json:"action"`
	FromStep  string `json:"from_step"`
	ToStep    string `json:"to_step"`
	ActorID   int64  `json:"actor_id"`
	Actor     string `json:"actor"`
	ActorDept string `json:"actor_dept"`
	At        Time   `json:"at"`
	Reason    string `json:"reason"`
	Note      string `json:"note"`
	Public    bool   `json:"public"`
	// Payload is the exact bytes hashed, as a string.
	Payload  string `json:"payload"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

type attachmentRec struct {
	Type        string `json:"type"`
	ID          int64  `json:"id"`
	CaseID      int64  `json:"case_id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Data        []byte `json:"data"`
	CreatedAt   Time   `json:"created_at"`
}

type piiRec struct {
	Type   string `json:"type"`
	ID     int64  `json:"id"`
	CaseID int64  `json:"case_id"`
	UserID int64  `json:"user_id"`
	Login  string `json:"login"`
	Reason string `json:"reason"`
	At     Time   `json:"at"`
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func toDept(d *tongban.Department) *deptRec {
	return &deptRec{TypeDepartment, d.ID, d.Code, d.Name, d.Kind, d.Parent, nonNil(d.Keywords), d.Disabled, Time{d.CreatedAt}}
}

func (r *deptRec) domain() *tongban.Department {
	return &tongban.Department{ID: r.ID, Code: r.Code, Name: r.Name, Kind: r.Kind, Parent: r.Parent, Keywords: r.Keywords, Disabled: r.Disabled, CreatedAt: r.CreatedAt.Time}
}

func toUser(u *tongban.User) *userRec {
	roles := make([]string, len(u.Roles))
	for i, r := range u.Roles {
		roles[i] = string(r)
	}
	return &userRec{TypeUser, u.ID, u.Login, u.Name, u.Dept, roles, u.Phone, u.Disabled, u.PasswordHash, Time{u.CreatedAt}}
}

func (r *userRec) domain() *tongban.User {
	roles := make([]tongban.Role, len(r.Roles))
	for i, s := range r.Roles {
		roles[i] = tongban.Role(s)
	}
	return &tongban.User{ID: r.ID, Login: r.Login, Name: r.Name, Dept: r.Dept, Roles: roles, Phone: r.Phone, Disabled: r.Disabled, PasswordHash: r.PasswordHash, CreatedAt: r.CreatedAt.Time}
}

func toCategory(c *tongban.Category) *categoryRec {
	limits := c.Limits
	if limits == nil {
		limits = map[string]int{}
	}
	return &categoryRec{TypeCategory, c.Code, c.Name, c.Description, c.Dept, limits, c.LimitHours, c.ReplyNeedsApproval, nonNil(c.Keywords), c.Active, c.Order, Time{c.UpdatedAt}}
}

func (r *categoryRec) domain() *tongban.Category {
	return &tongban.Category{Code: r.Code, Name: r.Name, Description: r.Description, Dept: r.Dept, Limits: r.Limits, LimitHours: r.LimitHours,
		ReplyNeedsApproval: r.ReplyNeedsApproval, Keywords: r.Keywords, Active: r.Active, Order: r.Order, UpdatedAt: r.UpdatedAt.Time}
}

func toAPIKey(k *tongban.APIKey) *apiKeyRec {
	return &apiKeyRec{TypeAPIKey, k.ID, k.Name, k.Hash, k.Prefix, k.Revoked, Time{k.CreatedAt}}
}

func (r *apiKeyRec) domain() *tongban.APIKey {
	return &tongban.APIKey{ID: r.ID, Name: r.Name, Hash: r.Hash, Prefix: r.Prefix, Revoked: r.Revoked, CreatedAt: r.CreatedAt.Time}
}

func toCase(c *tongban.Case) *caseRec {
	attrs := c.Attrs
	if len(attrs) == 0 {
		attrs = nil
	}
	sup := c.Supervision
	if sup.Empty() {
		sup = nil
	}
	return &caseRec{
		Type: TypeCase, ID: c.ID, Kind: c.Kind, Workflow: c.Workflow, TrackingCode: c.TrackingCode, CaseType: c.Type, Channel: c.Channel,
		Category: c.Category, Title: c.Title, Body: c.Body, Address: c.Address, Lat: c.Lat, Long: c.Long,
		ReqName: c.Requester.Name, ReqPhone: c.Requester.Phone, ReqEmail: c.Requester.Email, Confidential: c.Confidential,
		Lead: c.Lead, Co: nonNil(c.Co), First: c.First, Assignee: c.Assignee, Step: c.Step, Status: c.Status,
		ReceivedAt: Time{c.ReceivedAt}, UpdatedAt: Time{c.UpdatedAt}, StepStartedAt: Time{c.StepStarted}, StepDeadline: tp(c.StepDeadline),
		Deadline: Time{c.Deadline}, ClosedAt: tp(c.ClosedAt), Reply: c.Reply, RepliedAt: tp(c.RepliedAt), DraftReply: c.DraftReply,
		Rating: c.Rating, RatingComment: c.RatingComment, Returns: c.Returns, Reopens: c.Reopens, Transfers: c.Transfers,
		ExtensionDays: c.ExtensionDays, Pending: c.Pending, ParentID: c.ParentID, Attrs: attrs, Version: c.Version, LastHash: c.LastHash,
		Supervises: c.Supervises, NextAlarmAt: tp(c.NextAlarmAt), Supervision: sup,
	}
}

func (r *caseRec) domain() *tongban.Case {
	var co []string
	if len(r.Co) > 0 {
		co = r.Co
	}
	return &tongban.Case{
		ID: r.ID, Kind: r.Kind, Workflow: r.Workflow, TrackingCode: r.TrackingCode, Type: r.CaseType, Channel: r.Channel,
		Category: r.Category, Title: r.Title, Body: r.Body, Address: r.Address, Lat: r.Lat, Long: r.Long,
		Requester:    tongban.Requester{Name: r.ReqName, Phone: r.ReqPhone, Email: r.ReqEmail},
		Confidential: r.Confidential, Lead: r.Lead, Co: co, First: r.First, Assignee: r.Assignee, Step: r.Step, Status: r.Status,
		ReceivedAt: r.ReceivedAt.Time, UpdatedAt: r.UpdatedAt.Time, StepStarted: r.StepStartedAt.Time, StepDeadline: fromTP(r.StepDeadline),
		Deadline: r.Deadline.Time, ClosedAt: fromTP(r.ClosedAt), Reply: r.Reply, RepliedAt: fromTP(r.RepliedAt), DraftReply: r.DraftReply,
		Rating: r.Rating, RatingComment: r.RatingComment, Returns: r.Returns, Reopens: r.Reopens, Transfers: r.Transfers,
		ExtensionDays: r.ExtensionDays, Pending: r.Pending, ParentID: r.ParentID, Attrs: r.Attrs, Version: r.Version, LastHash: r.LastHash,
		Supervises: r.Supervises, NextAlarmAt: fromTP(r.NextAlarmAt), Supervision: r.Supervision,
	}
}

func toEvent(e *tongban.Event) *eventRec {
	return &eventRec{TypeEvent, e.ID, e.CaseID, e.Seq, e.Action, e.FromStep, e.ToStep, e.ActorID, e.Actor, e.ActorDept, Time{e.At},
		e.Reason, e.Note, e.Public, string(e.Payload), e.PrevHash, e.Hash}
}

func (r *eventRec) domain() *tongban.Event {
	var payload json.RawMessage
	if r.Payload != "" {
		payload = json.RawMessage(r.Payload)
	}
	return &tongban.Event{ID: r.ID, CaseID: r.CaseID, Seq: r.Seq, Action: r.Action, FromStep: r.FromStep, ToStep: r.ToStep,
		ActorID: r.ActorID, Actor: r.Actor, ActorDept: r.ActorDept, At: r.At.Time, Reason: r.Reason, Note: r.Note, Public: r.Public,
		Payload: payload, PrevHash: r.PrevHash, Hash: r.Hash}
}

func toAttachment(a *tongban.Attachment) *attachmentRec {
	return &attachmentRec{TypeAttachment, a.ID, a.CaseID, a.Name, a.ContentType, a.Size, a.SHA256, nonNil(a.Data), Time{a.CreatedAt}}
}

func (r *attachmentRec) domain() *tongban.Attachment {
	return &tongban.Attachment{ID: r.ID, CaseID: r.CaseID, Name: r.Name, ContentType: r.ContentType, Size: r.Size, SHA256: r.SHA256, Data: nonNil(r.Data), CreatedAt: r.CreatedAt.Time}
}

func toPII(a *tongban.PIIAccess) *piiRec {
	return &piiRec{TypePIIAccess, a.ID, a.CaseID, a.UserID, a.Login, a.Reason, Time{a.At}}
}

func (r *piiRec) domain() tongban.PIIAccess {
	return tongban.PIIAccess{ID: r.ID, CaseID: r.CaseID, UserID: r.UserID, Login: r.Login, Reason: r.Reason, At: r.At.Time}
}

type alarmRec struct {
	Type      string `json:"type"`
	ID        int64  `json:"id"`
	CaseID    int64  `json:"case_id"`
	Kind      string `json:"kind"`
	Scope     string `json:"scope"`
	Colour    string `json:"colour"`
	Deadline  Time   `json:"deadline"`
	DueAt     Time   `json:"due_at"`
	RaisedAt  Time   `json:"raised_at"`
	ClearedAt *Time  `json:"cleared_at"`
	Dept      string `json:"dept"`
	Person    string `json:"person"`
	Category  string `json:"category"`
}

func toAlarm(a *tongban.Alarm) *alarmRec {
	return &alarmRec{TypeAlarm, a.ID, a.CaseID, a.Kind, a.Scope, a.Colour, Time{a.Deadline}, Time{a.DueAt}, Time{a.RaisedAt}, tp(a.ClearedAt),
		a.Dept, a.Person, a.Category}
}

func (r *alarmRec) domain() *tongban.Alarm {
	return &tongban.Alarm{ID: r.ID, CaseID: r.CaseID, Kind: r.Kind, Scope: r.Scope, Colour: r.Colour, Deadline: r.Deadline.Time, DueAt: r.DueAt.Time,
		RaisedAt: r.RaisedAt.Time, ClearedAt: fromTP(r.ClearedAt), Dept: r.Dept, Person: r.Person, Category: r.Category}
}

type findingRec struct {
	Type    string `json:"type"`
	ID      int64  `json:"id"`
	CaseID  int64  `json:"case_id"`
	Dept    string `json:"dept"`
	Person  string `json:"person"`
	Kind    string `json:"kind"`
	Reason  string `json:"reason"`
	Outcome string `json:"outcome"`
	ByLogin string `json:"by_login"`
	At      Time   `json:"at"`
}

func toFinding(f *tongban.Finding) *findingRec {
	return &findingRec{TypeFinding, f.ID, f.CaseID, f.Dept, f.Person, f.Kind, f.Reason, f.Outcome, f.By, Time{f.At}}
}

func (r *findingRec) domain() *tongban.Finding {
	return &tongban.Finding{ID: r.ID, CaseID: r.CaseID, Dept: r.Dept, Person: r.Person, Kind: r.Kind, Reason: r.Reason, Outcome: r.Outcome, By: r.ByLogin, At: r.At.Time}
}

// The score records name the columns h0…h13 one by one: this fails to
// compile if the histogram gets another length (and the format a new
// version).
var _ = [1]struct{}{}[len(tongban.HandlingBuckets)-14]

// scoreCountsRec is a score row's counter columns, in column order.
type scoreCountsRec struct {
	Received        int64 `json:"received"`
	Closed          int64 `json:"closed"`
	ClosedOnTime    int64 `json:"closed_on_time"`
	HandlingSecs    int64 `json:"handling_secs"`
	H0              int64 `json:"h0"`
	H1              int64 `json:"h1"`
	H2              int64 `json:"h2"`
	H3              int64 `json:"h3"`
	H4              int64 `json:"h4"`
	H5              int64 `json:"h5"`
	H6              int64 `json:"h6"`
	H7              int64 `json:"h7"`
	H8              int64 `json:"h8"`
	H9              int64 `json:"h9"`
	H10             int64 `json:"h10"`
	H11             int64 `json:"h11"`
	H12             int64 `json:"h12"`
	H13             int64 `json:"h13"`
	R1              int64 `json:"r1"`
	R2              int64 `json:"r2"`
	R3              int64 `json:"r3"`
	R4              int64 `json:"r4"`
	R5              int64 `json:"r5"`
	Returns         int64 `json:"returns"`
	Reopens         int64 `json:"reopens"`
	AlarmWarning    int64 `json:"alarm_warning"`
	AlarmYellow     int64 `json:"alarm_yellow"`
	AlarmRed        int64 `json:"alarm_red"`
	AlarmFlag       int64 `json:"alarm_flag"`
	Orders          int64 `json:"orders"`
	Findings        int64 `json:"findings"`
	ValidComplaints int64 `json:"valid_complaints"`
}

func toScoreCounts(c *tongban.ScoreCounts) scoreCountsRec {
	h, r := &c.Hist, &c.Ratings
	return scoreCountsRec{c.Received, c.Closed, c.ClosedOnTime, c.HandlingSecs,
		h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13],
		r[0], r[1], r[2], r[3], r[4],
		c.Returns, c.Reopens, c.AlarmWarning, c.AlarmYellow, c.AlarmRed, c.AlarmFlag, c.Orders, c.Findings, c.ValidComplaints}
}

func (s *scoreCountsRec) domain() tongban.ScoreCounts {
	return tongban.ScoreCounts{Received: s.Received, Closed: s.Closed, ClosedOnTime: s.ClosedOnTime, HandlingSecs: s.HandlingSecs,
		Hist:    [len(tongban.HandlingBuckets)]int64{s.H0, s.H1, s.H2, s.H3, s.H4, s.H5, s.H6, s.H7, s.H8, s.H9, s.H10, s.H11, s.H12, s.H13},
		Ratings: [5]int64{s.R1, s.R2, s.R3, s.R4, s.R5},
		Returns: s.Returns, Reopens: s.Reopens, AlarmWarning: s.AlarmWarning, AlarmYellow: s.AlarmYellow, AlarmRed: s.AlarmRed,
		AlarmFlag: s.AlarmFlag, Orders: s.Orders, Findings: s.Findings, ValidComplaints: s.ValidComplaints}
}

type scoreDayRec struct {
	Type string `json:"type"`
	Dim  string `json:"dim"`
	Day  int    `json:"day"`
	Key  string `json:"key"`
	scoreCountsRec
}

type scoreMonthRec struct {
	Type  string `json:"type"`
	Dim   string `json:"dim"`
	Month int    `json:"month"`
	Key   string `json:"key"`
	scoreCountsRec
}

func toScoreDay(e *tongban.ScoreEntry) *scoreDayRec {
	return &scoreDayRec{TypeScoreDay, e.Dim, e.Period, e.Key, toScoreCounts(&e.ScoreCounts)}
}

func toScoreMonth(e *tongban.ScoreEntry) *scoreMonthRec {
	return &scoreMonthRec{TypeScoreMonth, e.Dim, e.Period, e.Key, toScoreCounts(&e.ScoreCounts)}
}
