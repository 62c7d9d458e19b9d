package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
)

// uiTestMatter is a free matter with a serial step and a parallel one.
func uiTestMatter(code string) *tongban.Matter {
	return &tongban.Matter{Code: code, Name: "户外广告设施设置许可", LegalBasis: "《城市市容和环境卫生管理条例》第十一条",
		Conditions: []string{"设置地点符合户外广告设施设置规划"},
		Materials: []tongban.Material{{Name: "设置申请表", Required: true, Form: "original", Sample: "户外广告设施设置申请表\n申请人：____"},
			{Name: "营业执照", Required: true, Form: "copy"}},
		Free: true, StatutoryDays: 20, PromisedDays: 10, Lead: "cgj",
		Steps: []tongban.MatterStep{{Name: "初审", Mode: "serial", Departments: []string{"cgj"}, LimitDays: 3},
			{Name: "并联审查", Mode: "parallel", Departments: []string{"cgj", "zjj"}, LimitDays: 5}},
		Place: "区政务服务中心二楼", Hours: "工作日 9:00-17:30",
		Form: []tongban.FormField{{Name: "site", Label: "设置地点", Type: "text", Required: true, MaxLen: 100},
			{Name: "area", Label: "面积（平方米）", Type: "number", Required: true},
			{Name: "start", Label: "起始日期", Type: "date"},
			{Name: "kind", Label: "设施类型", Type: "select", Options: []string{"招牌", "灯箱"}, Required: true},
			{Name: "lit", Label: "是否照明", Type: "bool", Required: true},
			{Name: "owner_usci", Label: "设置单位代码", Type: "usci"},
			{Name: "agent_id", Label: "经办人身份证", Type: "id_card"},
			{Name: "agent_phone", Label: "经办人电话", Type: "phone"}}}
}

func (f *uiFixture) putMatter(m *tongban.Matter) {
	f.t.Helper()
	ctx := context.Background()
	admin, err := f.e.Store.UserByLogin(ctx, "admin")
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.e.PutMatter(ctx, engine.Actor{User: admin}, m); err != nil {
		f.t.Fatal(err)
	}
}

func wantIn(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Fatalf("%s: no %q in\n%s", what, w, body)
		}
	}
}

func (f *uiFixture) act(c *http.Client, csrf string, id int64, action string, fields url.Values) (int, string, http.Header) {
	f.t.Helper()
	form := url.Values{"csrf": {csrf}, "action": {action}}
	for k, v := range fields {
		form[k] = v
	}
	return f.post(c, fmt.Sprintf("/work/applications/%d/act", id), form)
}

func TestUIApplicationPages(t *testing.T) {
	f := uiSetup(t)
	f.putMatter(uiTestMatter("GG-1"))
	pub := f.client()

	// Catalogue and guide.
	_, body := f.get(pub, "/matters")
	wantIn(t, "catalogue", body, "户外广告设施设置许可", "并联审批", "免费", `href="/matters/GG-1/apply"`)
	_, body = f.get(pub, "/matters?q=住建")
	wantIn(t, "search by department", body, "户外广告设施设置许可")
	_, body = f.get(pub, "/matters?q=nothing-like-it")
	wantIn(t, "search miss", body, "没有符合条件的事项")
	_, body = f.get(pub, "/matters?dept=zx")
	wantIn(t, "dept filter", body, "没有符合条件的事项")
	st, body := f.get(pub, "/matters/GG-1")
	if st != http.StatusOK {
		t.Fatalf("guide: %d", st)
	}
	wantIn(t, "guide", body, "城市市容和环境卫生管理条例", "设置地点符合", "设置申请表", "复印件", "原件", "免费", "10个工作日", "20个工作日",
		"并联", "城管执法局", "住建局", "区政务服务中心二楼", "工作日 9:00-17:30", "/matters/GG-1/materials/1/sample")
	st, body = f.get(pub, "/matters/GG-1/materials/1/sample")
	if st != http.StatusOK || !strings.Contains(body, "申请人：____") {
		t.Fatalf("sample: %d %s", st, body)
	}
	if st, _ = f.get(pub, "/matters/NOPE"); st != http.StatusNotFound {
		t.Fatalf("unknown matter: %d", st)
	}
	_, body = f.get(f.client(), "/matters/GG-1?lang=en")
	wantIn(t, "guide in English", body, "Legal basis", "Free", "working days")

	// The form, its errors next to the fields, the input kept.
	_, body = f.get(pub, "/matters/GG-1/apply")
	wantIn(t, "form", body, `name="form.site"`, `name="form.area"`, `type="date"`, `<option value="灯箱"`, `name="form.lit" value="yes"`,
		`name="applicant.usci"`, `name="material.1" type="file"`)
	bad := url.Values{"applicant.type": {"company"}, "applicant.name": {"青川广告有限公司"}, "applicant.usci": {"91350100M000100Y44"},
		"applicant.phone": {"13812345678"}, "form.site": {"东城路18号"}, "form.area": {"abc"}, "form.kind": {"灯箱"}}
	st, body, _ = f.post(pub, "/matters/GG-1/apply", bad)
	if st != http.StatusBadRequest {
		t.Fatalf("bad form: %d", st)
	}
	wantIn(t, "errors", body, "统一社会信用代码无效", "面积（平方米）应为数字", "是否照明为必填项", `value="东城路18号"`, `value="青川广告有限公司"`,
		`value="company" checked`, `<option value="灯箱" selected>`)
	if strings.Count(body, `class="ferr"`) < 3 {
		t.Fatalf("want three field errors:\n%s", body)
	}
	good := url.Values{}
	for k, v := range bad {
		good[k] = v
	}
	good.Set("applicant.usci", "91350100M000100Y43")
	good.Set("form.area", "12.5")
	good.Set("form.lit", "yes")
	good.Set("form.start", "2026-10-01")
	st, _, h := f.post(pub, "/matters/GG-1/apply", good)
	loc := h.Get("Location")
	m := regexp.MustCompile(`^/receipt/([A-Z0-9-]+)/application$`).FindStringSubmatch(loc)
	if st != http.StatusSeeOther || m == nil {
		t.Fatalf("apply: %d %q", st, loc)
	}
	code := m[1]
	_, body = f.get(pub, loc)
	wantIn(t, "receipt", body, code, "户外广告设施设置许可", "自受理之日起10个工作日", "/notices/receipt?phone_last4=5678")
	_, body = f.get(f.client(), loc)
	wantIn(t, "receipt without the cookie asks for the digits", body, `name="phone_last4"`)
	c, err := f.e.Find(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != tongban.KindApplication || c.Channel != tongban.ChannelWeb {
		t.Fatalf("filed %s via %s", c.Kind, c.Channel)
	}
	track := "/track?" + url.Values{"code": {code}, "phone_last4": {"5678"}}.Encode()
	_, body = f.get(pub, track)
	wantIn(t, "progress at intake", body, "待受理", "10个工作日", "自受理之日起计算", "并联审查")

	// The clerk asks for a supplement from the 审批件 tab.
	clerk, ccsrf := f.login("clerk")
	_, body = f.get(clerk, "/work?tab=apps")
	wantIn(t, "clerk's queue", body, code, "受理审查")
	_, body = f.get(clerk, fmt.Sprintf("/work/cases/%d", c.ID))
	wantIn(t, "case page", body, `id="application"`, "面积（平方米）", "12.5", `id="act-accept"`, `id="act-request_supplement"`,
		`textarea id="f-request_supplement-items"`, "每行一项")
	st, _, _ = f.act(clerk, ccsrf, c.ID, "request_supplement", url.Values{"items": {"营业执照复印件不清晰\n缺少设置效果图"}})
	if st != http.StatusSeeOther {
		t.Fatalf("request supplement: %d", st)
	}
	_, body = f.get(pub, track)
	wantIn(t, "progress asks for supplement", body, "营业执照复印件不清晰", "缺少设置效果图", `id="supplement-form"`, "补正材料告知书")
	st, body, _ = f.post(pub, "/track/"+code+"/supplement", url.Values{"phone_last4": {"5678"}, "text": {""}})
	if st != http.StatusBadRequest || !strings.Contains(body, `class="ferr"`) {
		t.Fatalf("empty supplement: %d", st)
	}
	st, _, _ = f.post(pub, "/track/"+code+"/supplement", url.Values{"phone_last4": {"5678"}, "text": {"已上传清晰的营业执照和效果图"}})
	if st != http.StatusSeeOther {
		t.Fatalf("supplement: %d", st)
	}
	if st, _, _ = f.act(clerk, ccsrf, c.ID, "accept", nil); st != http.StatusSeeOther {
		t.Fatalf("accept: %d", st)
	}

	// First stage: cgj alone; then the parallel one: cgj and zjj.
	hc, hcsrf := f.login("h.cgj")
	_, body = f.get(hc, "/work?tab=apps")
	wantIn(t, "handler's queue", body, code, "部门意见")
	_, body = f.get(hc, fmt.Sprintf("/work/cases/%d", c.ID))
	wantIn(t, "opinion form", body, `name="approve" value="yes"`, `name="approve" value="no"`, "同意", "不同意")
	st, body, _ = f.act(hc, hcsrf, c.ID, "opinion", url.Values{"text": {"材料齐全"}})
	if st != http.StatusBadRequest {
		t.Fatalf("opinion without a choice: %d", st)
	}
	wantIn(t, "opinion error kept", body, "请选择是否同意", "材料齐全")
	for _, who := range []struct {
		cl   *http.Client
		csrf string
	}{{hc, hcsrf}, {hc, hcsrf}} {
		if st, _, _ = f.act(who.cl, who.csrf, c.ID, "opinion", url.Values{"approve": {"yes"}}); st != http.StatusSeeOther {
			t.Fatalf("opinion: %d", st)
		}
	}
	_, body = f.get(pub, track)
	wantIn(t, "progress in review", body, "同意", "审查中", `id="promised-date"`, `id="statutory-date"`, "年")
	if strings.Contains(body, "材料齐全") {
		t.Fatal("internal opinion text shown to the applicant")
	}
	hz, hzcsrf := f.login("h.zjj")
	if st, _, _ = f.act(hz, hzcsrf, c.ID, "opinion", url.Values{"approve": {"yes"}, "text": {"同意设置"}}); st != http.StatusSeeOther {
		t.Fatalf("zjj opinion: %d", st)
	}
	head, headcsrf := f.login("head.cgj")
	_, body = f.get(head, fmt.Sprintf("/work/cases/%d", c.ID))
	wantIn(t, "decide form", body, `id="act-decide"`, `name="grant" value="yes"`, "准予许可", "不予许可", "同意设置")
	if st, _, _ = f.act(head, headcsrf, c.ID, "decide", url.Values{"grant": {"yes"}, "licence_no": {"GG-2026-001"}}); st != http.StatusSeeOther {
		t.Fatalf("decide: %d", st)
	}
	if st, _, _ = f.act(clerk, ccsrf, c.ID, "deliver", url.Values{"method": {"窗口领取"}}); st != http.StatusSeeOther {
		t.Fatalf("deliver: %d", st)
	}
	_, body = f.get(pub, track)
	wantIn(t, "progress decided", body, "准予许可", "GG-2026-001", `id="rate-form"`, "准予行政许可决定书", "受理通知书")
	st, _, h = f.post(pub, "/track/"+code+"/rate", url.Values{"phone_last4": {"5678"}, "level": {"5"}})
	if st != http.StatusSeeOther {
		t.Fatalf("rate: %d", st)
	}
	_, body = f.get(pub, h.Get("Location"))
	wantIn(t, "rated", body, "非常满意", "已办结")
	_, body = f.get(head, fmt.Sprintf("/work/cases/%d", c.ID))
	wantIn(t, "staff notices", body, fmt.Sprintf("/api/v1/cases/%d/notices/decision", c.ID))
}

// TestUIMatterCatalogueSpeed times the catalogue page with 2,000 matters
// in the store: it must render in under 50 ms.
func TestUIMatterCatalogueSpeed(t *testing.T) {
	f := uiSetup(t)
	ms, ok := f.e.Store.(tongban.MatterStore)
	if !ok {
		t.Skip("store keeps no catalogue")
	}
	ctx := context.Background()
	for i := range 2000 {
		m := uiTestMatter(fmt.Sprintf("M-%04d", i))
		m.Name = fmt.Sprintf("第%d号事项许可", i)
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := ms.PutMatter(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if _, err := f.e.Matters(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("store: 2,000 matters listed in %v", time.Since(start))
	h := New(f.e, DefaultOptions()).Handler()
	warm := httptest.NewRecorder()
	start = time.Now()
	h.ServeHTTP(warm, httptest.NewRequest("GET", "/matters", nil))
	t.Logf("first (cold) catalogue page: %v", time.Since(start))
	var times []time.Duration
	for _, path := range []string{"/matters", "/matters?q=城管", "/matters?page=40"} {
		for range 10 {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", path, nil)
			start := time.Now()
			h.ServeHTTP(rec, req)
			times = append(times, time.Since(start))
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "共 2000 个事项") {
				t.Fatalf("%s: %d", path, rec.Code)
			}
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	med, p90 := times[len(times)/2], times[len(times)*9/10]
	t.Logf("catalogue page with 2,000 matters: median %v, p90 %v", med, p90)
	if med > 50*time.Millisecond {
		t.Fatalf("catalogue page median %v, want < 50ms", med)
	}
	rec := httptest.NewRecorder()
	start = time.Now()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/matters/M-1999", nil))
	t.Logf("guide page: %v", time.Since(start))
}
