package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/demo/corpus"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/sqlite"
)

// routeDepts are the departments the seeded history is handled by; their
// requests are told apart by what they are about (wages, water, schools),
// and none has keywords, so the keyword rules cannot route them.
var routeDepts = []string{"rsj", "swj", "jyj"}

// seedClosedHistory files requests through the engine of a store in dir
// and closes them, each handled by the department its text is about: 12
// per department, one of them first sent to the wrong department, which
// returned it. It also files one open request and one closed without a
// department (neither may be trained on). It returns how many closed
// requests have a department.
func seedClosedHistory(t *testing.T, e *engine.Engine) int {
	t.Helper()
	ctx := context.Background()
	if err := e.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.AddDepartment(ctx, &tongban.Department{Code: "zx", Name: "区指挥中心", Kind: tongban.DeptCentre}); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, d := range corpus.Departments() {
		names[d.Code] = d.Name
	}
	user := func(login, dept, roles string) *tongban.User {
		name, pw := login, "route-test-password"
		u, err := e.AddUser(ctx, login, engine.UserChange{Name: &name, Dept: &dept, Roles: &roles, Password: &pw})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	intake, disp := user("intake", "zx", "intake"), user("disp", "zx", "dispatcher")
	head := map[string]*tongban.User{}
	for _, d := range routeDepts {
		if err := e.AddDepartment(ctx, &tongban.Department{Code: d, Name: names[d]}); err != nil {
			t.Fatal(err)
		}
		head[d] = user("head."+d, d, "head,handler")
	}
	at := time.Now().AddDate(0, 0, -60)
	act := func(c *tongban.Case, u *tongban.User, action string, fields map[string]string) *tongban.Case {
		t.Helper()
		raw := map[string]json.RawMessage{}
		for k, v := range fields {
			raw[k], _ = json.Marshal(v)
		}
		at = at.Add(time.Hour)
		got, _, err := e.Act(engine.WithNow(ctx, at), engine.Actor{User: u}, c.TrackingCode, action, raw)
		if err != nil {
			t.Fatalf("%s on %s (%s): %v", action, c.TrackingCode, c.Step, err)
		}
		return got
	}
	g := corpus.NewGenerator(11)
	want := map[string]int{"rsj": 12, "swj": 12, "jyj": 12}
	closed, returned := 0, false
	for closed < 36 {
		r := g.Request()
		if want[r.Dept] == 0 {
			continue
		}
		want[r.Dept]--
		at = at.Add(time.Hour)
		c, err := e.Create(engine.WithNow(ctx, at), engine.Actor{User: intake}, engine.NewCase{Type: r.Type, Category: r.Category, Title: r.Title, Body: r.Body,
			Requester: tongban.Requester{Name: r.Name, Phone: r.Phone}, Channel: tongban.ChannelPhone})
		if err != nil {
			t.Fatal(err)
		}
		if !returned && r.Dept == "rsj" { // 退单: the water office gets it first
			c = act(c, disp, "dispatch", map[string]string{"department": "swj"})
			c = act(c, head["swj"], "return", map[string]string{"reason": "不属于本单位职责"})
			returned = true
		}
		c = act(c, disp, "dispatch", map[string]string{"department": r.Dept})
		c = act(c, head[r.Dept], "accept", nil)
		c = act(c, head[r.Dept], "reply", map[string]string{"text": "已核实处理，答复如下。"})
		if c.Step == "review" {
			c = act(c, head[r.Dept], "approve_reply", nil)
		}
		c = act(c, disp, "close", map[string]string{"reason": "群众未在规定时间内评价，按期办结"})
		if c.Status != tongban.StatusClosed || c.First != r.Dept {
			t.Fatalf("seeded case %s: status %s, first department %q, want closed by %s", c.TrackingCode, c.Status, c.First, r.Dept)
		}
		closed++
	}
	// Neither of these is training material.
	for i, close := range []bool{true, false} {
		c, err := e.Create(engine.WithNow(ctx, at.Add(time.Duration(i)*time.Minute)), engine.Actor{User: intake}, engine.NewCase{Type: tongban.TypeConsultation, Category: "other",
			Title: "咨询事项", Body: "请问办事大厅几点下班？", Requester: tongban.Requester{Phone: "13800000000"}, Channel: tongban.ChannelPhone})
		if err != nil {
			t.Fatal(err)
		}
		if close {
			act(c, disp, "close", map[string]string{"reason": "已电话答复"})
		}
	}
	return closed
}

// probes are new requests (not in the history) with the department that
// should handle them.
var probes = []struct{ dept, title, body string }{
	{"rsj", "工地老板拖欠农民工工资", "我们在工地干了半年活，老板一直拖欠工资不发，社保也没有缴纳，请劳动监察帮我们讨薪。"},
	{"swj", "小区停水三天", "我们小区已经停水三天了，自来水管爆管一直没有修好，水压也很低，生活用水非常困难。"},
	{"jyj", "孩子入学学位问题", "孩子今年要上小学，学区内的学校说学位已满，招生政策也没有公开，请教育部门给个说法。"},
}

// checkRouting asserts that e routes every probe to its department first.
func checkRouting(t *testing.T, e *engine.Engine, what string) {
	t.Helper()
	for _, p := range probes {
		sg, err := e.Text.Suggest(context.Background(), p.title, p.body)
		if err != nil {
			t.Fatal(err)
		}
		if len(sg) == 0 || sg[0].Department != p.dept || sg[0].Confidence <= 0 {
			t.Errorf("%s: %q routed to %+v, want %s first", what, p.title, sg, p.dept)
		}
	}
}

// `tongban route retrain` trains on the district's own closed history
// and writes both models; a fresh instance loads them and routes new
// requests to the departments that handled such requests before, and a
// running instance picks them up without a restart.
func TestRouteRetrainFromClosedHistory(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db := filepath.Join(dir, "tongban.db")
	st, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	closed := seedClosedHistory(t, e)
	st.Close()

	// An instance running before the retrain routes by keyword rules.
	st, err = sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	running, err := engine.New(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	running.Text.ModelDir = dir
	if err := running.Text.LoadModels(); err != nil || running.Text.Trained() {
		t.Fatalf("before any retrain: trained %v, %v", running.Text.Trained(), err)
	}
	if ok, err := running.Text.ReloadModels(); ok || err != nil {
		t.Fatalf("reload without model files: %v %v", ok, err)
	}

	out := mustCLI(t, "", "route", "retrain", "--data", dir)
	m := regexp.MustCompile(`trained on (\d+) closed requests: (\d+) departments, (\d+) categories`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("route retrain printed %q", out)
	}
	if n, _ := strconv.Atoi(m[1]); n != closed {
		t.Errorf("trained on %s closed requests, want %d (the open one and the one closed without a department left out)", m[1], closed)
	}
	if n, _ := strconv.Atoi(m[3]); m[2] != strconv.Itoa(len(routeDepts)) || n < 3 {
		t.Errorf("labels: %s departments, %s categories; want %d and at least 3 (labour, water, education)", m[2], m[3], len(routeDepts))
	}
	for _, name := range []string{engine.DeptModelFile, engine.CatModelFile} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Fatalf("%s not written: %v", name, err)
		}
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".route-*")); len(tmp) != 0 {
		t.Errorf("temporary files left behind: %v", tmp)
	}

	// A fresh instance loads the models at start.
	fresh, err := engine.New(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	fresh.Text.ModelDir = dir
	if err := fresh.Text.LoadModels(); err != nil || !fresh.Text.Trained() {
		t.Fatalf("fresh instance: trained %v, %v", fresh.Text.Trained(), err)
	}
	checkRouting(t, fresh, "fresh instance")
	sg, err := fresh.Text.Suggest(ctx, probes[1].title, probes[1].body)
	if err != nil || len(sg) == 0 || sg[0].Category != "water" || len(sg[0].Because) == 0 {
		t.Errorf("water probe: %+v %v; want category water with the words that decided it", sg, err)
	}

	// The running instance swaps the new models in at its next check.
	if ok, err := running.Text.ReloadModels(); !ok || err != nil || !running.Text.Trained() {
		t.Fatalf("running instance after the retrain: reloaded %v, trained %v, %v", ok, running.Text.Trained(), err)
	}
	checkRouting(t, running, "running instance")
	if ok, err := running.Text.ReloadModels(); ok || err != nil {
		t.Errorf("reloaded unchanged model files: %v %v", ok, err)
	}

	// Too little history is an error, not an empty model.
	empty := t.TempDir()
	mustCLI(t, "", "dept", "add", "zx", "指挥中心", "--kind", "centre", "--data", empty)
	if out, err := runCLI(t, "", "route", "retrain", "--data", empty); err == nil {
		t.Errorf("retrain on an empty store succeeded: %q", out)
	}
	if _, err := os.Stat(filepath.Join(empty, engine.DeptModelFile)); !os.IsNotExist(err) {
		t.Errorf("a model was written without history: %v", err)
	}
}

// serve --retrain-interval retrains on schedule and puts the models in
// force and on disk.
func TestScheduledRetrain(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(filepath.Join(dir, "tongban.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e, err := engine.New(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	seedClosedHistory(t, e)
	e.Text.ModelDir = dir
	f := &textFlags{retrainInterval: 50 * time.Millisecond, modelCheck: time.Hour, catchUp: time.Hour}
	wait := f.start(ctx, e, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer wait()
	defer cancel()
	deadline := time.Now().Add(30 * time.Second)
	for !e.Text.Trained() {
		if time.Now().After(deadline) {
			t.Fatal("no retrain within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	checkRouting(t, e, "after the scheduled retrain")
	if _, err := os.Stat(filepath.Join(dir, engine.DeptModelFile)); err != nil {
		t.Errorf("the scheduled retrain wrote no model: %v", err)
	}
}
