package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/supervise"
	"github.com/tongban/tongban/workflow"
)

// orderSpec is what a supervision order demands of whom, by when.
type orderSpec struct {
	Code        string
	Dept        string
	Demand      string
	Instruction string
	Workdays    int
	Deadline    time.Time
	Auto        bool
}

// newOrder builds a supervision order (kind task) on case c, to be
// created in the same transaction as the write on c that opens it, and
// records it on c.
func (e *Engine) newOrder(ctx context.Context, c *tongban.Case, o orderSpec, actor string, actorID int64, actorDept string, at time.Time) (tongban.NewOrder, error) {
	def := e.Workflows[OrderWorkflow]
	if def == nil {
		return tongban.NewOrder{}, tongban.Errorf(tongban.EInternal, "缺少督办流程", "no supervision_order workflow")
	}
	if o.Code == "" {
		o.Code = tongban.NewTrackingCode()
	}
	if o.Deadline.IsZero() {
		o.Deadline = e.Calendar().DeadlineAfterWorkdays(at, o.Workdays).UTC()
	}
	title := []rune("督办：" + c.Title)
	if len(title) > tongban.MaxTitle {
		title = title[:tongban.MaxTitle]
	}
	body := o.Demand
	if o.Instruction != "" {
		body += "\n\n领导批示：" + o.Instruction
	}
	attrs := map[string]json.RawMessage{"level": json.RawMessage("1")}
	if o.Auto {
		attrs["auto"] = json.RawMessage("true")
	}
	oc := &tongban.Case{Kind: tongban.KindTask, Workflow: def.Name, TrackingCode: o.Code, Channel: tongban.ChannelAPI, Category: c.Category,
		Title: string(title), Body: body, Lead: o.Dept, First: o.Dept, Step: def.Start, Status: tongban.StatusOpen,
		ReceivedAt: at, UpdatedAt: at, StepStarted: at, Deadline: o.Deadline, ParentID: c.ID, Supervises: c.ID, Attrs: attrs}
	oc.StepDeadline = e.stepDeadline(def.Step(def.Start), oc, at)
	payload, _ := json.Marshal(map[string]any{"supervises": c.TrackingCode, "department": o.Dept, "demand": o.Demand, "deadline": o.Deadline, "auto": o.Auto})
	ev := &tongban.Event{Action: "create", ToStep: oc.Step, ActorID: actorID, Actor: actor, ActorDept: actorDept, At: at, Reason: o.Instruction, Payload: payload}
	e.derive(ctx, nil, oc, ev, nil)
	if c.Supervision == nil {
		c.Supervision = &tongban.Supervision{}
	}
	c.Supervision.Orders = append(c.Supervision.Orders, tongban.OrderRef{Code: o.Code, Dept: o.Dept, Deadline: o.Deadline, At: at, Auto: o.Auto})
	return tongban.NewOrder{Case: oc, Event: ev}, nil
}

// ordersOf returns the order an event of the supervise action opens.
func (e *Engine) ordersOf(ctx context.Context, c *tongban.Case, ev *tongban.Event, actor Actor) ([]tongban.NewOrder, error) {
	if ev.Action != "supervise" || c.Kind == tongban.KindTask {
		return nil, nil
	}
	var p struct {
		Order       string    `json:"order"`
		Department  string    `json:"department"`
		Demand      string    `json:"demand"`
		Instruction string    `json:"instruction"`
		Deadline    time.Time `json:"deadline"`
	}
	if err := json.Unmarshal(ev.Payload, &p); err != nil || p.Order == "" {
		return nil, tongban.Errorf(tongban.EInternal, "督办参数缺失", "supervise payload missing")
	}
	o, err := e.newOrder(ctx, c, orderSpec{Code: p.Order, Dept: p.Department, Demand: p.Demand, Instruction: p.Instruction, Deadline: p.Deadline},
		actor.Name(), actor.id(), actor.dept(), ev.At)
	if err != nil {
		return nil, err
	}
	return []tongban.NewOrder{o}, nil
}

// beforeWrite is called by Create and act just before the store write:
// the supervision rules' share of the write (alarms, scorecards, orders).
func (e *Engine) beforeWrite(ctx context.Context, actor Actor, prev, c *tongban.Case, ev *tongban.Event) error {
	orders, err := e.ordersOf(ctx, c, ev, actor)
	if err != nil {
		return err
	}
	e.flagBackdated(ctx, actor, c, ev)
	e.derive(ctx, prev, c, ev, nil, orders...)
	return nil
}

// flagBackdated flags an application handled outside the system: one
// received (ReceivedAt), or acted on, more than BackdateWorkdays working
// days before it was entered — the later of the engine's clock for the
// request and the wall clock. Automatic steps are not entries.
func (e *Engine) flagBackdated(ctx context.Context, actor Actor, c *tongban.Case, ev *tongban.Event) {
	n := e.SuperviseConfig().BackdateWorkdays
	if c.Kind != tongban.KindApplication || n <= 0 || ev.Actor == SystemActor || actor.User != nil && actor.User.Login == workflow.SystemLogin {
		return
	}
	entered := e.now(ctx)
	if wall := e.Now().UTC().Truncate(time.Microsecond); wall.After(entered) {
		entered = wall
	}
	cal := e.Calendar()
	if !entered.After(cal.DeadlineAfterWorkdays(ev.At, n)) {
		return
	}
	days := cal.WorkdaysBetween(ev.At, entered)
	f := tongban.Flag{Kind: tongban.FlagBackdatedAction, At: entered, Action: ev.Action, By: actor.Name()}
	at := ev.At
	f.ActedAt = &at
	claimed, rec := at.In(calendar.Shanghai).Format("2006-01-02 15:04"), entered.In(calendar.Shanghai).Format("2006-01-02 15:04")
	if ev.Action == "create" {
		f.Kind = tongban.FlagBackdatedReceipt
		f.Detail = fmt.Sprintf("收件时间%s，录入系统时间%s，相隔%d个工作日", claimed, rec, days)
	} else {
		f.Detail = fmt.Sprintf("“%s”记录的办理时间%s，录入系统时间%s，相隔%d个工作日", ev.Action, claimed, rec, days)
	}
	tongban.AddFlag(c, f)
}

// canSupervise: the supervision office, and leaders who read.
func canReadSupervision(u *tongban.User) bool {
	return u != nil && !u.Disabled && u.HasAny(tongban.RoleSupervisor, tongban.RoleLeader, tongban.RoleAdmin)
}

// Alarms lists alarms the actor may see: supervisors, leaders, the centre
// and administrators see all; a department's staff see their own.
func (e *Engine) Alarms(ctx context.Context, actor Actor, f tongban.AlarmFilter) ([]*tongban.Alarm, int, error) {
	u := actor.User
	if u == nil || u.Disabled {
		return nil, 0, tongban.ErrUnauthorized
	}
	switch {
	case canReadSupervision(u) || u.HasAny(tongban.RoleDispatcher, tongban.RoleIntake):
	case u.HasAny(tongban.RoleHandler, tongban.RoleHead):
		if f.Dept != "" && f.Dept != u.Dept {
			return nil, 0, tongban.ErrForbidden
		}
		f.Dept = u.Dept
	default:
		return nil, 0, tongban.ErrForbidden
	}
	switch f.State {
	case "", "open", "cleared", "all":
		if f.State == "all" {
			f.State = ""
		}
	default:
		return nil, 0, tongban.FieldError("state", "状态须为 open、cleared 或 all", "state must be open, cleared or all")
	}
	switch f.Colour {
	case "", tongban.AlarmWarning, tongban.AlarmYellow, tongban.AlarmRed, tongban.AlarmFlag:
	default:
		return nil, 0, tongban.FieldError("colour", "颜色须为 warning、yellow、red 或 flag", "colour must be warning, yellow, red or flag")
	}
	return e.Store.ListAlarms(ctx, f)
}

// FindingInput is a supervisor's accountability finding.
type FindingInput struct {
	Dept    string `json:"department"`
	Person  string `json:"person"`
	Kind    string `json:"kind"`
	Reason  string `json:"reason"`
	Outcome string `json:"outcome"`
}

// FindingKinds are the kinds of finding a supervisor may record.
var FindingKinds = map[string]string{
	"overdue": "超期办理", "poor_reply": "答复不规范", "shirking": "推诿扯皮", "false_report": "虚假办结",
	"discipline": "违反工作纪律", tongban.FindingValidComplaint: "有效投诉", "other": "其他",
}

// FindingOutcomes are the usual outcomes (问责方式); others are free text.
var FindingOutcomes = []string{"通报批评", "约谈", "责令整改", "诫勉谈话", "书面检查", "移送纪检监察"}

// RecordFinding records a finding against a department or a person on a
// case or order, as an event on it, counted on the scorecards.
func (e *Engine) RecordFinding(ctx context.Context, actor Actor, ref string, in FindingInput) (*tongban.Finding, error) {
	u := actor.User
	if u == nil || !u.Has(tongban.RoleSupervisor) || u.Disabled {
		return nil, tongban.ErrForbidden
	}
	in.Dept, in.Person, in.Kind = strings.TrimSpace(in.Dept), strings.TrimSpace(in.Person), strings.TrimSpace(in.Kind)
	in.Reason, in.Outcome = strings.TrimSpace(in.Reason), strings.TrimSpace(in.Outcome)
	if _, ok := FindingKinds[in.Kind]; !ok {
		return nil, tongban.FieldError("kind", "未知问责类型", "unknown finding kind")
	}
	if in.Reason == "" || runes(in.Reason) > tongban.MaxReason {
		return nil, tongban.FieldError("reason", "事由必填，不超过1000字", "reason is required, at most 1000 characters")
	}
	if runes(in.Outcome) > 50 {
		return nil, tongban.FieldError("outcome", "处理结果不超过50字", "outcome at most 50 characters")
	}
	for range 5 {
		c, err := e.Get(ctx, actor, ref)
		if err != nil {
			return nil, err
		}
		dept, person := in.Dept, in.Person
		if dept == "" && person == "" {
			dept = supervise.Responsible(c)
		}
		if dept != "" {
			if _, err := e.Department(ctx, dept); err != nil {
				return nil, tongban.FieldError("department", "部门不存在", "unknown department")
			}
		}
		if person != "" {
			if _, err := e.Store.UserByLogin(ctx, person); err != nil {
				return nil, tongban.FieldError("person", "人员不存在", "unknown person")
			}
			if dept == "" {
				pu, _ := e.Store.UserByLogin(ctx, person)
				dept = pu.Dept
			}
		}
		if dept == "" {
			return nil, tongban.FieldError("department", "请指定问责部门或人员", "give a department or a person")
		}
		now := e.now(ctx)
		f := &tongban.Finding{Dept: dept, Person: person, Kind: in.Kind, Reason: in.Reason, Outcome: in.Outcome, By: u.Login, At: now}
		prev := *c
		payload, _ := json.Marshal(map[string]any{"department": dept, "person": person, "kind": in.Kind, "outcome": in.Outcome})
		ev := &tongban.Event{CaseID: c.ID, Seq: c.Version + 1, Action: "finding", FromStep: c.Step, ToStep: c.Step, ActorID: u.ID, Actor: u.Login,
			ActorDept: u.Dept, At: now, Reason: in.Reason, Payload: payload, PrevHash: c.LastHash}
		ev.Hash = ev.ComputeHash()
		version := c.Version
		c.Version, c.LastHash, c.UpdatedAt = version+1, ev.Hash, now
		e.derive(ctx, &prev, c, ev, nil)
		if c.Derived == nil {
			c.Derived = &tongban.Derived{}
		}
		c.Derived.Findings = append(c.Derived.Findings, f)
		c.Derived.Scores = append(c.Derived.Scores, supervise.FindingDelta(f, c.Category)...)
		err = e.Store.UpdateCase(ctx, c, version, ev)
		if isConflict(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	return nil, tongban.ErrConflict
}

// Findings lists findings for supervisors and leaders; a department's
// heads see those against their department.
func (e *Engine) Findings(ctx context.Context, actor Actor, f tongban.FindingFilter) ([]*tongban.Finding, error) {
	u := actor.User
	switch {
	case canReadSupervision(u):
	case u != nil && !u.Disabled && u.HasAny(tongban.RoleHead, tongban.RoleHandler):
		f.Dept = u.Dept
	default:
		return nil, tongban.ErrForbidden
	}
	return e.Store.ListFindings(ctx, f)
}

// ScorecardQuery selects a period and a dimension.
type ScorecardQuery struct {
	From, To string // YYYY-MM-DD, inclusive
	By       string
}

// ScorecardResult is a period's scorecards, ranked.
type ScorecardResult struct {
	From     string                `json:"from"`
	To       string                `json:"to"`
	By       string                `json:"by"`
	MinCases int                   `json:"min_cases"`
	Rows     []supervise.Scorecard `json:"rows"`
}

// Scorecards sums the day rows of a period — never the cases — and adds
// the open overdue cases from the live alarms. Supervisors, leaders and
// administrators see all; a department's heads see their own row.
func (e *Engine) Scorecards(ctx context.Context, actor Actor, q ScorecardQuery) (*ScorecardResult, error) {
	u := actor.User
	own := ""
	switch {
	case canReadSupervision(u):
	case u != nil && !u.Disabled && u.Has(tongban.RoleHead) && (q.By == tongban.ByDepartment || q.By == ""):
		own = u.Dept
	default:
		return nil, tongban.ErrForbidden
	}
	if q.By == "" {
		q.By = tongban.ByDepartment
	}
	if q.By != tongban.ByDepartment && q.By != tongban.ByPerson && q.By != tongban.ByCategory {
		return nil, tongban.FieldError("by", "by 须为 department、person 或 category", "by must be department, person or category")
	}
	from, err := parseDay(q.From, "from")
	if err != nil {
		return nil, err
	}
	to, err := parseDay(q.To, "to")
	if err != nil {
		return nil, err
	}
	if to.Before(from) {
		return nil, tongban.FieldError("to", "结束日期早于开始日期", "to is before from")
	}
	rows, err := e.Store.ScoreTotals(ctx, q.By, supervise.Day(from), supervise.Day(to))
	if err != nil {
		return nil, err
	}
	overdue, err := e.Store.OpenOverdue(ctx, q.By, from, to.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	cfg := e.SuperviseConfig()
	res := &ScorecardResult{From: q.From, To: q.To, By: q.By, MinCases: cfg.MinCases, Rows: []supervise.Scorecard{}}
	seen := map[string]bool{}
	add := func(key string, counts tongban.ScoreCounts) {
		if own != "" && key != own {
			return
		}
		sc := cfg.Summarise(key, counts, overdue[key], e.Calendar())
		sc.Name = e.keyName(ctx, q.By, key)
		res.Rows = append(res.Rows, sc)
		seen[key] = true
	}
	for _, r := range rows {
		add(r.Key, r.ScoreCounts)
	}
	for k := range overdue {
		if !seen[k] && k != "" {
			add(k, tongban.ScoreCounts{})
		}
	}
	cfg.Rank(res.Rows)
	return res, nil
}

func (e *Engine) keyName(ctx context.Context, by, key string) string {
	switch by {
	case tongban.ByDepartment:
		if d, err := e.Department(ctx, key); err == nil {
			return d.Name
		}
	case tongban.ByCategory:
		if c, err := e.Category(ctx, key); err == nil {
			return c.Name
		}
	}
	return ""
}

func parseDay(s, field string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02", s, calendar.Shanghai)
	if err != nil {
		return time.Time{}, tongban.FieldError(field, field+" 应为 YYYY-MM-DD", field+" must be YYYY-MM-DD")
	}
	return t, nil
}
