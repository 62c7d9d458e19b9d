package uitest

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/demo/corpus"
	"github.com/tongban/tongban/engine"
)

// TestBrowserSupervision: a supervisor sees the dashboard, opens an
// overdue case from the board, issues a supervision order; the
// department answers it from its inbox's 督办件 tab; the supervisor
// accepts the answer.
func TestBrowserSupervision(t *testing.T) {
	en := setup(t)
	ctx := context.Background()
	users := map[string]*tongban.User{}
	for _, u := range []struct{ login, name, dept, roles string }{{"sup", "石监察", "zx", "supervisor"}, {"leader", "方领导", "zx", "leader"}} {
		name, pw, dept, roles := u.name, password, u.dept, u.roles
		usr, err := en.e.AddUser(ctx, u.login, engine.UserChange{Name: &name, Dept: &dept, Roles: &roles, Password: &pw})
		if err != nil {
			t.Fatal(err)
		}
		users[u.login] = usr
	}
	for _, l := range []string{"clerk", "disp"} {
		u, err := en.e.Store.UserByLogin(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		users[l] = u
	}
	// A few weeks of cases, filed in the past; the scanner raises what
	// fell due since.
	minLat, minLong, maxLat, maxLong := corpus.Bounds()
	rng := rand.New(rand.NewPCG(5, 5))
	titles := []string{"工地夜间施工噪音扰民", "小区门口占道经营", "路灯不亮影响出行", "楼道堆放杂物存在消防隐患", "人行道破损多日未修", "餐馆油烟直排扰民"}
	cats := []string{"noise", "stall", "road", "shirong", "road", "fume"}
	var overdue *tongban.Case
	for i := range 14 {
		at := time.Now().AddDate(0, 0, -3-i*4)
		past := engine.WithNow(ctx, at)
		lat, long := minLat+(maxLat-minLat)*(0.2+0.6*rng.Float64()), minLong+(maxLong-minLong)*(0.2+0.6*rng.Float64())
		c, err := en.e.Create(past, engine.Actor{User: users["clerk"]}, engine.NewCase{Type: "complaint", Category: cats[i%len(cats)], Title: titles[i%len(titles)],
			Body: "群众反映的情况，请核查处理。", Lat: &lat, Long: &long, Channel: tongban.ChannelStreet, Requester: tongban.Requester{Name: "王芳", Phone: "13912345678"}})
		if err != nil {
			t.Fatal(err)
		}
		dept := []string{"cgj", "zjj"}[i%2]
		if _, _, err := en.e.Act(past, engine.Actor{User: users["disp"]}, c.TrackingCode, "dispatch", map[string]json.RawMessage{"department": json.RawMessage(strconv.Quote(dept))}); err != nil {
			t.Fatal(err)
		}
		if i == 4 {
			overdue = c
		}
	}
	if _, err := en.e.NewScanner().Tick(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	caseID := strconv.FormatInt(overdue.ID, 10)

	sup := en.session(staffWidth)
	en.login(sup, "sup")
	t.Run("dashboard", func(t *testing.T) {
		en.run(sup, "open the dashboard", chromedp.Click(chromedp.CSS("#nav-supervise")), chromedp.WaitVisible(chromedp.CSS("#board-red")))
		contains(t, "heading", en.text(sup, "#dash-title"), "电子监察")
		contains(t, "yellow board", en.text(sup, "#board-yellow"), overdue.TrackingCode)
		contains(t, "red board", en.text(sup, "#board-red"), "已超期")
		contains(t, "ranking", en.text(sup, "#rank-table"), "城管执法局")
		contains(t, "orders", en.text(sup, "#orders-table"), "督办：")
		en.run(sup, "charts and map", chromedp.WaitVisible(chromedp.CSS("#chart-cases")), chromedp.WaitVisible(chromedp.CSS("#dash-map-svg circle.late")))
		en.shot(sup, "supervise-dashboard")
		// Two requests alike within 30 days make a hot issue; its page lists them.
		contains(t, "hot issues", en.text(sup, "#hot"), "热点问题")
		en.run(sup, "open the hottest issue", chromedp.Click(chromedp.CSS("#hot-1 a.hot-title")), chromedp.WaitVisible(chromedp.CSS("#hot-cases")))
		contains(t, "hot issue page", en.text(sup, "#hot-summary"), "件诉求")
		en.open(sup, "/supervise", "#board-red")
	})

	var orderID string
	t.Run("issue an order", func(t *testing.T) {
		en.run(sup, "open the case from the board",
			chromedp.Click(chromedp.CSS(`#board-yellow a[href="/work/cases/`+caseID+`"]`)),
			chromedp.WaitVisible(chromedp.CSS("#act-supervise")))
		en.run(sup, "supervise",
			chromedp.SetValue(chromedp.CSS("#f-supervise-demand"), "请于三个工作日内到现场核查处理，并书面说明超期原因。"),
			chromedp.SetValue(chromedp.CSS("#f-supervise-working_days"), "3"),
			chromedp.SetValue(chromedp.CSS("#f-supervise-department"), "cgj"),
			chromedp.SetValue(chromedp.CSS("#f-supervise-instruction"), "从严从快，限期办结。"),
			chromedp.Click(chromedp.CSS(`#act-supervise button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(".notice")),
			chromedp.WaitVisible(chromedp.CSS("#case-orders")))
		c, err := en.e.Find(ctx, overdue.TrackingCode)
		if err != nil || c.Supervision == nil {
			t.Fatalf("no supervision on the case: %v", err)
		}
		var code string
		for _, o := range c.Supervision.Orders {
			if !o.Auto {
				code = o.Code
			}
		}
		if code == "" {
			t.Fatalf("no manual order among %+v", c.Supervision.Orders)
		}
		contains(t, "orders on the case", en.text(sup, "#case-orders"), code)
		o, err := en.e.Find(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		orderID = strconv.FormatInt(o.ID, 10)
	})
	if orderID == "" {
		t.FailNow()
	}

	t.Run("department answers", func(t *testing.T) {
		h := en.session(staffWidth)
		en.login(h, "h.cgj")
		en.run(h, "open the orders tab", chromedp.Click(chromedp.CSS("#tab-orders")), chromedp.WaitVisible(chromedp.CSS(`#cases a[href="/work/cases/`+orderID+`"]`)))
		en.run(h, "open the order", chromedp.Click(chromedp.CSS(`#cases a[href="/work/cases/`+orderID+`"]`)), chromedp.WaitVisible(chromedp.CSS("#act-answer")))
		contains(t, "demand", en.text(h, "#order-demand"), "书面说明超期原因")
		contains(t, "instruction", en.text(h, "#order-demand"), "从严从快")
		contains(t, "parent", en.text(h, "#order-parent"), overdue.TrackingCode)
		en.run(h, "answer",
			chromedp.SetValue(chromedp.CSS("#f-answer-text"), "已于今日到现场核查，责令工地停止夜间施工；超期系人手不足，已调整排班。"),
			chromedp.Click(chromedp.CSS(`#act-answer button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(".notice")))
		contains(t, "step", en.text(h, "#case-step"), "待审核")
	})

	t.Run("supervisor accepts", func(t *testing.T) {
		en.open(sup, "/work/cases/"+orderID, "#act-accept_answer")
		contains(t, "answer shown", en.text(sup, "#events"), "已调整排班")
		en.shot(sup, "supervise-order")
		en.run(sup, "accept",
			chromedp.SetValue(chromedp.CSS("#f-accept_answer-reason"), "答复属实，同意办结。"),
			chromedp.Click(chromedp.CSS(`#act-accept_answer button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(".notice")))
		contains(t, "closed", en.text(sup, "#case-step"), "已办结")
	})

	t.Run("leader reads, handler may not", func(t *testing.T) {
		l := en.session(staffWidth)
		en.login(l, "leader")
		en.run(l, "dashboard", chromedp.Click(chromedp.CSS("#nav-supervise")), chromedp.WaitVisible(chromedp.CSS("#board-red")))
		h := en.session(staffWidth)
		en.login(h, "h.zjj")
		en.open(h, "/supervise", "main")
		contains(t, "handler on the dashboard", en.text(h, "main"), "权限")
	})
}
