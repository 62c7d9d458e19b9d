package engine

import (
	"context"

	"github.com/tongban/tongban"
)

// DefaultCategories are the request categories a fresh store starts with;
// each is an Open311 service with a stable code. Administrators change them
// through the API.
func DefaultCategories() []tongban.Category {
	cs := []tongban.Category{
		{Code: "shirong", Name: "市容环境", Description: "垃圾堆放、乱贴乱画、绿化损毁、公共场所卫生等", Keywords: []string{"垃圾", "卫生", "绿化", "广告", "小广告", "脏乱"}},
		{Code: "noise", Name: "噪音扰民", Description: "施工、商铺、娱乐场所、广场舞等噪声扰民", Keywords: []string{"噪音", "噪声", "施工", "扰民", "广场舞", "KTV"}},
		{Code: "fume", Name: "油烟污染", Description: "餐饮油烟、露天烧烤等大气污染", Keywords: []string{"油烟", "烧烤", "餐馆", "排烟", "气味"}},
		{Code: "stall", Name: "占道经营", Description: "流动摊贩、店外经营、占用人行道", Keywords: []string{"摊贩", "占道", "摆摊", "店外经营"}},
		{Code: "building", Name: "违法建设", Description: "违章搭建、私自改建、楼顶加建", Keywords: []string{"违建", "违章", "搭建", "加建"}, ReplyNeedsApproval: true},
		{Code: "road", Name: "道路设施", Description: "路面破损、井盖缺失、路灯不亮、护栏损坏", Keywords: []string{"路面", "井盖", "路灯", "坑洼", "护栏"}},
		{Code: "property", Name: "物业管理", Description: "电梯故障、物业服务、物业费、公共维修", Keywords: []string{"物业", "电梯", "小区", "物业费"}},
		{Code: "labour", Name: "劳动保障", Description: "拖欠工资、社保、劳动合同、就业", Keywords: []string{"工资", "欠薪", "社保", "劳动合同"}, ReplyNeedsApproval: true},
		{Code: "education", Name: "教育", Description: "入学、学位、校外培训、校园周边", Keywords: []string{"入学", "学校", "学位", "培训"}},
		{Code: "health", Name: "医疗卫生", Description: "医疗服务、诊所、疫苗、公共卫生", Keywords: []string{"医院", "诊所", "医生", "疫苗"}},
		{Code: "traffic", Name: "交通出行", Description: "公交线路、违章停车、交通信号、拥堵", Keywords: []string{"公交", "停车", "红绿灯", "拥堵"}},
		{Code: "water", Name: "供水排水", Description: "停水、爆管、污水外溢、积水（紧急类，按工作小时计时）", Keywords: []string{"停水", "爆管", "积水", "漏水", "污水"}, LimitHours: 8},
		{Code: "other", Name: "其他", Description: "以上分类之外的咨询、求助、投诉、举报和建议"},
	}
	for i := range cs {
		cs[i].Active, cs[i].Order = true, (i+1)*10
	}
	return cs
}

// EnsureDefaults gives a fresh store its default categories.
func (e *Engine) EnsureDefaults(ctx context.Context) error {
	cs, err := e.Store.ListCategories(ctx)
	if err != nil || len(cs) > 0 {
		return err
	}
	defer e.invalidate()
	for _, c := range DefaultCategories() {
		if err := e.Store.PutCategory(ctx, &c); err != nil {
			return err
		}
	}
	return nil
}
