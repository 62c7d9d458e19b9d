// Package dump moves the whole system between stores of either kind
// (`tongban dump FILE`, `tongban load FILE`, and `tongban backup` on
// PostgreSQL) through one portable, versioned file.
//
// # Format (version 1)
//
// JSON Lines, UTF-8, one object per line, each line ending in "\n":
//
//	{"format":"tongban-dump","version":1,"exported_at":"2025-03-03T09:01:07.123456Z"}
//	{"type":"department","id":1,"code":"zx",…}
//	…
//	{"type":"end","counts":{"api_key":1,…},"sha256":"…"}
//
// The header comes first. Then the records, by type in this order —
// department, user, category, calendar_override, api_key, case, event,
// attachment, pii_access — and within a type by id (categories by code,
// calendar overrides by date). Field names are the database columns'.
// The last line, "end", holds the number of records of each type and the
// SHA-256 (hex) of every line between the header and itself, newlines
// included, so a truncated or altered file is refused. The header is left
// out of the checksum so that two dumps of unchanged data are byte for
// byte identical except for exported_at.
//
// Times are RFC 3339 in UTC with exactly six fractional digits (the
// microseconds both stores keep); nullable times are null. Attachment data
// is standard base64. Event payloads are JSON strings holding the exact
// bytes that were hashed. Maps have sorted keys and floats the shortest
// representation that reads back exactly, so the same data always gives
// the same bytes. Sessions and rate-limit counters are not dumped. A FILE
// ending in .gz is gzip-compressed with no name or time in its header, so
// it too is reproducible.
//
// IDs, hashes and versions are kept: a dump loaded into an empty store and
// dumped again gives the same file. Load checks every case's event hash
// chain (tongban.VerifyChain) and that the case's version and last hash are
// its last event's seq and hash.
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

// Format and Version identify the file format in the header.
const (
	Format  = "tongban-dump"
	Version = 1
)

// Record types, in file order.
const (
	TypeDepartment       = "department"
	TypeUser             = "user"
	TypeCategory         = "category"
	TypeCalendarOverride = "calendar_override"
	TypeAPIKey           = "api_key"
	TypeCase             = "case"
	TypeEvent            = "event"
	TypeAttachment       = "attachment"
	TypePIIAccess        = "pii_access"
	typeEnd              = "end"
)

// Types lists the record types in the order a dump holds them.
var Types = []string{TypeDepartment, TypeUser, TypeCategory, TypeCalendarOverride, TypeAPIKey, TypeCase, TypeEvent, TypeAttachment, TypePIIAccess}

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
