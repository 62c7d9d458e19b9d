package server_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
)

// The supervision dashboard's hot-issue panel: similar requests of the
// last 30 days grouped into issues, the hottest first (more people asking,
// more recently), each with its heat, counts, place, time span and links
// to its cases and its own page; served from the last computation, not
// recomputed per page view; in Chinese and English.
func TestDashboardHotIssues(t *testing.T) {
	t.Parallel()
	f := apiSetup(t)
	name, pw, dept, roles := "sup", apiPassword, "zx", "supervisor"
	u, err := f.e.AddUser(f.ctx, "sup", engine.UserChange{Name: &name, Dept: &dept, Roles: &roles, Password: &pw})
	if err != nil {
		t.Fatal(err)
	}
	f.users["sup"] = u
	f.tokens["sup"] = f.apiLogin("sup")

	now := time.Now()
	file := func(ago time.Duration, cat, title, body, address, phone string) *tongban.Case {
		t.Helper()
		c, err := f.e.Create(engine.WithNow(f.ctx, now.Add(-ago)), engine.Actor{User: f.users["intake"]}, engine.NewCase{
			Type: tongban.TypeComplaint, Category: cat, Title: title, Body: body, Address: address,
			Requester: tongban.Requester{Name: "市民", Phone: phone}, Channel: tongban.ChannelPhone})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// The hottest: five requests from four people in the last two days.
	fume := []*tongban.Case{
		file(47*time.Hour, "fume", "幸福路川味餐馆油烟扰民", "幸福路18号川味餐馆排油烟管道直冲居民楼，油烟味很大，窗户都不敢开。", "幸福路18号", "13800000001"),
		file(30*time.Hour, "fume", "幸福路餐馆油烟太大", "幸福路18号的川味餐馆油烟直排，楼上住户被油烟熏得受不了。", "幸福路18号", "13800000002"),
		file(20*time.Hour, "fume", "川味餐馆油烟扰民", "幸福路川味餐馆每天中午晚上油烟扰民，排烟管道没有净化。", "幸福路18号", "13800000003"),
		file(9*time.Hour, "fume", "幸福路川味餐馆油烟扰民", "再次反映幸福路18号川味餐馆油烟直排居民楼，油烟扰民至今没有整改。", "幸福路18号", "13800000001"),
		file(2*time.Hour, "fume", "餐馆油烟熏人", "幸福路18号川味餐馆油烟太大，油烟直排居民楼，请尽快处理。", "幸福路18号", "13800000004"),
	}
	// Three people about one street's lamps, ten days ago.
	lamps := []*tongban.Case{
		file(10*24*time.Hour, "road", "建设路路灯不亮", "建设路东段的路灯已经一周不亮了，晚上走路很危险。", "建设路东段", "13900000001"),
		file(10*24*time.Hour-3*time.Hour, "road", "建设路东段路灯坏了", "建设路东段路灯晚上不亮，行人看不清路。", "建设路东段", "13900000002"),
		file(9*24*time.Hour, "road", "路灯不亮没人修", "建设路东段好几盏路灯不亮，一直没人修。", "建设路东段", "13900000003"),
	}
	// One person three times about square dancing, three weeks ago.
	noise := []*tongban.Case{
		file(21*24*time.Hour, "noise", "广场舞音响太吵", "东风广场每晚广场舞音响声音太大，噪音扰民到十点。", "东风广场", "13700000001"),
		file(21*24*time.Hour-time.Hour, "noise", "东风广场广场舞噪音", "东风广场广场舞音响噪音太大，影响休息。", "东风广场", "13700000001"),
		file(20*24*time.Hour, "noise", "广场舞噪音扰民", "东风广场广场舞噪音扰民，音响开得很大。", "东风广场", "13700000001"),
	}
	file(5*24*time.Hour, "labour", "咨询社保缴费", "灵活就业人员怎么缴纳养老保险？", "", "13600000001")
	file(40*24*time.Hour, "fume", "幸福路餐馆油烟", "幸福路18号川味餐馆油烟扰民。", "幸福路18号", "13600000002") // before the 30 days

	get := func(who, path string) (int, string) {
		t.Helper()
		status, body := f.apiDo("GET", path, who, nil)
		return status, string(body)
	}
	status, page := get("sup", "/supervise")
	if status != http.StatusOK {
		t.Fatalf("dashboard: %d", status)
	}
	panel := section(page, `id="hot"`, `id="orders"`)
	if !strings.Contains(panel, "热点问题") || !strings.Contains(panel, `id="hot-table"`) {
		t.Fatalf("no hot-issue panel:\n%s", panel)
	}
	rows := map[int]string{}
	for i := 1; i <= 4; i++ {
		rows[i] = section(panel, `id="hot-`+strconv.Itoa(i)+`"`, `</tr>`)
	}
	if rows[4] != "" {
		t.Errorf("a fourth hot issue from singles:\n%s", rows[4])
	}
	cell := func(row, class string) string {
		m := regexp.MustCompile(`class="[^"]*` + class + `[^"]*">([^<]*)<`).FindStringSubmatch(row)
		if m == nil {
			return ""
		}
		return m[1]
	}
	want := []struct {
		cases      []*tongban.Case
		word       string
		count, ppl string
		place      string
	}{{fume, "油烟", "5", "4", "幸福路18号"}, {lamps, "路灯", "3", "3", "建设路东段"}, {noise, "广场舞", "3", "1", "东风广场"}}
	heat := 1e9
	for i, w := range want {
		r := rows[i+1]
		if !strings.Contains(cell(r, "hot-title"), w.word) || cell(r, "hot-count") != w.count || cell(r, "hot-requesters") != w.ppl || !strings.Contains(r, w.place) {
			t.Errorf("hot issue #%d: want %s with %s requests from %s people at %s, got:\n%s", i+1, w.word, w.count, w.ppl, w.place, r)
		}
		h, err := strconv.ParseFloat(cell(r, "hot-heat"), 64)
		if err != nil || h <= 0 || h > heat {
			t.Errorf("hot issue #%d: heat %q after %v", i+1, cell(r, "hot-heat"), heat)
		}
		heat = h
		newest := w.cases[len(w.cases)-1]
		if !strings.Contains(r, `href="/supervise/hot?case=`+strconv.FormatInt(newest.ID, 10)+`"`) ||
			!strings.Contains(r, `href="/work/cases/`+strconv.FormatInt(newest.ID, 10)+`"`) || !strings.Contains(r, newest.TrackingCode) {
			t.Errorf("hot issue #%d does not link its newest case %s and its page:\n%s", i+1, newest.TrackingCode, r)
		}
	}
	if !strings.Contains(rows[1], "全部 5 件") || !strings.Contains(panel, "近30天") {
		t.Errorf("panel wording:\n%s", panel)
	}

	// The hot issue's page lists its cases, and only those.
	status, hp := get("sup", "/supervise/hot?case="+strconv.FormatInt(fume[0].ID, 10))
	if status != http.StatusOK {
		t.Fatalf("hot issue page: %d", status)
	}
	list := section(hp, `id="hot-cases"`, `</table>`)
	for _, c := range fume {
		if !strings.Contains(list, c.TrackingCode) {
			t.Errorf("hot issue page lacks %s", c.TrackingCode)
		}
	}
	if strings.Contains(list, lamps[0].TrackingCode) || !strings.Contains(hp, "热度") || !strings.Contains(hp, "幸福路18号") {
		t.Errorf("hot issue page:\n%s", section(hp, `id="hot-page-title"`, `</table>`))
	}
	if status, p := get("sup", "/supervise/hot?case=999999"); status != http.StatusNotFound || !strings.Contains(p, `id="hot-gone"`) {
		t.Errorf("a case in no hot issue: %d", status)
	}
	if status, _ := get("sup", "/supervise/hot?case=x"); status != http.StatusBadRequest {
		t.Errorf("a bad case: %d", status)
	}
	for who, want := range map[string]int{"h.cgj": 403, "disp": 403, "admin": 200} {
		if status, _ := get(who, "/supervise/hot?case="+strconv.FormatInt(fume[0].ID, 10)); status != want {
			t.Errorf("%s on a hot issue page: %d, want %d", who, status, want)
		}
	}

	// English.
	status, en := get("sup", "/supervise?lang=en")
	if panel := section(en, `id="hot"`, `id="orders"`); status != http.StatusOK || !strings.Contains(panel, "Hot issues") || !strings.Contains(panel, "People") || !strings.Contains(panel, "all 5") {
		t.Errorf("English panel: %d\n%s", status, panel)
	}
	if strings.Contains(en, "hot.") {
		i := strings.Index(en, "hot.")
		t.Errorf("untranslated key near %q", en[max(0, i-40):min(len(en), i+40)])
	}

	// Page views are served from the last computation; the schedule
	// (RefreshHot) brings in what was filed since.
	lamps = append(lamps, file(time.Hour, "road", "建设路东段路灯还是不亮", "建设路东段路灯至今不亮，晚上一片漆黑。", "建设路东段", "13900000004"))
	_, page = get("sup", "/supervise")
	if r := section(page, `id="hot-2"`, `</tr>`); cell(r, "hot-count") != "3" {
		t.Errorf("a page view recomputed the hot issues: #2 now\n%s", r)
	}
	if _, err := f.e.Text.RefreshHot(f.ctx); err != nil {
		t.Fatal(err)
	}
	_, page = get("sup", "/supervise")
	found := false
	for i := 1; i <= 3; i++ {
		r := section(page, `id="hot-`+strconv.Itoa(i)+`"`, `</tr>`)
		if strings.Contains(r, lamps[3].TrackingCode) {
			found = cell(r, "hot-count") == "4" && cell(r, "hot-requesters") == "4"
		}
	}
	if !found {
		t.Errorf("after the refresh the lamps issue does not have its fourth request:\n%s", section(page, `id="hot"`, `id="orders"`))
	}
}
