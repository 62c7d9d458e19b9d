package corpus

import (
	"math/rand/v2"
	"strings"
	"unicode/utf8"
)

// Length limits for generated requests, in characters (runes).
const (
	MaxTitle = 30
	MinBody  = 40
	MaxBody  = 400
)

// Generator produces deterministic demo texts; it is not safe for
// concurrent use.
type Generator struct {
	r *rand.Rand
}

// NewGenerator returns a generator whose output depends only on seed.
func NewGenerator(seed int64) *Generator {
	return &Generator{r: rand.New(rand.NewPCG(uint64(seed), 0x7a6e6762616e))}
}

func (g *Generator) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }
func (g *Generator) chance(p float64) bool   { return g.r.Float64() < p }
func (g *Generator) between(lo, hi int) int  { return lo + g.r.IntN(hi-lo+1) }

var typeWeights = map[string]int{TypeComplaint: 40, TypeHelp: 14, TypeConsult: 20, TypeReport: 10, TypeSuggestion: 16}

// splitCore separates a core's own title templates ("t1;;t2>>body").
func splitCore(core string) (titles []string, body string) {
	if i := strings.Index(core, ">>"); i >= 0 {
		return strings.Split(core[:i], ";;"), core[i+2:]
	}
	return nil, core
}

func truncRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// Request returns one realistic citizen request.
func (g *Generator) Request() Request {
	// category
	total := 0
	for i := range catTexts {
		total += catTexts[i].weight
	}
	n := g.r.IntN(total)
	ct := &catTexts[0]
	for i := range catTexts {
		if n < catTexts[i].weight {
			ct = &catTexts[i]
			break
		}
		n -= catTexts[i].weight
	}
	// type, among those the category has texts for
	var types []string
	tw := 0
	for _, t := range Types() {
		for _, sc := range ct.scens {
			if strings.Contains(sc.types, t) {
				types = append(types, t)
				tw += typeWeights[t]
				break
			}
		}
	}
	n = g.r.IntN(tw)
	typ := types[0]
	for _, t := range types {
		if n < typeWeights[t] {
			typ = t
			break
		}
		n -= typeWeights[t]
	}
	var cands []*scen
	for i := range ct.scens {
		if strings.Contains(ct.scens[i].types, typ) {
			cands = append(cands, &ct.scens[i])
		}
	}
	sc := cands[g.r.IntN(len(cands))]
	ownTitles, core := splitCore(g.pick(sc.cores))

	c := g.newCtx(&streets[g.r.IntN(len(streets))])
	c.setPlace(g.placeKind(core, sc.places))

	req := Request{Type: typ, Category: ct.code}
	for try := 0; ; try++ {
		var t string
		if len(ownTitles) > 0 && (len(sc.titles) == 0 || g.chance(0.85)) {
			t = g.pick(ownTitles)
		} else {
			t = g.pick(sc.titles)
		}
		req.Title = c.expand(t)
		if utf8.RuneCountInString(req.Title) <= MaxTitle {
			break
		}
		if try > 6 {
			req.Title = truncRunes(req.Title, MaxTitle)
			break
		}
	}
	for try := 0; ; try++ {
		req.Body = g.body(c, ct, typ, core, try)
		l := utf8.RuneCountInString(req.Body)
		if l >= MinBody && l <= MaxBody {
			break
		}
		if try > 8 {
			if l > MaxBody {
				req.Body = truncRunes(req.Body, MaxBody-1) + "。"
			}
			for utf8.RuneCountInString(req.Body) < MinBody {
				req.Body += "希望相关部门重视，尽快处理，谢谢！"
			}
			break
		}
	}
	req.Address = c.address
	req.Lat, req.Long = c.lat, c.long
	switch d := sc.dept; {
	case d == "street":
		req.Dept = c.s.code
	case d != "":
		req.Dept = d
	case ct.dept == "street":
		req.Dept = c.s.code
	default:
		req.Dept = ct.dept
	}
	req.Name = g.PersonName()
	if g.chance(0.12) {
		req.Name = surnameOf(req.Name) + g.pick([]string{"先生", "女士"})
	}
	req.Phone = g.Mobile()
	return req
}

// body assembles a request body for the type; later tries drop optional
// parts so that long cores still fit.
func (g *Generator) body(c *reqCtx, ct *catText, typ, core string, try int) string {
	keep := 1.0 - 0.2*float64(try) // probability scale for optional parts
	opt := func(p float64) bool { return g.chance(p * keep) }
	var b strings.Builder
	add := func(s string) { b.WriteString(c.expand(s)) }
	if opt(0.85) {
		add(g.pick(openings))
	}
	switch typ {
	case TypeConsult:
		if opt(0.4) && !selfIntro(&b, core) {
			add(g.pick(intros))
		}
		add(core)
		add(g.pick(consultClosers))
	case TypeSuggestion:
		if opt(0.3) && !selfIntro(&b, core) {
			add(g.pick(intros))
		}
		add(core)
		add(g.pick(suggestClosers))
	case TypeReport:
		add(core)
		if opt(0.5) {
			add(g.pick(ct.impacts))
		}
		add(g.pick(reportEvidence))
		if opt(0.5) {
			add(g.pick(ct.pleas))
		}
		if opt(0.2) {
			add(g.pick(callbacks))
		}
	default: // 投诉, 求助
		if opt(0.35) && !selfIntro(&b, core) {
			add(g.pick(intros))
		}
		add(core)
		if opt(0.6) {
			add(g.pick(ct.impacts))
		}
		if opt(0.5) {
			add(g.pick(ct.tried))
		}
		add(g.pick(ct.pleas))
		if typ == TypeHelp {
			add(g.pick(helpExtra))
		} else if opt(0.4) {
			add(g.pick(complaintExtra))
		}
		if opt(0.25) {
			add(g.pick(callbacks))
		}
	}
	if opt(0.5) && !strings.Contains(string([]rune(b.String())[max(0, utf8.RuneCountInString(b.String())-8):]), "谢") {
		add(g.pick(closings))
	}
	return b.String()
}

// selfIntro reports whether the text already says who the writer is.
func selfIntro(b *strings.Builder, core string) bool {
	return strings.Contains(b.String(), "我") || strings.HasPrefix(core, "我") || strings.HasPrefix(core, "[我")
}

// pickRelevant picks the template sharing the most character pairs with
// text, breaking ties at random, so replies answer what was asked.
func (g *Generator) pickRelevant(list []string, text string) string {
	best, bestScore, ties := "", -1, 0
	for _, cand := range list {
		rs := []rune(cand)
		seen := map[string]bool{}
		for i := 0; i+1 < len(rs); i++ {
			bg := string(rs[i : i+2])
			if !seen[bg] && strings.Contains(text, bg) {
				seen[bg] = true
			}
		}
		sc := 0
		if len(rs) > 1 {
			sc = len(seen) * 1000 / (len(rs) - 1)
		}
		switch {
		case sc > bestScore:
			best, bestScore, ties = cand, sc, 1
		case sc == bestScore:
			ties++
			if g.r.IntN(ties) == 0 {
				best = cand
			}
		}
	}
	return best
}

// placeKind infers the kind of place a core is about from its slots.
func (g *Generator) placeKind(core, places string) string {
	best, at := "", len(core)+1
	for _, k := range []string{"market", "school", "metro", "park", "estate", "road"} {
		if i := strings.Index(core, "{"+k+"}"); i >= 0 && i < at {
			best, at = k, i
		}
	}
	if i := strings.Index(core, "{place}"); i >= 0 && i < at || best == "" {
		ks := strings.Fields(places)
		return ks[g.r.IntN(len(ks))]
	}
	return best
}

// Reply returns an official reply (答复) to a request, as the handling
// department would write it.
func (g *Generator) Reply(r Request) string {
	c := g.replyCtx(r)
	c.rel = r.Title + r.Body
	ct := &catTexts[len(catTexts)-1]
	for i := range catTexts {
		if catTexts[i].code == r.Category {
			ct = &catTexts[i]
		}
	}
	var b strings.Builder
	add := func(s string) {
		if s != "" {
			b.WriteString(c.expand(s))
		}
	}
	if strings.HasSuffix(r.Name, "先生") || strings.HasSuffix(r.Name, "女士") || r.Name == "" || g.chance(0.3) {
		if r.Name != "" && g.chance(0.6) {
			add("{name}：您好！")
		} else {
			add("尊敬的市民朋友：您好！")
		}
	} else {
		add(g.pick(replySalutations))
	}
	b.WriteString("\n")
	add(g.pick(replyThanks))
	add(g.pick(replyReceipts))
	switch r.Type {
	case TypeConsult:
		add(g.pick(replyConsultIntro))
		b.WriteString("\n")
		add(g.pickRelevant(ct.answers, r.Title+r.Body))
	case TypeSuggestion:
		add(g.pick(replySuggestIntro))
		b.WriteString("\n")
		add(g.pickRelevant(ct.adopts, r.Title+r.Body))
	default:
		add(g.pick(replyAttention))
		b.WriteString("\n")
		add(g.pickRelevant(ct.findings, r.Title+r.Body))
		act := g.pickRelevant(ct.actions, r.Title+r.Body)
		add(act)
		if !strings.Contains(act, "巡查") {
			add(g.pick(replyFollowups))
		}
	}
	b.WriteString("\n")
	add(g.pick(replyContacts))
	add(g.pick(replyClosings))
	b.WriteString("\n")
	add("{dept}")
	return b.String()
}

// Comment returns a short 好差评 comment for level 1..5 (5 = 非常满意).
func (g *Generator) Comment(level int) string {
	level = min(max(level, 1), 5) - 1
	return g.pick(comments[level]) + g.pick(commentSuffix[level])
}

func (g *Generator) workflowReason(list []string) string {
	c := g.newCtx(&streets[g.r.IntN(len(streets))])
	return c.expand(g.pick(list))
}

// ReturnReason returns a department's reason for returning (退回) a case.
func (g *Generator) ReturnReason() string { return g.workflowReason(returnReasons) }

// ExtensionReason returns a reason for requesting an extension (延期).
func (g *Generator) ExtensionReason() string { return g.workflowReason(extensionReasons) }

// TransferReason returns a reason for transferring (转办) a case.
func (g *Generator) TransferReason() string { return g.workflowReason(transferReasons) }

var (
	surnames = []string{
		"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗",
		"郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡",
		"余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金",
		"石", "廖", "贾", "夏", "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "闫", "段", "雷", "侯",
		"龙", "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵", "万", "钱", "严", "覃", "武", "戴", "莫", "孔", "向", "汤",
		"欧阳", "司马", "诸葛", "上官",
	}
	givenChars = []string{
		"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀", "霞", "平",
		"刚", "桂", "英", "华", "建", "国", "文", "辉", "玲", "鹏", "林", "红", "波", "斌", "宇", "浩", "凯", "婷", "雪", "琳",
		"晨", "欣", "怡", "佳", "子", "涵", "梓", "轩", "博", "睿", "思", "雨", "嘉", "俊", "峰", "亮", "海", "燕", "萍", "春",
		"志", "兰", "成", "荣", "玉", "凤", "德", "福", "顺", "祥", "琴", "云", "飞", "龙", "利", "永", "晓", "丹", "蕾", "倩",
		"颖", "莉", "瑶", "馨", "昊", "然", "泽", "航", "一", "诺", "梅", "建", "新", "民", "卫", "东", "小", "忠", "兵", "宏",
	}
	mobilePrefixes = []string{
		"130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "147", "150", "151", "152", "153", "155",
		"156", "157", "158", "159", "166", "173", "176", "177", "178", "180", "181", "182", "183", "184", "185", "186", "187",
		"188", "189", "191", "193", "195", "198", "199",
	}
)

func surnameOf(name string) string {
	for _, s := range surnames[len(surnames)-4:] {
		if strings.HasPrefix(name, s) {
			return s
		}
	}
	return string([]rune(name)[:1])
}

// PersonName returns a plausible Chinese name: 姓 + 1–2 character 名.
func (g *Generator) PersonName() string {
	s := surnames[g.r.IntN(len(surnames)-4)]
	if g.chance(0.01) {
		s = surnames[len(surnames)-4+g.r.IntN(4)]
	}
	name := s + g.pick(givenChars)
	if g.chance(0.7) {
		name += g.pick(givenChars)
	}
	return name
}

// Mobile returns a valid-looking Chinese mobile number, 1[3-9]\d{9}.
func (g *Generator) Mobile() string {
	b := []byte(g.pick(mobilePrefixes))
	for range 8 {
		b = append(b, byte('0'+g.r.IntN(10)))
	}
	return string(b)
}
