package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/engine"
)

// 好差评: the published figures (政务公开: a JSON API and a portal page,
// aggregates only), the supervision office's list of 差评 with their state
// and time left, and the list of supervision flags on applications (fees
// outside the catalogue, entries after the fact). The steps of a 差评 are
// case actions, taken on the case page or through POST …/actions.
func (s *Server) ratingRoutes() {
	m := s.mux
	m.HandleFunc("GET /api/v1/ratings/summary", s.apiRatingSummary)
	m.HandleFunc("GET /api/v1/ratings", s.staff(s.apiBadRatings))
	m.HandleFunc("GET /open/ratings", s.uiRatingSummary)
	m.HandleFunc("GET /supervise/ratings", s.page(s.uiBadRatings, tongban.RoleSupervisor, tongban.RoleLeader, tongban.RoleAdmin,
		tongban.RoleDispatcher, tongban.RoleHead, tongban.RoleHandler))
	m.HandleFunc("GET /supervise/flags", s.page(s.uiFlags, tongban.RoleSupervisor, tongban.RoleLeader, tongban.RoleAdmin))
}

// apiRatingSummary is public: counts and rates only, never who rated.
func (s *Server) apiRatingSummary(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if (q.Get("from") != "" || q.Get("to") != "") && !s.limit(w, r, "open", s.Opts.TrackPerMinute) {
		return
	}
	sum, err := s.Engine.RatingSummary(r.Context(), q.Get("from"), q.Get("to"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSON(w, http.StatusOK, sum)
}

// badRatingView is a 差评 as lists show it, with whether it is overdue.
type badRatingView struct {
	*tongban.BadRatingRow
	Overdue bool `json:"overdue"`
	// LeftSeconds is the office time left to rectify (negative: overdue
	// by), while rectification is awaited and a deadline is set.
	LeftSeconds *int64 `json:"left_seconds,omitempty"`
}

func (s *Server) badRatingViews(list []*tongban.BadRatingRow) []badRatingView {
	now := s.Engine.Now()
	cal := s.Engine.Calendar()
	out := make([]badRatingView, len(list))
	for i, x := range list {
		out[i] = badRatingView{BadRatingRow: x}
		if x.Deadline != nil && !x.Rectified && (x.State == tongban.BadVerify || x.State == tongban.BadRectify) {
			left := int64(cal.WorkDuration(now, *x.Deadline) / time.Second)
			if now.After(*x.Deadline) {
				left = -int64(cal.WorkDuration(*x.Deadline, now) / time.Second)
				out[i].Overdue = true
			}
			out[i].LeftSeconds = &left
		}
	}
	return out
}

func (s *Server) badRatingQuery(r *http.Request) (engine.BadRatingQuery, error) {
	q := r.URL.Query()
	bq := engine.BadRatingQuery{State: q.Get("state"), Dept: q.Get("department"), Kind: q.Get("kind")}
	var err error
	if bq.Limit, err = intParam(r, "limit", 100, 1, 1000); err != nil {
		return bq, err
	}
	if bq.Offset, err = intParam(r, "offset", 0, 0, 1<<30); err != nil {
		return bq, err
	}
	return bq, nil
}

func (s *Server) apiBadRatings(w http.ResponseWriter, r *http.Request) {
	bq, err := s.badRatingQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, total, err := s.Engine.BadRatings(r.Context(), authOf(r).actor(), bq)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ratings": s.badRatingViews(list), "total": total})
}

// ratingsPage is the public page of the figures.
type ratingsPage struct {
	S       *engine.RatingSummary
	Tables  []ratingTable
	Levels  []ratingLevel
	Max     int64
	ThisY   string
	LastY   string
	Today   string
	JSONURL string
}

type ratingTable struct {
	ID, Title string
	Rows      []engine.RatingGroup
}

type ratingLevel struct {
	Level   int
	N       int64
	Percent int
}

// Pct writes a rate as a percentage, or — when there is none.
func (p *ratingsPage) Pct(r *float64) string {
	if r == nil {
		return "—"
	}
	return strconv.FormatFloat(*r*100, 'f', 1, 64) + "%"
}

func (s *Server) uiRatingSummary(w http.ResponseWriter, r *http.Request) {
	v := s.newView(w, r, "portal", "rt.title")
	q := r.URL.Query()
	v.Form = q
	if (q.Get("from") != "" || q.Get("to") != "") && !s.limit(w, r, "open", s.Opts.TrackPerMinute) {
		return
	}
	sum, err := s.Engine.RatingSummary(r.Context(), q.Get("from"), q.Get("to"))
	if err != nil {
		e := tongban.AsError(err)
		if e == nil || e.Code != tongban.EInvalid {
			s.fail(w, r, err)
			return
		}
		v.setError(e, "from", "to")
		if sum, err = s.Engine.RatingSummary(r.Context(), "", ""); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	today := s.Engine.Now().In(calendar.Shanghai)
	p := &ratingsPage{S: sum, Today: today.Format("2006-01-02"), ThisY: strconv.Itoa(today.Year()), LastY: strconv.Itoa(today.Year() - 1),
		JSONURL: "/api/v1/ratings/summary?" + url.Values{"from": {sum.From}, "to": {sum.To}}.Encode(),
		Tables: []ratingTable{{"departments", "rt.by_department", sum.Departments}, {"matters", "rt.by_matter", sum.Matters},
			{"categories", "rt.by_category", sum.Categories}}}
	for l := 5; l >= 1; l-- {
		n := sum.Total.Levels[strconv.Itoa(l)]
		rl := ratingLevel{Level: l, N: n}
		if sum.Total.Ratings > 0 {
			rl.Percent = int(n * 100 / sum.Total.Ratings)
		}
		p.Levels = append(p.Levels, rl)
	}
	v.D = p
	s.render(w, r, http.StatusOK, "open_ratings", v)
}

// badRatingsPage is the workbench of 差评.
type badRatingsPage struct {
	Rows    []badRatingRowView
	Total   int
	Depts   []*tongban.Department
	States  []string
	Limited bool
}

type badRatingRowView struct {
	badRatingView
	DeptName string
	Left     string
}

const badRatingsLimit = 500

func (s *Server) uiBadRatings(w http.ResponseWriter, r *http.Request) {
	v := s.newView(w, r, "supervise", "rt.bad.title")
	q := r.URL.Query()
	v.Form = q
	bq, err := s.badRatingQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	bq.Limit = badRatingsLimit
	list, total, err := s.Engine.BadRatings(r.Context(), authOf(r).actor(), bq)
	if err != nil {
		e := tongban.AsError(err)
		if e == nil || e.Code != tongban.EInvalid {
			s.fail(w, r, err)
			return
		}
		v.setError(e)
	}
	lk, err := s.loadLookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &badRatingsPage{Total: total, Depts: lk.activeDepts(), States: append([]string{"open", "overdue"}, tongban.BadStates...), Limited: total > len(list)}
	for _, bv := range s.badRatingViews(list) {
		row := badRatingRowView{badRatingView: bv, DeptName: lk.dept(bv.Dept)}
		if bv.LeftSeconds != nil {
			row.Left = fmtLeft(v.Lang, *bv.LeftSeconds)
		}
		d.Rows = append(d.Rows, row)
	}
	v.D = d
	s.render(w, r, http.StatusOK, "supervise_ratings", v)
}

// supFlagRow is one supervision flag as the flags page lists it.
type supFlagRow struct {
	*tongban.Alarm
	DeptName string
	Kind     string
	Details  []string
}

type flagsPage struct {
	Rows    []supFlagRow
	Total   int
	Limited bool
}

const flagsLimit = 500

// uiFlags lists the supervision flags on applications — fees outside the
// catalogue and entries after the fact — newest first, open or not.
func (s *Server) uiFlags(w http.ResponseWriter, r *http.Request) {
	v := s.newView(w, r, "supervise", "rt.flags.title")
	list, total, err := s.Engine.Alarms(r.Context(), authOf(r).actor(), tongban.AlarmFilter{State: "all", Scopes: engine.FlagScopes, Limit: flagsLimit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lk, err := s.loadLookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cases := map[int64]*tongban.Case{}
	// A case is flagged once per scope while the alarm is live; the flags
	// recorded from an alarm until the next one (alarms come newest
	// first) are its details.
	type key struct {
		id    int64
		scope string
	}
	until := map[key]time.Time{}
	d := &flagsPage{Total: total, Limited: total > len(list)}
	for _, a := range list {
		c, ok := cases[a.CaseID]
		if !ok {
			c, _ = s.Store.Case(r.Context(), a.CaseID)
			cases[a.CaseID] = c
		}
		row := supFlagRow{Alarm: a, DeptName: lk.dept(a.Dept)}
		k := key{a.CaseID, a.Scope}
		end, bounded := until[k]
		until[k] = a.Deadline
		if c != nil {
			for _, f := range tongban.CaseFlags(c) {
				t := f.At
				if f.ActedAt != nil {
					t = *f.ActedAt
				}
				if tongban.FlagScope(f.Kind) != a.Scope || t.Before(a.Deadline) || bounded && !t.Before(end) {
					continue
				}
				if row.Kind == "" {
					row.Kind = v.T("rt.flag." + f.Kind)
				} else if k := v.T("rt.flag." + f.Kind); !strings.Contains(row.Kind, k) {
					row.Kind += "、" + k
				}
				row.Details = append(row.Details, f.Detail)
			}
		}
		if row.Kind == "" {
			row.Kind = v.T("sup.scope." + a.Scope)
		}
		d.Rows = append(d.Rows, row)
	}
	v.D = d
	s.render(w, r, http.StatusOK, "supervise_flags", v)
}

// ratingView is a rating as the case's representation shows it.
type ratingView struct {
	tongban.RatingItem
	State   string `json:"state,omitempty"`
	Overdue bool   `json:"overdue,omitempty"`
}

// caseRatings are the case's ratings with their states, for staff.
func caseRatings(c *tongban.Case, now time.Time) []ratingView {
	items := tongban.CaseRatings(c)
	if len(items) == 0 {
		return nil
	}
	out := make([]ratingView, len(items))
	for i, it := range items {
		out[i] = ratingView{RatingItem: it}
		if it.Bad != nil {
			out[i].State, out[i].Overdue = it.Bad.State(), it.Bad.Overdue(now)
		}
	}
	return out
}

// verdictName names a verdict in the page language.
func verdictName(lang, v string) string {
	if v == "" {
		return ""
	}
	t := tr(lang, "rt.verdict."+v)
	if strings.HasPrefix(t, "rt.verdict.") {
		return v
	}
	return t
}
