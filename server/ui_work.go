package server

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/textproc"
	"github.com/tongban/tongban/workflow"
)

// Staff workbench: login, the inbox with a tab per queue, and the case
// page with a form for each action the user may take now.

func (s *Server) uiLoginForm(w http.ResponseWriter, r *http.Request) {
	if authOf(r).User != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	v := s.newView(w, r, "login", "login.title")
	v.Form = url.Values{"next": {r.URL.Query().Get("next")}}
	s.render(w, r, http.StatusOK, "login", v)
}

// safeNext keeps redirects after login on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/work"
	}
	return next
}

func (s *Server) uiLogin(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, "login", s.Opts.LoginPerMinute) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, tongban.Errorf(tongban.EInvalid, "表单无法解析", "cannot read the form"))
		return
	}
	token, sess, _, err := s.Engine.Login(r.Context(), r.PostForm.Get("login"), r.PostForm.Get("password"))
	if err != nil {
		e := tongban.AsError(err)
		if e == nil || e.Code != tongban.EUnauthorized {
			s.fail(w, r, err)
			return
		}
		v := s.newView(w, r, "login", "login.title")
		v.Form = url.Values{"login": {r.PostForm.Get("login")}, "next": {r.PostForm.Get("next")}}
		v.Error = errText(v.Lang, e)
		s.render(w, r, http.StatusUnauthorized, "login", v)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", Expires: sess.ExpiresAt, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	http.Redirect(w, r, safeNext(r.PostForm.Get("next")), http.StatusSeeOther)
}

func (s *Server) uiLogout(w http.ResponseWriter, r *http.Request) {
	if a := authOf(r); a.Session != nil {
		if err := s.Store.DeleteSession(r.Context(), a.Session.TokenHash); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// lookups caches names for one request, so a list of cases costs one
// query for departments and one for categories.
type lookups struct {
	depts map[string]*tongban.Department
	cats  map[string]*tongban.Category
	list  []*tongban.Department
	catL  []*tongban.Category
}

func (s *Server) loadLookups(r *http.Request) (*lookups, error) {
	ds, err := s.Store.ListDepartments(r.Context())
	if err != nil {
		return nil, err
	}
	cs, err := s.Store.ListCategories(r.Context())
	if err != nil {
		return nil, err
	}
	l := &lookups{depts: map[string]*tongban.Department{}, cats: map[string]*tongban.Category{}, list: ds, catL: cs}
	for _, d := range ds {
		l.depts[d.Code] = d
	}
	for _, c := range cs {
		l.cats[c.Code] = c
	}
	return l, nil
}

func (l *lookups) dept(code string) string {
	if d := l.depts[code]; d != nil {
		return d.Name
	}
	return code
}

func (l *lookups) cat(code string) string {
	if c := l.cats[code]; c != nil {
		return c.Name
	}
	return code
}

// Dept and Cat are the names for templates.
func (l *lookups) Dept(code string) string { return l.dept(code) }
func (l *lookups) Cat(code string) string  { return l.cat(code) }

func (l *lookups) activeDepts() []*tongban.Department {
	var out []*tongban.Department
	for _, d := range l.list {
		if !d.Disabled {
			out = append(out, d)
		}
	}
	return out
}

// inboxTab is one queue of the inbox.
type inboxTab struct {
	Key    string
	Label  string
	Count  int
	Active bool
	URL    string
	apply  func(*tongban.CaseFilter)
}

func (s *Server) tabsFor(u *tongban.User) []*inboxTab {
	var tabs []*inboxTab
	add := func(key string, apply func(*tongban.CaseFilter)) {
		tabs = append(tabs, &inboxTab{Key: key, apply: apply})
	}
	if u.HasAny(tongban.RoleDispatcher, tongban.RoleIntake) {
		add("dispatch", func(f *tongban.CaseFilter) { f.Steps, f.Status = []string{"dispatch"}, tongban.StatusOpen })
	}
	if u.HasAny(tongban.RoleHandler, tongban.RoleHead) {
		add("accept", func(f *tongban.CaseFilter) { f.Steps, f.LeadDept = []string{"accept"}, u.Dept })
		add("mine", func(f *tongban.CaseFilter) { f.Steps, f.Assignee = []string{"handle"}, u.Login })
	}
	if u.Has(tongban.RoleHead) {
		add("review", func(f *tongban.CaseFilter) { f.Steps, f.LeadDept = []string{"review"}, u.Dept })
		add("extension", func(f *tongban.CaseFilter) { f.Steps, f.LeadDept, f.Pending = []string{"handle"}, u.Dept, "extension" })
	}
	if u.HasAny(tongban.RoleHandler, tongban.RoleHead) {
		add("orders", func(f *tongban.CaseFilter) {
			f.Kind, f.Status, f.LeadDept = tongban.KindTask, tongban.StatusOpen, u.Dept
		})
	} else if u.Has(tongban.RoleSupervisor) {
		add("orders", func(f *tongban.CaseFilter) { f.Kind, f.Status = tongban.KindTask, tongban.StatusOpen })
	}
	if appQueueFor(u) {
		add("apps", func(f *tongban.CaseFilter) { appQueueFilter(f, u) }) // ui_apply_work.go
	}
	add("all", func(f *tongban.CaseFilter) {})
	return tabs
}

// caseRow is a case as the inbox lists it.
type caseRow struct {
	*tongban.Case
	CategoryName string
	StepLabel    string
	LeadName     string
	Clock        engine.ClockState
	Snippet      []textproc.Segment
}

func (s *Server) uiInbox(w http.ResponseWriter, r *http.Request) {
	u := authOf(r).User
	v := s.newView(w, r, "work", "work.title")
	q := r.URL.Query()
	v.Form = q
	f, err := s.listFilter(r, u)
	if err != nil {
		if e := tongban.AsError(err); e != nil {
			v.setError(e)
			f, _ = s.listFilter(&http.Request{URL: &url.URL{Path: r.URL.Path}}, u)
		} else {
			s.fail(w, r, err)
			return
		}
	}
	tabs := s.tabsFor(u)
	cur := tabs[0]
	for _, t := range tabs {
		if t.Key == q.Get("tab") {
			cur = t
		}
	}
	// Counts: each queue on its own, within what the user may see.
	base := tongban.CaseFilter{}
	if f.Dept != "" && !u.HasAny(tongban.RoleIntake, tongban.RoleDispatcher, tongban.RoleSupervisor, tongban.RoleLeader, tongban.RoleAdmin) {
		base.Dept = u.Dept
	}
	for _, t := range tabs {
		cf := base
		t.apply(&cf)
		n, err := s.Store.CountCases(r.Context(), cf)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		t.Count = n
		t.Label = v.T("work.tab." + t.Key)
		t.Active = t == cur
		t.URL = "/work?tab=" + t.Key
	}
	if cur.Key == "apps" {
		s.uiAppInbox(w, r, v, u, tabs) // ui_apply_work.go
		return
	}
	if cur.Key != "all" {
		f.Steps = nil
	}
	cur.apply(&f)
	page, err := s.Store.ListCases(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lk, err := s.loadLookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := make([]caseRow, len(page.Cases))
	for i, c := range page.Cases {
		rows[i] = caseRow{Case: c, CategoryName: lk.cat(c.Category), StepLabel: s.stepLabelIn(v.Lang, c), LeadName: lk.dept(c.Lead), Clock: s.Engine.Clock(c), Snippet: searchSnippet(c, f.Query)}
	}
	pages := max(1, (page.Total+f.Limit-1)/f.Limit)
	cur1 := f.Offset/f.Limit + 1
	pageURL := func(n int) string {
		qq := url.Values{}
		for k, vs := range q {
			qq[k] = vs
		}
		qq.Set("page", strconv.Itoa(n))
		qq.Del("lang")
		return "/work?" + qq.Encode()
	}
	d := map[string]any{"Tabs": tabs, "Tab": cur.Key, "Rows": rows, "Total": page.Total, "Page": cur1, "Pages": pages,
		"Categories": lk.catL, "Depts": lk.activeDepts(), "Steps": s.steps("request"),
		"Central": u.HasAny(tongban.RoleIntake, tongban.RoleDispatcher, tongban.RoleSupervisor, tongban.RoleLeader, tongban.RoleAdmin)}
	if cur1 > 1 {
		d["Prev"] = pageURL(cur1 - 1)
	}
	if cur1 < pages {
		d["Next"] = pageURL(cur1 + 1)
	}
	v.D = d
	s.render(w, r, http.StatusOK, "inbox", v)
}

func (s *Server) steps(wf string) []workflow.Step {
	if d := s.Engine.Workflows[wf]; d != nil {
		return d.Steps
	}
	return nil
}

func (s *Server) stepLabelIn(lang string, c *tongban.Case) string {
	if d := s.Engine.Workflows[c.Workflow]; d != nil {
		if st := d.Step(c.Step); st != nil {
			if lang == langEN && st.LabelEN != "" {
				return st.LabelEN
			}
			return st.Label
		}
	}
	return c.Step
}

// eventRow is one event of the case's record as the page shows it.
type eventRow struct {
	*tongban.Event
	Label    string
	Who      string
	DeptName string
	From, To string
	Details  []kv
}

type kv struct{ K, V string }

// actionForm is an action the user may take, with its fields and any
// error from the last attempt.
type actionForm struct {
	engine.ActionInfo
	Label  string
	Fields []fieldView
	Failed bool
}

type fieldView struct {
	workflow.Field
	Label string
	ID    string
	Value string
	Vals  []string
	Err   string
	// Choices are a choice field's options in the page language.
	Choices []kv
}

// caseData is the case page.
type caseData struct {
	Case      *tongban.Case
	Requester tongban.Requester
	Revealed  bool
	CanReveal bool
	Anonymous bool
	Category  string
	StepLabel string
	Lead      string
	Co        []string
	First     string
	Clock     engine.ClockState
	Events    []eventRow
	Actions   []actionForm
	Depts     []*tongban.Department
	Pending   *tongban.Pending
	// Suggestions and Duplicates help the dispatcher (text.go).
	Suggestions []suggestionRow
	Duplicates  []engine.Duplicate
	// Supervision and SupervisionSide are the supervision panels (ui_supervise.go).
	Supervision, SupervisionSide template.HTML
	// Application and ApplicationSide are an application's facts and action forms (ui_apply_work.go).
	Application, ApplicationSide template.HTML
}

func (s *Server) uiCase(w http.ResponseWriter, r *http.Request) {
	s.showCase(w, r, nil, "", nil, false, http.StatusOK)
}

// showCase renders the case page; failed names the action whose form had
// an error, form its input.
func (s *Server) showCase(w http.ResponseWriter, r *http.Request, c *tongban.Case, failed string, failErr *tongban.Error, revealed bool, status int) {
	a := authOf(r)
	var err error
	if c == nil {
		c, err = s.Engine.Get(r.Context(), a.actor(), r.PathValue("id"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	v := s.newView(w, r, "work", "case.facts")
	v.Title = c.Title
	if r.Method == http.MethodPost {
		v.Form = r.PostForm
	}
	lk, err := s.loadLookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &caseData{Case: c, Category: lk.cat(c.Category), StepLabel: s.stepLabelIn(v.Lang, c), Lead: lk.dept(c.Lead), First: lk.dept(c.First),
		Clock: s.Engine.Clock(c), Depts: lk.activeDepts(), Pending: c.Pending, Revealed: revealed}
	for _, co := range c.Co {
		d.Co = append(d.Co, lk.dept(co))
	}
	d.CanReveal = engine.MayReveal(a.User, c)
	switch {
	case revealed:
		d.Requester = c.Requester
	case c.Confidential && !d.CanReveal:
		d.Anonymous = true
	default:
		d.Requester = c.Requester.Masked()
	}
	evs, err := s.Store.Events(r.Context(), c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	def := s.Engine.Workflows[c.Workflow]
	stepName := func(n string) string {
		if def != nil {
			if st := def.Step(n); st != nil {
				return v.Pick(st.Label, st.LabelEN)
			}
		}
		return n
	}
	// The same action name may mean different things in different steps
	// (a direct answer at dispatch, a handler's reply later).
	actionOf := func(e *tongban.Event) *workflow.Action {
		if def == nil {
			return nil
		}
		if a := def.Find(e.FromStep, e.Action); a != nil {
			return a
		}
		return findAction(def, e.Action)
	}
	if done := r.URL.Query().Get("done"); done != "" && len(evs) > 0 && evs[len(evs)-1].Action == done {
		if act := actionOf(evs[len(evs)-1]); act != nil {
			v.Notice = v.Tf("case.done", v.Pick(act.Label, act.LabelEN))
		}
	}
	for _, e := range evs {
		er := eventRow{Event: e, DeptName: lk.dept(e.ActorDept), To: stepName(e.ToStep), Who: e.Actor}
		if e.Actor == "public" {
			er.Who = v.T("ev.citizen")
		}
		if e.FromStep != "" {
			er.From = stepName(e.FromStep)
		}
		if e.Action == "create" {
			er.Label = v.T("ev.create")
		} else if act := actionOf(e); act != nil {
			er.Label = v.Pick(act.Label, act.LabelEN)
		} else {
			er.Label = e.Action
		}
		if e.Reason != "" {
			er.Details = append(er.Details, kv{v.T("pay.reason"), e.Reason})
		}
		if e.Note != "" {
			er.Details = append(er.Details, kv{v.T("pay.note"), e.Note})
		}
		er.Details = append(er.Details, s.payloadText(v, lk, e.Payload, e.Reason)...)
		d.Events = append(d.Events, er)
	}
	for _, ai := range s.Engine.Allowed(a.actor(), c) {
		af := actionForm{ActionInfo: ai, Label: v.Pick(ai.Label, ai.LabelEN), Failed: ai.Name == failed}
		for _, f := range ai.Fields {
			fv := fieldView{Field: f, Label: v.Pick(f.Label, f.LabelEN), ID: "f-" + ai.Name + "-" + f.Name}
			for _, o := range f.Options {
				fv.Choices = append(fv.Choices, kv{o.Value, v.Pick(o.Label, o.LabelEN)})
			}
			if af.Failed && v.Form != nil {
				fv.Value, fv.Vals = v.Form.Get(f.Name), v.Form[f.Name]
				if failErr != nil && failErr.Field == f.Name {
					fv.Err = errText(v.Lang, failErr)
				}
			}
			af.Fields = append(af.Fields, fv)
		}
		d.Actions = append(d.Actions, af)
	}
	if failErr != nil {
		known := false
		for _, af := range d.Actions {
			if af.Failed {
				for _, f := range af.Fields {
					known = known || f.Err != ""
				}
			}
		}
		if !known {
			v.Error = errText(v.Lang, failErr)
			if failErr.Code == tongban.EConflict && failErr == tongban.ErrConflict {
				v.Error = v.T("case.conflict")
			}
		} else {
			v.Error = v.T("submit.failed")
		}
	}
	s.textPanels(r, a.User, c, lk, d)
	d.Supervision, d.SupervisionSide = s.supervisionPanels(r, v, c, lk)
	if c.Kind == tongban.KindApplication {
		d.Application, d.ApplicationSide = s.applicationPanels(r, v, c, lk, d.Actions)
		d.Actions = nil
	}
	v.D = d
	s.render(w, r, status, "case", v)
}

// payloadText turns an event's payload into label: value lines.
func (s *Server) payloadText(v *view, lk *lookups, payload json.RawMessage, reason string) []kv {
	if len(payload) == 0 {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(payload, &m) != nil {
		return []kv{{v.T("ev.detail"), string(payload)}}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []kv
	for _, k := range keys {
		var val string
		switch x := m[k].(type) {
		case string:
			switch {
			case k == "department" || k == "from_department" || k == "to_department":
				val = lk.dept(x)
			case k == "type":
				val = typeName(v.Lang, x)
			case k == "category":
				val = lk.cat(x)
			case k == "channel":
				val = channelName(v.Lang, x)
			case k == "reason" && x == reason:
				continue
			default:
				if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
					val = fmtDateTime(v.Lang, t)
				} else {
					val = x
				}
			}
		case []any:
			var parts []string
			for _, p := range x {
				ps := fmt.Sprint(p)
				if strings.Contains(k, "department") {
					ps = lk.dept(ps)
				}
				parts = append(parts, ps)
			}
			val = strings.Join(parts, "、")
		case float64:
			if k == "level" && x >= 1 && x <= 5 {
				val = v.T("rate." + strconv.Itoa(int(x)))
			} else if x == math.Trunc(x) {
				val = strconv.FormatInt(int64(x), 10)
			} else {
				val = strconv.FormatFloat(x, 'f', -1, 64)
			}
		case nil:
			continue
		default:
			b, _ := json.Marshal(x)
			val = string(b)
		}
		label := v.T("pay." + k)
		if strings.HasPrefix(label, "pay.") {
			label = k
		}
		out = append(out, kv{label, val})
	}
	return out
}

// uiAct maps an action form to the engine's JSON input and acts.
func (s *Server) uiAct(w http.ResponseWriter, r *http.Request) {
	a := authOf(r)
	c, err := s.Engine.Get(r.Context(), a.actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	form := r.PostForm
	action := form.Get("action")
	var info *engine.ActionInfo
	allowed := s.Engine.Allowed(a.actor(), c)
	for i := range allowed {
		if allowed[i].Name == action {
			info = &allowed[i]
		}
	}
	if info == nil {
		// Not (or no longer) allowed: show the case as it is now.
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
	if note := strings.TrimSpace(form.Get("note")); note != "" {
		raw["note"], _ = json.Marshal(note)
	}
	for _, f := range info.Fields {
		val := strings.TrimSpace(form.Get(f.Name))
		switch f.Type {
		case "text", "dept", "choice":
			if val != "" || f.Required {
				raw[f.Name], _ = json.Marshal(val)
			}
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
			raw[f.Name], _ = json.Marshal(val != "")
		case "depts":
			vals := slices.DeleteFunc(slices.Clone(form[f.Name]), func(x string) bool { return x == "" })
			if len(vals) > 0 {
				raw[f.Name], _ = json.Marshal(vals)
			}
		}
	}
	if _, _, err := s.Engine.Act(r.Context(), a.actor(), strconv.FormatInt(c.ID, 10), action, raw); err != nil {
		e := tongban.AsError(err)
		if e == nil || e.Code == tongban.EInternal || e.Code == tongban.EUnavailable {
			s.fail(w, r, err)
			return
		}
		if e.Code == tongban.ENotFound {
			s.fail(w, r, err)
			return
		}
		if fresh, err := s.Engine.Get(r.Context(), a.actor(), strconv.FormatInt(c.ID, 10)); err == nil {
			c = fresh
		} else {
			s.fail(w, r, err)
			return
		}
		s.showCase(w, r, c, action, e, false, statusOf(e.Code))
		return
	}
	// After acting the case may have left the user's sight (dispatched
	// elsewhere): go back to the case if it is still visible, else the inbox.
	if _, err := s.Engine.Get(r.Context(), a.actor(), strconv.FormatInt(c.ID, 10)); err != nil {
		http.Redirect(w, r, "/work", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/work/cases/"+strconv.FormatInt(c.ID, 10)+"?done="+url.QueryEscape(action), http.StatusSeeOther)
}

// uiReveal shows the requester unmasked, for those who must call back;
// the engine logs each view.
func (s *Server) uiReveal(w http.ResponseWriter, r *http.Request) {
	a := authOf(r)
	c, err := s.Engine.Get(r.Context(), a.actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.Engine.Reveal(r.Context(), a.User, c, "ui: "+strings.TrimSpace(r.PostForm.Get("reason"))); err != nil {
		s.fail(w, r, err)
		return
	}
	s.showCase(w, r, c, "", nil, true, http.StatusOK)
}

func (s *Server) uiAttachment(w http.ResponseWriter, r *http.Request) {
	c, err := s.Engine.Get(r.Context(), authOf(r).actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.serveAttachment(w, r, c)
}
