package server_test

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tongban/tongban/calendar"
)

const matterJSON = `{
  "code": "ZJ-9", "name": "建筑工程施工许可", "legal_basis": "《中华人民共和国建筑法》第七条",
  "conditions": ["已办理用地批准手续"],
  "materials": [{"name": "施工许可申请表", "required": true, "form": "original", "sample": "样表"}, {"name": "营业执照", "required": true, "form": "copy"}],
  "fees": [{"name": "工本费", "amount": "0.00", "legal_basis": "财政部文件"}],
  "statutory_days": 20, "promised_days": 15, "lead_department": "zjj",
  "steps": [
    {"name": "初审", "mode": "serial", "departments": ["zjj"], "limit_days": 3},
    {"name": "并联审查", "mode": "parallel", "departments": ["cgj", "swj"], "limit_days": 5}
  ],
  "place": "区政务服务中心", "hours": "工作日 9:00-17:30",
  "form": [
    {"name": "project", "label": "项目名称", "type": "text", "required": true, "max_length": 50},
    {"name": "manager", "label": "项目经理身份证", "type": "id_card"},
    {"name": "company", "label": "施工单位", "type": "usci", "required": true}
  ]
}`

func TestMattersAndApplicationsAPI(t *testing.T) {
	f := apiSetup(t)
	var now atomic.Pointer[time.Time]
	set := func(y int, m time.Month, d, h int) {
		t := time.Date(y, m, d, h, 0, 0, 0, calendar.Shanghai).UTC()
		now.Store(&t)
	}
	set(2026, 9, 22, 10)
	f.e.Now = func() time.Time { return *now.Load() }

	st, body := f.apiDo("POST", "/api/v1/matters", "h.zjj", matterJSON)
	apiWantError(t, "matter by a handler", st, body, http.StatusForbidden, "forbidden")
	st, body = f.apiDo("POST", "/api/v1/matters", "admin", strings.Replace(matterJSON, `"promised_days": 15`, `"promised_days": 25`, 1))
	apiWantError(t, "promised > statutory", st, body, http.StatusBadRequest, "invalid")
	st, body = f.apiDo("POST", "/api/v1/matters", "admin", matterJSON)
	if st != http.StatusCreated || !strings.Contains(string(body), `"version":1`) {
		t.Fatalf("create matter: %d %s", st, body)
	}
	st, body = f.apiDo("PUT", "/api/v1/matters/ZJ-9", "admin", matterJSON)
	if st != http.StatusOK || !strings.Contains(string(body), `"version":2`) {
		t.Fatalf("new version: %d %s", st, body)
	}
	st, body = f.apiDo("GET", "/api/v1/matters", "", nil)
	if st != http.StatusOK || !strings.Contains(string(body), `"total":1`) || !strings.Contains(string(body), `"mode":"parallel"`) {
		t.Fatalf("list: %d %s", st, body)
	}
	if st, body = f.apiDo("GET", "/api/v1/matters/ZJ-9?version=1", "", nil); st != http.StatusOK || !strings.Contains(string(body), `"version":1`) {
		t.Fatalf("version 1: %d %s", st, body)
	}

	app := func(name, usci, id string) map[string]any {
		return map[string]any{"kind": "application", "matter": "ZJ-9",
			"applicant": map[string]any{"type": "company", "name": name, "usci": usci, "phone": "13812345678"},
			"form":      map[string]any{"project": "青川花园", "company": usci, "manager": id}}
	}
	st, body = f.apiDo("POST", "/api/v1/cases", "", app("甲公司", "91350100M000100Y44", "11010519491231002X"))
	apiWantError(t, "bad USCI", st, body, http.StatusBadRequest, "invalid")
	st, body = f.apiDo("POST", "/api/v1/cases", "", app("甲公司", "91350100M000100Y43", "110105194912310021"))
	apiWantError(t, "bad ID card", st, body, http.StatusBadRequest, "invalid")
	hostile := `<script>alert(1)</script>建工有限公司`
	st, body = f.apiDo("POST", "/api/v1/cases", "", app(hostile, "91350100M000100Y43", "11010519491231002X"))
	if st != http.StatusCreated {
		t.Fatalf("public application: %d %s", st, body)
	}
	var filed struct {
		Code string `json:"tracking_code"`
	}
	apiDecode(t, body, &filed)
	var c struct {
		ID        int64  `json:"id"`
		Step      string `json:"step"`
		Kind      string `json:"kind"`
		Statutory string `json:"statutory_deadline"`
		Promised  string `json:"promised_deadline"`
		Actions   []string
		Attrs     map[string]any `json:"attrs"`
	}
	get := func() {
		st, body := f.apiDo("GET", "/api/v1/cases/"+filed.Code, "intake", nil)
		if st != http.StatusOK {
			t.Fatalf("get: %d %s", st, body)
		}
		c.Actions = nil
		apiDecode(t, body, &c)
	}
	get()
	if c.Kind != "application" || c.Step != "intake" || c.Statutory == "" || c.Promised == "" {
		t.Fatalf("application view: %+v", c)
	}
	id := strconv.FormatInt(c.ID, 10)
	act := func(who string, fields map[string]any) {
		t.Helper()
		st, body := f.apiDo("POST", "/api/v1/cases/"+id+"/actions", who, fields)
		if st != http.StatusOK {
			t.Fatalf("%v by %s: %d %s", fields["action"], who, st, body)
		}
	}
	notice := func(kind string, want ...string) string {
		t.Helper()
		st, body := f.apiDo("GET", "/api/v1/cases/"+id+"/notices/"+kind, "intake", nil)
		if st != http.StatusOK {
			t.Fatalf("notice %s: %d %s", kind, st, body)
		}
		s := string(body)
		if strings.Contains(s, "<script>") || strings.Contains(s, "<b>") || strings.Contains(s, "<img") {
			t.Fatalf("notice %s not escaped:\n%s", kind, s)
		}
		for _, w := range append(want, filed.Code, "住建局", "&lt;script&gt;") {
			if !strings.Contains(s, w) {
				t.Fatalf("notice %s lacks %q:\n%s", kind, w, s)
			}
		}
		return s
	}
	notice("receipt", "2026年9月22日")
	if st, _ := f.apiDo("GET", "/api/v1/cases/"+id+"/notices/acceptance", "intake", nil); st != http.StatusNotFound {
		t.Fatalf("acceptance notice before acceptance: %d", st)
	}

	set(2026, 9, 23, 9)
	act("intake", map[string]any{"action": "request_supplement", "items": []string{"<b>缺少营业执照副本</b>", "申请表未盖章"}})
	notice("supplement", "2026年9月23日", "&lt;b&gt;缺少营业执照副本&lt;/b&gt;", "申请表未盖章")
	set(2026, 9, 24, 15)
	st, body = f.apiDo("POST", "/api/v1/track/"+filed.Code+"/supplement", "", map[string]any{"phone_last4": "0000", "text": "补交"})
	apiWantError(t, "supplement with wrong digits", st, body, http.StatusNotFound, "not_found")
	if st, body = f.apiDo("POST", "/api/v1/track/"+filed.Code+"/supplement", "", map[string]any{"phone_last4": "5678", "text": "已补交"}); st != http.StatusOK {
		t.Fatalf("public supplement: %d %s", st, body)
	}
	set(2026, 9, 28, 10)
	act("intake", map[string]any{"action": "accept"})
	get()
	if c.Statutory != "2026-10-30T15:59:59Z" || c.Promised != "2026-10-23T15:59:59Z" || c.Step != "review" {
		t.Fatalf("after acceptance: %+v", c)
	}
	if ap, _ := c.Attrs["applicant"].(map[string]any); ap["phone"] != "138****5678" {
		t.Fatalf("applicant not masked: %v", ap)
	}
	notice("acceptance", "2026年9月28日", "2026年10月30日", "2026年10月23日")
	set(2026, 9, 29, 10)
	act("h.zjj", map[string]any{"action": "opinion", "approve": true})
	act("h.cgj", map[string]any{"action": "opinion", "approve": true})
	act("h.swj", map[string]any{"action": "opinion", "approve": false, "text": "排水方案不符合要求"})
	get()
	if c.Step != "ruling" {
		t.Fatalf("after an objection: %s", c.Step)
	}
	set(2026, 9, 30, 10)
	act("head.zjj", map[string]any{"action": "decide", "grant": false, "reasons": `<img src=x onerror=alert(1)>排水不达标`})
	notice("decision", "不予行政许可决定书", "六十日", "六个月", "&lt;img src=x onerror=alert(1)&gt;排水不达标", "2026年9月30日")

	// A second application, filed at the window, granted and published.
	st, body = f.apiDo("POST", "/api/v1/cases", "intake", app("乙建设有限公司", "91350100M000100Y43", ""))
	if st != http.StatusCreated || !strings.Contains(string(body), `"channel":"window"`) {
		t.Fatalf("window application: %d %s", st, body)
	}
	var c2 struct {
		ID int64 `json:"id"`
	}
	apiDecode(t, body, &c2)
	id = strconv.FormatInt(c2.ID, 10)
	act("intake", map[string]any{"action": "accept"})
	act("h.zjj", map[string]any{"action": "opinion", "approve": true})
	act("h.cgj", map[string]any{"action": "opinion", "approve": true})
	act("h.swj", map[string]any{"action": "opinion", "approve": true})
	act("head.zjj", map[string]any{"action": "decide", "grant": true, "licence_no": "施许2026-7"})
	st, body = f.apiDo("GET", "/api/v1/matters/ZJ-9/grants", "", nil)
	if st != http.StatusOK || !strings.Contains(string(body), "乙建设有限公司") || !strings.Contains(string(body), "施许2026-7") || strings.Contains(string(body), "alert") {
		t.Fatalf("grants: %d %s", st, body)
	}
}
