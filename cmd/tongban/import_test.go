package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/sqlite"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const importHeader = "received_at,type,category,title,body,department,closed_at,reply,rating,phone\n"

func TestImportRejectsBadRowsWithLineNumbers(t *testing.T) {
	dir := t.TempDir()
	mustCLI(t, "", "dept add", "cgj", "城管执法局", "--data", dir)
	csv := importHeader +
		"2026-03-02T09:00:00+08:00,投诉,building,违建,楼顶加建,cgj,2026-03-05T10:00:00+08:00,已拆除,5,\n" +
		"2026-03-02T09:00:00+08:00,抱怨,building,违建,楼顶加建,cgj,,,,\n" + // line 3: bad type
		"\"2026-03-03T09:00:00+08:00\",complaint,nosuch,t,b,cgj,,,,\n" + // line 4: bad category
		"2026-03-04,help,road,t,b,cgj,,,,\n" + // line 5: bad time
		"2026-03-04T09:00:00+08:00,help,road,t,b,nodept,,,,\n" + // line 6: bad department
		"2026-03-04T09:00:00+08:00,help,road,t,b,cgj,2026-03-01T09:00:00+08:00,x,3,\n" + // line 7: closed before received
		"2026-03-04T09:00:00+08:00,help,road,t,b,cgj,,,4,\n" // line 8: rating on an open case
	path := writeFile(t, "cases.csv", csv)
	out, err := runCLI(t, "", "import", "cases", path, "--data", dir)
	if err == nil {
		t.Fatalf("a file with bad rows loaded: %s", out)
	}
	for _, want := range []string{"line 3: type", "line 4: category", "line 5: received_at", "line 6: department", "line 7: closed_at", "line 8: rating"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "line 2") {
		t.Errorf("good line 2 reported:\n%s", out)
	}
	st, err := sqlite.Open(filepath.Join(dir, "tongban.db"))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := st.CountCases(context.Background(), tongban.CaseFilter{})
	st.Close()
	if n != 0 {
		t.Fatalf("%d cases loaded from a file with errors", n)
	}
	out = mustCLI(t, "", "import", "cases", path, "--data", dir, "--skip-bad")
	if !strings.Contains(out, "loaded 1 case(s), skipped 6 bad row(s)") {
		t.Fatalf("--skip-bad: %s", out)
	}
}

// Imported history gets its deadlines from the calendar and the alarms
// it would have had, at the instants they fell due; closed cases get
// none after closing, and open ones get orders on their red cards.
func TestImportRaisesHistoricAlarms(t *testing.T) {
	dir := t.TempDir()
	mustCLI(t, "", "dept add", "cgj", "城管执法局", "--data", dir)
	csv := importHeader +
		// Closed on time: no alarms at all.
		"2026-09-28T10:00:00+08:00,投诉,building,违建一,楼顶加建,cgj,2026-10-12T10:00:00+08:00,已拆除,5,13812345678\n" +
		// Closed late on 2026-10-26: warning and yellow, no red (3 days not yet).
		"2026-09-28T10:00:00+08:00,投诉,building,违建二,楼顶加建,cgj,2026-10-26T10:00:00+08:00,已拆除,2,\n" +
		// Still open: warning, yellow, red with an order, the order's alarms and its red.
		"2026-09-28T10:00:00+08:00,complaint,building,违建三,楼顶加建,cgj,,,,\n"
	out := mustCLI(t, "", "import", "cases", writeFile(t, "h.csv", csv), "--data", dir)
	if !strings.Contains(out, "loaded 3 case(s)") {
		t.Fatalf("import: %s", out)
	}
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(dir, "tongban.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	page, err := st.ListCases(ctx, tongban.CaseFilter{Kind: tongban.KindRequest, Sort: "received"})
	if err != nil || page.Total != 3 {
		t.Fatalf("%v %d", err, page.Total)
	}
	alarms := func(c *tongban.Case) string {
		evs, err := st.Events(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if tongban.VerifyChain(evs) != 0 {
			t.Fatalf("case %d chain broken", c.ID)
		}
		var out []string
		for _, e := range evs {
			if strings.HasPrefix(e.Action, "alarm_") {
				out = append(out, e.Action+"@"+e.At.In(calendar.Shanghai).Format("01-02 15:04"))
			}
		}
		return strings.Join(out, " ")
	}
	want := map[string]string{
		"违建一": "",
		"违建二": "alarm_warning@10-23 00:00 alarm_yellow@10-24 00:00",
		"违建三": "alarm_warning@10-23 00:00 alarm_yellow@10-24 00:00 alarm_red@10-29 00:00 alarm_red@11-04 00:00",
	}
	for _, c := range page.Cases {
		if got := alarms(c); got != want[c.Title] {
			t.Errorf("%s: alarms %q, want %q", c.Title, got, want[c.Title])
		}
		if c.Title != "违建三" && c.Status != tongban.StatusClosed {
			t.Errorf("%s not closed", c.Title)
		}
	}
	orders, _ := st.ListCases(ctx, tongban.CaseFilter{Kind: tongban.KindTask})
	if orders.Total != 1 || orders.Cases[0].Lead != "cgj" {
		t.Fatalf("orders after import: %d", orders.Total)
	}
	if got := alarms(orders.Cases[0]); got != "alarm_warning@11-03 00:00 alarm_yellow@11-04 00:00" {
		t.Errorf("order alarms %q", got)
	}
	// Scorecard: the closed ones count by their closing day; the open one
	// is open and overdue.
	e, err := engine.New(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	sup := &tongban.User{Login: "sup", Roles: []tongban.Role{tongban.RoleSupervisor}}
	res, err := e.Scorecards(ctx, engine.Actor{User: sup}, engine.ScorecardQuery{From: "2026-09-01", To: "2026-12-31", By: "department"})
	if err != nil || len(res.Rows) != 1 {
		t.Fatalf("%v %+v", err, res)
	}
	r := res.Rows[0]
	if r.Received != 3 || r.Closed != 2 || r.ClosedOnTime != 1 || r.OpenOverdue != 1 || r.OnTimeRate == nil || *r.OnTimeRate != 0.3333 ||
		r.Ratings["5"] != 1 || r.Ratings["2"] != 1 || *r.SatisfactionRate != 0.5 {
		t.Fatalf("scorecard %+v", r)
	}
}
