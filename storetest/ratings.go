package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/tongban/tongban"
)

func ratingStore(t *testing.T, st tongban.Store) tongban.RatingStore {
	t.Helper()
	rs, ok := st.(tongban.RatingStore)
	if !ok {
		t.Fatal("the store does not implement tongban.RatingStore")
	}
	return rs
}

// withRatings gives c three ratings — a 5, a 差评 awaiting rectification
// and a window visit's 差评 already rectified — and asks the write to
// store their rows.
func withRatings(c *tongban.Case) {
	tongban.SetCaseRatings(c, []tongban.RatingItem{
		{No: 1, Channel: tongban.RatingOnline, Level: 5, By: "public", At: at(6, 9, 0), Dept: "cg"},
		{No: 2, Channel: tongban.RatingWindow, Visit: true, Level: 1, Comment: "态度差", By: "clerk", At: at(6, 10, 0), Dept: "cg",
			Bad: &tongban.BadRating{Deadline: at(13, 23, 59)}},
		{No: 3, Channel: tongban.RatingWindow, Visit: true, Level: 2, By: "clerk", At: at(7, 10, 0), Dept: "jt",
			Bad: &tongban.BadRating{Deadline: at(14, 23, 59), Verdict: tongban.VerdictValid, VerifiedAt: ptr(at(8, 9, 0)), VerifiedBy: "sup",
				Callbacks: []tongban.Step{{By: "sup", At: at(8, 10, 0), Text: "已回访"}}, Rectified: &tongban.Step{By: "li", At: at(9, 9, 0), Text: "已整改"}}},
	})
	c.Derived = &tongban.Derived{WriteRatings: true, Ratings: tongban.RatingRows(c)}
}

func levels(r tongban.RatingCounts) [5]int64 { return r.Levels }

// ratings checks the rating rows: written with the case write, replaced
// by the next write that changes them, summed by kind, department and
// category for a period, listed for the 差评 workbench with its filters,
// and rebuilt from the cases' attrs when a dump is loaded.
func (s *suite) ratings(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	rs := ratingStore(t, st)
	c := newCase()
	c.Attachments = nil
	withRatings(c)
	create(t, st, c)
	if c.Derived != nil {
		t.Fatal("Derived not cleared after the write")
	}
	other := newCase()
	other.Attachments, other.Kind, other.Category = nil, tongban.KindApplication, "ZJ-001"
	tongban.SetCaseRatings(other, []tongban.RatingItem{{No: 1, Channel: tongban.RatingOnline, Level: 4, By: "public", At: at(20, 9, 0), Dept: "cg"}})
	other.Derived = &tongban.Derived{WriteRatings: true, Ratings: tongban.RatingRows(other)}
	create(t, st, other)

	totals, err := rs.RatingTotals(ctx, at(1, 0, 0), at(10, 0, 0))
	must(t, err)
	want := []tongban.RatingTotal{
		{Kind: tongban.KindRequest, Dept: "cg", Category: "lights", RatingCounts: tongban.RatingCounts{Levels: [5]int64{1, 0, 0, 0, 1}}},
		{Kind: tongban.KindRequest, Dept: "jt", Category: "lights", RatingCounts: tongban.RatingCounts{Levels: [5]int64{0, 1, 0, 0, 0},
			Verified: 1, CalledBack: 1, Rectified: 1, OnTime: 1}},
	}
	if !slices.Equal(totals, want) {
		t.Fatalf("RatingTotals = %+v\nwant %+v", totals, want)
	}
	totals, err = rs.RatingTotals(ctx, at(1, 0, 0), at(31, 0, 0))
	must(t, err)
	if len(totals) != 3 || totals[0].Kind != tongban.KindApplication || totals[0].Category != "ZJ-001" || levels(totals[0].RatingCounts) != [5]int64{0, 0, 0, 1, 0} {
		t.Fatalf("RatingTotals over the month = %+v", totals)
	}
	totals, err = rs.RatingTotals(ctx, at(6, 10, 0), at(7, 10, 0)) // [from, to)
	must(t, err)
	if len(totals) != 1 || totals[0].Dept != "cg" || totals[0].Rated() != 1 || totals[0].Bad() != 1 {
		t.Fatalf("RatingTotals of a half-open period = %+v", totals)
	}

	list, total, err := rs.ListBadRatings(ctx, tongban.BadRatingFilter{})
	must(t, err)
	if total != 2 || len(list) != 2 || list[0].No != 2 || list[1].No != 3 || list[0].TrackingCode != c.TrackingCode || list[0].Title != c.Title ||
		list[0].State != tongban.BadVerify || list[1].State != tongban.BadDone || list[0].Deadline == nil || !list[0].Deadline.Equal(at(13, 23, 59)) ||
		list[0].Level != 1 || list[0].Channel != tongban.RatingWindow || list[0].Kind != tongban.KindRequest || list[0].Dept != "cg" {
		t.Fatalf("ListBadRatings = %d %+v", total, list)
	}
	count := func(f tongban.BadRatingFilter) int {
		t.Helper()
		l, n, err := rs.ListBadRatings(ctx, f)
		must(t, err)
		if len(l) != n {
			t.Fatalf("ListBadRatings(%+v): %d rows of %d", f, len(l), n)
		}
		return n
	}
	for _, tc := range []struct {
		f    tongban.BadRatingFilter
		want int
	}{
		{tongban.BadRatingFilter{State: "open"}, 1},
		{tongban.BadRatingFilter{State: tongban.BadDone}, 1},
		{tongban.BadRatingFilter{State: tongban.BadRectify}, 0},
		{tongban.BadRatingFilter{State: "overdue", Now: at(13, 23, 59)}, 0},
		{tongban.BadRatingFilter{State: "overdue", Now: at(14, 0, 0)}, 1},
		{tongban.BadRatingFilter{Dept: "jt"}, 1},
		{tongban.BadRatingFilter{Kind: tongban.KindApplication}, 0},
	} {
		if got := count(tc.f); got != tc.want {
			t.Errorf("ListBadRatings(%+v) counts %d, want %d", tc.f, got, tc.want)
		}
	}
	page, total, err := rs.ListBadRatings(ctx, tongban.BadRatingFilter{Limit: 1, Offset: 1})
	must(t, err)
	if total != 2 || len(page) != 1 || page[0].No != 3 {
		t.Fatalf("second page = %d %+v", total, page)
	}

	// An appeal upheld: the row is replaced and leaves the levels.
	items := tongban.CaseRatings(c)
	items[1].Bad.Appeal = &tongban.Appeal{By: "li", At: at(8, 9, 0), Reason: "恶意", DecidedBy: "sup", DecidedAt: ptr(at(9, 9, 0)), Upheld: true}
	items[1].Bad.Removed = true
	tongban.SetCaseRatings(c, items)
	ev, v := act(c, "decide_appeal", c.Step, nil)
	c.Derived = &tongban.Derived{WriteRatings: true, Ratings: tongban.RatingRows(c)}
	must(t, st.UpdateCase(ctx, c, v, ev))
	totals, err = rs.RatingTotals(ctx, at(1, 0, 0), at(10, 0, 0))
	must(t, err)
	if len(totals) != 2 || levels(totals[0].RatingCounts) != [5]int64{0, 0, 0, 0, 1} || totals[0].Appealed != 1 || totals[0].Removed != 1 {
		t.Fatalf("after an upheld appeal RatingTotals = %+v", totals)
	}
	if n := count(tongban.BadRatingFilter{State: tongban.BadRemoved}); n != 1 {
		t.Fatalf("removed 差评 listed %d", n)
	}
	if n := count(tongban.BadRatingFilter{State: "open"}); n != 0 {
		t.Fatalf("open 差评 after removal: %d", n)
	}
	// A write that does not ask for it leaves the rows alone.
	ev, v = act(c, "note", c.Step, nil)
	must(t, st.UpdateCase(ctx, c, v, ev))
	if n := count(tongban.BadRatingFilter{}); n != 2 {
		t.Fatalf("rows after an unrelated write: %d", n)
	}

	// Loaded cases get their rows from their attrs.
	st2 := s.open(t)
	b := loadFixture(t)
	withRatings(b.Cases[0])
	b.Cases[0].Derived = nil
	must(t, st2.Load(ctx, b))
	list, total, err = ratingStore(t, st2).ListBadRatings(ctx, tongban.BadRatingFilter{})
	must(t, err)
	if total != 2 || list[0].CaseID != b.Cases[0].ID || list[0].TrackingCode != b.Cases[0].TrackingCode {
		t.Fatalf("after a load ListBadRatings = %d %+v", total, list)
	}
	totals, err = ratingStore(t, st2).RatingTotals(ctx, at(1, 0, 0), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	must(t, err)
	if len(totals) != 2 || totals[0].Rated()+totals[1].Rated() != 3 {
		t.Fatalf("after a load RatingTotals = %+v", totals)
	}
}

// alarmScopes checks the alarm list's scope filter.
func (s *suite) alarmScopes(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	c := newCase()
	c.Attachments = nil
	c.Derived = &tongban.Derived{Raise: []tongban.Alarm{
		{Kind: c.Kind, Scope: tongban.AlarmScopeFee, Colour: tongban.AlarmFlag, Deadline: at(3, 9, 1), DueAt: at(3, 9, 1), RaisedAt: at(3, 9, 1), Dept: "cg"},
		{Kind: c.Kind, Scope: tongban.AlarmScopeBackdated, Colour: tongban.AlarmFlag, Deadline: at(3, 9, 1), DueAt: at(3, 9, 1), RaisedAt: at(3, 9, 2), Dept: "cg"},
		{Kind: c.Kind, Scope: tongban.AlarmScopeCase, Colour: tongban.AlarmYellow, Deadline: at(3, 9, 1), DueAt: at(3, 9, 1), RaisedAt: at(3, 9, 3), Dept: "cg"},
	}}
	create(t, st, c)
	for _, tc := range []struct {
		scopes []string
		want   []string
	}{
		{nil, []string{tongban.AlarmScopeCase, tongban.AlarmScopeBackdated, tongban.AlarmScopeFee}},
		{[]string{tongban.AlarmScopeFee}, []string{tongban.AlarmScopeFee}},
		{[]string{tongban.AlarmScopeFee, tongban.AlarmScopeBackdated}, []string{tongban.AlarmScopeBackdated, tongban.AlarmScopeFee}},
	} {
		list, total, err := st.ListAlarms(ctx, tongban.AlarmFilter{Scopes: tc.scopes})
		must(t, err)
		var got []string
		for _, a := range list {
			got = append(got, a.Scope)
		}
		if total != len(tc.want) || !slices.Equal(got, tc.want) {
			t.Errorf("ListAlarms(scopes %v) = %d %v, want %v", tc.scopes, total, got, tc.want)
		}
	}
}
