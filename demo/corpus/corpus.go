// Package corpus generates realistic, deterministic demo data for a
// fictional district: departments, request categories, citizen requests
// (区长信箱 / 城管投诉), official replies, rating comments, workflow reasons,
// and a GeoJSON map of the district and its street offices.
//
// Every name in this package (district, streets, roads, estates, shops,
// companies, people) is invented. No real citizen text is used.
package corpus

// Request types, as used by the mayor's mailbox.
const (
	TypeConsult    = "咨询"
	TypeHelp       = "求助"
	TypeComplaint  = "投诉"
	TypeReport     = "举报"
	TypeSuggestion = "建议"
)

// Types returns the five request types.
func Types() []string {
	return []string{TypeConsult, TypeHelp, TypeComplaint, TypeReport, TypeSuggestion}
}

// Department is a unit that can receive dispatched requests.
type Department struct {
	Code     string
	Name     string
	Kind     string // "bureau" | "street" | "centre" | "supervision"
	Parent   string
	Keywords []string
}

// Category is a default request category.
type Category struct {
	Code               string
	Name               string
	Description        string
	Dept               string // usual lead department code
	Urgent             bool   // hour-based time limit
	ReplyNeedsApproval bool
	Keywords           []string
}

// Request is one generated citizen request.
type Request struct {
	Type     string // one of 咨询 求助 投诉 举报 建议
	Category string // category code
	Dept     string // department code that would handle it
	Title    string
	Body     string
	Address  string
	Lat      float64
	Long     float64
	Name     string
	Phone    string
}

const districtName = "青川区"

// District returns the fictional district's name.
func District() string { return districtName }

// street is the static description of one street office and its places.
type street struct {
	code, short string // "street-hx", "华兴"
	roads       []string
	estates     []string
	market      string
	schools     []string
	park        string
	metro       string
	col, row    int // grid cell (col 0..3 west→east, row 0..1 south→north)
}

func (s *street) name() string     { return s.short + "街道" }
func (s *street) deptName() string { return s.short + "街道办事处" }

var streets = []street{
	{code: "street-qy", short: "青云", col: 0, row: 1,
		roads:   []string{"青云路", "凌云大道", "望江路", "紫荆街", "云台巷"},
		estates: []string{"青云里小区", "紫荆花园", "凌云国际", "望江苑", "云台新村"},
		market:  "紫荆农贸市场", schools: []string{"青云实验小学", "凌云中学"}, park: "青云山公园", metro: "凌云大道站"},
	{code: "street-hx", short: "华兴", col: 1, row: 1,
		roads:   []string{"华兴路", "锦绣路", "文昌街", "兴隆巷", "府前街"},
		estates: []string{"翠苑小区", "锦绣花园", "华兴家园", "文昌苑", "府前公寓"},
		market:  "华兴农贸市场", schools: []string{"华兴小学", "文昌路中学"}, park: "华兴公园", metro: "华兴路站"},
	{code: "street-lt", short: "柳塘", col: 2, row: 1,
		roads:   []string{"柳塘路", "滨河东路", "杨柳街", "荷塘路", "双井巷"},
		estates: []string{"柳岸名居", "荷塘月色小区", "滨河湾小区", "柳塘新村", "双井苑"},
		market:  "柳塘菜市场", schools: []string{"柳塘小学", "青川区第三中学"}, park: "滨河公园", metro: "柳塘站"},
	{code: "street-bl", short: "白鹭", col: 3, row: 1,
		roads:   []string{"白鹭湾路", "鹭洲路", "湖畔路", "翠柏街", "观澜路"},
		estates: []string{"白鹭湾花园", "鹭洲府", "湖畔雅苑", "翠柏苑", "观澜国际"},
		market:  "白鹭湾菜市场", schools: []string{"鹭洲小学", "白鹭湾实验学校"}, park: "白鹭湖公园", metro: "鹭洲路站"},
	{code: "street-fl", short: "枫林", col: 0, row: 0,
		roads:   []string{"枫林路", "枫叶街", "学府路", "科技二路", "银杏巷"},
		estates: []string{"枫林晚小区", "学府雅园", "科创公寓", "枫丹苑", "银杏里"},
		market:  "枫林农贸市场", schools: []string{"学府路小学", "枫林中学"}, park: "枫林公园", metro: "学府路站"},
	{code: "street-sq", short: "石桥", col: 1, row: 0,
		roads:   []string{"石桥街", "老街", "建设路", "工农路", "铁路巷"},
		estates: []string{"石桥新苑", "建设村小区", "工农家属院", "金桥雅居", "铁路宿舍"},
		market:  "石桥综合市场", schools: []string{"石桥小学", "石桥中学"}, park: "石桥河湿地公园", metro: "建设路站"},
	{code: "street-wc", short: "望川", col: 2, row: 0,
		roads:   []string{"望川大道", "丰收路", "新华西路", "川北街", "粮站巷"},
		estates: []string{"望川一号", "丰泽园", "新华小区", "川北名苑", "粮站宿舍"},
		market:  "丰收路市场", schools: []string{"望川小学", "新华路中学"}, park: "望川广场", metro: "望川大道站"},
	{code: "street-xq", short: "新桥", col: 3, row: 0,
		roads:   []string{"新桥大道", "东升路", "光明街", "兴业路", "永丰路"},
		estates: []string{"新桥安置小区", "东升花园", "光明里", "兴业嘉园", "永丰苑"},
		market:  "新桥农贸市场", schools: []string{"新桥九年制学校", "东升小学"}, park: "东升体育公园", metro: "新桥站"},
}

func streetByCode(code string) *street {
	for i := range streets {
		if streets[i].code == code {
			return &streets[i]
		}
	}
	return nil
}

var bureaus = []Department{
	{Code: "cgj", Name: "区城市管理和综合执法局", Kind: "bureau",
		Keywords: []string{"城管", "占道", "摊贩", "违建", "违法建设", "乱搭乱建", "渣土", "建筑垃圾", "夜间施工", "广告", "市容", "油烟", "露天烧烤"}},
	{Code: "hbj", Name: "市生态环境局青川分局", Kind: "bureau",
		Keywords: []string{"噪音", "噪声", "油烟", "污染", "异味", "废气", "排污", "扬尘", "环保", "KTV", "酒吧"}},
	{Code: "zjj", Name: "区住房和城乡建设局", Kind: "bureau",
		Keywords: []string{"物业", "电梯", "维修资金", "业委会", "井盖", "路灯", "路面", "人行道", "市政", "工地", "施工", "老旧小区"}},
	{Code: "scjgj", Name: "区市场监督管理局", Kind: "bureau",
		Keywords: []string{"食品", "过期", "缺斤短两", "价格", "消费", "超市", "药店", "营业执照", "无证经营", "假冒"}},
	{Code: "rsj", Name: "区人力资源和社会保障局", Kind: "bureau",
		Keywords: []string{"工资", "欠薪", "拖欠", "社保", "劳动合同", "劳动仲裁", "养老保险", "失业", "就业", "农民工"}},
	{Code: "jyj", Name: "区教育局", Kind: "bureau",
		Keywords: []string{"学校", "入学", "招生", "学区", "学位", "老师", "补课", "课后服务", "幼儿园", "教辅"}},
	{Code: "wjj", Name: "区卫生健康局", Kind: "bureau",
		Keywords: []string{"医院", "诊所", "医生", "看病", "卫生服务中心", "疫苗", "体检", "非法行医", "家庭医生", "慢特病"}},
	{Code: "jtj", Name: "区交通运输局", Kind: "bureau",
		Keywords: []string{"公交", "线路", "班次", "站台", "出租车", "网约车", "黑车", "非法营运", "接驳"}},
	{Code: "jjdd", Name: "市公安局青川分局交通警察大队", Kind: "bureau",
		Keywords: []string{"违停", "停车", "红绿灯", "信号灯", "斑马线", "拥堵", "交通秩序", "电动车", "车位"}},
	{Code: "mzj", Name: "区民政局", Kind: "bureau",
		Keywords: []string{"养老", "低保", "高龄补贴", "残疾", "救助", "婚姻登记", "殡葬", "老年人", "社区"}},
	{Code: "swj", Name: "区水务局", Kind: "bureau",
		Keywords: []string{"停水", "自来水", "水管", "爆管", "漏水", "水压", "积水", "下水道", "排水", "污水", "水质"}},
	{Code: "gzj", Name: "市规划和自然资源局青川分局", Kind: "bureau",
		Keywords: []string{"规划", "用地", "土地", "拆迁", "征收", "不动产", "房产证", "占地", "项目规划"}},
}

// Departments returns the command centre, the supervision office, the
// bureaus and the street offices (22 in all).
func Departments() []Department {
	out := []Department{
		{Code: "centre", Name: "区城市管理指挥中心（12345热线分中心）", Kind: "centre",
			Keywords: []string{"12345", "热线", "指挥中心", "综合", "其他"}},
		{Code: "supervision", Name: "区政府督查室（电子监察室）", Kind: "supervision", Parent: "centre",
			Keywords: []string{"督查", "督办", "超期", "推诿", "不作为", "效能"}},
	}
	for _, b := range bureaus {
		b.Keywords = append([]string(nil), b.Keywords...)
		out = append(out, b)
	}
	for i := range streets {
		s := &streets[i]
		kw := []string{s.name(), s.short + "社区", s.market, s.park, s.metro}
		kw = append(kw, s.roads...)
		kw = append(kw, s.estates...)
		kw = append(kw, s.schools...)
		out = append(out, Department{Code: s.code, Name: s.deptName(), Kind: "street", Keywords: kw})
	}
	return out
}

// Categories returns the default request categories.
func Categories() []Category {
	return []Category{
		{Code: "shirong", Name: "市容环境", Description: "垃圾清运、环境卫生、乱贴乱画、建筑垃圾乱倒等市容市貌问题", Dept: "cgj",
			Keywords: []string{"垃圾", "卫生", "脏乱差", "小广告", "建筑垃圾", "渣土", "垃圾分类", "环卫"}},
		{Code: "noise", Name: "噪音扰民", Description: "夜间施工、广场舞、娱乐场所、商铺喇叭等产生的噪声污染", Dept: "hbj",
			Keywords: []string{"噪音", "噪声", "扰民", "施工", "广场舞", "KTV", "喇叭", "音响"}},
		{Code: "fume", Name: "油烟污染", Description: "餐饮店油烟直排、未安装净化设施、露天烧烤等油烟污染问题", Dept: "hbj",
			Keywords: []string{"油烟", "餐馆", "饭店", "烧烤", "排烟", "净化器", "异味"}},
		{Code: "stall", Name: "占道经营", Description: "流动摊贩、店外经营、占用人行道和盲道等占道经营行为", Dept: "cgj",
			Keywords: []string{"占道", "摊贩", "摆摊", "出店经营", "人行道", "夜市", "小摊"}},
		{Code: "building", Name: "违法建设", Description: "楼顶加盖、私搭乱建、占用公共绿地等违法建设行为", Dept: "cgj", ReplyNeedsApproval: true,
			Keywords: []string{"违建", "违法建设", "私搭乱建", "加盖", "楼顶", "彩钢房", "搭建"}},
		{Code: "road", Name: "道路设施", Description: "井盖、路灯、路面、人行道、护栏等市政道路设施损坏", Dept: "zjj",
			Keywords: []string{"井盖", "路灯", "路面", "坑洼", "人行道", "护栏", "盲道", "道路"}},
		{Code: "property", Name: "物业管理", Description: "电梯故障、物业收费、公共收益、维修资金、业委会等物业管理问题", Dept: "zjj",
			Keywords: []string{"物业", "电梯", "物业费", "停车费", "维修资金", "业委会", "业主"}},
		{Code: "labour", Name: "劳动保障", Description: "拖欠工资、社保缴纳、劳动合同、就业创业等劳动保障事项", Dept: "rsj", ReplyNeedsApproval: true,
			Keywords: []string{"工资", "欠薪", "拖欠", "社保", "劳动合同", "农民工", "补偿", "就业"}},
		{Code: "education", Name: "教育", Description: "入学招生、学区划分、学校收费、有偿补课、课后服务等教育问题", Dept: "jyj",
			Keywords: []string{"入学", "招生", "学区", "学校", "老师", "补课", "课后服务", "转学"}},
		{Code: "health", Name: "医疗卫生", Description: "医疗机构服务、非法行医、疫苗接种、家庭医生等医疗卫生事项", Dept: "wjj", ReplyNeedsApproval: true,
			Keywords: []string{"医院", "诊所", "医生", "看病", "疫苗", "体检", "卫生服务中心", "行医"}},
		{Code: "traffic", Name: "交通出行", Description: "公交线路、停车管理、信号灯设置、违停和非法营运等交通出行问题", Dept: "jtj",
			Keywords: []string{"公交", "停车", "违停", "红绿灯", "信号灯", "斑马线", "黑车", "堵车"}},
		{Code: "water", Name: "供水排水", Description: "停水、爆管、水质水压、道路积水、下水道堵塞等供排水问题，需限时处置", Dept: "swj", Urgent: true,
			Keywords: []string{"停水", "自来水", "爆管", "漏水", "水压", "积水", "下水道", "排水"}},
		{Code: "other", Name: "其他", Description: "不属于以上类别的其他咨询、求助、投诉和建议", Dept: "centre",
			Keywords: []string{"其他", "养老", "流浪狗", "公厕", "居住证", "缺斤短两", "过期食品"}},
	}
}
