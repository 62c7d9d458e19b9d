package corpus

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

var mobileRe = regexp.MustCompile(`^1[3-9]\d{9}$`)

func TestDeterministic(t *testing.T) {
	a, b := NewGenerator(42), NewGenerator(42)
	for i := range 300 {
		ra, rb := a.Request(), b.Request()
		if !reflect.DeepEqual(ra, rb) {
			t.Fatalf("request %d differs:\n%+v\n%+v", i, ra, rb)
		}
		if a.Reply(ra) != b.Reply(rb) || a.Comment(i%5+1) != b.Comment(i%5+1) ||
			a.ReturnReason() != b.ReturnReason() || a.ExtensionReason() != b.ExtensionReason() ||
			a.TransferReason() != b.TransferReason() {
			t.Fatalf("texts differ at %d", i)
		}
	}
	if reflect.DeepEqual(NewGenerator(1).Request(), NewGenerator(2).Request()) &&
		reflect.DeepEqual(NewGenerator(1).Request(), NewGenerator(3).Request()) {
		t.Error("different seeds give the same output")
	}
}

func TestRequestsValid(t *testing.T) {
	types := map[string]bool{}
	for _, ty := range Types() {
		types[ty] = true
	}
	cats := map[string]bool{}
	for _, c := range Categories() {
		cats[c.Code] = true
	}
	depts := map[string]Department{}
	for _, d := range Departments() {
		depts[d.Code] = d
	}
	minLat, minLong, maxLat, maxLong := Bounds()
	seenType, seenCat, seenDept := map[string]int{}, map[string]int{}, map[string]int{}
	inStreet, streetAddr := 0, 0
	g := NewGenerator(7)
	const n = 3000
	for i := range n {
		r := g.Request()
		if !types[r.Type] {
			t.Fatalf("bad type %q", r.Type)
		}
		if !cats[r.Category] {
			t.Fatalf("unknown category %q", r.Category)
		}
		if _, ok := depts[r.Dept]; !ok {
			t.Fatalf("unknown dept %q", r.Dept)
		}
		if l := utf8.RuneCountInString(r.Title); l == 0 || l > MaxTitle {
			t.Errorf("title length %d: %q", l, r.Title)
		}
		if l := utf8.RuneCountInString(r.Body); l < MinBody || l > MaxBody {
			t.Errorf("body length %d: %q", l, r.Body)
		}
		if r.Lat < minLat || r.Lat > maxLat || r.Long < minLong || r.Long > maxLong {
			t.Errorf("coordinates out of bounds: %v,%v", r.Lat, r.Long)
		}
		if !mobileRe.MatchString(r.Phone) {
			t.Errorf("bad mobile %q", r.Phone)
		}
		if r.Name == "" || !strings.HasPrefix(r.Address, District()) {
			t.Errorf("bad name/address %q %q", r.Name, r.Address)
		}
		for _, s := range []string{r.Title, r.Body, r.Address} {
			if strings.ContainsAny(s, "{}[]|>;") {
				t.Fatalf("unexpanded template in %q", s)
			}
		}
		if rep := g.Reply(r); strings.ContainsAny(rep, "{}[]|>;") || utf8.RuneCountInString(rep) < 80 {
			t.Fatalf("bad reply %q", rep)
		}
		// the point lies in the street office named by the address
		for _, s := range streets {
			if strings.Contains(r.Address, s.name()) || containsAny(r.Address, s.roads) || containsAny(r.Address, s.estates) {
				streetAddr++
				if StreetAt(r.Lat, r.Long) == s.code {
					inStreet++
				}
				break
			}
		}
		if d := depts[r.Dept]; d.Kind == "street" && StreetAt(r.Lat, r.Long) != r.Dept {
			t.Errorf("street dept %s but point in %s", r.Dept, StreetAt(r.Lat, r.Long))
		}
		seenType[r.Type]++
		seenCat[r.Category]++
		seenDept[r.Dept]++
		_ = i
	}
	if len(seenType) != 5 || len(seenCat) != len(cats) {
		t.Errorf("coverage: types %v, categories %v", seenType, seenCat)
	}
	if len(seenDept) < 18 {
		t.Errorf("only %d departments used: %v", len(seenDept), seenDept)
	}
	if streetAddr < n*9/10 || inStreet != streetAddr {
		t.Errorf("points in their street: %d of %d (of %d)", inStreet, streetAddr, n)
	}
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

func TestCategoryKeywords(t *testing.T) {
	words := map[string][]string{
		"fume":     {"油烟"},
		"noise":    {"噪音", "噪声"},
		"stall":    {"占道", "摊"},
		"building": {"违建", "违法建设", "搭建", "加盖", "建房"},
		"water":    {"水"},
		"property": {"物业", "业主"},
		"labour":   {"工资", "社保", "保险", "补贴", "零工", "就业", "劳动"},
	}
	g := NewGenerator(99)
	total, hit := map[string]int{}, map[string]int{}
	for total["fume"] < 500 {
		r := g.Request()
		ws, ok := words[r.Category]
		if !ok {
			continue
		}
		total[r.Category]++
		if containsAny(r.Title+r.Body, ws) {
			hit[r.Category]++
		}
	}
	for c := range words {
		if hit[c]*10 < total[c]*8 {
			t.Errorf("%s: only %d of %d texts contain %v", c, hit[c], total[c], words[c])
		}
	}
	// the strict one from the brief: 油烟 in the fume body itself
	g = NewGenerator(5)
	n, h := 0, 0
	for n < 500 {
		r := g.Request()
		if r.Category != "fume" {
			continue
		}
		n++
		if strings.Contains(r.Body, "油烟") {
			h++
		}
	}
	if h < 400 {
		t.Errorf("fume bodies with 油烟: %d of 500", h)
	}
}

func TestBodiesDistinct(t *testing.T) {
	g := NewGenerator(2024)
	seen := map[string]bool{}
	titles := map[string]bool{}
	for range 2000 {
		r := g.Request()
		seen[r.Body] = true
		titles[r.Title] = true
	}
	if len(seen) < 1800 {
		t.Errorf("only %d distinct bodies in 2000", len(seen))
	}
	if len(titles) < 800 {
		t.Errorf("only %d distinct titles in 2000", len(titles))
	}
}

func TestTypeFitsText(t *testing.T) {
	g := NewGenerator(11)
	for range 2000 {
		r := g.Request()
		switch r.Type {
		case TypeConsult:
			if !strings.ContainsAny(r.Body, "？?") {
				t.Errorf("consultation without a question: %q", r.Body)
			}
		case TypeSuggestion:
			if !strings.Contains(r.Body, "建议") {
				t.Errorf("suggestion without 建议: %q", r.Body)
			}
		}
	}
}

func TestGeoJSON(t *testing.T) {
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Type       string            `json:"type"`
			Properties map[string]string `json:"properties"`
			Geometry   struct {
				Type        string         `json:"type"`
				Coordinates [][][2]float64 `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(DistrictGeoJSON(), &fc); err != nil {
		t.Fatal(err)
	}
	if fc.Type != "FeatureCollection" {
		t.Fatalf("type %q", fc.Type)
	}
	streetDepts := map[string]string{}
	for _, d := range Departments() {
		if d.Kind == "street" {
			streetDepts[d.Code] = d.Name
		}
	}
	if len(fc.Features) != len(streetDepts)+1 {
		t.Fatalf("%d features, want %d streets + outline", len(fc.Features), len(streetDepts))
	}
	minLat, minLong, maxLat, maxLong := Bounds()
	outline := 0
	for _, f := range fc.Features {
		if f.Geometry.Type != "Polygon" || len(f.Geometry.Coordinates) != 1 {
			t.Fatalf("bad geometry %+v", f.Geometry)
		}
		ring := f.Geometry.Coordinates[0]
		if len(ring) < 4 || ring[0] != ring[len(ring)-1] {
			t.Errorf("ring not closed: %v", ring)
		}
		for _, p := range ring {
			if p[0] < minLong-1e-9 || p[0] > maxLong+1e-9 || p[1] < minLat-1e-9 || p[1] > maxLat+1e-9 {
				t.Errorf("vertex out of bounds: %v", p)
			}
		}
		switch f.Properties["kind"] {
		case "district":
			outline++
			if f.Properties["name"] != District() {
				t.Errorf("outline name %q", f.Properties["name"])
			}
		case "street":
			code := f.Properties["code"]
			if _, ok := streetDepts[code]; !ok {
				t.Errorf("unknown street code %q", code)
			}
			if !strings.HasSuffix(f.Properties["name"], "街道") {
				t.Errorf("street name %q", f.Properties["name"])
			}
			delete(streetDepts, code)
		}
	}
	if outline != 1 || len(streetDepts) != 0 {
		t.Errorf("outline %d, streets without polygon %v", outline, streetDepts)
	}
	// the street polygons tile the box: sample points fall in exactly one
	g := NewGenerator(3)
	for range 2000 {
		lat := minLat + 1e-6 + g.r.Float64()*(maxLat-minLat-2e-6)
		long := minLong + 1e-6 + g.r.Float64()*(maxLong-minLong-2e-6)
		k := 0
		for i := range streets {
			if inRing(point{long, lat}, cellRing(streets[i].col, streets[i].row)) {
				k++
			}
		}
		if k != 1 {
			t.Fatalf("point %v,%v in %d streets", lat, long, k)
		}
	}
}

func TestDepartmentsAndCategories(t *testing.T) {
	ds := Departments()
	if len(ds) < 20 || len(ds) > 24 {
		t.Errorf("%d departments", len(ds))
	}
	codes := map[string]bool{}
	kinds := map[string]int{}
	for _, d := range ds {
		if codes[d.Code] {
			t.Errorf("duplicate dept code %q", d.Code)
		}
		codes[d.Code] = true
		kinds[d.Kind]++
		if d.Name == "" || len(d.Keywords) == 0 {
			t.Errorf("incomplete dept %+v", d)
		}
		if d.Parent != "" && !codes[d.Parent] {
			t.Errorf("dept %s parent %s unknown", d.Code, d.Parent)
		}
	}
	if kinds["centre"] != 1 || kinds["supervision"] != 1 || kinds["bureau"] < 10 || kinds["street"] < 6 {
		t.Errorf("kinds %v", kinds)
	}
	if !codes["centre"] || !codes["supervision"] {
		t.Error("missing centre or supervision")
	}
	cats := Categories()
	want := []string{"shirong", "noise", "fume", "stall", "building", "road", "property", "labour", "education", "health", "traffic", "water", "other"}
	got := map[string]bool{}
	for _, c := range cats {
		if got[c.Code] {
			t.Errorf("duplicate category %q", c.Code)
		}
		got[c.Code] = true
		if !codes[c.Dept] {
			t.Errorf("category %s: unknown dept %q", c.Code, c.Dept)
		}
		if c.Name == "" || c.Description == "" || len(c.Keywords) == 0 {
			t.Errorf("incomplete category %+v", c)
		}
		if c.Urgent != (c.Code == "water") {
			t.Errorf("category %s urgent=%v", c.Code, c.Urgent)
		}
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("missing category %q", w)
		}
	}
	if len(catTexts) != len(cats) {
		t.Errorf("%d text sets for %d categories", len(catTexts), len(cats))
	}
	for i, ct := range catTexts {
		if ct.code != cats[i].Code {
			t.Errorf("text set %d is %q, category is %q", i, ct.code, cats[i].Code)
		}
	}
}

func TestSmallTexts(t *testing.T) {
	g := NewGenerator(8)
	for lvl := 0; lvl <= 6; lvl++ {
		if c := g.Comment(lvl); c == "" || utf8.RuneCountInString(c) > 60 {
			t.Errorf("comment %d: %q", lvl, c)
		}
	}
	for range 200 {
		for _, s := range []string{g.ReturnReason(), g.ExtensionReason(), g.TransferReason()} {
			if s == "" || strings.ContainsAny(s, "{}[]|") {
				t.Errorf("bad reason %q", s)
			}
		}
		n := g.PersonName()
		if l := utf8.RuneCountInString(n); l < 2 || l > 4 {
			t.Errorf("name %q", n)
		}
		if m := g.Mobile(); !mobileRe.MatchString(m) {
			t.Errorf("mobile %q", m)
		}
	}
}

func TestSamples(t *testing.T) {
	if !testing.Verbose() {
		t.Skip("samples only with -v")
	}
	g := NewGenerator(1)
	for range 8 {
		r := g.Request()
		t.Logf("\n[%s/%s → %s] %s\n%s\n地址：%s (%.5f, %.5f) %s %s\n答复：%s\n",
			r.Type, r.Category, r.Dept, r.Title, r.Body, r.Address, r.Lat, r.Long, r.Name, r.Phone, g.Reply(r))
	}
	for l := 1; l <= 5; l++ {
		t.Logf("评价%d：%s", l, g.Comment(l))
	}
	t.Logf("退回：%s\n延期：%s\n转办：%s", g.ReturnReason(), g.ExtensionReason(), g.TransferReason())
}

func BenchmarkRequest(b *testing.B) {
	g := NewGenerator(1)
	for b.Loop() {
		g.Request()
	}
}
