package dump_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/dump"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/internal/pgtest"
	"github.com/tongban/tongban/postgres"
	"github.com/tongban/tongban/sqlite"
	"github.com/tongban/tongban/workflow"
)

func openSQLite(t testing.TB) tongban.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openPostgres(t testing.TB) tongban.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), pgtest.FreshDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func tinyPNG(t *testing.T) []byte {
	var b bytes.Buffer
	must(t, png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1))))
	return b.Bytes()
}

const password = "correct horse battery"

// fixture fills a SQLite store through the engine: departments, users, an
// API key, a calendar override, cases acted on (dispatch, accept, reply),
// an attachment and a PII access; then electronic supervision: a
// supervision order, findings, and the alarm scanner run days later, so
// that warnings, yellow and red cards (with the orders red cards open,
// and their own alarms) are raised and scorecard rows counted. It returns
// the store and the case with the longest chain before supervision.
func fixture(t *testing.T) (tongban.Store, *tongban.Case) {
	t.Helper()
	ctx := context.Background()
	st := openSQLite(t)
	e, err := engine.New(ctx, st)
	must(t, err)
	must(t, e.EnsureDefaults(ctx))
	for _, d := range []tongban.Department{
		{Code: "zx", Name: "区指挥中心", Kind: tongban.DeptCentre},
		{Code: "cgj", Name: "城管执法局", Keywords: []string{"违建", "占道"}},
		{Code: "jcs", Name: "监察室", Kind: tongban.DeptSupervision},
	} {
		must(t, e.AddDepartment(ctx, &d))
	}
	user := func(login, dept, roles string) *tongban.User {
		name, pw := "用户"+login, password
		u, err := e.AddUser(ctx, login, engine.UserChange{Name: &name, Dept: &dept, Roles: &roles, Password: &pw})
		must(t, err)
		return u
	}
	disp := user("disp", "zx", "dispatcher,intake")
	h := user("h.cgj", "cgj", "handler")
	_, _, err = e.NewAPIKey(ctx, "市民App")
	must(t, err)
	must(t, e.SetOverride(ctx, tongban.CalendarOverride{Date: "2027-01-01", Off: true, Name: "元旦"}))
	lat, long := 31.2304, 121.4737
	act := func(u *tongban.User, c *tongban.Case, action string, fields map[string]any) *tongban.Case {
		raw := map[string]json.RawMessage{}
		for k, v := range fields {
			b, _ := json.Marshal(v)
			raw[k] = b
		}
		got, _, err := e.Act(ctx, engine.Actor{User: u}, c.TrackingCode, action, raw)
		if err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		return got
	}
	var long3 *tongban.Case
	var cases []*tongban.Case
	for i := range 5 {
		in := engine.NewCase{Type: "投诉", Category: "building", Title: fmt.Sprintf("违章搭建 %d <&>", i), Body: "小区北门有人搭建彩钢棚。\n\"已持续一周\"",
			Requester: tongban.Requester{Name: "张三丰", Phone: "13812345678", Email: "zs@example.com"}, Channel: tongban.ChannelPhone,
			ReceivedAt: time.Date(2025, 3, 3, 9, 1, 7, 123456789, time.UTC)}
		if i%2 == 0 {
			in.Lat, in.Long, in.Address = &lat, &long, "建设路12号"
			in.Uploads = []engine.Upload{{Name: "现场.png", Data: tinyPNG(t)}}
		}
		c, err := e.Create(ctx, engine.Actor{User: disp}, in)
		must(t, err)
		if i >= 1 {
			c = act(disp, c, "dispatch", map[string]any{"department": "cgj"})
		}
		if i >= 2 {
			c = act(h, c, "accept", nil)
		}
		if i >= 3 {
			c = act(h, c, "reply", map[string]any{"text": "已拆除。"})
			long3 = c
		}
		if i == 4 {
			_, err := e.Reveal(ctx, disp, c, "回访")
			must(t, err)
		}
		cases = append(cases, c)
	}

	// Supervision: an order on the case awaiting acceptance, findings.
	sup := user("sup", "jcs", "supervisor")
	act(sup, cases[1], "supervise", map[string]any{"demand": "请于3个工作日内受理并回复", "working_days": 3, "department": "cgj", "instruction": "限期整改"})
	for _, f := range []engine.FindingInput{
		{Kind: "overdue", Reason: "督办后仍未按期办结", Outcome: "通报批评"},
		{Kind: tongban.FindingValidComplaint, Reason: "投诉查实", Person: "h.cgj"},
	} {
		_, err := e.RecordFinding(ctx, engine.Actor{User: sup}, cases[2].TrackingCode, f)
		must(t, err)
	}
	// The scanner, later: the cases run out (alarms, red cards opening
	// orders); later still, the orders run out too.
	s := e.NewScanner()
	for _, days := range []int{40, 80, 120} {
		_, err := s.Tick(ctx, time.Now().AddDate(0, 0, days))
		must(t, err)
	}
	if _, total, err := st.ListAlarms(ctx, tongban.AlarmFilter{}); err != nil || total < 5 {
		t.Fatalf("the scanner raised %d alarms (%v)", total, err)
	}
	// A case closed afterwards (its reply approved, then rated) clears its
	// alarms.
	got, err := e.Get(ctx, engine.Actor{User: disp}, cases[4].TrackingCode)
	must(t, err)
	if got.Step == "review" {
		got = act(user("head.cgj", "cgj", "head"), got, "approve_reply", nil)
	}
	got = act(nil, got, "rate", map[string]any{"level": 2, "comment": "不满意"})
	if got.Step == "rating" { // unsatisfied: the centre closes it
		got = act(disp, got, "close", nil)
	}
	if got.Status != tongban.StatusClosed {
		t.Fatalf("case %d rated: status %s step %s", got.ID, got.Status, got.Step)
	}
	if _, n, err := st.ListAlarms(ctx, tongban.AlarmFilter{State: "cleared"}); err != nil || n == 0 {
		t.Fatalf("no alarm cleared by closing case %d (%v)", got.ID, err)
	}
	// A case received since is watched: it has its next alarm instant.
	fresh, err := e.Create(ctx, engine.Actor{User: disp}, engine.NewCase{Type: "求助", Category: "building", Title: "新件", Body: "b", Channel: tongban.ChannelPhone})
	must(t, err)
	if fresh.NextAlarmAt == nil {
		t.Fatal("a new case has no next alarm instant")
	}
	// The service catalogue: two matters, one changed after an
	// application was filed under its first version (and put in an order
	// other than the codes' bytewise one).
	ms := st.(tongban.MatterStore)
	put := func(code, name string) *tongban.Matter {
		m := &tongban.Matter{Code: code, Name: name, LegalBasis: "《中华人民共和国行政许可法》 \"第二十九条\" <&>", Free: true,
			StatutoryDays: 20, PromisedDays: 10, Lead: "cgj", CreatedBy: "admin",
			Materials: []tongban.Material{{Name: "申请表", Required: true, Form: "original"}},
			Steps:     []tongban.MatterStep{{Name: "审查", Mode: tongban.StepSerial, Departments: []string{"cgj"}, LimitDays: 5}}}
		must(t, m.Validate())
		must(t, ms.PutMatter(ctx, m))
		return m
	}
	put("ZJ-002", "户外广告设施设置许可")
	put("A-01", "临时占用城市道路许可")
	app, err := e.CreateApplication(ctx, engine.Actor{}, engine.NewApplication{Matter: "ZJ-002", Channel: tongban.ChannelWeb,
		Applicant: tongban.Applicant{Type: tongban.ApplicantCompany, Name: "青川广告有限公司", USCI: "91350100M000100Y43", Phone: "13812345678"}})
	must(t, err)
	var am workflow.AppMatter
	if !workflow.GetAttr(app, workflow.AttrMatter, &am) || am.Version != 1 {
		t.Fatalf("application filed under matter version %d, want 1", am.Version)
	}
	if v2 := put("ZJ-002", "户外广告设施设置许可（2025年修订）"); v2.Version != 2 {
		t.Fatalf("second put of ZJ-002 made version %d", v2.Version)
	}
	long3, err = st.Case(ctx, long3.ID)
	must(t, err)
	return st, long3
}

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func dumpOf(t *testing.T, st tongban.Store, at time.Time) []byte {
	t.Helper()
	var b bytes.Buffer
	_, err := dump.Write(context.Background(), st, &b, at)
	must(t, err)
	return b.Bytes()
}

func load(t *testing.T, st tongban.Store, data []byte) *dump.Result {
	t.Helper()
	res, err := dump.Load(context.Background(), st, bytes.NewReader(data))
	must(t, err)
	return res
}

// sameExceptHeader checks two dumps are identical but for the header's
// exported_at.
func sameExceptHeader(t *testing.T, what string, a, b []byte) {
	t.Helper()
	ai, bi := bytes.IndexByte(a, '\n'), bytes.IndexByte(b, '\n')
	if !bytes.Equal(a[ai:], b[bi:]) {
		al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
		for i := range min(len(al), len(bl)) {
			if al[i] != bl[i] {
				t.Fatalf("%s: dumps differ at line %d\n%s\n%s", what, i+1, al[i], bl[i])
			}
		}
		t.Fatalf("%s: dumps differ in length: %d and %d lines", what, len(al), len(bl))
	}
	var ha, hb map[string]any
	must(t, json.Unmarshal(a[:ai], &ha))
	must(t, json.Unmarshal(b[:bi], &hb))
	delete(ha, "exported_at")
	delete(hb, "exported_at")
	if fmt.Sprint(ha) != fmt.Sprint(hb) {
		t.Fatalf("%s: headers differ: %s / %s", what, a[:ai], b[:bi])
	}
}

func TestRoundTripSQLitePostgresSQLite(t *testing.T) {
	src, c := fixture(t)
	a := dumpOf(t, src, t0)
	res, err := dump.Verify(context.Background(), bytes.NewReader(a))
	must(t, err)
	want := dump.Counts{"department": 3, "user": 4, "category": 13, "matter": 3, "calendar_override": 1, "api_key": 1, "attachment": 3, "pii_access": 1, "finding": 2}
	for typ, n := range want {
		if res.Counts[typ] != n {
			t.Fatalf("counts %s, want %s %d", res.Counts, typ, n)
		}
	}
	// Cases: 5 requests and their orders (one opened by the supervisor,
	// one on each red card, the order running out); their events and
	// alarms, scorecard rows.
	if res.Counts["case"] < 7 || res.Counts["event"] < 40 || res.Counts["alarm"] < 20 || res.Counts["score_day"] < 5 || res.Counts["score_month"] < 5 {
		t.Fatalf("counts %s: want orders, alarms and scorecard rows", res.Counts)
	}
	if !bytes.Contains(a, []byte(`"type":"alarm",`)) || !bytes.Contains(a, []byte(`"cleared_at":"`)) || !bytes.Contains(a, []byte(`"cleared_at":null`)) ||
		!bytes.Contains(a, []byte(`"action":"supervise"`)) || !bytes.Contains(a, []byte(`"kind":"task"`)) || !bytes.Contains(a, []byte(`"alarm_red":`)) {
		t.Fatal("the dump lacks cleared and open alarms, a supervision order or red cards")
	}
	if !res.ExportedAt.Equal(t0) {
		t.Fatalf("exported_at %v", res.ExportedAt)
	}
	// Matters by code bytewise, then version, after the categories; the
	// definition is the stored text.
	mi := func(s string) int { return bytes.Index(a, []byte(s)) }
	a1, z1, z2 := mi(`{"type":"matter","code":"A-01","version":1,`), mi(`{"type":"matter","code":"ZJ-002","version":1,`), mi(`{"type":"matter","code":"ZJ-002","version":2,`)
	if a1 < 0 || z1 < a1 || z2 < z1 || mi(`{"type":"category"`) > a1 || mi(`{"type":"calendar_override"`) < z2 {
		t.Fatalf("matter records missing or out of order (%d %d %d)", a1, z1, z2)
	}
	if !bytes.Contains(a, []byte(`"definition":"{\"code\":\"A-01\",\"version\":1,`)) {
		t.Fatal("the matter definition is not the stored JSON text")
	}

	pg := openPostgres(t)
	load(t, pg, a)
	b := dumpOf(t, pg, t0.Add(time.Hour))
	sameExceptHeader(t, "SQLite → PostgreSQL", a, b)

	back := openSQLite(t)
	load(t, back, b)
	sameExceptHeader(t, "PostgreSQL → SQLite", a, dumpOf(t, back, t0))

	// The loaded stores answer the supervision questions as the source
	// does: scorecards by every dimension (month and day rows and the
	// live alarms), the alarm lists, the findings.
	ctx := context.Background()
	answers := func(st tongban.Store) string {
		e, err := engine.New(ctx, st)
		must(t, err)
		sup, err := st.UserByLogin(ctx, "sup")
		must(t, err)
		actor := engine.Actor{User: sup}
		var out []any
		for _, by := range []string{tongban.ByDepartment, tongban.ByPerson, tongban.ByCategory} {
			for _, q := range []engine.ScorecardQuery{
				{From: "2025-01-01", To: "2028-12-31", By: by}, // whole months
				{From: "2025-03-03", To: time.Now().AddDate(0, 3, 0).Format("2006-01-02"), By: by},
				{From: time.Now().AddDate(0, 0, 30).Format("2006-01-02"), To: time.Now().AddDate(0, 0, 45).Format("2006-01-02"), By: by}, // days
			} {
				res, err := e.Scorecards(ctx, actor, q)
				must(t, err)
				out = append(out, res)
			}
			days, err := st.ScoreByDay(ctx, by, "", 20250101, 20281231)
			must(t, err)
			out = append(out, days)
		}
		for _, state := range []string{"", "open", "cleared"} {
			alarms, n, err := e.Alarms(ctx, actor, tongban.AlarmFilter{State: state, Limit: 1000})
			must(t, err)
			out = append(out, n, alarms)
		}
		findings, err := e.Findings(ctx, actor, tongban.FindingFilter{})
		must(t, err)
		out = append(out, findings)
		b, err := json.Marshal(out)
		must(t, err)
		return string(b)
	}
	wantAnswers := answers(src)
	if !strings.Contains(wantAnswers, `"alarm_red":`) || !strings.Contains(wantAnswers, `"valid_complaint"`) {
		t.Fatalf("the source's answers lack red cards or findings: %.500s", wantAnswers)
	}
	for name, st := range map[string]tongban.Store{"PostgreSQL": pg, "SQLite": back} {
		if got := answers(st); got != wantAnswers {
			t.Fatalf("the loaded %s store answers differently\n got %s\nwant %s", name, got, wantAnswers)
		}
	}

	// The loaded stores keep the catalogue: every version, the stored
	// definitions, the application's version; and search finds loaded
	// cases (the derived text index was rebuilt by the load).
	search := func(st tongban.Store, q string) []int64 {
		p, err := st.ListCases(ctx, tongban.CaseFilter{Query: q, Limit: 100})
		must(t, err)
		var ids []int64
		for _, c := range p.Cases {
			ids = append(ids, c.ID)
		}
		slices.Sort(ids)
		return ids
	}
	var appID int64
	for _, q := range []string{"违章搭建", "户外广告"} {
		want := search(src, q)
		if len(want) == 0 {
			t.Fatalf("the source finds nothing for %q", q)
		}
		if q == "户外广告" {
			appID = want[0]
		}
		for name, st := range map[string]tongban.Store{"PostgreSQL": pg, "SQLite": back} {
			if got := search(st, q); !slices.Equal(got, want) {
				t.Fatalf("search %q in the loaded %s store: %v, want %v", q, name, got, want)
			}
		}
	}
	for name, st := range map[string]tongban.Store{"PostgreSQL": pg, "SQLite": back} {
		ms := st.(tongban.MatterStore)
		for _, k := range []tongban.MatterKey{{Code: "A-01", Version: 1}, {Code: "ZJ-002", Version: 1}, {Code: "ZJ-002", Version: 2}} {
			w, err := src.(tongban.MatterStore).Matter(ctx, k.Code, k.Version)
			must(t, err)
			g, err := ms.Matter(ctx, k.Code, k.Version)
			must(t, err)
			gj, err := json.Marshal(g)
			must(t, err)
			wj, err := json.Marshal(w)
			must(t, err)
			if !bytes.Equal(gj, wj) {
				t.Fatalf("%s: matter %v\n got %s\nwant %s", name, k, gj, wj)
			}
		}
		app, err := st.Case(ctx, appID)
		must(t, err)
		var am workflow.AppMatter
		if app.Kind != tongban.KindApplication || !workflow.GetAttr(app, workflow.AttrMatter, &am) || am.Code != "ZJ-002" || am.Version != 1 {
			t.Fatalf("%s: loaded application %d is not filed under ZJ-002 version 1: %+v", name, appID, am)
		}
		if latest, err := ms.Matter(ctx, "ZJ-002", 0); err != nil || latest.Version != 2 {
			t.Fatalf("%s: latest ZJ-002 after load: %+v %v", name, latest, err)
		}
	}

	// The loaded stores work: the chain verifies, logins and API keys still
	// match, new cases get fresh IDs, loaded cases take actions.
	for _, st := range []tongban.Store{pg, back} {
		evs, err := st.Events(ctx, c.ID)
		must(t, err)
		if int64(len(evs)) != c.Version || tongban.VerifyChain(evs) != 0 {
			t.Fatalf("chain of case %d after load: %d events", c.ID, len(evs))
		}
		e, err := engine.New(ctx, st)
		must(t, err)
		_, _, u, err := e.Login(ctx, "h.cgj", password)
		must(t, err)
		nc, err := e.Create(ctx, engine.Actor{User: u}, engine.NewCase{Type: "咨询", Category: "other", Title: "t", Body: "b", Channel: tongban.ChannelPhone})
		must(t, err)
		if nc.ID <= res.Counts["case"] {
			t.Fatalf("new case after load got id %d", nc.ID)
		}
		// Case 3 was accepted and is in hand: it takes the next action.
		c3, err := st.Case(ctx, 3)
		must(t, err)
		if _, ev, err := e.Act(ctx, engine.Actor{User: u}, "3", "request_extension",
			map[string]json.RawMessage{"working_days": json.RawMessage(`3`), "reason": json.RawMessage(`"等材料"`)}); err != nil || ev.Seq != c3.Version+1 {
			t.Fatalf("acting on a loaded case: %v", err)
		}
		// The scanner goes on from the loaded alarms (one raised again
		// would conflict with its loaded row), and a new finding gets a
		// fresh ID.
		if _, err := e.NewScanner().Tick(ctx, time.Now().AddDate(0, 0, 120)); err != nil {
			t.Fatalf("scanning a loaded store: %v", err)
		}
		sup, err := st.UserByLogin(ctx, "sup")
		must(t, err)
		f, err := e.RecordFinding(ctx, engine.Actor{User: sup}, "4", engine.FindingInput{Kind: "other", Reason: "载入后"})
		must(t, err)
		if f.ID <= res.Counts["finding"] {
			t.Fatalf("new finding after load got id %d", f.ID)
		}
	}
}

func TestDumpTwiceIdentical(t *testing.T) {
	src, _ := fixture(t)
	a, b := dumpOf(t, src, t0), dumpOf(t, src, t0.Add(time.Minute))
	sameExceptHeader(t, "dump twice", a, b)
	if bytes.Equal(a, b) {
		t.Fatal("different exported_at gave the same header")
	}
	if !bytes.Equal(a, dumpOf(t, src, t0)) {
		t.Fatal("two dumps at the same exported_at differ")
	}
	// Open cases carry their next alarm instant (electronic supervision).
	if !bytes.Contains(a, []byte(`"next_alarm_at":"`)) {
		t.Error("no case with next_alarm_at in the dump: the supervision fields are not covered")
	}
	// Times have exactly microseconds, in UTC.
	if !bytes.Contains(a, []byte(`"received_at":"2025-03-03T09:01:07.123456Z"`)) {
		t.Fatalf("received_at not written as RFC 3339 UTC with microseconds:\n%s", a)
	}
	if !bytes.HasPrefix(a, []byte(`{"format":"tongban-dump","version":3,"exported_at":"2025-06-01T12:00:00.000000Z"}`+"\n")) {
		t.Fatalf("header: %s", a[:bytes.IndexByte(a, '\n')])
	}
}

func TestGzipFile(t *testing.T) {
	src, _ := fixture(t)
	ctx := context.Background()
	dir := t.TempDir()
	p1, p2 := filepath.Join(dir, "a.jsonl.gz"), filepath.Join(dir, "b.jsonl.gz")
	_, err := dump.WriteFile(ctx, src, p1, nil, t0)
	must(t, err)
	_, err = dump.WriteFile(ctx, src, p2, nil, t0)
	must(t, err)
	b1, _ := os.ReadFile(p1)
	b2, _ := os.ReadFile(p2)
	if !bytes.Equal(b1, b2) || b1[0] != 0x1f {
		t.Fatal("two gzip dumps of the same data at the same exported_at differ (or are not gzip)")
	}
	f, err := dump.Open(p1, nil)
	must(t, err)
	defer f.Close()
	pg := openSQLite(t)
	if _, err := dump.Load(ctx, pg, f); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

// reseal rewrites the end line's checksum so that only the deeper checks
// can catch a change.
func reseal(t *testing.T, data []byte) []byte {
	t.Helper()
	lines := bytes.SplitAfter(data, []byte("\n"))
	lines = lines[:len(lines)-1] // the empty string after the last newline
	end := lines[len(lines)-1]
	sum := sha256.New()
	for _, l := range lines[1 : len(lines)-1] {
		sum.Write(l)
	}
	var e map[string]any
	must(t, json.Unmarshal(end, &e))
	e["sha256"] = hex.EncodeToString(sum.Sum(nil))
	nb, _ := json.Marshal(e)
	lines[len(lines)-1] = append(nb, '\n')
	return bytes.Join(lines, nil)
}

// edit changes the first line with the given prefix through fn.
func edit(t *testing.T, data []byte, prefix string, fn func(line []byte) []byte) []byte {
	t.Helper()
	lines := bytes.SplitAfter(data, []byte("\n"))
	for i, l := range lines {
		if bytes.HasPrefix(l, []byte(prefix)) {
			lines[i] = fn(l)
			return bytes.Join(lines, nil)
		}
	}
	t.Fatalf("no line starting %s", prefix)
	return nil
}

func wantLoadError(t *testing.T, data []byte, caseID int64, contains string) {
	t.Helper()
	for _, verify := range []bool{true, false} {
		var err error
		if verify {
			_, err = dump.Verify(context.Background(), bytes.NewReader(data))
		} else {
			_, err = dump.Load(context.Background(), openSQLite(t), bytes.NewReader(data))
		}
		if err == nil {
			t.Fatalf("verify=%v: a bad dump was accepted", verify)
		}
		var de *dump.Error
		if !errors.As(err, &de) {
			t.Fatalf("verify=%v: error %v is not a *dump.Error", verify, err)
		}
		if caseID != 0 && (de.CaseID != caseID || !strings.Contains(err.Error(), fmt.Sprintf("case %d", caseID))) {
			t.Fatalf("verify=%v: error %q does not name case %d", verify, err, caseID)
		}
		if !strings.Contains(err.Error(), contains) {
			t.Fatalf("verify=%v: error %q does not say %q", verify, err, contains)
		}
		t.Logf("verify=%v: %v", verify, err)
	}
}

func TestTampered(t *testing.T) {
	src, c := fixture(t)
	a := dumpOf(t, src, t0)
	caseLine := fmt.Sprintf(`{"type":"case","id":%d,`, c.ID)
	// An event's hash changed: the chain breaks at that event, naming
	// its case, whether or not the checksum was redone.
	var evPrefix string
	for _, l := range strings.Split(string(a), "\n") {
		if strings.HasPrefix(l, `{"type":"event",`) && strings.Contains(l, fmt.Sprintf(`"case_id":%d,"seq":2,`, c.ID)) {
			evPrefix = l[:strings.Index(l, `"case_id"`)]
		}
	}
	tamperHash := func(l []byte) []byte {
		i := bytes.Index(l, []byte(`"hash":"`)) + len(`"hash":"`)
		l = bytes.Clone(l)
		if l[i] == '0' {
			l[i] = '1'
		} else {
			l[i] = '0'
		}
		return l
	}
	bad := edit(t, a, evPrefix, tamperHash)
	wantLoadError(t, bad, c.ID, "chain broken at seq 2")
	wantLoadError(t, reseal(t, bad), c.ID, "chain broken at seq 2")
	// An event's note altered, checksum redone: its hash no longer matches.
	bad = reseal(t, edit(t, a, evPrefix, func(l []byte) []byte {
		return bytes.Replace(l, []byte(`"actor":"`), []byte(`"actor":"X`), 1)
	}))
	wantLoadError(t, bad, c.ID, "hash does not match its content")
	// A case's version changed: it no longer matches its last event.
	bad = reseal(t, edit(t, a, caseLine, func(l []byte) []byte {
		return bytes.Replace(l, []byte(fmt.Sprintf(`"version":%d,`, c.Version)), []byte(fmt.Sprintf(`"version":%d,`, c.Version+1)), 1)
	}))
	wantLoadError(t, bad, c.ID, "do not match its last event")
	// Any change without resealing fails the checksum.
	bad = edit(t, a, caseLine, func(l []byte) []byte { return bytes.Replace(l, []byte("违章"), []byte("合法"), 1) })
	wantLoadError(t, bad, 0, "checksum mismatch")
	// Counts are checked.
	res, err := dump.Verify(context.Background(), bytes.NewReader(a))
	must(t, err)
	n := res.Counts["case"]
	bad = edit(t, a, `{"type":"end"`, func(l []byte) []byte {
		return bytes.Replace(l, fmt.Appendf(nil, `"case":%d`, n), fmt.Appendf(nil, `"case":%d`, n+1), 1)
	})
	wantLoadError(t, bad, 0, fmt.Sprintf("end line counts %d case records", n+1))
}

// The supervision records are checked too: alarms and findings belong to
// cases in the dump, score rows come in order with real dates, and month
// rows are the sums of their days.
func TestTamperedSupervision(t *testing.T) {
	src, _ := fixture(t)
	a := dumpOf(t, src, t0)
	bad := reseal(t, edit(t, a, `{"type":"alarm","id":`, func(l []byte) []byte {
		return regexpReplace(l, `"case_id":\d+`, `"case_id":4242`)
	}))
	wantLoadError(t, bad, 4242, "belongs to a case not in the dump")
	bad = reseal(t, edit(t, a, `{"type":"finding","id":`, func(l []byte) []byte {
		return regexpReplace(l, `"case_id":\d+`, `"case_id":4243`)
	}))
	wantLoadError(t, bad, 4243, "belongs to a case not in the dump")
	bad = reseal(t, edit(t, a, `{"type":"score_month",`, func(l []byte) []byte {
		return regexpReplace(l, `"received":\d+`, `"received":99`)
	}))
	wantLoadError(t, bad, 0, "is not the sum of its score_day rows")
	bad = reseal(t, edit(t, a, `{"type":"score_day",`, func(l []byte) []byte {
		return regexpReplace(l, `"received":\d+`, `"received":99`)
	}))
	wantLoadError(t, bad, 0, "is not the sum of its score_day rows")
	bad = reseal(t, edit(t, a, `{"type":"score_day",`, func(l []byte) []byte {
		return regexpReplace(l, `"day":\d+`, `"day":20250230`)
	}))
	wantLoadError(t, bad, 0, "is not a day")
	// A month row left out (and the end line's count made to agree).
	res, err := dump.Verify(context.Background(), bytes.NewReader(a))
	must(t, err)
	bad = edit(t, a, `{"type":"score_month",`, func(l []byte) []byte { return nil })
	bad = reseal(t, edit(t, bad, `{"type":"end"`, func(l []byte) []byte {
		n := res.Counts["score_month"]
		return bytes.Replace(l, fmt.Appendf(nil, `"score_month":%d`, n), fmt.Appendf(nil, `"score_month":%d`, n-1), 1)
	}))
	wantLoadError(t, bad, 0, "no score_month row")
	// Two score rows swapped.
	lines := bytes.SplitAfter(a, []byte("\n"))
	for i := range lines {
		if bytes.HasPrefix(lines[i], []byte(`{"type":"score_day",`)) {
			lines[i], lines[i+1] = lines[i+1], lines[i]
			break
		}
	}
	wantLoadError(t, reseal(t, bytes.Join(lines, nil)), 0, "not in (dim, period, key) order")
	// Records of a later version in an older file.
	wantLoadError(t, withVersion(a, 2), 0, `record type "matter" is not part of this file's format version 2`)
	noMatters := edit(t, regexpReplace(a, `(?m)^\{"type":"matter",.*\n`, ``), `{"type":"end"`, func(l []byte) []byte {
		return regexpReplace(l, `"matter":\d+`, `"matter":0`)
	})
	noMatters = reseal(t, noMatters)
	wantLoadError(t, withVersion(noMatters, 1), 0, `record type "alarm" is not part of this file's format version 1`)
	wantLoadError(t, withVersion(a, 4), 0, "version 4 is not supported")
}

// withVersion gives a dump another format version in its header.
func withVersion(data []byte, v int) []byte {
	return regexpReplace(data, `^\{"format":"tongban-dump","version":\d+,`, fmt.Sprintf(`{"format":"tongban-dump","version":%d,`, v))
}

// The matter records are checked: each code's versions run from 1 without
// a gap, codes come in order, and the definition names its code and
// version.
func TestTamperedMatters(t *testing.T) {
	src, _ := fixture(t)
	a := dumpOf(t, src, t0)
	z2 := `{"type":"matter","code":"ZJ-002","version":2,`
	bad := reseal(t, edit(t, a, z2, func(l []byte) []byte {
		return bytes.Replace(l, []byte(`"version":2,`), []byte(`"version":3,`), 1)
	}))
	wantLoadError(t, bad, 0, `matter "ZJ-002" version 3 after version 1: versions must be consecutive`)
	bad = reseal(t, edit(t, a, `{"type":"matter","code":"A-01","version":1,`, func(l []byte) []byte {
		return bytes.Replace(l, []byte(`"version":1,`), []byte(`"version":2,`), 1)
	}))
	wantLoadError(t, bad, 0, `matter "A-01" starts at version 2`)
	// Version 1 of ZJ-002 left out.
	res, err := dump.Verify(context.Background(), bytes.NewReader(a))
	must(t, err)
	bad = edit(t, a, `{"type":"matter","code":"ZJ-002","version":1,`, func([]byte) []byte { return nil })
	bad = reseal(t, edit(t, bad, `{"type":"end"`, func(l []byte) []byte {
		return bytes.Replace(l, fmt.Appendf(nil, `"matter":%d`, res.Counts["matter"]), fmt.Appendf(nil, `"matter":%d`, res.Counts["matter"]-1), 1)
	}))
	wantLoadError(t, bad, 0, "versions must be consecutive from 1")
	// Codes out of order.
	lines := bytes.SplitAfter(a, []byte("\n"))
	for i := range lines {
		if bytes.HasPrefix(lines[i], []byte(`{"type":"matter",`)) {
			lines[i], lines[i+1] = lines[i+1], lines[i]
			break
		}
	}
	wantLoadError(t, reseal(t, bytes.Join(lines, nil)), 0, "not in code order")
	// A definition of another version.
	bad = reseal(t, edit(t, a, z2, func(l []byte) []byte {
		return bytes.Replace(l, []byte(`\"version\":2`), []byte(`\"version\":1`), 1)
	}))
	wantLoadError(t, bad, 0, `the definition names matter "ZJ-002" version 1`)
	bad = reseal(t, edit(t, a, z2, func(l []byte) []byte {
		return regexpReplace(l, `"definition":"(\\.|[^"\\])*"`, `"definition":"{oops"`)
	}))
	wantLoadError(t, bad, 0, "the definition is not a JSON object")
}

func regexpReplace(l []byte, re, with string) []byte {
	return regexp.MustCompile(re).ReplaceAll(l, []byte(with))
}

// Version 1 and 2 files — written before the supervision records and the
// matters were dumped — still load, into either store, and dump back the
// same records.
func TestLoadOlderVersions(t *testing.T) {
	ctx := context.Background()
	src := openSQLite(t)
	must(t, generate(ctx, src, 50))
	v3 := dumpOf(t, src, t0)
	if bytes.Contains(v3, []byte(`"type":"alarm"`)) || bytes.Contains(v3, []byte(`"type":"score_day"`)) || bytes.Contains(v3, []byte(`"type":"matter"`)) {
		t.Fatal("the generated store has supervision records or matters")
	}
	for v, drop := range map[int]string{1: `alarm|finding|score_day|score_month|matter`, 2: `matter`} {
		// The older header, and the end line's counts without the later
		// types.
		old := edit(t, withVersion(v3, v), `{"type":"end"`, func(l []byte) []byte {
			return regexpReplace(l, `"(`+drop+`)":0,`, ``)
		})
		if bytes.Contains(old[bytes.LastIndex(old[:len(old)-1], []byte("\n")):], []byte(`"matter":`)) {
			t.Fatalf("version %d: end line still counts matters", v)
		}
		res, err := dump.Verify(ctx, bytes.NewReader(old))
		must(t, err)
		if res.Counts["case"] != 50 || res.Counts["alarm"] != 0 || res.Counts["matter"] != 0 {
			t.Fatalf("version %d: counts %s", v, res.Counts)
		}
		for _, st := range []tongban.Store{openSQLite(t), openPostgres(t)} {
			load(t, st, old)
			sameExceptHeader(t, fmt.Sprintf("version %d loaded", v), v3, dumpOf(t, st, t0))
		}
	}
}

func TestTruncated(t *testing.T) {
	src, _ := fixture(t)
	a := dumpOf(t, src, t0)
	noEnd := a[:bytes.LastIndexByte(a[:len(a)-1], '\n')+1]
	wantLoadError(t, noEnd, 0, "no end line")
	wantLoadError(t, a[:len(a)/2], 0, "truncated")
	wantLoadError(t, nil, 0, "empty file")
	wantLoadError(t, []byte("hello\n"), 0, "not a tongban dump")
	wantLoadError(t, append(bytes.Clone(a), a...), 0, "data after the end line")
}

func TestLoadRefusesNonEmpty(t *testing.T) {
	src, _ := fixture(t)
	a := dumpOf(t, src, t0)
	_, err := dump.Load(context.Background(), src, bytes.NewReader(a))
	if !errors.Is(err, dump.ErrNotEmpty) {
		t.Fatalf("Load into a non-empty store: %v, want ErrNotEmpty", err)
	}
	pg := openPostgres(t)
	must(t, pg.SetCalendarOverride(context.Background(), tongban.CalendarOverride{Date: "2027-01-01"}))
	if _, err := dump.Load(context.Background(), pg, bytes.NewReader(a)); !errors.Is(err, dump.ErrNotEmpty) {
		t.Fatalf("Load into a non-empty PostgreSQL store: %v, want ErrNotEmpty", err)
	}
}

// A load that fails before its first batch is written leaves the store
// empty; one that fails later says the store must be discarded.
func TestPartialLoadSaysDiscard(t *testing.T) {
	ctx := context.Background()
	src, _ := fixture(t)
	a := dumpOf(t, src, t0)
	noEnd := a[:bytes.LastIndexByte(a[:len(a)-1], '\n')+1]
	st := openSQLite(t)
	_, err := dump.Load(ctx, st, bytes.NewReader(noEnd))
	var de *dump.Error
	if !errors.As(err, &de) || de.Partial {
		t.Fatalf("error %v: want a non-partial error", err)
	}
	if empty, err := st.IsEmpty(ctx); err != nil || !empty {
		t.Fatalf("a small failed load left data behind (empty=%v, %v)", empty, err)
	}

	big := openSQLite(t)
	must(t, generate(ctx, big, 1000))
	b := dumpOf(t, big, t0)
	noEnd = b[:bytes.LastIndexByte(b[:len(b)-1], '\n')+1]
	_, err = dump.Load(ctx, openSQLite(t), bytes.NewReader(noEnd))
	if !errors.As(err, &de) || !de.Partial || !strings.Contains(err.Error(), "must be discarded") {
		t.Fatalf("error %v: want a partial-load error saying to discard the store", err)
	}
}

// A record the store refuses (here a user of an unknown department) fails
// the load with the store's error.
func TestStoreRefusesRecord(t *testing.T) {
	src, _ := fixture(t)
	a := dumpOf(t, src, t0)
	bad := reseal(t, edit(t, a, `{"type":"user"`, func(l []byte) []byte {
		return bytes.Replace(l, []byte(`"dept":"zx"`), []byte(`"dept":"nope"`), 1)
	}))
	if _, err := dump.Verify(context.Background(), bytes.NewReader(bad)); err != nil {
		t.Fatalf("Verify: %v (the file itself is sound)", err)
	}
	for _, st := range []tongban.Store{openSQLite(t), openPostgres(t)} {
		_, err := dump.Load(context.Background(), st, bytes.NewReader(bad))
		var de *dump.Error
		if !errors.As(err, &de) || !de.Partial || !strings.Contains(err.Error(), "writing to the store") {
			t.Fatalf("error %v: want a store error", err)
		}
		t.Log(err)
	}
}

// Past the reader's first block of chains (16384 cases) and several load
// batches: a generated store dumps, verifies and loads.
func TestManyCases(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	ctx := context.Background()
	src := openSQLite(t)
	const n = 1<<14 + 500
	must(t, generate(ctx, src, n))
	a := dumpOf(t, src, t0)
	dst := openPostgres(t)
	res := load(t, dst, a)
	if res.Counts["case"] != n || res.Counts["event"] != 3*n {
		t.Fatalf("counts %s", res.Counts)
	}
	sameExceptHeader(t, "generated store", a, dumpOf(t, dst, t0))
}
