package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
)

// superviseRoutes registers electronic supervision: live alarms,
// scorecards and rankings, accountability findings, and the dashboard.
func (s *Server) superviseRoutes() {
	m := s.mux
	m.HandleFunc("GET /api/v1/alarms", s.staff(s.apiAlarms))
	m.HandleFunc("GET /api/v1/scorecards", s.staff(s.apiScorecards))
	m.HandleFunc("GET /api/v1/findings", s.staff(s.apiFindings))
	m.HandleFunc("POST /api/v1/cases/{id}/findings", s.role(s.apiRecordFinding, tongban.RoleSupervisor))
	m.HandleFunc("GET /api/v1/supervision/config", s.staff(s.apiSuperviseConfig))
	s.superviseUIRoutes()
}

func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, tongban.FieldError(name, name+" 超出范围", name+" out of range")
	}
	return n, nil
}

func (s *Server) alarmFilter(r *http.Request) (tongban.AlarmFilter, error) {
	q := r.URL.Query()
	f := tongban.AlarmFilter{State: q.Get("state"), Colour: q.Get("colour"), Dept: q.Get("department"), Category: q.Get("category")}
	if sc := q.Get("scope"); sc != "" {
		for _, x := range strings.Split(sc, ",") {
			if x = strings.TrimSpace(x); x != "" && len(f.Scopes) < 20 {
				f.Scopes = append(f.Scopes, x)
			}
		}
	}
	if f.Colour == "" {
		f.Colour = q.Get("color")
	}
	if v := q.Get("case"); v != "" {
		c, err := s.Engine.Get(r.Context(), authOf(r).actor(), v)
		if err != nil {
			return f, err
		}
		f.CaseID = c.ID
	}
	var err error
	if f.Limit, err = intParam(r, "limit", 100, 1, 1000); err != nil {
		return f, err
	}
	if f.Offset, err = intParam(r, "offset", 0, 0, 1<<30); err != nil {
		return f, err
	}
	return f, nil
}

func (s *Server) apiAlarms(w http.ResponseWriter, r *http.Request) {
	f, err := s.alarmFilter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, total, err := s.Engine.Alarms(r.Context(), authOf(r).actor(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.Engine.Now()
	type alarmView struct {
		*tongban.Alarm
		// OverdueSeconds is how long past its deadline (0 if not yet).
		OverdueSeconds int64 `json:"overdue_seconds"`
	}
	out := make([]alarmView, len(list))
	for i, a := range list {
		out[i] = alarmView{Alarm: a}
		if a.Colour != tongban.AlarmWarning && now.After(a.Deadline) {
			out[i].OverdueSeconds = int64(now.Sub(a.Deadline).Seconds())
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"alarms": out, "total": total})
}

func (s *Server) apiScorecards(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	res, err := s.Engine.Scorecards(r.Context(), authOf(r).actor(), engine.ScorecardQuery{From: q.Get("from"), To: q.Get("to"), By: q.Get("by")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) apiFindings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := tongban.FindingFilter{Dept: q.Get("department"), Person: q.Get("person"), Kind: q.Get("kind")}
	if v := q.Get("case"); v != "" {
		c, err := s.Engine.Get(r.Context(), authOf(r).actor(), v)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f.CaseID = c.ID
	}
	list, err := s.Engine.Findings(r.Context(), authOf(r).actor(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"findings": list})
}

func (s *Server) apiRecordFinding(w http.ResponseWriter, r *http.Request) {
	var in engine.FindingInput
	if err := decodeJSON(w, r, maxJSON, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := s.Engine.RecordFinding(r.Context(), authOf(r).actor(), r.PathValue("id"), in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, f)
}

func (s *Server) apiSuperviseConfig(w http.ResponseWriter, r *http.Request) {
	u := authOf(r).User
	if !u.HasAny(tongban.RoleSupervisor, tongban.RoleLeader, tongban.RoleAdmin) {
		s.fail(w, r, tongban.ErrForbidden)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"config": s.Engine.SuperviseConfig(), "finding_kinds": engine.FindingKinds, "finding_outcomes": engine.FindingOutcomes})
}
