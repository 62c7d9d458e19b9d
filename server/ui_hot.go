package server

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/textproc"
)

// Hot issues (热点) on the supervision dashboard and their own page. Both
// read the engine's last computation of the last 30 days
// (engine.Text.RecentHotspots, refreshed by serve every --hot-interval):
// no page view clusters requests itself, except the very first after a
// start before the schedule has run.

// hotRows is how many hot issues the dashboard shows.
const hotRows = 10

// hotCaseRows bounds the cases listed on a hot issue's page.
const hotCaseRows = 200

// hotRow is one hot issue on the dashboard.
type hotRow struct {
	Rank int
	textproc.Hotspot
	HeatText string
	Newest   []hotCase // up to three, newest first
	URL      string    // the hot issue's page: all its cases
}

type hotCase struct {
	ID   int64
	Code string
}

// hotPanel is the dashboard's hot-issue panel.
type hotPanel struct {
	Rows      []hotRow
	MaxHeat   float64
	From, To  time.Time
	Computed  time.Time
	Requests  int
	Truncated bool
	Failed    bool
}

func heatText(h float64) string { return strconv.FormatFloat(h, 'f', 1, 64) }

// hotURL is the page of the hot issue that holds case id.
func hotURL(id int64) string { return "/supervise/hot?case=" + strconv.FormatInt(id, 10) }

// hotPanel gathers the hottest issues of the last 30 days. A failure is
// shown on the panel rather than failing the dashboard.
func (s *Server) hotPanel(ctx context.Context) *hotPanel {
	h, err := s.Engine.Text.RecentHotspots(ctx)
	if err != nil {
		s.Log.Warn("hot issues unavailable", "err", err)
		return &hotPanel{Failed: true}
	}
	p := &hotPanel{From: h.From, To: h.To, Computed: h.Computed, Requests: h.Requests, Truncated: h.Truncated}
	for i, x := range h.Issues[:min(hotRows, len(h.Issues))] {
		r := hotRow{Rank: i + 1, Hotspot: x, HeatText: heatText(x.Heat)}
		if len(x.Cases) > 0 {
			r.URL = hotURL(x.Cases[len(x.Cases)-1])
		}
		// Case ids rise with filing: the last ones are the newest.
		for j := len(x.Cases) - 1; j >= 0 && len(r.Newest) < 3; j-- {
			if c, err := s.Store.Case(ctx, x.Cases[j]); err == nil {
				r.Newest = append(r.Newest, hotCase{ID: c.ID, Code: c.TrackingCode})
			}
		}
		p.MaxHeat = max(p.MaxHeat, x.Heat)
		p.Rows = append(p.Rows, r)
	}
	return p
}

// hotPageData is a hot issue's page.
type hotPageData struct {
	Issue    *hotRow
	Cases    []hotCaseRow
	Shown    int
	Computed time.Time
	From, To time.Time
}

type hotCaseRow struct {
	*tongban.Case
	StepLabel string
	LeadName  string
	CatName   string
}

// uiHotIssue lists the cases of the hot issue that holds ?case=ID, as
// the last computation of the last 30 days has it.
func (s *Server) uiHotIssue(w http.ResponseWriter, r *http.Request) {
	v := s.newView(w, r, "supervise", "hot.title")
	id, err := strconv.ParseInt(r.URL.Query().Get("case"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, r, tongban.FieldError("case", "case 须为办件编号", "case must be a case ID"))
		return
	}
	h, err := s.Engine.Text.RecentHotspots(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lk, err := s.loadLookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &hotPageData{Computed: h.Computed, From: h.From, To: h.To}
	for i, x := range h.Issues {
		if !slices.Contains(x.Cases, id) {
			continue
		}
		d.Issue = &hotRow{Rank: i + 1, Hotspot: x, HeatText: heatText(x.Heat)}
		ids := slices.Clone(x.Cases)
		slices.Reverse(ids) // newest first
		for _, cid := range ids[:min(len(ids), hotCaseRows)] {
			c, err := s.Store.Case(r.Context(), cid)
			if err != nil {
				continue
			}
			d.Cases = append(d.Cases, hotCaseRow{Case: c, StepLabel: s.stepLabelIn(v.Lang, c), LeadName: lk.dept(c.Lead), CatName: lk.cat(c.Category)})
		}
		d.Shown = len(d.Cases)
		break
	}
	v.D = d
	status := http.StatusOK
	if d.Issue == nil {
		status = http.StatusNotFound // no longer among the hot issues
	} else {
		v.Title = d.Issue.Title + " · " + v.T("hot.title")
	}
	s.render(w, r, status, "hot", v)
}
