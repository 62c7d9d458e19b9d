package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/sqlite"
)

func runCLI(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, args, strings.NewReader(stdin), &out)
	return out.String(), err
}

func mustCLI(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := runCLI(t, stdin, args...)
	if err != nil {
		t.Fatalf("tongban %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func TestWorkdaysKnownDates(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{"workdays add 2026-09-28 5", "2026-10-10"},
		{"workdays add 2026-02-13 1", "2026-02-14"},
		{"workdays add 2026-09-28 +5", "2026-10-10"},
		{"workdays add 2026-09-28 0", "2026-09-28"},
		{"workdays between 2026-09-28 2026-10-10", "5"},
		{"workdays between 2026-10-10 2026-09-28", "-5"},
	} {
		if got := strings.TrimSpace(mustCLI(t, "", strings.Fields(tc.args)...)); got != tc.want {
			t.Errorf("tongban %s = %q, want %q", tc.args, got, tc.want)
		}
	}
	for _, bad := range []string{"workdays add 2026-02-30 1", "workdays add 2026-09-28 five", "workdays add 2026-09-28 5000", "workdays add 2026-09-28", "workdays add 2026-09-28 1.5", "workdays between 2026-01-01 soon"} {
		if out, err := runCLI(t, "", strings.Fields(bad)...); err == nil {
			t.Errorf("tongban %s succeeded: %q", bad, out)
		}
	}
}

// TestWorkdaysAgreesWithCalendar checks the CLI against the calendar
// package on random dates, forwards, backwards and between.
func TestWorkdaysAgreesWithCalendar(t *testing.T) {
	cal := calendar.Default()
	rng := rand.New(rand.NewPCG(2026, 928))
	first := time.Date(2019, 1, 1, 0, 0, 0, 0, calendar.Shanghai)
	span := int(time.Date(2026, 12, 31, 0, 0, 0, 0, calendar.Shanghai).Sub(first).Hours()/24) + 1
	type sample struct {
		a, b time.Time
		n    int
	}
	samples := make([]sample, 300)
	for i := range samples {
		samples[i] = sample{a: first.AddDate(0, 0, rng.IntN(span)), b: first.AddDate(0, 0, rng.IntN(span)), n: 1 + rng.IntN(60)}
	}
	day := func(t time.Time) string { return t.Format("2006-01-02") }
	t.Run("add forward", func(t *testing.T) {
		for _, s := range samples {
			want := day(cal.AddWorkdays(s.a, s.n))
			if got := strings.TrimSpace(mustCLI(t, "", "workdays", "add", day(s.a), fmt.Sprint(s.n))); got != want {
				t.Fatalf("workdays add %s %d = %s, calendar says %s", day(s.a), s.n, got, want)
			}
		}
	})
	t.Run("add backward", func(t *testing.T) {
		// The usage promises "N may be negative"; -5 must not be taken for a flag.
		for _, s := range samples {
			want := day(cal.AddWorkdays(s.a, -s.n))
			out, err := runCLI(t, "", "workdays", "add", day(s.a), fmt.Sprint(-s.n))
			if err != nil {
				t.Fatalf("workdays add %s %d: %v (cmd/tongban/main.go parse() treats a negative number as a flag)", day(s.a), -s.n, err)
			}
			if got := strings.TrimSpace(out); got != want {
				t.Fatalf("workdays add %s %d = %s, calendar says %s", day(s.a), -s.n, got, want)
			}
		}
	})
	t.Run("between", func(t *testing.T) {
		for _, s := range samples {
			for _, p := range [][2]time.Time{{s.a, s.b}, {s.b, s.a}} {
				want := fmt.Sprint(cal.WorkdaysBetween(p[0], p[1]))
				if got := strings.TrimSpace(mustCLI(t, "", "workdays", "between", day(p[0]), day(p[1]))); got != want {
					t.Fatalf("workdays between %s %s = %s, calendar says %s", day(p[0]), day(p[1]), got, want)
				}
			}
		}
	})
}

func TestFlagsBeforeAndAfterArguments(t *testing.T) {
	dir := t.TempDir()
	out := mustCLI(t, "", "dept", "add", "--data", dir, "cgj", "城管执法局")
	if !strings.Contains(out, "cgj") {
		t.Errorf("dept add output %q", out)
	}
	mustCLI(t, "", "dept", "add", "zjj", "住建局", "--data", dir)
	mustCLI(t, "", "dept", "add", "jd1", "东城街道", "--kind", "street", "--data", dir, "--parent", "zjj")
	mustCLI(t, "", "dept", "add", "--data="+dir, "zx", "--kind=centre", "指挥中心")
	if _, err := runCLI(t, "", "dept", "add", "cgj", "重复", "--data", dir); err == nil {
		t.Error("duplicate department accepted")
	}
	if _, err := runCLI(t, "", "dept", "add", "bad code", "名称", "--data", dir); err == nil {
		t.Error("invalid department code accepted")
	}
	if _, err := runCLI(t, "", "dept", "add", "only-code", "--data", dir); err == nil {
		t.Error("dept add with one argument accepted")
	}
	st, err := sqlite.Open(filepath.Join(dir, "tongban.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	for code, want := range map[string]tongban.Department{
		"cgj": {Name: "城管执法局", Kind: tongban.DeptBureau},
		"zjj": {Name: "住建局", Kind: tongban.DeptBureau},
		"jd1": {Name: "东城街道", Kind: tongban.DeptStreet, Parent: "zjj"},
		"zx":  {Name: "指挥中心", Kind: tongban.DeptCentre},
	} {
		d, err := st.Department(ctx, code)
		if err != nil {
			t.Errorf("department %s: %v", code, err)
			continue
		}
		if d.Name != want.Name || d.Kind != want.Kind || d.Parent != want.Parent {
			t.Errorf("department %s = %+v, want %+v", code, d, want)
		}
	}
}

func TestHelpForEveryCommand(t *testing.T) {
	if len(commands) == 0 {
		t.Fatal("no commands registered")
	}
	for _, c := range commands {
		args := append(strings.Fields(c.name), "--help")
		out, err := runCLI(t, "", args...)
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("tongban %s --help: %v", c.name, err)
		}
		if !strings.Contains(out, "Usage: tongban "+c.name) {
			t.Errorf("tongban %s --help printed %q", c.name, out)
		}
		if c.summary == "" || c.usage == "" {
			t.Errorf("command %s has no summary or usage", c.name)
		}
	}
	for _, args := range [][]string{nil, {"help"}, {"--help"}, {"-h"}} {
		out, err := runCLI(t, "", args...)
		if err != nil {
			t.Errorf("tongban %v: %v", args, err)
		}
		for _, c := range commands {
			if !strings.Contains(out, c.name) {
				t.Errorf("tongban %v does not list %s", args, c.name)
			}
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	for _, args := range [][]string{{"frobnicate"}, {"dept", "remove", "x"}, {"user"}} {
		_, err := runCLI(t, "", args...)
		if err == nil || !strings.Contains(err.Error(), "unknown command") {
			t.Errorf("tongban %v: %v, want an unknown command error", args, err)
		}
	}
}

func TestUserAPIKeyAndBackup(t *testing.T) {
	dir := t.TempDir()
	mustCLI(t, "", "dept", "add", "zx", "指挥中心", "--kind", "centre", "--data", dir)
	_, err := runCLI(t, "s3cret-password\n", "user", "add", "disp", "--dept", "zx", "--role", "dispatcher", "--data", dir)
	if err == nil || !strings.Contains(err.Error(), "password-stdin") {
		t.Fatalf("user add without --password-stdin: %v", err)
	}
	if _, err := runCLI(t, "short\n", "user", "add", "disp", "--dept", "zx", "--role", "dispatcher", "--password-stdin", "--data", dir); err == nil {
		t.Error("user add accepted a 5-character password")
	}
	if _, err := runCLI(t, "s3cret-password\n", "user", "add", "disp", "--dept", "nowhere", "--role", "dispatcher", "--password-stdin", "--data", dir); err == nil {
		t.Error("user add accepted an unknown department")
	}
	if _, err := runCLI(t, "s3cret-password\n", "user", "add", "disp", "--dept", "zx", "--role", "emperor", "--password-stdin", "--data", dir); err == nil {
		t.Error("user add accepted an unknown role")
	}
	out := mustCLI(t, "s3cret-password\r\n", "user", "add", "disp", "--dept", "zx", "--role", "dispatcher,admin", "--name", "王派单", "--password-stdin", "--data", dir)
	if !strings.Contains(out, "disp") {
		t.Errorf("user add output %q", out)
	}
	out = mustCLI(t, "", "apikey", "add", "open311 app", "--data", dir)
	key := strings.TrimSpace(out)
	if !strings.HasPrefix(key, "tbk_") || strings.ContainsAny(key, " \n") {
		t.Fatalf("apikey add printed %q", out)
	}

	ctx := context.Background()
	func() {
		st, err := sqlite.Open(filepath.Join(dir, "tongban.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		e, err := engine.New(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.CheckAPIKey(ctx, key); err != nil {
			t.Errorf("printed key does not work: %v", err)
		}
		if _, _, u, err := e.Login(ctx, "disp", "s3cret-password"); err != nil || u.Name != "王派单" || !u.Has(tongban.RoleAdmin) || !u.Has(tongban.RoleDispatcher) {
			t.Errorf("login as the new user: %+v %v", u, err)
		}
		if _, err := e.Create(ctx, engine.Actor{}, engine.NewCase{Type: "complaint", Category: "noise", Title: "备份测试", Body: "正文", Requester: tongban.Requester{Phone: "13812345678"}, Channel: "phone"}); err != nil {
			t.Fatal(err)
		}
	}()

	backup := filepath.Join(t.TempDir(), "backup.db")
	out = mustCLI(t, "", "backup", backup, "--data", dir)
	if !strings.Contains(out, backup) {
		t.Errorf("backup output %q", out)
	}
	if _, err := runCLI(t, "", "backup", backup, "--data", dir); err == nil {
		t.Error("backup over an existing file succeeded silently")
	}
	st, err := sqlite.Open(backup)
	if err != nil {
		t.Fatalf("backup does not open: %v", err)
	}
	defer st.Close()
	if d, err := st.Department(ctx, "zx"); err != nil || d.Kind != tongban.DeptCentre {
		t.Errorf("department in backup: %+v %v", d, err)
	}
	if u, err := st.UserByLogin(ctx, "disp"); err != nil || !engine.CheckPassword(u.PasswordHash, "s3cret-password") {
		t.Errorf("user in backup: %v", err)
	}
	page, err := st.ListCases(ctx, tongban.CaseFilter{})
	if err != nil || page.Total != 1 || page.Cases[0].Title != "备份测试" {
		t.Fatalf("cases in backup: %+v %v", page, err)
	}
	evs, err := st.Events(ctx, page.Cases[0].ID)
	if err != nil || len(evs) != 1 || tongban.VerifyChain(evs) != 0 {
		t.Errorf("events in backup: %d %v", len(evs), err)
	}
	if keys, _ := st.ListAPIKeys(ctx); len(keys) != 1 {
		t.Errorf("api keys in backup: %d", len(keys))
	}
}

// The load test keeps the instances' last warnings and errors, nothing else.
func TestLogProblems(t *testing.T) {
	p := &logProblems{}
	p.Write([]byte(`{"level":"INFO","msg":"listening"}` + "\n" + `{"level":"WARN","msg":"store unavailable"}` + "\n"))
	for i := range 30 {
		fmt.Fprintf(p, `{"level":"ERROR","msg":"internal error","n":%d}`+"\n", i)
	}
	got := p.lines()
	if len(got) != keptProblems || !strings.Contains(got[0], `"n":10`) || !strings.Contains(got[len(got)-1], `"n":29`) {
		t.Errorf("kept %d lines: first %q, last %q", len(got), got[0], got[len(got)-1])
	}
	for _, l := range got {
		if strings.Contains(l, "INFO") {
			t.Errorf("kept an info line: %s", l)
		}
	}
}
