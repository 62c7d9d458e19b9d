package tongban

import (
	"context"
	"time"
)

// Alarm colours (预警, 黄牌, 红牌) and flags for the other triggers. An
// alarm is raised as an event on its case with the action "alarm_" + colour.
const (
	AlarmWarning = "warning"
	AlarmYellow  = "yellow"
	AlarmRed     = "red"
	AlarmFlag    = "flag"
)

// Alarm scopes: the clock an alarm watches, or the trigger of a flag.
const (
	AlarmScopeStep        = "step"        // the current step's limit
	AlarmScopeCase        = "case"        // the whole case's limit
	AlarmScopeOrder       = "order"       // a supervision order on the case ran out (red)
	AlarmScopeReturns     = "returns"     // returned more than allowed: the centre rules
	AlarmScopeNoReason    = "no_reason"   // refused or returned without a reason
	AlarmScopeReopen      = "reopen"      // reopened after an unsatisfied rating
	AlarmScopeUnsatisfied = "unsatisfied" // 差评 not rectified and called back in time
	AlarmScopeRectify     = "rectify"     // a 差评 not rectified by its deadline (整改超期)
	AlarmScopeFee         = "fee"         // a fee the catalogue does not allow
	AlarmScopeBackdated   = "backdated"   // an application entered after the fact
)

// AlarmMark is an alarm raised on a case and still live. The marks are
// kept on the case row, so raising an alarm is guarded by the case's
// version like any other write: two scanners cannot both raise it.
type AlarmMark struct {
	Scope    string    `json:"scope"`
	Colour   string    `json:"colour"`
	Deadline time.Time `json:"deadline"`
	At       time.Time `json:"at"`
}

// OrderRef is a supervision order opened on a case.
type OrderRef struct {
	Code     string    `json:"code"`
	Dept     string    `json:"department"`
	Deadline time.Time `json:"deadline"`
	At       time.Time `json:"at"`
	Auto     bool      `json:"auto,omitempty"`
}

// Supervision is a case's supervision state: live alarms, the time of an
// unsatisfied rating awaiting call-back, and the orders opened on it.
type Supervision struct {
	Alarms        []AlarmMark `json:"alarms,omitempty"`
	UnsatisfiedAt *time.Time  `json:"unsatisfied_at,omitempty"`
	Orders        []OrderRef  `json:"orders,omitempty"`
}

// Empty reports whether there is nothing to keep.
func (s *Supervision) Empty() bool {
	return s == nil || len(s.Alarms) == 0 && s.UnsatisfiedAt == nil && len(s.Orders) == 0
}

// Alarm is one row of the live-alarm list.
type Alarm struct {
	ID           int64      `json:"id"`
	CaseID       int64      `json:"case_id"`
	TrackingCode string     `json:"tracking_code,omitempty"`
	Title        string     `json:"title,omitempty"`
	Kind         string     `json:"kind"`
	Scope        string     `json:"scope"`
	Colour       string     `json:"colour"`
	Deadline     time.Time  `json:"deadline"`
	DueAt        time.Time  `json:"due_at"`
	RaisedAt     time.Time  `json:"raised_at"`
	ClearedAt    *time.Time `json:"cleared_at,omitempty"`
	Dept         string     `json:"department,omitempty"`
	Person       string     `json:"person,omitempty"`
	Category     string     `json:"category,omitempty"`
}

// AlarmKey names one alarm of a case.
type AlarmKey struct {
	Scope, Colour string
	Deadline      time.Time
}

// AlarmFilter selects alarms; State is "open", "cleared" or "" (all).
type AlarmFilter struct {
	State    string
	Colour   string
	Scopes   []string // any of these scopes (none: every scope)
	Dept     string
	Category string
	CaseID   int64
	Offset   int
	Limit    int
}

// Finding is an accountability record (问责) against a department or a
// person, on a case or a supervision order. Kind "valid_complaint" marks a
// complaint the supervisor found substantiated (有效投诉).
type Finding struct {
	ID      int64     `json:"id"`
	CaseID  int64     `json:"case_id"`
	Dept    string    `json:"department,omitempty"`
	Person  string    `json:"person,omitempty"`
	Kind    string    `json:"kind"`
	Reason  string    `json:"reason"`
	Outcome string    `json:"outcome,omitempty"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// FindingValidComplaint is the kind of a substantiated complaint.
const FindingValidComplaint = "valid_complaint"

// FindingFilter selects findings.
type FindingFilter struct {
	Dept, Person, Kind string
	CaseID             int64
	From, To           time.Time
	Limit              int
}

// Scorecard dimensions.
const (
	ByDepartment = "department"
	ByPerson     = "person"
	ByCategory   = "category"
)

// HandlingBuckets are the upper bounds, in working days, of the handling
// time histogram kept per scorecard day row; the last bucket is open.
var HandlingBuckets = [...]float64{0.5, 1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 45, 60, 0}

// ScoreCounts are the additive counters of a scorecard row.
type ScoreCounts struct {
	Received        int64                       `json:"received"`
	Closed          int64                       `json:"closed"`
	ClosedOnTime    int64                       `json:"closed_on_time"`
	HandlingSecs    int64                       `json:"handling_work_seconds"`
	Hist            [len(HandlingBuckets)]int64 `json:"handling_histogram"`
	Ratings         [5]int64                    `json:"ratings"`
	Returns         int64                       `json:"returns"`
	Reopens         int64                       `json:"reopens"`
	AlarmWarning    int64                       `json:"alarm_warning"`
	AlarmYellow     int64                       `json:"alarm_yellow"`
	AlarmRed        int64                       `json:"alarm_red"`
	AlarmFlag       int64                       `json:"alarm_flag"`
	Orders          int64                       `json:"orders"`
	Findings        int64                       `json:"findings"`
	ValidComplaints int64                       `json:"valid_complaints"`
}

// Add adds o to s.
func (s *ScoreCounts) Add(o *ScoreCounts) {
	s.Received += o.Received
	s.Closed += o.Closed
	s.ClosedOnTime += o.ClosedOnTime
	s.HandlingSecs += o.HandlingSecs
	for i := range s.Hist {
		s.Hist[i] += o.Hist[i]
	}
	for i := range s.Ratings {
		s.Ratings[i] += o.Ratings[i]
	}
	s.Returns += o.Returns
	s.Reopens += o.Reopens
	s.AlarmWarning += o.AlarmWarning
	s.AlarmYellow += o.AlarmYellow
	s.AlarmRed += o.AlarmRed
	s.AlarmFlag += o.AlarmFlag
	s.Orders += o.Orders
	s.Findings += o.Findings
	s.ValidComplaints += o.ValidComplaints
}

// ScoreDelta adds counts to one day row (Day is YYYYMMDD in Shanghai).
type ScoreDelta struct {
	Day int
	Dim string
	Key string
	ScoreCounts
}

// ScoreRow is a sum of day rows for one key (or one day).
type ScoreRow struct {
	Key string
	ScoreCounts
}

// Derived is what a case write entails besides the case row and its event:
// the store applies it in the same transaction, so the alarm list and the
// scorecards never disagree with the record. The engine fills it; the
// store clears it after a successful write.
type Derived struct {
	Raise    []Alarm
	Clear    []AlarmKey
	ClearAll bool
	// Reassign moves the case's open alarms to department Dept and person
	// Person (the case changed hands).
	Reassign     bool
	Dept, Person string
	Scores       []ScoreDelta
	Findings     []*Finding
	// Orders are supervision orders to create, each with its first event.
	Orders []NewOrder
	// WriteRatings replaces the case's rating rows with Ratings (the
	// ratings in its attrs changed).
	WriteRatings bool
	Ratings      []RatingRow
}

// NewOrder is a case to create with its first event in the same
// transaction as the write that opens it.
type NewOrder struct {
	Case  *Case
	Event *Event
}

// Empty reports whether there is nothing to apply.
func (d *Derived) Empty() bool {
	return d == nil || len(d.Raise) == 0 && len(d.Clear) == 0 && !d.ClearAll && !d.Reassign &&
		len(d.Scores) == 0 && len(d.Findings) == 0 && len(d.Orders) == 0 && !d.WriteRatings
}

// SupervisionStore is what electronic supervision needs of the store.
type SupervisionStore interface {
	// ClaimDueAlarms returns up to limit open cases whose next alarm is due
	// at now, earliest first, and leases them until now+lease so other
	// scanners skip them meanwhile (a write to the case ends the lease).
	ClaimDueAlarms(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]int64, error)
	// SetNextAlarm corrects a case's next alarm instant without an event,
	// if its version is still version (after a configuration change).
	SetNextAlarm(ctx context.Context, caseID, version int64, next *time.Time) error
	ListAlarms(ctx context.Context, f AlarmFilter) ([]*Alarm, int, error)
	// OpenOverdue counts open yellow cards on whole cases (not orders)
	// whose deadline falls in [from, to), by dim.
	OpenOverdue(ctx context.Context, dim string, from, to time.Time) (map[string]int64, error)
	// ScoreTotals sums the day rows of dim in [fromDay, toDay] by key.
	ScoreTotals(ctx context.Context, dim string, fromDay, toDay int) ([]ScoreRow, error)
	// ScoreByDay sums the day rows of dim (and key, if not "") by day.
	ScoreByDay(ctx context.Context, dim, key string, fromDay, toDay int) ([]ScoreRow, error)
	// AddScores adds deltas to day rows outside any case write (synthetic
	// data and rebuilds).
	AddScores(ctx context.Context, deltas []ScoreDelta) error
	ListFindings(ctx context.Context, f FindingFilter) ([]*Finding, error)
}

// SplitMonths splits the days [fromDay, toDay] (YYYYMMDD) into the whole
// months inside it [fromMonth, toMonth] (YYYYMM; none when fromMonth >
// toMonth) and up to two runs of days outside them, so a long period sums
// month rows plus a few day rows rather than every day row.
func SplitMonths(fromDay, toDay int) (days [][2]int, fromMonth, toMonth int) {
	date := func(d int) time.Time { return time.Date(d/10000, time.Month(d/100%100), d%100, 0, 0, 0, 0, time.UTC) }
	day := func(t time.Time) int { return t.Year()*10000 + int(t.Month())*100 + t.Day() }
	f, t := date(fromDay), date(toDay)
	mf := time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, time.UTC)
	if mf.Before(f) {
		mf = mf.AddDate(0, 1, 0)
	}
	mt := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC) // first day of to's month
	if !mt.AddDate(0, 1, -1).Equal(t) {
		mt = mt.AddDate(0, -1, 0) // to's month is partial
	}
	if mt.Before(mf) {
		return [][2]int{{fromDay, toDay}}, 1, 0
	}
	if f.Before(mf) {
		days = append(days, [2]int{fromDay, day(mf.AddDate(0, 0, -1))})
	}
	if end := mt.AddDate(0, 1, 0); !end.After(t) {
		days = append(days, [2]int{day(end), toDay})
	}
	return days, mf.Year()*100 + int(mf.Month()), mt.Year()*100 + int(mt.Month())
}
