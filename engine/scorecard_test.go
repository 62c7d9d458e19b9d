package engine_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/supervise"
)

// brute is a scorecard computed by replaying every case's events.
type brute struct {
	received, closed, onTime, overdue, returns, reopens, rated, satisfied int64
	handling                                                              time.Duration
	alarms                                                                map[string]int64
}

// Scorecards kept incrementally equal the figures computed independently
// from the record: every case and every event replayed.
func TestScorecardsMatchBruteForce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cal := calendar.Default()
	rng := rand.New(rand.NewPCG(7, 9))
	handler := map[string]*tongban.User{"cgj": f.hCGJ, "zjj": f.hZJJ}
	head := map[string]*tongban.User{"cgj": f.headCGJ, "zjj": f.headZJJ}
	s := f.e.NewScanner()
	start := mustParse(t, "2026-09-01 09:30:00")
	var ids []int64
	for i := range 36 {
		at := start.Add(time.Duration(i) * 19 * time.Hour)
		cats := []string{"road", "noise", "stall"}
		c := f.create(at, tongban.TypeComplaint, cats[i%3])
		ids = append(ids, c.ID)
		step := func(d time.Duration) time.Time { at = at.Add(d); return at }
		if i%9 == 8 {
			continue // never dispatched
		}
		dept := []string{"cgj", "zjj"}[rng.IntN(2)]
		c = f.act(step(time.Hour), f.disp, c, "dispatch", map[string]any{"department": dept})
		if rng.IntN(4) == 0 {
			c = f.act(step(time.Hour), handler[dept], c, "return", map[string]any{"reason": "不属于本部门职责"})
			dept = map[string]string{"cgj": "zjj", "zjj": "cgj"}[dept]
			c = f.act(step(time.Hour), f.disp, c, "dispatch", map[string]any{"department": dept})
		}
		c = f.act(step(time.Hour), handler[dept], c, "accept", nil)
		if i%7 == 6 {
			continue // left in hand: goes overdue
		}
		if rng.IntN(3) == 0 {
			c = f.act(step(24*time.Hour), handler[dept], c, "request_extension", map[string]any{"working_days": 3, "reason": "需要现场核查"})
			c = f.act(step(time.Hour), head[dept], c, "approve_extension", nil)
		}
		if _, err := s.Tick(f.ctx, step(time.Duration(rng.IntN(30*24))*time.Hour)); err != nil {
			t.Fatal(err)
		}
		c = f.act(step(time.Hour), handler[dept], c, "reply", map[string]any{"text": "已处理。"})
		level := 1 + rng.IntN(5)
		c = f.act(step(time.Hour), nil, c, "rate", map[string]any{"level": level})
		if c.Step == "rating" { // unsatisfied: reopened once, then closed
			c = f.act(step(time.Hour), f.disp, c, "reopen", map[string]any{"reason": "群众不满意"})
			c = f.act(step(2*time.Hour), handler[dept], c, "reply", map[string]any{"text": "已再次处理。"})
			c = f.act(step(time.Hour), nil, c, "rate", map[string]any{"level": 4})
		}
		if c.Step == "rating" {
			f.act(step(time.Hour), f.disp, c, "close", nil)
		}
	}
	end := mustParse(t, "2026-12-31 00:00:00")
	if _, err := s.Tick(f.ctx, end); err != nil {
		t.Fatal(err)
	}

	from, to := "2026-09-01", "2026-12-31"
	fromT, _ := calendar.ParseDate(from)
	toT, _ := calendar.ParseDate("2027-01-01")
	in := func(t time.Time) bool { return !t.Before(fromT) && t.Before(toT) }
	want := map[string]map[string]*brute{tongban.ByDepartment: {}, tongban.ByCategory: {}, tongban.ByPerson: {}}
	get := func(dim, key string) *brute {
		if want[dim][key] == nil {
			want[dim][key] = &brute{alarms: map[string]int64{}}
		}
		return want[dim][key]
	}
	for _, id := range ids {
		c, err := f.st.Case(f.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		evs := f.chain(c)
		lead, person := "", ""
		for _, ev := range evs {
			var p map[string]any
			_ = json.Unmarshal(ev.Payload, &p)
			keys := func(fn func(b *brute)) {
				for dim, k := range map[string]string{tongban.ByDepartment: lead, tongban.ByPerson: person, tongban.ByCategory: c.Category} {
					if k != "" {
						fn(get(dim, k))
					}
				}
			}
			if !in(ev.At) {
				t.Fatalf("event outside the period")
			}
			switch ev.Action {
			case "create":
				get(tongban.ByCategory, c.Category).received++
			case "dispatch":
				lead = p["department"].(string)
				get(tongban.ByDepartment, lead).received++
			case "accept":
				person = ev.Actor
				get(tongban.ByPerson, person).received++
			case "return":
				keys(func(b *brute) { b.returns++ })
				lead, person = "", ""
			case "reopen":
				keys(func(b *brute) { b.reopens++ })
			case "rate":
				lvl := int(p["level"].(float64))
				keys(func(b *brute) {
					b.rated++
					if lvl >= 3 {
						b.satisfied++
					}
				})
			case "alarm_warning", "alarm_yellow", "alarm_red":
				d := p["department"].(string)
				for dim, k := range map[string]string{tongban.ByDepartment: d, tongban.ByPerson: person, tongban.ByCategory: c.Category} {
					if k != "" {
						get(dim, k).alarms[ev.Action[6:]]++
					}
				}
			}
		}
		if c.Status == tongban.StatusClosed {
			done := *c.ClosedAt
			if c.RepliedAt != nil {
				done = *c.RepliedAt
			}
			keysAll := map[string]string{tongban.ByDepartment: lead, tongban.ByPerson: person, tongban.ByCategory: c.Category}
			for dim, k := range keysAll {
				if k == "" {
					continue
				}
				b := get(dim, k)
				b.closed++
				if !done.After(c.Deadline) {
					b.onTime++
				}
				b.handling += cal.WorkDuration(c.ReceivedAt, done)
			}
		} else if c.Step != "rating" && end.After(c.Deadline) && in(c.Deadline) {
			for dim, k := range map[string]string{tongban.ByDepartment: lead, tongban.ByPerson: person, tongban.ByCategory: c.Category} {
				if k != "" {
					get(dim, k).overdue++
				}
			}
		}
	}
	for _, dim := range []string{tongban.ByDepartment, tongban.ByPerson, tongban.ByCategory} {
		res, err := f.e.Scorecards(f.ctx, engine.Actor{User: f.sup}, engine.ScorecardQuery{From: from, To: to, By: dim})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]supervise.Scorecard{}
		for _, r := range res.Rows {
			got[r.Key] = r
		}
		for key, w := range want[dim] {
			if dim == tongban.ByDepartment && key == "zx" {
				continue // the centre holds only undispatched cases' alarms
			}
			g, ok := got[key]
			if !ok {
				t.Fatalf("%s %s: no scorecard row", dim, key)
			}
			check := func(what string, got, want int64) {
				if got != want {
					t.Errorf("%s %s: %s = %d, brute force %d", dim, key, what, got, want)
				}
			}
			check("received", g.Received, w.received)
			check("closed", g.Closed, w.closed)
			check("closed_on_time", g.ClosedOnTime, w.onTime)
			check("open_overdue", g.OpenOverdue, w.overdue)
			check("returns", g.Returns, w.returns)
			check("reopens", g.Reopens, w.reopens)
			check("rated", g.Rated, w.rated)
			for _, col := range []string{"warning", "yellow", "red"} {
				check("alarms "+col, g.Alarms[col], w.alarms[col])
			}
			if w.closed > 0 {
				avg := float64(w.handling) / float64(w.closed) / float64(7*time.Hour)
				if g.AvgHandlingWorkdays == nil || abs(*g.AvgHandlingWorkdays-avg) > 0.006 {
					t.Errorf("%s %s: avg handling %v, brute force %.3f", dim, key, g.AvgHandlingWorkdays, avg)
				}
			}
			if d := w.closed + w.overdue; d > 0 {
				rate := float64(w.onTime) / float64(d)
				if g.OnTimeRate == nil || abs(*g.OnTimeRate-rate) > 0.0001 {
					t.Errorf("%s %s: on-time rate %v, brute force %.4f", dim, key, deref(g.OnTimeRate), rate)
				}
			}
			if w.rated > 0 {
				rate := float64(w.satisfied) / float64(w.rated)
				if g.SatisfactionRate == nil || abs(*g.SatisfactionRate-rate) > 0.0001 {
					t.Errorf("%s %s: satisfaction %v, brute force %.4f", dim, key, g.SatisfactionRate, rate)
				}
			}
			if g.Grade == "" {
				t.Errorf("%s %s: no grade", dim, key)
			}
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
