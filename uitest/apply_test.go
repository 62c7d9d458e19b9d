package uitest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
)

// TestBrowserApplication follows a licence application with a parallel
// step: filed online, sent back for 补正, supplemented, accepted, answered
// by two departments at once, granted, delivered and rated.
func TestBrowserApplication(t *testing.T) {
	en := setup(t)
	ctx := context.Background()
	admin, err := en.e.Store.UserByLogin(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	m := &tongban.Matter{Code: "GG-1", Name: "户外广告设施设置许可", LegalBasis: "《城市市容和环境卫生管理条例》第十一条",
		Materials: []tongban.Material{{Name: "设置申请表", Required: true, Form: "original", Sample: "申请表样表"}},
		Free:      true, StatutoryDays: 20, PromisedDays: 10, Lead: "cgj",
		Steps: []tongban.MatterStep{{Name: "并联审查", Mode: tongban.StepParallel, Departments: []string{"cgj", "zjj"}, LimitDays: 5}},
		Place: "区政务服务中心二楼", Hours: "工作日 9:00-17:30",
		Form: []tongban.FormField{{Name: "site", Label: "设置地点", Type: "text", Required: true, MaxLen: 100},
			{Name: "area", Label: "面积（平方米）", Type: "number", Required: true},
			{Name: "kind", Label: "设施类型", Type: "select", Options: []string{"招牌", "灯箱"}, Required: true},
			{Name: "lit", Label: "是否照明", Type: "bool", Required: true}}}
	if err := en.e.PutMatter(ctx, engine.Actor{User: admin}, m); err != nil {
		t.Fatal(err)
	}

	applicant := en.session(portalWidth)
	en.open(applicant, "/matters", "#matters")
	contains(t, "catalogue", en.text(applicant, "#matters"), "户外广告设施设置许可")
	en.open(applicant, "/matters/GG-1", "#apply-online")
	contains(t, "guide", en.text(applicant, "#mat-fee"), "免费")
	en.run(applicant, "open the form", chromedp.Click(chromedp.CSS("#apply-online")), chromedp.WaitVisible(chromedp.CSS("#ap-submit")))
	en.run(applicant, "fill the form",
		chromedp.Click(chromedp.CSS(`input[name="applicant.type"][value=company]`)),
		chromedp.SetValue(chromedp.CSS("#ap-name"), "青川广告有限公司"),
		chromedp.SetValue(chromedp.CSS("#ap-usci"), "91350100M000100Y43"),
		chromedp.SetValue(chromedp.CSS("#ap-phone"), "13812345678"),
		chromedp.SetValue(chromedp.CSS("#ap-contact"), "钱经办"),
		chromedp.SetValue(chromedp.CSS("#fm-site"), "东城路18号"),
		chromedp.SetValue(chromedp.CSS("#fm-area"), "十二"),
		chromedp.SetValue(chromedp.CSS("#fm-kind"), "灯箱"),
		chromedp.Click(chromedp.CSS(`input[name="form.lit"][value=yes]`)),
		chromedp.Click(chromedp.CSS("#ap-submit")),
		chromedp.WaitVisible(chromedp.CSS(".field.bad #fm-area")))
	contains(t, "area error", en.text(applicant, ".field.bad .ferr"), "面积（平方米）应为数字")
	if got := en.value(applicant, "#fm-site"); got != "东城路18号" {
		t.Fatalf("site not kept: %q", got)
	}
	en.run(applicant, "correct the area", chromedp.SetValue(chromedp.CSS("#fm-area"), "12.5"))
	en.shot(applicant, "apply-form")
	en.run(applicant, "submit", chromedp.Click(chromedp.CSS("#ap-submit")), chromedp.WaitVisible(chromedp.CSS("#tracking-code")))
	code := en.text(applicant, "#tracking-code")
	c, err := en.e.Find(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	casePath := fmt.Sprintf("/work/cases/%d", c.ID)
	track := "/track?code=" + code + "&phone_last4=5678"

	submit := func(s context.Context, form string, extra ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		steps := append(extra, chromedp.Click(chromedp.CSS("#"+form+" button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".notice")))
		en.run(s, form, steps...)
	}
	clerk := en.session(staffWidth)
	en.login(clerk, "clerk")
	en.open(clerk, "/work?tab=apps", "#applications")
	contains(t, "clerk's queue", en.text(clerk, "#applications"), code)
	en.open(clerk, casePath, "#act-request_supplement")
	submit(clerk, "act-request_supplement", chromedp.SetValue(chromedp.CSS("#f-request_supplement-items"), "缺少设置效果图\n营业执照复印件不清晰"))

	en.open(applicant, track, "#supplement-form")
	contains(t, "items", en.text(applicant, "#supplement-items"), "缺少设置效果图")
	submit(applicant, "supplement-form", chromedp.SetValue(chromedp.CSS("#sup-text"), "效果图和清晰的营业执照已交窗口"))

	en.open(clerk, casePath, "#act-accept")
	submit(clerk, "act-accept")

	for _, login := range []string{"h.cgj", "h.zjj"} {
		s := en.session(staffWidth)
		en.login(s, login)
		en.open(s, "/work?tab=apps", "#applications")
		contains(t, login+"'s queue", en.text(s, "#applications"), "部门意见")
		en.open(s, casePath, "#act-opinion")
		submit(s, "act-opinion", chromedp.Click(chromedp.CSS("#f-opinion-approve-yes")),
			chromedp.SetValue(chromedp.CSS("#f-opinion-text"), login+"：符合设置规划"))
	}

	head := en.session(staffWidth)
	en.login(head, "head.cgj")
	en.open(head, casePath, "#act-decide")
	contains(t, "opinions", en.text(head, "#stages"), "符合设置规划")
	en.shot(head, "review-case")
	submit(head, "act-decide", chromedp.Click(chromedp.CSS("#f-decide-grant-yes")), chromedp.SetValue(chromedp.CSS("#f-decide-licence_no"), "GG-2026-001"))

	en.open(clerk, casePath, "#act-deliver")
	submit(clerk, "act-deliver", chromedp.SetValue(chromedp.CSS("#f-deliver-method"), "窗口领取"))

	en.open(applicant, track, "#decision-verdict")
	contains(t, "decision", en.text(applicant, "#decision-verdict"), "准予许可")
	contains(t, "stages", en.text(applicant, "#stages"), "同意")
	if strings.Contains(en.text(applicant, "#stages"), "符合设置规划") {
		t.Fatal("internal opinion text shown to the applicant")
	}
	en.shot(applicant, "apply-progress")
	en.run(applicant, "rate",
		chromedp.Click(chromedp.CSS(`#rate-form input[name=level][value="5"]`)),
		chromedp.Click(chromedp.CSS("#rate-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#rated")))
	contains(t, "rated", en.text(applicant, "#rated"), "非常满意")
}
