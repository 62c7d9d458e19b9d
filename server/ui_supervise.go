package server

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/supervise"
)

// superviseUIRoutes registers the supervision dashboard pages.
func (s *Server) superviseUIRoutes() {
	m := s.mux
	m.HandleFunc("GET /supervise", s.page(s.uiDashboard, tongban.RoleSupervisor, tongban.RoleLeader, tongban.RoleAdmin))
	m.HandleFunc("GET /supervise/findings", s.page(s.uiFindings, tongban.RoleSupervisor, tongban.RoleLeader, tongban.RoleAdmin))
	m.HandleFunc("POST /work/cases/{id}/findings", s.page(s.uiRecordFinding, tongban.RoleSupervisor))
}

// supervisionReader: who sees the supervision office's pages and panels.
func supervisionReader(u *tongban.User) bool {
	return u != nil && u.HasAny(tongban.RoleSupervisor, tongban.RoleLeader, tongban.RoleAdmin)
}

// findingKindList is the finding kinds in a stable order, with names.
func findingKindList(lang string) []kv {
	order := []string{tongban.FindingValidComplaint, "overdue", "poor_reply", "shirking", "false_report", "discipline", "other"}
	var out []kv
	seen := map[string]bool{}
	for _, k := range order {
		if _, ok := engine.FindingKinds[k]; ok {
			out = append(out, kv{k, findingKindName(lang, k)})
			seen[k] = true
		}
	}
	var rest []string
	for k := range engine.FindingKinds {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		out = append(out, kv{k, findingKindName(lang, k)})
	}
	return out
}

func findingKindName(lang, k string) string {
	if lang == langEN {
		if t := tr(lang, "sup.fkind."+k); !strings.HasPrefix(t, "sup.fkind.") {
			return t
		}
	}
	if n, ok := engine.FindingKinds[k]; ok {
		return n
	}
	return k
}

// supPanel is the supervision part of a case page.
type supPanel struct {
	Case       *tongban.Case
	Order      bool // the case is a supervision order
	Parent     *tongban.Case
	ParentLink bool
	Recipient  string
	Auto       bool
	Alarms     []supAlarm
	Orders     []supOrder
	Findings   []findingRow
	CanRecord  bool // the finding form
	Reader     bool
	Kinds      []kv
	Outcomes   []string
	Depts      []*tongban.Department
	DefDept    string
	Recorded   bool
	// Ratings are the case's ratings (好差评) with each 差评's life; Flags
	// an application's supervision flags.
	Ratings []panelRating
	Flags   []panelFlag
}

type panelRating struct {
	tongban.RatingItem
	DeptName string
	State    string
	Overdue  bool
	Verdict  string
}

type panelFlag struct {
	tongban.Flag
	Label string
}

type supAlarm struct {
	tongban.AlarmMark
	Label string
	Scope string
	Time  string
}

type supOrder struct {
	tongban.OrderRef
	ID        int64
	DeptName  string
	StepLabel string
	Closed    bool
}

// findingRow is a finding as the pages list it.
type findingRow struct {
	*tongban.Finding
	KindName string
	DeptName string
	Code     string
	Title    string
}

// supervisionPanels renders the supervision parts of a case page: the
// order's demand and its case, the live alarms and orders, the findings
// (main column), and the form to record a finding (side column).
func (s *Server) supervisionPanels(r *http.Request, v *view, c *tongban.Case, lk *lookups) (main, side template.HTML) {
	u := v.User
	p := &supPanel{Case: c, Order: c.Kind == tongban.KindTask, Reader: supervisionReader(u), Recorded: r.URL.Query().Get("finding") == "ok"}
	ctx := r.Context()
	if p.Order {
		p.Recipient = lk.dept(c.Lead)
		if raw, ok := c.Attrs["auto"]; ok && string(raw) == "true" {
			p.Auto = true
		}
		if c.Supervises != 0 {
			if pc, err := s.Engine.Get(ctx, authOf(r).actor(), strconv.FormatInt(c.Supervises, 10)); err == nil {
				p.Parent, p.ParentLink = pc, true
			} else if pc, err := s.Store.Case(ctx, c.Supervises); err == nil {
				p.Parent = &tongban.Case{TrackingCode: pc.TrackingCode} // its code only: the case is not the viewer's to read
			}
		}
	}
	if c.Supervision != nil && (p.Reader || u != nil && u.HasAny(tongban.RoleDispatcher, tongban.RoleHead, tongban.RoleHandler)) {
		now := s.Engine.Now()
		for _, a := range c.Supervision.Alarms {
			sa := supAlarm{AlarmMark: a, Label: v.T("sup.colour." + a.Colour), Scope: v.T("sup.scope." + a.Scope)}
			if a.Colour != tongban.AlarmFlag {
				_, sa.Time = s.overdueText(v.Lang, a.Deadline, now)
			}
			p.Alarms = append(p.Alarms, sa)
		}
		for _, o := range c.Supervision.Orders {
			so := supOrder{OrderRef: o, DeptName: lk.dept(o.Dept)}
			if oc, err := s.Store.CaseByCode(ctx, o.Code); err == nil {
				so.ID, so.StepLabel, so.Closed = oc.ID, s.stepLabelIn(v.Lang, oc), oc.Status == tongban.StatusClosed
			}
			p.Orders = append(p.Orders, so)
		}
	}
	now := s.Engine.Now()
	for _, it := range tongban.CaseRatings(c) {
		pr := panelRating{RatingItem: it, DeptName: lk.dept(it.Dept)}
		if it.Bad != nil {
			pr.State, pr.Overdue, pr.Verdict = it.Bad.State(), it.Bad.Overdue(now), verdictName(v.Lang, it.Bad.Verdict)
		}
		p.Ratings = append(p.Ratings, pr)
	}
	for _, f := range tongban.CaseFlags(c) {
		p.Flags = append(p.Flags, panelFlag{Flag: f, Label: v.T("rt.flag." + f.Kind)})
	}
	if p.Reader {
		if list, err := s.Engine.Findings(ctx, authOf(r).actor(), tongban.FindingFilter{CaseID: c.ID, Limit: 100}); err == nil {
			for _, f := range list {
				p.Findings = append(p.Findings, findingRow{Finding: f, KindName: findingKindName(v.Lang, f.Kind), DeptName: lk.dept(f.Dept)})
			}
		}
	}
	if u != nil && u.Has(tongban.RoleSupervisor) {
		p.CanRecord = true
		p.Kinds = findingKindList(v.Lang)
		p.Outcomes = engine.FindingOutcomes
		p.Depts = lk.activeDepts()
		p.DefDept = supervise.Responsible(c)
	}
	t := pages["supervise_panel"]
	if t == nil {
		return "", ""
	}
	pv := *v
	pv.D = p
	var b1, b2 bytes.Buffer
	if err := t.ExecuteTemplate(&b1, "sup_main", &pv); err != nil {
		s.Log.Error("template", "page", "supervise_panel", "err", err)
	}
	if err := t.ExecuteTemplate(&b2, "sup_side", &pv); err != nil {
		s.Log.Error("template", "page", "supervise_panel", "err", err)
	}
	return template.HTML(b1.String()), template.HTML(b2.String())
}

// uiRecordFinding records a supervisor's finding from the case page.
func (s *Server) uiRecordFinding(w http.ResponseWriter, r *http.Request) {
	a := authOf(r)
	c, err := s.Engine.Get(r.Context(), a.actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, tongban.Errorf(tongban.EInvalid, "表单无法解析", "cannot read the form"))
		return
	}
	form := r.PostForm
	in := engine.FindingInput{Dept: form.Get("department"), Person: form.Get("person"), Kind: form.Get("kind"), Reason: form.Get("reason"), Outcome: form.Get("outcome")}
	if _, err := s.Engine.RecordFinding(r.Context(), a.actor(), strconv.FormatInt(c.ID, 10), in); err != nil {
		e := tongban.AsError(err)
		if e == nil || e.Code == tongban.EInternal || e.Code == tongban.EUnavailable || e.Code == tongban.ENotFound || e.Code == tongban.EForbidden {
			s.fail(w, r, err)
			return
		}
		s.showCase(w, r, c, "", e, false, statusOf(e.Code))
		return
	}
	http.Redirect(w, r, "/work/cases/"+strconv.FormatInt(c.ID, 10)+"?finding=ok#sup-findings", http.StatusSeeOther)
}

// findingsData is the audit list of findings.
type findingsData struct {
	Rows     []findingRow
	Kinds    []kv
	Depts    []*tongban.Department
	Limited  bool
	CSVURL   string
	XLSXURL  string
	Elapsed  string
	Outcomes []string
}

const findingsLimit = 1000

// uiFindings lists findings (问责记录) with filters, newest first.
func (s *Server) uiFindings(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	v := s.newView(w, r, "supervise", "sup.findings.title")
	q := r.URL.Query()
	v.Form = q
	f := tongban.FindingFilter{Dept: q.Get("department"), Person: strings.TrimSpace(q.Get("person")), Kind: q.Get("kind"), Limit: findingsLimit}
	if f.Kind != "" {
		if _, ok := engine.FindingKinds[f.Kind]; !ok {
			f.Kind = ""
		}
	}
	if from := q.Get("from"); from != "" {
		t, err := calendar.ParseDate(from)
		if err != nil {
			v.setError(tongban.FieldError("from", "日期格式应为 YYYY-MM-DD", "dates are YYYY-MM-DD"))
		} else {
			f.From = t
		}
	}
	if to := q.Get("to"); to != "" {
		t, err := calendar.ParseDate(to)
		if err != nil {
			v.setError(tongban.FieldError("to", "日期格式应为 YYYY-MM-DD", "dates are YYYY-MM-DD"))
		} else {
			f.To = t.AddDate(0, 0, 1)
		}
	}
	list, err := s.Engine.Findings(r.Context(), authOf(r).actor(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lk, err := s.loadLookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The cases' codes and titles, once per case.
	cases := map[int64]*tongban.Case{}
	rows := make([]findingRow, 0, len(list))
	for _, fd := range list {
		c, ok := cases[fd.CaseID]
		if !ok {
			c, _ = s.Store.Case(r.Context(), fd.CaseID)
			cases[fd.CaseID] = c
		}
		fr := findingRow{Finding: fd, KindName: findingKindName(v.Lang, fd.Kind), DeptName: lk.dept(fd.Dept)}
		if c != nil {
			fr.Code, fr.Title = c.TrackingCode, c.Title
		}
		rows = append(rows, fr)
	}
	if format := q.Get("format"); format != "" {
		if format != "csv" && format != "xlsx" {
			s.fail(w, r, tongban.FieldError("format", "format 须为 csv 或 xlsx", "format must be csv or xlsx"))
			return
		}
		t := &table{Name: v.T("sup.findings.title"), Headers: []string{v.T("sup.col.at"), v.T("col.code"), v.T("col.title"), v.T("sup.col.fkind"),
			v.T("f.department"), v.T("sup.col.person"), v.T("sup.col.reason"), v.T("sup.col.outcome"), v.T("sup.col.by")}}
		for _, fr := range rows {
			t.Rows = append(t.Rows, []any{fmtDateTime(v.Lang, fr.At), fr.Code, fr.Title, fr.KindName, fr.DeptName, fr.Person, fr.Reason, fr.Outcome, fr.By})
		}
		sendTable(w, t, "tongban-findings-"+s.Engine.Now().In(calendar.Shanghai).Format("20060102"), format)
		return
	}
	exp := func(format string) string {
		qq := url.Values{}
		for k, vs := range q {
			qq[k] = vs
		}
		qq.Del("lang")
		qq.Set("format", format)
		return "/supervise/findings?" + qq.Encode()
	}
	v.D = &findingsData{Rows: rows, Kinds: findingKindList(v.Lang), Depts: lk.activeDepts(), Limited: len(rows) >= findingsLimit,
		CSVURL: exp("csv"), XLSXURL: exp("xlsx"), Elapsed: strconv.FormatInt(time.Since(start).Milliseconds(), 10)}
	s.render(w, r, http.StatusOK, "supervise_findings", v)
}
