package server

import (
	"fmt"
	"net/http"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
)

// The web pages speak Chinese first and English second. The language comes
// from ?lang= (which also sets the cookie), then the lang cookie, then
// Chinese.
const (
	langZH = "zh"
	langEN = "en"
)

const langCookie = "lang"

// langOf decides the page language and remembers an explicit choice.
func langOf(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == langZH || l == langEN {
		if w != nil {
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
		}
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == langZH || c.Value == langEN) {
		return c.Value
	}
	return langZH
}

// tr looks a message up; a missing key shows as itself so it is noticed.
func tr(lang, key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if lang == langEN && m[1] != "" {
		return m[1]
	}
	return m[0]
}

// errText is an application error's message in the page language.
func errText(lang string, e *tongban.Error) string {
	if lang == langEN && e.English != "" {
		return e.English
	}
	return e.Message
}

// fmtDate writes a date as people in China write it: 2026年12月18日.
func fmtDate(lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(calendar.Shanghai)
	if lang == langEN {
		return t.Format("2 Jan 2006")
	}
	return fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
}

// fmtDateTime adds the time of day: 2026年11月28日 14:05.
func fmtDateTime(lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmtDate(lang, t) + " " + t.In(calendar.Shanghai).Format("15:04")
}

// workDaySeconds is one working day of office time (09:00–12:00, 13:30–17:30).
const workDaySeconds = 7 * 3600

// fmtLeft writes office time left (negative: overdue) in working days and hours.
func fmtLeft(lang string, secs int64) string {
	neg := secs < 0
	if neg {
		secs = -secs
	}
	d, h := secs/workDaySeconds, (secs%workDaySeconds+1799)/3600
	if h == 7 {
		d, h = d+1, 0
	}
	var s string
	switch {
	case lang == langEN && d > 0 && h == 0:
		s = fmt.Sprintf("%d working days", d)
	case lang == langEN && d > 0:
		s = fmt.Sprintf("%d working days %d h", d, h)
	case d > 0 && h == 0:
		s = fmt.Sprintf("%d个工作日", d)
	case lang == langEN:
		s = fmt.Sprintf("%d working h", h)
	case d > 0:
		s = fmt.Sprintf("%d个工作日%d小时", d, h)
	default:
		s = fmt.Sprintf("%d个工作小时", h)
	}
	if neg {
		return tr(lang, "clock.overdue_by") + " " + s
	}
	return tr(lang, "clock.left") + " " + s
}

// typeName names a request type in the page language.
func typeName(lang, code string) string {
	if lang == langEN {
		return tr(lang, "type."+code)
	}
	if n, ok := tongban.TypeNames[code]; ok {
		return n
	}
	return code
}

func roleName(lang string, r tongban.Role) string {
	if lang == langEN {
		return tr(lang, "role."+string(r))
	}
	return tongban.RoleNames[r]
}

func channelName(lang, ch string) string {
	if lang == langEN {
		return tr(lang, "channel."+ch)
	}
	if n, ok := tongban.ChannelNames[ch]; ok {
		return n
	}
	return ch
}

// messages is the catalogue: key → {Chinese, English}.
var messages = map[string][2]string{
	"site.name":      {"青川区 通办", "Qingchuan District Tongban"},
	"site.short":     {"通办", "Tongban"},
	"site.tagline":   {"区长信箱 · 城管投诉处理中心", "Mayor's Mailbox · Complaint Centre"},
	"site.staff":     {"工作台", "Workbench"},
	"site.footer":    {"青川区人民政府 主办 · 区政务服务和大数据局 承办", "Qingchuan District People's Government"},
	"site.skip":      {"跳到正文", "Skip to content"},
	"lang.switch":    {"English", "中文"},
	"nav.home":       {"首页", "Home"},
	"nav.submit":     {"我要反映", "File a request"},
	"nav.track":      {"查询进度", "Track"},
	"nav.login":      {"工作人员登录", "Staff login"},
	"nav.work":       {"待办", "Inbox"},
	"nav.desk":       {"窗口代办", "Service desk"},
	"nav.admin":      {"系统管理", "Administration"},
	"nav.logout":     {"退出", "Log out"},
	"home.title":     {"有事找政府，一网通办", "One place to reach the district government"},
	"home.lead":      {"您可以在这里向青川区人民政府反映诉求。每一件都有专人办理、有时限、全程留痕，您可以随时凭跟踪码查询进度并评价。", "Tell the district government what you need. Every request is handled by a named department within a time limit, every step is on record, and you can track and rate it with your tracking code."},
	"home.types":     {"可以反映什么", "What you can file"},
	"home.cats":      {"诉求分类与办理时限", "Categories and time limits"},
	"home.cats_note": {"时限按工作日计算，节假日顺延；紧急类按工作小时计算。", "Limits count working days (holidays excluded); urgent categories count office hours."},
	"home.submit":    {"我要反映", "File a request"},
	"home.track":     {"查询办理进度", "Track a request"},
	"home.hotline":   {"也可拨打政务服务热线 12345，或到各街道便民服务站窗口办理。", "You can also call the 12345 hotline or visit a street service point."},
	"home.days":      {"%d个工作日", "%d working days"},
	"home.hours":     {"%d个工作小时", "%d office hours"},
	"home.wd":        {"工作日", "working days"},
	"home.urgent":    {"紧急", "urgent"},

	"type.consultation":     {"咨询", "Consultation"},
	"type.help":             {"求助", "Help"},
	"type.complaint":        {"投诉", "Complaint"},
	"type.report":           {"举报", "Report"},
	"type.suggestion":       {"建议", "Suggestion"},
	"typedesc.consultation": {"询问政策、办事流程和办理条件。", "Ask about policies, procedures and requirements."},
	"typedesc.help":         {"生活中遇到困难，需要政府部门帮助解决。", "Ask for help with a problem you cannot solve alone."},
	"typedesc.complaint":    {"对侵害您权益的行为或政府部门的服务不满。", "Something harms your rights, or a service fell short."},
	"typedesc.report":       {"检举违法违规行为。举报人信息严格保密。", "Report a breach of law. Your identity is kept confidential."},
	"typedesc.suggestion":   {"对城市管理和政府工作提出意见建议。", "Propose how the district could work better."},

	"role.intake":     {"受理员", "Intake"},
	"role.dispatcher": {"派单员", "Dispatcher"},
	"role.handler":    {"承办人", "Handler"},
	"role.head":       {"负责人", "Head"},
	"role.supervisor": {"监察员", "Supervisor"},
	"role.leader":     {"区领导", "Leader"},
	"role.admin":      {"管理员", "Administrator"},

	"channel.web":     {"网站", "Web"},
	"channel.phone":   {"热线电话", "Phone"},
	"channel.window":  {"窗口", "Window"},
	"channel.street":  {"街道服务站点", "Street service point"},
	"channel.open311": {"Open311", "Open311"},
	"channel.api":     {"接口", "API"},

	"f.type":         {"诉求类型", "Type"},
	"f.category":     {"诉求分类", "Category"},
	"f.title":        {"标题", "Title"},
	"f.body":         {"诉求内容", "Details"},
	"f.body_hint":    {"请写明时间、地点、经过和您的诉求，不超过4000字。", "When, where, what happened and what you ask for; at most 4000 characters."},
	"f.address":      {"地址", "Address"},
	"f.location":     {"在地图上标出位置（可选）", "Mark the place on the map (optional)"},
	"f.map_hint":     {"点击地图选定位置，再次点击可修改。", "Click the map to set the place; click again to move it."},
	"f.map_clear":    {"清除位置", "Clear"},
	"f.map_none":     {"未选择位置", "No place chosen"},
	"f.map_chosen":   {"已选择位置", "Place chosen"},
	"f.photos":       {"图片或PDF（可选，最多9个，每个不超过10MB）", "Photos or PDF (optional, up to 9, 10 MB each)"},
	"f.reattach":     {"为安全起见，浏览器不会保留已选的文件，请重新选择附件。", "For safety the browser does not keep chosen files: please choose them again."},
	"f.name":         {"姓名", "Name"},
	"f.name_hint":    {"可不填。", "Optional."},
	"f.phone":        {"手机号码", "Mobile phone"},
	"f.phone_hint":   {"用于查询进度和回访，不会公开。", "Used to track your request and call you back; never published."},
	"f.email":        {"电子邮箱（可选）", "Email (optional)"},
	"f.confidential": {"要求对我的身份保密", "Keep my identity confidential"},
	"f.conf_note":    {"举报件一律保密：承办部门看不到您的姓名和电话。", "Reports are always confidential: the department concerned never sees your name or phone."},
	"f.channel":      {"受理渠道", "Channel"},
	"f.choose":       {"请选择", "Choose"},
	"f.required":     {"必填", "required"},
	"f.submit":       {"提交", "Submit"},
	"f.save":         {"保存", "Save"},
	"f.add":          {"添加", "Add"},
	"f.search":       {"查询", "Search"},
	"f.filter":       {"筛选", "Filter"},
	"f.reset":        {"清除筛选", "Reset"},
	"f.code":         {"跟踪码", "Tracking code"},
	"f.last4":        {"手机号后四位", "Last 4 digits of phone"},
	"f.login":        {"登录名", "Login"},
	"f.password":     {"密码", "Password"},
	"f.new_password": {"新密码（留空不修改）", "New password (blank: unchanged)"},
	"f.department":   {"部门", "Department"},
	"f.roles":        {"角色", "Roles"},
	"f.disabled":     {"已停用", "Disabled"},
	"f.active":       {"启用", "Active"},
	"f.kind":         {"类型", "Kind"},
	"f.parent":       {"上级部门", "Parent"},
	"f.keywords":     {"关键词（空格分隔）", "Keywords (space separated)"},
	"f.code_plain":   {"编码", "Code"},
	"f.cname":        {"名称", "Name"},
	"f.description":  {"说明", "Description"},
	"f.limit_hours":  {"紧急时限（工作小时，0为不紧急）", "Urgent limit (office hours, 0 = not urgent)"},
	"f.approval":     {"答复须经负责人审核", "Replies need a head's approval"},
	"f.order":        {"排序", "Order"},
	"f.date":         {"日期", "Date"},
	"f.off":          {"放假（不勾选为调休上班）", "Day off (unticked: make-up working day)"},
	"f.holiday_name": {"名称", "Name"},
	"f.note":         {"备注（可选）", "Note (optional)"},
	"f.key_name":     {"密钥名称", "Key name"},

	"submit.title":     {"我要反映", "File a request"},
	"submit.lead":      {"请如实填写。提交后您会得到一个跟踪码，凭跟踪码和手机号后四位可随时查询进度。", "Please be accurate. You will get a tracking code; with it and your phone's last four digits you can follow your request."},
	"submit.failed":    {"提交未成功，请修改标出的内容后重试。", "Not filed yet: please correct the marked fields and submit again."},
	"submit.about_you": {"您的联系方式", "How we reach you"},
	"submit.what":      {"反映什么", "What it is about"},
	"submit.where":     {"在哪里", "Where"},
	"desk.title":       {"窗口代办：代群众登记诉求", "Service desk: file on a citizen's behalf"},
	"desk.lead":        {"按群众口述如实登记，提交后打印回执交给群众。", "Record what the citizen says, then print the receipt for them."},
	"desk.phone_hint":  {"群众同意留电话时填写，查询进度需要手机号后四位。", "If the citizen agrees; tracking needs the phone's last four digits."},

	"receipt.title":        {"受理回执", "Receipt"},
	"receipt.done":         {"您的诉求已受理", "Your request has been received"},
	"receipt.code":         {"跟踪码", "Tracking code"},
	"receipt.keep":         {"请记下或打印本页。凭跟踪码和手机号后四位可查询进度、评价服务。", "Write this down or print this page: with the code and your phone's last four digits you can track and rate your request."},
	"receipt.expect":       {"预计答复日期", "Expected reply by"},
	"receipt.received":     {"受理时间", "Received"},
	"receipt.print":        {"打印回执", "Print"},
	"receipt.track":        {"查询办理进度", "Track this request"},
	"receipt.verify":       {"为保护您的信息，请输入提交时所留手机号的后四位查看回执。", "To protect your data, enter the last four digits of the phone number you gave."},
	"receipt.show":         {"查看回执", "Show receipt"},
	"receipt.again":        {"继续反映其他问题", "File another request"},
	"receipt.confidential": {"本件按保密件办理，承办部门看不到您的身份信息。", "This case is confidential: the department handling it cannot see who you are."},

	"track.title":    {"查询办理进度", "Track a request"},
	"track.lead":     {"请输入跟踪码和提交时所留手机号的后四位。", "Enter the tracking code and the last four digits of the phone number you gave."},
	"track.status":   {"当前状态", "Status"},
	"track.dept":     {"承办部门", "Department"},
	"track.deadline": {"办理期限", "Due by"},
	"track.timeline": {"办理过程", "Progress"},
	"track.reply":    {"答复意见", "Reply"},
	"track.replied":  {"答复时间", "Replied"},
	"track.rate":     {"请对本次办理进行评价", "Rate how your request was handled"},
	"track.rated":    {"您的评价", "Your rating"},
	"track.rate_btn": {"提交评价", "Submit rating"},
	"track.comment":  {"评价意见（可选）", "Comment (optional)"},
	"track.thanks":   {"感谢您的评价！", "Thank you for your rating!"},
	"track.closed":   {"已办结", "Closed"},
	"track.no_reply": {"尚未答复。", "No reply yet."},

	"rate.5": {"非常满意", "Very satisfied"},
	"rate.4": {"满意", "Satisfied"},
	"rate.3": {"基本满意", "Fairly satisfied"},
	"rate.2": {"不满意", "Dissatisfied"},
	"rate.1": {"非常不满意", "Very dissatisfied"},

	"login.title":  {"工作人员登录", "Staff login"},
	"login.submit": {"登录", "Log in"},
	"login.note":   {"仅限青川区各部门工作人员使用。群众反映诉求请回到首页。", "For district staff only. Citizens: please use the home page."},

	"work.title":          {"待办事项", "Inbox"},
	"work.tab.dispatch":   {"待派单", "To dispatch"},
	"work.tab.accept":     {"待签收", "To accept"},
	"work.tab.mine":       {"我在办", "In my hands"},
	"work.tab.review":     {"待审核答复", "Replies to approve"},
	"work.tab.extension":  {"待批延期", "Extensions to approve"},
	"work.tab.all":        {"全部办件", "All cases"},
	"work.q":              {"关键词或跟踪码", "Words or tracking code"},
	"work.step":           {"环节", "Step"},
	"work.due":            {"剩余时间", "Time left"},
	"work.due.any":        {"全部", "Any"},
	"work.due.soon":       {"一个工作日内到期", "Due within a working day"},
	"work.due.overdue":    {"已超期", "Overdue"},
	"work.sort":           {"排序", "Sort"},
	"case.suggest":        {"派单建议", "Routing suggestions"},
	"case.because":        {"依据：", "because: "},
	"case.dups":           {"可能重复的办件", "Possible duplicates"},
	"case.merge_into":     {"并入此件", "Merge into this"},
	"similar.title":       {"以下未办结的诉求可能与您的相同，可先查看进度：", "These open requests may be about the same matter; you may follow them instead:"},
	"work.sort.default":   {"默认（搜索时按相关度，否则按剩余时间）", "Default (relevance when searching, else time left)"},
	"work.sort.deadline":  {"按剩余时间", "By time left"},
	"work.sort.-received": {"最新受理在前", "Newest first"},
	"work.sort.received":  {"最早受理在前", "Oldest first"},
	"work.status":         {"状态", "Status"},
	"work.status.open":    {"在办", "Open"},
	"work.status.closed":  {"已办结", "Closed"},
	"work.empty":          {"没有符合条件的办件。", "No cases match."},
	"work.total":          {"共 %d 件", "%d cases"},
	"work.prev":           {"上一页", "Previous"},
	"work.next":           {"下一页", "Next"},
	"work.page":           {"第 %d / %d 页", "Page %d of %d"},
	"work.hello":          {"您好，%s", "Hello, %s"},

	"col.code":     {"跟踪码", "Code"},
	"col.title":    {"标题", "Title"},
	"col.type":     {"类型", "Type"},
	"col.category": {"分类", "Category"},
	"col.step":     {"环节", "Step"},
	"col.dept":     {"主办部门", "Lead"},
	"col.received": {"受理时间", "Received"},
	"col.deadline": {"办理期限", "Deadline"},
	"col.left":     {"剩余时间", "Time left"},

	"case.facts":         {"办件信息", "Facts"},
	"case.channel":       {"来源渠道", "Channel"},
	"case.requester":     {"诉求人", "Requester"},
	"case.phone":         {"联系电话", "Phone"},
	"case.reveal":        {"显示", "Show"},
	"case.reveal_note":   {"查看完整信息将被记录。", "Viewing the full data is logged."},
	"case.revealed":      {"已显示完整信息（已记录）", "Shown in full (logged)"},
	"case.anonymous":     {"匿名", "Anonymous"},
	"case.confidential":  {"保密件", "Confidential"},
	"case.location":      {"坐标", "Coordinates"},
	"case.lead":          {"主办部门", "Lead department"},
	"case.co":            {"协办部门", "Co-departments"},
	"case.first":         {"首办部门", "First department"},
	"case.assignee":      {"承办人", "Handler"},
	"case.received":      {"受理时间", "Received"},
	"case.deadline":      {"办结期限", "Case deadline"},
	"case.step_deadline": {"本环节期限", "Step deadline"},
	"case.closed_at":     {"办结时间", "Closed"},
	"case.reply":         {"答复", "Reply"},
	"case.draft":         {"待审核的答复稿", "Draft reply awaiting approval"},
	"case.rating":        {"群众评价", "Citizen's rating"},
	"case.pending":       {"待审批的延期申请", "Extension awaiting approval"},
	"case.pending_days":  {"%d个工作日", "%d working days"},
	"case.counters":      {"退单 %d 次 · 重办 %d 次 · 转办 %d 次 · 已延期 %d 个工作日", "%d returns · %d reopenings · %d transfers · extended %d working days"},
	"case.attachments":   {"附件", "Attachments"},
	"case.events":        {"办理记录（留痕）", "Record of events"},
	"case.actions":       {"可进行的操作", "Actions you can take"},
	"case.no_actions":    {"当前没有您可以进行的操作。", "There is nothing for you to do on this case now."},
	"case.clock":         {"时限", "Time limits"},
	"case.clock.case":    {"办件", "Case"},
	"case.clock.step":    {"本环节", "This step"},
	"case.conflict":      {"该办件刚被他人更新，已显示最新内容，请确认后重试。", "Someone else just updated this case; the latest state is shown. Check and retry."},
	"case.done":          {"操作已完成：%s", "Done: %s"},
	"case.back":          {"返回待办", "Back to inbox"},
	"case.print":         {"打印回执", "Print receipt"},
	"ev.when":            {"时间", "When"},
	"ev.who":             {"经办人", "By"},
	"ev.dept":            {"部门", "Department"},
	"ev.action":          {"操作", "Action"},
	"ev.step":            {"环节变化", "Step"},
	"ev.detail":          {"说明", "Details"},
	"ev.create":          {"受理登记", "Filed"},
	"ev.public":          {"公开", "public"},
	"ev.citizen":         {"群众", "Citizen"},
	"state.normal":       {"正常", "On time"},
	"state.warning":      {"临期", "Due soon"},
	"state.overdue":      {"超期", "Overdue"},
	"state.closed":       {"已办结", "Closed"},
	"clock.left":         {"剩余", "left:"},
	"clock.overdue_by":   {"已超期", "overdue by"},
	"pay.department":     {"主办部门", "Lead"},
	"pay.co_departments": {"协办部门", "Co-departments"},
	"pay.deadline":       {"期限", "Deadline"},
	"pay.channel":        {"渠道", "Channel"},
	"pay.type":           {"类型", "Type"},
	"pay.category":       {"分类", "Category"},
	"pay.level":          {"满意度", "Satisfaction"},
	"pay.days":           {"天数", "Days"},
	"pay.working_days":   {"工作日", "Working days"},
	"pay.text":           {"内容", "Text"},
	"pay.comment":        {"评价意见", "Comment"},
	"pay.reason":         {"理由", "Reason"},
	"pay.note":           {"备注", "Note"},
	"pay.assignee":       {"承办人", "Handler"},

	"admin.title":            {"系统管理", "Administration"},
	"admin.departments":      {"部门", "Departments"},
	"admin.users":            {"用户", "Users"},
	"admin.categories":       {"诉求分类与时限", "Categories and limits"},
	"admin.holidays":         {"节假日调整", "Holiday overrides"},
	"admin.apikeys":          {"接口密钥", "API keys"},
	"admin.add_dept":         {"新增部门", "Add a department"},
	"admin.add_user":         {"新增用户", "Add a user"},
	"admin.add_cat":          {"新增分类", "Add a category"},
	"admin.add_holiday":      {"新增调整", "Add an override"},
	"admin.add_key":          {"新建密钥", "Create a key"},
	"admin.edit":             {"编辑", "Edit"},
	"admin.delete":           {"删除", "Delete"},
	"admin.revoke":           {"吊销", "Revoke"},
	"admin.revoked":          {"已吊销", "Revoked"},
	"admin.saved":            {"已保存。", "Saved."},
	"admin.key_once":         {"新密钥如下，只显示这一次，请立即妥善保存：", "Here is the new key. It is shown only this once; store it safely now:"},
	"admin.prefix":           {"前缀", "Prefix"},
	"admin.created":          {"创建时间", "Created"},
	"admin.limits":           {"各类型时限（工作日）", "Limits per type (working days)"},
	"admin.limit_default":    {"默认", "default"},
	"admin.overview":         {"选择要管理的内容。", "Choose what to manage."},
	"admin.approval_short":   {"答复须审核", "Approval"},
	"admin.state":            {"状态", "State"},
	"admin.off":              {"放假", "Day off"},
	"admin.work":             {"上班", "Working day"},
	"admin.enabled":          {"正常", "Active"},
	"admin.kind.bureau":      {"委办局", "Bureau"},
	"admin.kind.street":      {"街道", "Street office"},
	"admin.kind.centre":      {"指挥中心", "Command centre"},
	"admin.kind.supervision": {"监察室", "Supervision"},

	"err.title.400":  {"提交的内容有误", "Something in the request is wrong"},
	"err.title.401":  {"请先登录", "Please log in"},
	"err.title.403":  {"无权访问", "Not allowed"},
	"err.title.404":  {"页面不存在", "Page not found"},
	"err.title.409":  {"内容已变化", "Changed meanwhile"},
	"err.title.413":  {"内容过大", "Too large"},
	"err.title.429":  {"操作过于频繁", "Too many requests"},
	"err.title.500":  {"系统出错了", "Something went wrong"},
	"err.title.503":  {"系统暂时不可用", "Temporarily unavailable"},
	"err.what.401":   {"此页面需要工作人员登录。", "This page is for logged-in staff."},
	"err.what.403":   {"您的账号没有访问此页面或进行此操作的权限。如确需办理，请联系系统管理员。", "Your account may not see this page or do this. Ask your administrator if you need it."},
	"err.what.404":   {"您要找的页面或办件不存在，或您无权查看。请检查网址或跟踪码。", "The page or case does not exist, or you may not see it. Check the address or tracking code."},
	"err.what.429":   {"请等待一分钟后再试。", "Please wait a minute and try again."},
	"err.what.500":   {"我们已记录此问题。请稍后重试；如果一直出现，请拨打 12345 反映。", "The problem has been logged. Please retry later; if it persists, call 12345."},
	"err.what.503":   {"请稍候片刻再试。", "Please try again in a moment."},
	"err.what.other": {"请返回上一页检查后重试。", "Go back, check and try again."},
	"err.home":       {"返回首页", "Go to the home page"},
	"err.login":      {"前往登录", "Log in"},
	"err.back":       {"返回上一页", "Go back"},
	"err.code":       {"错误代码", "Error code"},
}
