package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/textproc"
	"github.com/tongban/tongban/workflow"
)

// caseView is a case as the API shows it to staff: personal data masked,
// labels for people, the clock, and the actions the caller may take now.
type caseView struct {
	tongban.Case
	TypeName     string              `json:"type_name,omitempty"`
	CategoryName string              `json:"category_name,omitempty"`
	StepLabel    string              `json:"step_label"`
	Clock        *engine.ClockState  `json:"clock,omitempty"`
	Actions      []string            `json:"actions"`
	ActionForms  []engine.ActionInfo `json:"action_forms,omitempty"`
	CanReveal    bool                `json:"can_reveal_requester"`
	Event        *tongban.Event      `json:"event,omitempty"`
	// Snippet is the text around a search query's matches, in list results.
	Snippet []textproc.Segment `json:"snippet,omitempty"`
	// Ratings are the case's ratings with the state of each 差评;
	// SupervisionFlags the flags of an application (fees outside the
	// catalogue, entries after the fact).
	Ratings          []ratingView   `json:"ratings,omitempty"`
	SupervisionFlags []tongban.Flag `json:"supervision_flags,omitempty"`
}

func (s *Server) stepLabel(c *tongban.Case) string {
	if d := s.Engine.Workflows[c.Workflow]; d != nil {
		if st := d.Step(c.Step); st != nil {
			return st.Label
		}
	}
	return c.Step
}

func (s *Server) categoryName(code string) string {
	if c, err := s.Engine.Category(contextBG, code); err == nil {
		return c.Name
	}
	return code
}

// caseSummary is the list form: no body text beyond what lists need.
func (s *Server) caseSummary(c *tongban.Case) *caseView {
	v := &caseView{Case: *c, TypeName: tongban.TypeNames[c.Type], StepLabel: s.stepLabel(c)}
	v.Requester = c.Requester.Masked()
	if c.Confidential {
		v.Requester = tongban.Requester{Name: "匿名"}
	}
	clock := s.Engine.Clock(c)
	v.Clock = &clock
	applicationView(v)
	v.Actions = []string{}
	v.Attachments = nil
	return v
}

func (s *Server) caseView(r *http.Request, actor engine.Actor, c *tongban.Case) *caseView {
	v := s.caseSummary(c)
	v.Attachments = c.Attachments
	v.CategoryName = s.categoryName(c.Category)
	v.ActionForms = s.Engine.Allowed(actor, c)
	for _, a := range v.ActionForms {
		v.Actions = append(v.Actions, a.Name)
	}
	v.CanReveal = engine.MayReveal(actor.User, c)
	v.Ratings = caseRatings(c, s.Engine.Now())
	v.SupervisionFlags = tongban.CaseFlags(c)
	// A confidential report's requester is hidden entirely from the
	// department it concerns.
	if c.Confidential && !v.CanReveal {
		v.Requester = tongban.Requester{Name: "匿名"}
	}
	return v
}

// trackStep is one public step of a case's timeline.
type trackStep struct {
	Action  string    `json:"action"`
	Label   string    `json:"label"`
	LabelEN string    `json:"label_en"`
	Dept    string    `json:"department,omitempty"`
	At      time.Time `json:"at"`
	Reason  string    `json:"reason,omitempty"`
}

// trackView is what the public sees: progress and reply, no personal data.
type trackView struct {
	TrackingCode string      `json:"tracking_code"`
	Type         string      `json:"type"`
	TypeName     string      `json:"type_name"`
	Category     string      `json:"category"`
	CategoryName string      `json:"category_name"`
	Title        string      `json:"title"`
	Status       string      `json:"status"`
	Step         string      `json:"step"`
	StepLabel    string      `json:"step_label"`
	ReceivedAt   time.Time   `json:"received_at"`
	Deadline     time.Time   `json:"deadline"`
	Department   string      `json:"department,omitempty"`
	Reply        string      `json:"reply,omitempty"`
	RepliedAt    *time.Time  `json:"replied_at,omitempty"`
	ClosedAt     *time.Time  `json:"closed_at,omitempty"`
	Rating       int         `json:"rating,omitempty"`
	CanRate      bool        `json:"can_rate"`
	Timeline     []trackStep `json:"timeline"`
}

func (s *Server) deptName(code string) string {
	if code == "" {
		return ""
	}
	if d, err := s.Engine.Department(contextBG, code); err == nil {
		return d.Name
	}
	return code
}

// trackView builds the public view; events may be nil (just filed).
func (s *Server) trackView(r *http.Request, c *tongban.Case, events []*tongban.Event, justFiled bool) *trackView {
	v := &trackView{TrackingCode: c.TrackingCode, Type: c.Type, TypeName: tongban.TypeNames[c.Type], Category: c.Category,
		CategoryName: s.categoryName(c.Category), Title: c.Title, Status: c.Status, Step: c.Step, StepLabel: s.stepLabel(c),
		ReceivedAt: c.ReceivedAt, Deadline: c.Deadline, Department: s.deptName(c.Lead), Reply: c.Reply, RepliedAt: c.RepliedAt,
		ClosedAt: c.ClosedAt, Rating: c.Rating, Timeline: []trackStep{}}
	if c.Step == "review" || c.Step == "handle" {
		v.Reply, v.RepliedAt = "", nil // a draft awaiting approval is not public
	}
	v.CanRate = len(s.Engine.Allowed(engine.Actor{}, c)) > 0
	def := s.Engine.Workflows[c.Workflow]
	if justFiled {
		v.Timeline = append(v.Timeline, trackStep{Action: "create", Label: "已受理", LabelEN: "Received", At: c.ReceivedAt})
	}
	for _, e := range events {
		if !e.Public {
			continue
		}
		ts := trackStep{Action: e.Action, At: e.At}
		if e.Action == "create" {
			ts.Label, ts.LabelEN = "已受理", "Received"
		} else if a := findAction(def, e.Action); a != nil {
			ts.Label, ts.LabelEN = a.Label, a.LabelEN
		}
		var p struct {
			Department string `json:"department"`
		}
		_ = json.Unmarshal(e.Payload, &p)
		if p.Department != "" {
			ts.Dept = s.deptName(p.Department)
		}
		if e.Action == "approve_extension" || e.Action == "reopen" || e.Action == "close" {
			ts.Reason = e.Reason // the citizen is told why
		}
		v.Timeline = append(v.Timeline, ts)
	}
	return v
}

func findAction(def *workflow.Definition, name string) *workflow.Action {
	if def == nil {
		return nil
	}
	for i := range def.Actions {
		if def.Actions[i].Name == name {
			return &def.Actions[i]
		}
	}
	return nil
}

// trackCase checks a tracking code and the requester's phone digits; a
// wrong pair is not_found either way, so codes cannot be probed.
func (s *Server) trackCase(r *http.Request, code, last4 string) (*tongban.Case, error) {
	norm, ok := tongban.NormalizeTrackingCode(code)
	if !ok || len(last4) != 4 {
		return nil, tongban.Errorf(tongban.ENotFound, "未找到该办件，请核对跟踪码和手机号后四位", "no case with this code and phone digits")
	}
	c, err := s.Store.CaseByCode(r.Context(), norm)
	if err != nil {
		if tongban.ErrorCode(err) == tongban.ENotFound {
			return nil, tongban.Errorf(tongban.ENotFound, "未找到该办件，请核对跟踪码和手机号后四位", "no case with this code and phone digits")
		}
		return nil, err
	}
	if !strings.HasSuffix(c.Requester.Phone, last4) {
		return nil, tongban.Errorf(tongban.ENotFound, "未找到该办件，请核对跟踪码和手机号后四位", "no case with this code and phone digits")
	}
	return c, nil
}

func (s *Server) apiTrack(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, "track", s.Opts.TrackPerMinute) {
		return
	}
	c, err := s.trackCase(r, r.PathValue("code"), r.URL.Query().Get("phone_last4"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	evs, err := s.Store.Events(r.Context(), c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.trackView(r, c, evs, false))
}

func (s *Server) apiRate(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, "track", s.Opts.TrackPerMinute) {
		return
	}
	var in struct {
		PhoneLast4 string `json:"phone_last4"`
		Level      *int   `json:"level"`
		Comment    string `json:"comment"`
	}
	if err := decodeJSON(w, r, maxJSON, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.trackCase(r, r.PathValue("code"), in.PhoneLast4)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	raw := map[string]json.RawMessage{}
	if in.Level != nil {
		raw["level"], _ = json.Marshal(*in.Level)
	}
	if in.Comment != "" {
		raw["comment"], _ = json.Marshal(in.Comment)
	}
	c, _, err = s.Engine.Act(r.Context(), engine.Actor{}, c.TrackingCode, "rate", raw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	evs, err := s.Store.Events(r.Context(), c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.trackView(r, c, evs, false))
}

func pathEscape(s string) string { return url.PathEscape(s) }
