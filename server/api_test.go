package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
)

var apiAllUsers = []string{"disp", "intake", "h.cgj", "head.cgj", "h.zjj", "head.zjj", "h.swj", "admin"}

// apiWantActions checks, for every user, the exact actions GET lists;
// users in hidden must get 404, users in neither may see the case and do
// nothing.
func (f *apiFixture) apiWantActions(ref string, want map[string][]string, hidden ...string) {
	f.t.Helper()
	for _, u := range apiAllUsers {
		status, body := f.apiDo("GET", "/api/v1/cases/"+ref, u, nil)
		if slices.Contains(hidden, u) {
			if status != http.StatusNotFound {
				f.t.Errorf("GET %s as %s: %d, want 404", ref, u, status)
			} else {
				apiWantError(f.t, "GET as "+u, status, body, 404, tongban.ENotFound)
			}
			continue
		}
		if status != http.StatusOK {
			f.t.Errorf("GET %s as %s: %d %s", ref, u, status, apiTrunc(body))
			continue
		}
		var c apiCase
		apiDecode(f.t, body, &c)
		w := want[u]
		if w == nil {
			w = []string{}
		}
		if c.Actions == nil || !slices.Equal(c.Actions, w) {
			f.t.Errorf("step %s: actions for %s = %v, want %v", c.Step, u, c.Actions, w)
		}
	}
}

func TestAPIRequestLife(t *testing.T) {
	t.Parallel()
	f := apiSetup(t)

	// Filed by a partner system with an API key.
	in := apiNewCase()
	in["category"] = "building"
	status, body := f.apiDo("POST", "/api/v1/cases", f.key, in)
	if status != http.StatusCreated {
		t.Fatalf("create with API key: %d %s", status, body)
	}
	var c apiCase
	apiDecode(t, body, &c)
	if c.Channel != tongban.ChannelAPI || c.Step != "dispatch" || c.Version != 1 || c.Actions == nil || len(c.Actions) != 0 {
		t.Fatalf("created %+v", c)
	}
	if c.Requester.Phone == "13987654321" || c.Requester.Name == "李秀英" {
		t.Errorf("API key answer shows the requester unmasked: %+v", c.Requester)
	}
	code, id := c.TrackingCode, fmt.Sprint(c.ID)

	// Filed by staff with a token: channel defaults to phone.
	sc := f.apiCreate("intake", apiNewCase())
	if sc.Channel != tongban.ChannelPhone || sc.TrackingCode == "" {
		t.Errorf("staff create %+v", sc)
	}
	if want := []string{"reply"}; sc.Type == tongban.TypeConsultation && !slices.Equal(sc.Actions, want) {
		t.Errorf("staff create actions %v", sc.Actions)
	}
	// A handler may not file cases.
	status, body = f.apiDo("POST", "/api/v1/cases", "h.cgj", apiNewCase())
	apiWantError(t, "handler filing", status, body, 403, tongban.EForbidden)

	// GET by id and by tracking code (lower case and dashed forms too).
	got := f.apiGet("disp", id)
	if got.TrackingCode != code || got.Requester.Phone != "139****4321" || got.Requester.Name != "李**" || !got.CanReveal {
		t.Errorf("dispatcher view %+v", got)
	}
	if got2 := f.apiGet("disp", strings.ToLower(code[:4])+"-"+code[4:]); got2.ID != c.ID {
		t.Errorf("GET by normalised code found %d", got2.ID)
	}
	f.apiWantActions(code, map[string][]string{"disp": {"dispatch", "close", "merge"}}, "h.cgj", "head.cgj", "h.zjj", "head.zjj", "h.swj")

	// Requester reveal is logged.
	status, body = f.apiDo("GET", "/api/v1/cases/"+id+"/requester?reason=回访", "disp", nil)
	if status != 200 || !strings.Contains(string(body), "13987654321") {
		t.Fatalf("reveal: %d %s", status, body)
	}
	if logs, _ := f.st.ListPIIAccess(f.ctx, c.ID); len(logs) != 1 || logs[0].Login != "disp" {
		t.Errorf("PII log %+v", logs)
	}

	// Stale version, via body and via If-Match.
	status, body = f.apiTryAct("disp", code, "dispatch", map[string]any{"department": "cgj", "version": 0})
	apiWantError(t, "stale version", status, body, 409, tongban.EConflict)
	resp := f.apiRequest("POST", "/api/v1/cases/"+code+"/actions", "disp", map[string]any{"action": "dispatch", "department": "cgj"}, http.Header{"If-Match": {`"7"`}})
	resp.Body.Close()
	if resp.StatusCode != 409 {
		t.Errorf("stale If-Match: %d", resp.StatusCode)
	}

	c = f.apiAct("disp", code, "dispatch", map[string]any{"department": "cgj", "version": 1})
	if c.Step != "accept" || c.Department != "cgj" {
		t.Fatalf("after dispatch %+v", c)
	}
	f.apiWantActions(id, map[string][]string{"h.cgj": {"accept", "return"}, "head.cgj": {"accept", "return"}}, "h.zjj", "head.zjj", "h.swj")
	// Another department's handler: 404 on GET, on actions and on events.
	status, body = f.apiTryAct("h.zjj", id, "accept", nil)
	apiWantError(t, "other department acting", status, body, 404, tongban.ENotFound)
	status, body = f.apiDo("GET", "/api/v1/cases/"+id+"/events", "h.swj", nil)
	apiWantError(t, "other department reading events", status, body, 404, tongban.ENotFound)
	status, body = f.apiTryAct("disp", id, "accept", nil)
	apiWantError(t, "dispatcher accepting", status, body, 403, tongban.EForbidden)

	c = f.apiAct("h.cgj", id, "return", map[string]any{"reason": "不属本局"})
	if c.Step != "dispatch" || c.Returns != 1 || c.Department != "" {
		t.Fatalf("after return %+v", c)
	}
	c = f.apiAct("disp", code, "dispatch", map[string]any{"department": "cgj", "co_departments": []string{"zjj"}})
	f.apiWantActions(code, map[string][]string{
		"h.cgj": {"accept", "return"}, "head.cgj": {"accept", "return"},
		"h.zjj": {"assist"}, "head.zjj": {"assist"},
	}, "h.swj")
	c = f.apiAct("h.cgj", code, "accept", nil)
	if c.First != "cgj" || c.Step != "handle" {
		t.Fatalf("after accept %+v", c)
	}
	f.apiWantActions(code, map[string][]string{
		"h.cgj":    {"request_extension", "request_transfer", "reply"},
		"head.cgj": {"request_extension", "request_transfer", "reply"},
		"h.zjj":    {"assist"}, "head.zjj": {"assist"},
	}, "h.swj")
	before := c.Deadline
	c = f.apiAct("h.cgj", code, "request_extension", map[string]any{"working_days": 3, "reason": "需现场认定"})
	f.apiWantActions(code, map[string][]string{
		"head.cgj": {"approve_extension", "reject_extension"},
		"h.zjj":    {"assist"}, "head.zjj": {"assist"},
	}, "h.swj")
	c = f.apiAct("head.cgj", code, "approve_extension", nil)
	b, _ := time.Parse(time.RFC3339Nano, before)
	if want := calendar.Default().DeadlineAfterWorkdays(b, 3); c.Deadline != want.UTC().Format(time.RFC3339Nano) {
		t.Errorf("extended deadline %s, want %s", c.Deadline, want.UTC().Format(time.RFC3339Nano))
	}
	c = f.apiAct("h.cgj", code, "reply", map[string]any{"text": "已责令拆除"})
	if c.Step != "review" || c.DraftReply != "已责令拆除" {
		t.Fatalf("after reply %+v", c)
	}
	// The draft is not public.
	status, body = f.apiDo("GET", "/api/v1/track/"+code+"?phone_last4=4321", "", nil)
	if status != 200 || strings.Contains(string(body), "已责令拆除") {
		t.Errorf("track during review: %d %s", status, body)
	}
	f.apiWantActions(code, map[string][]string{"head.cgj": {"approve_reply", "reject_reply"}}, "h.swj")
	c = f.apiAct("head.cgj", code, "approve_reply", nil)
	if c.Step != "rating" || c.Reply != "已责令拆除" {
		t.Fatalf("after approve_reply %+v", c)
	}
	f.apiWantActions(code, map[string][]string{"disp": {"close"}}, "h.swj")

	// Public tracking: progress, no personal data.
	status, body = f.apiDo("GET", "/api/v1/track/"+code+"?phone_last4=4321", "", nil)
	if status != 200 {
		t.Fatalf("track: %d %s", status, body)
	}
	for _, secret := range []string{"13987654321", "139****", "李秀英", "李**", "requester", "h.cgj", "不属本局"} {
		if strings.Contains(string(body), secret) {
			t.Errorf("track answer contains %q: %s", secret, body)
		}
	}
	var tv struct {
		TrackingCode string `json:"tracking_code"`
		Step         string `json:"step"`
		Reply        string `json:"reply"`
		CanRate      bool   `json:"can_rate"`
		Timeline     []struct {
			Action string `json:"action"`
		} `json:"timeline"`
	}
	apiDecode(t, body, &tv)
	if tv.TrackingCode != code || tv.Step != "rating" || tv.Reply != "已责令拆除" || !tv.CanRate || len(tv.Timeline) == 0 || tv.Timeline[0].Action != "create" {
		t.Errorf("track view %+v", tv)
	}
	for _, tl := range tv.Timeline {
		if tl.Action == "return" || tl.Action == "request_extension" || tl.Action == "reply" {
			t.Errorf("internal action %s on the public timeline", tl.Action)
		}
	}
	status, body = f.apiDo("GET", "/api/v1/track/"+code+"?phone_last4=0000", "", nil)
	apiWantError(t, "track with wrong phone digits", status, body, 404, tongban.ENotFound)
	status, body = f.apiDo("GET", "/api/v1/track/"+code, "", nil)
	apiWantError(t, "track without phone digits", status, body, 404, tongban.ENotFound)
	status, body = f.apiDo("POST", "/api/v1/track/"+code+"/rate", "", map[string]any{"phone_last4": "0000", "level": 5})
	apiWantError(t, "rate with wrong phone digits", status, body, 404, tongban.ENotFound)
	status, body = f.apiDo("POST", "/api/v1/track/"+code+"/rate", "", map[string]any{"phone_last4": "4321", "level": 9})
	apiWantError(t, "rate 9", status, body, 400, tongban.EInvalid)

	status, body = f.apiDo("POST", "/api/v1/track/"+code+"/rate", "", map[string]any{"phone_last4": "4321", "level": 5, "comment": "满意"})
	if status != 200 {
		t.Fatalf("rate: %d %s", status, body)
	}
	if strings.Contains(string(body), "13987654321") || strings.Contains(string(body), "李秀英") {
		t.Errorf("rate answer leaks personal data: %s", body)
	}
	c = f.apiGet("disp", code)
	if c.Status != tongban.StatusClosed || c.Rating != 5 {
		t.Fatalf("after rating %+v", c)
	}
	f.apiWantActions(code, nil, "h.swj")
	status, body = f.apiDo("POST", "/api/v1/track/"+code+"/rate", "", map[string]any{"phone_last4": "4321", "level": 1})
	apiWantError(t, "rating a closed case", status, body, 409, tongban.EConflict)

	// Events: the whole chain, verified by the server.
	status, body = f.apiDo("GET", "/api/v1/cases/"+code+"/events", "disp", nil)
	var evs struct {
		Events  []*tongban.Event `json:"events"`
		ChainOK bool             `json:"chain_ok"`
	}
	apiDecode(t, body, &evs)
	if status != 200 || !evs.ChainOK || int64(len(evs.Events)) != c.Version {
		t.Fatalf("events: %d chain_ok=%v n=%d version=%d", status, evs.ChainOK, len(evs.Events), c.Version)
	}
	if tongban.VerifyChain(evs.Events) != 0 {
		t.Error("events as served do not verify on the client")
	}
	var names []string
	for _, e := range evs.Events {
		names = append(names, e.Action)
	}
	if want := []string{"create", "dispatch", "return", "dispatch", "accept", "request_extension", "approve_extension", "reply", "approve_reply", "rate"}; !slices.Equal(names, want) {
		t.Errorf("events %v, want %v", names, want)
	}
	if evs.Events[0].Actor != "apikey:partner" {
		t.Errorf("create actor %q", evs.Events[0].Actor)
	}
}

func TestAPIPublicCreateAndConsultation(t *testing.T) {
	t.Parallel()
	f := apiSetup(t)
	in := apiNewCase()
	in["type"], in["category"] = "咨询", "education"
	status, body := f.apiDo("POST", "/api/v1/cases", "", in)
	if status != http.StatusCreated {
		t.Fatalf("public create: %d %s", status, body)
	}
	for _, secret := range []string{"13987654321", "李秀英", "requester"} {
		if strings.Contains(string(body), secret) {
			t.Errorf("public create answer contains %q: %s", secret, body)
		}
	}
	var tv struct {
		TrackingCode string `json:"tracking_code"`
		Type         string `json:"type"`
		Step         string `json:"step"`
	}
	apiDecode(t, body, &tv)
	if tv.Type != tongban.TypeConsultation || tv.Step != "dispatch" {
		t.Fatalf("public create %s", body)
	}
	c := f.apiGet("disp", tv.TrackingCode)
	if c.Channel != tongban.ChannelWeb {
		t.Errorf("public channel %q", c.Channel)
	}
	f.apiWantActions(tv.TrackingCode, map[string][]string{"disp": {"dispatch", "reply", "close", "merge"}, "intake": {"reply"}}, "h.cgj", "head.cgj", "h.zjj", "head.zjj", "h.swj")
	c = f.apiAct("intake", tv.TrackingCode, "reply", map[string]any{"text": "每年5月报名。"})
	if c.Step != "rating" {
		t.Fatalf("direct reply led to %s", c.Step)
	}
	status, body = f.apiDo("POST", "/api/v1/track/"+strings.ToLower(tv.TrackingCode)+"/rate", "", map[string]any{"phone_last4": "4321", "level": 1})
	if status != 200 {
		t.Fatalf("rate: %d %s", status, body)
	}
	c = f.apiGet("disp", tv.TrackingCode)
	if c.Step != "rating" || c.Rating != 1 {
		t.Fatalf("unsatisfied rating: %+v", c)
	}
	f.apiWantActions(tv.TrackingCode, map[string][]string{"disp": {"reopen", "close"}}, "h.cgj", "head.cgj", "h.zjj", "head.zjj", "h.swj")
	// The public may not pick another channel; a key may not either.
	in["channel"] = "phone"
	status, body = f.apiDo("POST", "/api/v1/cases", "", in)
	apiWantError(t, "public choosing a channel", status, body, 400, tongban.EInvalid)
	status, body = f.apiDo("POST", "/api/v1/cases", f.key, in)
	apiWantError(t, "API key choosing a channel", status, body, 400, tongban.EInvalid)
}

func TestAPIListFiltersPagingScope(t *testing.T) {
	t.Parallel()
	f := apiSetup(t)
	var noise, building []apiCase
	for i := 0; i < 5; i++ {
		in := apiNewCase()
		in["title"] = fmt.Sprintf("噪音 %d", i)
		noise = append(noise, f.apiCreate(f.key, in))
	}
	for i := 0; i < 3; i++ {
		in := apiNewCase()
		in["category"], in["type"], in["title"] = "building", "help", fmt.Sprintf("违建 %d", i)
		building = append(building, f.apiCreate(f.key, in))
	}
	f.apiAct("disp", noise[0].TrackingCode, "dispatch", map[string]any{"department": "cgj"})
	f.apiAct("disp", noise[1].TrackingCode, "dispatch", map[string]any{"department": "cgj", "co_departments": []string{"zjj"}})
	f.apiAct("disp", building[0].TrackingCode, "dispatch", map[string]any{"department": "zjj"})

	type page struct {
		Cases []apiCase `json:"cases"`
		Total int       `json:"total"`
		Page  int       `json:"page"`
		Per   int       `json:"per_page"`
	}
	list := func(user, q string) page {
		t.Helper()
		status, body := f.apiDo("GET", "/api/v1/cases"+q, user, nil)
		if status != 200 {
			t.Fatalf("list %s as %s: %d %s", q, user, status, body)
		}
		var p page
		apiDecode(t, body, &p)
		if len(p.Cases) > p.Per {
			t.Errorf("list %s: %d cases on a page of %d", q, len(p.Cases), p.Per)
		}
		return p
	}
	for _, tc := range []struct {
		user, q   string
		total, n  int
		page, per int
	}{
		{"disp", "", 8, 8, 1, 20},
		{"disp", "?per_page=3", 8, 3, 1, 3},
		{"disp", "?per_page=3&page=3", 8, 2, 3, 3},
		{"disp", "?per_page=3&page=4", 8, 0, 4, 3},
		{"disp", "?category=noise", 5, 5, 1, 20},
		{"disp", "?category=noise&per_page=2&page=3", 5, 1, 3, 2},
		{"disp", "?type=help", 3, 3, 1, 20},
		{"disp", "?type=" + "%E6%B1%82%E5%8A%A9", 3, 3, 1, 20}, // 求助
		{"disp", "?department=cgj", 2, 2, 1, 20},
		{"disp", "?department=zjj", 2, 2, 1, 20}, // lead or co
		{"disp", "?step=accept", 3, 3, 1, 20},
		{"disp", "?step=dispatch,accept", 8, 8, 1, 20},
		{"disp", "?status=closed", 0, 0, 1, 20},
		{"disp", "?channel=api&status=open", 8, 8, 1, 20},
		{"disp", "?q=" + "%E8%BF%9D%E5%BB%BA", 3, 3, 1, 20}, // 违建
		{"disp", "?q=" + noise[3].TrackingCode, 1, 1, 1, 20},
		{"admin", "", 8, 8, 1, 20},
		{"intake", "", 8, 8, 1, 20},
		// Departments see their own cases only, whatever they ask.
		{"h.cgj", "", 2, 2, 1, 20},
		{"h.cgj", "?department=zjj", 2, 2, 1, 20},
		{"head.zjj", "", 2, 2, 1, 20},
		{"h.swj", "", 0, 0, 1, 20},
	} {
		p := list(tc.user, tc.q)
		if p.Total != tc.total || len(p.Cases) != tc.n || p.Page != tc.page || p.Per != tc.per {
			t.Errorf("list %q as %s: total=%d n=%d page=%d per=%d, want %d %d %d %d", tc.q, tc.user, p.Total, len(p.Cases), p.Page, p.Per, tc.total, tc.n, tc.page, tc.per)
		}
		for _, c := range p.Cases {
			if c.Requester.Phone == "13987654321" || c.Requester.Name == "李秀英" {
				t.Errorf("list shows the requester unmasked: %+v", c.Requester)
			}
			if tc.user == "h.cgj" && c.Department != "cgj" {
				t.Errorf("h.cgj sees a case of %q", c.Department)
			}
		}
	}
	// Pages cover every case exactly once, in every sort.
	for _, sort := range []string{"", "deadline", "received", "-received", "-updated"} {
		seen := map[int64]bool{}
		for pg := 1; pg <= 3; pg++ {
			for _, c := range list("disp", fmt.Sprintf("?per_page=3&page=%d&sort=%s", pg, sort)).Cases {
				if seen[c.ID] {
					t.Errorf("sort %q: case %d on two pages", sort, c.ID)
				}
				seen[c.ID] = true
			}
		}
		if len(seen) != 8 {
			t.Errorf("sort %q: pages held %d distinct cases, want 8", sort, len(seen))
		}
	}
	// Bad filters are 400s.
	for _, q := range []string{"?status=maybe", "?type=rant", "?per_page=0", "?per_page=101", "?page=0", "?page=x", "?sort=title", "?from=2026-13-01", "?due=later", "?q=" + strings.Repeat("x", 201)} {
		status, body := f.apiDo("GET", "/api/v1/cases"+q, "disp", nil)
		apiWantError(t, "list "+q, status, body, 400, tongban.EInvalid)
	}
	status, body := f.apiDo("GET", "/api/v1/cases", "", nil)
	apiWantError(t, "list without login", status, body, 401, tongban.EUnauthorized)
	status, body = f.apiDo("GET", "/api/v1/cases", f.key, nil)
	apiWantError(t, "list with an API key", status, body, 401, tongban.EUnauthorized)
}

func TestAPIOpsAndAdmin(t *testing.T) {
	t.Parallel()
	f := apiSetup(t)
	status, body := f.apiDo("GET", "/readyz", "", nil)
	if status != 200 || !strings.Contains(string(body), `"ok"`) {
		t.Errorf("readyz: %d %s", status, body)
	}
	status, body = f.apiDo("GET", "/api/v1/openapi.json", "", nil)
	var doc map[string]any
	if status != 200 || json.Unmarshal(body, &doc) != nil {
		t.Fatalf("openapi.json: %d, not JSON: %s", status, apiTrunc(body))
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Errorf("openapi version %q", v)
	}
	if _, ok := doc["paths"].(map[string]any); !ok {
		t.Error("openapi.json has no paths object")
	}

	admin := []struct{ method, path string }{
		{"GET", "/api/v1/users"}, {"POST", "/api/v1/users"}, {"PATCH", "/api/v1/users/1"},
		{"POST", "/api/v1/departments"}, {"PATCH", "/api/v1/departments/cgj"},
		{"POST", "/api/v1/categories"}, {"PUT", "/api/v1/categories/noise"},
		{"PUT", "/api/v1/calendar/overrides/2026-05-06"}, {"DELETE", "/api/v1/calendar/overrides/2026-05-06"},
		{"GET", "/api/v1/apikeys"}, {"POST", "/api/v1/apikeys"}, {"DELETE", "/api/v1/apikeys/1"},
	}
	for _, ep := range admin {
		var body any
		if ep.method != "GET" && ep.method != "DELETE" {
			body = map[string]any{}
		}
		for _, u := range []string{"disp", "h.cgj", "head.zjj", "intake"} {
			status, b := f.apiDo(ep.method, ep.path, u, body)
			apiWantError(t, ep.method+" "+ep.path+" as "+u, status, b, 403, tongban.EForbidden)
		}
		status, b := f.apiDo(ep.method, ep.path, "", body)
		apiWantError(t, ep.method+" "+ep.path+" anonymous", status, b, 401, tongban.EUnauthorized)
		status, b = f.apiDo(ep.method, ep.path, f.key, body)
		apiWantError(t, ep.method+" "+ep.path+" with API key", status, b, 401, tongban.EUnauthorized)
	}
	// The admin can, and cannot lock themselves out.
	status, body = f.apiDo("GET", "/api/v1/users", "admin", nil)
	if status != 200 || strings.Contains(string(body), "argon2") {
		t.Fatalf("users as admin: %d (password hashes must not appear)", status)
	}
	adminID := f.users["admin"].ID
	status, body = f.apiDo("PATCH", fmt.Sprintf("/api/v1/users/%d", adminID), "admin", map[string]any{"disabled": true})
	apiWantError(t, "admin disabling self", status, body, 409, tongban.EConflict)
	status, body = f.apiDo("PATCH", fmt.Sprintf("/api/v1/users/%d", adminID), "admin", map[string]any{"roles": []string{"dispatcher"}})
	apiWantError(t, "admin dropping own role", status, body, 409, tongban.EConflict)
	// Disabling a user through the API ends their token.
	status, body = f.apiDo("PATCH", fmt.Sprintf("/api/v1/users/%d", f.users["h.swj"].ID), "admin", map[string]any{"disabled": true})
	if status != 200 {
		t.Fatalf("disable h.swj: %d %s", status, body)
	}
	status, body = f.apiDo("GET", "/api/v1/me", "h.swj", nil)
	apiWantError(t, "disabled user's token", status, body, 401, tongban.EUnauthorized)

	status, body = f.apiDo("POST", "/api/v1/apikeys", "admin", map[string]any{"name": "open311 app"})
	var k struct {
		Key string `json:"key"`
	}
	apiDecode(t, body, &k)
	if status != 201 || !strings.HasPrefix(k.Key, "tbk_") {
		t.Fatalf("new key: %d %s", status, body)
	}
	f.apiCreate(k.Key, apiNewCase())
	// A revoked key stops working at once, although checked keys are cached.
	var keys struct {
		Keys []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"api_keys"`
	}
	if status, body = f.apiDo("GET", "/api/v1/apikeys", "admin", nil); status != 200 {
		t.Fatalf("list keys: %d %s", status, body)
	}
	apiDecode(t, body, &keys)
	var keyID int64
	for _, x := range keys.Keys {
		if x.Name == "open311 app" {
			keyID = x.ID
		}
	}
	if status, body = f.apiDo("DELETE", fmt.Sprintf("/api/v1/apikeys/%d", keyID), "admin", nil); status != 204 {
		t.Fatalf("revoke key %d: %d %s", keyID, status, body)
	}
	status, body = f.apiDo("POST", "/api/v1/cases", k.Key, apiNewCase())
	apiWantError(t, "revoked API key", status, body, 401, tongban.EUnauthorized)
	status, body = f.apiDo("GET", "/api/v1/me", "disp", nil)
	if status != 200 || !strings.Contains(string(body), `"login":"disp"`) {
		t.Errorf("me: %d %s", status, body)
	}
	status, body = f.apiDo("DELETE", "/api/v1/auth/token", "disp", nil)
	if status != 204 {
		t.Errorf("logout: %d %s", status, body)
	}
	status, body = f.apiDo("GET", "/api/v1/me", "disp", nil)
	apiWantError(t, "token after logout", status, body, 401, tongban.EUnauthorized)
	status, body = f.apiDo("POST", "/api/v1/auth/token", "", map[string]string{"login": "admin", "password": "wrong password"})
	apiWantError(t, "wrong password", status, body, 401, tongban.EUnauthorized)
	status, body = f.apiDo("GET", "/api/v1/workdays?from=2026-09-28&n=5", "", nil)
	if status != 200 || !strings.Contains(string(body), `"date":"2026-10-10"`) {
		t.Errorf("workdays: %d %s", status, body)
	}
}
