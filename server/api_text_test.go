package server_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// Search with snippets, suggestions, duplicates, the public similar check
// and hot issues through the API.
func TestAPIText(t *testing.T) {
	f := apiSetup(t)
	disp := f.apiLogin("disp")
	in := apiNewCase()
	a := f.apiCreate("", in)
	b := f.apiCreate("", in)
	c2 := apiNewCase()
	c2["title"], c2["body"], c2["category"] = "路灯不亮", "建设路口的路灯坏了三天，晚上很黑，行人不便。", "noise"
	other := f.apiCreate("", c2)

	var list struct {
		Cases []struct {
			ID      int64 `json:"id"`
			Snippet []struct {
				Text string `json:"text"`
				Hit  bool   `json:"hit"`
			} `json:"snippet"`
		} `json:"cases"`
		Total int `json:"total"`
	}
	status, body := f.apiDo("GET", "/api/v1/cases?q="+url.QueryEscape("噪音"), disp, nil)
	if status != http.StatusOK {
		t.Fatalf("search: %d %s", status, body)
	}
	apiDecode(t, body, &list)
	if list.Total != 2 || len(list.Cases) != 2 || len(list.Cases[0].Snippet) == 0 {
		t.Fatalf("search 噪音: %s", body)
	}
	hit := false
	for _, s := range list.Cases[0].Snippet {
		hit = hit || s.Hit && s.Text == "噪音"
	}
	if !hit {
		t.Errorf("snippet without the hit: %s", body)
	}

	var sg []struct {
		Department string   `json:"department"`
		Confidence float64  `json:"confidence"`
		Because    []string `json:"because"`
	}
	status, body = f.apiDo("GET", "/api/v1/cases/"+a.TrackingCode+"/suggestions", disp, nil)
	if status != http.StatusOK {
		t.Fatalf("suggestions: %d %s", status, body)
	}
	apiDecode(t, body, &sg)
	if len(sg) > 3 {
		t.Errorf("more than three suggestions: %s", body)
	}

	var dups []struct {
		ID           int64   `json:"id"`
		TrackingCode string  `json:"tracking_code"`
		Score        float64 `json:"score"`
	}
	status, body = f.apiDo("GET", "/api/v1/cases/"+b.TrackingCode+"/duplicates", disp, nil)
	if status != http.StatusOK {
		t.Fatalf("duplicates: %d %s", status, body)
	}
	apiDecode(t, body, &dups)
	if len(dups) != 1 || dups[0].ID == 0 || dups[0].TrackingCode != a.TrackingCode || dups[0].Score < 0.5 {
		t.Fatalf("duplicates of b: %s", body)
	}
	status, body = f.apiDo("GET", "/api/v1/cases/"+other.TrackingCode+"/duplicates", disp, nil)
	if status != http.StatusOK || strings.TrimSpace(string(body)) != "[]" {
		t.Errorf("duplicates of an unrelated case: %d %s", status, body)
	}

	status, body = f.apiDo("POST", "/api/v1/similar", "", map[string]any{"title": in["title"], "body": in["body"]})
	if status != http.StatusOK || !strings.Contains(string(body), a.TrackingCode) || strings.Contains(string(body), `"id"`) || strings.Contains(string(body), "13987654321") {
		t.Errorf("similar: %d %s", status, body)
	}
	status, _ = f.apiDo("POST", "/api/v1/similar", "", map[string]any{"title": "x", "bogus": 1})
	if status != http.StatusBadRequest {
		t.Errorf("similar with an unknown field: %d", status)
	}

	f.apiAct(disp, b.TrackingCode, "merge", map[string]any{"into": a.TrackingCode})
	if got := f.apiGet(disp, b.TrackingCode); got.Step != "merged" {
		t.Errorf("merged case step %s", got.Step)
	}

	status, body = f.apiDo("GET", "/api/v1/hotspots", disp, nil)
	if status != http.StatusOK || !strings.Contains(string(body), `"heat"`) || !strings.Contains(string(body), strconv.FormatInt(dups[0].ID, 10)) {
		t.Errorf("hotspots: %d %s", status, body)
	}
	status, _ = f.apiDo("GET", "/api/v1/hotspots?from=2000-01-01&to=2099-01-01", disp, nil)
	if status != http.StatusBadRequest {
		t.Errorf("hotspots over a century: %d", status)
	}
	status, _ = f.apiDo("GET", "/api/v1/hotspots", "", nil)
	if status != http.StatusUnauthorized {
		t.Errorf("hotspots without login: %d", status)
	}
}
