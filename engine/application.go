package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/supervise"
	"github.com/tongban/tongban/workflow"
)

// ApplicationWorkflow is the workflow of licence applications (行政许可).
const ApplicationWorkflow = "application"

func (e *Engine) matterStore() (tongban.MatterStore, error) {
	ms, ok := e.Store.(tongban.MatterStore)
	if !ok {
		return nil, tongban.Errorf(tongban.EUnavailable, "当前存储不支持事项目录", "this store keeps no service catalogue")
	}
	return ms, nil
}

// PutMatter validates a matter and stores it as the next version of its
// code. Administrators only.
func (e *Engine) PutMatter(ctx context.Context, actor Actor, m *tongban.Matter) error {
	if actor.User == nil || actor.User.Disabled || !actor.User.Has(tongban.RoleAdmin) {
		return tongban.ErrForbidden
	}
	ms, err := e.matterStore()
	if err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return err
	}
	for _, code := range append([]string{m.Lead}, m.Departments()...) {
		d, err := e.Department(ctx, code)
		if err != nil || d.Disabled {
			if err != nil && tongban.ErrorCode(err) != tongban.ENotFound {
				return err
			}
			return tongban.FieldError("steps", "部门不存在或已停用："+code, "unknown or disabled department: "+code)
		}
	}
	m.CreatedBy = actor.User.Login
	return ms.PutMatter(ctx, m)
}

// Matter returns a version of a matter (0: the latest).
func (e *Engine) Matter(ctx context.Context, code string, version int) (*tongban.Matter, error) {
	ms, err := e.matterStore()
	if err != nil {
		return nil, err
	}
	return ms.Matter(ctx, strings.TrimSpace(code), version)
}

// Matters returns the catalogue: the latest version of every matter.
func (e *Engine) Matters(ctx context.Context) ([]*tongban.Matter, error) {
	ms, err := e.matterStore()
	if err != nil {
		return nil, err
	}
	return ms.ListMatters(ctx)
}

// NewApplication is the input for filing a licence application.
type NewApplication struct {
	Matter    string
	Applicant tongban.Applicant
	Form      map[string]json.RawMessage
	Channel   string
	Uploads   []Upload
	// ReceivedAt lets imports file in the past.
	ReceivedAt time.Time
}

// applicationChannels are where an application may be filed: online, by
// a partner system, at a window or a street service point.
var applicationChannels = []string{tongban.ChannelWeb, tongban.ChannelAPI, tongban.ChannelWindow, tongban.ChannelStreet}

// CreateApplication validates and files an application under the matter's
// version now in force.
func (e *Engine) CreateApplication(ctx context.Context, actor Actor, in NewApplication) (*tongban.Case, error) {
	def := e.Workflows[ApplicationWorkflow]
	if def == nil {
		return nil, tongban.Errorf(tongban.EInternal, "未配置行政许可流程", "no application workflow")
	}
	if strings.TrimSpace(in.Matter) == "" {
		return nil, tongban.FieldError("matter", "请指定申请事项", "matter is required")
	}
	m, err := e.Matter(ctx, in.Matter, 0)
	if err != nil {
		if tongban.ErrorCode(err) == tongban.ENotFound {
			return nil, tongban.FieldError("matter", "未知的申请事项", "unknown matter")
		}
		return nil, err
	}
	if m.Withdrawn {
		return nil, tongban.FieldError("matter", "该事项已停止受理", "this matter takes no applications")
	}
	ap := in.Applicant
	if err := ap.Validate(); err != nil {
		return nil, err
	}
	form, err := m.ValidateForm(in.Form)
	if err != nil {
		return nil, err
	}
	if in.Channel == "" {
		in.Channel = tongban.ChannelAPI
	}
	if !slices.Contains(applicationChannels, in.Channel) {
		return nil, tongban.FieldError("channel", "申请渠道须为网上、接口、窗口或街道服务站点", "channel must be web, api, window or street")
	}
	if len(in.Uploads) > tongban.MaxAttachN {
		return nil, tongban.FieldError("attachments", "附件最多9个", "at most 9 attachments")
	}
	now := e.now(ctx)
	received := now
	if !in.ReceivedAt.IsZero() {
		received = in.ReceivedAt.UTC().Truncate(time.Microsecond)
	}
	title := m.Name + "（" + ap.Name + "）"
	if runes(title) > tongban.MaxTitle {
		title = string([]rune(title)[:tongban.MaxTitle])
	}
	var co []string
	for _, d := range m.Departments() {
		if d != m.Lead {
			co = append(co, d)
		}
	}
	c := &tongban.Case{
		Kind: tongban.KindApplication, Workflow: def.Name, TrackingCode: tongban.NewTrackingCode(), Channel: in.Channel,
		Category: m.Code, Title: title, Body: applicationBody(m, &ap, form),
		Requester: tongban.Requester{Name: ap.Name, Phone: ap.Phone, Email: ap.Email},
		Lead:      m.Lead, Co: co, First: m.Lead,
		Step: def.Start, Status: tongban.StatusOpen, ReceivedAt: received, UpdatedAt: received, StepStarted: received,
	}
	for _, u := range in.Uploads {
		a, err := checkUpload(u, now)
		if err != nil {
			return nil, err
		}
		c.Attachments = append(c.Attachments, a)
	}
	var stages []workflow.AppStage
	for _, s := range m.Steps {
		if s.Mode == tongban.StepParallel {
			stages = append(stages, workflow.AppStage{Step: s.Name, Mode: s.Mode, Departments: s.Departments, LimitDays: s.LimitDays})
			continue
		}
		for _, d := range s.Departments {
			stages = append(stages, workflow.AppStage{Step: s.Name, Mode: s.Mode, Departments: []string{d}, LimitDays: s.LimitDays})
		}
	}
	workflow.SetAttr(c, workflow.AttrMatter, workflow.AppMatter{Code: m.Code, Version: m.Version, Name: m.Name,
		StatutoryDays: m.StatutoryDays, PromisedDays: m.PromisedDays, ExtensionDays: m.ExtensionDays(), Joint: m.Joint})
	workflow.SetAttr(c, workflow.AttrApplicant, ap)
	workflow.SetAttr(c, workflow.AttrForm, form)
	workflow.SetAttr(c, workflow.AttrStages, stages)
	workflow.SetAttr(c, workflow.AttrStage, 0)
	cal := e.Calendar()
	// Until it is accepted, the limits are those it would have if it were
	// accepted on receipt — as it will be, should nobody answer (Art. 32).
	workflow.SetAppDeadlines(c, cal, received)
	c.StepDeadline = e.stepDeadline(def.Step(def.Start), c, received)
	payload, _ := json.Marshal(map[string]any{"channel": c.Channel, "matter": m.Code, "matter_version": m.Version, "deadline": c.Deadline})
	ev := &tongban.Event{Action: "create", FromStep: "", ToStep: c.Step, ActorID: actor.id(), Actor: actor.Name(), ActorDept: actor.dept(),
		At: received, Public: true, Payload: payload}
	if err := e.beforeWrite(ctx, actor, nil, c, ev); err != nil {
		return nil, err
	}
	if err := e.Store.CreateCase(ctx, c, ev); err != nil {
		return nil, err
	}
	return c, nil
}

// applicationBody is the case's text: what search and lists show.
func applicationBody(m *tongban.Matter, ap *tongban.Applicant, form map[string]any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "申请事项：%s（%s，第%d版）\n申请人：%s\n", m.Name, m.Code, m.Version, ap.Name)
	for _, f := range m.Form {
		v, ok := form[f.Name]
		if !ok || f.Type == "id_card" || f.Type == "phone" {
			continue
		}
		fmt.Fprintf(&b, "%s：%v\n", f.Label, v)
	}
	s := strings.TrimSpace(b.String())
	if runes(s) > tongban.MaxBody {
		s = string([]rune(s)[:tongban.MaxBody])
	}
	return s
}

// onBehalf: at a window or street service point, a clerk takes the
// applicant's own actions (supplement, rate) for them.
func onBehalf(a *workflow.Action, c *tongban.Case, u *tongban.User) bool {
	return c.Kind == tongban.KindApplication && a.Scope == workflow.ScopePublic && u != nil && !u.Disabled && u.Has(tongban.RoleIntake)
}

// applicationInput lets list-valued inputs of application actions (the
// items of a supplement notice) come as JSON arrays: one item a line.
func applicationInput(c *tongban.Case, raw map[string]json.RawMessage) map[string]json.RawMessage {
	if c.Kind != tongban.KindApplication {
		return raw
	}
	v, ok := raw["items"]
	if !ok || len(v) == 0 || v[0] != '[' {
		return raw
	}
	var items []string
	if json.Unmarshal(v, &items) != nil {
		return raw
	}
	out := make(map[string]json.RawMessage, len(raw))
	for k, x := range raw {
		out[k] = x
	}
	for i := range items {
		items[i] = strings.ReplaceAll(strings.TrimSpace(items[i]), "\n", " ")
	}
	out["items"], _ = json.Marshal(strings.Join(items, "\n"))
	return out
}

// applicationStep keeps an application's step deadline: in review it is
// the current stage's, which the effects move.
func applicationStep(c *tongban.Case) {
	if c.Kind != tongban.KindApplication || c.Step != "review" {
		return
	}
	c.StepDeadline = workflow.AttrTime(c, workflow.AttrStageDeadline)
}

// applicationPlan adjusts an application's alarms: at intake the step's
// end is its automatic acceptance rather than a yellow card; once
// accepted and until decided, the statutory deadline gets a red flag
// should it pass (it must never be exceeded). The promised deadline is
// the case deadline, which the usual alarms watch.
func applicationPlan(c *tongban.Case, plan []supervise.Spec) []supervise.Spec {
	if c.Kind != tongban.KindApplication || c.Status == tongban.StatusClosed || supervise.Suspended(c) {
		return plan
	}
	switch c.Step {
	case "intake":
		if c.StepDeadline == nil {
			return plan
		}
		plan = slices.DeleteFunc(plan, func(s supervise.Spec) bool {
			return s.Scope == tongban.AlarmScopeStep && s.Colour == tongban.AlarmYellow
		})
		d := *c.StepDeadline
		return append(plan, supervise.Spec{Scope: tongban.AlarmScopeAutoAccept, Colour: tongban.AlarmFlag, Deadline: d, DueAt: supervise.Overdue(d)})
	case "review", "ruling", "decision":
		if st := workflow.AttrTime(c, workflow.AttrStatutoryDeadline); st != nil {
			plan = append(plan, supervise.Spec{Scope: tongban.AlarmScopeStatutory, Colour: tongban.AlarmRed, Deadline: *st, DueAt: supervise.Overdue(*st)})
		}
	}
	return plan
}

// systemIntake is who accepts an application nobody answered in time.
var systemIntake = &tongban.User{Login: workflow.SystemLogin, Name: "系统", Roles: []tongban.Role{tongban.RoleIntake}}

// autoAccept accepts an application at intake whose 5 working days have
// passed without a notice (Art. 32), dated from its receipt.
func (e *Engine) autoAccept(ctx context.Context, c *tongban.Case, at time.Time) error {
	_, _, err := e.act(WithNow(ctx, at), Actor{User: systemIntake}, c, "accept", nil)
	return err
}

// Remedies of a refusal, for notices.
const Remedies = workflow.Remedies
