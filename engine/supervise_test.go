package engine_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/engine"
)

func mustParse(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04:05", s, calendar.Shanghai)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (f *fixture) tick(s *engine.Scanner, now time.Time, want int) {
	f.t.Helper()
	n, err := s.Tick(f.ctx, now)
	if err != nil {
		f.t.Fatalf("Tick(%v): %v", now, err)
	}
	if n != want {
		f.t.Fatalf("Tick(%v) raised %d, want %d", now.In(calendar.Shanghai), n, want)
	}
}

// alarmEvents returns the case's alarm events as "action scope @ time".
func (f *fixture) alarmEvents(id int64) []string {
	f.t.Helper()
	evs, err := f.st.Events(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		if len(e.Action) > 6 && e.Action[:6] == "alarm_" {
			var p struct{ Scope string }
			_ = json.Unmarshal(e.Payload, &p)
			out = append(out, e.Action+" "+p.Scope+" @ "+e.At.In(calendar.Shanghai).Format("2006-01-02 15:04:05"))
		}
	}
	return out
}

func equalStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %q, want %q", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s = %q, want %q", what, got, want)
		}
	}
}

// A complaint received 2026-09-28 10:00 is due 15 working days later,
// after the National Day holiday: 2026-10-23 23:59:59. Its warning falls
// due when its last working day begins, its yellow card the instant after
// the deadline, its red card 3 working days later with an order opened on
// it, and the order running out puts a second red card on the case.
func TestAlarmInstants(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	received := mustParse(t, "2026-09-28 10:00:00")
	c := f.create(received, tongban.TypeComplaint, "building")
	if got := c.Deadline.In(calendar.Shanghai).Format("2006-01-02 15:04:05"); got != "2026-10-23 23:59:59" {
		t.Fatalf("deadline %s", got)
	}
	c = f.act(received.Add(time.Hour), f.disp, c, "dispatch", map[string]any{"department": "cgj"})
	c = f.act(received.Add(2*time.Hour), f.hCGJ, c, "accept", nil)
	if c.NextAlarmAt == nil || !c.NextAlarmAt.Equal(mustParse(t, "2026-10-23 00:00:00")) {
		t.Fatalf("next alarm %v, want the start of 2026-10-23", c.NextAlarmAt)
	}
	s := f.e.NewScanner()
	f.tick(s, mustParse(t, "2026-10-22 23:59:59"), 0)
	f.tick(s, mustParse(t, "2026-10-23 00:00:00"), 1)
	f.tick(s, mustParse(t, "2026-10-23 00:00:05"), 0) // once only
	f.tick(s, mustParse(t, "2026-10-23 23:59:59"), 0)
	f.tick(s, mustParse(t, "2026-10-24 00:00:00"), 1)
	// Red 3 working days after the deadline day: 10-26, 10-27, 10-28.
	f.tick(s, mustParse(t, "2026-10-28 23:59:59"), 0)
	f.tick(s, mustParse(t, "2026-10-29 00:00:00"), 1)
	equalStrings(t, "alarms", f.alarmEvents(c.ID), []string{
		"alarm_warning case @ 2026-10-23 00:00:00",
		"alarm_yellow case @ 2026-10-24 00:00:00",
		"alarm_red case @ 2026-10-29 00:00:00",
	})
	// The red card opened an order on the case for its department.
	orders, err := f.st.ListCases(f.ctx, tongban.CaseFilter{Kind: tongban.KindTask})
	if err != nil {
		t.Fatal(err)
	}
	if orders.Total != 1 {
		t.Fatalf("%d orders after a red card, want 1", orders.Total)
	}
	o := orders.Cases[0]
	if o.Supervises != c.ID || o.Lead != "cgj" || o.Workflow != engine.OrderWorkflow || o.Step != "answer" {
		t.Fatalf("order %+v", o)
	}
	// 3 working days from 10-29: 10-30, 11-02, 11-03.
	if got := o.Deadline.In(calendar.Shanghai).Format("2006-01-02 15:04:05"); got != "2026-11-03 23:59:59" {
		t.Fatalf("order deadline %s", got)
	}
	// The order's own warning, then its yellow card, which puts a red card
	// (scope order) on the case first.
	f.tick(s, mustParse(t, "2026-11-03 00:00:00"), 1)
	f.tick(s, mustParse(t, "2026-11-04 00:00:00"), 2)
	equalStrings(t, "order alarms", f.alarmEvents(o.ID), []string{
		"alarm_warning case @ 2026-11-03 00:00:00",
		"alarm_yellow case @ 2026-11-04 00:00:00",
	})
	equalStrings(t, "case alarms", f.alarmEvents(c.ID)[3:], []string{"alarm_red order @ 2026-11-04 00:00:00"})
	f.tick(s, mustParse(t, "2027-01-01 00:00:00"), 0)

	// The live list, by department and colour, and as a department sees it.
	list, total, err := f.e.Alarms(f.ctx, engine.Actor{User: f.sup}, tongban.AlarmFilter{State: "open", Dept: "cgj", Colour: tongban.AlarmRed})
	if err != nil || total != 2 || len(list) != 2 {
		t.Fatalf("open red alarms of cgj: %d %v", total, err)
	}
	if _, total, _ := f.e.Alarms(f.ctx, engine.Actor{User: f.hZJJ}, tongban.AlarmFilter{State: "open"}); total != 0 {
		t.Fatalf("zjj sees %d of cgj's alarms", total)
	}
	if _, _, err := f.e.Alarms(f.ctx, engine.Actor{User: f.hZJJ}, tongban.AlarmFilter{Dept: "cgj"}); tongban.ErrorCode(err) != tongban.EForbidden {
		t.Fatalf("zjj asking for cgj's alarms: %v", err)
	}
	// Replying stops the department's clock (awaiting the rating); closing clears all.
	c = f.act(mustParse(t, "2026-11-05 10:00:00"), f.hCGJ, c, "reply", map[string]any{"text": "已拆除。"})
	if c.Step == "review" {
		c = f.act(mustParse(t, "2026-11-05 11:00:00"), f.headCGJ, c, "approve_reply", nil)
	}
	if c.NextAlarmAt != nil {
		t.Fatalf("next alarm %v while awaiting the rating", c.NextAlarmAt)
	}
	c = f.act(mustParse(t, "2026-11-05 12:00:00"), f.disp, c, "close", nil)
	if _, total, _ := f.e.Alarms(f.ctx, engine.Actor{User: f.sup}, tongban.AlarmFilter{State: "open", CaseID: c.ID}); total != 0 {
		t.Fatalf("%d alarms open on a closed case", total)
	}
	f.chain(c)
}

func TestNoAlarmsForClosedCases(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	received := mustParse(t, "2026-09-28 10:00:00")
	c := f.create(received, tongban.TypeConsultation, "other")
	c = f.act(received.Add(time.Minute), f.intake, c, "reply", map[string]any{"text": "请携带身份证到窗口办理。"})
	c = f.act(received.Add(2*time.Minute), f.disp, c, "close", nil)
	if c.NextAlarmAt != nil {
		t.Fatalf("closed case has next alarm %v", c.NextAlarmAt)
	}
	f.tick(f.e.NewScanner(), mustParse(t, "2027-06-01 00:00:00"), 0)
	if got := f.alarmEvents(c.ID); len(got) != 0 {
		t.Fatalf("alarms on a closed case: %q", got)
	}
}

// An approved extension moves the deadline, so the warning raised for the
// old deadline is cleared and a new one falls due before the new deadline.
func TestAlarmsMoveAfterExtension(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	received := mustParse(t, "2026-09-28 10:00:00")
	c := f.create(received, tongban.TypeComplaint, "building")
	c = f.act(received.Add(time.Hour), f.disp, c, "dispatch", map[string]any{"department": "cgj"})
	c = f.act(received.Add(2*time.Hour), f.hCGJ, c, "accept", nil)
	s := f.e.NewScanner()
	f.tick(s, mustParse(t, "2026-10-23 09:00:00"), 1) // warning for 10-23
	c = f.act(mustParse(t, "2026-10-23 10:00:00"), f.hCGJ, c, "request_extension", map[string]any{"working_days": 5, "reason": "需要协调规划部门"})
	c = f.act(mustParse(t, "2026-10-23 11:00:00"), f.headCGJ, c, "approve_extension", nil)
	if got := c.Deadline.In(calendar.Shanghai).Format("2006-01-02 15:04:05"); got != "2026-10-30 23:59:59" {
		t.Fatalf("extended deadline %s", got)
	}
	if c.NextAlarmAt == nil || !c.NextAlarmAt.Equal(mustParse(t, "2026-10-30 00:00:00")) {
		t.Fatalf("next alarm %v, want 2026-10-30 00:00", c.NextAlarmAt)
	}
	if _, n, _ := f.e.Alarms(f.ctx, engine.Actor{User: f.sup}, tongban.AlarmFilter{State: "open", CaseID: c.ID}); n != 0 {
		t.Fatalf("%d alarms still open after the deadline moved", n)
	}
	f.tick(s, mustParse(t, "2026-10-24 00:00:00"), 0) // no yellow for the old deadline
	f.tick(s, mustParse(t, "2026-10-30 00:00:00"), 1)
	f.tick(s, mustParse(t, "2026-10-31 00:00:00"), 1)
	equalStrings(t, "alarms", f.alarmEvents(c.ID), []string{
		"alarm_warning case @ 2026-10-23 09:00:00",
		"alarm_warning case @ 2026-10-30 00:00:00",
		"alarm_yellow case @ 2026-10-31 00:00:00",
	})
}

// Step limits are watched too: a request left undispatched past its
// one-day dispatch limit gets a step warning and yellow card.
func TestStepAlarms(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	received := mustParse(t, "2026-09-28 10:00:00") // Monday: dispatch due end of Tuesday
	c := f.create(received, tongban.TypeHelp, "road")
	s := f.e.NewScanner()
	f.tick(s, mustParse(t, "2026-09-29 00:00:00"), 1)
	f.tick(s, mustParse(t, "2026-09-30 00:00:00"), 1)
	equalStrings(t, "alarms", f.alarmEvents(c.ID), []string{
		"alarm_warning step @ 2026-09-29 00:00:00",
		"alarm_yellow step @ 2026-09-30 00:00:00",
	})
	// Dispatching moves to a new step: the step alarms are cleared, and
	// the centre's (zx) cards no longer count as open.
	f.act(mustParse(t, "2026-09-30 09:00:00"), f.disp, c, "dispatch", map[string]any{"department": "cgj"})
	if _, n, _ := f.e.Alarms(f.ctx, engine.Actor{User: f.sup}, tongban.AlarmFilter{State: "open", CaseID: c.ID}); n != 0 {
		t.Fatalf("%d step alarms open after the step ended", n)
	}
	if _, n, _ := f.e.Alarms(f.ctx, engine.Actor{User: f.sup}, tongban.AlarmFilter{Dept: "zx", CaseID: c.ID}); n != 2 {
		t.Fatalf("the dispatch step's alarms belong to the centre: %d", n)
	}
}

// Two scanners on one store, ticking at once, raise each alarm once.
func TestScannersRaiseOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	scannersOnce(t, f.ctx, f.e, f.e, f.intake)
}

func scannersOnce(t *testing.T, ctx context.Context, e1, e2 *engine.Engine, intake *tongban.User) {
	received := mustParse(t, "2026-09-28 10:00:00")
	var ids []int64
	for i := range 60 {
		c, err := e1.Create(engine.WithNow(ctx, received.Add(time.Duration(i)*time.Second)), engine.Actor{User: intake}, engine.NewCase{
			Type: tongban.TypeHelp, Category: "road", Title: "路灯不亮", Body: "路灯坏了。", Requester: tongban.Requester{Phone: "13812345678"}, Channel: tongban.ChannelPhone})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	now := mustParse(t, "2026-09-30 00:00:00") // step warning and yellow both due
	s1, s2 := e1.NewScanner(), e2.NewScanner()
	s1.Batch, s2.Batch = 7, 7 // many small claims, to interleave
	var wg sync.WaitGroup
	var n1, n2 int
	var err1, err2 error
	wg.Add(2)
	go func() { defer wg.Done(); n1, err1 = s1.Tick(ctx, now) }()
	go func() { defer wg.Done(); n2, err2 = s2.Tick(ctx, now) }()
	wg.Wait()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if n1+n2 != 2*len(ids) {
		t.Fatalf("raised %d+%d, want %d", n1, n2, 2*len(ids))
	}
	for _, id := range ids {
		evs, err := e1.Store.Events(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 3 || evs[1].Action != "alarm_warning" || evs[2].Action != "alarm_yellow" || tongban.VerifyChain(evs) != 0 {
			t.Fatalf("case %d events %d", id, len(evs))
		}
	}
	if _, total, _ := e1.Store.ListAlarms(ctx, tongban.AlarmFilter{State: "open"}); total != 2*len(ids) {
		t.Fatalf("%d open alarm rows, want %d", total, 2*len(ids))
	}
}

// A scanner killed mid-scan leaves its claims leased; the next scanner
// raises the rest once the lease ends, and nothing twice.
func TestScannerKilledMidScan(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	received := mustParse(t, "2026-09-28 10:00:00")
	for range 40 {
		f.create(received, tongban.TypeHelp, "road")
	}
	now := mustParse(t, "2026-09-29 00:00:00")
	s1 := f.e.NewScanner()
	s1.Workers, s1.MaxPerTick = 1, 5 // claims all 40, raises 5, "dies"
	n1, _ := s1.Tick(f.ctx, now)
	s2 := f.e.NewScanner()
	f.tick(s2, now.Add(time.Second), 0) // the dead scanner's claims are leased
	n2, err := s2.Tick(f.ctx, now.Add(s1.Lease))
	if err != nil {
		t.Fatal(err)
	}
	if n1+n2 != 40 || n1 == 0 || n2 == 0 {
		t.Fatalf("raised %d then %d, want 40 in all", n1, n2)
	}
	if _, total, _ := f.st.ListAlarms(f.ctx, tongban.AlarmFilter{}); total != 40 {
		t.Fatalf("%d alarm rows, want 40", total)
	}
}

// A supervisor opens an order on a request; the department answers; the
// supervisor escalates, then accepts. A finding is recorded and counted.
func TestSupervisionOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	at := mustParse(t, "2026-09-28 10:00:00")
	c := f.create(at, tongban.TypeComplaint, "building")
	c = f.act(at.Add(time.Hour), f.disp, c, "dispatch", map[string]any{"department": "cgj"})
	_, _, err := f.tryAct(at.Add(2*time.Hour), f.disp, c.TrackingCode, "supervise", map[string]any{"demand": "x", "working_days": 3, "department": "cgj"})
	wantCode(t, err, tongban.EForbidden, "a dispatcher supervising")
	got, ev, err := f.tryAct(at.Add(2*time.Hour), f.sup, c.TrackingCode, "supervise",
		map[string]any{"demand": "请于3个工作日内拆除并回复", "working_days": 3, "department": "cgj", "instruction": "限期整改"})
	if err != nil {
		t.Fatal(err)
	}
	var p struct{ Order string }
	_ = json.Unmarshal(ev.Payload, &p)
	o, err := f.st.CaseByCode(f.ctx, p.Order)
	if err != nil {
		t.Fatalf("order %q: %v", p.Order, err)
	}
	if o.Kind != tongban.KindTask || o.Supervises != got.ID || o.ParentID != got.ID || o.Lead != "cgj" || o.Step != "answer" {
		t.Fatalf("order %+v", o)
	}
	if d := o.Deadline.In(calendar.Shanghai).Format("2006-01-02 15:04:05"); d != "2026-10-08 23:59:59" {
		t.Fatalf("order deadline %s", d) // 09-29, 09-30, then 10-08 after the National Day holiday
	}
	if o.NextAlarmAt == nil {
		t.Fatal("order is not watched")
	}
	if _, _, err := f.tryAct(at.Add(3*time.Hour), f.hZJJ, o.TrackingCode, "answer", map[string]any{"text": "x"}); err == nil {
		t.Fatal("another department answered the order")
	}
	o = f.act(at.Add(3*time.Hour), f.hCGJ, o, "answer", map[string]any{"text": "已安排拆除。"})
	o = f.act(at.Add(4*time.Hour), f.sup, o, "escalate", map[string]any{"reason": "答复不具体", "working_days": 2})
	if o.Step != "answer" || o.Deadline.In(calendar.Shanghai).Format("2006-01-02") != "2026-09-30" {
		t.Fatalf("escalated order step %s deadline %v", o.Step, o.Deadline)
	}
	o = f.act(at.Add(5*time.Hour), f.hCGJ, o, "answer", map[string]any{"text": "已于今日拆除，附照片。"})
	o = f.act(at.Add(6*time.Hour), f.sup, o, "accept_answer", nil)
	if o.Status != tongban.StatusClosed || o.NextAlarmAt != nil {
		t.Fatalf("accepted order %s %v", o.Status, o.NextAlarmAt)
	}
	f.chain(o)

	fd, err := f.e.RecordFinding(engine.WithNow(f.ctx, at.Add(7*time.Hour)), engine.Actor{User: f.sup}, c.TrackingCode,
		engine.FindingInput{Kind: "overdue", Reason: "督办后仍未按期办结", Outcome: "通报批评"})
	if err != nil {
		t.Fatal(err)
	}
	if fd.Dept != "cgj" {
		t.Fatalf("finding against %q", fd.Dept)
	}
	if _, err := f.e.RecordFinding(f.ctx, engine.Actor{User: f.headCGJ}, c.TrackingCode, engine.FindingInput{Kind: "overdue", Reason: "x"}); tongban.ErrorCode(err) != tongban.EForbidden {
		t.Fatalf("a head recording a finding: %v", err)
	}
	res, err := f.e.Scorecards(f.ctx, engine.Actor{User: f.leader}, engine.ScorecardQuery{From: "2026-09-01", To: "2026-09-30", By: "department"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Rows {
		if r.Key == "cgj" && (r.Orders != 1 || r.Findings != 1 || r.Received != 1) {
			t.Fatalf("cgj scorecard %+v", r)
		}
	}
	if _, err := f.e.Scorecards(f.ctx, engine.Actor{User: f.hCGJ}, engine.ScorecardQuery{From: "2026-09-01", To: "2026-09-30"}); tongban.ErrorCode(err) != tongban.EForbidden {
		t.Fatalf("a handler reading scorecards: %v", err)
	}
	f.chain(f.reload(c))
}
