package uitest

import (
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/server"
	"github.com/tongban/tongban/sqlite"
)

const (
	chromiumPath = "/usr/bin/chromium"
	password     = "browser-test-pw"
	portalWidth  = 390
	staffWidth   = 1280
)

// env is one running server and browser.
type env struct {
	t       *testing.T
	e       *engine.Engine
	srv     *httptest.Server
	host    string
	browser context.Context

	mu       sync.Mutex
	requests []string // every URL the browser asked for
}

func setup(t *testing.T) *env {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("TONGBAN_SKIP_BROWSER") == "1" {
			t.Skip("no " + chromiumPath + " and TONGBAN_SKIP_BROWSER=1")
		}
		t.Fatalf("browser tests need Chromium at %s (apt-get install -y chromium), or set TONGBAN_SKIP_BROWSER=1 to skip them: %v", chromiumPath, err)
	}
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "ui.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e, err := engine.New(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	for _, d := range []tongban.Department{
		{Code: "zx", Name: "区指挥中心", Kind: tongban.DeptCentre},
		{Code: "cgj", Name: "城管执法局"},
		{Code: "zjj", Name: "住建局"},
		{Code: "dongcheng", Name: "东城街道办事处", Kind: tongban.DeptStreet},
	} {
		if err := e.AddDepartment(ctx, &d); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct{ login, name, dept, roles string }{
		{"disp", "王派单", "zx", "dispatcher"}, {"clerk", "赵窗口", "dongcheng", "intake"},
		{"h.cgj", "李承办", "cgj", "handler"}, {"head.cgj", "陈科长", "cgj", "head"},
		{"h.zjj", "周承办", "zjj", "handler"}, {"admin", "系统管理员", "zx", "admin"},
	} {
		name, pw, dept, roles := u.name, password, u.dept, u.roles
		if _, err := e.AddUser(ctx, u.login, engine.UserChange{Name: &name, Dept: &dept, Roles: &roles, Password: &pw}); err != nil {
			t.Fatal(err)
		}
	}
	opts := server.DefaultOptions()
	srv := httptest.NewServer(server.New(e, opts).Handler())
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	en := &env{t: t, e: e, srv: srv, host: u.Host}

	allocOpts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(staffWidth, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	bctx, cancelB := chromedp.NewContext(actx, chromedp.WithListener(en.listen))
	t.Cleanup(func() { cancelB(); cancelA() })
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	en.browser = bctx
	return en
}

// listen records every request the page makes.
func (en *env) listen(ev any) {
	var u string
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		u = e.Request.URL
	case network.EventRequestWillBeSent:
		u = e.Request.URL
	default:
		return
	}
	en.mu.Lock()
	en.requests = append(en.requests, u)
	en.mu.Unlock()
}

// session is one person's browser: own cookies, own viewport.
func (en *env) session(width int64) context.Context {
	en.t.Helper()
	ctx, cancel := chromedp.NewContext(en.browser, chromedp.WithNewBrowserContext(), chromedp.WithListener(en.listen))
	en.t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900)); err != nil {
		en.t.Fatal(err)
	}
	return ctx
}

// run runs steps with a deadline and fails the test with where it stopped.
func (en *env) run(ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	en.t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		en.t.Fatalf("%s: %v", what, err)
	}
}

func (en *env) text(ctx context.Context, sel string) string {
	en.t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		en.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (en *env) value(ctx context.Context, sel string) string {
	en.t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(tctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		en.t.Fatalf("value of %s: %v", sel, err)
	}
	return s
}

func (en *env) open(ctx context.Context, path, waitFor string) {
	en.t.Helper()
	en.run(ctx, "open "+path, chromedp.Navigate(en.srv.URL+path), chromedp.WaitVisible(chromedp.CSS(waitFor)))
}

func (en *env) login(ctx context.Context, login string) {
	en.t.Helper()
	en.open(ctx, "/login", "#login")
	en.run(ctx, "log in as "+login,
		chromedp.SetValue(chromedp.CSS("#login"), login),
		chromedp.SetValue(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(`form.login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#tab-all")))
}

// shot saves a screenshot of the whole page for docs/screenshots, only
// when TONGBAN_SCREENSHOTS=1, so CI does not rewrite them.
func (en *env) shot(ctx context.Context, name string) {
	en.t.Helper()
	if os.Getenv("TONGBAN_SCREENSHOTS") != "1" {
		return
	}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		en.t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	if err != nil {
		en.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		en.t.Fatal(err)
	}
}

func contains(t *testing.T, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Fatalf("%s: %q does not contain %q", what, got, want)
	}
}

// tinyPNG is a valid 1×1 PNG.
var tinyPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

var chineseDate = regexp.MustCompile(`^\d{4}年\d{1,2}月\d{1,2}日$`)

// TestBrowserRequestLifecycle follows one request from the citizen's
// phone through the command centre and the department back to the
// citizen's rating, and checks the pages around it on the way.
func TestBrowserRequestLifecycle(t *testing.T) {
	en := setup(t)
	photo := filepath.Join(t.TempDir(), "photo.png")
	if err := os.WriteFile(photo, tinyPNG, 0o644); err != nil {
		t.Fatal(err)
	}
	const title = "小区楼顶违章加建"
	var code string
	var caseID string

	citizen := en.session(portalWidth)
	t.Run("home", func(t *testing.T) {
		en.open(citizen, "/", ".hero h1")
		contains(t, "home heading", en.text(citizen, ".hero h1"), "有事找政府")
		contains(t, "categories", en.text(citizen, ".cats"), "供水排水")
		contains(t, "urgent limit", en.text(citizen, ".cats"), "8个工作小时")
		en.shot(citizen, "portal-home")
	})

	t.Run("field error keeps the input", func(t *testing.T) {
		en.open(citizen, "/submit", "#title")
		en.run(citizen, "fill the form",
			chromedp.Click(chromedp.CSS(`input[name=type][value=complaint]`)),
			chromedp.SetValue(chromedp.CSS("#category"), "building"),
			chromedp.SetValue(chromedp.CSS("#title"), title),
			chromedp.SetValue(chromedp.CSS("#body"), "隔壁楼顶正在违章加建一层，噪音大，存在安全隐患。"),
			chromedp.SetValue(chromedp.CSS("#address"), "青川区东城花园3号楼"),
			chromedp.WaitVisible(chromedp.CSS("#map-svg")),
			chromedp.Click(chromedp.CSS("#map-svg")),
			chromedp.SetValue(chromedp.CSS("#name"), "张三丰"),
			chromedp.SetValue(chromedp.CSS("#phone"), "12345"),
			chromedp.SetUploadFiles(chromedp.CSS("#photos"), []string{photo}),
		)
		if en.value(citizen, "#lat") == "" {
			t.Fatal("a click on the map set no location")
		}
		en.shot(citizen, "portal-submit")
		en.run(citizen, "submit with a bad phone",
			chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(".field.bad #phone")))
		contains(t, "phone error", en.text(citizen, ".field.bad .ferr"), "电话号码格式不正确")
		if got := en.value(citizen, "#title"); got != title {
			t.Fatalf("title not kept: %q", got)
		}
		if got := en.value(citizen, "#category"); got != "building" {
			t.Fatalf("category not kept: %q", got)
		}
		contains(t, "body kept", en.value(citizen, "#body"), "楼顶正在违章加建")
		if en.value(citizen, "#lat") == "" {
			t.Fatal("location not kept")
		}
		en.shot(citizen, "portal-submit-error")
	})

	t.Run("submit with a photo and get a receipt", func(t *testing.T) {
		en.run(citizen, "correct and submit",
			chromedp.SetValue(chromedp.CSS("#phone"), "13800005678"),
			chromedp.SetUploadFiles(chromedp.CSS("#photos"), []string{photo}),
			chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS("#tracking-code")))
		code = en.text(citizen, "#tracking-code")
		if _, ok := tongban.NormalizeTrackingCode(code); !ok {
			t.Fatalf("receipt shows %q, not a tracking code", code)
		}
		if d := en.text(citizen, "#expect-date"); !chineseDate.MatchString(d) {
			t.Fatalf("expected reply date %q is not like 2026年12月18日", d)
		}
		c, err := en.e.Find(context.Background(), code)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Attachments) != 1 || c.Lat == nil {
			t.Fatalf("case has %d attachments, lat %v", len(c.Attachments), c.Lat)
		}
		caseID = strconv.FormatInt(c.ID, 10)
		en.shot(citizen, "portal-receipt")
	})

	t.Run("track", func(t *testing.T) {
		en.open(citizen, "/track", "#code")
		en.run(citizen, "track",
			chromedp.SetValue(chromedp.CSS("#code"), code),
			chromedp.SetValue(chromedp.CSS("#phone_last4"), "5678"),
			chromedp.Click(chromedp.CSS(`form.track-form button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS("#track-status")))
		contains(t, "status", en.text(citizen, "#track-status"), "待派单")
		contains(t, "timeline", en.text(citizen, "#timeline"), "已受理")
	})

	t.Run("dispatcher dispatches", func(t *testing.T) {
		disp := en.session(staffWidth)
		en.login(disp, "disp")
		en.open(disp, "/work?tab=dispatch", "#cases")
		contains(t, "dispatch queue", en.text(disp, "#cases"), title)
		contains(t, "tab count", en.text(disp, "#tab-dispatch .count"), "1")
		en.shot(disp, "work-inbox-dispatch")
		en.run(disp, "open the case", chromedp.Click(chromedp.CSS(`#cases tbody a[href="/work/cases/`+caseID+`"]`)), chromedp.WaitVisible(chromedp.CSS("#act-dispatch")))
		contains(t, "masked requester", en.text(disp, "#requester"), "张**")
		en.shot(disp, "work-case-dispatch")
		en.run(disp, "dispatch",
			chromedp.SetValue(chromedp.CSS("#f-dispatch-department"), "cgj"),
			chromedp.Click(chromedp.CSS(`#act-dispatch button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(".notice")))
		contains(t, "step", en.text(disp, "#case-step"), "待签收")
		// The masked phone is on the page before the reveal too: wait for the revealed page.
		en.run(disp, "reveal", chromedp.Click(chromedp.CSS("#reveal")), chromedp.WaitVisible(chromedp.CSS("#revealed")))
		contains(t, "revealed phone", en.text(disp, "#requester-phone"), "13800005678")
	})

	t.Run("other department gets 404", func(t *testing.T) {
		other := en.session(staffWidth)
		en.login(other, "h.zjj")
		en.open(other, "/work/cases/"+caseID, ".errorpage")
		contains(t, "404 page", en.text(other, ".errorpage h1"), "页面不存在")
		contains(t, "status", en.text(other, ".errorpage .status"), "404")
		en.shot(other, "error-404")
	})

	t.Run("handler accepts and replies", func(t *testing.T) {
		h := en.session(staffWidth)
		en.login(h, "h.cgj")
		en.open(h, "/work?tab=accept", "#cases")
		contains(t, "accept queue", en.text(h, "#cases"), title)
		en.open(h, "/work/cases/"+caseID, "#act-accept")
		en.run(h, "accept", chromedp.Click(chromedp.CSS(`#act-accept button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS("#act-reply")))
		contains(t, "step", en.text(h, "#case-step"), "办理中")
		contains(t, "attachment", en.text(h, ".attachments"), "photo.png")
		en.run(h, "reply",
			chromedp.SetValue(chromedp.CSS("#f-reply-text"), "经现场核查，违建已于本周拆除，感谢您的监督。"),
			chromedp.Click(chromedp.CSS(`#act-reply button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS("#draft-reply")))
		contains(t, "step", en.text(h, "#case-step"), "待审核")
		en.shot(h, "work-case-handler")
	})

	t.Run("head approves", func(t *testing.T) {
		head := en.session(staffWidth)
		en.login(head, "head.cgj")
		en.open(head, "/work?tab=review", "#cases")
		contains(t, "review queue", en.text(head, "#cases"), title)
		en.open(head, "/work/cases/"+caseID, "#act-approve_reply")
		en.shot(head, "work-case-review")
		en.run(head, "approve", chromedp.Click(chromedp.CSS(`#act-approve_reply button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS("#case-reply")))
		contains(t, "step", en.text(head, "#case-step"), "待评价")
		contains(t, "events", en.text(head, "#events"), "审核通过")
	})

	t.Run("citizen sees the reply and rates", func(t *testing.T) {
		en.open(citizen, "/track?code="+code+"&phone_last4=5678", "#track-reply")
		contains(t, "reply", en.text(citizen, "#track-reply"), "违建已于本周拆除")
		en.run(citizen, "rate",
			chromedp.Click(chromedp.CSS(`input[name=level][value="5"]`)),
			chromedp.SetValue(chromedp.CSS("#comment"), "处理及时"),
			chromedp.Click(chromedp.CSS(`form.rate button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(".notice")))
		contains(t, "status", en.text(citizen, "#track-status"), "已办结")
		contains(t, "rating", en.text(citizen, ".rated"), "非常满意")
		en.shot(citizen, "portal-track")
	})

	t.Run("desk clerk files for a citizen", func(t *testing.T) {
		clerk := en.session(staffWidth)
		en.login(clerk, "clerk")
		en.open(clerk, "/desk/new", "#channel")
		en.run(clerk, "file",
			chromedp.SetValue(chromedp.CSS("#channel"), "street"),
			chromedp.Click(chromedp.CSS(`input[name=type][value=consultation]`)),
			chromedp.SetValue(chromedp.CSS("#category"), "education"),
			chromedp.SetValue(chromedp.CSS("#title"), "咨询小学入学材料"),
			chromedp.SetValue(chromedp.CSS("#body"), "群众到站点咨询孩子明年入学需要准备哪些材料。"),
			chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS("#tracking-code")))
		contains(t, "channel", en.text(clerk, ".receipt"), "街道服务站点")
		en.shot(clerk, "desk-receipt")
	})

	t.Run("admin adds a user who can log in", func(t *testing.T) {
		admin := en.session(staffWidth)
		en.login(admin, "admin")
		en.open(admin, "/admin/users", "#user-form")
		en.run(admin, "add user",
			chromedp.SetValue(chromedp.CSS("#u-login"), "sun.handler"),
			chromedp.SetValue(chromedp.CSS("#u-name"), "孙新人"),
			chromedp.SetValue(chromedp.CSS("#u-dept"), "cgj"),
			chromedp.SetValue(chromedp.CSS("#u-pw"), password),
			chromedp.Click(chromedp.CSS(`#user-form input[name=roles][value=handler]`)),
			chromedp.Click(chromedp.CSS(`#user-form button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(".notice")))
		contains(t, "user list", en.text(admin, "#users"), "sun.handler")
		en.shot(admin, "admin-users")
		en.open(admin, "/admin/categories", "#cat-form")
		en.shot(admin, "admin-categories")
		newbie := en.session(staffWidth)
		en.login(newbie, "sun.handler")
		contains(t, "new user's workbench", en.text(newbie, ".who"), "孙新人")
	})

	t.Run("english", func(t *testing.T) {
		en.open(citizen, "/?lang=en", ".hero h1")
		contains(t, "heading", en.text(citizen, ".hero h1"), "One place to reach")
		contains(t, "nav", en.text(citizen, "nav.nav"), "File a request")
		contains(t, "types", en.text(citizen, ".types"), "Complaint")
		en.shot(citizen, "portal-home-en")
		en.open(citizen, "/track", "#code")
		contains(t, "label", en.text(citizen, `label[for=code]`), "Tracking code")
		en.open(citizen, "/?lang=zh", ".hero h1")
	})

	t.Run("every request stays on the server", func(t *testing.T) {
		en.mu.Lock()
		defer en.mu.Unlock()
		if len(en.requests) < 10 {
			t.Fatalf("only %d requests seen: is the listener working?", len(en.requests))
		}
		for _, r := range en.requests {
			u, err := url.Parse(r)
			if err != nil || u.Host != en.host || (u.Scheme != "http" && u.Scheme != "https") {
				t.Errorf("request left the test server: %s", r)
			}
		}
	})
}
