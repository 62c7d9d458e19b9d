package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/engine"
)

// Text intelligence in the API: routing suggestions, duplicates (并单),
// similar open requests for the public form, hot issues (热点).
func (s *Server) textRoutes() {
	m := s.mux
	m.HandleFunc("GET /api/v1/cases/{id}/suggestions", s.staff(s.apiSuggestions))
	m.HandleFunc("GET /api/v1/cases/{id}/duplicates", s.staff(s.apiDuplicates))
	m.HandleFunc("POST /api/v1/similar", s.apiSimilar)
	m.HandleFunc("GET /api/v1/hotspots", s.role(s.apiHotspots, tongban.RoleIntake, tongban.RoleDispatcher, tongban.RoleSupervisor, tongban.RoleLeader, tongban.RoleAdmin))
	m.HandleFunc("GET /supervise/hot", s.page(s.uiHotIssue, tongban.RoleSupervisor, tongban.RoleLeader, tongban.RoleAdmin)) // ui_hot.go
}

func (s *Server) apiSuggestions(w http.ResponseWriter, r *http.Request) {
	a := authOf(r)
	c, err := s.Engine.Get(r.Context(), a.actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sg, err := s.Engine.Text.Suggest(r.Context(), c.Title, c.Body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sg)
}

// caseDuplicates are the open requests like c that u may see.
func (s *Server) caseDuplicates(r *http.Request, u *tongban.User, c *tongban.Case) []engine.Duplicate {
	q := engine.DupQuery{ID: c.ID, Title: c.Title, Body: c.Body, Address: c.Address, Lat: c.Lat, Long: c.Long, At: c.ReceivedAt}
	if !u.HasAny(tongban.RoleIntake, tongban.RoleDispatcher, tongban.RoleSupervisor, tongban.RoleLeader, tongban.RoleAdmin) {
		q.Visible = func(id int64) bool {
			o, err := s.Store.Case(r.Context(), id)
			return err == nil && engine.CanView(u, o)
		}
	}
	return s.Engine.Text.Duplicates(r.Context(), q)
}

func (s *Server) apiDuplicates(w http.ResponseWriter, r *http.Request) {
	a := authOf(r)
	c, err := s.Engine.Get(r.Context(), a.actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.caseDuplicates(r, a.User, c))
}

// apiSimilar answers the public submit form before a request exists: the
// open, non-confidential requests like the text, with tracking code,
// title and score only.
func (s *Server) apiSimilar(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, "similar", s.Opts.TrackPerMinute) {
		return
	}
	var in struct {
		Title   string   `json:"title"`
		Body    string   `json:"body"`
		Address string   `json:"address"`
		Lat     *float64 `json:"lat"`
		Long    *float64 `json:"long"`
	}
	if err := decodeJSON(w, r, 64<<10, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	if len([]rune(in.Title)) > tongban.MaxTitle || len([]rune(in.Body)) > tongban.MaxBody || len([]rune(in.Address)) > tongban.MaxAddress {
		s.fail(w, r, tongban.Errorf(tongban.EInvalid, "文本过长", "text too long"))
		return
	}
	if (in.Lat == nil) != (in.Long == nil) {
		in.Lat, in.Long = nil, nil
	}
	out := []engine.Duplicate{}
	if strings.TrimSpace(in.Title+in.Body) != "" {
		out = s.Engine.Text.Duplicates(r.Context(), engine.DupQuery{Title: in.Title, Body: in.Body, Address: in.Address, Lat: in.Lat, Long: in.Long, Limit: 5, PublicOnly: true})
	}
	writeJSON(w, http.StatusOK, out)
}

// hotspotView is one hot issue in the API.
type hotspotView struct {
	Title      string    `json:"title"`
	Keywords   []string  `json:"keywords"`
	Place      string    `json:"place,omitempty"`
	Heat       float64   `json:"heat"`
	Count      int       `json:"count"`
	Requesters int       `json:"requesters"`
	Supporters int       `json:"supporters"`
	First      time.Time `json:"first"`
	Last       time.Time `json:"last"`
	Cases      []int64   `json:"cases"`
}

// parseWhen reads a date (YYYY-MM-DD, local) or an RFC 3339 time.
func parseWhen(v string, end bool) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	t, err := calendar.ParseDate(v)
	if err != nil {
		return time.Time{}, false
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, true
}

func (s *Server) apiHotspots(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var h *engine.HotIssues
	var err error
	if q.Get("from") == "" && q.Get("to") == "" {
		h, err = s.Engine.Text.RecentHotspots(r.Context())
	} else {
		to := s.Engine.Now()
		from := to.Add(-30 * 24 * time.Hour)
		var ok bool
		if v := q.Get("from"); v != "" {
			if from, ok = parseWhen(v, false); !ok {
				s.fail(w, r, tongban.FieldError("from", "日期格式应为 YYYY-MM-DD", "from must be YYYY-MM-DD or RFC 3339"))
				return
			}
		}
		if v := q.Get("to"); v != "" {
			if to, ok = parseWhen(v, true); !ok {
				s.fail(w, r, tongban.FieldError("to", "日期格式应为 YYYY-MM-DD", "to must be YYYY-MM-DD or RFC 3339"))
				return
			}
		}
		if !from.Before(to) || to.Sub(from) > 366*24*time.Hour {
			s.fail(w, r, tongban.FieldError("from", "时间段无效（最长一年）", "invalid period (at most a year)"))
			return
		}
		h, err = s.Engine.Text.Hotspots(r.Context(), from, to)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]hotspotView, len(h.Issues))
	for i, x := range h.Issues {
		out[i] = hotspotView(x)
	}
	writeJSON(w, http.StatusOK, out)
}
