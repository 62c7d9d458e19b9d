package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/sqlite"
)

// fixture is an engine over a fresh SQLite store with a small district:
// the command centre (zx), three bureaus and the supervision office.
type fixture struct {
	t   *testing.T
	e   *engine.Engine
	st  tongban.Store
	ctx context.Context

	disp, intake, hCGJ, headCGJ, hZJJ, headZJJ, hSWJ, sup, leader, admin *tongban.User
}

const testPassword = "correct horse battery"

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newFixtureOn(t, st)
}

// newFixtureOn builds the fixture's district on a fresh store.
func newFixtureOn(t *testing.T, st tongban.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	e, err := engine.New(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, e: e, st: st, ctx: ctx}
	for _, d := range []tongban.Department{
		{Code: "zx", Name: "区指挥中心", Kind: tongban.DeptCentre},
		{Code: "cgj", Name: "城管执法局"},
		{Code: "zjj", Name: "住建局"},
		{Code: "swj", Name: "水务局"},
		{Code: "jcs", Name: "监察室", Kind: tongban.DeptSupervision},
	} {
		if err := e.AddDepartment(ctx, &d); err != nil {
			t.Fatalf("AddDepartment %s: %v", d.Code, err)
		}
	}
	f.disp = f.user("disp", "zx", "dispatcher")
	f.intake = f.user("intake", "zx", "intake")
	f.hCGJ = f.user("h.cgj", "cgj", "handler")
	f.headCGJ = f.user("head.cgj", "cgj", "head")
	f.hZJJ = f.user("h.zjj", "zjj", "handler")
	f.headZJJ = f.user("head.zjj", "zjj", "head")
	f.hSWJ = f.user("h.swj", "swj", "handler")
	f.sup = f.user("sup", "jcs", "supervisor")
	f.leader = f.user("leader", "zx", "leader")
	f.admin = f.user("admin", "zx", "admin")
	return f
}

func (f *fixture) user(login, dept, roles string) *tongban.User {
	f.t.Helper()
	name, pw := login, testPassword
	u, err := f.e.AddUser(f.ctx, login, engine.UserChange{Name: &name, Dept: &dept, Roles: &roles, Password: &pw})
	if err != nil {
		f.t.Fatalf("AddUser %s: %v", login, err)
	}
	return u
}

func cst(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, calendar.Shanghai)
}

func (f *fixture) create(at time.Time, typ, cat string) *tongban.Case {
	f.t.Helper()
	c, err := f.e.Create(engine.WithNow(f.ctx, at), engine.Actor{User: f.intake}, engine.NewCase{
		Type: typ, Category: cat, Title: "小区门口违章搭建", Body: "小区北门有人在人行道上搭建彩钢棚，已持续一周。",
		Requester: tongban.Requester{Name: "张三丰", Phone: "13812345678"}, Channel: tongban.ChannelPhone,
	})
	if err != nil {
		f.t.Fatalf("Create: %v", err)
	}
	return c
}

// act takes an action at time at and fails the test on error.
func (f *fixture) act(at time.Time, u *tongban.User, c *tongban.Case, action string, fields map[string]any) *tongban.Case {
	f.t.Helper()
	got, ev, err := f.tryAct(at, u, c.TrackingCode, action, fields)
	if err != nil {
		f.t.Fatalf("%s by %s at %s: %v", action, actorName(u), c.Step, err)
	}
	if ev.Action != action || ev.Seq != got.Version || ev.ToStep != got.Step {
		f.t.Fatalf("event %+v does not match case v%d step %s", ev, got.Version, got.Step)
	}
	return got
}

func (f *fixture) tryAct(at time.Time, u *tongban.User, ref, action string, fields map[string]any) (*tongban.Case, *tongban.Event, error) {
	raw := map[string]json.RawMessage{}
	for k, v := range fields {
		b, err := json.Marshal(v)
		if err != nil {
			f.t.Fatal(err)
		}
		raw[k] = b
	}
	return f.e.Act(engine.WithNow(f.ctx, at), engine.Actor{User: u}, ref, action, raw)
}

func actorName(u *tongban.User) string {
	if u == nil {
		return "public"
	}
	return u.Login
}

func wantCode(t *testing.T, err error, code string, what string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: succeeded, want %s", what, code)
		return
	}
	if got := tongban.ErrorCode(err); got != code {
		t.Errorf("%s: error %v (code %s), want %s", what, err, got, code)
	}
}

func allowedNames(e *engine.Engine, a engine.Actor, c *tongban.Case) []string {
	out := []string{}
	for _, x := range e.Allowed(a, c) {
		out = append(out, x.Name)
	}
	return out
}

// allowed checks the exact actions each user may take now; users not
// listed may take none. "public" is the requester.
func (f *fixture) allowed(c *tongban.Case, want map[*tongban.User][]string, public []string) {
	f.t.Helper()
	for _, u := range []*tongban.User{f.disp, f.intake, f.hCGJ, f.headCGJ, f.hZJJ, f.headZJJ, f.hSWJ, f.sup, f.leader, f.admin} {
		w := want[u]
		if w == nil {
			w = []string{}
		}
		if _, given := want[u]; !given && u == f.sup && c.Status == tongban.StatusOpen {
			w = []string{"supervise"} // the supervision office may supervise any open request
		}
		if got := allowedNames(f.e, engine.Actor{User: u}, c); !slices.Equal(got, w) {
			f.t.Errorf("step %s: Allowed(%s) = %v, want %v", c.Step, u.Login, got, w)
		}
	}
	if public == nil {
		public = []string{}
	}
	if got := allowedNames(f.e, engine.Actor{}, c); !slices.Equal(got, public) {
		f.t.Errorf("step %s: Allowed(public) = %v, want %v", c.Step, got, public)
	}
	key := &tongban.APIKey{ID: 1, Name: "partner"}
	if got := allowedNames(f.e, engine.Actor{APIKey: key}, c); len(got) != 0 {
		f.t.Errorf("step %s: Allowed(api key) = %v, want none", c.Step, got)
	}
}

// chain checks the case's event chain and that it has one event per version.
func (f *fixture) chain(c *tongban.Case) []*tongban.Event {
	f.t.Helper()
	evs, err := f.st.Events(f.ctx, c.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	if bad := tongban.VerifyChain(evs); bad != 0 {
		f.t.Fatalf("event chain broken at seq %d", bad)
	}
	if int64(len(evs)) != c.Version {
		f.t.Fatalf("%d events for version %d", len(evs), c.Version)
	}
	return evs
}

func (f *fixture) reload(c *tongban.Case) *tongban.Case {
	f.t.Helper()
	got, err := f.st.Case(f.ctx, c.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return got
}

func TestRequestLife(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cal := calendar.Default()
	// Filed on a Monday so that 15 working days end on 2026-09-28.
	received := cst(2026, 9, 7, 10, 0)
	c := f.create(received, tongban.TypeComplaint, "building")
	wantDeadline := cal.DeadlineAfterWorkdays(received, 15)
	if !c.Deadline.Equal(wantDeadline) {
		t.Fatalf("deadline %v, want %v", c.Deadline, wantDeadline)
	}
	if d := c.Deadline.In(calendar.Shanghai); d.Format("2006-01-02 15:04:05") != "2026-09-28 23:59:59" {
		t.Fatalf("deadline %v, want 2026-09-28 23:59:59 CST", d)
	}
	if c.StepDeadline == nil || !c.StepDeadline.Equal(cal.DeadlineAfterWorkdays(received, 1)) {
		t.Errorf("dispatch step deadline %v", c.StepDeadline)
	}
	if c.Step != "dispatch" || c.Status != tongban.StatusOpen || c.Version != 1 || !c.ReceivedAt.Equal(received) || c.Confidential {
		t.Fatalf("new case %+v", c)
	}
	if _, ok := tongban.NormalizeTrackingCode(c.TrackingCode); !ok {
		t.Errorf("tracking code %q fails its check symbol", c.TrackingCode)
	}
	f.chain(c)

	// dispatch step
	f.allowed(c, map[*tongban.User][]string{f.disp: {"dispatch", "close", "merge"}}, nil)
	at := received.Add(time.Hour)
	_, _, err := f.tryAct(at, f.hCGJ, c.TrackingCode, "dispatch", map[string]any{"department": "cgj"})
	wantCode(t, err, tongban.ENotFound, "handler acting on a case not in their department")
	_, _, err = f.tryAct(at, f.leader, c.TrackingCode, "dispatch", map[string]any{"department": "cgj"})
	wantCode(t, err, tongban.EForbidden, "leader dispatching")
	_, _, err = f.tryAct(at, nil, c.TrackingCode, "dispatch", map[string]any{"department": "cgj"})
	wantCode(t, err, tongban.EForbidden, "public dispatching")
	_, _, err = f.e.Act(f.ctx, engine.Actor{APIKey: &tongban.APIKey{ID: 1, Name: "p"}}, c.TrackingCode, "dispatch", map[string]json.RawMessage{"department": json.RawMessage(`"cgj"`)})
	wantCode(t, err, tongban.EForbidden, "API key dispatching")
	_, _, err = f.tryAct(at, f.disp, c.TrackingCode, "accept", nil)
	wantCode(t, err, tongban.EConflict, "accept at dispatch")
	_, _, err = f.tryAct(at, f.disp, c.TrackingCode, "teleport", nil)
	wantCode(t, err, tongban.EInvalid, "unknown action")
	_, _, err = f.tryAct(at, f.disp, c.TrackingCode, "reply", map[string]any{"text": "答复"})
	wantCode(t, err, tongban.EConflict, "direct reply to a complaint (consultation guard)")
	_, _, err = f.tryAct(at, f.disp, c.TrackingCode, "dispatch", map[string]any{"department": "nosuch"})
	wantCode(t, err, tongban.EInvalid, "dispatch to unknown department")
	_, _, err = f.tryAct(at, f.disp, c.TrackingCode, "dispatch", map[string]any{"department": "cgj", "version": 0})
	wantCode(t, err, tongban.EConflict, "stale version")
	if c2 := f.reload(c); c2.Version != 1 {
		t.Fatalf("a rejected action changed the case: version %d", c2.Version)
	}

	c = f.act(at, f.disp, c, "dispatch", map[string]any{"department": "cgj", "version": 1})
	if c.Step != "accept" || c.Lead != "cgj" || len(c.Co) != 0 || c.First != "" {
		t.Fatalf("after dispatch %+v", c)
	}
	f.allowed(c, map[*tongban.User][]string{f.hCGJ: {"accept", "return"}, f.headCGJ: {"accept", "return"}}, nil)
	_, _, err = f.tryAct(at, f.disp, c.TrackingCode, "accept", nil)
	wantCode(t, err, tongban.EForbidden, "dispatcher accepting")
	_, _, err = f.tryAct(at, f.hZJJ, c.TrackingCode, "accept", nil)
	wantCode(t, err, tongban.ENotFound, "other department accepting")
	_, _, err = f.tryAct(at, f.hCGJ, c.TrackingCode, "return", nil)
	wantCode(t, err, tongban.EInvalid, "return without reason")

	// return
	at = at.Add(time.Hour)
	c = f.act(at, f.hCGJ, c, "return", map[string]any{"reason": "不属于本局职责"})
	if c.Step != "dispatch" || c.Returns != 1 || c.Lead != "" || c.Co != nil || c.Assignee != "" {
		t.Fatalf("after return %+v", c)
	}
	if _, err := f.e.Get(f.ctx, engine.Actor{User: f.hCGJ}, c.TrackingCode); tongban.ErrorCode(err) != tongban.ENotFound {
		t.Errorf("returned case still visible to the department that returned it: %v", err)
	}
	f.allowed(c, map[*tongban.User][]string{f.disp: {"dispatch", "close", "merge"}}, nil)

	// re-dispatch with a co-department
	at = at.Add(time.Hour)
	c = f.act(at, f.disp, c, "dispatch", map[string]any{"department": "cgj", "co_departments": []string{"zjj", "cgj", "zjj"}})
	if c.Lead != "cgj" || !slices.Equal(c.Co, []string{"zjj"}) {
		t.Fatalf("lead %q co %v", c.Lead, c.Co)
	}
	f.allowed(c, map[*tongban.User][]string{
		f.hCGJ: {"accept", "return"}, f.headCGJ: {"accept", "return"},
		f.hZJJ: {"assist"}, f.headZJJ: {"assist"},
	}, nil)
	_, _, err = f.tryAct(at, f.hZJJ, c.TrackingCode, "accept", nil)
	wantCode(t, err, tongban.EForbidden, "co-department accepting")
	_, _, err = f.tryAct(at, f.hSWJ, c.TrackingCode, "assist", map[string]any{"text": "x"})
	wantCode(t, err, tongban.ENotFound, "unrelated department assisting")

	// accept: 首办
	at = at.Add(time.Hour)
	c = f.act(at, f.hCGJ, c, "accept", nil)
	if c.Step != "handle" || c.First != "cgj" || c.Assignee != "h.cgj" {
		t.Fatalf("after accept %+v", c)
	}
	if c.StepDeadline == nil || !c.StepDeadline.Equal(c.Deadline) {
		t.Errorf("handle step deadline %v, want the case deadline %v", c.StepDeadline, c.Deadline)
	}
	f.allowed(c, map[*tongban.User][]string{
		f.hCGJ:    {"request_extension", "request_transfer", "reply"},
		f.headCGJ: {"request_extension", "request_transfer", "reply"},
		f.hZJJ:    {"assist"}, f.headZJJ: {"assist"},
	}, nil)
	c = f.act(at, f.hZJJ, c, "assist", map[string]any{"text": "住建局意见：属违法建设"})
	if c.Step != "handle" {
		t.Fatalf("assist moved the case to %s", c.Step)
	}
	_, _, err = f.tryAct(at, f.hCGJ, c.TrackingCode, "approve_extension", nil)
	wantCode(t, err, tongban.EForbidden, "handler approving an extension")
	_, _, err = f.tryAct(at, f.headCGJ, c.TrackingCode, "approve_extension", nil)
	wantCode(t, err, tongban.EConflict, "approving an extension nobody asked for")

	// extension: 5 working days after 2026-09-28 is 2026-10-10 (a make-up Saturday)
	at = cst(2026, 9, 21, 15, 0)
	c = f.act(at, f.hCGJ, c, "request_extension", map[string]any{"working_days": 5, "reason": "需住建局现场认定"})
	if c.Pending == nil || c.Pending.Kind != "extension" || c.Pending.Days != 5 || c.Pending.By != "h.cgj" {
		t.Fatalf("pending %+v", c.Pending)
	}
	f.allowed(c, map[*tongban.User][]string{
		f.headCGJ: {"approve_extension", "reject_extension"},
		f.hZJJ:    {"assist"}, f.headZJJ: {"assist"},
	}, nil)
	_, _, err = f.tryAct(at, f.hCGJ, c.TrackingCode, "reply", map[string]any{"text": "已处理"})
	wantCode(t, err, tongban.EConflict, "reply while an extension is pending")
	_, _, err = f.tryAct(at, f.hCGJ, c.TrackingCode, "request_extension", map[string]any{"working_days": 1, "reason": "再延"})
	wantCode(t, err, tongban.EConflict, "second extension request while one is pending")
	at = at.Add(2 * time.Hour)
	c = f.act(at, f.headCGJ, c, "approve_extension", nil)
	if got := c.Deadline.In(calendar.Shanghai).Format("2006-01-02 15:04:05"); got != "2026-10-10 23:59:59" {
		t.Fatalf("extended deadline %s, want 2026-10-10 23:59:59", got)
	}
	if !c.Deadline.Equal(cal.DeadlineAfterWorkdays(wantDeadline, 5)) || c.ExtensionDays != 5 || c.Pending != nil {
		t.Fatalf("after approve_extension deadline=%v ext=%d pending=%+v", c.Deadline, c.ExtensionDays, c.Pending)
	}
	if c.StepDeadline == nil || !c.StepDeadline.Equal(c.Deadline) {
		t.Errorf("handle step deadline %v did not follow the extended deadline", c.StepDeadline)
	}

	// transfer
	at = at.Add(time.Hour)
	c = f.act(at, f.hCGJ, c, "request_transfer", map[string]any{"reason": "属住建局职责"})
	if c.Step != "dispatch" || c.Lead != "" || c.Transfers != 1 || c.First != "cgj" {
		t.Fatalf("after request_transfer %+v", c)
	}
	f.allowed(c, map[*tongban.User][]string{f.disp: {"dispatch", "close", "merge"}}, nil)
	// The first department stays accountable and can still see the case.
	if _, err := f.e.Get(f.ctx, engine.Actor{User: f.hCGJ}, c.TrackingCode); err != nil {
		t.Errorf("first department lost sight of the case during transfer: %v", err)
	}
	c = f.act(at, f.disp, c, "dispatch", map[string]any{"department": "zjj"})
	f.allowed(c, map[*tongban.User][]string{f.hZJJ: {"accept", "return"}, f.headZJJ: {"accept", "return"}}, nil)
	if c.First != "cgj" {
		t.Fatalf("first department changed before the transfer was accepted: %q", c.First)
	}
	c = f.act(at, f.hZJJ, c, "accept", nil)
	if c.First != "zjj" || c.Lead != "zjj" || c.Assignee != "h.zjj" {
		t.Fatalf("after accepting the transfer first=%q lead=%q assignee=%q", c.First, c.Lead, c.Assignee)
	}
	if _, err := f.e.Get(f.ctx, engine.Actor{User: f.hCGJ}, c.TrackingCode); tongban.ErrorCode(err) != tongban.ENotFound {
		t.Errorf("old department still sees the transferred case: %v", err)
	}

	// reply needing a head's approval (building)
	at = at.Add(time.Hour)
	c = f.act(at, f.hZJJ, c, "reply", map[string]any{"text": "经核查，已责令拆除。"})
	if c.Step != "review" || c.DraftReply != "经核查，已责令拆除。" || c.Reply != "" || c.RepliedAt != nil {
		t.Fatalf("after handler reply step=%s draft=%q reply=%q", c.Step, c.DraftReply, c.Reply)
	}
	f.allowed(c, map[*tongban.User][]string{f.headZJJ: {"approve_reply", "reject_reply"}}, nil)
	_, _, err = f.tryAct(at, f.hZJJ, c.TrackingCode, "approve_reply", nil)
	wantCode(t, err, tongban.EForbidden, "handler approving own reply")
	c = f.act(at, f.headZJJ, c, "reject_reply", map[string]any{"reason": "请补充拆除期限"})
	if c.Step != "handle" {
		t.Fatalf("reject_reply led to %s", c.Step)
	}
	c = f.act(at, f.hZJJ, c, "reply", map[string]any{"text": "经核查，已责令三日内拆除。"})
	c = f.act(at, f.headZJJ, c, "approve_reply", nil)
	if c.Step != "rating" || c.Reply != "经核查，已责令三日内拆除。" || c.DraftReply != "" || c.RepliedAt == nil || !c.RepliedAt.Equal(at) {
		t.Fatalf("after approve_reply %+v", c)
	}
	f.allowed(c, map[*tongban.User][]string{f.disp: {"close"}}, []string{"rate"})
	_, _, err = f.tryAct(at, f.disp, c.TrackingCode, "rate", map[string]any{"level": 5})
	wantCode(t, err, tongban.EForbidden, "staff rating for the citizen")
	_, _, err = f.tryAct(at, f.disp, c.TrackingCode, "reopen", map[string]any{"reason": "x"})
	wantCode(t, err, tongban.EConflict, "reopen without an unsatisfied rating")

	// satisfied
	at = at.Add(24 * time.Hour)
	c = f.act(at, nil, c, "rate", map[string]any{"level": 5, "comment": "满意"})
	if c.Step != "closed" || c.Status != tongban.StatusClosed || c.ClosedAt == nil || !c.ClosedAt.Equal(at) || c.Rating != 5 || c.StepDeadline != nil {
		t.Fatalf("after rate 5 %+v", c)
	}
	f.allowed(c, nil, nil)
	_, _, err = f.tryAct(at, f.disp, c.TrackingCode, "close", nil)
	wantCode(t, err, tongban.EConflict, "closing a closed case")

	evs := f.chain(c)
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Action)
	}
	want := []string{"create", "dispatch", "return", "dispatch", "accept", "assist", "request_extension", "approve_extension",
		"request_transfer", "dispatch", "accept", "reply", "reject_reply", "reply", "approve_reply", "rate"}
	if !slices.Equal(actions, want) {
		t.Fatalf("events %v, want %v", actions, want)
	}
	if evs[2].Reason != "不属于本局职责" || evs[2].ActorDept != "cgj" || evs[2].Public {
		t.Errorf("return event %+v", evs[2])
	}
	if evs[0].Actor != "intake" || !evs[0].At.Equal(received) {
		t.Errorf("create event %+v", evs[0])
	}
	if evs[15].Actor != "public" || evs[15].ActorID != 0 {
		t.Errorf("rate event actor %q", evs[15].Actor)
	}
}

func TestHeadReplyNeedsNoApproval(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	at := cst(2026, 3, 2, 10, 0)
	c := f.create(at, tongban.TypeComplaint, "building")
	c = f.act(at, f.disp, c, "dispatch", map[string]any{"department": "cgj"})
	c = f.act(at, f.headCGJ, c, "accept", nil)
	c = f.act(at, f.headCGJ, c, "reply", map[string]any{"text": "已处理"})
	if c.Step != "rating" || c.Reply != "已处理" {
		t.Fatalf("head's own reply: step %s reply %q", c.Step, c.Reply)
	}
	// A category without approval: the handler's reply goes straight out.
	c = f.create(at, tongban.TypeComplaint, "noise")
	c = f.act(at, f.disp, c, "dispatch", map[string]any{"department": "cgj"})
	c = f.act(at, f.hCGJ, c, "accept", nil)
	c = f.act(at, f.hCGJ, c, "reply", map[string]any{"text": "已处理"})
	if c.Step != "rating" {
		t.Fatalf("noise reply went to %s", c.Step)
	}
}

func TestExtensionCalendarFacts(t *testing.T) {
	t.Parallel()
	cal := calendar.Default()
	for _, tc := range []struct {
		deadline string
		days     int
		want     string
	}{
		{"2026-09-28", 5, "2026-10-10"},
		{"2026-02-13", 1, "2026-02-14"},
	} {
		t.Run(tc.deadline, func(t *testing.T) {
			f := newFixture(t)
			day, _ := calendar.ParseDate(tc.deadline)
			recvDay := cal.AddWorkdays(day, -15)
			received := recvDay.Add(10 * time.Hour)
			c := f.create(received, tongban.TypeComplaint, "noise")
			if got := c.Deadline.In(calendar.Shanghai).Format("2006-01-02"); got != tc.deadline {
				t.Fatalf("deadline %s, want %s", got, tc.deadline)
			}
			c = f.act(received, f.disp, c, "dispatch", map[string]any{"department": "cgj"})
			c = f.act(received, f.hCGJ, c, "accept", nil)
			c = f.act(received, f.hCGJ, c, "request_extension", map[string]any{"working_days": tc.days, "reason": "理由"})
			c = f.act(received, f.headCGJ, c, "approve_extension", nil)
			if got := c.Deadline.In(calendar.Shanghai).Format("2006-01-02 15:04:05"); got != tc.want+" 23:59:59" {
				t.Fatalf("extended deadline %s, want %s 23:59:59", got, tc.want)
			}
			// reject path: pending cleared, deadline unchanged
			c = f.act(received, f.hCGJ, c, "request_extension", map[string]any{"working_days": 3, "reason": "再延"})
			before := c.Deadline
			c = f.act(received, f.headCGJ, c, "reject_extension", map[string]any{"reason": "不予延期"})
			if c.Pending != nil || !c.Deadline.Equal(before) || c.ExtensionDays != tc.days {
				t.Fatalf("after reject pending=%+v deadline=%v ext=%d", c.Pending, c.Deadline, c.ExtensionDays)
			}
			f.chain(c)
		})
	}
}

func TestUrgentCategoryUsesOfficeHours(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// Monday 10:00 + 8 office hours (09:00–12:00, 13:30–17:30) = Tuesday 11:00.
	received := cst(2026, 3, 2, 10, 0)
	c := f.create(received, tongban.TypeHelp, "water")
	want := calendar.Default().AddWorkHours(received, 8*time.Hour)
	if !c.Deadline.Equal(want) || !c.Deadline.Equal(cst(2026, 3, 3, 11, 0)) {
		t.Fatalf("water deadline %v, want %v (2026-03-03 11:00 CST)", c.Deadline.In(calendar.Shanghai), want)
	}
	// Friday 16:00 + 8h: 1.5h Friday, 7h Monday... runs into Tuesday 09:30? compute from the calendar.
	received = cst(2026, 3, 6, 16, 0)
	c = f.create(received, tongban.TypeComplaint, "water")
	if want := calendar.Default().AddWorkHours(received, 8*time.Hour); !c.Deadline.Equal(want) || c.Deadline.In(calendar.Shanghai).Weekday() != time.Monday {
		t.Fatalf("water deadline from Friday %v, want %v (a Monday)", c.Deadline.In(calendar.Shanghai), want.In(calendar.Shanghai))
	}
	// Non-urgent categories use the type's working-day limit.
	c = f.create(received, tongban.TypeHelp, "noise")
	if !c.Deadline.Equal(calendar.Default().DeadlineAfterWorkdays(received, 10)) {
		t.Fatalf("help deadline %v", c.Deadline)
	}
}

func TestUnsatisfiedReopenOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cal := calendar.Default()
	at := cst(2026, 3, 2, 10, 0)
	c := f.create(at, tongban.TypeComplaint, "noise")
	c = f.act(at, f.disp, c, "dispatch", map[string]any{"department": "cgj"})
	c = f.act(at, f.hCGJ, c, "accept", nil)
	c = f.act(at, f.hCGJ, c, "reply", map[string]any{"text": "已告知施工方"})
	at = cst(2026, 3, 5, 10, 0)
	c = f.act(at, nil, c, "rate", map[string]any{"level": 1, "comment": "噪音仍在"})
	if c.Step != "rating" || c.Status != tongban.StatusOpen || c.Rating != 1 {
		t.Fatalf("after first unsatisfied rating %+v", c)
	}
	// The 差评 is an item of its own: the supervision office verifies and
	// calls back, the department rectifies or appeals (ratings_test.go).
	badSteps := map[*tongban.User][]string{f.disp: {"reopen", "close"}, f.sup: {"supervise", "verify_rating", "callback_rating"},
		f.hCGJ: {"rectify_rating", "appeal_rating"}, f.headCGJ: {"verify_rating", "rectify_rating", "appeal_rating"}}
	f.allowed(c, badSteps, []string{"rate"})
	_, _, err := f.tryAct(at, f.hCGJ, c.TrackingCode, "reopen", map[string]any{"reason": "x"})
	wantCode(t, err, tongban.EForbidden, "handler reopening")
	at = cst(2026, 3, 6, 9, 30)
	c = f.act(at, f.disp, c, "reopen", map[string]any{"reason": "群众不满意，重新办理"})
	if c.Step != "handle" || c.Reopens != 1 || c.Rating != 0 || c.Lead != "cgj" {
		t.Fatalf("after reopen %+v", c)
	}
	if !c.Deadline.Equal(cal.DeadlineAfterWorkdays(at, 15)) {
		t.Errorf("reopened deadline %v, want %v", c.Deadline, cal.DeadlineAfterWorkdays(at, 15))
	}
	c = f.act(at, f.hCGJ, c, "reply", map[string]any{"text": "已责令停工"})
	badSteps[f.disp] = []string{"close"}
	f.allowed(c, badSteps, []string{"rate"})
	c = f.act(at, nil, c, "rate", map[string]any{"level": 2})
	if c.Step != "closed" || c.Status != tongban.StatusClosed || c.Rating != 2 {
		t.Fatalf("second unsatisfied rating did not close: %+v", c)
	}
	_, _, err = f.tryAct(at, f.disp, c.TrackingCode, "reopen", map[string]any{"reason": "再次"})
	wantCode(t, err, tongban.EConflict, "second reopen")
	f.chain(c)
}

func TestConsultationAnsweredAtIntake(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	at := cst(2026, 3, 2, 10, 0)
	c := f.create(at, "咨询", "education")
	if c.Type != tongban.TypeConsultation {
		t.Fatalf("type %q", c.Type)
	}
	if !c.Deadline.Equal(calendar.Default().DeadlineAfterWorkdays(at, 2)) {
		t.Errorf("consultation deadline %v", c.Deadline)
	}
	f.allowed(c, map[*tongban.User][]string{f.disp: {"dispatch", "reply", "close", "merge"}, f.intake: {"reply"}}, nil)
	_, _, err := f.tryAct(at, f.intake, c.TrackingCode, "reply", map[string]any{})
	wantCode(t, err, tongban.EInvalid, "reply without text")
	c = f.act(at, f.intake, c, "reply", map[string]any{"text": "入学报名时间为每年5月。", "note": "电话答复"})
	if c.Step != "rating" || c.Reply != "入学报名时间为每年5月。" || c.RepliedAt == nil || c.Lead != "" {
		t.Fatalf("after direct reply %+v", c)
	}
	f.allowed(c, map[*tongban.User][]string{f.disp: {"close"}}, []string{"rate"})
	c = f.act(at, nil, c, "rate", map[string]any{"level": 4})
	if c.Status != tongban.StatusClosed {
		t.Fatalf("rate 4 left status %s", c.Status)
	}
	evs := f.chain(c)
	if evs[1].Note != "电话答复" {
		t.Errorf("note %q", evs[1].Note)
	}
}

// A consultation answered at intake has no lead department. If the citizen
// is unsatisfied and the centre reopens it, somebody must be able to act on
// it next; otherwise it sits open until its deadline passes, with no way to
// dispatch, reply or close it.
func TestReopenedDirectAnswerIsNotStranded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	at := cst(2026, 3, 2, 10, 0)
	c := f.create(at, tongban.TypeConsultation, "education")
	c = f.act(at, f.intake, c, "reply", map[string]any{"text": "每年5月报名。"})
	c = f.act(at, nil, c, "rate", map[string]any{"level": 1})
	// No department handled it: the 差评 rates the command centre, whose
	// staff here hold no handler or head role.
	f.allowed(c, map[*tongban.User][]string{f.disp: {"reopen", "close"}, f.sup: {"supervise", "verify_rating", "callback_rating"}}, []string{"rate"})
	c = f.act(at, f.disp, c, "reopen", map[string]any{"reason": "群众不满意"})
	if c.Status != tongban.StatusOpen {
		t.Fatalf("reopened case status %s", c.Status)
	}
	var anyone []string
	for _, u := range []*tongban.User{f.disp, f.intake, f.hCGJ, f.headCGJ, f.hZJJ, f.headZJJ, f.hSWJ, f.sup, f.leader, f.admin} {
		for _, a := range allowedNames(f.e, engine.Actor{User: u}, c) {
			anyone = append(anyone, u.Login+":"+a)
		}
	}
	if len(anyone) == 0 {
		t.Fatalf("reopened direct answer is stranded in step %q with lead %q: no user may take any action "+
			"(workflow/defs/request.json: reopen always goes to handle, whose actions all need the lead department)", c.Step, c.Lead)
	}
}

func TestConcurrentActExactlyOneWins(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	at := cst(2026, 3, 2, 10, 0)
	c := f.create(at, tongban.TypeComplaint, "noise")
	const n = 10
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			_, _, errs[i] = f.tryAct(at, f.disp, c.TrackingCode, "dispatch", map[string]any{"department": "cgj", "note": fmt.Sprint(i), "version": c.Version})
		}(i)
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		if err == nil {
			ok++
			continue
		}
		if tongban.ErrorCode(err) != tongban.EConflict {
			t.Errorf("goroutine %d: %v, want conflict", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent actions succeeded, want exactly 1", ok, n)
	}
	c = f.reload(c)
	if c.Version != 2 || c.Step != "accept" {
		t.Fatalf("after the race: version %d step %s", c.Version, c.Step)
	}
	f.chain(c)

	// Without a version, the store's optimistic check still lets one win.
	errs = make([]error, n)
	start = make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			_, _, errs[i] = f.tryAct(at, f.hCGJ, c.TrackingCode, "accept", nil)
		}(i)
	}
	close(start)
	wg.Wait()
	ok = 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if tongban.ErrorCode(err) != tongban.EConflict {
			t.Errorf("unversioned accept: %v, want conflict", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d unversioned accepts succeeded, want 1", ok)
	}
	f.chain(f.reload(c))
}

func TestMaskingAndReveal(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	at := cst(2026, 3, 2, 10, 0)
	report := f.create(at, tongban.TypeReport, "stall")
	if !report.Confidential {
		t.Fatal("a report is not confidential")
	}
	report = f.act(at, f.disp, report, "dispatch", map[string]any{"department": "cgj", "co_departments": []string{"zjj"}})
	complaint := f.create(at, tongban.TypeComplaint, "stall")
	complaint = f.act(at, f.disp, complaint, "dispatch", map[string]any{"department": "cgj", "co_departments": []string{"zjj"}})

	for _, tc := range []struct {
		u                *tongban.User
		report, complain bool
	}{
		{f.disp, true, true},
		{f.intake, true, true},
		{f.sup, true, true},
		{f.hCGJ, false, true},    // lead department: not for a confidential report
		{f.headCGJ, false, true}, // same
		{f.hZJJ, false, false},   // co-department: never
		{f.hSWJ, false, false},   // cannot even see the case
		{f.leader, false, false}, // sees the case, need not call back
		{f.admin, false, false},
		{nil, false, false},
	} {
		if got := engine.MayReveal(tc.u, report); got != tc.report {
			t.Errorf("MayReveal(%s, report) = %v, want %v", actorName(tc.u), got, tc.report)
		}
		if got := engine.MayReveal(tc.u, complaint); got != tc.complain {
			t.Errorf("MayReveal(%s, complaint) = %v, want %v", actorName(tc.u), got, tc.complain)
		}
	}
	if engine.CanView(f.hSWJ, complaint) || !engine.CanView(f.hZJJ, complaint) || !engine.CanView(f.leader, complaint) {
		t.Error("CanView scoping wrong")
	}

	if _, err := f.e.Reveal(f.ctx, f.hCGJ, report, "回访"); tongban.ErrorCode(err) != tongban.EForbidden {
		t.Fatalf("lead handler revealing a confidential reporter: %v, want forbidden", err)
	}
	if logs, _ := f.st.ListPIIAccess(f.ctx, report.ID); len(logs) != 0 {
		t.Fatalf("a refused reveal was logged: %+v", logs)
	}
	r, err := f.e.Reveal(f.ctx, f.disp, report, "核实举报内容")
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "张三丰" || r.Phone != "13812345678" {
		t.Fatalf("revealed %+v", r)
	}
	if _, err := f.e.Reveal(f.ctx, f.hCGJ, complaint, "电话回访"); err != nil {
		t.Fatalf("lead handler revealing a complainant: %v", err)
	}
	logs, err := f.st.ListPIIAccess(f.ctx, report.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 1 || logs[0].Login != "disp" || logs[0].UserID != f.disp.ID || logs[0].Reason != "核实举报内容" || logs[0].CaseID != report.ID {
		t.Fatalf("PII access log %+v", logs)
	}
	logs, _ = f.st.ListPIIAccess(f.ctx, complaint.ID)
	if len(logs) != 1 || logs[0].Login != "h.cgj" {
		t.Fatalf("PII access log of the complaint %+v", logs)
	}
	if m := (tongban.Requester{Name: "张三丰", Phone: "13812345678"}).Masked(); m.Name != "张**" || m.Phone != "138****5678" {
		t.Errorf("masked %+v", m)
	}
}

func TestAdminSafety(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	yes := true
	roles := "dispatcher"
	_, err := f.e.UpdateUser(f.ctx, f.admin, f.admin.ID, engine.UserChange{Disabled: &yes})
	wantCode(t, err, tongban.EConflict, "admin disabling self")
	_, err = f.e.UpdateUser(f.ctx, f.admin, f.admin.ID, engine.UserChange{Roles: &roles})
	wantCode(t, err, tongban.EConflict, "admin dropping own admin role")
	// The only admin cannot be removed by anyone else either (e.g. the CLI).
	_, err = f.e.UpdateUser(f.ctx, nil, f.admin.ID, engine.UserChange{Disabled: &yes})
	wantCode(t, err, tongban.EConflict, "disabling the last admin")
	_, err = f.e.UpdateUser(f.ctx, f.disp, f.admin.ID, engine.UserChange{Roles: &roles})
	wantCode(t, err, tongban.EConflict, "dropping the last admin's role")
	if u, _ := f.st.User(f.ctx, f.admin.ID); u.Disabled || !u.Has(tongban.RoleAdmin) {
		t.Fatalf("refused change was saved: %+v", u)
	}
	// Keeping the admin role while adding another is fine.
	both := "admin,dispatcher"
	if _, err := f.e.UpdateUser(f.ctx, f.admin, f.admin.ID, engine.UserChange{Roles: &both}); err != nil {
		t.Fatalf("admin adding a role to self: %v", err)
	}
	admin2 := f.user("admin2", "zx", "admin")
	if _, err := f.e.UpdateUser(f.ctx, admin2, f.admin.ID, engine.UserChange{Roles: &roles}); err != nil {
		t.Fatalf("second admin demoting the first: %v", err)
	}
	_, err = f.e.UpdateUser(f.ctx, nil, admin2.ID, engine.UserChange{Disabled: &yes})
	wantCode(t, err, tongban.EConflict, "disabling the new last admin")

	// Disabling a user ends their sessions.
	token, _, _, err := f.e.Login(f.ctx, "h.cgj", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, u, err := f.e.Authenticate(f.ctx, token); err != nil || u.ID != f.hCGJ.ID {
		t.Fatalf("Authenticate: %v", err)
	}
	if _, err := f.e.UpdateUser(f.ctx, admin2, f.hCGJ.ID, engine.UserChange{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.e.Authenticate(f.ctx, token); tongban.ErrorCode(err) != tongban.EUnauthorized {
		t.Fatalf("disabled user's token still works: %v", err)
	}
	if _, err := f.st.Session(f.ctx, engine.TokenHash(token)); tongban.ErrorCode(err) != tongban.ENotFound {
		t.Fatalf("disabled user's session still stored: %v", err)
	}
	if _, _, _, err := f.e.Login(f.ctx, "h.cgj", testPassword); tongban.ErrorCode(err) != tongban.EUnauthorized {
		t.Fatalf("disabled user logged in: %v", err)
	}
	// A password change ends sessions too.
	token, _, _, err = f.e.Login(f.ctx, "h.zjj", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	pw := "another long password"
	if _, err := f.e.UpdateUser(f.ctx, admin2, f.hZJJ.ID, engine.UserChange{Password: &pw}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.e.Authenticate(f.ctx, token); err == nil {
		t.Fatal("token survived a password change")
	}
	if _, _, _, err := f.e.Login(f.ctx, "h.zjj", testPassword); err == nil {
		t.Fatal("old password still works")
	}
	if _, _, _, err := f.e.Login(f.ctx, "h.zjj", pw); err != nil {
		t.Fatalf("new password: %v", err)
	}
	_, _, _, err = f.e.Login(f.ctx, "nobody", testPassword)
	wantCode(t, err, tongban.EUnauthorized, "unknown login")
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ok := engine.NewCase{Type: "complaint", Category: "noise", Title: "t", Body: "b", Requester: tongban.Requester{Phone: "13812345678"}, Channel: tongban.ChannelWeb}
	lat, long, far := 31.2, 121.5, 91.0
	for _, tc := range []struct {
		name  string
		f     func(n *engine.NewCase)
		field string
	}{
		{"unknown type", func(n *engine.NewCase) { n.Type = "rant" }, "type"},
		{"unknown category", func(n *engine.NewCase) { n.Category = "ufo" }, "category"},
		{"empty title", func(n *engine.NewCase) { n.Title = "  " }, "title"},
		{"title 201", func(n *engine.NewCase) { n.Title = strings.Repeat("标", 201) }, "title"},
		{"body 4001", func(n *engine.NewCase) { n.Body = fmt.Sprintf("%04001d", 0) }, "body"},
		{"web without phone", func(n *engine.NewCase) { n.Requester.Phone = "" }, "phone"},
		{"bad phone", func(n *engine.NewCase) { n.Requester.Phone = "12345" }, "phone"},
		{"bad email", func(n *engine.NewCase) { n.Requester.Email = "no-at-sign" }, "email"},
		{"lat without long", func(n *engine.NewCase) { n.Lat = &lat }, "lat"},
		{"lat out of range", func(n *engine.NewCase) { n.Lat, n.Long = &far, &long }, "lat"},
		{"unknown channel", func(n *engine.NewCase) { n.Channel = "pigeon" }, "channel"},
		{"exe attachment", func(n *engine.NewCase) {
			n.Uploads = []engine.Upload{{Name: "photo.jpg", Data: append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 64)...)}}
		}, "attachments"},
		{"ten attachments", func(n *engine.NewCase) { n.Uploads = make([]engine.Upload, 10) }, "attachments"},
	} {
		n := ok
		tc.f(&n)
		_, err := f.e.Create(f.ctx, engine.Actor{User: f.intake}, n)
		if e := tongban.AsError(err); e == nil || e.Code != tongban.EInvalid || e.Field != tc.field {
			t.Errorf("%s: %v, want invalid %s", tc.name, err, tc.field)
		}
	}
	page, err := f.st.ListCases(f.ctx, tongban.CaseFilter{})
	if err != nil || page.Total != 0 {
		t.Fatalf("rejected creates wrote cases: %v %v", page, err)
	}
	if _, err := f.e.Create(f.ctx, engine.Actor{User: f.intake}, ok); err != nil {
		t.Fatal(err)
	}
}
