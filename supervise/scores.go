package supervise

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
)

// Day is the scorecard day (YYYYMMDD in Shanghai) of an instant.
func Day(t time.Time) int {
	y, m, d := t.In(calendar.Shanghai).Date()
	return y*10000 + int(m)*100 + d
}

// DayOf parses YYYY-MM-DD into a scorecard day.
func DayOf(s string) (int, error) {
	t, err := calendar.ParseDate(s)
	if err != nil {
		return 0, err
	}
	return Day(t), nil
}

// workday is the office time of one working day.
func workday(cal *calendar.Calendar) time.Duration {
	mon := time.Date(2026, 9, 28, 0, 0, 0, 0, calendar.Shanghai) // a working Monday
	return cal.WorkDuration(mon, mon.Add(24*time.Hour))
}

// Handling is the office time a case took: from receipt to its reply
// (the department's work is done then; the rating that closes it is the
// requester's), or to its closing when it had none.
func Handling(cal *calendar.Calendar, c *tongban.Case) (done time.Time, d time.Duration) {
	switch {
	case c.RepliedAt != nil:
		done = *c.RepliedAt
	case c.ClosedAt != nil:
		done = *c.ClosedAt
	default:
		return time.Time{}, 0
	}
	return done, max(cal.WorkDuration(c.ReceivedAt, done), 0)
}

// Bucket is the histogram bucket of a handling time in working days.
func Bucket(workdays float64) int {
	for i, b := range tongban.HandlingBuckets {
		if b == 0 || workdays <= b {
			return i
		}
	}
	return len(tongban.HandlingBuckets) - 1
}

// OnTime reports whether a closed case was handled by its deadline.
func OnTime(c *tongban.Case, done time.Time) bool { return !done.After(c.Deadline) }

// deltas accumulates counts per (day, dim, key).
type deltas struct {
	out []tongban.ScoreDelta
}

func (d *deltas) add(day int, dim, key string, f func(s *tongban.ScoreCounts)) {
	if key == "" {
		return
	}
	for i := range d.out {
		if x := &d.out[i]; x.Day == day && x.Dim == dim && x.Key == key {
			f(&x.ScoreCounts)
			return
		}
	}
	x := tongban.ScoreDelta{Day: day, Dim: dim, Key: key}
	f(&x.ScoreCounts)
	d.out = append(d.out, x)
}

// all adds to the department, person and category of a case.
func (d *deltas) all(day int, dept, person, cat string, f func(s *tongban.ScoreCounts)) {
	d.add(day, tongban.ByDepartment, dept, f)
	d.add(day, tongban.ByPerson, person, f)
	d.add(day, tongban.ByCategory, cat, f)
}

// Responsible is the department a case's figures count against: its
// lead, or the first department (首办) when it has none now.
func Responsible(c *tongban.Case) string {
	if c.Lead != "" {
		return c.Lead
	}
	return c.First
}

// Deltas returns what an event adds to the scorecards: prev is the case
// before it (nil for a new case), c after. Supervision orders (tasks)
// count only as orders of their recipient; alarms, orders and findings
// are counted by the engine from what it raises.
//
//   - received: a category on filing; a department each time the case is
//     put in its hands (dispatch, transfer); a person on accepting it.
//   - closed, closed on time, handling time: on the day it closes, for
//     the responsible department, its handler and its category.
//   - ratings: on the day a rating is given.
//   - returns (退单) and reopens, on the day they happen.
func Deltas(cal *calendar.Calendar, prev, c *tongban.Case, ev *tongban.Event) []tongban.ScoreDelta {
	if c.Kind == tongban.KindTask {
		return nil
	}
	var d deltas
	day := Day(ev.At)
	var prevLead, prevAssignee, prevStatus string
	prevRating := 0
	if prev == nil {
		d.add(Day(c.ReceivedAt), tongban.ByCategory, c.Category, func(s *tongban.ScoreCounts) { s.Received++ })
		prevStatus = tongban.StatusOpen
		day = Day(c.ReceivedAt)
	} else {
		prevLead, prevAssignee, prevStatus, prevRating = prev.Lead, prev.Assignee, prev.Status, prev.Rating
	}
	if c.Lead != "" && c.Lead != prevLead {
		d.add(day, tongban.ByDepartment, c.Lead, func(s *tongban.ScoreCounts) { s.Received++ })
	}
	if c.Assignee != "" && c.Assignee != prevAssignee {
		d.add(day, tongban.ByPerson, c.Assignee, func(s *tongban.ScoreCounts) { s.Received++ })
	}
	switch ev.Action {
	case "return":
		d.all(day, prevLead, prevAssignee, c.Category, func(s *tongban.ScoreCounts) { s.Returns++ })
	case "reopen":
		d.all(day, Responsible(c), c.Assignee, c.Category, func(s *tongban.ScoreCounts) { s.Reopens++ })
	case "rate_visit", "decide_appeal":
		// A window visit's rating counts like the matter's own; an upheld
		// appeal takes a rating off the day it was given.
		var p struct {
			Level      int       `json:"level"`
			Department string    `json:"department"`
			Upheld     bool      `json:"upheld"`
			Visit      bool      `json:"visit"`
			RatedAt    time.Time `json:"rated_at"`
		}
		if json.Unmarshal(ev.Payload, &p) != nil || p.Level < 1 || p.Level > 5 {
			break
		}
		switch {
		case ev.Action == "rate_visit":
			d.all(day, p.Department, c.Assignee, c.Category, func(s *tongban.ScoreCounts) { s.Ratings[p.Level-1]++ })
		case p.Upheld:
			dept := p.Department
			if !p.Visit {
				dept = Responsible(c) // where the matter's own rating was counted
			}
			d.all(Day(p.RatedAt), dept, c.Assignee, c.Category, func(s *tongban.ScoreCounts) { s.Ratings[p.Level-1]-- })
		}
	}
	if c.Rating >= 1 && c.Rating <= 5 && c.Rating != prevRating {
		rd := day
		if prev == nil && c.ClosedAt != nil {
			rd = Day(*c.ClosedAt)
		}
		r := c.Rating
		d.all(rd, Responsible(c), c.Assignee, c.Category, func(s *tongban.ScoreCounts) { s.Ratings[r-1]++ })
	}
	if c.Status == tongban.StatusClosed && prevStatus != tongban.StatusClosed && c.ClosedAt != nil {
		done, h := Handling(cal, c)
		secs := int64(h / time.Second)
		b := Bucket(float64(h) / float64(workday(cal)))
		onTime := OnTime(c, done)
		d.all(Day(*c.ClosedAt), Responsible(c), c.Assignee, c.Category, func(s *tongban.ScoreCounts) {
			s.Closed++
			if onTime {
				s.ClosedOnTime++
			}
			s.HandlingSecs += secs
			s.Hist[b]++
		})
	}
	return d.out
}

// AlarmDelta counts a raised alarm for its department, person and category.
func AlarmDelta(a *tongban.Alarm) []tongban.ScoreDelta {
	var d deltas
	d.all(Day(a.RaisedAt), a.Dept, a.Person, a.Category, func(s *tongban.ScoreCounts) {
		switch a.Colour {
		case tongban.AlarmWarning:
			s.AlarmWarning++
		case tongban.AlarmYellow:
			s.AlarmYellow++
		case tongban.AlarmRed:
			s.AlarmRed++
		default:
			s.AlarmFlag++
		}
	})
	return d.out
}

// OrderDelta counts an order for its recipient department and category.
func OrderDelta(at time.Time, dept, category string) []tongban.ScoreDelta {
	var d deltas
	d.all(Day(at), dept, "", category, func(s *tongban.ScoreCounts) { s.Orders++ })
	return d.out
}

// FindingDelta counts a finding (or a valid complaint) for its department and person.
func FindingDelta(f *tongban.Finding, category string) []tongban.ScoreDelta {
	var d deltas
	d.all(Day(f.At), f.Dept, f.Person, category, func(s *tongban.ScoreCounts) {
		if f.Kind == tongban.FindingValidComplaint {
			s.ValidComplaints++
		} else {
			s.Findings++
		}
	})
	return d.out
}

// Scorecard is one department's, person's or category's figures for a period.
type Scorecard struct {
	Key                 string              `json:"key"`
	Name                string              `json:"name,omitempty"`
	Received            int64               `json:"received"`
	Closed              int64               `json:"closed"`
	ClosedOnTime        int64               `json:"closed_on_time"`
	OpenOverdue         int64               `json:"open_overdue"`
	OnTimeRate          *float64            `json:"on_time_rate"`
	AvgHandlingWorkdays *float64            `json:"avg_handling_workdays"`
	P90HandlingWorkdays *float64            `json:"p90_handling_workdays"`
	Rated               int64               `json:"rated"`
	Ratings             map[string]int64    `json:"ratings"`
	SatisfactionRate    *float64            `json:"satisfaction_rate"`
	Returns             int64               `json:"returns"`
	ReturnRate          *float64            `json:"return_rate"`
	Reopens             int64               `json:"reopens"`
	ReopenRate          *float64            `json:"reopen_rate"`
	Alarms              map[string]int64    `json:"alarms"`
	Orders              int64               `json:"orders"`
	Findings            int64               `json:"findings"`
	ValidComplaints     int64               `json:"valid_complaints"`
	RepeatedComplaints  bool                `json:"repeated_complaints"`
	Score               *float64            `json:"score"`
	Grade               string              `json:"grade"`
	Rank                int                 `json:"rank,omitempty"`
	Ranked              bool                `json:"ranked"`
	Counts              tongban.ScoreCounts `json:"-"`
}

func ratio(n, d int64) *float64 {
	if d <= 0 {
		return nil
	}
	v := math.Round(float64(n)/float64(d)*10000) / 10000
	return &v
}

func round2(v float64) *float64 {
	v = math.Round(v*100) / 100
	return &v
}

// P90 is the 90th percentile of a handling histogram, as the upper bound
// of the bucket it falls in (the open last bucket reports its lower bound).
func P90(hist []int64) *float64 {
	var n int64
	for _, h := range hist {
		n += h
	}
	if n == 0 {
		return nil
	}
	want := int64(math.Ceil(0.9 * float64(n)))
	var cum int64
	for i, h := range hist {
		cum += h
		if cum >= want {
			b := tongban.HandlingBuckets[i]
			if b == 0 && i > 0 {
				b = tongban.HandlingBuckets[i-1]
			}
			return &b
		}
	}
	return nil
}

// Summarise turns summed counters into a scorecard with rates and a grade.
func (cfg *Config) Summarise(key string, s tongban.ScoreCounts, openOverdue int64, cal *calendar.Calendar) Scorecard {
	sc := Scorecard{Key: key, Counts: s, Received: s.Received, Closed: s.Closed, ClosedOnTime: s.ClosedOnTime, OpenOverdue: openOverdue,
		Returns: s.Returns, Reopens: s.Reopens, Orders: s.Orders, Findings: s.Findings, ValidComplaints: s.ValidComplaints,
		Ratings: map[string]int64{}, Alarms: map[string]int64{
			tongban.AlarmWarning: s.AlarmWarning, tongban.AlarmYellow: s.AlarmYellow, tongban.AlarmRed: s.AlarmRed, tongban.AlarmFlag: s.AlarmFlag}}
	sc.OnTimeRate = ratio(s.ClosedOnTime, s.Closed+openOverdue)
	if s.Closed > 0 {
		sc.AvgHandlingWorkdays = round2(float64(s.HandlingSecs) / float64(s.Closed) / workday(cal).Seconds())
		sc.P90HandlingWorkdays = P90(s.Hist[:])
	}
	for i, r := range s.Ratings {
		sc.Ratings[strconv.Itoa(i+1)] = r
		sc.Rated += r
	}
	sc.SatisfactionRate = ratio(s.Ratings[2]+s.Ratings[3]+s.Ratings[4], sc.Rated)
	sc.ReturnRate = ratio(s.Returns, s.Received)
	sc.ReopenRate = ratio(s.Reopens, s.Closed)
	sc.RepeatedComplaints = cfg.RepeatComplaints > 0 && s.ValidComplaints >= int64(cfg.RepeatComplaints)
	sc.Score, sc.Grade = cfg.Grade(&sc)
	return sc
}

// Grade scores a scorecard out of 100 from the weighted rates it has
// (a rate with no basis, such as satisfaction with no ratings, leaves its
// weight out) less penalties, and grades it 优秀/良好/合格/不合格.
func (cfg *Config) Grade(sc *Scorecard) (*float64, string) {
	g := cfg.Grading
	var sum, weights float64
	part := func(w float64, v *float64, invert bool) {
		if v == nil || w <= 0 {
			return
		}
		x := *v
		if invert {
			x = 1 - math.Min(x, 1)
		}
		sum += w * x
		weights += w
	}
	part(g.OnTime, sc.OnTimeRate, false)
	part(g.Satisfaction, sc.SatisfactionRate, false)
	part(g.Returns, sc.ReturnRate, true)
	part(g.Reopens, sc.ReopenRate, true)
	if weights == 0 {
		return nil, ""
	}
	score := 100*sum/weights - g.FindingPenalty*float64(sc.Findings+sc.ValidComplaints) - g.RedPenalty*float64(sc.Counts.AlarmRed)
	score = math.Max(score, 0)
	s := round2(score)
	switch {
	case *s >= g.Excellent:
		return s, "优秀"
	case *s >= g.Good:
		return s, "良好"
	case *s >= g.Pass:
		return s, "合格"
	}
	return s, "不合格"
}

// Rank orders scorecards by score (then on-time rate, then key) and
// ranks those with at least MinCases received; the others keep Rank 0.
func (cfg *Config) Rank(cards []Scorecard) {
	sort.SliceStable(cards, func(i, j int) bool {
		a, b := cards[i], cards[j]
		ai, bi := a.Received >= int64(cfg.MinCases) && a.Score != nil, b.Received >= int64(cfg.MinCases) && b.Score != nil
		if ai != bi {
			return ai
		}
		if ai && *a.Score != *b.Score {
			return *a.Score > *b.Score
		}
		return a.Key < b.Key
	})
	rank := 0
	for i := range cards {
		if cards[i].Received >= int64(cfg.MinCases) && cards[i].Score != nil {
			rank++
			cards[i].Rank, cards[i].Ranked = rank, true
		}
	}
}
