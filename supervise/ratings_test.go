package supervise

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
)

func ratedCase(items []tongban.RatingItem) *tongban.Case {
	c := &tongban.Case{Kind: tongban.KindRequest, Category: "noise", Lead: "cgj", First: "cgj", Assignee: "h", Status: tongban.StatusClosed}
	tongban.SetCaseRatings(c, items)
	return c
}

// A 差评 awaiting rectification has a flag at its deadline, closed case
// or not; rectified, removed or under appeal it has none; two with the
// same deadline share one.
func TestRatingPlan(t *testing.T) {
	d1 := time.Date(2026, 10, 13, 15, 59, 59, 0, time.UTC)
	d2 := d1.AddDate(0, 0, 1)
	now := d1.Add(-time.Hour)
	c := ratedCase([]tongban.RatingItem{
		{No: 1, Level: 5, Dept: "cgj"},
		{No: 2, Level: 1, Dept: "cgj", Bad: &tongban.BadRating{Deadline: d1}},
		{No: 3, Level: 2, Dept: "cgj", Bad: &tongban.BadRating{Deadline: d1}},
		{No: 4, Level: 2, Dept: "zjj", Bad: &tongban.BadRating{Deadline: d2, Rectified: &tongban.Step{At: now}}},
		{No: 5, Level: 1, Dept: "zjj", Bad: &tongban.BadRating{Deadline: d2, Appeal: &tongban.Appeal{At: now}}},
		{No: 6, Level: 1, Dept: "zjj", Bad: &tongban.BadRating{Deadline: d2, Removed: true}},
		{No: 7, Level: 1, Dept: "zjj", Bad: &tongban.BadRating{}}, // no limit configured
	})
	plan := Default().Plan(c, nil, nil, calendar.Default())
	if len(plan) != 1 || plan[0].Scope != tongban.AlarmScopeRectify || plan[0].Colour != tongban.AlarmFlag || !plan[0].Deadline.Equal(d1) ||
		!plan[0].DueAt.Equal(Overdue(d1)) || plan[0].Dept != "cgj" {
		t.Fatalf("plan %+v", plan)
	}
	// Once raised, rectifying ends it: the mark goes stale.
	Mark(c, plan[0].Key(), now)
	items := tongban.CaseRatings(c)
	items[1].Bad.Rectified = &tongban.Step{At: now}
	items[2].Bad.Rectified = &tongban.Step{At: now}
	tongban.SetCaseRatings(c, items)
	plan = Default().Plan(c, nil, nil, calendar.Default())
	if stale := Stale(c, plan); len(plan) != 0 || len(stale) != 1 || stale[0].Scope != tongban.AlarmScopeRectify {
		t.Fatalf("after rectification plan %+v stale %+v", plan, stale)
	}
}

// A window visit's rating counts on the scorecards of the department it
// rates; an upheld appeal takes a rating off the day it was given.
func TestRatingDeltas(t *testing.T) {
	cal := calendar.Default()
	c := ratedCase(nil)
	c.Status = tongban.StatusClosed
	at := time.Date(2026, 10, 20, 2, 0, 0, 0, time.UTC)
	payload := func(v map[string]any) json.RawMessage { b, _ := json.Marshal(v); return b }
	d := Deltas(cal, c, c, &tongban.Event{Action: "rate_visit", At: at, Payload: payload(map[string]any{"level": 2, "department": "zjj"})})
	found := false
	for _, x := range d {
		if x.Dim == tongban.ByDepartment {
			found = true
			if x.Key != "zjj" || x.Day != 20261020 || x.Ratings != [5]int64{0, 1, 0, 0, 0} {
				t.Fatalf("visit delta %+v", x)
			}
		}
	}
	if !found {
		t.Fatal("no department delta for a visit's rating")
	}
	rated := time.Date(2026, 10, 1, 2, 0, 0, 0, time.UTC)
	d = Deltas(cal, c, c, &tongban.Event{Action: "decide_appeal", At: at, Payload: payload(map[string]any{"upheld": true, "level": 1, "department": "zx", "rated_at": rated})})
	for _, x := range d {
		if x.Dim == tongban.ByDepartment && (x.Key != "cgj" || x.Day != 20261001 || x.Ratings != [5]int64{-1, 0, 0, 0, 0}) {
			t.Fatalf("the matter's own rating is taken off where it was counted: %+v", x)
		}
	}
	d = Deltas(cal, c, c, &tongban.Event{Action: "decide_appeal", At: at, Payload: payload(map[string]any{"upheld": true, "visit": true, "level": 1, "department": "zjj", "rated_at": rated})})
	for _, x := range d {
		if x.Dim == tongban.ByDepartment && (x.Key != "zjj" || x.Ratings != [5]int64{-1, 0, 0, 0, 0}) {
			t.Fatalf("a visit's rating is taken off its department: %+v", x)
		}
	}
	if d := Deltas(cal, c, c, &tongban.Event{Action: "decide_appeal", At: at, Payload: payload(map[string]any{"upheld": false, "level": 1})}); len(d) != 0 {
		t.Fatalf("a rejected appeal changes the scorecards: %+v", d)
	}
}
