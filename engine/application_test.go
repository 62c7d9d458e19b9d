package engine_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/workflow"
)

// eod is the end of a working day in Shanghai: how working-day deadlines fall.
func eod(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 23, 59, 59, 0, time.FixedZone("CST", 8*3600)).UTC()
}

func testMatter(code string) *tongban.Matter {
	return &tongban.Matter{
		Code: code, Name: "建筑工程施工许可", LegalBasis: "《中华人民共和国建筑法》第七条", Conditions: []string{"已办理用地批准手续"},
		Materials: []tongban.Material{{Name: "施工许可申请表", Required: true, Form: "original", Sample: "申请表样表"}, {Name: "营业执照", Required: true, Form: "copy"}},
		Free:      true, StatutoryDays: 20, PromisedDays: 15, Lead: "zjj",
		Steps: []tongban.MatterStep{
			{Name: "初审", Mode: tongban.StepSerial, Departments: []string{"zjj"}, LimitDays: 3},
			{Name: "并联审查", Mode: tongban.StepParallel, Departments: []string{"cgj", "swj"}, LimitDays: 5},
		},
		Place: "区政务服务中心二楼", Hours: "工作日 9:00-17:30",
		Form: []tongban.FormField{
			{Name: "project", Label: "项目名称", Type: "text", Required: true, MaxLen: 100},
			{Name: "area", Label: "建筑面积", Type: "number", Required: true},
			{Name: "start", Label: "开工日期", Type: "date"},
			{Name: "kind", Label: "工程类别", Type: "select", Options: []string{"房建", "市政"}},
			{Name: "company", Label: "施工单位代码", Type: "usci", Required: true},
			{Name: "manager", Label: "项目经理身份证", Type: "id_card"},
			{Name: "tel", Label: "联系电话", Type: "phone"},
		},
	}
}

const (
	testUSCI = "91350100M000100Y43"
	testID   = "11010519491231002X"
)

func (f *fixture) apply(at time.Time, u *tongban.User, code string) *tongban.Case {
	f.t.Helper()
	form := map[string]json.RawMessage{"project": json.RawMessage(`"青川花园一期"`), "area": json.RawMessage(`12000.5`),
		"company": json.RawMessage(`"` + testUSCI + `"`), "kind": json.RawMessage(`"房建"`)}
	actor := engine.Actor{User: u}
	ch := tongban.ChannelWindow
	if u == nil {
		ch = tongban.ChannelWeb
	}
	c, err := f.e.CreateApplication(engine.WithNow(f.ctx, at), actor, engine.NewApplication{Matter: code, Channel: ch, Form: form,
		Applicant: tongban.Applicant{Type: tongban.ApplicantCompany, Name: "青川建工集团有限公司", USCI: testUSCI, Phone: "13812345678"}})
	if err != nil {
		f.t.Fatalf("CreateApplication: %v", err)
	}
	return c
}

func wantTime(t *testing.T, what string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil || !got.Equal(want) {
		t.Fatalf("%s = %v, want %v", what, got, want.In(time.FixedZone("CST", 8*3600)))
	}
}

func deadlines(c *tongban.Case) (stat, prom *time.Time) {
	return workflow.AttrTime(c, workflow.AttrStatutoryDeadline), workflow.AttrTime(c, workflow.AttrPromisedDeadline)
}

func TestMatterValidation(t *testing.T) {
	m := testMatter("A")
	m.PromisedDays = 21
	if err := m.Validate(); tongban.ErrorCode(err) != tongban.EInvalid {
		t.Errorf("promised > statutory: %v", err)
	}
	m = testMatter("A")
	m.Steps[1].Mode = "sideways"
	if err := m.Validate(); err == nil {
		t.Error("unknown mode accepted")
	}
	m = testMatter("A")
	m.Free = false
	if err := m.Validate(); err == nil {
		t.Error("neither free nor fees accepted")
	}
	m.Fees = []tongban.Fee{{Name: "工本费", Amount: "10.00", LegalBasis: "价格主管部门文件"}}
	if err := m.Validate(); err != nil {
		t.Error(err)
	}
	m = testMatter("A")
	m.Joint, m.StatutoryDays = true, 45
	if err := m.Validate(); err != nil || m.ExtensionDays() != 15 {
		t.Errorf("joint: %v, extension %d", err, m.ExtensionDays())
	}
	m = testMatter("A")
	m.StatutoryDays = 45
	if err := m.Validate(); err == nil {
		t.Error("45 days without joint handling accepted")
	}
}

func TestCheckCharacters(t *testing.T) {
	for _, s := range []string{testUSCI, "91110000100000000G", "91330000MA27U00X6A"} {
		ok := tongban.ValidUSCI(s)
		c := tongban.USCICheck(s[:17])
		if ok != (c == s[17]) {
			t.Errorf("USCI %s: valid=%v check=%c", s, ok, c)
		}
	}
	if !tongban.ValidUSCI(testUSCI) {
		t.Errorf("%s should be valid", testUSCI)
	}
	for _, bad := range []string{"91350100M000100Y44", "91350100M000100YI3", "9135010", "91350100M000100Y4"} {
		if tongban.ValidUSCI(bad) {
			t.Errorf("USCI %s accepted", bad)
		}
	}
	for _, good := range []string{testID, "110101199003074477", "44030419900101001X"} {
		if tongban.IDCardCheck(good[:17]) != good[17] {
			continue // only the known-valid first one must pass
		}
		if !tongban.ValidIDCard(good) {
			t.Errorf("ID %s rejected", good)
		}
	}
	if !tongban.ValidIDCard(testID) || !tongban.ValidIDCard("110101199003074477") {
		t.Error("known valid ID numbers rejected")
	}
	for _, bad := range []string{"110105194912310021", "11010519491331002X", "11010519491231002", "1101051949123100XX"} {
		if tongban.ValidIDCard(bad) {
			t.Errorf("ID %s accepted", bad)
		}
	}
}

// The whole course of an application: 补正, acceptance, serial then
// parallel review with one department late, a suspension for expert
// review, an extension, a decision, delivery and a rating — every
// deadline checked against the official 2026 calendar.
func TestApplicationLifecycle(t *testing.T) {
	f := newFixture(t)
	if err := f.e.PutMatter(f.ctx, engine.Actor{User: f.hZJJ}, testMatter("ZJ-001")); tongban.ErrorCode(err) != tongban.EForbidden {
		t.Fatalf("non-admin PutMatter: %v", err)
	}
	bad := testMatter("ZJ-001")
	bad.Steps[1].Departments = []string{"cgj", "nosuch"}
	if err := f.e.PutMatter(f.ctx, engine.Actor{User: f.admin}, bad); tongban.ErrorCode(err) != tongban.EInvalid {
		t.Fatalf("unknown department: %v", err)
	}
	if err := f.e.PutMatter(f.ctx, engine.Actor{User: f.admin}, testMatter("ZJ-001")); err != nil {
		t.Fatal(err)
	}
	c := f.apply(cst(2026, 9, 22, 10, 0), f.intake, "ZJ-001")
	if c.Kind != tongban.KindApplication || c.Workflow != "application" || c.Step != "intake" || c.Lead != "zjj" {
		t.Fatalf("filed: %+v", c)
	}
	// A second version of the matter does not change the filed application.
	m2 := testMatter("ZJ-001")
	m2.PromisedDays = 10
	if err := f.e.PutMatter(f.ctx, engine.Actor{User: f.admin}, m2); err != nil || m2.Version != 2 {
		t.Fatalf("v2: %v %d", err, m2.Version)
	}
	var am workflow.AppMatter
	workflow.GetAttr(c, workflow.AttrMatter, &am)
	if am.Version != 1 || am.PromisedDays != 15 {
		t.Fatalf("application matter %+v", am)
	}

	// 补正: one complete notice; the applicant supplements online.
	c = f.act(cst(2026, 9, 23, 9, 0), f.intake, c, "request_supplement", map[string]any{"items": []string{"缺少营业执照副本", "申请表未加盖公章"}})
	if c.Step != "supplement" {
		t.Fatal(c.Step)
	}
	if _, _, err := f.tryAct(cst(2026, 9, 23, 10, 0), f.intake, c.TrackingCode, "accept", nil); err == nil {
		t.Fatal("accepted while awaiting supplement")
	}
	got, _, err := f.e.Act(engine.WithNow(f.ctx, cst(2026, 9, 24, 15, 0)), engine.Actor{}, c.TrackingCode, "supplement",
		map[string]json.RawMessage{"text": json.RawMessage(`"已补交营业执照副本和盖章申请表"`)})
	if err != nil {
		t.Fatal(err)
	}
	c = got
	wantTime(t, "intake deadline after supplement", c.StepDeadline, eod(2026, 10, 9))
	if _, _, err := f.tryAct(cst(2026, 9, 24, 16, 0), f.intake, c.TrackingCode, "request_supplement", map[string]any{"items": "再补一次"}); err == nil {
		t.Fatal("a second supplement notice was allowed")
	}

	// Accepted on 2026-09-28: 20 working days (National Day off, 10 Oct a
	// make-up workday) end on 30 Oct; the promised 15 on 23 Oct.
	c = f.act(cst(2026, 9, 28, 10, 0), f.intake, c, "accept", nil)
	stat, prom := deadlines(c)
	wantTime(t, "statutory", stat, eod(2026, 10, 30))
	wantTime(t, "promised", prom, eod(2026, 10, 23))
	if !c.Deadline.Equal(eod(2026, 10, 23)) || c.Step != "review" {
		t.Fatalf("case deadline %v step %s", c.Deadline, c.Step)
	}
	wantTime(t, "stage 1 (zjj, 3 days)", c.StepDeadline, eod(2026, 10, 8))
	if _, _, err := f.tryAct(cst(2026, 9, 29, 10, 0), f.hCGJ, c.TrackingCode, "opinion", map[string]any{"approve": true}); err == nil {
		t.Fatal("cgj answered before its stage")
	}
	c = f.act(cst(2026, 9, 30, 10, 0), f.hZJJ, c, "opinion", map[string]any{"approve": true, "text": "符合规划"})
	if c.Step != "review" {
		t.Fatal(c.Step)
	}
	wantTime(t, "parallel stage (5 days)", c.StepDeadline, eod(2026, 10, 13))
	if p := workflow.PendingDepts(c); len(p) != 2 {
		t.Fatalf("pending %v", p)
	}
	c = f.act(cst(2026, 10, 9, 10, 0), f.hCGJ, c, "opinion", map[string]any{"approve": true})
	if _, _, err := f.tryAct(cst(2026, 10, 9, 11, 0), f.hCGJ, c.TrackingCode, "opinion", map[string]any{"approve": true}); err == nil {
		t.Fatal("a repeated opinion was accepted")
	}
	// swj is late: the scanner raises the step's yellow card.
	sc := f.e.NewScanner()
	if _, err := sc.Tick(f.ctx, cst(2026, 10, 14, 9, 0)); err != nil {
		t.Fatal(err)
	}
	alarms, _, err := f.st.ListAlarms(f.ctx, tongban.AlarmFilter{CaseID: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	yellow := false
	for _, a := range alarms {
		yellow = yellow || a.Scope == tongban.AlarmScopeStep && a.Colour == tongban.AlarmYellow
	}
	if !yellow {
		t.Fatalf("no step yellow card for the late department: %+v", alarms)
	}
	c = f.reload(c)
	c = f.act(cst(2026, 10, 15, 10, 0), f.hSWJ, c, "opinion", map[string]any{"approve": true, "text": "排水方案可行"})
	if c.Step != "decision" {
		t.Fatalf("after the last opinion: %s", c.Step)
	}
	var ops []workflow.Opinion
	workflow.GetAttr(c, workflow.AttrOpinions, &ops)
	if len(ops) != 3 || !ops[2].Late || ops[2].Dept != "swj" || ops[1].Late {
		t.Fatalf("opinions %+v", ops)
	}

	// Expert review suspends the clock for 5 working days (Art. 45).
	c = f.act(cst(2026, 10, 15, 14, 0), f.headZJJ, c, "suspend", map[string]any{"reason": "专家评审", "working_days": 5})
	if c.NextAlarmAt != nil {
		t.Fatalf("suspended case still has an alarm at %v", c.NextAlarmAt)
	}
	if _, _, err := f.tryAct(cst(2026, 10, 16, 10, 0), f.headZJJ, c.TrackingCode, "decide", map[string]any{"grant": true}); err == nil {
		t.Fatal("decided while suspended")
	}
	c = f.act(cst(2026, 10, 22, 9, 0), f.headZJJ, c, "resume", nil)
	stat, prom = deadlines(c)
	wantTime(t, "promised after suspension", prom, eod(2026, 10, 30))
	wantTime(t, "statutory after suspension", stat, eod(2026, 11, 6))
	wantTime(t, "decision step deadline", c.StepDeadline, eod(2026, 10, 30))

	// One extension by 10 working days, approved by the head (Art. 42).
	c = f.act(cst(2026, 10, 26, 9, 0), f.hZJJ, c, "request_extension", map[string]any{"reason": "需现场核查"})
	c = f.act(cst(2026, 10, 26, 11, 0), f.headZJJ, c, "approve_extension", nil)
	stat, prom = deadlines(c)
	wantTime(t, "promised after extension", prom, eod(2026, 11, 13))
	wantTime(t, "statutory after extension", stat, eod(2026, 11, 20))
	if _, _, err := f.tryAct(cst(2026, 10, 27, 9, 0), f.hZJJ, c.TrackingCode, "request_extension", map[string]any{"reason": "再延"}); err == nil {
		t.Fatal("a second extension was allowed")
	}
	evs := f.chain(c)
	if last := evs[len(evs)-1]; last.Reason != "需现场核查" || !last.Public {
		t.Fatalf("extension reason not public: %+v", last)
	}

	if _, _, err := f.tryAct(cst(2026, 10, 28, 9, 0), f.headZJJ, c.TrackingCode, "decide", map[string]any{"grant": false}); tongban.ErrorCode(err) != tongban.EInvalid {
		t.Fatalf("refusal without reasons: %v", err)
	}
	c = f.act(cst(2026, 10, 28, 10, 0), f.headZJJ, c, "decide", map[string]any{"grant": true, "licence_no": "施许字2026-001"})
	if c.Step != "deliver" {
		t.Fatal(c.Step)
	}
	wantTime(t, "delivery deadline (Art. 44)", c.StepDeadline, eod(2026, 11, 11))
	c = f.act(cst(2026, 10, 29, 10, 0), f.intake, c, "deliver", map[string]any{"method": "窗口领取"})
	// At a window, the clerk takes the applicant's rating for them.
	c = f.act(cst(2026, 10, 29, 10, 5), f.intake, c, "rate", map[string]any{"level": 5})
	if c.Status != tongban.StatusClosed || c.Rating != 5 {
		t.Fatalf("closed %s rating %d", c.Status, c.Rating)
	}
	if bad := tongban.VerifyChain(f.chain(c)); bad != 0 {
		t.Fatalf("chain broken at %d", bad)
	}
}

// Nobody answered within 5 working days: the scanner accepts the
// application, dated from its receipt (Art. 32).
func TestAutoAcceptance(t *testing.T) {
	f := newFixture(t)
	if err := f.e.PutMatter(f.ctx, engine.Actor{User: f.admin}, testMatter("ZJ-002")); err != nil {
		t.Fatal(err)
	}
	c := f.apply(cst(2026, 9, 22, 10, 0), nil, "ZJ-002")
	wantTime(t, "intake deadline", c.StepDeadline, eod(2026, 9, 30))
	sc := f.e.NewScanner()
	if _, err := sc.Tick(f.ctx, cst(2026, 9, 30, 23, 0)); err != nil {
		t.Fatal(err)
	}
	if c = f.reload(c); c.Step != "intake" {
		t.Fatalf("accepted early: %s", c.Step)
	}
	if _, err := sc.Tick(f.ctx, cst(2026, 10, 8, 9, 0)); err != nil {
		t.Fatal(err)
	}
	c = f.reload(c)
	if c.Step != "review" {
		t.Fatalf("not accepted automatically: %s", c.Step)
	}
	wantTime(t, "accepted at", workflow.AttrTime(c, workflow.AttrAcceptedAt), cst(2026, 9, 22, 10, 0).UTC())
	stat, _ := deadlines(c)
	wantTime(t, "statutory from receipt", stat, eod(2026, 10, 27))
	evs := f.chain(c)
	var accept *tongban.Event
	for _, ev := range evs {
		if ev.Action == "accept" {
			accept = ev
		}
		if ev.Action == "alarm_yellow" {
			t.Errorf("a yellow card at intake instead of acceptance: %+v", ev)
		}
	}
	if accept == nil || accept.Actor != "system" || accept.Reason == "" {
		t.Fatalf("accept event %+v", accept)
	}
}

// Ten departments answer 50 applications at once: every opinion is
// recorded once and each application moves on exactly once.
func TestConcurrentOpinions(t *testing.T) {
	f := newFixture(t)
	const depts, apps = 10, 50
	codes, users := parallelDistrict(t, f, depts, "P-10")
	cases := make([]*tongban.Case, apps)
	for i := range cases {
		cases[i] = f.act(cst(2026, 9, 28, 9, 0), f.intake, f.apply(cst(2026, 9, 28, 8, 0), f.intake, "P-10"), "accept", nil)
	}
	var wg sync.WaitGroup
	errs := make(chan error, depts*apps*2)
	for _, c := range cases {
		for d := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := f.tryAct(cst(2026, 9, 29, 10, 0), users[d], c.TrackingCode, "opinion", map[string]any{"approve": true})
				if err != nil {
					errs <- fmt.Errorf("%s %s: %w", c.TrackingCode, codes[d], err)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, c := range cases {
		c = f.reload(c)
		if c.Step != "decision" {
			t.Errorf("%s still at %s", c.TrackingCode, c.Step)
		}
		var ops []workflow.Opinion
		workflow.GetAttr(c, workflow.AttrOpinions, &ops)
		seen := map[string]bool{}
		for _, o := range ops {
			if seen[o.Dept] {
				t.Errorf("%s: %s answered twice", c.TrackingCode, o.Dept)
			}
			seen[o.Dept] = true
		}
		if len(seen) != depts {
			t.Errorf("%s: %d opinions", c.TrackingCode, len(seen))
		}
		moves := 0
		for _, ev := range f.chain(c) {
			if ev.Action == "opinion" && ev.ToStep == "decision" {
				moves++
			}
		}
		if moves != 1 {
			t.Errorf("%s moved on %d times", c.TrackingCode, moves)
		}
		if _, _, err := f.tryAct(cst(2026, 9, 29, 11, 0), users[0], c.TrackingCode, "opinion", map[string]any{"approve": true}); err == nil {
			t.Errorf("%s: repeated opinion accepted", c.TrackingCode)
		}
	}
}

func parallelDistrict(t testing.TB, f *fixture, n int, code string) ([]string, []*tongban.User) {
	var codes []string
	var users []*tongban.User
	for i := range n {
		d := tongban.Department{Code: fmt.Sprintf("p%02d", i), Name: fmt.Sprintf("并联部门%d", i)}
		if err := f.e.AddDepartment(f.ctx, &d); err != nil {
			t.Fatal(err)
		}
		codes = append(codes, d.Code)
		users = append(users, f.user("h."+d.Code, d.Code, "handler"))
	}
	m := testMatter(code)
	m.Steps = []tongban.MatterStep{{Name: "并联审查", Mode: tongban.StepParallel, Departments: codes, LimitDays: 5}}
	if err := f.e.PutMatter(f.ctx, engine.Actor{User: f.admin}, m); err != nil {
		t.Fatal(err)
	}
	return codes, users
}
