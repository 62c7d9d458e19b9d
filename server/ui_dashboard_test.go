package server_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/demo/corpus"
	"github.com/tongban/tongban/engine"
)

// TestSupervisionDashboard files a case forty days ago, lets the scanner
// raise its alarms now, and checks the dashboard, its exports, the
// findings list, the case and order pages and who may see them.
func TestSupervisionDashboard(t *testing.T) {
	t.Parallel()
	f := apiSetup(t)
	for _, u := range []struct{ login, roles string }{{"sup", "supervisor"}, {"leader", "leader"}} {
		name, pw, dept, roles := u.login, apiPassword, "zx", u.roles
		usr, err := f.e.AddUser(f.ctx, u.login, engine.UserChange{Name: &name, Dept: &dept, Roles: &roles, Password: &pw})
		if err != nil {
			t.Fatal(err)
		}
		f.users[u.login] = usr
		f.tokens[u.login] = f.apiLogin(u.login)
	}
	minLat, minLong, maxLat, maxLong := corpus.Bounds()
	lat, long := (minLat+maxLat)/2, (minLong+maxLong)/2
	past := engine.WithNow(f.ctx, time.Now().AddDate(0, 0, -40))
	c, err := f.e.Create(past, engine.Actor{User: f.users["intake"]}, engine.NewCase{Type: "complaint", Category: "noise", Title: "工地夜间施工扰民超期未办",
		Body: "每晚施工到凌晨。", Lat: &lat, Long: &long, Channel: tongban.ChannelPhone, Requester: tongban.Requester{Name: "王芳", Phone: "13912345678"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.e.Act(past, engine.Actor{User: f.users["disp"]}, c.TrackingCode, "dispatch", map[string]json.RawMessage{"department": json.RawMessage(`"cgj"`)}); err != nil {
		t.Fatal(err)
	}
	n, err := f.e.NewScanner().Tick(f.ctx, time.Now())
	if err != nil || n == 0 {
		t.Fatalf("scanner raised %d alarms: %v", n, err)
	}

	get := func(who, path string) (int, string) {
		t.Helper()
		status, body := f.apiDo("GET", path, who, nil)
		return status, string(body)
	}
	start := time.Now()
	status, page := get("sup", "/supervise")
	elapsed := time.Since(start)
	if status != http.StatusOK {
		t.Fatalf("dashboard: %d %s", status, page)
	}
	t.Logf("dashboard rendered in %v", elapsed)
	red := section(page, `id="board-red"`, `id="board-yellow"`)
	yellow := section(page, `id="board-yellow"`, `id="board-warning"`)
	if !strings.Contains(red, c.TrackingCode) || !strings.Contains(yellow, c.TrackingCode) {
		t.Fatalf("the overdue case %s is not on the red and yellow boards:\n%s", c.TrackingCode, section(page, `id="alarms"`, `id="orders"`))
	}
	if !strings.Contains(yellow, `href="/work/cases/`+strconv.FormatInt(c.ID, 10)+`"`) || !strings.Contains(yellow, "已超期") {
		t.Errorf("the yellow card does not link its case or say how overdue it is:\n%s", yellow)
	}
	orders := section(page, `id="orders"`, `id="ranking"`)
	if !strings.Contains(orders, "城管执法局") || !strings.Contains(orders, "督办：") {
		t.Errorf("the red card's order is not in progress:\n%s", orders)
	}
	rank := section(page, `id="ranking"`, `id="flagged"`)
	if !strings.Contains(rank, "城管执法局") {
		t.Errorf("no ranking row for cgj:\n%s", rank)
	}
	for _, want := range []string{`id="chart-cases"`, `id="chart-sat"`, `class="dot late"`, `id="nav-supervise"`} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	if strings.Contains(page, "sup.") {
		i := strings.Index(page, "sup.")
		t.Errorf("untranslated key near %q", page[max(0, i-40):min(len(page), i+40)])
	}
	if status, en := get("sup", "/supervise?lang=en&period=year"); status != http.StatusOK || !strings.Contains(en, "Live alarms") {
		t.Errorf("English dashboard: %d", status)
	}
	if status, p := get("sup", "/supervise?period=custom&from=2026-02-30&to=x"); status != http.StatusOK || !strings.Contains(p, `class="alert"`) {
		t.Errorf("a bad custom period: %d, no error shown", status)
	}

	// Who may see it.
	for who, want := range map[string]int{"leader": 200, "admin": 200, "h.cgj": 403, "head.cgj": 403, "disp": 403} {
		if status, _ := get(who, "/supervise"); status != want {
			t.Errorf("%s on /supervise: %d, want %d", who, status, want)
		}
	}
	if status, _ := get("h.cgj", "/supervise/findings"); status != http.StatusForbidden {
		t.Errorf("handler on findings: %d", status)
	}

	// Exports.
	status, body := f.apiDo("GET", "/supervise?table=alarms&format=csv", "sup", nil)
	if status != http.StatusOK || !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
		t.Fatalf("alarms CSV: %d, BOM %v", status, bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")))
	}
	recs, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 3 || len(recs[0]) != 10 || recs[0][0] != "预警类型" || recs[0][1] != "跟踪码" {
		t.Fatalf("alarms CSV header %q (%d rows)", recs[0], len(recs))
	}
	found := false
	for _, r := range recs[1:] {
		if r[1] == c.TrackingCode && r[0] == "红牌" {
			found = true
			if h, err := strconv.ParseFloat(r[8], 64); err != nil || h <= 0 {
				t.Errorf("red card hours overdue %q", r[8])
			}
		}
	}
	if !found {
		t.Errorf("alarms CSV has no red card for %s: %q", c.TrackingCode, recs)
	}
	status, body = f.apiDo("GET", "/supervise?table=ranking&format=xlsx", "sup", nil)
	if status != http.StatusOK {
		t.Fatalf("ranking XLSX: %d", status)
	}
	sheet := xlsxSheet(t, body)
	if !strings.Contains(sheet, "城管执法局") || !strings.Contains(sheet, "<v>1</v>") {
		t.Errorf("ranking sheet lacks cgj's row: %s", sheet)
	}
	status, body = f.apiDo("GET", "/supervise?table=alarms&format=xlsx", "sup", nil)
	if sheet := xlsxSheet(t, body); status != http.StatusOK || !strings.Contains(sheet, c.TrackingCode) {
		t.Errorf("alarms XLSX: %d", status)
	}
	for _, tb := range []string{"orders", "flagged", "trends"} {
		status, body := f.apiDo("GET", "/supervise?format=csv&table="+tb, "leader", nil)
		if status != http.StatusOK || !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
			t.Errorf("%s CSV: %d", tb, status)
		}
	}
	if status, _ := get("sup", "/supervise?format=pdf&table=alarms"); status != http.StatusBadRequest {
		t.Errorf("format=pdf: %d", status)
	}
	if status, _ := get("h.cgj", "/supervise?format=csv&table=alarms"); status != http.StatusForbidden {
		t.Errorf("handler exporting: %d", status)
	}

	// The case page: the supervise form and the finding form.
	caseURL := "/work/cases/" + strconv.FormatInt(c.ID, 10)
	_, cp := get("sup", caseURL)
	for _, want := range []string{`id="act-supervise"`, `name="demand"`, `name="working_days"`, `<select id="f-supervise-department" name="department"`, `name="instruction"`, `id="finding-form"`, "通报批评", "有效投诉", `id="case-orders"`} {
		if !strings.Contains(cp, want) {
			t.Errorf("supervisor's case page lacks %s", want)
		}
	}
	_, hp := get("h.cgj", caseURL)
	if strings.Contains(hp, `id="finding-form"`) || strings.Contains(hp, `id="act-supervise"`) {
		t.Error("a handler sees the supervisor's forms")
	}
	form := url.Values{"kind": {"valid_complaint"}, "department": {"cgj"}, "reason": {"经核查投诉属实"}, "outcome": {"责令整改"}}
	resp := f.apiRequest("POST", caseURL+"/findings", "sup", strings.NewReader(form.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	saved, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Query().Get("finding") != "ok" || !strings.Contains(string(saved), `id="finding-saved"`) {
		t.Fatalf("recording a finding: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	resp = f.apiRequest("POST", caseURL+"/findings", "h.cgj", strings.NewReader(form.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("handler recording a finding: %d", resp.StatusCode)
	}
	resp = f.apiRequest("POST", caseURL+"/findings", "sup", strings.NewReader("kind=valid_complaint&reason="), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), `id="finding-form"`) {
		t.Errorf("a finding without a reason: %d", resp.StatusCode)
	}
	_, fl := get("leader", "/supervise/findings?department=cgj")
	if !strings.Contains(fl, "经核查投诉属实") || !strings.Contains(fl, c.TrackingCode) {
		t.Errorf("findings list lacks the finding")
	}
	status, body = f.apiDo("GET", "/supervise/findings?format=csv&kind=valid_complaint", "sup", nil)
	recs, err = csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF")))).ReadAll()
	if status != http.StatusOK || err != nil || len(recs) != 2 || recs[1][1] != c.TrackingCode || recs[1][3] != "有效投诉" || recs[1][7] != "责令整改" {
		t.Errorf("findings CSV: %d %v %q", status, err, recs)
	}
	if sheet := xlsxSheet(t, f.mustGet("/supervise/findings?format=xlsx", "sup")); !strings.Contains(sheet, "经核查投诉属实") {
		t.Errorf("findings XLSX lacks the finding")
	}

	// The order: its page and the department's inbox tab.
	fresh, err := f.e.Find(f.ctx, c.TrackingCode)
	if err != nil || fresh.Supervision == nil || len(fresh.Supervision.Orders) == 0 {
		t.Fatalf("no order on the case: %v", err)
	}
	order, err := f.e.Find(f.ctx, fresh.Supervision.Orders[0].Code)
	if err != nil {
		t.Fatal(err)
	}
	_, op := get("h.cgj", "/work/cases/"+strconv.FormatInt(order.ID, 10))
	for _, want := range []string{`id="order-demand"`, `id="order-parent"`, c.TrackingCode, `id="act-answer"`} {
		if !strings.Contains(op, want) {
			t.Errorf("order page lacks %s", want)
		}
	}
	_, inbox := get("h.cgj", "/work?tab=orders")
	if !strings.Contains(inbox, `id="tab-orders"`) || !strings.Contains(inbox, order.TrackingCode) {
		t.Errorf("cgj's inbox does not list its order")
	}
	_, zinbox := get("h.zjj", "/work?tab=orders")
	if strings.Contains(zinbox, order.TrackingCode) {
		t.Errorf("zjj's inbox lists cgj's order")
	}
}

func (f *apiFixture) mustGet(path, who string) []byte {
	f.t.Helper()
	status, body := f.apiDo("GET", path, who, nil)
	if status != http.StatusOK {
		f.t.Fatalf("GET %s: %d", path, status)
	}
	return body
}

// section is the part of a page from one marker to the next.
func section(page, from, to string) string {
	i := strings.Index(page, from)
	if i < 0 {
		return ""
	}
	j := strings.Index(page[i:], to)
	if j < 0 {
		return page[i:]
	}
	return page[i : i+j]
}

// xlsxSheet opens a workbook and returns its sheet's XML.
func xlsxSheet(t *testing.T, b []byte) string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	for _, f := range z.File {
		if f.Name == "xl/worksheets/sheet1.xml" {
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			x, _ := io.ReadAll(r)
			return string(x)
		}
	}
	t.Fatal("no sheet1.xml in the workbook")
	return ""
}
