package textproc

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/demo/corpus"
)

func TestTokens(t *testing.T) {
	got := Tokens("ＫＴＶ噪音扰民！油烟 A3区12345")
	want := []string{"ktv", "噪音", "音扰", "扰民", "民", "油烟", "烟", "a3", "区", "12345"}
	if !slices.Equal(got, want) {
		t.Fatalf("Tokens = %q, want %q", got, want)
	}
	if s := IndexText("油烟扰民", "华兴路"); s != "油烟 烟扰 扰民 民\n华兴 兴路 路" {
		t.Fatalf("IndexText = %q", s)
	}
}

func TestQueries(t *testing.T) {
	cases := []struct{ q, fts, ts string }{
		{"油烟", `"油烟"`, `'油烟'`},
		{"油烟机 噪音", `"油烟 烟机" AND "噪音"`, `('油烟' <-> '烟机') & '噪音'`},
		{"ＫＴＶ", `"ktv"`, `'ktv'`},
		{`油" OR x`, `("油"* OR "油") AND "or" AND "x"`, `('油':*) & 'or' & 'x'`},
		{"，。", "", ""},
	}
	for _, c := range cases {
		if got := FTS5Query(c.q); got != c.fts {
			t.Errorf("FTS5Query(%q) = %s, want %s", c.q, got, c.fts)
		}
		if got := TSQuery(c.q); got != c.ts {
			t.Errorf("TSQuery(%q) = %s, want %s", c.q, got, c.ts)
		}
	}
}

// Two-character queries find exactly the texts containing them, as a
// substring search would, on generated requests.
func TestMatchEqualsSubstring(t *testing.T) {
	g := corpus.NewGenerator(7)
	var texts []string
	for range 2000 {
		r := g.Request()
		texts = append(texts, r.Title+"。"+r.Body)
	}
	for _, q := range []string{"油烟", "噪音", "电梯", "停水", "井盖", "工资", "违停", "物业", "烧烤", "学校"} {
		terms := ParseQuery(q)
		n := 0
		for _, s := range texts {
			m, sub := Match(s, terms), strings.Contains(Normalize(s), q)
			if m != sub {
				t.Fatalf("%q in %q: Match %v, substring %v", q, s, m, sub)
			}
			if m {
				n++
			}
		}
		if n == 0 {
			t.Errorf("no generated text contains %q", q)
		}
	}
	if !Match("厨房油烟机坏了", ParseQuery("油")) || !Match("加油", ParseQuery("油")) || Match("加水", ParseQuery("油")) {
		t.Error("one-character query")
	}
	if Match("ktvs", ParseQuery("ktv")) || !Match("楼下KTV很吵", ParseQuery("ktv 很吵")) {
		t.Error("ASCII words must match whole")
	}
}

func TestSnippet(t *testing.T) {
	text := strings.Repeat("前言。", 40) + "楼下餐馆<b>油烟</b>很大，油烟直排，噪音也大。" + strings.Repeat("后记。", 40)
	segs := Snippet(text, "油烟 噪音")
	s := SnippetString(segs)
	if !strings.Contains(s, "【油烟】") || !strings.Contains(s, "【噪音】") || !strings.HasPrefix(s, "…") || !strings.HasSuffix(s, "…") {
		t.Fatalf("snippet %q", s)
	}
	var hits int
	for _, sg := range segs {
		if sg.Hit {
			hits++
			if sg.Text != "油烟" && sg.Text != "噪音" {
				t.Errorf("hit %q", sg.Text)
			}
		}
	}
	if hits != 3 {
		t.Errorf("%d hits, want 3", hits)
	}
	// Full-width query, original text preserved.
	if s := SnippetString(Snippet("楼下ＫＴＶ太吵", "ktv")); s != "楼下【ＫＴＶ】太吵" {
		t.Errorf("got %q", s)
	}
	if s := SnippetString(Snippet("没有匹配", "油烟")); s != "没有匹配" {
		t.Errorf("got %q", s)
	}
}

func genExamples(seed int64, n int, label func(corpus.Request) string) []Example {
	g := corpus.NewGenerator(seed)
	out := make([]Example, n)
	for i := range out {
		r := g.Request()
		out[i] = Example{Text: r.Title + " " + r.Body + " " + r.Address, Label: label(r)}
	}
	return out
}

func byCategory(r corpus.Request) string { return r.Category }

func TestClassifier(t *testing.T) {
	train := genExamples(1, 3000, byCategory)
	test := genExamples(2, 1000, byCategory)
	c, err := Train(train, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ev := Evaluate(c, test)
	if ev.Accuracy < 0.9 || ev.MacroF1 < 0.85 {
		t.Errorf("accuracy %.3f macro F1 %.3f on generated requests", ev.Accuracy, ev.MacroF1)
	}
	sug := c.Suggest("楼下饭店油烟直排，熏得窗户都不敢开，净化器也没装", 3)
	if len(sug) != 3 || sug[0].Label != "fume" || sug[0].Confidence < sug[1].Confidence || len(sug[0].Because) == 0 {
		t.Fatalf("suggestions %+v", sug)
	}
	var sum float64
	for _, s := range sug {
		sum += s.Confidence
	}
	if sum > 1.0001 {
		t.Errorf("confidences sum to %f", sum)
	}
	if !slices.ContainsFunc(sug[0].Because, func(w string) bool {
		return strings.Contains(w, "油烟") || strings.Contains(w, "饭店") || strings.Contains(w, "净化")
	}) {
		t.Errorf("because %q", sug[0].Because)
	}
	// round trip
	var buf bytes.Buffer
	if err := c.Save(&buf); err != nil {
		t.Fatal(err)
	}
	c2, err := Load(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if ev2 := Evaluate(c2, test); ev2.Accuracy != ev.Accuracy {
		t.Errorf("loaded model: accuracy %f, was %f", ev2.Accuracy, ev.Accuracy)
	}
	if _, err := Load(strings.NewReader("nonsense")); err == nil {
		t.Error("Load accepted garbage")
	}
	var out bytes.Buffer
	if err := ev.WriteReport(&out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if last := lines[len(lines)-1]; last != fmt.Sprintf("accuracy=%.4f macro_f1=%.4f", ev.Accuracy, ev.MacroF1) {
		t.Errorf("last line %q", last)
	}
}

func TestRuleClassifier(t *testing.T) {
	rules := map[string][]string{}
	for _, d := range corpus.Departments() {
		rules[d.Code] = d.Keywords
	}
	c := NewRuleClassifier(rules)
	s := c.Suggest("小区电梯又坏了，物业不管", 3)
	if s[0].Label != "zjj" || !slices.Contains(s[0].Because, "电梯") {
		t.Fatalf("%+v", s)
	}
}

func TestReadExamples(t *testing.T) {
	ex, err := ReadExamples(strings.NewReader("label,text\nnoise,\"楼上吵, 很吵\"\n,没有标签\n"))
	if err != nil || len(ex) != 1 || ex[0].Text != "楼上吵, 很吵" || ex[0].Label != "noise" {
		t.Fatalf("%v %+v", err, ex)
	}
	if _, err := ReadExamples(strings.NewReader("a,b\n1,2\n")); err == nil {
		t.Error("missing columns accepted")
	}
}

// edit deletes and inserts a few characters and changes punctuation.
func edit(r *rand.Rand, s string) string {
	rs := []rune(s)
	for range 2 {
		i := r.IntN(len(rs))
		rs = append(rs[:i], rs[i+1:]...)
	}
	for range 2 {
		i := r.IntN(len(rs) + 1)
		rs = slices.Insert(rs, i, '的')
	}
	return strings.NewReplacer("，", ",", "。", ". ").Replace(string(rs))
}

func TestDuplicates(t *testing.T) {
	g := corpus.NewGenerator(3)
	ix := NewIndex(100)
	var docs []Doc
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range 3000 {
		r := g.Request()
		d := Doc{ID: int64(i + 1), Title: r.Title, Body: r.Body, Address: r.Address, Lat: r.Lat, Long: r.Long, At: t0.Add(time.Duration(i) * time.Minute)}
		docs = append(docs, d)
		ix.Add(&d)
	}
	rnd := rand.New(rand.NewPCG(1, 1))
	found := 0
	for i := 0; i < len(docs); i += 10 {
		d := docs[i]
		q := &Query{Doc: Doc{Title: edit(rnd, d.Title), Body: edit(rnd, d.Body)}}
		cs := ix.Similar(q)
		if len(cs) > 0 && cs[0].Score >= 0.5 && slices.ContainsFunc(cs, func(c Candidate) bool { return c.ID == d.ID && c.Score >= 0.5 }) {
			found++
		}
	}
	if found < 290 {
		t.Errorf("edited copies found: %d/300", found)
	}
	// Same place, related text: found through the place.
	d := docs[0]
	q := &Query{Doc: Doc{Title: "又来反映", Body: d.Body[:len(d.Body)/2], Address: d.Address}}
	if cs := ix.Similar(q); len(cs) == 0 {
		t.Error("half a text at the same address not found")
	}
	// Unrelated texts.
	for _, s := range []string{"请问社保卡丢失了去哪里补办，需要带什么材料？", "建议在学校门口增设红绿灯，方便孩子过马路。"} {
		for _, c := range ix.Similar(&Query{Doc: Doc{Body: s}}) {
			if c.Score >= 0.5 {
				t.Errorf("%q: unrelated candidate %+v", s, c)
			}
		}
	}
	// Period filter and removal.
	q = &Query{Doc: Doc{Title: d.Title, Body: d.Body}, From: t0.Add(time.Hour)}
	for _, c := range ix.Similar(q) {
		if c.ID == d.ID {
			t.Error("period filter ignored")
		}
	}
	ix.Remove(d.ID)
	for _, c := range ix.Similar(&Query{Doc: Doc{Title: d.Title, Body: d.Body}}) {
		if c.ID == d.ID {
			t.Error("removed case found")
		}
	}
	if DupScore(0.3, 1) < 0.5 || DupScore(0.3, 0) >= 0.5 {
		t.Error("DupScore")
	}
	if m := DistanceMetres(30, 104, 30.001, 104); m < 100 || m > 120 {
		t.Errorf("distance %f", m)
	}
}

func TestHotspots(t *testing.T) {
	g := corpus.NewGenerator(9)
	t0 := time.Date(2025, 5, 1, 8, 0, 0, 0, time.UTC)
	var docs []Doc
	id := int64(0)
	for i := range 400 { // background
		r := g.Request()
		id++
		docs = append(docs, Doc{ID: id, Title: r.Title, Body: r.Body, At: t0.Add(time.Duration(i) * time.Hour), Requester: fmt.Sprint("u", i)})
	}
	hot := []string{"云杉里小区东门烧烤摊油烟扰民", "云杉里小区东门夜宵烧烤油烟太大", "云杉里小区东门的烧烤摊每晚油烟呛人"}
	for i := range 20 {
		id++
		docs = append(docs, Doc{ID: id, Title: hot[i%3], Body: hot[(i+1)%3] + "，希望有关部门管一管。", At: t0.Add(time.Duration(300+i) * time.Hour), Requester: fmt.Sprint("h", i%16), Supporters: 3})
	}
	hs := Hotspots(docs, HotOptions{})
	if len(hs) == 0 {
		t.Fatal("no hot issues")
	}
	h := hs[0]
	if h.Count != 20 || h.Requesters != 16 || h.Supporters != 60 || !strings.Contains(h.Title, "云杉里小区") || h.Cases[0] != 401 {
		t.Fatalf("top hot issue %+v", h)
	}
	if h.First != t0.Add(300*time.Hour) || h.Last != t0.Add(319*time.Hour) || len(h.Cases) != 20 {
		t.Errorf("span or cases: %+v", h)
	}
	// Heat: more people, more heat; recency counts.
	now := t0
	a := Heat(10, 10, 0, now, now, now, nil, 0)
	b := Heat(10, 5, 0, now, now, now, nil, 0)
	c := Heat(10, 10, 0, now, now, now.Add(30*24*time.Hour), nil, 7*24*time.Hour)
	if !(a > b && a > c && c >= 0.75*a) {
		t.Errorf("heat %f %f %f", a, b, c)
	}
}

func BenchmarkTokens(b *testing.B) {
	g := corpus.NewGenerator(1)
	var texts []string
	n := 0
	for range 1000 {
		r := g.Request()
		texts = append(texts, r.Body)
		n += len([]rune(r.Body))
	}
	b.ResetTimer()
	var toks int
	for i := 0; i < b.N; i++ {
		toks += len(Tokens(texts[i%len(texts)]))
	}
	b.ReportMetric(float64(toks)/b.Elapsed().Seconds(), "tokens/s")
}

func BenchmarkSuggest(b *testing.B) {
	c, err := Train(genExamples(1, 5000, func(r corpus.Request) string { return r.Dept }), TrainOptions{})
	if err != nil {
		b.Fatal(err)
	}
	test := genExamples(2, 1000, byCategory)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Suggest(test[i%len(test)].Text, 3)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "suggestions/s")
}

func BenchmarkTrain100k(b *testing.B) {
	ex := genExamples(1, 100_000, func(r corpus.Request) string { return r.Dept })
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Train(ex, TrainOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDuplicates1M checks one request against an index of 1,000,000
// cases: 100,000 generated requests (many from the same templates, so
// buckets are crowded) and 900,000 near-copies of them with two
// characters changed, spread over the district. It reports the p95.
func BenchmarkDuplicates1M(b *testing.B) {
	g := corpus.NewGenerator(5)
	ix := NewIndex(100)
	base := make([]Doc, 100_000)
	sigs := make([]Signature, len(base))
	for i := range base {
		r := g.Request()
		base[i] = Doc{ID: int64(i), Title: r.Title, Body: r.Body, Address: r.Address, Lat: r.Lat, Long: r.Long}
	}
	parallel(len(base), 8, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			sigs[i] = Sign(base[i].text())
		}
	})
	rnd := rand.New(rand.NewPCG(2, 2))
	for i := range 1_000_000 {
		d := base[i%len(base)]
		d.ID = int64(i)
		s := sigs[i%len(base)]
		if i >= len(base) { // a near-copy: two MinHash values differ
			s[rnd.IntN(SigSize)] = rnd.Uint32()
			s[rnd.IntN(SigSize)] = rnd.Uint32()
			d.Address = ""
		}
		ix.AddSigned(&d, s)
	}
	qs := make([]Query, 1000)
	for i := range qs {
		r := g.Request()
		qs[i] = Query{Doc: Doc{ID: -1, Title: r.Title, Body: r.Body, Address: r.Address, Lat: r.Lat, Long: r.Long}}
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := time.Now()
		ix.Similar(&qs[i%len(qs)])
		lat = append(lat, time.Since(t))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
}
