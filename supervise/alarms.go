package supervise

import (
	"slices"
	"sort"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/workflow"
)

// Spec is an alarm a case's clocks call for.
type Spec struct {
	Scope    string
	Colour   string
	Deadline time.Time
	DueAt    time.Time
	// Dept is whom the alarm concerns when not the case's responsible
	// department (a 差评 rates the department responsible then).
	Dept string
}

// Key is the spec's identity: raised once per case.
func (s Spec) Key() tongban.AlarmKey {
	return tongban.AlarmKey{Scope: s.Scope, Colour: s.Colour, Deadline: s.Deadline}
}

// Action is the event action that raises it.
func (s Spec) Action() string { return "alarm_" + s.Colour }

// Suspended reports whether a case's clock is stopped (a suspension
// pending or in force): suspended cases raise no alarms.
func Suspended(c *tongban.Case) bool {
	if c.Pending != nil && c.Pending.Kind == "suspension" {
		return true
	}
	v, ok := c.Attrs["suspended"]
	return ok && string(v) != "false" && string(v) != "null"
}

// Overdue is the first instant a deadline counts as passed: deadlines
// are the last second of their period (23:59:59 for working-day limits).
func Overdue(deadline time.Time) time.Time { return deadline.Add(time.Second) }

// warnAt is when the warning before deadline falls due.
func warnAt(cal *calendar.Calendar, th Thresholds, deadline time.Time, limitHours int) time.Time {
	if limitHours > 0 {
		left := time.Duration(float64(limitHours) * th.WarnFraction * float64(time.Hour))
		return cal.AddWorkHours(deadline, -left).UTC()
	}
	// From the start of the last WarnWorkdays working days: a deadline
	// on Monday warns from Monday 00:00, not over the weekend before.
	return cal.AddWorkdays(deadline, -(max(th.WarnWorkdays, 1) - 1)).UTC()
}

// Plan lists the timed alarms of the case's current clocks: warning,
// yellow and (for whole requests) red for the case and for the current
// step when it has a limit of its own, and the call-back flag of an
// unsatisfied rating. Closed and suspended cases have none; nor do
// cases waiting on the requester (the department's clock has stopped).
//
// A 差评 awaiting rectification has its own clock, which runs whatever the
// case does — closed or suspended (RatingPlan).
func (cfg *Config) Plan(c *tongban.Case, cat *tongban.Category, step *workflow.Step, cal *calendar.Calendar) []Spec {
	if c.Status == tongban.StatusClosed || Suspended(c) {
		return RatingPlan(c)
	}
	th := cfg.For(c.Category)
	var out []Spec
	if step == nil || step.Queue != "requester" {
		if !c.Deadline.IsZero() {
			hours := 0
			if c.Kind != tongban.KindTask && cat != nil {
				hours = cat.LimitHours
			}
			d := c.Deadline
			out = append(out,
				Spec{Scope: tongban.AlarmScopeCase, Colour: tongban.AlarmWarning, Deadline: d, DueAt: warnAt(cal, th, d, hours)},
				Spec{Scope: tongban.AlarmScopeCase, Colour: tongban.AlarmYellow, Deadline: d, DueAt: Overdue(d)})
			if c.Kind != tongban.KindTask && th.RedAfterWorkdays > 0 {
				out = append(out, Spec{Scope: tongban.AlarmScopeCase, Colour: tongban.AlarmRed, Deadline: d, DueAt: Overdue(cal.DeadlineAfterWorkdays(d, th.RedAfterWorkdays)).UTC()})
			}
		}
		if cfg.WatchSteps && c.StepDeadline != nil && !c.StepDeadline.Equal(c.Deadline) {
			hours := 0
			if step != nil {
				hours = step.LimitHours
			}
			d := *c.StepDeadline
			out = append(out,
				Spec{Scope: tongban.AlarmScopeStep, Colour: tongban.AlarmWarning, Deadline: d, DueAt: warnAt(cal, th, d, hours)},
				Spec{Scope: tongban.AlarmScopeStep, Colour: tongban.AlarmYellow, Deadline: d, DueAt: Overdue(d)})
		}
	}
	if sv := c.Supervision; sv != nil && sv.UnsatisfiedAt != nil && cfg.CallbackWorkdays > 0 {
		d := cal.DeadlineAfterWorkdays(*sv.UnsatisfiedAt, cfg.CallbackWorkdays).UTC()
		out = append(out, Spec{Scope: tongban.AlarmScopeUnsatisfied, Colour: tongban.AlarmFlag, Deadline: d, DueAt: Overdue(d)})
	}
	return append(out, RatingPlan(c)...)
}

// RatingPlan lists the flags of the case's 差评 awaiting rectification:
// one at the first second after each deadline, for the rated department.
// 差评 with the same deadline share one flag.
func RatingPlan(c *tongban.Case) []Spec {
	var out []Spec
	for _, it := range tongban.CaseRatings(c) {
		b := it.Bad
		if b == nil || !b.AwaitsRectification() || b.Deadline.IsZero() {
			continue
		}
		s := Spec{Scope: tongban.AlarmScopeRectify, Colour: tongban.AlarmFlag, Deadline: b.Deadline, DueAt: Overdue(b.Deadline), Dept: it.Dept}
		if !slices.ContainsFunc(out, func(x Spec) bool { return x.Scope == s.Scope && x.Deadline.Equal(s.Deadline) }) {
			out = append(out, s)
		}
	}
	return out
}

// Raised reports whether the case holds a live mark for key.
func Raised(c *tongban.Case, k tongban.AlarmKey) bool {
	if c.Supervision == nil {
		return false
	}
	for _, m := range c.Supervision.Alarms {
		if m.Scope == k.Scope && m.Colour == k.Colour && m.Deadline.Equal(k.Deadline) {
			return true
		}
	}
	return false
}

// Next is the earliest due instant of a planned alarm not yet raised.
func Next(c *tongban.Case, plan []Spec) *time.Time {
	var next *time.Time
	for _, s := range plan {
		if Raised(c, s.Key()) {
			continue
		}
		if next == nil || s.DueAt.Before(*next) {
			t := s.DueAt
			next = &t
		}
	}
	return next
}

// Due lists the planned alarms due at now and not yet raised, earliest first.
func Due(c *tongban.Case, plan []Spec, now time.Time) []Spec {
	var out []Spec
	for _, s := range plan {
		if !s.DueAt.After(now) && !Raised(c, s.Key()) {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].DueAt.Before(out[j].DueAt) })
	return out
}

// timed scopes are the clocks Plan watches; their marks go stale when
// the clock's deadline moves.
var timed = map[string]bool{tongban.AlarmScopeCase: true, tongban.AlarmScopeStep: true, tongban.AlarmScopeUnsatisfied: true,
	tongban.AlarmScopeRectify: true}

// Stale returns the live marks of timed scopes the plan no longer calls
// for (the deadline moved, the step changed, the rating was rectified),
// and removes them from the case.
func Stale(c *tongban.Case, plan []Spec) []tongban.AlarmKey {
	if c.Supervision == nil {
		return nil
	}
	var out []tongban.AlarmKey
	keep := c.Supervision.Alarms[:0:0]
	for _, m := range c.Supervision.Alarms {
		k := tongban.AlarmKey{Scope: m.Scope, Colour: m.Colour, Deadline: m.Deadline}
		wanted := !timed[m.Scope]
		for _, s := range plan {
			if s.Key() == k || (s.Scope == k.Scope && s.Colour == k.Colour && s.Deadline.Equal(k.Deadline)) {
				wanted = true
				break
			}
		}
		if wanted {
			keep = append(keep, m)
		} else {
			out = append(out, k)
		}
	}
	c.Supervision.Alarms = keep
	return out
}

// Mark records an alarm as raised on the case.
func Mark(c *tongban.Case, k tongban.AlarmKey, at time.Time) {
	if c.Supervision == nil {
		c.Supervision = &tongban.Supervision{}
	}
	c.Supervision.Alarms = append(c.Supervision.Alarms, tongban.AlarmMark{Scope: k.Scope, Colour: k.Colour, Deadline: k.Deadline, At: at})
}

// Unmark removes the live marks of a scope (a flag resolved).
func Unmark(c *tongban.Case, scope string) []tongban.AlarmKey {
	if c.Supervision == nil {
		return nil
	}
	var out []tongban.AlarmKey
	keep := c.Supervision.Alarms[:0:0]
	for _, m := range c.Supervision.Alarms {
		if m.Scope == scope {
			out = append(out, tongban.AlarmKey{Scope: m.Scope, Colour: m.Colour, Deadline: m.Deadline})
		} else {
			keep = append(keep, m)
		}
	}
	c.Supervision.Alarms = keep
	return out
}
