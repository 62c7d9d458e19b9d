package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/engine"
)

func (f *apiFixture) addUser(login, dept, roles string) {
	f.t.Helper()
	name, pw := login, apiPassword
	usr, err := f.e.AddUser(f.ctx, login, engine.UserChange{Name: &name, Dept: &dept, Roles: &roles, Password: &pw})
	if err != nil {
		f.t.Fatal(err)
	}
	f.users[login] = usr
	f.tokens[login] = f.apiLogin(login)
}

// page fetches a web page, logged in as login by cookie ("" for the public).
func (f *apiFixture) page(login, path string) (int, string) {
	f.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if login != "" {
		res, err := c.PostForm(f.srv.URL+"/login", url.Values{"login": {login}, "password": {apiPassword}})
		if err != nil {
			f.t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			f.t.Fatalf("login %s: %d", login, res.StatusCode)
		}
	}
	res, err := c.Get(f.srv.URL + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return res.StatusCode, b.String()
}

type apiRatingCase struct {
	apiCase
	Ratings []struct {
		No      int    `json:"no"`
		Level   int    `json:"level"`
		Channel string `json:"channel"`
		Visit   bool   `json:"visit"`
		State   string `json:"state"`
		Overdue bool   `json:"overdue"`
	} `json:"ratings"`
	Flags []tongban.Flag `json:"supervision_flags"`
}

func TestRatingsAPI(t *testing.T) {
	t.Parallel()
	f := apiSetup(t)
	f.addUser("sup", "zx", "supervisor")
	in := apiNewCase()
	in["channel"] = "window"
	c := f.apiCreate("intake", in)
	f.apiAct("disp", c.TrackingCode, "dispatch", map[string]any{"department": "cgj"})
	f.apiAct("h.cgj", c.TrackingCode, "accept", nil)
	f.apiAct("h.cgj", c.TrackingCode, "reply", map[string]any{"text": "已责令工地夜间停工"})
	status, body := f.apiDo("POST", "/api/v1/track/"+c.TrackingCode+"/rate", "", map[string]any{"phone_last4": "4321", "level": 1, "comment": "噪音依旧很大"})
	if status != http.StatusOK {
		t.Fatalf("rate: %d %s", status, apiTrunc(body))
	}
	f.apiAct("intake", c.TrackingCode, "rate_visit", map[string]any{"level": 5, "comment": "窗口服务热情"})

	var rc apiRatingCase
	status, body = f.apiDo("GET", "/api/v1/cases/"+c.TrackingCode, "sup", nil)
	if status != http.StatusOK {
		t.Fatalf("GET case: %d", status)
	}
	apiDecode(t, body, &rc)
	if len(rc.Ratings) != 2 || rc.Ratings[0].State != tongban.BadVerify || rc.Ratings[0].Channel != "online" || !rc.Ratings[1].Visit || rc.Ratings[1].State != "" {
		t.Fatalf("ratings %+v", rc.Ratings)
	}
	if !strings.Contains(strings.Join(rc.Actions, ","), "verify_rating") || !strings.Contains(strings.Join(rc.Actions, ","), "callback_rating") {
		t.Fatalf("supervisor's actions %v", rc.Actions)
	}
	status, body = f.apiTryAct("sup", c.TrackingCode, "verify_rating", map[string]any{"verdict": "wrong"})
	apiWantError(t, "a verdict outside the options", status, body, http.StatusBadRequest, "invalid")
	status, body = f.apiTryAct("h.cgj", c.TrackingCode, "verify_rating", map[string]any{"verdict": "valid"})
	apiWantError(t, "a handler verifying", status, body, http.StatusForbidden, "forbidden")
	status, body = f.apiTryAct("h.zjj", c.TrackingCode, "rectify_rating", map[string]any{"text": "x"})
	apiWantError(t, "another department rectifying", status, body, http.StatusNotFound, "not_found")
	f.apiAct("sup", c.TrackingCode, "verify_rating", map[string]any{"verdict": "valid", "text": "属实"})
	got := f.apiAct("h.cgj", c.TrackingCode, "rectify_rating", map[string]any{"item": 1, "text": "已处罚施工方"})
	if got.Event.Public {
		t.Fatal("a 差评 step is on the public timeline")
	}

	// The 差评 list: all for the supervision office, their own for departments.
	var list struct {
		Ratings []struct {
			TrackingCode string  `json:"tracking_code"`
			No           int     `json:"no"`
			State        string  `json:"state"`
			Department   string  `json:"department"`
			Verified     bool    `json:"verified"`
			Rectified    bool    `json:"rectified"`
			OnTime       bool    `json:"rectified_on_time"`
			Overdue      bool    `json:"overdue"`
			Deadline     *string `json:"deadline"`
		} `json:"ratings"`
		Total int `json:"total"`
	}
	status, body = f.apiDo("GET", "/api/v1/ratings?state=all", "sup", nil)
	if status != http.StatusOK {
		t.Fatalf("GET ratings: %d %s", status, apiTrunc(body))
	}
	apiDecode(t, body, &list)
	if list.Total != 1 || list.Ratings[0].TrackingCode != c.TrackingCode || list.Ratings[0].State != tongban.BadCallback ||
		!list.Ratings[0].Verified || !list.Ratings[0].Rectified || !list.Ratings[0].OnTime || list.Ratings[0].Department != "cgj" || list.Ratings[0].Deadline == nil {
		t.Fatalf("ratings list %s", body)
	}
	status, body = f.apiDo("GET", "/api/v1/ratings?state=callback", "head.cgj", nil)
	apiDecode(t, body, &list)
	if status != http.StatusOK || list.Total != 1 {
		t.Fatalf("the department's own: %d %s", status, body)
	}
	status, body = f.apiDo("GET", "/api/v1/ratings?state=all", "h.zjj", nil)
	apiDecode(t, body, &list)
	if status != http.StatusOK || list.Total != 0 {
		t.Fatalf("another department: %d %s", status, body)
	}
	status, body = f.apiDo("GET", "/api/v1/ratings?department=cgj", "h.zjj", nil)
	apiWantError(t, "another department's list", status, body, http.StatusForbidden, "forbidden")
	status, body = f.apiDo("GET", "/api/v1/ratings?state=nonsense", "sup", nil)
	apiWantError(t, "an unknown state", status, body, http.StatusBadRequest, "invalid")
	status, body = f.apiDo("GET", "/api/v1/ratings", "", nil)
	apiWantError(t, "the public", status, body, http.StatusUnauthorized, "unauthorized")

	// The published figures: public, aggregates only.
	today := time.Now().In(calendar.Shanghai)
	q := "?from=" + today.AddDate(0, 0, -2).Format("2006-01-02") + "&to=" + today.AddDate(0, 0, 2).Format("2006-01-02")
	status, body = f.apiDo("GET", "/api/v1/ratings/summary"+q, "", nil)
	if status != http.StatusOK {
		t.Fatalf("summary: %d %s", status, apiTrunc(body))
	}
	var sum struct {
		Total struct {
			Ratings          int            `json:"ratings"`
			Levels           map[string]int `json:"levels"`
			SatisfactionRate *float64       `json:"satisfaction_rate"`
			Bad              int            `json:"bad"`
			Verified         int            `json:"verified"`
			CalledBack       int            `json:"called_back"`
			Rectified        int            `json:"rectified"`
			OnTime           int            `json:"rectified_on_time"`
		} `json:"total"`
		Departments []struct {
			Code    string `json:"code"`
			Name    string `json:"name"`
			Ratings int    `json:"ratings"`
			Bad     int    `json:"bad"`
		} `json:"departments"`
		Categories []struct {
			Code    string `json:"code"`
			Ratings int    `json:"ratings"`
		} `json:"categories"`
		Matters []json.RawMessage `json:"matters"`
	}
	apiDecode(t, body, &sum)
	if sum.Total.Ratings != 2 || sum.Total.Bad != 1 || sum.Total.Levels["1"] != 1 || sum.Total.Levels["5"] != 1 || sum.Total.SatisfactionRate == nil ||
		*sum.Total.SatisfactionRate != 0.5 || sum.Total.Verified != 1 || sum.Total.Rectified != 1 || sum.Total.OnTime != 1 || sum.Total.CalledBack != 0 {
		t.Fatalf("summary %s", body)
	}
	if len(sum.Departments) != 1 || sum.Departments[0].Code != "cgj" || sum.Departments[0].Name != "城管执法局" || sum.Departments[0].Bad != 1 ||
		len(sum.Categories) != 1 || sum.Categories[0].Code != "noise" || sum.Matters == nil || len(sum.Matters) != 0 {
		t.Fatalf("groups %s", body)
	}
	for _, secret := range []string{"李秀英", "李*", "13987654321", "139****4321", "噪音依旧很大", "窗口服务热情", c.TrackingCode, "h.cgj", "comment", "phone", "requester", "title"} {
		if strings.Contains(string(body), secret) {
			t.Errorf("the published figures contain %q: %s", secret, body)
		}
	}
	status, body = f.apiDo("GET", "/api/v1/ratings/summary?from=2026-13-01", "", nil)
	apiWantError(t, "a bad date", status, body, http.StatusBadRequest, "invalid")
	status, body = f.apiDo("GET", "/api/v1/ratings/summary?from=2026-05-01&to=2026-04-01", "", nil)
	apiWantError(t, "to before from", status, body, http.StatusBadRequest, "invalid")
	if status, body = f.apiDo("GET", "/api/v1/ratings/summary", "", nil); status != http.StatusOK || !strings.Contains(string(body), `"from":"`+today.Format("2006")+`-01-01"`) {
		t.Fatalf("default period: %d %s", status, apiTrunc(body))
	}

	// The pages: the public figures, the workbench, the case page.
	st, html := f.page("", "/open/ratings"+q)
	if st != http.StatusOK || !strings.Contains(html, "政务服务好差评公开") || !strings.Contains(html, "城管执法局") || !strings.Contains(html, `id="rt-n">2<`) {
		t.Fatalf("public page: %d %s", st, apiTrunc([]byte(html)))
	}
	for _, secret := range []string{"李秀英", "13987654321", "噪音依旧很大", c.TrackingCode} {
		if strings.Contains(html, secret) {
			t.Errorf("the public page contains %q", secret)
		}
	}
	if st, html = f.page("", "/open/ratings?lang=en"); st != http.StatusOK || !strings.Contains(html, "Service ratings, published") {
		t.Fatalf("English page: %d", st)
	}
	if st, html = f.page("", "/open/ratings?from=nonsense"); st != http.StatusOK || !strings.Contains(html, `id="page-error"`) && !strings.Contains(html, "ferr") {
		t.Fatalf("a bad date on the page: %d", st)
	}
	if st, html = f.page("sup", "/supervise/ratings?state=all"); st != http.StatusOK || !strings.Contains(html, c.TrackingCode) || !strings.Contains(html, "待回访") {
		t.Fatalf("workbench: %d %s", st, apiTrunc([]byte(html)))
	}
	if st, html = f.page("h.zjj", "/supervise/ratings?state=all"); st != http.StatusOK || strings.Contains(html, c.TrackingCode) {
		t.Fatalf("another department's workbench: %d", st)
	}
	if st, html = f.page("sup", "/work/cases/"+c.TrackingCode); st != http.StatusOK || !strings.Contains(html, `id="ratings"`) || !strings.Contains(html, `id="act-callback_rating"`) ||
		!strings.Contains(html, "已处罚施工方") {
		t.Fatalf("case page: %d", st)
	}
	if st, _ = f.page("h.cgj", "/supervise/flags"); st != http.StatusForbidden {
		t.Fatalf("flags page for a handler: %d", st)
	}
}

// Fees and entries after the fact show in the case JSON, the alarms API
// (by scope) and the flags page.
func TestSupervisionFlagsAPI(t *testing.T) {
	t.Parallel()
	f := apiSetup(t)
	f.addUser("sup", "zx", "supervisor")
	m := &tongban.Matter{Code: "ZJ-9", Name: "临时占道许可", LegalBasis: "《城市道路管理条例》", Free: true, StatutoryDays: 20, PromisedDays: 10, Lead: "cgj",
		Steps: []tongban.MatterStep{{Name: "审查", Mode: tongban.StepSerial, Departments: []string{"cgj"}, LimitDays: 5}}}
	if err := f.e.PutMatter(f.ctx, engine.Actor{User: f.users["admin"]}, m); err != nil {
		t.Fatal(err)
	}
	status, body := f.apiDo("POST", "/api/v1/cases", "intake", map[string]any{"kind": "application", "matter": "ZJ-9", "channel": "window",
		"applicant": map[string]any{"type": "person", "name": "王五", "id_number": "11010519491231002X", "phone": "13812345678"}})
	if status != http.StatusCreated {
		t.Fatalf("apply: %d %s", status, apiTrunc(body))
	}
	var c apiCase
	apiDecode(t, body, &c)
	f.apiAct("intake", c.TrackingCode, "accept", nil)
	status, body = f.apiTryAct("intake", c.TrackingCode, "charge_fee", map[string]any{"fee": "工本费", "amount": "ten"})
	apiWantError(t, "an amount that is no number", status, body, http.StatusBadRequest, "invalid")
	f.apiAct("h.cgj", c.TrackingCode, "charge_fee", map[string]any{"fee": "工本费", "amount": "20"})
	f.apiAct("intake", c.TrackingCode, "charge_fee", map[string]any{"fee": "加急费", "amount": "5"})
	var rc apiRatingCase
	status, body = f.apiDo("GET", "/api/v1/cases/"+c.TrackingCode, "sup", nil)
	apiDecode(t, body, &rc)
	if status != http.StatusOK || len(rc.Flags) != 2 || rc.Flags[0].Kind != tongban.FlagFeeOnFreeMatter || !strings.Contains(rc.Flags[0].Detail, "20.00") ||
		!strings.Contains(rc.Flags[1].Detail, "5.00") {
		t.Fatalf("case flags %s", apiTrunc(body))
	}
	var alarms struct {
		Alarms []struct {
			Scope string `json:"scope"`
			Dept  string `json:"department"`
		} `json:"alarms"`
		Total int `json:"total"`
	}
	status, body = f.apiDo("GET", "/api/v1/alarms?state=all&scope=fee,backdated", "sup", nil)
	apiDecode(t, body, &alarms)
	if status != http.StatusOK || alarms.Total != 1 || alarms.Alarms[0].Scope != "fee" || alarms.Alarms[0].Dept != "cgj" {
		t.Fatalf("alarms %d %s", status, apiTrunc(body))
	}
	status, body = f.apiDo("GET", "/api/v1/alarms?state=all&scope=case", "sup", nil)
	apiDecode(t, body, &alarms)
	if status != http.StatusOK || alarms.Total != 0 {
		t.Fatalf("case-scope alarms %s", apiTrunc(body))
	}
	if st, html := f.page("sup", "/supervise/flags"); st != http.StatusOK || !strings.Contains(html, c.TrackingCode) || !strings.Contains(html, "免费事项收费") ||
		!strings.Contains(html, "20.00") || !strings.Contains(html, "5.00") {
		t.Fatalf("flags page: %d %s", st, apiTrunc([]byte(html)))
	}
	status, body = f.apiDo("GET", "/api/v1/openapi.json", "", nil)
	if status != http.StatusOK || !strings.Contains(string(body), "/ratings/summary") || !strings.Contains(string(body), "rate_visit") {
		t.Fatalf("OpenAPI does not describe the ratings endpoints")
	}
}
