package tongban

import (
	"encoding/json"
	"strings"
	"time"
)

// Case kinds: one engine, many workflows.
const (
	KindRequest     = "request"
	KindApplication = "application"
	KindEvent       = "event"
	KindTask        = "task"
	KindProposal    = "proposal"
)

// Case statuses.
const (
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// Limits on sizes of user input.
const (
	MaxTitle      = 200
	MaxBody       = 4000
	MaxAddress    = 200
	MaxReason     = 1000
	MaxReply      = 4000
	MaxName       = 50
	MaxAttachment = 10 << 20
	MaxAttachN    = 9
)

// Requester is the person who filed a request. It is personal data: the
// engine masks it for roles that need not see it and logs every unmasked view.
type Requester struct {
	Name  string `json:"name,omitempty"`
	Phone string `json:"phone,omitempty"`
	Email string `json:"email,omitempty"`
}

// Masked returns the requester with name and phone partly hidden.
func (r Requester) Masked() Requester {
	return Requester{Name: MaskName(r.Name), Phone: MaskPhone(r.Phone), Email: maskEmail(r.Email)}
}

// MaskName keeps the family name: 张三丰 → 张**.
func MaskName(s string) string {
	rs := []rune(s)
	if len(rs) == 0 {
		return ""
	}
	return string(rs[0]) + strings.Repeat("*", max(len(rs)-1, 1))
}

// MaskPhone keeps the first three and last four digits: 138****5678.
func MaskPhone(s string) string {
	if len(s) < 7 {
		return strings.Repeat("*", len(s))
	}
	return s[:3] + strings.Repeat("*", len(s)-7) + s[len(s)-4:]
}

func maskEmail(s string) string {
	at := strings.IndexByte(s, '@')
	if at <= 0 {
		return ""
	}
	return s[:1] + "***" + s[at:]
}

// Pending is a request awaiting a head's decision: an extension or a reply.
type Pending struct {
	Kind   string    `json:"kind"` // "extension"
	Days   int       `json:"days,omitempty"`
	Reason string    `json:"reason,omitempty"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// Case is one matter some department must handle within a time limit.
type Case struct {
	ID           int64     `json:"id"`
	Kind         string    `json:"kind"`
	Workflow     string    `json:"workflow"`
	TrackingCode string    `json:"tracking_code"`
	Type         string    `json:"type,omitempty"`
	Channel      string    `json:"channel"`
	Category     string    `json:"category"`
	Title        string    `json:"title"`
	Body         string    `json:"body"`
	Address      string    `json:"address,omitempty"`
	Lat          *float64  `json:"lat,omitempty"`
	Long         *float64  `json:"long,omitempty"`
	Requester    Requester `json:"requester"`
	Confidential bool      `json:"confidential"`
	// Lead is the department handling it now; Co are co-departments;
	// First is the first department that accepted it (首办), accountable
	// until a transfer is accepted.
	Lead     string   `json:"department,omitempty"`
	Co       []string `json:"co_departments,omitempty"`
	First    string   `json:"first_department,omitempty"`
	Assignee string   `json:"assignee,omitempty"` // login of the handler in charge

	Step         string     `json:"step"`
	Status       string     `json:"status"`
	ReceivedAt   time.Time  `json:"received_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	StepStarted  time.Time  `json:"step_started_at"`
	StepDeadline *time.Time `json:"step_deadline,omitempty"`
	Deadline     time.Time  `json:"deadline"`
	ClosedAt     *time.Time `json:"closed_at,omitempty"`

	Reply         string     `json:"reply,omitempty"`
	RepliedAt     *time.Time `json:"replied_at,omitempty"`
	DraftReply    string     `json:"draft_reply,omitempty"`
	Rating        int        `json:"rating,omitempty"`
	RatingComment string     `json:"rating_comment,omitempty"`
	Returns       int        `json:"returns"`
	Reopens       int        `json:"reopens"`
	Transfers     int        `json:"transfers"`
	ExtensionDays int        `json:"extension_days"`
	Pending       *Pending   `json:"pending,omitempty"`
	ParentID      int64      `json:"parent_id,omitempty"`
	// Supervises is the case a supervision order (督办单) supervises.
	Supervises int64 `json:"supervises,omitempty"`
	// NextAlarmAt is when the next alarm on the case falls due (nil: none).
	// The engine recomputes it on every write, so an alarm scan selects only
	// the cases due rather than every open case.
	NextAlarmAt *time.Time   `json:"next_alarm_at,omitempty"`
	Supervision *Supervision `json:"supervision,omitempty"`
	// Derived is applied by the store in the same transaction as the write
	// (alarm rows, scorecard counters, orders); never stored on the case.
	Derived *Derived `json:"-"`
	// Attrs carries workflow-specific data (application forms, task
	// progress) that has no column of its own.
	Attrs map[string]json.RawMessage `json:"attrs,omitempty"`
	// StatutoryDeadline and PromisedDeadline (法定/承诺时限) of an
	// application are kept in Attrs; representations copy them here.
	StatutoryDeadline *time.Time `json:"statutory_deadline,omitempty"`
	PromisedDeadline  *time.Time `json:"promised_deadline,omitempty"`

	Version  int64  `json:"version"`
	LastHash string `json:"-"`
	// TextSig is the MinHash signature of Title and Body
	// (textproc.SignCase, as bytes) when the creator computed it before
	// Store.CreateCase, which then takes it instead of signing the text
	// again and clears it. Nothing else reads it.
	TextSig []byte `json:"-"`

	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment is a file a requester or handler added to a case.
type Attachment struct {
	ID          int64     `json:"id"`
	CaseID      int64     `json:"case_id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	Data        []byte    `json:"-"`
	CreatedAt   time.Time `json:"created_at"`
}

// InDept reports whether a department is lead, co-department or first
// department of the case: the departments whose staff may see it.
func (c *Case) InDept(dept string) bool {
	if dept == "" {
		return false
	}
	if c.Lead == dept || c.First == dept {
		return true
	}
	for _, d := range c.Co {
		if d == dept {
			return true
		}
	}
	return false
}

// CaseFilter selects cases for lists and inboxes.
type CaseFilter struct {
	Kind      string
	Status    string
	Steps     []string
	Type      string
	Category  string
	Dept      string // lead, co or first department
	LeadDept  string // lead department only
	Assignee  string
	Channel   string
	Pending   string // kind of pending decision
	From, To  time.Time
	DueBefore time.Time // deadline before (for "time left" filters)
	Query     string
	Sort      string // "deadline" (time left, default), "-received", "received"
	Offset    int
	Limit     int
}

// CasePage is one page of a case list.
type CasePage struct {
	Cases []*Case `json:"cases"`
	Total int     `json:"total"`
}
