package server

import (
	"context"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/supervise"
)

// The supervision dashboard (电子监察): live alarms by colour, orders in
// progress, department rankings and flags for the chosen period, twelve
// months of trends and a map of open cases — all server-rendered, charts
// and map as inline SVG, so it works offline and without JavaScript.
// Every table exports as CSV or XLSX with ?format=csv|xlsx&table=….

// dashFilter is the dashboard's selection.
type dashFilter struct {
	Period   string    // month, quarter, year, custom
	Anchor   time.Time // a day inside a preset period
	From, To time.Time // inclusive days, midnight Shanghai
	Dept     string
	Category string
	Channel  string
}

func dayStart(t time.Time) time.Time {
	y, m, d := t.In(calendar.Shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, calendar.Shanghai)
}

// periodBounds is the preset period containing anchor.
func periodBounds(period string, anchor time.Time) (from, to time.Time) {
	y, m, _ := anchor.In(calendar.Shanghai).Date()
	switch period {
	case "quarter":
		q := (int(m) - 1) / 3
		from = time.Date(y, time.Month(q*3+1), 1, 0, 0, 0, 0, calendar.Shanghai)
		to = from.AddDate(0, 3, -1)
	case "year":
		from = time.Date(y, 1, 1, 0, 0, 0, 0, calendar.Shanghai)
		to = from.AddDate(1, 0, -1)
	default:
		from = time.Date(y, m, 1, 0, 0, 0, 0, calendar.Shanghai)
		to = from.AddDate(0, 1, -1)
	}
	return from, to
}

// parseDashFilter reads the filter from the query; a bad value is an
// error for its field and the default is used.
func (s *Server) parseDashFilter(q url.Values) (dashFilter, *tongban.Error) {
	f := dashFilter{Period: q.Get("period"), Dept: q.Get("department"), Category: q.Get("category"), Channel: q.Get("channel")}
	var bad *tongban.Error
	f.Anchor = dayStart(s.Engine.Now())
	if v := q.Get("date"); v != "" {
		if t, err := calendar.ParseDate(v); err == nil {
			f.Anchor = t
		} else {
			bad = tongban.FieldError("date", "日期格式应为 YYYY-MM-DD", "dates are YYYY-MM-DD")
		}
	}
	switch f.Period {
	case "month", "quarter", "year":
	case "custom":
		from, err1 := calendar.ParseDate(q.Get("from"))
		to, err2 := calendar.ParseDate(q.Get("to"))
		if err1 == nil && err2 == nil && !to.Before(from) && to.Sub(from) < 3*366*24*time.Hour {
			f.From, f.To = from, to
			f.Anchor = to
			break
		}
		bad = tongban.FieldError("from", "自定义期间须填写开始和结束日期（YYYY-MM-DD），结束不早于开始，跨度不超过三年", "a custom period needs from and to (YYYY-MM-DD), to not before from, at most three years")
		f.Period = "month"
	default:
		f.Period = "month"
	}
	if f.Channel != "" {
		if _, ok := tongban.ChannelNames[f.Channel]; !ok {
			f.Channel = ""
		}
	}
	if f.Period != "custom" {
		f.From, f.To = periodBounds(f.Period, f.Anchor)
	}
	return f, bad
}

// query is the filter as URL values, with overrides.
func (f dashFilter) query(over ...string) url.Values {
	q := url.Values{}
	q.Set("period", f.Period)
	if f.Period == "custom" {
		q.Set("from", f.From.Format("2006-01-02"))
		q.Set("to", f.To.Format("2006-01-02"))
	} else {
		q.Set("date", f.Anchor.Format("2006-01-02"))
	}
	for k, v := range map[string]string{"department": f.Dept, "category": f.Category, "channel": f.Channel} {
		if v != "" {
			q.Set(k, v)
		}
	}
	for i := 0; i+1 < len(over); i += 2 {
		if over[i+1] == "" {
			q.Del(over[i])
		} else {
			q.Set(over[i], over[i+1])
		}
	}
	return q
}

func (f dashFilter) label(lang string) string {
	y, m, _ := f.From.Date()
	switch f.Period {
	case "month":
		if lang == langEN {
			return f.From.Format("January 2006")
		}
		return fmt.Sprintf("%d年%d月", y, m)
	case "quarter":
		if lang == langEN {
			return fmt.Sprintf("Q%d %d", (int(m)-1)/3+1, y)
		}
		return fmt.Sprintf("%d年第%d季度", y, (int(m)-1)/3+1)
	case "year":
		if lang == langEN {
			return strconv.Itoa(y)
		}
		return fmt.Sprintf("%d年", y)
	}
	return fmtDate(lang, f.From) + " – " + fmtDate(lang, f.To)
}

// shift is the same preset period n periods away.
func (f dashFilter) shift(n int) time.Time {
	switch f.Period {
	case "quarter":
		return f.From.AddDate(0, 3*n, 0)
	case "year":
		return f.From.AddDate(n, 0, 0)
	}
	return f.From.AddDate(0, n, 0)
}

// alarmRow is one live alarm on the board.
type alarmRow struct {
	*tongban.Alarm
	DeptName string
	CatName  string
	Scope    string
	Time     string // overdue by / left, in working days and hours
	Secs     int64  // office seconds overdue (negative: left)
}

type alarmBoard struct {
	Colour string
	Label  string
	Total  int
	Rows   []alarmRow
}

// orderRow is a supervision order in progress.
type orderRow struct {
	*tongban.Case
	DeptName  string
	StepLabel string
	Clock     engine.ClockState
	Left      string
}

// monthPoint is one month of the trends.
type monthPoint struct {
	Month        string // YYYY-MM
	Received     int64
	Closed       int64
	ClosedOnTime int64
	Rated        int64
	Satisfied    int64
}

func (p monthPoint) onTimeRate() *float64 {
	if p.Closed == 0 {
		return nil
	}
	v := math.Round(float64(p.ClosedOnTime)/float64(p.Closed)*10000) / 10000
	return &v
}

func (p monthPoint) satisfaction() *float64 {
	if p.Rated == 0 {
		return nil
	}
	v := math.Round(float64(p.Satisfied)/float64(p.Rated)*10000) / 10000
	return &v
}

// flagRow is a department or person with repeated valid complaints.
type flagRow struct {
	Kind            string // department, person
	Key, Name       string
	ValidComplaints int64
	Findings        int64
}

// dashData is the whole dashboard.
type dashData struct {
	F          dashFilter
	Label      string
	PrevURL    string
	NextURL    string
	Boards     []*alarmBoard
	Hot        *hotPanel // ui_hot.go
	Orders     []orderRow
	OrdersN    int
	Rank       *engine.ScorecardResult
	Flagged    []flagRow
	Threshold  int
	Months     []monthPoint
	ChartCases template.HTML
	ChartSat   template.HTML
	Map        template.HTML
	MapOpen    int
	MapOverdue int
	MapNoLoc   int
	MapCapped  bool
	Depts      []*tongban.Department
	Categories []*tongban.Category
	Channels   []string
	Elapsed    string
	lk         *lookups
}

// ExportURL is the link exporting one table in one format.
func (d *dashData) ExportURL(tableName, format string) string {
	return "/supervise?" + d.F.query("table", tableName, "format", format).Encode()
}

// Pct writes a rate as a percentage.
func (d *dashData) Pct(p *float64) string { return pct(p) }

func pct(p *float64) string {
	if p == nil {
		return "—"
	}
	return strconv.FormatFloat(*p*100, 'f', 1, 64) + "%"
}

func fixed2(p *float64) string {
	if p == nil {
		return "—"
	}
	return strconv.FormatFloat(*p, 'f', 2, 64)
}

// Num writes a figure with two decimals.
func (d *dashData) Num(p *float64) string { return fixed2(p) }

// Sum adds two counts.
func (d *dashData) Sum(a, b int64) int64 { return a + b }

// GradeClass is the CSS class of a grade.
func (d *dashData) GradeClass(g string) string {
	switch g {
	case "优秀":
		return "g-a"
	case "良好":
		return "g-b"
	case "合格":
		return "g-c"
	case "不合格":
		return "g-d"
	}
	return ""
}

const (
	boardRows  = 30   // alarms shown per colour
	mapCap     = 2000 // dots on the map
	ordersRows = 50
)

// overdueText is how long past (or before) a deadline now is, in office time.
func (s *Server) overdueText(lang string, deadline, now time.Time) (int64, string) {
	secs := int64(s.Engine.Calendar().WorkDuration(deadline, now) / time.Second)
	return secs, fmtLeft(lang, -secs)
}

// dashboard gathers the dashboard for the filter. The queries are
// independent and run at once.
func (s *Server) dashboard(ctx context.Context, a *auth, lang string, f dashFilter, lk *lookups) (*dashData, error) {
	d := &dashData{F: f, Label: f.label(lang), lk: lk, Depts: lk.activeDepts(), Categories: lk.catL, Channels: tongban.Channels,
		Threshold: s.Engine.SuperviseConfig().RepeatComplaints}
	if f.Period != "custom" {
		d.PrevURL = "/supervise?" + f.query("date", f.shift(-1).Format("2006-01-02")).Encode()
		d.NextURL = "/supervise?" + f.query("date", f.shift(1).Format("2006-01-02")).Encode()
	}
	now := s.Engine.Now()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	run := func(fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	// Live alarms by colour, newest first.
	colours := []string{tongban.AlarmRed, tongban.AlarmYellow, tongban.AlarmWarning, tongban.AlarmFlag}
	d.Boards = make([]*alarmBoard, len(colours))
	for i, col := range colours {
		b := &alarmBoard{Colour: col, Label: tr(lang, "sup.colour."+col)}
		d.Boards[i] = b
		run(func() error { return s.fillBoard(ctx, a, lang, f, lk, b, now) })
	}
	run(func() error {
		cf := tongban.CaseFilter{Kind: tongban.KindTask, Status: tongban.StatusOpen, LeadDept: f.Dept, Category: f.Category, Sort: "deadline", Limit: ordersRows}
		page, err := s.Store.ListCases(ctx, cf)
		if err != nil {
			return err
		}
		d.OrdersN = page.Total
		for _, c := range page.Cases {
			or := orderRow{Case: c, DeptName: lk.dept(c.Lead), StepLabel: s.stepLabelIn(lang, c), Clock: s.Engine.Clock(c)}
			or.Left = fmtLeft(lang, or.Clock.LeftSeconds)
			d.Orders = append(d.Orders, or)
		}
		return nil
	})
	run(func() error {
		res, err := s.Engine.Scorecards(ctx, a.actor(), engine.ScorecardQuery{From: f.From.Format("2006-01-02"), To: f.To.Format("2006-01-02"), By: tongban.ByDepartment})
		if err != nil {
			return err
		}
		for i := range res.Rows {
			r := &res.Rows[i]
			if r.Name == "" {
				r.Name = lk.dept(r.Key)
			}
			if r.RepeatedComplaints && (f.Dept == "" || r.Key == f.Dept) {
				mu.Lock()
				d.Flagged = append(d.Flagged, flagRow{Kind: tongban.ByDepartment, Key: r.Key, Name: r.Name, ValidComplaints: r.ValidComplaints, Findings: r.Findings})
				mu.Unlock()
			}
		}
		if f.Dept != "" {
			kept := res.Rows[:0]
			for _, r := range res.Rows {
				if r.Key == f.Dept {
					kept = append(kept, r)
				}
			}
			res.Rows = kept
		}
		d.Rank = res
		return nil
	})
	run(func() error {
		res, err := s.Engine.Scorecards(ctx, a.actor(), engine.ScorecardQuery{From: f.From.Format("2006-01-02"), To: f.To.Format("2006-01-02"), By: tongban.ByPerson})
		if err != nil {
			return err
		}
		var rows []flagRow
		for _, r := range res.Rows {
			if r.RepeatedComplaints {
				rows = append(rows, flagRow{Kind: tongban.ByPerson, Key: r.Key, Name: r.Key, ValidComplaints: r.ValidComplaints, Findings: r.Findings})
			}
		}
		mu.Lock()
		d.Flagged = append(d.Flagged, rows...)
		mu.Unlock()
		return nil
	})
	run(func() error { d.Hot = s.hotPanel(ctx); return nil })
	run(func() error { return s.fillTrends(ctx, f, d) })
	run(func() error { return s.fillMap(ctx, f, d, now) })
	wg.Wait()
	if len(errs) > 0 {
		return nil, errs[0]
	}
	sort.SliceStable(d.Flagged, func(i, j int) bool {
		if d.Flagged[i].Kind != d.Flagged[j].Kind {
			return d.Flagged[i].Kind == tongban.ByDepartment
		}
		return d.Flagged[i].ValidComplaints > d.Flagged[j].ValidComplaints
	})
	d.ChartCases = chartCases(lang, d.Months)
	d.ChartSat = chartSatisfaction(lang, d.Months)
	return d, nil
}

func (s *Server) fillBoard(ctx context.Context, a *auth, lang string, f dashFilter, lk *lookups, b *alarmBoard, now time.Time) error {
	af := tongban.AlarmFilter{State: "open", Colour: b.Colour, Dept: f.Dept, Category: f.Category, Limit: boardRows}
	if f.Channel != "" {
		af.Limit = 200 // filtered below by the case's channel
	}
	list, total, err := s.Engine.Alarms(ctx, a.actor(), af)
	if err != nil {
		return err
	}
	b.Total = total
	if f.Channel != "" {
		b.Total = 0
	}
	for _, al := range list {
		if f.Channel != "" {
			c, err := s.Store.Case(ctx, al.CaseID)
			if err != nil || c.Channel != f.Channel {
				continue
			}
			b.Total++
			if len(b.Rows) >= boardRows {
				continue
			}
		}
		r := alarmRow{Alarm: al, DeptName: lk.dept(al.Dept), CatName: lk.cat(al.Category), Scope: tr(lang, "sup.scope."+al.Scope)}
		if b.Colour != tongban.AlarmFlag {
			r.Secs, r.Time = s.overdueText(lang, al.Deadline, now)
		}
		b.Rows = append(b.Rows, r)
	}
	return nil
}

// fillTrends sums twelve months ending with the period's last month: the
// department's figures when one is chosen, else the category's, else all
// categories (a case counts once per category, not once per hand-over).
func (s *Server) fillTrends(ctx context.Context, f dashFilter, d *dashData) error {
	last := f.To
	if today := dayStart(s.Engine.Now()); today.Before(last) {
		last = today // no empty months from the future
	}
	end := time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, calendar.Shanghai)
	start := end.AddDate(0, -11, 0)
	dim, key := tongban.ByCategory, f.Category
	if f.Dept != "" {
		dim, key = tongban.ByDepartment, f.Dept
	}
	rows, err := s.Store.ScoreByDay(ctx, dim, key, supervise.Day(start), supervise.Day(end.AddDate(0, 1, -1)))
	if err != nil {
		return err
	}
	idx := map[int]int{}
	for i := range 12 {
		m := start.AddDate(0, i, 0)
		idx[m.Year()*100+int(m.Month())] = i
		d.Months = append(d.Months, monthPoint{Month: m.Format("2006-01")})
	}
	for _, r := range rows {
		day, err := strconv.Atoi(r.Key)
		if err != nil {
			continue
		}
		i, ok := idx[day/100]
		if !ok {
			continue
		}
		p := &d.Months[i]
		p.Received += r.Received
		p.Closed += r.Closed
		p.ClosedOnTime += r.ClosedOnTime
		for j, n := range r.Ratings {
			p.Rated += n
			if j >= 2 {
				p.Satisfied += n
			}
		}
	}
	return nil
}

// fillMap draws the open cases with a location as dots, overdue ones
// red, at most mapCap of them (the most urgent first).
func (s *Server) fillMap(ctx context.Context, f dashFilter, d *dashData, now time.Time) error {
	m := theMap
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" role="img" aria-labelledby="map-title" id="dash-map-svg" xmlns="http://www.w3.org/2000/svg"><title id="map-title">map</title>`, m.Width, m.Height)
	for _, st := range m.Streets {
		fmt.Fprintf(&b, `<polygon class="street" points="%s"><title>%s</title></polygon>`, st.Points, template.HTMLEscapeString(st.Name))
	}
	if m.Outline != "" {
		fmt.Fprintf(&b, `<polygon class="outline" points="%s"/>`, m.Outline)
	}
	for _, st := range m.Streets {
		fmt.Fprintf(&b, `<text class="lbl" x="%.0f" y="%.0f" text-anchor="middle">%s</text>`, st.LabelX, st.LabelY, template.HTMLEscapeString(st.Name))
	}
	var late strings.Builder
	cf := tongban.CaseFilter{Kind: tongban.KindRequest, Status: tongban.StatusOpen, Dept: f.Dept, Category: f.Category, Channel: f.Channel, Sort: "deadline", Limit: 500}
	for off := 0; off < mapCap; off += 500 {
		cf.Offset = off
		page, err := s.Store.ListCases(ctx, cf)
		if err != nil {
			return err
		}
		d.MapCapped = page.Total > mapCap
		for _, c := range page.Cases {
			if c.Lat == nil || c.Long == nil {
				d.MapNoLoc++
				continue
			}
			x, y := (*c.Long-m.MinLong)*m.KX, (m.MaxLat-*c.Lat)*m.KY
			if x < 0 || y < 0 || x > float64(m.Width) || y > float64(m.Height) {
				d.MapNoLoc++
				continue
			}
			d.MapOpen++
			w, cls := &b, "dot"
			if c.Deadline.Before(now) {
				d.MapOverdue++
				w, cls = &late, "dot late" // drawn last, on top
			}
			fmt.Fprintf(w, `<circle class="%s" cx="%.1f" cy="%.1f" r="5"><title>%s %s</title></circle>`, cls, x, y, c.TrackingCode, template.HTMLEscapeString(c.Title))
		}
		if len(page.Cases) < 500 {
			break
		}
	}
	b.WriteString(late.String())
	b.WriteString(`</svg>`)
	d.Map = template.HTML(b.String())
	return nil
}

// chartCases draws received (bars) and closed on time (line) by month.
func chartCases(lang string, ms []monthPoint) template.HTML {
	const w, h, left, right, top, bottom = 640.0, 240.0, 44.0, 12.0, 16.0, 36.0
	var maxV int64 = 1
	for _, p := range ms {
		maxV = max(maxV, p.Received, p.ClosedOnTime)
	}
	top10 := niceCeil(float64(maxV))
	pw, ph := w-left-right, h-top-bottom
	step := pw / float64(max(len(ms), 1))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %.0f %.0f" class="chart" role="img" aria-labelledby="ch-cases-t" id="chart-cases" xmlns="http://www.w3.org/2000/svg"><title id="ch-cases-t">%s</title>`, w, h, template.HTMLEscapeString(tr(lang, "sup.chart.cases")))
	axes(&b, top10, left, top, pw, ph, false)
	var pts []string
	for i, p := range ms {
		x := left + step*float64(i)
		bh := float64(p.Received) / top10 * ph
		fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s %s %d</title></rect>`, x+step*0.18, top+ph-bh, step*0.64, bh, p.Month, template.HTMLEscapeString(tr(lang, "sup.received")), p.Received)
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x+step/2, top+ph-float64(p.ClosedOnTime)/top10*ph))
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x+step/2, h-bottom+16, monthTick(lang, p.Month))
	}
	if len(pts) > 0 {
		fmt.Fprintf(&b, `<polyline class="line ontime" points="%s"/>`, strings.Join(pts, " "))
		for i, p := range ms {
			xy := strings.Split(pts[i], ",")
			fmt.Fprintf(&b, `<circle class="pt ontime" cx="%s" cy="%s" r="3"><title>%s %s %d</title></circle>`, xy[0], xy[1], p.Month, template.HTMLEscapeString(tr(lang, "sup.closed_on_time")), p.ClosedOnTime)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// chartSatisfaction draws the satisfaction and on-time rates by month.
func chartSatisfaction(lang string, ms []monthPoint) template.HTML {
	const w, h, left, right, top, bottom = 640.0, 240.0, 44.0, 12.0, 16.0, 36.0
	pw, ph := w-left-right, h-top-bottom
	step := pw / float64(max(len(ms), 1))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %.0f %.0f" class="chart" role="img" aria-labelledby="ch-sat-t" id="chart-sat" xmlns="http://www.w3.org/2000/svg"><title id="ch-sat-t">%s</title>`, w, h, template.HTMLEscapeString(tr(lang, "sup.chart.rates")))
	axes(&b, 1, left, top, pw, ph, true)
	series := func(cls, label string, val func(monthPoint) *float64) {
		var seg []string
		flush := func() {
			if len(seg) > 1 {
				fmt.Fprintf(&b, `<polyline class="line %s" points="%s"/>`, cls, strings.Join(seg, " "))
			}
			seg = nil
		}
		for i, p := range ms {
			v := val(p)
			if v == nil {
				flush()
				continue
			}
			x, y := left+step*float64(i)+step/2, top+ph-*v*ph
			seg = append(seg, fmt.Sprintf("%.1f,%.1f", x, y))
			fmt.Fprintf(&b, `<circle class="pt %s" cx="%.1f" cy="%.1f" r="3"><title>%s %s %s</title></circle>`, cls, x, y, p.Month, template.HTMLEscapeString(label), pct(v))
		}
		flush()
	}
	series("sat", tr(lang, "sup.satisfaction"), monthPoint.satisfaction)
	series("ontime", tr(lang, "sup.on_time_rate"), monthPoint.onTimeRate)
	for i, p := range ms {
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, left+step*float64(i)+step/2, h-bottom+16, monthTick(lang, p.Month))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func monthTick(lang, month string) string {
	y, m := month[:4], strings.TrimPrefix(month[5:], "0")
	if m == "1" {
		if lang == langEN {
			return y
		}
		return y[2:] + "年1月"
	}
	if lang == langEN {
		return m
	}
	return m + "月"
}

// niceCeil rounds up to a round number for the top of an axis.
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, k := range []float64{1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if v <= k*p {
			return k * p
		}
	}
	return 10 * p
}

// axes draws four horizontal grid lines with their values.
func axes(b *strings.Builder, top10, left, top, pw, ph float64, percent bool) {
	for i := 0; i <= 4; i++ {
		v := top10 * float64(i) / 4
		y := top + ph - ph*float64(i)/4
		fmt.Fprintf(b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, left, left+pw, y, y)
		label := strconv.FormatFloat(v, 'f', -1, 64)
		if percent {
			label = strconv.Itoa(int(v*100)) + "%"
		}
		fmt.Fprintf(b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, left-6, y+4, label)
	}
}

// uiDashboard serves the dashboard page, or one of its tables as a file.
func (s *Server) uiDashboard(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	v := s.newView(w, r, "supervise", "sup.title")
	q := r.URL.Query()
	f, bad := s.parseDashFilter(q)
	lk, err := s.loadLookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if format := q.Get("format"); format != "" {
		if bad != nil {
			s.fail(w, r, bad)
			return
		}
		s.dashExport(w, r, v.Lang, f, lk, q.Get("table"), format)
		return
	}
	d, err := s.dashboard(r.Context(), authOf(r), v.Lang, f, lk)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if bad != nil {
		v.setError(bad, "from", "date")
	}
	v.Form = f.query()
	d.Elapsed = strconv.FormatInt(time.Since(start).Milliseconds(), 10)
	v.D = d
	s.render(w, r, http.StatusOK, "dashboard", v)
}

// dashExport writes one dashboard table as CSV or XLSX.
func (s *Server) dashExport(w http.ResponseWriter, r *http.Request, lang string, f dashFilter, lk *lookups, name, format string) {
	if format != "csv" && format != "xlsx" {
		s.fail(w, r, tongban.FieldError("format", "format 须为 csv 或 xlsx", "format must be csv or xlsx"))
		return
	}
	d, err := s.dashboard(r.Context(), authOf(r), lang, f, lk)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	T := func(k string) string { return tr(lang, k) }
	t := &table{Name: T("sup.table." + name)}
	switch name {
	case "alarms":
		// All open alarms, not just the board's first rows.
		t.Headers = []string{T("sup.col.colour"), T("col.code"), T("col.title"), T("sup.col.scope"), T("col.dept"), T("col.category"), T("case.deadline"), T("sup.col.raised"), T("sup.col.overdue_hours"), T("sup.col.overdue")}
		now := s.Engine.Now()
		for _, b := range d.Boards {
			list, _, err := s.Engine.Alarms(r.Context(), authOf(r).actor(), tongban.AlarmFilter{State: "open", Colour: b.Colour, Dept: f.Dept, Category: f.Category, Limit: 1000})
			if err != nil {
				s.fail(w, r, err)
				return
			}
			for _, a := range list {
				if f.Channel != "" {
					if c, err := s.Store.Case(r.Context(), a.CaseID); err != nil || c.Channel != f.Channel {
						continue
					}
				}
				var hours any
				txt := ""
				if a.Colour != tongban.AlarmFlag {
					secs, tx := s.overdueText(lang, a.Deadline, now)
					hours, txt = math.Round(float64(secs)/360)/10, tx
				}
				t.Rows = append(t.Rows, []any{b.Label, a.TrackingCode, a.Title, T("sup.scope." + a.Scope), lk.dept(a.Dept), lk.cat(a.Category),
					fmtDateTime(lang, a.Deadline), fmtDateTime(lang, a.RaisedAt), hours, txt})
			}
		}
	case "orders":
		t.Headers = []string{T("col.code"), T("col.title"), T("sup.col.recipient"), T("col.step"), T("case.deadline"), T("col.left")}
		for _, o := range d.Orders {
			t.Rows = append(t.Rows, []any{o.TrackingCode, o.Title, o.DeptName, o.StepLabel, fmtDateTime(lang, o.Deadline), o.Left})
		}
	case "ranking":
		t.Headers = []string{T("sup.col.rank"), T("sup.col.dept_code"), T("f.department"), T("sup.received"), T("sup.closed"), T("sup.closed_on_time"), T("sup.open_overdue"),
			T("sup.on_time_rate"), T("sup.avg_days"), T("sup.satisfaction"), T("sup.returns"), T("sup.reopens"), T("sup.col.red"), T("sup.col.orders"), T("sup.col.findings"), T("sup.col.valid"), T("sup.col.score"), T("sup.col.grade")}
		for _, c := range d.Rank.Rows {
			var rank any
			if c.Ranked {
				rank = c.Rank
			}
			t.Rows = append(t.Rows, []any{rank, c.Key, c.Name, c.Received, c.Closed, c.ClosedOnTime, c.OpenOverdue, c.OnTimeRate, c.AvgHandlingWorkdays,
				c.SatisfactionRate, c.Returns, c.Reopens, c.Alarms[tongban.AlarmRed], c.Orders, c.Findings, c.ValidComplaints, c.Score, c.Grade})
		}
	case "flagged":
		t.Headers = []string{T("sup.col.kind"), T("sup.col.key"), T("sup.col.name"), T("sup.col.valid"), T("sup.col.findings")}
		for _, fl := range d.Flagged {
			t.Rows = append(t.Rows, []any{T("sup.by." + fl.Kind), fl.Key, fl.Name, fl.ValidComplaints, fl.Findings})
		}
	case "trends":
		t.Headers = []string{T("sup.col.month"), T("sup.received"), T("sup.closed"), T("sup.closed_on_time"), T("sup.on_time_rate"), T("sup.col.rated"), T("sup.satisfaction")}
		for _, p := range d.Months {
			t.Rows = append(t.Rows, []any{p.Month, p.Received, p.Closed, p.ClosedOnTime, p.onTimeRate(), p.Rated, p.satisfaction()})
		}
	default:
		s.fail(w, r, tongban.FieldError("table", "table 须为 alarms、orders、ranking、flagged 或 trends", "table must be alarms, orders, ranking, flagged or trends"))
		return
	}
	file := "tongban-" + name + "-" + f.From.Format("20060102") + "-" + f.To.Format("20060102")
	sendTable(w, t, file, format)
}

// sendTable writes a table as a download.
func sendTable(w http.ResponseWriter, t *table, file, format string) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if format == "xlsx" {
		h.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		h.Set("Content-Disposition", `attachment; filename="`+file+`.xlsx"`)
		_ = writeXLSX(w, t)
		return
	}
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+file+`.csv"`)
	_ = writeCSV(w, t)
}
