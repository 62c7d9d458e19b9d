package workflow

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/tongban/tongban"
)

// The application workflow (行政许可, Administrative Licensing Law) keeps
// what it needs in the case's attrs, written when the application is
// filed from the matter's version then in force, so every rule here is
// pure: the matter's limits, the review stages (a serial step with several
// departments becomes one stage each; a parallel step one stage with all
// of them), the opinions given, suspensions, the extension and the
// decision.

// Attr keys of an application.
const (
	AttrMatter            = "matter"
	AttrApplicant         = "applicant"
	AttrForm              = "form"
	AttrStages            = "stages"
	AttrStage             = "stage"
	AttrStageDeadline     = "stage_deadline"
	AttrOpinions          = "opinions"
	AttrAcceptedAt        = "accepted_at"
	AttrStatutoryDeadline = "statutory_deadline"
	AttrPromisedDeadline  = "promised_deadline"
	AttrSuspended         = "suspended"
	AttrSuspensions       = "suspensions"
	AttrExtension         = "extension"
	AttrDecision          = "decision"
	AttrRefusal           = "refusal"
	AttrSupplementRequest = "supplement_request"
	AttrSupplemented      = "supplemented"
	AttrDelivered         = "delivered"
	AttrAutoAccepted      = "auto_accepted"
)

// AppMatter is the part of the matter an application carries with it.
type AppMatter struct {
	Code          string `json:"code"`
	Version       int    `json:"version"`
	Name          string `json:"name"`
	StatutoryDays int    `json:"statutory_days"`
	PromisedDays  int    `json:"promised_days"`
	ExtensionDays int    `json:"extension_days"`
	Joint         bool   `json:"joint,omitempty"`
}

// AppStage is one review stage: the departments that must all answer.
type AppStage struct {
	Step        string   `json:"step"`
	Mode        string   `json:"mode"`
	Departments []string `json:"departments"`
	LimitDays   int      `json:"limit_days"`
}

// Opinion is one department's answer in a stage.
type Opinion struct {
	Stage   int       `json:"stage"`
	Dept    string    `json:"department"`
	Approve bool      `json:"approve"`
	Text    string    `json:"text,omitempty"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Late    bool      `json:"late,omitempty"`
	Ruling  bool      `json:"ruling,omitempty"` // the lead's ruling on an objection
}

// Suspension is a stop of the clock (Art. 45).
type Suspension struct {
	Reason      string     `json:"reason"`
	WorkingDays int        `json:"working_days"`
	At          time.Time  `json:"at"`
	Until       time.Time  `json:"until"`
	ResumedAt   *time.Time `json:"resumed_at,omitempty"`
	Counted     int        `json:"counted_days,omitempty"` // working days the deadlines moved
}

// Decision is the licensing decision (Art. 38, 40).
type Decision struct {
	Grant     bool      `json:"grant"`
	Reasons   string    `json:"reasons,omitempty"`
	Remedies  string    `json:"remedies,omitempty"`
	LicenceNo string    `json:"licence_no,omitempty"`
	By        string    `json:"by"`
	At        time.Time `json:"at"`
	// Late: decided after the statutory deadline.
	Late bool `json:"late,omitempty"`
}

// Remedies is what a refusal must tell the applicant (Art. 38 para. 2).
const Remedies = "申请人如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，或者自收到本决定书之日起六个月内依法向人民法院提起行政诉讼。"

// IntakeDays is the period within which an application must be accepted,
// refused or sent back for supplement, or counts as accepted (Art. 32).
const IntakeDays = 5

// GetAttr decodes one attr into v, reporting whether it was there.
func GetAttr(c *tongban.Case, key string, v any) bool {
	raw, ok := c.Attrs[key]
	if !ok || string(raw) == "null" {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

// SetAttr encodes v into one attr; nil deletes it.
func SetAttr(c *tongban.Case, key string, v any) {
	if v == nil {
		delete(c.Attrs, key)
		return
	}
	if c.Attrs == nil {
		c.Attrs = map[string]json.RawMessage{}
	}
	c.Attrs[key], _ = json.Marshal(v)
}

// AttrTime returns a time attr, or nil.
func AttrTime(c *tongban.Case, key string) *time.Time {
	var t time.Time
	if !GetAttr(c, key, &t) {
		return nil
	}
	return &t
}

// AppSuspended reports whether the application's clock is stopped.
func AppSuspended(c *tongban.Case) bool {
	var s Suspension
	return GetAttr(c, AttrSuspended, &s)
}

func appStages(c *tongban.Case) ([]AppStage, int) {
	var st []AppStage
	var i int
	GetAttr(c, AttrStages, &st)
	GetAttr(c, AttrStage, &i)
	return st, i
}

func appOpinions(c *tongban.Case) []Opinion {
	var ops []Opinion
	GetAttr(c, AttrOpinions, &ops)
	return ops
}

// Pending lists the departments of the current stage yet to answer.
func PendingDepts(c *tongban.Case) []string {
	st, i := appStages(c)
	if i >= len(st) {
		return nil
	}
	ops := appOpinions(c)
	var out []string
	for _, d := range st[i].Departments {
		if !slices.ContainsFunc(ops, func(o Opinion) bool { return o.Stage == i && o.Dept == d }) {
			out = append(out, d)
		}
	}
	return out
}

type workdayCounter interface {
	WorkdaysBetween(a, b time.Time) int
}

// shift moves a deadline by n working days (to the end of the working day
// n working days after its own date).
func shift(clock Clock, t time.Time, n int) time.Time {
	if n <= 0 {
		return t
	}
	return clock.DeadlineAfterWorkdays(t, n).UTC()
}

// shiftDeadlines moves every running clock of an application by n
// working days: a suspension's days or the extension's.
func shiftDeadlines(c *tongban.Case, clock Clock, n int) {
	if n <= 0 {
		return
	}
	c.Deadline = shift(clock, c.Deadline, n)
	for _, k := range []string{AttrStatutoryDeadline, AttrPromisedDeadline, AttrStageDeadline} {
		if t := AttrTime(c, k); t != nil {
			SetAttr(c, k, shift(clock, *t, n))
		}
	}
	if c.StepDeadline != nil {
		t := shift(clock, *c.StepDeadline, n)
		c.StepDeadline = &t
	}
}

// SetAppDeadlines computes the statutory and promised deadlines from the
// day an application is (or would be) accepted.
func SetAppDeadlines(c *tongban.Case, clock Clock, from time.Time) {
	var m AppMatter
	GetAttr(c, AttrMatter, &m)
	stat := clock.DeadlineAfterWorkdays(from, m.StatutoryDays).UTC()
	prom := clock.DeadlineAfterWorkdays(from, m.PromisedDays).UTC()
	SetAttr(c, AttrStatutoryDeadline, stat)
	SetAttr(c, AttrPromisedDeadline, prom)
	c.Deadline = prom
}

func startStage(c *tongban.Case, env *Env, i int) {
	st, _ := appStages(c)
	SetAttr(c, AttrStage, i)
	if i >= len(st) {
		SetAttr(c, AttrStageDeadline, nil)
		c.StepDeadline = nil
		return
	}
	d := env.Clock.DeadlineAfterWorkdays(env.Now, st[i].LimitDays).UTC()
	SetAttr(c, AttrStageDeadline, d)
	c.StepDeadline = &d
	env.Payload["stage"] = i
	env.Payload["departments"] = st[i].Departments
	env.Payload["stage_deadline"] = d
}

func isIntakeStaff(c *tongban.Case, env *Env) bool {
	u := env.Actor
	return u != nil && (u.Has(tongban.RoleIntake) || u.Dept != "" && u.Dept == c.Lead)
}

func appRunning(c *tongban.Case, _ *Env) bool { return c.Pending == nil && !AppSuspended(c) }

func init() {
	for k, f := range map[string]func(c *tongban.Case, env *Env) bool{
		// Window clerks take any application; a department's staff their own.
		"app_intake_staff": isIntakeStaff,
		"app_supplement_once": func(c *tongban.Case, env *Env) bool {
			return isIntakeStaff(c, env) && c.Attrs[AttrSupplementRequest] == nil
		},
		// A department answers once per stage, while the clock runs.
		"app_opinion_due": func(c *tongban.Case, env *Env) bool {
			return appRunning(c, env) && env.Actor != nil && slices.Contains(PendingDepts(c), env.Actor.Dept)
		},
		"app_objection": func(_ *tongban.Case, env *Env) bool {
			v, ok := env.Input["approve"].(bool)
			return ok && !v
		},
		"app_review_done": func(c *tongban.Case, _ *Env) bool {
			st, i := appStages(c)
			return i >= len(st)
		},
		"app_running":       appRunning,
		"app_suspended":     func(c *tongban.Case, _ *Env) bool { return AppSuspended(c) },
		"app_not_suspended": func(c *tongban.Case, _ *Env) bool { return !AppSuspended(c) && c.Pending == nil },
		// The overall limit is extended once (Art. 42).
		"app_extension_available": func(c *tongban.Case, env *Env) bool {
			return appRunning(c, env) && c.ExtensionDays == 0
		},
	} {
		conditions[k] = f
	}
	for k, f := range map[string]func(c *tongban.Case, env *Env) error{
		"app_accept":             appAccept,
		"app_refuse_intake":      appRefuseIntake,
		"app_request_supplement": appRequestSupplement,
		"app_supplement":         appSupplement,
		"app_opinion":            appOpinion,
		"app_overrule":           appOverrule,
		"app_decide":             appDecide,
		"app_suspend":            appSuspend,
		"app_resume":             appResume,
		"app_request_extension":  appRequestExtension,
		"app_approve_extension":  appApproveExtension,
		"app_deliver":            appDeliver,
	} {
		effects[k] = f
	}
}

// SystemLogin is the actor of automatic acceptance.
const SystemLogin = "system"

func appAccept(c *tongban.Case, env *Env) error {
	at := env.Now
	if env.Actor != nil && env.Actor.Login == SystemLogin {
		// Art. 32: not answered within 5 working days, it counts as
		// accepted from the day the materials were received.
		at = c.StepStarted
		SetAttr(c, AttrAutoAccepted, true)
		env.Payload["automatic"] = true
		env.Reason = "逾期未作出是否受理的决定，自收到申请材料之日起即为受理（《行政许可法》第三十二条）"
	}
	SetAttr(c, AttrAcceptedAt, at)
	SetAppDeadlines(c, env.Clock, at)
	env.Payload["accepted_at"] = at
	env.Payload["statutory_deadline"] = AttrTime(c, AttrStatutoryDeadline)
	env.Payload["promised_deadline"] = c.Deadline
	startStage(c, env, 0)
	return nil
}

func appRefuseIntake(c *tongban.Case, env *Env) error {
	r := map[string]any{"reason": env.Input.Str("reason"), "at": env.Now, "by": env.Actor.Login, "remedies": Remedies}
	if o := env.Input.Str("competent_office"); o != "" {
		r["competent_office"] = o
		env.Payload["competent_office"] = o
	}
	SetAttr(c, AttrRefusal, r)
	now := env.Now
	c.Reply, c.RepliedAt = "不予受理："+env.Input.Str("reason"), &now
	env.Reason = env.Input.Str("reason")
	return nil
}

// SplitItems turns the items of a supplement notice into a list: one a line.
func SplitItems(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func appRequestSupplement(c *tongban.Case, env *Env) error {
	items := SplitItems(env.Input.Str("items"))
	if len(items) == 0 {
		return tongban.FieldError("items", "请列出需补正的全部内容", "list every missing or faulty item")
	}
	SetAttr(c, AttrSupplementRequest, map[string]any{"items": items, "at": env.Now, "by": env.Actor.Login})
	env.Payload["items"] = items
	return nil
}

func appSupplement(c *tongban.Case, env *Env) error {
	SetAttr(c, AttrSupplemented, map[string]any{"text": env.Input.Str("text"), "at": env.Now})
	env.Payload["text"] = env.Input.Str("text")
	// The intake period starts again from the supplemented materials; the
	// limits, should it count as accepted, run from today.
	SetAppDeadlines(c, env.Clock, env.Now)
	return nil
}

func appOpinion(c *tongban.Case, env *Env) error {
	st, i := appStages(c)
	dept := env.Actor.Dept
	if i >= len(st) || !slices.Contains(PendingDepts(c), dept) {
		return tongban.Errorf(tongban.EConflict, "本部门已提出意见或不在本环节", "this department has answered already or is not in this stage")
	}
	approve, _ := env.Input["approve"].(bool)
	text := env.Input.Str("text")
	if !approve && text == "" {
		return tongban.FieldError("text", "不同意的须说明理由", "an objection needs its reasons")
	}
	op := Opinion{Stage: i, Dept: dept, Approve: approve, Text: text, By: env.Actor.Login, At: env.Now}
	if sd := AttrTime(c, AttrStageDeadline); sd != nil && env.Now.After(*sd) {
		op.Late = true
		env.Payload["late"] = true
	}
	SetAttr(c, AttrOpinions, append(appOpinions(c), op))
	env.Payload["department"], env.Payload["approve"] = dept, approve
	if text != "" {
		env.Payload["text"] = text
	}
	if !approve {
		env.Reason = text
		return nil // to the lead's ruling; the stage stays open
	}
	if len(PendingDepts(c)) == 0 {
		startStage(c, env, i+1)
	}
	return nil
}

func appOverrule(c *tongban.Case, env *Env) error {
	_, i := appStages(c)
	SetAttr(c, AttrOpinions, append(appOpinions(c), Opinion{Stage: i, Dept: c.Lead, Approve: true, Text: env.Input.Str("text"),
		By: env.Actor.Login, At: env.Now, Ruling: true}))
	env.Payload["text"] = env.Input.Str("text")
	startStage(c, env, i+1)
	return nil
}

func appDecide(c *tongban.Case, env *Env) error {
	grant, _ := env.Input["grant"].(bool)
	d := Decision{Grant: grant, Reasons: env.Input.Str("reasons"), LicenceNo: env.Input.Str("licence_no"), By: env.Actor.Login, At: env.Now}
	if !grant {
		if d.Reasons == "" {
			return tongban.FieldError("reasons", "不予许可的，须说明理由（《行政许可法》第三十八条）", "a refusal must state its reasons (Art. 38)")
		}
		d.Remedies = Remedies
	}
	if st := AttrTime(c, AttrStatutoryDeadline); st != nil && env.Now.After(*st) {
		d.Late = true
		env.Payload["late"] = true
	}
	SetAttr(c, AttrDecision, d)
	now := env.Now
	if grant {
		c.Reply = "准予行政许可"
		if d.Reasons != "" {
			c.Reply += "：" + d.Reasons
		}
	} else {
		c.Reply = "不予行政许可：" + d.Reasons
	}
	c.RepliedAt = &now
	env.Payload["grant"] = grant
	if d.Reasons != "" {
		env.Payload["reasons"] = d.Reasons
	}
	env.Reason = d.Reasons
	// Art. 44: the licence is issued and served within 10 working days;
	// that is the case's clock from now on.
	c.Deadline = env.Clock.DeadlineAfterWorkdays(env.Now, 10).UTC()
	return nil
}

func appSuspend(c *tongban.Case, env *Env) error {
	n := env.Input.Int("working_days")
	s := Suspension{Reason: env.Input.Str("reason"), WorkingDays: n, At: env.Now, Until: env.Clock.DeadlineAfterWorkdays(env.Now, n).UTC()}
	SetAttr(c, AttrSuspended, s)
	env.Payload["working_days"], env.Payload["until"] = n, s.Until
	env.Reason = s.Reason // the applicant is told why and how long (Art. 45)
	return nil
}

func appResume(c *tongban.Case, env *Env) error {
	var s Suspension
	GetAttr(c, AttrSuspended, &s)
	n := 0
	if wc, ok := env.Clock.(workdayCounter); ok {
		n = wc.WorkdaysBetween(s.At, env.Now)
	}
	now := env.Now
	s.ResumedAt, s.Counted = &now, n
	var all []Suspension
	GetAttr(c, AttrSuspensions, &all)
	SetAttr(c, AttrSuspensions, append(all, s))
	SetAttr(c, AttrSuspended, nil)
	// The suspended working days are not counted in any limit.
	shiftDeadlines(c, env.Clock, n)
	env.Payload["suspended_days"] = n
	env.Payload["deadline"] = c.Deadline
	env.Payload["statutory_deadline"] = AttrTime(c, AttrStatutoryDeadline)
	return nil
}

func appRequestExtension(c *tongban.Case, env *Env) error {
	var m AppMatter
	GetAttr(c, AttrMatter, &m)
	c.Pending = &tongban.Pending{Kind: "extension", Days: m.ExtensionDays, Reason: env.Input.Str("reason"), By: env.Actor.Login, At: env.Now}
	env.Payload["working_days"] = m.ExtensionDays
	env.Reason = c.Pending.Reason
	return nil
}

func appApproveExtension(c *tongban.Case, env *Env) error {
	p := c.Pending
	shiftDeadlines(c, env.Clock, p.Days)
	c.ExtensionDays += p.Days
	c.Pending = nil
	SetAttr(c, AttrExtension, map[string]any{"working_days": p.Days, "reason": p.Reason, "requested_by": p.By, "approved_by": env.Actor.Login, "at": env.Now})
	env.Payload["working_days"] = p.Days
	env.Payload["deadline"] = c.Deadline
	env.Payload["statutory_deadline"] = AttrTime(c, AttrStatutoryDeadline)
	env.Reason = p.Reason // sent to the applicant (Art. 42)
	return nil
}

func appDeliver(c *tongban.Case, env *Env) error {
	SetAttr(c, AttrDelivered, map[string]any{"at": env.Now, "by": env.Actor.Login, "method": env.Input.Str("method")})
	if m := env.Input.Str("method"); m != "" {
		env.Payload["method"] = m
	}
	return nil
}
