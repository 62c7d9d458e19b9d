package server

// The message catalogue's entries for hot issues (热点) on the supervision
// dashboard and their own page.
func init() {
	for k, m := range hotMessages {
		if _, dup := messages[k]; dup {
			panic("i18n: duplicate key " + k)
		}
		messages[k] = m
	}
}

var hotMessages = map[string][2]string{
	"hot.title": {"热点问题", "Hot issues"},
	"hot.hint": {"近30天（%s – %s）%d 件诉求中，相似诉求归为同一问题，按热度排序：热度计诉求人数，同一人重复来电计四分之一，近期和增长中的问题略高。%s 计算，定时更新。",
		"Similar requests among the last 30 days' (%s – %s) %d grouped into issues, hottest first: heat counts the people asking, a repeat by the same person a quarter, and rises for recent and growing issues. Computed %s; refreshed on a schedule."},
	"hot.truncated":      {"诉求过多，只计入最新的十万件。", "Too many requests: only the newest 100,000 count."},
	"hot.col.rank":       {"排名", "Rank"},
	"hot.col.issue":      {"问题", "Issue"},
	"hot.col.heat":       {"热度", "Heat"},
	"hot.col.count":      {"诉求件数", "Requests"},
	"hot.col.requesters": {"诉求人数", "People"},
	"hot.col.place":      {"地点", "Place"},
	"hot.col.span":       {"时间跨度", "Time span"},
	"hot.col.cases":      {"诉求件", "Cases"},
	"hot.col.keywords":   {"关键词", "Keywords"},
	"hot.all":            {"全部 %d 件", "all %d"},
	"hot.none":           {"近30天暂无热点问题（至少两件相似诉求才成为热点）。", "No hot issues in the last 30 days (it takes two similar requests)."},
	"hot.failed":         {"热点问题暂时无法计算，请稍后刷新。", "Hot issues cannot be computed just now; try again later."},
	"hot.gone":           {"这件诉求不在当前的热点问题中：热点问题每隔几分钟按近30天的诉求重新计算。", "This case is not in a current hot issue: hot issues are recomputed every few minutes from the last 30 days' requests."},
	"hot.back":           {"返回监察看板", "Back to the dashboard"},
	"hot.summary":        {"热度 %s · %d 件诉求 · %d 位诉求人 · %s – %s", "heat %s · %d requests · %d people · %s – %s"},
	"hot.shown":          {"显示最新 %d 件，共 %d 件。", "Showing the newest %d of %d."},
	"hot.computed":       {"按 %s 计算的近30天热点。", "As computed %s from the last 30 days."},
}
