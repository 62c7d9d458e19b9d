package server

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/workflow"
)

// The departments' review workbench: the inbox tab 审批件 (applications
// awaiting this department's intake, opinion, ruling, decision or
// delivery, with the time left on the step), and on the case page the
// application's facts and its action forms (ui_work.go includes both).

// appQueueSteps are the steps at which an application waits on staff.
var appQueueSteps = []string{"intake", "review", "ruling", "decision", "deliver"}

// appQueueFor reports whether the user has an application queue.
func appQueueFor(u *tongban.User) bool {
	return u.HasAny(tongban.RoleIntake, tongban.RoleHandler, tongban.RoleHead)
}

// appQueueFilter is the tab's filter in the store: open applications at
// a staff step that involve the user's department (window clerks: all).
// appWaitsOn then keeps those waiting on the department now.
func appQueueFilter(f *tongban.CaseFilter, u *tongban.User) {
	f.Kind, f.Status, f.Steps = tongban.KindApplication, tongban.StatusOpen, appQueueSteps
	if !u.Has(tongban.RoleIntake) {
		f.Dept = u.Dept
	}
}

// appWaitsOn says what the case waits for from the user's department, or "".
func appWaitsOn(c *tongban.Case, u *tongban.User) string {
	lead := c.Lead == u.Dept
	switch c.Step {
	case "intake":
		if lead || u.Has(tongban.RoleIntake) {
			return "intake"
		}
	case "deliver":
		if lead || u.Has(tongban.RoleIntake) {
			return "deliver"
		}
	case "review":
		if u.HasAny(tongban.RoleHandler, tongban.RoleHead) && slices.Contains(workflow.PendingDepts(c), u.Dept) {
			return "opinion"
		}
		if lead && (c.Pending != nil || workflow.AppSuspended(c)) && u.Has(tongban.RoleHead) {
			return "lead"
		}
	case "ruling", "decision":
		if lead && u.Has(tongban.RoleHead) {
			return c.Step
		}
	}
	return ""
}

type appRow struct {
	*tongban.Case
	Waits     string
	StepLabel string
	Matter    string
	Pending   []string
	Clock     engine.ClockState
	Statutory string
	Suspended bool
}

// uiAppInbox renders the 审批件 tab; uiInbox has counted the other tabs.
func (s *Server) uiAppInbox(w http.ResponseWriter, r *http.Request, v *view, u *tongban.User, tabs []*inboxTab) {
	lk, err := s.loadLookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var f tongban.CaseFilter
	appQueueFilter(&f, u)
	f.Sort, f.Limit = "deadline", 200
	var rows []appRow
	for f.Offset = 0; f.Offset < 5000; f.Offset += f.Limit {
		page, err := s.Store.ListCases(r.Context(), f)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, c := range page.Cases {
			waits := appWaitsOn(c, u)
			if waits == "" {
				continue
			}
			var am workflow.AppMatter
			workflow.GetAttr(c, workflow.AttrMatter, &am)
			row := appRow{Case: c, Waits: waits, StepLabel: s.stepLabelIn(v.Lang, c), Matter: am.Name, Clock: s.Engine.Clock(c),
				Statutory: v.Date(workflow.AttrTime(c, workflow.AttrStatutoryDeadline)), Suspended: workflow.AppSuspended(c)}
			if c.Step == "review" {
				for _, d := range workflow.PendingDepts(c) {
					row.Pending = append(row.Pending, lk.dept(d))
				}
			}
			rows = append(rows, row)
		}
		if len(page.Cases) < f.Limit {
			break
		}
	}
	// Most urgent step first.
	slices.SortStableFunc(rows, func(a, b appRow) int {
		return cmpLeft(a.Clock.StepLeftSeconds, b.Clock.StepLeftSeconds)
	})
	for _, t := range tabs {
		if t.Key == "apps" {
			t.Count = len(rows)
		}
	}
	v.D = map[string]any{"Tabs": tabs, "Tab": "apps", "Rows": rows, "Total": len(rows)}
	s.render(w, r, http.StatusOK, "apply_inbox", v)
}

func cmpLeft(a, b *int64) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	case *a < *b:
		return -1
	case *a > *b:
		return 1
	}
	return 0
}

// appAction is an action form of an application as the side panel shows it.
type appAction struct {
	actionForm
	Items bool // has the items textarea: one item a line
}

type appPanel struct {
	F       *appFacts
	ID      int64
	Version int64
	Actions []appAction
}

// applicationPanels renders an application's facts (main column) and its
// action forms (side column) for the case page; actions are the forms
// showCase built from engine.Allowed, with the last attempt's input and
// errors.
func (s *Server) applicationPanels(r *http.Request, v *view, c *tongban.Case, lk *lookups, actions []actionForm) (main, side template.HTML) {
	f := s.applicationFacts(r, v, c, lk.dept, true)
	for i := range f.Notices {
		f.Notices[i].URL = "/api/v1/cases/" + strconv.FormatInt(c.ID, 10) + "/notices/" + f.Notices[i].Kind
	}
	p := &appPanel{F: f, ID: c.ID, Version: c.Version}
	for _, a := range actions {
		aa := appAction{actionForm: a}
		for _, fd := range a.Fields {
			aa.Items = aa.Items || fd.Name == "items"
		}
		p.Actions = append(p.Actions, aa)
	}
	t := pages["application_panel"]
	if t == nil {
		return "", ""
	}
	pv := *v
	pv.D = p
	var b1, b2 bytes.Buffer
	if err := t.ExecuteTemplate(&b1, "app_main", &pv); err != nil {
		s.Log.Error("template", "page", "application_panel", "err", err)
	}
	if len(p.Actions) > 0 {
		if err := t.ExecuteTemplate(&b2, "app_side", &pv); err != nil {
			s.Log.Error("template", "page", "application_panel", "err", err)
		}
	}
	return template.HTML(b1.String()), template.HTML(b2.String())
}

// uiApplicationAct takes an application action form: like uiAct, but a
// yes/no answer (approve, grant) must be chosen, not defaulted by an
// unticked box.
func (s *Server) uiApplicationAct(w http.ResponseWriter, r *http.Request) {
	a := authOf(r)
	c, err := s.Engine.Get(r.Context(), a.actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	form := r.PostForm
	action := form.Get("action")
	var info *engine.ActionInfo
	for _, ai := range s.Engine.Allowed(a.actor(), c) {
		if ai.Name == action {
			info = &ai
		}
	}
	if info == nil {
		s.showCase(w, r, c, "", tongban.Errorf(tongban.EConflict, "办件当前状态下您不能进行此操作，已显示最新内容", "you cannot take this action in the case's current state; the latest state is shown"), false, http.StatusConflict)
		return
	}
	raw := map[string]json.RawMessage{}
	if ver := form.Get("version"); ver != "" {
		n, err := strconv.ParseInt(ver, 10, 64)
		if err != nil {
			s.fail(w, r, tongban.FieldError("version", "版本号无效", "invalid version"))
			return
		}
		raw["version"], _ = json.Marshal(n)
	}
	for _, f := range info.Fields {
		val := strings.TrimSpace(form.Get(f.Name))
		switch f.Type {
		case "int":
			if val == "" {
				continue
			}
			n, err := strconv.Atoi(val)
			if err != nil {
				s.showCase(w, r, c, action, tongban.FieldError(f.Name, f.Label+"应为整数", f.LabelEN+" must be an integer"), false, http.StatusBadRequest)
				return
			}
			raw[f.Name], _ = json.Marshal(n)
		case "bool":
			switch val {
			case "yes", "no":
				raw[f.Name], _ = json.Marshal(val == "yes")
			default:
				if f.Required {
					s.showCase(w, r, c, action, tongban.FieldError(f.Name, "请选择"+f.Label, "choose: "+f.LabelEN), false, http.StatusBadRequest)
					return
				}
			}
		case "depts":
			vals := slices.DeleteFunc(slices.Clone(form[f.Name]), func(x string) bool { return x == "" })
			if len(vals) > 0 {
				raw[f.Name], _ = json.Marshal(vals)
			}
		default:
			if val != "" || f.Required {
				raw[f.Name], _ = json.Marshal(val)
			}
		}
	}
	id := strconv.FormatInt(c.ID, 10)
	if _, _, err := s.Engine.Act(r.Context(), a.actor(), id, action, raw); err != nil {
		e := tongban.AsError(err)
		if e == nil || e.Code == tongban.EInternal || e.Code == tongban.EUnavailable || e.Code == tongban.ENotFound {
			s.fail(w, r, err)
			return
		}
		fresh, err := s.Engine.Get(r.Context(), a.actor(), id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.showCase(w, r, fresh, action, e, false, statusOf(e.Code))
		return
	}
	if _, err := s.Engine.Get(r.Context(), a.actor(), id); err != nil {
		http.Redirect(w, r, "/work", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/work/cases/"+id+"?done="+url.QueryEscape(action), http.StatusSeeOther)
}
