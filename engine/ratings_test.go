package engine_test

import (
	"encoding/json"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/internal/pgtest"
	"github.com/tongban/tongban/postgres"
	"github.com/tongban/tongban/supervise"
)

// clock pins the engine's wall clock (the time work is entered) so tests
// that act in the past are not taken for entries after the fact, and so
// the published figures' cache can be stepped past.
func (f *fixture) clock(t time.Time) *atomic.Pointer[time.Time] {
	var p atomic.Pointer[time.Time]
	p.Store(&t)
	f.e.Now = func() time.Time { return *p.Load() }
	return &p
}

func advance(p *atomic.Pointer[time.Time], d time.Duration) {
	t := p.Load().Add(d)
	p.Store(&t)
}

// windowRequest files a request at a window (where visits are rated).
func (f *fixture) windowRequest(at time.Time) *tongban.Case {
	f.t.Helper()
	c, err := f.e.Create(engine.WithNow(f.ctx, at), engine.Actor{User: f.intake}, engine.NewCase{
		Type: tongban.TypeComplaint, Category: "noise", Title: "夜间施工噪音", Body: "工地每晚十一点后仍在施工。",
		Requester: tongban.Requester{Name: "李四", Phone: "13912345678"}, Channel: tongban.ChannelWindow,
	})
	if err != nil {
		f.t.Fatalf("Create: %v", err)
	}
	return c
}

// replied takes a request through dispatch to cgj, acceptance and a reply.
func (f *fixture) replied(c *tongban.Case, at time.Time) *tongban.Case {
	f.t.Helper()
	c = f.act(at, f.disp, c, "dispatch", map[string]any{"department": "cgj"})
	c = f.act(at.Add(time.Minute), f.hCGJ, c, "accept", nil)
	return f.act(at.Add(2*time.Minute), f.hCGJ, c, "reply", map[string]any{"text": "已责令工地夜间停工"})
}

func item(t *testing.T, c *tongban.Case, no int) tongban.RatingItem {
	t.Helper()
	items := tongban.CaseRatings(c)
	if no < 1 || no > len(items) {
		t.Fatalf("case has %d ratings, want item %d", len(items), no)
	}
	return items[no-1]
}

func (f *fixture) lastEvent(c *tongban.Case) *tongban.Event {
	f.t.Helper()
	evs := f.chain(c)
	return evs[len(evs)-1]
}

func payloadOf(t *testing.T, ev *tongban.Event) map[string]any {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		t.Fatalf("payload of %s: %v", ev.Action, err)
	}
	return p
}

func (f *fixture) summary(from, to string) *engine.RatingSummary {
	f.t.Helper()
	s, err := f.e.RatingSummary(f.ctx, from, to)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func group(gs []engine.RatingGroup, code string) *engine.RatingGroup {
	for i := range gs {
		if gs[i].Code == code {
			return &gs[i]
		}
	}
	return nil
}

// A 差评 online: verified by the supervision office, the rater called
// back, rectified by the department on time — each step an event in the
// chain, each by the right people only.
func TestBadRatingLife(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.clock(cst(2026, 9, 1, 9, 0))
	at := cst(2026, 3, 2, 10, 0) // a Monday
	c := f.replied(f.create(at, tongban.TypeComplaint, "noise"), at)
	c = f.act(cst(2026, 3, 5, 10, 0), nil, c, "rate", map[string]any{"level": 1, "comment": "仍有噪音"})
	it := item(t, c, 1)
	if it.Level != 1 || it.Channel != tongban.RatingOnline || it.Visit || it.Dept != "cgj" || it.By != "public" || it.Bad == nil || it.Comment != "仍有噪音" {
		t.Fatalf("rating %+v", it)
	}
	// 5 working days from Thursday 5 March: Thursday 12 March.
	if want := eod(2026, 3, 12); !it.Bad.Deadline.Equal(want) {
		t.Fatalf("rectify deadline %v, want %v", it.Bad.Deadline, want)
	}
	if it.Bad.State() != tongban.BadVerify {
		t.Fatalf("state %s", it.Bad.State())
	}
	if p := payloadOf(t, f.lastEvent(c)); p["item"] != float64(1) || p["rectify_deadline"] == nil || p["level"] != float64(1) {
		t.Fatalf("rate payload %v", p)
	}

	// Who may do what.
	day := cst(2026, 3, 6, 9, 0)
	_, _, err := f.tryAct(day, f.hCGJ, c.TrackingCode, "verify_rating", map[string]any{"verdict": "valid"})
	wantCode(t, err, tongban.EForbidden, "a handler verifying")
	_, _, err = f.tryAct(day, f.headZJJ, c.TrackingCode, "verify_rating", map[string]any{"verdict": "valid"})
	wantCode(t, err, tongban.ENotFound, "another department's head verifying")
	_, _, err = f.tryAct(day, f.sup, c.TrackingCode, "rectify_rating", map[string]any{"text": "x"})
	wantCode(t, err, tongban.EForbidden, "the supervision office rectifying")
	_, _, err = f.tryAct(day, f.headCGJ, c.TrackingCode, "callback_rating", map[string]any{"text": "x"})
	wantCode(t, err, tongban.EForbidden, "a head calling back")
	_, _, err = f.tryAct(day, f.sup, c.TrackingCode, "verify_rating", map[string]any{"verdict": "true"})
	wantCode(t, err, tongban.EInvalid, "a verdict not among the options")
	_, _, err = f.tryAct(day, f.sup, c.TrackingCode, "verify_rating", map[string]any{"verdict": "valid", "item": 2})
	wantCode(t, err, tongban.EInvalid, "no such rating")
	_, _, err = f.tryAct(day, f.sup, c.TrackingCode, "decide_appeal", map[string]any{"uphold": true, "reason": "x"})
	wantCode(t, err, tongban.EConflict, "deciding an appeal never made")

	c = f.act(day, f.sup, c, "verify_rating", map[string]any{"verdict": "valid", "text": "经核实，施工方仍夜间作业"})
	if ev := f.lastEvent(c); ev.Actor != "sup" || ev.Reason != "经核实，施工方仍夜间作业" || ev.Public || payloadOf(t, ev)["verdict"] != "valid" {
		t.Fatalf("verify event %+v", ev)
	}
	_, _, err = f.tryAct(day, f.headCGJ, c.TrackingCode, "verify_rating", map[string]any{"verdict": "malicious"})
	wantCode(t, err, tongban.EConflict, "verifying twice")
	c = f.act(day.Add(time.Hour), f.sup, c, "callback_rating", map[string]any{"text": "已电话回访，群众反映夜间仍有施工"})
	if st := item(t, c, 1).Bad.State(); st != tongban.BadRectify {
		t.Fatalf("after verification and call-back: %s", st)
	}
	c = f.act(cst(2026, 3, 10, 16, 0), f.hCGJ, c, "rectify_rating", map[string]any{"text": "已对施工方立案处罚，夜间停工"})
	it = item(t, c, 1)
	if it.Bad.State() != tongban.BadDone || !it.Bad.OnTime() || it.Bad.Rectified.By != "h.cgj" || it.Bad.Verdict != tongban.VerdictValid || len(it.Bad.Callbacks) != 1 {
		t.Fatalf("after rectification %+v (%s)", it.Bad, it.Bad.State())
	}
	if p := payloadOf(t, f.lastEvent(c)); p["on_time"] != true || p["item"] != float64(1) {
		t.Fatalf("rectify payload %v", p)
	}
	_, _, err = f.tryAct(cst(2026, 3, 10, 17, 0), f.hCGJ, c.TrackingCode, "appeal_rating", map[string]any{"reason": "x"})
	wantCode(t, err, tongban.EConflict, "appealing a rectified 差评")
	var steps []string
	for _, e := range f.chain(c) {
		steps = append(steps, e.Action)
	}
	if !slices.Equal(steps[len(steps)-4:], []string{"rate", "verify_rating", "callback_rating", "rectify_rating"}) {
		t.Fatalf("events %v", steps)
	}

	// The rows behind the figures and the workbench.
	list, _, err := f.e.BadRatings(f.ctx, engine.Actor{User: f.sup}, engine.BadRatingQuery{State: "all"})
	if err != nil || len(list) != 1 || list[0].State != tongban.BadDone || !list[0].Verified || !list[0].CalledBack || !list[0].Rectified || !list[0].OnTime {
		t.Fatalf("BadRatings = %+v, %v", list[0], err)
	}
	if list, _, _ := f.e.BadRatings(f.ctx, engine.Actor{User: f.hZJJ}, engine.BadRatingQuery{State: "all"}); len(list) != 0 {
		t.Fatalf("another department sees %+v", list)
	}
	if _, _, err := f.e.BadRatings(f.ctx, engine.Actor{User: f.hZJJ}, engine.BadRatingQuery{Dept: "cgj"}); tongban.ErrorCode(err) != tongban.EForbidden {
		t.Fatalf("another department asking for cgj's: %v", err)
	}
	if _, _, err := f.e.BadRatings(f.ctx, engine.Actor{User: f.sup}, engine.BadRatingQuery{State: "nonsense"}); tongban.ErrorCode(err) != tongban.EInvalid {
		t.Fatalf("bad state: %v", err)
	}
	s := f.summary("2026-03-01", "2026-03-31")
	if s.Total.Ratings != 1 || s.Total.Bad != 1 || s.Total.Verified != 1 || s.Total.CalledBack != 1 || s.Total.Rectified != 1 || s.Total.OnTime != 1 ||
		s.Total.SatisfactionRate == nil || *s.Total.SatisfactionRate != 0 || s.Total.Levels["1"] != 1 {
		t.Fatalf("summary %+v", s.Total)
	}
	if g := group(s.Departments, "cgj"); g == nil || g.Name != "城管执法局" || g.Ratings != 1 {
		t.Fatalf("departments %+v", s.Departments)
	}
	if g := group(s.Categories, "noise"); g == nil || g.Name != "噪音扰民" || g.Bad != 1 || len(s.Matters) != 0 {
		t.Fatalf("categories %+v matters %+v", s.Categories, s.Matters)
	}
	if _, err := f.e.RatingSummary(f.ctx, "2026-03-31", "2026-03-01"); tongban.ErrorCode(err) != tongban.EInvalid {
		t.Fatalf("to before from: %v", err)
	}
	if _, err := f.e.RatingSummary(f.ctx, "yesterday", ""); tongban.ErrorCode(err) != tongban.EInvalid {
		t.Fatalf("a bad date: %v", err)
	}
}

// At a window every visit is rated (一次一评), also once the case is
// closed; a 差评 not rectified by its deadline — counted over the National
// Day holiday and its make-up Saturday — raises a flag on the rated
// department through the alarm scanner, shows as overdue, and clears when
// rectified late.
func TestVisitRatingOverdue(t *testing.T) {
	t.Parallel()
	visitRatingOverdue(t, newFixture(t))
}

// TestVisitRatingOverduePostgres runs the same on PostgreSQL.
func TestVisitRatingOverduePostgres(t *testing.T) {
	t.Parallel()
	visitRatingOverdue(t, pgFixture(t))
}

func visitRatingOverdue(t *testing.T, f *fixture) {
	f.clock(cst(2026, 9, 30, 18, 0))
	at := cst(2026, 9, 28, 10, 0)
	c := f.replied(f.windowRequest(at), at)
	c = f.act(cst(2026, 9, 29, 9, 0), nil, c, "rate", map[string]any{"level": 4})
	if c.Status != tongban.StatusClosed || c.NextAlarmAt != nil {
		t.Fatalf("rated 4: %s next alarm %v", c.Status, c.NextAlarmAt)
	}
	closedAt := *c.ClosedAt
	// Two visits after closing: a 5 and a 1.
	c = f.act(cst(2026, 9, 30, 10, 0), f.intake, c, "rate_visit", map[string]any{"level": 5})
	c = f.act(cst(2026, 9, 30, 15, 0), f.intake, c, "rate_visit", map[string]any{"level": 1, "comment": "窗口人员态度差"})
	if c.Status != tongban.StatusClosed || !c.ClosedAt.Equal(closedAt) || c.Rating != 4 {
		t.Fatalf("a visit's rating changed the case: %s closed %v rating %d", c.Status, c.ClosedAt, c.Rating)
	}
	it := item(t, c, 3)
	if !it.Visit || it.Channel != tongban.RatingWindow || it.By != "intake" || it.Dept != "cgj" || it.Bad == nil {
		t.Fatalf("visit rating %+v", it)
	}
	// Wednesday 30 Sept + 5 working days: 1–7 Oct off; 8, 9, 10 (a
	// make-up Saturday), 12 and 13 Oct.
	cal := calendar.Default()
	if want := eod(2026, 10, 13); !it.Bad.Deadline.Equal(want) || !want.Equal(cal.DeadlineAfterWorkdays(cst(2026, 9, 30, 15, 0), 5)) {
		t.Fatalf("deadline %v, want %v", it.Bad.Deadline.In(calendar.Shanghai), want.In(calendar.Shanghai))
	}
	if c.NextAlarmAt == nil || !c.NextAlarmAt.Equal(supervise.Overdue(eod(2026, 10, 13))) {
		t.Fatalf("next alarm %v", c.NextAlarmAt)
	}
	sc := f.e.NewScanner()
	if n, err := sc.Tick(f.ctx, cst(2026, 10, 13, 23, 0)); err != nil || n != 0 {
		t.Fatalf("before the deadline: %d %v", n, err)
	}
	if n, err := sc.Tick(f.ctx, cst(2026, 10, 14, 9, 0)); err != nil || n != 1 {
		t.Fatalf("after the deadline: %d %v", n, err)
	}
	c = f.reload(c)
	alarms, _, err := f.e.Alarms(f.ctx, engine.Actor{User: f.sup}, tongban.AlarmFilter{State: "open", CaseID: c.ID})
	if err != nil || len(alarms) != 1 || alarms[0].Scope != tongban.AlarmScopeRectify || alarms[0].Colour != tongban.AlarmFlag ||
		alarms[0].Dept != "cgj" || !alarms[0].Deadline.Equal(eod(2026, 10, 13)) {
		t.Fatalf("alarms %+v %v", alarms, err)
	}
	if ev := f.lastEvent(c); ev.Action != "alarm_flag" || ev.ToStep != "closed" || payloadOf(t, ev)["scope"] != tongban.AlarmScopeRectify {
		t.Fatalf("alarm event %+v", ev)
	}
	if c.Status != tongban.StatusClosed || !c.ClosedAt.Equal(closedAt) || c.NextAlarmAt != nil {
		t.Fatalf("after the alarm: %s %v next %v", c.Status, c.ClosedAt, c.NextAlarmAt)
	}
	overdue, _, err := f.e.BadRatings(engine.WithNow(f.ctx, cst(2026, 10, 14, 9, 0)), engine.Actor{User: f.headCGJ}, engine.BadRatingQuery{State: "overdue"})
	if err != nil || len(overdue) != 1 || overdue[0].No != 3 || overdue[0].TrackingCode != c.TrackingCode {
		t.Fatalf("overdue list %+v %v", overdue, err)
	}
	if !item(t, c, 3).Bad.Overdue(cst(2026, 10, 14, 9, 0)) {
		t.Fatal("not overdue")
	}
	// Rectified late: the flag clears, the rectification counts as late.
	c = f.act(cst(2026, 10, 15, 10, 0), f.headCGJ, c, "rectify_rating", map[string]any{"item": 3, "text": "已对窗口人员批评教育"})
	if it := item(t, c, 3); it.Bad.OnTime() || it.Bad.Rectified == nil {
		t.Fatalf("late rectification %+v", it.Bad)
	}
	alarms, _, _ = f.e.Alarms(f.ctx, engine.Actor{User: f.sup}, tongban.AlarmFilter{State: "open", CaseID: c.ID})
	if len(alarms) != 0 || c.NextAlarmAt != nil || c.Supervision != nil && len(c.Supervision.Alarms) != 0 {
		t.Fatalf("after rectification: alarms %+v next %v", alarms, c.NextAlarmAt)
	}
	s := f.summary("2026-09-01", "2026-10-31")
	if s.Total.Ratings != 3 || s.Total.Bad != 1 || s.Total.Rectified != 1 || s.Total.OnTime != 0 || s.Total.SatisfactionRate == nil || *s.Total.SatisfactionRate != 0.6667 {
		t.Fatalf("summary %+v", s.Total)
	}
	// The visits count on the scorecards like the matter's own rating.
	rows, err := f.st.ScoreTotals(f.ctx, tongban.ByDepartment, 20260901, 20261031)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		if r.Key == "cgj" {
			found = true
			if r.Ratings != [5]int64{1, 0, 0, 1, 1} {
				t.Fatalf("cgj ratings on the scorecard %v", r.Ratings)
			}
		}
	}
	if !found {
		t.Fatal("no scorecard row for cgj")
	}
	if slices.Contains(allowedNames(f.e, engine.Actor{User: f.intake}, f.create(at, tongban.TypeComplaint, "noise")), "rate_visit") {
		t.Fatal("a visit rated on a request filed by phone")
	}
}

// simpleMatter is reviewed by zjj alone; fees as given.
func simpleMatter(code string, free bool, fees ...tongban.Fee) *tongban.Matter {
	m := testMatter(code)
	m.Free, m.Fees = free, fees
	m.Steps = []tongban.MatterStep{{Name: "审查", Mode: tongban.StepSerial, Departments: []string{"zjj"}, LimitDays: 5}}
	return m
}

// decided takes an application from intake to the rating step.
func (f *fixture) decided(c *tongban.Case, at time.Time) *tongban.Case {
	f.t.Helper()
	c = f.act(at, f.intake, c, "accept", nil)
	c = f.act(at.Add(time.Hour), f.hZJJ, c, "opinion", map[string]any{"approve": true})
	c = f.act(at.Add(2*time.Hour), f.headZJJ, c, "decide", map[string]any{"grant": true})
	return f.act(at.Add(3*time.Hour), f.intake, c, "deliver", map[string]any{"method": "窗口领取"})
}

// A 差评 on an application the department appeals: upheld, the rating
// leaves the published figures and the scorecards but stays on record.
func TestBadRatingAppealUpheld(t *testing.T) {
	t.Parallel()
	badRatingAppealUpheld(t, newFixture(t))
}

// TestBadRatingAppealUpheldPostgres runs the same on PostgreSQL.
func TestBadRatingAppealUpheldPostgres(t *testing.T) {
	t.Parallel()
	badRatingAppealUpheld(t, pgFixture(t))
}

func badRatingAppealUpheld(t *testing.T, f *fixture) {
	clk := f.clock(cst(2026, 11, 2, 9, 0))
	if err := f.e.PutMatter(f.ctx, engine.Actor{User: f.admin}, simpleMatter("ZJ-100", true)); err != nil {
		t.Fatal(err)
	}
	c := f.decided(f.apply(cst(2026, 10, 19, 9, 0), f.intake, "ZJ-100"), cst(2026, 10, 19, 10, 0))
	c = f.act(cst(2026, 10, 20, 9, 0), nil, c, "rate", map[string]any{"level": 2, "comment": "不满意"})
	if c.Status != tongban.StatusClosed || c.NextAlarmAt == nil {
		t.Fatalf("rated 2: %s next alarm %v", c.Status, c.NextAlarmAt)
	}
	closedAt := *c.ClosedAt
	s := f.summary("2026-10-01", "2026-10-31")
	if s.Total.Ratings != 1 || s.Total.Bad != 1 || group(s.Matters, "ZJ-100") == nil || group(s.Matters, "ZJ-100").Name != "建筑工程施工许可" {
		t.Fatalf("before the appeal %+v %+v", s.Total, s.Matters)
	}
	f.allowed(c, map[*tongban.User][]string{f.sup: {"verify_rating", "callback_rating"}, f.hZJJ: {"rectify_rating", "appeal_rating"},
		f.headZJJ: {"verify_rating", "rectify_rating", "appeal_rating"}, f.intake: {"rate_visit"}}, nil)
	c = f.act(cst(2026, 10, 20, 10, 0), f.headZJJ, c, "verify_rating", map[string]any{"verdict": "malicious", "text": "申请人因未获优先办理而差评"})
	c = f.act(cst(2026, 10, 20, 11, 0), f.hZJJ, c, "appeal_rating", map[string]any{"reason": "按时办结，差评与办理无关"})
	if st := item(t, c, 1).Bad.State(); st != tongban.BadAppeal || c.NextAlarmAt != nil {
		t.Fatalf("appealed: %s, next alarm %v (the clock stops)", st, c.NextAlarmAt)
	}
	_, _, err := f.tryAct(cst(2026, 10, 20, 12, 0), f.hZJJ, c.TrackingCode, "rectify_rating", map[string]any{"text": "x"})
	wantCode(t, err, tongban.EConflict, "rectifying while the appeal is pending")
	_, _, err = f.tryAct(cst(2026, 10, 20, 12, 0), f.headZJJ, c.TrackingCode, "decide_appeal", map[string]any{"uphold": true, "reason": "x"})
	wantCode(t, err, tongban.EForbidden, "the department deciding its own appeal")
	c = f.act(cst(2026, 10, 21, 9, 0), f.sup, c, "decide_appeal", map[string]any{"uphold": true, "reason": "经核实属恶意差评"})
	it := item(t, c, 1)
	if !it.Bad.Removed || it.Bad.State() != tongban.BadRemoved || !it.Bad.Appeal.Upheld || it.Level != 2 || c.Rating != 2 {
		t.Fatalf("upheld: %+v rating %d", it.Bad, c.Rating)
	}
	if !c.ClosedAt.Equal(closedAt) || c.Status != tongban.StatusClosed || c.NextAlarmAt != nil {
		t.Fatalf("the steps changed the closed case: %v %s %v", c.ClosedAt, c.Status, c.NextAlarmAt)
	}
	f.allowed(c, map[*tongban.User][]string{f.intake: {"rate_visit"}}, nil)
	advance(clk, 2*time.Minute) // past the figures' cache
	s = f.summary("2026-10-01", "2026-10-31")
	if s.Total.Ratings != 0 || s.Total.Bad != 0 || s.Total.Appealed != 1 || s.Total.Removed != 1 || s.Total.Verified != 1 || s.Total.SatisfactionRate != nil {
		t.Fatalf("after the upheld appeal %+v", s.Total)
	}
	if g := group(s.Departments, "zjj"); g == nil || g.Ratings != 0 || g.Removed != 1 {
		t.Fatalf("departments %+v", s.Departments)
	}
	rows, err := f.st.ScoreTotals(f.ctx, tongban.ByDepartment, 20261001, 20261031)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Key == "zjj" && r.Ratings != [5]int64{} {
			t.Fatalf("zjj's scorecard still counts the rating: %v", r.Ratings)
		}
	}
	last := f.lastEvent(c)
	if p := payloadOf(t, last); last.Action != "decide_appeal" || last.Actor != "sup" || p["upheld"] != true || last.Reason != "经核实属恶意差评" {
		t.Fatalf("decision event %+v %s", last, last.Payload)
	}
}

// A rejected appeal gives the department its limit again from the
// decision; the 差评 then runs as before.
func TestBadRatingAppealRejected(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.clock(cst(2026, 11, 2, 9, 0))
	if err := f.e.PutMatter(f.ctx, engine.Actor{User: f.admin}, simpleMatter("ZJ-101", true)); err != nil {
		t.Fatal(err)
	}
	c := f.decided(f.apply(cst(2026, 10, 19, 9, 0), f.intake, "ZJ-101"), cst(2026, 10, 19, 10, 0))
	c = f.act(cst(2026, 10, 19, 16, 0), f.intake, c, "rate_visit", map[string]any{"level": 1})
	if c.Step != "rating" || item(t, c, 1).Bad == nil || c.Rating != 0 {
		t.Fatalf("visit rating before the matter's own: step %s rating %d", c.Step, c.Rating)
	}
	c = f.act(cst(2026, 10, 20, 11, 0), f.hZJJ, c, "appeal_rating", map[string]any{"reason": "非本部门原因"})
	c = f.act(cst(2026, 10, 28, 9, 0), f.sup, c, "decide_appeal", map[string]any{"uphold": false, "reason": "差评属实"})
	it := item(t, c, 1)
	if it.Bad.Removed || it.Bad.State() != tongban.BadVerify || !it.Bad.Deadline.Equal(eod(2026, 11, 4)) {
		t.Fatalf("rejected: %+v %s", it.Bad, it.Bad.State())
	}
	if c.NextAlarmAt == nil || c.NextAlarmAt.After(supervise.Overdue(eod(2026, 11, 4))) {
		t.Fatalf("next alarm %v", c.NextAlarmAt)
	}
	_, _, err := f.tryAct(cst(2026, 10, 28, 10, 0), f.hZJJ, c.TrackingCode, "appeal_rating", map[string]any{"reason": "再申诉"})
	wantCode(t, err, tongban.EConflict, "a second appeal")
}

func flagKinds(c *tongban.Case) []string {
	var out []string
	for _, fl := range tongban.CaseFlags(c) {
		out = append(out, fl.Kind)
	}
	return out
}

// Fees recorded on applications are compared with the catalogue version
// the application was filed under.
func TestFeeFlags(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.clock(cst(2026, 10, 19, 18, 0))
	fee := tongban.Fee{Name: "工本费", Amount: "10", LegalBasis: "价费字〔2026〕1号"}
	if err := f.e.PutMatter(f.ctx, engine.Actor{User: f.admin}, simpleMatter("ZJ-200", false, fee)); err != nil {
		t.Fatal(err)
	}
	if err := f.e.PutMatter(f.ctx, engine.Actor{User: f.admin}, simpleMatter("ZJ-201", true)); err != nil {
		t.Fatal(err)
	}
	at := cst(2026, 10, 19, 9, 0)
	c := f.apply(at, f.intake, "ZJ-200")
	c = f.act(at, f.intake, c, "accept", nil)
	c = f.act(at.Add(time.Minute), f.intake, c, "charge_fee", map[string]any{"fee": "工本费", "amount": "10.00"})
	if len(tongban.CaseFlags(c)) != 0 {
		t.Fatalf("a catalogued fee was flagged: %v", flagKinds(c))
	}
	_, _, err := f.tryAct(at, f.intake, c.TrackingCode, "charge_fee", map[string]any{"fee": "工本费", "amount": "-5"})
	wantCode(t, err, tongban.EInvalid, "a negative amount")
	_, _, err = f.tryAct(at, f.intake, c.TrackingCode, "charge_fee", map[string]any{"fee": "工本费", "amount": "1.234"})
	wantCode(t, err, tongban.EInvalid, "three decimals")
	_, _, err = f.tryAct(at, f.hCGJ, c.TrackingCode, "charge_fee", map[string]any{"fee": "工本费", "amount": "5"})
	wantCode(t, err, tongban.ENotFound, "another department charging")
	// A later version of the catalogue does not change what the filed
	// application is held to.
	m2 := simpleMatter("ZJ-200", false, tongban.Fee{Name: "工本费", Amount: "20", LegalBasis: "新标准"})
	if err := f.e.PutMatter(f.ctx, engine.Actor{User: f.admin}, m2); err != nil {
		t.Fatal(err)
	}
	c = f.act(at.Add(2*time.Minute), f.hZJJ, c, "charge_fee", map[string]any{"fee": "工本费", "amount": "15.5"})
	c = f.act(at.Add(3*time.Minute), f.intake, c, "charge_fee", map[string]any{"fee": "加急费", "amount": "50"})
	if got := flagKinds(c); !slices.Equal(got, []string{tongban.FlagFeeOverAmount, tongban.FlagFeeNotInCatalogue}) {
		t.Fatalf("flags %v", got)
	}
	var fees []tongban.Charge
	json.Unmarshal(c.Attrs[tongban.AttrFees], &fees)
	if len(fees) != 3 || fees[1].Amount != "15.50" || fees[1].Catalogued != "10.00" || fees[1].Flag != tongban.FlagFeeOverAmount || fees[2].Catalogued != "" {
		t.Fatalf("fees %+v", fees)
	}
	ev := f.lastEvent(c)
	if p := payloadOf(t, ev); ev.Action != "charge_fee" || p["flag"] != tongban.FlagFeeNotInCatalogue || p["fee"] != "加急费" || p["amount"] != "50.00" {
		t.Fatalf("event %+v %s", ev, ev.Payload)
	}
	free := f.apply(at, f.intake, "ZJ-201")
	free = f.act(at.Add(time.Hour), f.intake, free, "charge_fee", map[string]any{"fee": "工本费", "amount": "0.01"})
	if got := flagKinds(free); !slices.Equal(got, []string{tongban.FlagFeeOnFreeMatter}) {
		t.Fatalf("free matter flags %v", got)
	}
	// The supervision office sees the flags as alarms on the departments:
	// one a case while it is live, however many fees are flagged.
	list, total, err := f.e.Alarms(f.ctx, engine.Actor{User: f.sup}, tongban.AlarmFilter{Scopes: engine.FlagScopes})
	if err != nil || total != 2 {
		t.Fatalf("flag alarms %d %+v %v", total, list, err)
	}
	for _, a := range list {
		if a.Scope != tongban.AlarmScopeFee || a.Colour != tongban.AlarmFlag || a.Dept != "zjj" || a.Kind != tongban.KindApplication {
			t.Fatalf("alarm %+v", a)
		}
	}
	if list, _, _ := f.e.Alarms(f.ctx, engine.Actor{User: f.hCGJ}, tongban.AlarmFilter{Scopes: engine.FlagScopes}); len(list) != 0 {
		t.Fatalf("another department sees %+v", list)
	}
}

// Applications entered after the fact: received, or acted on, more than a
// working day before they were entered.
func TestBackdatedFlags(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	clk := f.clock(cst(2026, 10, 13, 10, 0)) // a Tuesday, after National Day
	if err := f.e.PutMatter(f.ctx, engine.Actor{User: f.admin}, simpleMatter("ZJ-300", true)); err != nil {
		t.Fatal(err)
	}
	form := map[string]json.RawMessage{"project": json.RawMessage(`"补录项目"`), "area": json.RawMessage(`100`), "company": json.RawMessage(`"` + testUSCI + `"`)}
	ap := tongban.Applicant{Type: tongban.ApplicantCompany, Name: "青川建工集团有限公司", USCI: testUSCI, Phone: "13812345678"}
	file := func(received time.Time) *tongban.Case {
		t.Helper()
		c, err := f.e.CreateApplication(f.ctx, engine.Actor{User: f.intake}, engine.NewApplication{Matter: "ZJ-300", Channel: tongban.ChannelWindow,
			Form: form, Applicant: ap, ReceivedAt: received})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// Received Friday 9 Oct, entered Tuesday 13 Oct: 10 Oct (a make-up
	// Saturday) and 12 Oct are two working days in between.
	c := file(cst(2026, 10, 9, 16, 0))
	fl := tongban.CaseFlags(c)
	if len(fl) != 1 || fl[0].Kind != tongban.FlagBackdatedReceipt || fl[0].ActedAt == nil || !fl[0].ActedAt.Equal(cst(2026, 10, 9, 16, 0)) ||
		!fl[0].At.Equal(cst(2026, 10, 13, 10, 0)) || fl[0].By != "intake" || fl[0].Detail == "" {
		t.Fatalf("flags %+v", fl)
	}
	// Received on Monday, entered the next working day: fine.
	if c2 := file(cst(2026, 10, 12, 9, 0)); len(tongban.CaseFlags(c2)) != 0 {
		t.Fatalf("entered within a working day, flagged %v", flagKinds(c2))
	}
	// An action recorded at a time long past.
	c2 := file(time.Time{})
	c2 = f.act(cst(2026, 10, 13, 11, 0), f.intake, c2, "accept", nil)
	if len(tongban.CaseFlags(c2)) != 0 {
		t.Fatalf("a timely action flagged %v", flagKinds(c2))
	}
	advance(clk, 8*24*time.Hour)
	c2 = f.act(cst(2026, 10, 14, 9, 0), f.hZJJ, c2, "opinion", map[string]any{"approve": true})
	if got := flagKinds(c2); !slices.Equal(got, []string{tongban.FlagBackdatedAction}) || tongban.CaseFlags(c2)[0].Action != "opinion" {
		t.Fatalf("back-dated action flags %v", got)
	}
	list, total, err := f.e.Alarms(f.ctx, engine.Actor{User: f.sup}, tongban.AlarmFilter{Scopes: []string{tongban.AlarmScopeBackdated}})
	if err != nil || total != 2 {
		t.Fatalf("backdated alarms %d %+v %v", total, list, err)
	}
	// Automatic acceptance, raised late by the scanner, is no entry.
	c3 := file(time.Time{})
	if _, err := f.e.NewScanner().Tick(f.ctx, cst(2026, 11, 20, 9, 0)); err != nil {
		t.Fatal(err)
	}
	if c3 = f.reload(c3); c3.Step != "review" || len(tongban.CaseFlags(c3)) != 0 {
		t.Fatalf("auto-accepted: step %s flags %v", c3.Step, flagKinds(c3))
	}
}

// pgFixture is the fixture on a fresh PostgreSQL database.
func pgFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := postgres.Open(t.Context(), pgtest.FreshDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newFixtureOn(t, st)
}

// The rectification limit and the after-the-fact threshold come from the
// supervision settings.
func TestRatingSettings(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.clock(cst(2026, 11, 20, 9, 0))
	cfg := supervise.Default()
	cfg.RectifyWorkdays, cfg.BackdateWorkdays = 10, 0
	f.e.Supervision = cfg
	at := cst(2026, 3, 2, 10, 0)
	c := f.replied(f.create(at, tongban.TypeComplaint, "noise"), at)
	c = f.act(cst(2026, 3, 5, 10, 0), nil, c, "rate", map[string]any{"level": 2})
	if d := item(t, c, 1).Bad.Deadline; !d.Equal(eod(2026, 3, 19)) {
		t.Fatalf("10 working days from 5 March: %v", d.In(calendar.Shanghai))
	}
	if err := f.e.PutMatter(f.ctx, engine.Actor{User: f.admin}, simpleMatter("ZJ-400", true)); err != nil {
		t.Fatal(err)
	}
	if a := f.apply(cst(2026, 9, 1, 9, 0), f.intake, "ZJ-400"); len(tongban.CaseFlags(a)) != 0 {
		t.Fatalf("flagged with the check off: %v", flagKinds(a))
	}
}
