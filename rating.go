package tongban

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// 好差评 (Guobanfa [2019] No. 51): every rating a case receives is kept in
// its attrs under AttrRatings — online one per matter (the action "rate"),
// at a window one per visit ("rate_visit") — and every 差评 (level 1 or 2)
// is an item with a life of its own: verification (核实), call-back to the
// rater (回访), rectification (整改) by the rated department within a
// limit, or an appeal (申诉) decided by the supervision office; an upheld
// appeal removes the rating from every aggregate while the record keeps it.
// The stores keep one row per rating derived from the attrs (RatingRows)
// so the published aggregates are a GROUP BY, never a scan of the cases.

// AttrRatings is the attr key of a case's ratings; AttrFlags of its
// supervision flags; AttrFees of the fees recorded on an application.
const (
	AttrRatings = "ratings"
	AttrFlags   = "flags"
	AttrFees    = "fees"
)

// Rating channels: online (the portal, the app, the hotline's SMS) or at a
// window, recorded by the clerk for the visit.
const (
	RatingOnline = "online"
	RatingWindow = "window"
)

// Verdicts of a 差评's verification.
const (
	VerdictValid     = "valid"     // 属实
	VerdictMistaken  = "mistaken"  // 误评
	VerdictMalicious = "malicious" // 恶意差评
)

// Verdicts lists the verdicts in the order forms show them.
var Verdicts = []string{VerdictValid, VerdictMistaken, VerdictMalicious}

// States of a 差评 item.
const (
	BadVerify   = "verify"   // 待核实
	BadRectify  = "rectify"  // 待整改
	BadCallback = "callback" // 待回访
	BadDone     = "done"     // 已办结: verified, rectified and called back
	BadAppeal   = "appeal"   // 申诉待裁决
	BadRemoved  = "removed"  // 申诉成立，不计入统计
)

// BadStates lists the states in the order lists show them.
var BadStates = []string{BadVerify, BadRectify, BadCallback, BadAppeal, BadDone, BadRemoved}

// IsBad reports whether a level is a 差评 (不满意, 非常不满意).
func IsBad(level int) bool { return level >= 1 && level <= 2 }

// RatingItem is one rating of a case.
type RatingItem struct {
	No      int    `json:"no"` // 1, 2, … within the case
	Channel string `json:"channel"`
	// Visit marks the rating of one window visit ("rate_visit"); the
	// others are the matter's own rating ("rate").
	Visit   bool      `json:"visit,omitempty"`
	Level   int       `json:"level"`
	Comment string    `json:"comment,omitempty"`
	By      string    `json:"by"` // "public", or the clerk who recorded it
	At      time.Time `json:"at"`
	// Dept is the department rated: the one responsible for the case then.
	Dept string     `json:"department"`
	Bad  *BadRating `json:"bad,omitempty"`
}

// BadRating is the life of a 差评.
type BadRating struct {
	// Deadline is when rectification is due (zero: no limit configured).
	Deadline   time.Time  `json:"deadline,omitzero"`
	Verdict    string     `json:"verdict,omitempty"`
	VerifiedBy string     `json:"verified_by,omitempty"`
	VerifiedAt *time.Time `json:"verified_at,omitempty"`
	Callbacks  []Step     `json:"callbacks,omitempty"`
	Rectified  *Step      `json:"rectified,omitempty"`
	Appeal     *Appeal    `json:"appeal,omitempty"`
	Removed    bool       `json:"removed,omitempty"`
}

// Step is one recorded step: who, when, what.
type Step struct {
	By   string    `json:"by"`
	At   time.Time `json:"at"`
	Text string    `json:"text,omitempty"`
}

// Appeal is a department's appeal against a 差评 and its decision.
type Appeal struct {
	By        string     `json:"by"`
	At        time.Time  `json:"at"`
	Reason    string     `json:"reason"`
	DecidedBy string     `json:"decided_by,omitempty"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	Upheld    bool       `json:"upheld,omitempty"`
	Decision  string     `json:"decision,omitempty"`
}

// Pending reports whether the appeal awaits its decision.
func (a *Appeal) Pending() bool { return a != nil && a.DecidedAt == nil }

// State is where a 差评 stands.
func (b *BadRating) State() string {
	switch {
	case b.Removed:
		return BadRemoved
	case b.Appeal.Pending():
		return BadAppeal
	case b.Verdict == "":
		return BadVerify
	case b.Rectified == nil:
		return BadRectify
	case len(b.Callbacks) == 0:
		return BadCallback
	}
	return BadDone
}

// Open reports whether the 差评 still needs someone to act.
func (b *BadRating) Open() bool { s := b.State(); return s != BadDone && s != BadRemoved }

// AwaitsRectification reports whether the department's clock runs: not
// rectified, not removed, no appeal pending.
func (b *BadRating) AwaitsRectification() bool {
	return !b.Removed && b.Rectified == nil && !b.Appeal.Pending()
}

// OnTime reports whether it was rectified by its deadline.
func (b *BadRating) OnTime() bool {
	return b.Rectified != nil && (b.Deadline.IsZero() || !b.Rectified.At.After(b.Deadline))
}

// Overdue reports whether rectification is late at now.
func (b *BadRating) Overdue(now time.Time) bool {
	return b.AwaitsRectification() && !b.Deadline.IsZero() && now.After(b.Deadline)
}

// CaseRatings returns a case's ratings, oldest first.
func CaseRatings(c *Case) []RatingItem {
	raw, ok := c.Attrs[AttrRatings]
	if !ok {
		return nil
	}
	var out []RatingItem
	if json.Unmarshal(raw, &out) != nil {
		return nil
	}
	return out
}

// SetCaseRatings stores a case's ratings in its attrs.
func SetCaseRatings(c *Case, items []RatingItem) {
	if c.Attrs == nil {
		c.Attrs = map[string]json.RawMessage{}
	}
	c.Attrs[AttrRatings], _ = json.Marshal(items)
}

// RatingRow is what the stores keep of one rating for the aggregates and
// the 差评 workbench: no personal data, no comment.
type RatingRow struct {
	CaseID   int64     `json:"case_id"`
	No       int       `json:"no"`
	Kind     string    `json:"kind"`
	Dept     string    `json:"department"`
	Category string    `json:"category"` // a request's category, an application's matter code
	Channel  string    `json:"channel"`
	Level    int       `json:"level"`
	At       time.Time `json:"at"`
	// State of a 差评 ("" for other ratings); the flags count its steps.
	State      string     `json:"state"`
	Verified   bool       `json:"verified"`
	CalledBack bool       `json:"called_back"`
	Rectified  bool       `json:"rectified"`
	OnTime     bool       `json:"rectified_on_time"`
	Appealed   bool       `json:"appealed"`
	Removed    bool       `json:"removed"`
	Deadline   *time.Time `json:"deadline,omitempty"` // rectification deadline of a 差评
}

// RatingRows derives the stored rows of a case's ratings.
func RatingRows(c *Case) []RatingRow {
	items := CaseRatings(c)
	out := make([]RatingRow, 0, len(items))
	for _, it := range items {
		r := RatingRow{CaseID: c.ID, No: it.No, Kind: c.Kind, Dept: it.Dept, Category: c.Category, Channel: it.Channel, Level: it.Level, At: it.At}
		if b := it.Bad; b != nil {
			r.State = b.State()
			r.Verified = b.Verdict != ""
			r.CalledBack = len(b.Callbacks) > 0
			r.Rectified = b.Rectified != nil
			r.OnTime = b.OnTime()
			r.Appealed = b.Appeal != nil
			r.Removed = b.Removed
			if !b.Deadline.IsZero() {
				d := b.Deadline
				r.Deadline = &d
			}
		}
		out = append(out, r)
	}
	return out
}

// RatingCounts are the aggregates of a set of ratings. Removed ratings
// (an appeal upheld) are left out of Levels; the step counters count
// every 差评 given, removed or not.
type RatingCounts struct {
	Levels     [5]int64 `json:"-"`
	Verified   int64    `json:"verified"`
	CalledBack int64    `json:"called_back"`
	Rectified  int64    `json:"rectified"`
	OnTime     int64    `json:"rectified_on_time"`
	Appealed   int64    `json:"appealed"`
	Removed    int64    `json:"removed"`
}

// Add adds o to r.
func (r *RatingCounts) Add(o *RatingCounts) {
	for i := range r.Levels {
		r.Levels[i] += o.Levels[i]
	}
	r.Verified += o.Verified
	r.CalledBack += o.CalledBack
	r.Rectified += o.Rectified
	r.OnTime += o.OnTime
	r.Appealed += o.Appealed
	r.Removed += o.Removed
}

// Rated is the number of ratings counted.
func (r *RatingCounts) Rated() int64 {
	var n int64
	for _, x := range r.Levels {
		n += x
	}
	return n
}

// Bad is the number of 差评 counted (removed ones left out).
func (r *RatingCounts) Bad() int64 { return r.Levels[0] + r.Levels[1] }

// RatingTotal is the aggregate of one (kind, department, category).
type RatingTotal struct {
	Kind     string
	Dept     string
	Category string
	RatingCounts
}

// BadRatingFilter selects 差评 for the workbench.
type BadRatingFilter struct {
	// State is one of BadStates, "open" (every state but done and
	// removed), "overdue" (awaiting rectification past its deadline at
	// Now) or "" (all).
	State  string
	Dept   string
	Kind   string
	Now    time.Time
	Offset int
	Limit  int
}

// BadRatingRow is a 差评 as the workbench lists it.
type BadRatingRow struct {
	RatingRow
	TrackingCode string `json:"tracking_code"`
	Title        string `json:"title"`
}

// RatingStore keeps the rating rows. The sqlite and postgres stores
// implement it; it is apart from Store so other stores need not. The
// rows are written by the case write that changes them (Derived.Ratings)
// and rebuilt from the cases' attrs when a dump is loaded.
type RatingStore interface {
	// RatingTotals sums the ratings given in [from, to) by kind,
	// department and category.
	RatingTotals(ctx context.Context, from, to time.Time) ([]RatingTotal, error)
	// ListBadRatings lists 差评 (deadline first, then oldest) and counts
	// all that match.
	ListBadRatings(ctx context.Context, f BadRatingFilter) ([]*BadRatingRow, int, error)
}

// Flag is a supervision flag on an application: a fee the catalogue does
// not allow, or work recorded after the fact.
type Flag struct {
	Kind   string    `json:"kind"`
	At     time.Time `json:"at"` // when it was recorded
	Action string    `json:"action"`
	By     string    `json:"by,omitempty"`
	Detail string    `json:"detail"`
	// ActedAt is the time the action claims (back-dated entries).
	ActedAt *time.Time `json:"acted_at,omitempty"`
}

// Flag kinds.
const (
	FlagFeeNotInCatalogue = "fee_not_in_catalogue" // 收费项目不在目录内
	FlagFeeOverAmount     = "fee_over_amount"      // 收费超过目录标准
	FlagFeeOnFreeMatter   = "fee_on_free_matter"   // 免费事项收费
	FlagBackdatedReceipt  = "backdated_receipt"    // 事后补录：收件时间早于录入
	FlagBackdatedAction   = "backdated_action"     // 事后补录：办理时间早于录入
)

// FlagScope is the alarm scope a flag kind is raised under.
func FlagScope(kind string) string {
	if strings.HasPrefix(kind, "fee_") {
		return AlarmScopeFee
	}
	return AlarmScopeBackdated
}

// CaseFlags returns a case's supervision flags, oldest first.
func CaseFlags(c *Case) []Flag {
	var out []Flag
	if raw, ok := c.Attrs[AttrFlags]; ok {
		_ = json.Unmarshal(raw, &out)
	}
	return out
}

// AddFlag appends a supervision flag to a case.
func AddFlag(c *Case, f Flag) {
	flags := append(CaseFlags(c), f)
	if c.Attrs == nil {
		c.Attrs = map[string]json.RawMessage{}
	}
	c.Attrs[AttrFlags], _ = json.Marshal(flags)
}

// Charge is a fee recorded on an application.
type Charge struct {
	Item   string    `json:"item"`
	Amount string    `json:"amount"` // yuan, e.g. "50.00"
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	// Catalogued is the catalogue's amount for the item ("" if none).
	Catalogued string `json:"catalogued,omitempty"`
	Flag       string `json:"flag,omitempty"`
}

// ParseFen reads an amount in yuan ("50", "50.5", "50.00") as fen; ok is
// false for anything else (negative, more than two decimals, too large).
func ParseFen(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if !amountRe.MatchString(s) {
		return 0, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	y, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	return y*100 + f, true
}

// FormatFen writes fen as yuan with two decimals.
func FormatFen(n int64) string {
	return strconv.FormatInt(n/100, 10) + "." + strconv.FormatInt(n%100/10, 10) + strconv.FormatInt(n%10, 10)
}
