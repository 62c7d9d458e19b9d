package corpus

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var busRe = regexp.MustCompile(`(\d+)路`)

// reqCtx holds the slot values of one text, so that a request mentions
// the same estate, road or shop everywhere.
type reqCtx struct {
	g       *Generator
	s       *street
	vals    map[string]string
	rel     string // if set, [a|b] picks the alternative most related to it
	address string
	lat     float64
	long    float64
}

func (g *Generator) newCtx(s *street) *reqCtx {
	return &reqCtx{g: g, s: s, vals: map[string]string{}}
}

// expand fills a template: [a|b] alternatives, then {slot} values.
func (c *reqCtx) expand(t string) string {
	if !strings.ContainsAny(t, "[{") {
		return t
	}
	var b strings.Builder
	for i := 0; i < len(t); {
		switch t[i] {
		case '[':
			j := strings.IndexByte(t[i:], ']')
			if j < 0 {
				b.WriteString(t[i:])
				return b.String()
			}
			opts := strings.Split(t[i+1:i+j], "|")
			if c.rel != "" {
				b.WriteString(c.expand(c.g.pickRelevant(opts, c.rel)))
			} else {
				b.WriteString(c.expand(opts[c.g.r.IntN(len(opts))]))
			}
			i += j + 1
		case '{':
			j := strings.IndexByte(t[i:], '}')
			if j < 0 {
				b.WriteString(t[i:])
				return b.String()
			}
			b.WriteString(c.slot(t[i+1 : i+j]))
			i += j + 1
		default:
			b.WriteByte(t[i])
			i++
		}
	}
	return b.String()
}

var (
	shopPrefixes = []string{"老王", "张记", "川味", "蜀香", "李姐", "胖哥", "湘里人家", "老街坊", "兄弟", "大刘", "好再来", "阿强", "老灶", "渝味", "东北人家", "红姐"}
	shopKinds    = []string{"烧烤", "火锅店", "串串香", "家常菜馆", "烤鱼", "麻辣烫", "面馆", "炸鸡店", "烤肉店", "冒菜", "小龙虾", "酒楼"}
	ktvNames     = []string{"金嗓子KTV", "星光KTV", "麦霸量贩KTV", "纯K", "夜色酒吧", "蓝调音乐酒吧", "好声音KTV", "不夜城娱乐会所"}
	coPrefixes   = []string{"鑫达", "宏远", "华盛", "金鼎", "恒通", "瑞丰", "顺发", "天佑", "中润", "广源", "嘉诚", "锦程", "宏图", "万利"}
	coKinds      = []string{"建筑劳务有限公司", "装饰工程有限公司", "物流有限公司", "餐饮管理有限公司", "电子科技有限公司", "保安服务有限公司", "建设工程有限公司", "服装有限公司"}
	nightTimes   = []string{"每天晚上十点以后", "凌晨两点", "晚上十一点多", "半夜十二点到凌晨三四点", "每天夜里", "凌晨一两点", "早上五点多", "每晚十点到凌晨", "晚上十二点"}
	lateTimes    = []string{"凌晨两三点", "半夜一点多", "夜里十二点以后", "凌晨三点", "深夜"}
	durations    = []string{"一个多星期", "半个多月", "两个多月", "大半年", "一年多", "好几个月", "十来天"}
	monthSpans   = []string{"两个月", "三个月", "半年", "八个月", "四个多月", "一年"}
	cnMonths     = []string{"1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"}
	pastDays     = []string{"上周三", "昨天下午", "前天上午", "本周一", "上个月底", "昨天晚上", "上周末"}
	exits        = []string{"A口", "B口", "C口", "D口", "1号出口", "2号出口", "3号出口", "4号出口"}
	officerNames = []string{"王", "李", "张", "刘", "陈", "杨", "赵", "周", "吴", "徐", "孙", "胡", "何", "罗", "郭"}
)

func (c *reqCtx) otherRoad(not string) string {
	for {
		r := c.g.pick(c.s.roads)
		if r != not {
			return r
		}
	}
}

func (c *reqCtx) slot(name string) string {
	if v, ok := c.vals[name]; ok {
		return v
	}
	g := c.g
	var v string
	switch name {
	case "district":
		v = districtName
	case "street":
		v = c.s.name()
	case "road":
		v = g.pick(c.s.roads)
	case "road2":
		v = c.otherRoad(c.slot("road"))
	case "estate":
		v = g.pick(c.s.estates)
	case "market":
		v = c.s.market
	case "school":
		v = g.pick(c.s.schools)
	case "park":
		v = c.s.park
	case "metro":
		v = "地铁" + c.s.metro
	case "exit":
		v = g.pick(exits)
	case "place":
		c.setPlace("road", "")
		v = c.vals["place"]
	case "bldg":
		v = strconv.Itoa(g.between(1, 32)) + g.pick([]string{"栋", "号楼", "幢"})
	case "unit":
		v = strconv.Itoa(g.between(1, 4)) + "单元"
	case "floor":
		v = strconv.Itoa(g.between(7, 33))
	case "num":
		v = strconv.Itoa(g.between(1, 420))
	case "shop":
		v = g.pick(shopPrefixes) + g.pick(shopKinds)
	case "shoptype":
		v = g.pick([]string{"烧烤店", "火锅店", "中餐馆", "小吃店", "烤鱼店", "串串店"})
	case "ktv":
		v = g.pick(ktvNames)
	case "company":
		v = g.pick(coPrefixes) + g.pick(coKinds)
	case "site":
		v = c.expand(g.pick([]string{"{estate}二期项目工地", "{road}旁的安置房项目工地", "{road}商业综合体项目工地", "{school}新校区工地"}))
	case "time":
		v = g.pick(nightTimes)
	case "late":
		v = g.pick(lateTimes)
	case "dur":
		v = g.pick(durations)
	case "months":
		v = g.pick(monthSpans)
	case "n":
		v = strconv.Itoa(g.between(3, 28))
	case "amount":
		v = strconv.Itoa(g.between(30, 900) * 100)
	case "bus":
		v = strconv.Itoa(g.between(2, 268)) + "路"
	case "kid":
		v = g.pick([]string{"孩子", "女儿", "儿子"})
	case "fee1":
		v = fmt.Sprintf("%.1f", float64(g.between(8, 15))/10)
	case "fee2":
		v = fmt.Sprintf("%.1f", float64(g.between(17, 28))/10)
	case "date":
		v = g.pick(pastDays)
	case "clinic":
		v = c.s.short + g.pick([]string{"社区卫生服务中心", "社区卫生服务中心", "街道卫生院"})
	case "area":
		v = strconv.Itoa(g.between(12, 160))
	case "month":
		v = g.pick(cnMonths)
	case "rdate":
		v = g.pick(cnMonths) + strconv.Itoa(g.between(1, 28)) + "日"
	case "hour":
		v = g.pick([]string{"当日", "次日凌晨", "次日上午"}) + strconv.Itoa(g.between(1, 11)) + "时"
	case "gap1":
		v = strconv.Itoa(g.between(20, 40))
	case "gap2":
		v = strconv.Itoa(g.between(8, 15))
	case "days":
		v = strconv.Itoa(g.pick5())
	case "dept":
		v = c.randomDeptName()
	case "deptshort":
		v = "我单位"
	case "cname":
		v = g.pick(officerNames) + g.pick([]string{"科长", "同志", "主任", "女士", "先生"})
	case "tel":
		v = "8" + strconv.Itoa(g.between(2000000, 9999999))
	case "title", "addr", "name":
		v = ""
	default:
		v = "{" + name + "}" // caught by tests
	}
	c.vals[name] = v
	return v
}

func (g *Generator) pick5() int { return []int{5, 7, 10, 15, 20}[g.r.IntN(5)] }

func (c *reqCtx) randomDeptName() string {
	if c.g.chance(0.3) {
		return c.s.deptName()
	}
	return bureaus[c.g.r.IntN(len(bureaus))].Name
}

// setPlace fixes the place slot, the address and the coordinates.
func (c *reqCtx) setPlace(kind string, core ...string) {
	g := c.g
	var place, addr, key string
	prefix := districtName
	if g.chance(0.5) {
		prefix += c.s.name()
	}
	jit := 0.0007
	switch kind {
	case "estate":
		place = c.slot("estate")
		key = place
		addr = prefix + place
		if g.chance(0.6) {
			addr += c.slot("bldg")
			if g.chance(0.5) {
				addr += c.slot("unit")
			}
		}
	case "market":
		place = c.slot("market")
		key = place
		addr = prefix + place
	case "school":
		place = c.slot("school")
		key = place
		addr = districtName + c.slot("road") + c.slot("num") + "号" + place
	case "park":
		place = c.slot("park")
		key = place
		addr = prefix + place + g.pick([]string{"", "东门", "南门", "北门", "西门"})
		jit = 0.002
	case "metro":
		place = c.slot("metro")
		key = place
		addr = districtName + place + c.slot("exit")
	default: // road
		road := c.slot("road")
		key = road
		jit = 0.003
		switch x := g.r.IntN(10); {
		case x < 6:
			place = road + c.slot("num") + "号"
			addr = prefix + place
		case x < 8:
			place = road + "与" + c.slot("road2") + "交叉口"
			addr = districtName + place
			key = road + "/" + c.slot("road2")
		default:
			place = road + g.pick([]string{"中段", "北段", "南段", "东段", "西段"})
			addr = prefix + place
		}
	}
	c.vals["place"] = place
	c.address = addr
	ring := cellRing(c.s.col, c.s.row)
	a := anchor(c.s, key)
	p := a
	for range 10 {
		q := point{a[0] + (g.r.Float64()*2-1)*jit, a[1] + (g.r.Float64()*2-1)*jit*0.9}
		if inRing(q, ring) {
			p = q
			break
		}
	}
	c.long, c.lat = p[0], p[1]
}

// replyCtx rebuilds slot values for a reply from the request.
func (g *Generator) replyCtx(r Request) *reqCtx {
	s := streetByCode(r.Dept)
	if s == nil {
		s = streetByCode(StreetAt(r.Lat, r.Long))
	}
	if s == nil {
		s = &streets[0]
	}
	for i := range streets { // prefer the street whose place names the address mentions
		st := &streets[i]
		for _, n := range append(append([]string{st.market, st.park, st.metro}, st.estates...), st.roads...) {
			if strings.Contains(r.Address, n) {
				s = st
			}
		}
	}
	c := g.newCtx(s)
	for _, e := range s.estates {
		if strings.Contains(r.Address, e) || strings.Contains(r.Body, e) {
			c.vals["estate"] = e
		}
	}
	for _, rd := range s.roads {
		if strings.Contains(r.Address, rd) {
			c.vals["road"] = rd
		}
	}
	for _, sc := range s.schools {
		if strings.Contains(r.Body, sc) {
			c.vals["school"] = sc
		}
	}
	addr := strings.TrimPrefix(r.Address, districtName)
	addr = strings.TrimPrefix(addr, s.name())
	if e, ok := c.vals["estate"]; ok && strings.HasPrefix(addr, e) {
		addr = e // drop building and unit
	}
	if addr == "" {
		addr = "该处"
	}
	c.vals["addr"] = addr
	c.vals["title"] = r.Title
	c.vals["name"] = r.Name
	dept := districtName
	deptShort := "我单位"
	for _, d := range Departments() {
		if d.Code == r.Dept {
			dept = d.Name
			switch d.Kind {
			case "bureau":
				deptShort = "我局"
			case "street":
				deptShort = "我街道"
			}
		}
	}
	c.vals["dept"] = dept
	c.vals["deptshort"] = deptShort
	if m := busRe.FindStringSubmatch(r.Body); m != nil {
		c.vals["bus"] = m[1] + "路"
	}
	for _, p := range coPrefixes {
		for _, k := range coKinds {
			if strings.Contains(r.Body, p+k) {
				c.vals["company"] = p + k
			}
		}
	}
	for _, k := range []string{"社区卫生服务中心", "街道卫生院"} {
		if strings.Contains(r.Body, s.short+k) {
			c.vals["clinic"] = s.short + k
		}
	}
	return c
}
