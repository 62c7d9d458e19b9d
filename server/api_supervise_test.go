package server_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/tongban/tongban/engine"
)

func TestSupervisionAPI(t *testing.T) {
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
	c := f.apiCreate("intake", apiNewCase())
	f.apiAct("disp", c.TrackingCode, "dispatch", map[string]any{"department": "cgj"})
	if got := f.apiGet("sup", c.TrackingCode); len(got.Actions) != 1 || got.Actions[0] != "supervise" {
		t.Fatalf("supervisor's actions %v", got.Actions)
	}
	status, body := f.apiTryAct("disp", c.TrackingCode, "supervise", map[string]any{"demand": "x", "working_days": 3, "department": "cgj"})
	apiWantError(t, "dispatcher supervising", status, body, http.StatusForbidden, "forbidden")
	status, body = f.apiTryAct("sup", c.TrackingCode, "supervise", map[string]any{"demand": "请三日内处理", "working_days": 3, "department": "nosuch"})
	apiWantError(t, "unknown department", status, body, http.StatusBadRequest, "invalid")
	got := f.apiAct("sup", c.TrackingCode, "supervise", map[string]any{"demand": "请三日内处理并回复", "working_days": 3, "department": "cgj", "instruction": "从严从快"})
	var p struct{ Order string }
	_ = json.Unmarshal(got.Event.Payload, &p)
	status, body = f.apiDo("GET", "/api/v1/cases/"+p.Order, "h.cgj", nil)
	if status != http.StatusOK {
		t.Fatalf("department reading its order: %d %s", status, apiTrunc(body))
	}
	var order struct {
		Kind       string   `json:"kind"`
		Supervises int64    `json:"supervises"`
		Actions    []string `json:"actions"`
	}
	apiDecode(t, body, &order)
	if order.Kind != "task" || order.Supervises != c.ID || len(order.Actions) != 1 || order.Actions[0] != "answer" {
		t.Fatalf("order %s", body)
	}
	if status, _ := f.apiDo("GET", "/api/v1/cases/"+p.Order, "h.zjj", nil); status != http.StatusNotFound {
		t.Fatalf("another department reading the order: %d", status)
	}

	// Let the clock run out: a tick far ahead raises the alarms.
	if _, err := f.e.NewScanner().Tick(f.ctx, time.Now().AddDate(0, 2, 0)); err != nil {
		t.Fatal(err)
	}
	var alarms struct {
		Alarms []struct {
			CaseID         int64  `json:"case_id"`
			Colour         string `json:"colour"`
			Department     string `json:"department"`
			OverdueSeconds int64  `json:"overdue_seconds"`
		} `json:"alarms"`
		Total int `json:"total"`
	}
	status, body = f.apiDo("GET", "/api/v1/alarms?state=open&colour=yellow&department=cgj", "sup", nil)
	if status != http.StatusOK {
		t.Fatalf("alarms: %d %s", status, apiTrunc(body))
	}
	apiDecode(t, body, &alarms)
	if alarms.Total != 3 { // the case's, its accept step's and its order's
		t.Fatalf("open yellow cards of cgj: %s", body)
	}
	status, body = f.apiDo("GET", "/api/v1/alarms?state=open", "h.zjj", nil)
	apiDecode(t, body, &alarms)
	if status != http.StatusOK || alarms.Total != 0 {
		t.Fatalf("zjj sees %d alarms", alarms.Total)
	}
	status, body = f.apiDo("GET", "/api/v1/alarms?department=cgj", "h.zjj", nil)
	apiWantError(t, "zjj asking for cgj's alarms", status, body, http.StatusForbidden, "forbidden")
	status, body = f.apiDo("GET", "/api/v1/alarms?colour=purple", "sup", nil)
	apiWantError(t, "bad colour", status, body, http.StatusBadRequest, "invalid")

	from := time.Now().AddDate(0, -1, 0).Format("2006-01-02")
	to := time.Now().AddDate(0, 3, 0).Format("2006-01-02")
	status, body = f.apiDo("GET", "/api/v1/scorecards?from="+from+"&to="+to+"&by=department", "leader", nil)
	if status != http.StatusOK {
		t.Fatalf("scorecards: %d %s", status, apiTrunc(body))
	}
	var sc struct {
		Rows []map[string]any `json:"rows"`
	}
	apiDecode(t, body, &sc)
	found := false
	for _, r := range sc.Rows {
		if r["key"] == "cgj" {
			found = true
			for _, k := range []string{"received", "closed", "closed_on_time", "open_overdue", "on_time_rate", "avg_handling_workdays", "satisfaction_rate", "returns", "reopens", "grade"} {
				if _, ok := r[k]; !ok {
					t.Errorf("scorecard row lacks %s", k)
				}
			}
			if r["received"].(float64) != 1 || r["open_overdue"].(float64) != 1 || r["orders"].(float64) != 2 {
				t.Errorf("cgj row %v", r)
			}
		}
	}
	if !found {
		t.Fatalf("no cgj row: %s", body)
	}
	status, body = f.apiDo("GET", "/api/v1/scorecards?from="+from+"&to="+to, "h.cgj", nil)
	apiWantError(t, "handler reading scorecards", status, body, http.StatusForbidden, "forbidden")
	status, body = f.apiDo("GET", "/api/v1/scorecards?from=2026-13-01&to="+to, "sup", nil)
	apiWantError(t, "bad from", status, body, http.StatusBadRequest, "invalid")

	status, body = f.apiDo("POST", "/api/v1/cases/"+c.TrackingCode+"/findings", "sup", map[string]any{"kind": "valid_complaint", "reason": "投诉属实", "outcome": "责令整改"})
	if status != http.StatusCreated {
		t.Fatalf("finding: %d %s", status, apiTrunc(body))
	}
	status, body = f.apiDo("POST", "/api/v1/cases/"+c.TrackingCode+"/findings", "head.cgj", map[string]any{"kind": "other", "reason": "x"})
	apiWantError(t, "head recording a finding", status, body, http.StatusForbidden, "forbidden")
	status, body = f.apiDo("GET", "/api/v1/findings?department=cgj", "leader", nil)
	var fs struct {
		Findings []struct{ Kind, Department string } `json:"findings"`
	}
	apiDecode(t, body, &fs)
	if status != http.StatusOK || len(fs.Findings) != 1 || fs.Findings[0].Kind != "valid_complaint" {
		t.Fatalf("findings: %d %s", status, apiTrunc(body))
	}
}
