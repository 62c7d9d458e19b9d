package uitest

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
)

// TestBrowserRatings: a 差评 on the case page — the rated department's
// head verifies it (a choice of verdicts), the handler rectifies it — and
// the portal's published figures, which name nobody.
func TestBrowserRatings(t *testing.T) {
	en := setup(t)
	ctx := context.Background()
	user := func(login string) *tongban.User {
		u, err := en.e.Store.UserByLogin(ctx, login)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	c, err := en.e.Create(ctx, engine.Actor{User: user("clerk")}, engine.NewCase{Type: tongban.TypeComplaint, Category: "noise",
		Title: "夜间施工噪音", Body: "工地每晚十一点后仍在施工。", Requester: tongban.Requester{Name: "李秀英", Phone: "13987654321"}, Channel: tongban.ChannelWindow})
	if err != nil {
		t.Fatal(err)
	}
	act := func(login, action string, fields map[string]any) {
		t.Helper()
		raw := map[string]json.RawMessage{}
		for k, v := range fields {
			raw[k], _ = json.Marshal(v)
		}
		a := engine.Actor{}
		if login != "" {
			a.User = user(login)
		}
		if _, _, err := en.e.Act(ctx, a, c.TrackingCode, action, raw); err != nil {
			t.Fatalf("%s: %v", action, err)
		}
	}
	act("disp", "dispatch", map[string]any{"department": "cgj"})
	act("h.cgj", "accept", nil)
	act("h.cgj", "reply", map[string]any{"text": "已责令工地夜间停工"})
	act("", "rate", map[string]any{"level": 1, "comment": "噪音依旧"})

	s := en.session(staffWidth)
	en.login(s, "head.cgj")
	page := "/work/cases/" + strconv.FormatInt(c.ID, 10)
	en.open(s, page, "#rating-1")
	contains(t, "the 差评", en.text(s, "#rating-1"), "待核实")
	en.run(s, "verify the 差评",
		chromedp.SetValue(chromedp.CSS("#f-verify_rating-verdict"), "valid"),
		chromedp.SetValue(chromedp.CSS("#f-verify_rating-text"), "经核实属实"),
		chromedp.Click(chromedp.CSS("#act-verify_rating button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(`#rating-1[data-state="rectify"]`)))
	contains(t, "verified", en.text(s, "#rating-1"), "属实")
	en.run(s, "rectify the 差评",
		chromedp.SetValue(chromedp.CSS("#f-rectify_rating-text"), "已对施工方立案处罚"),
		chromedp.Click(chromedp.CSS("#act-rectify_rating button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(`#rating-1[data-state="callback"]`)))
	contains(t, "rectified", en.text(s, "#rating-1"), "已对施工方立案处罚")

	p := en.session(portalWidth)
	en.open(p, "/", "#nav-ratings")
	en.run(p, "open the published figures", chromedp.Click(chromedp.CSS("#nav-ratings")), chromedp.WaitVisible(chromedp.CSS("#rt-n")))
	if n, bad := en.text(p, "#rt-n"), en.text(p, "#rt-bad"); n != "1" || bad != "1" {
		t.Fatalf("published: %s ratings, %s bad", n, bad)
	}
	contains(t, "by department", en.text(p, "#rt-departments"), "城管执法局")
	html, err := chromedp.Run(p, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"李秀英", "13987654321", "噪音依旧", c.TrackingCode} {
		if strings.Contains(html, secret) {
			t.Errorf("the published page shows %q", secret)
		}
	}
}
