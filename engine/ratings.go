package engine

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
)

// The published figures of 好差评 (政务公开) and the supervision office's
// list of 差评. The steps of a 差评 themselves are workflow actions
// (workflow/rules_rating.go), so they are authorised, version-checked and
// recorded in the event chain like any other action.

func (e *Engine) ratingStore() (tongban.RatingStore, error) {
	rs, ok := e.Store.(tongban.RatingStore)
	if !ok {
		return nil, tongban.Errorf(tongban.EUnavailable, "当前存储不支持好差评统计", "this store keeps no rating figures")
	}
	return rs, nil
}

// RatingFigures are the published aggregates of a set of ratings: only
// counts and rates, never who rated or what they wrote.
type RatingFigures struct {
	Ratings          int64            `json:"ratings"`
	Levels           map[string]int64 `json:"levels"` // "1" 非常不满意 … "5" 非常满意
	SatisfactionRate *float64         `json:"satisfaction_rate"`
	Bad              int64            `json:"bad"`
	tongban.RatingCounts
}

func figures(c tongban.RatingCounts) RatingFigures {
	f := RatingFigures{Ratings: c.Rated(), Levels: map[string]int64{}, Bad: c.Bad(), RatingCounts: c}
	for i, n := range c.Levels {
		f.Levels[strconv.Itoa(i+1)] = n
	}
	if f.Ratings > 0 {
		v := math.Round(float64(c.Levels[2]+c.Levels[3]+c.Levels[4])/float64(f.Ratings)*10000) / 10000
		f.SatisfactionRate = &v
	}
	return f
}

// RatingGroup is the figures of one department, matter or category.
type RatingGroup struct {
	Code string `json:"code"`
	Name string `json:"name"`
	RatingFigures
}

// RatingSummary is a period's published figures: in total, by department,
// by matter (applications) and by category (requests).
type RatingSummary struct {
	From        string        `json:"from"`
	To          string        `json:"to"`
	Total       RatingFigures `json:"total"`
	Departments []RatingGroup `json:"departments"`
	Matters     []RatingGroup `json:"matters"`
	Categories  []RatingGroup `json:"categories"`
	ComputedAt  time.Time     `json:"computed_at"`
}

// ratingCacheTTL is how long published figures are served from memory.
const ratingCacheTTL = time.Minute

type ratingCache struct {
	mu sync.Mutex
	m  map[string]*RatingSummary
}

// RatingSummary returns the published figures of the ratings given from
// from to to (YYYY-MM-DD, inclusive; defaults: 1 January of this year and
// today). It is public: one GROUP BY over the rating rows, kept for a
// minute per period.
func (e *Engine) RatingSummary(ctx context.Context, from, to string) (*RatingSummary, error) {
	rs, err := e.ratingStore()
	if err != nil {
		return nil, err
	}
	now := e.Now()
	today := now.In(calendar.Shanghai)
	if to == "" {
		to = today.Format("2006-01-02")
	}
	if from == "" {
		from = strconv.Itoa(today.Year()) + "-01-01"
	}
	f, err := parseDay(from, "from")
	if err != nil {
		return nil, err
	}
	t, err := parseDay(to, "to")
	if err != nil {
		return nil, err
	}
	if t.Before(f) {
		return nil, tongban.FieldError("to", "结束日期早于开始日期", "to is before from")
	}
	key := from + "/" + to
	e.ratings.mu.Lock()
	if s := e.ratings.m[key]; s != nil && now.Sub(s.ComputedAt) < ratingCacheTTL && !now.Before(s.ComputedAt) {
		e.ratings.mu.Unlock()
		return s, nil
	}
	e.ratings.mu.Unlock()
	totals, err := rs.RatingTotals(ctx, f, t.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	s := &RatingSummary{From: from, To: to, Departments: []RatingGroup{}, Matters: []RatingGroup{}, Categories: []RatingGroup{}, ComputedAt: now}
	var all tongban.RatingCounts
	depts := map[string]*tongban.RatingCounts{}
	matters := map[string]*tongban.RatingCounts{}
	cats := map[string]*tongban.RatingCounts{}
	add := func(m map[string]*tongban.RatingCounts, k string, c *tongban.RatingCounts) {
		if m[k] == nil {
			m[k] = &tongban.RatingCounts{}
		}
		m[k].Add(c)
	}
	for i := range totals {
		r := &totals[i]
		all.Add(&r.RatingCounts)
		add(depts, r.Dept, &r.RatingCounts)
		switch r.Kind {
		case tongban.KindApplication:
			add(matters, r.Category, &r.RatingCounts)
		case tongban.KindRequest:
			add(cats, r.Category, &r.RatingCounts)
		}
	}
	s.Total = figures(all)
	groups := func(m map[string]*tongban.RatingCounts, name func(string) string) []RatingGroup {
		out := make([]RatingGroup, 0, len(m))
		for k, c := range m {
			out = append(out, RatingGroup{Code: k, Name: name(k), RatingFigures: figures(*c)})
		}
		slices.SortFunc(out, func(a, b RatingGroup) int {
			return cmp.Or(cmp.Compare(b.Ratings, a.Ratings), cmp.Compare(a.Code, b.Code))
		})
		return out
	}
	s.Departments = groups(depts, func(k string) string { return e.keyName(ctx, tongban.ByDepartment, k) })
	s.Categories = groups(cats, func(k string) string { return e.keyName(ctx, tongban.ByCategory, k) })
	s.Matters = groups(matters, func(k string) string {
		if m, err := e.Matter(ctx, k, 0); err == nil {
			return m.Name
		}
		return ""
	})
	e.ratings.mu.Lock()
	if e.ratings.m == nil || len(e.ratings.m) >= 256 {
		e.ratings.m = map[string]*RatingSummary{}
	}
	e.ratings.m[key] = s
	e.ratings.mu.Unlock()
	return s, nil
}

// BadRatingQuery selects 差评 for the workbench.
type BadRatingQuery struct {
	State  string // open (default), overdue, all, or one of tongban.BadStates
	Dept   string
	Kind   string
	Offset int
	Limit  int
}

// BadRatings lists 差评 with their state: the supervision office,
// leaders, administrators and the centre see all; a department's staff
// those rating their department.
func (e *Engine) BadRatings(ctx context.Context, actor Actor, q BadRatingQuery) ([]*tongban.BadRatingRow, int, error) {
	u := actor.User
	if u == nil || u.Disabled {
		return nil, 0, tongban.ErrUnauthorized
	}
	rs, err := e.ratingStore()
	if err != nil {
		return nil, 0, err
	}
	f := tongban.BadRatingFilter{State: q.State, Dept: q.Dept, Kind: q.Kind, Now: e.now(ctx), Offset: q.Offset, Limit: q.Limit}
	switch {
	case canReadSupervision(u) || u.Has(tongban.RoleDispatcher):
	case u.HasAny(tongban.RoleHandler, tongban.RoleHead):
		if f.Dept != "" && f.Dept != u.Dept {
			return nil, 0, tongban.ErrForbidden
		}
		f.Dept = u.Dept
	default:
		return nil, 0, tongban.ErrForbidden
	}
	switch {
	case f.State == "":
		f.State = "open"
	case f.State == "all":
		f.State = ""
	case f.State == "open" || f.State == "overdue" || slices.Contains(tongban.BadStates, f.State):
	default:
		return nil, 0, tongban.FieldError("state", "状态须为 open、overdue、all 或 verify、rectify、callback、appeal、done、removed",
			"state must be open, overdue, all or one of verify, rectify, callback, appeal, done, removed")
	}
	if f.Kind != "" && f.Kind != tongban.KindRequest && f.Kind != tongban.KindApplication {
		return nil, 0, tongban.FieldError("kind", "类型须为 request 或 application", "kind must be request or application")
	}
	return rs.ListBadRatings(ctx, f)
}

// FlagScopes are the alarm scopes of supervision flags on applications.
var FlagScopes = []string{tongban.AlarmScopeFee, tongban.AlarmScopeBackdated}
