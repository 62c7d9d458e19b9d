package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/workflow"
)

// The applicant's progress page: the tracking page (same form, same rate
// limit, same proof: tracking code and the phone's last four digits)
// shows an application with its stages, the departments' answers (agreed
// or objected — not their internal text), its deadlines, suspensions, the
// decision, the printable notices, the 补正 form and the 好差评 form.

// stageOpinion is one department's place in a stage.
type stageOpinion struct {
	Dept    string
	State   string // pending, approve, object, ruling
	At      time.Time
	Late    bool
	Text    string // staff only
	By      string // staff only
	Current bool   // still awaited
}

// stageRow is one review stage.
type stageRow struct {
	N        int
	Step     string
	Mode     string
	Limit    int
	Current  bool
	Done     bool
	Deadline *time.Time
	Opinions []stageOpinion
}

type noticeLink struct{ Kind, Title, URL string }

// appFacts is what both the applicant's page and the staff panel show.
type appFacts struct {
	Case         *tongban.Case
	Matter       workflow.AppMatter
	Applicant    tongban.Applicant
	Form         []kv
	Stages       []stageRow
	AcceptedAt   *time.Time
	Auto         bool
	Promised     *time.Time
	Statutory    *time.Time
	Suspended    *workflow.Suspension
	Suspensions  []workflow.Suspension
	Extension    map[string]any
	ExtDays      int
	Refusal      map[string]any
	Supplement   *supplementReq
	Supplemented map[string]any
	Decision     *workflow.Decision
	Delivered    map[string]any
	Notices      []noticeLink
	Pending      []string // departments yet to answer in the current stage
	StepLabel    string
	Lead         string
}

type supplementReq struct {
	Items []string  `json:"items"`
	At    time.Time `json:"at"`
}

// applicationFacts reads an application's attrs; staff see the opinions'
// text and who gave them.
func (s *Server) applicationFacts(r *http.Request, v *view, c *tongban.Case, deptName func(string) string, staff bool) *appFacts {
	f := &appFacts{Case: c, StepLabel: s.stepLabelIn(v.Lang, c), Lead: deptName(c.Lead)}
	workflow.GetAttr(c, workflow.AttrMatter, &f.Matter)
	var ap tongban.Applicant
	workflow.GetAttr(c, workflow.AttrApplicant, &ap)
	f.Applicant = ap.Masked()
	if ap.Type == tongban.ApplicantCompany {
		f.Applicant.Name = ap.Name
	}
	if staff {
		var form map[string]any
		workflow.GetAttr(c, workflow.AttrForm, &form)
		var fields []tongban.FormField
		if m, err := s.Engine.Matter(r.Context(), f.Matter.Code, f.Matter.Version); err == nil {
			fields = m.Form
		}
		for _, fd := range fields {
			x, ok := form[fd.Name]
			if !ok {
				continue
			}
			f.Form = append(f.Form, kv{fd.Label, formValue(v, fd, x)})
			delete(form, fd.Name)
		}
		for k, x := range form { // fields of a version no longer readable
			f.Form = append(f.Form, kv{k, formValue(v, tongban.FormField{}, x)})
		}
	}
	var stages []workflow.AppStage
	var cur int
	var ops []workflow.Opinion
	workflow.GetAttr(c, workflow.AttrStages, &stages)
	workflow.GetAttr(c, workflow.AttrStage, &cur)
	workflow.GetAttr(c, workflow.AttrOpinions, &ops)
	f.AcceptedAt = workflow.AttrTime(c, workflow.AttrAcceptedAt)
	inReview := f.AcceptedAt != nil && c.Step != "intake" && c.Step != "supplement"
	if inReview && cur < len(stages) {
		f.Pending = workflow.PendingDepts(c)
	}
	for i, st := range stages {
		row := stageRow{N: i + 1, Step: st.Step, Mode: st.Mode, Limit: st.LimitDays, Done: inReview && i < cur, Current: inReview && i == cur && (c.Step == "review" || c.Step == "ruling")}
		if row.Current {
			row.Deadline = workflow.AttrTime(c, workflow.AttrStageDeadline)
		}
		for _, d := range st.Departments {
			so := stageOpinion{Dept: deptName(d), State: "pending", Current: row.Current}
			for _, o := range ops {
				if o.Stage == i && o.Dept == d && !o.Ruling {
					so.State, so.At, so.Late, so.Current = "approve", o.At, o.Late, false
					if !o.Approve {
						so.State = "object"
					}
					if staff {
						so.Text, so.By = o.Text, o.By
					}
				}
			}
			row.Opinions = append(row.Opinions, so)
		}
		for _, o := range ops {
			if o.Stage == i && o.Ruling {
				so := stageOpinion{Dept: deptName(o.Dept), State: "ruling", At: o.At}
				if staff {
					so.Text, so.By = o.Text, o.By
				}
				row.Opinions = append(row.Opinions, so)
			}
		}
		f.Stages = append(f.Stages, row)
	}
	var auto bool
	f.Auto = workflow.GetAttr(c, workflow.AttrAutoAccepted, &auto) && auto
	f.Promised = workflow.AttrTime(c, workflow.AttrPromisedDeadline)
	f.Statutory = workflow.AttrTime(c, workflow.AttrStatutoryDeadline)
	var sus workflow.Suspension
	if workflow.GetAttr(c, workflow.AttrSuspended, &sus) {
		f.Suspended = &sus
	}
	workflow.GetAttr(c, workflow.AttrSuspensions, &f.Suspensions)
	workflow.GetAttr(c, workflow.AttrExtension, &f.Extension)
	f.ExtDays = c.ExtensionDays
	workflow.GetAttr(c, workflow.AttrRefusal, &f.Refusal)
	var sr supplementReq
	if workflow.GetAttr(c, workflow.AttrSupplementRequest, &sr) {
		f.Supplement = &sr
	}
	workflow.GetAttr(c, workflow.AttrSupplemented, &f.Supplemented)
	var dec workflow.Decision
	if workflow.GetAttr(c, workflow.AttrDecision, &dec) {
		f.Decision = &dec
	}
	workflow.GetAttr(c, workflow.AttrDelivered, &f.Delivered)
	for _, k := range []string{"receipt", "supplement", "refusal", "acceptance", "decision"} {
		if _, err := s.renderNotice(c, k); err != nil {
			continue
		}
		title := NoticeKinds[k]
		if k == "decision" && f.Decision != nil {
			title = "不予行政许可决定书"
			if f.Decision.Grant {
				title = "准予行政许可决定书"
			}
		}
		f.Notices = append(f.Notices, noticeLink{Kind: k, Title: v.Pick(title, v.T("ap.notice."+k))})
	}
	return f
}

// formValue writes a form value for people.
func formValue(v *view, fd tongban.FormField, x any) string {
	switch t := x.(type) {
	case bool:
		if t {
			return v.T("ap.yes")
		}
		return v.T("ap.no")
	case float64:
		b, _ := json.Marshal(t)
		return string(b)
	case string:
		if fd.Type == "id_card" && len(t) > 10 {
			return t[:6] + strings.Repeat("*", len(t)-10) + t[len(t)-4:]
		}
		return t
	}
	b, _ := json.Marshal(x)
	return string(b)
}

// renderApplicationTrack is the tracking page of an application (called
// from renderTrack).
func (s *Server) renderApplicationTrack(w http.ResponseWriter, r *http.Request, v *view, c *tongban.Case, status int) {
	last4 := v.Form.Get("phone_last4")
	f := s.applicationFacts(r, v, c, s.deptName, false)
	q := url.Values{"phone_last4": {last4}}.Encode()
	for i := range f.Notices {
		f.Notices[i].URL = "/api/v1/track/" + c.TrackingCode + "/notices/" + f.Notices[i].Kind + "?" + q
	}
	evs, err := s.Store.Events(r.Context(), c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tv := s.trackView(r, c, evs, false)
	allowed := s.Engine.Allowed(engine.Actor{}, c)
	can := func(name string) bool {
		return slices.ContainsFunc(allowed, func(a engine.ActionInfo) bool { return a.Name == name })
	}
	if r.URL.Query().Get("supplemented") == "1" {
		v.Notice = v.T("ap.supplement.done")
	}
	v.Title = v.T("ap.progress")
	v.D = map[string]any{"F": f, "Track": tv, "Code": c.TrackingCode, "Last4": last4, "Levels": []int{5, 4, 3, 2, 1},
		"CanSupplement": can("supplement"), "CanRate": can("rate")}
	s.render(w, r, status, "apply_track", v)
}

// uiApplySupplement takes the applicant's 补正 from the progress page.
func (s *Server) uiApplySupplement(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, "track", s.Opts.TrackPerMinute) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, tongban.Errorf(tongban.EInvalid, "表单无法解析", "cannot read the form"))
		return
	}
	last4 := strings.TrimSpace(r.PostForm.Get("phone_last4"))
	c, err := s.trackCase(r, r.PathValue("code"), last4)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if c.Kind != tongban.KindApplication {
		s.fail(w, r, tongban.ErrNotFound)
		return
	}
	text := strings.TrimSpace(r.PostForm.Get("text"))
	raw := map[string]json.RawMessage{}
	raw["text"], _ = json.Marshal(text)
	if _, _, err := s.Engine.Act(r.Context(), engine.Actor{}, c.TrackingCode, "supplement", raw); err != nil {
		e := tongban.AsError(err)
		if e == nil || e.Code == tongban.EInternal || e.Code == tongban.EUnavailable {
			s.fail(w, r, err)
			return
		}
		v := s.newView(w, r, "portal", "track.title")
		v.Form = url.Values{"code": {c.TrackingCode}, "phone_last4": {last4}, "text": {text}}
		if e.Field == "" && e.Code == tongban.EInvalid {
			e = &tongban.Error{Code: e.Code, Field: "text", Message: e.Message, English: e.English}
		}
		v.setError(e, "text")
		if c2, err := s.Store.Case(r.Context(), c.ID); err == nil {
			c = c2
		}
		s.renderApplicationTrack(w, r, v, c, statusOf(e.Code))
		return
	}
	q := url.Values{"code": {c.TrackingCode}, "phone_last4": {last4}, "supplemented": {"1"}}
	http.Redirect(w, r, "/track?"+q.Encode(), http.StatusSeeOther)
}
