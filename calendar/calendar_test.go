package calendar

import (
	"strings"
	"sync"
	"testing"
	"time"
)

func mustDate(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func ymd(t time.Time) string { return t.In(Shanghai).Format("2006-01-02") }

// Facts read from the holiday-cn reference files (State Council notices) and
// hard-coded here so the test does not depend on ../shared.
func TestKnownDays(t *testing.T) {
	c := Default()
	cases := []struct {
		date string
		work bool
		name string
	}{
		// 2026 National Day: 10-01..07 off, Saturday 10-10 and Sunday 09-20 make-up.
		{"2026-09-20", true, "国庆节调休"},
		{"2026-09-30", true, ""},
		{"2026-10-01", false, "国庆节"},
		{"2026-10-04", false, "国庆节"},
		{"2026-10-07", false, "国庆节"},
		{"2026-10-08", true, ""},
		{"2026-10-10", true, "国庆节调休"},
		{"2026-10-11", false, ""},
		// 2026 New Year and Spring Festival.
		{"2026-01-02", false, "元旦"},
		{"2026-01-04", true, "元旦调休"},
		{"2026-02-14", true, "春节调休"},
		{"2026-02-15", false, "春节"},
		{"2026-02-23", false, "春节"},
		{"2026-02-28", true, "春节调休"},
		// 2024 Spring Festival: Sundays 02-04 and 02-18 are make-up days, 02-09 (除夕) a plain Friday.
		{"2024-02-04", true, "春节调休"},
		{"2024-02-09", true, ""},
		{"2024-02-10", false, "春节"},
		{"2024-02-14", false, "春节"},
		{"2024-02-17", false, "春节"},
		{"2024-02-18", true, "春节调休"},
		// 2019 Spring Festival: 02-02/03 make-up weekend, 02-04..10 off.
		{"2019-02-02", true, "春节调休"},
		{"2019-02-03", true, "春节调休"},
		{"2019-02-04", false, "春节"},
		{"2019-02-10", false, "春节"},
		{"2019-02-11", true, ""},
		// 2019.json lists the 2019 New Year days that fall in 2018.
		{"2018-12-29", true, "元旦调休"},
		{"2018-12-31", false, "元旦"},
		// 2020 Spring Festival, extended for COVID-19 to 02-02; 02-03 listed as a workday.
		{"2020-01-19", true, "春节调休"},
		{"2020-01-24", false, "春节"},
		{"2020-01-30", false, "春节"},
		{"2020-01-31", false, "春节"},
		{"2020-02-01", false, "春节"},
		{"2020-02-02", false, "春节"},
		{"2020-02-03", true, "春节"},
		// 2020 combined National Day / Mid-Autumn.
		{"2020-10-08", false, "国庆节、中秋节"},
		{"2020-10-10", true, "国庆节、中秋节调休"},
		// 2015 one-off victory-day holiday.
		{"2015-09-03", false, "抗日战争暨世界反法西斯战争胜利70周年纪念日"},
		{"2015-09-04", false, "抗日战争暨世界反法西斯战争胜利70周年纪念日"},
		{"2015-09-06", true, "抗日战争暨世界反法西斯战争胜利70周年纪念日调休"},
		// 2010: Dragon Boat make-up weekend.
		{"2010-06-12", true, "端午节调休"},
		{"2010-06-14", false, "端午节"},
		// Ordinary days and an unpublished year (weekday rule only).
		{"2026-03-04", true, ""},
		{"2026-03-07", false, ""},
		{"2027-02-08", true, ""},
		{"2027-02-06", false, ""},
		{"2005-05-02", true, ""},
	}
	for _, tc := range cases {
		d := mustDate(t, tc.date)
		if got := c.IsWorkday(d); got != tc.work {
			t.Errorf("IsWorkday(%s) = %v, want %v", tc.date, got, tc.work)
		}
		w, n := c.DayKind(d)
		if w != tc.work || n != tc.name {
			t.Errorf("DayKind(%s) = (%v, %q), want (%v, %q)", tc.date, w, n, tc.work, tc.name)
		}
	}
}

func TestAddWorkdaysFacts(t *testing.T) {
	c := Default()
	cases := []struct {
		from string
		n    int
		want string
	}{
		{"2026-09-28", 5, "2026-10-10"}, // 9-29, 9-30, 10-08, 10-09, 10-10 (make-up Saturday)
		{"2026-09-28", 6, "2026-10-12"},
		{"2026-02-13", 1, "2026-02-14"}, // make-up Saturday
		{"2026-02-14", 1, "2026-02-24"}, // 02-15..23 off
		{"2026-10-01", 1, "2026-10-08"}, // start date inside a holiday: still not counted
		{"2026-10-08", -1, "2026-09-30"},
		{"2026-10-10", -3, "2026-09-30"},
		{"2024-02-09", 1, "2024-02-18"},
		{"2024-02-18", -1, "2024-02-09"},
		{"2020-01-23", 1, "2020-02-03"}, // extended 2020 Spring Festival
		{"2019-09-30", 1, "2019-10-08"},
		{"2026-03-06", 1, "2026-03-09"}, // plain weekend
		{"2026-03-07", 0, "2026-03-07"}, // n == 0: the date itself, even on a weekend
		{"2026-12-31", 1, "2027-01-01"}, // 2027 unpublished: weekday rule
		{"2009-12-31", 1, "2010-01-04"}, // 2010-01-01..03 off
		{"2009-12-30", 2, "2010-01-04"},
		{"2000-01-03", 5, "2000-01-10"}, // before the table: weekday rule
		{"2030-01-07", -5, "2029-12-31"},
	}
	for _, tc := range cases {
		got := c.AddWorkdays(mustDate(t, tc.from), tc.n)
		if ymd(got) != tc.want {
			t.Errorf("AddWorkdays(%s, %d) = %s, want %s", tc.from, tc.n, ymd(got), tc.want)
		}
		if !got.Equal(mustDate(t, tc.want)) {
			t.Errorf("AddWorkdays(%s, %d) = %v, want midnight Shanghai", tc.from, tc.n, got)
		}
	}
}

func TestWorkdaysBetweenFacts(t *testing.T) {
	c := Default()
	cases := []struct {
		a, b string
		want int
	}{
		{"2026-09-28", "2026-10-10", 5},
		{"2026-09-30", "2026-10-08", 1},
		{"2026-10-01", "2026-10-07", 0},
		{"2026-10-10", "2026-09-28", -5},
		{"2026-03-04", "2026-03-04", 0},
		{"2025-12-31", "2026-12-31", 248}, // working days in 2026
	}
	for _, tc := range cases {
		if got := c.WorkdaysBetween(mustDate(t, tc.a), mustDate(t, tc.b)); got != tc.want {
			t.Errorf("WorkdaysBetween(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestTimeOfDayAndZoneIgnored(t *testing.T) {
	c := Default()
	// 2026-09-30 23:30 in Shanghai is 2026-09-30 15:30 UTC; the date that counts is Shanghai's.
	late := time.Date(2026, 9, 30, 15, 30, 0, 0, time.UTC)
	if got := ymd(c.AddWorkdays(late, 1)); got != "2026-10-08" {
		t.Errorf("AddWorkdays(late Sept 30) = %s", got)
	}
	// 2026-10-07 17:00 UTC is already 2026-10-08 01:00 in Shanghai: a workday.
	if !c.IsWorkday(time.Date(2026, 10, 7, 17, 0, 0, 0, time.UTC)) {
		t.Error("2026-10-08 01:00 CST should be a workday")
	}
	dl := c.DeadlineAfterWorkdays(late, 5)
	want := time.Date(2026, 10, 13, 23, 59, 59, 0, Shanghai) // 10-08, 09, 10 (Sat), 12, 13
	if !dl.Equal(want) {
		t.Errorf("DeadlineAfterWorkdays = %v, want %v", dl, want)
	}
}

func TestParseDate(t *testing.T) {
	d, err := ParseDate("2026-02-14")
	if err != nil || !d.Equal(time.Date(2026, 2, 14, 0, 0, 0, 0, Shanghai)) || d.Location() != Shanghai {
		t.Fatalf("ParseDate = %v, %v", d, err)
	}
	for _, bad := range []string{"", "2026-2-14", "2026-02-30", "2026/02/14", " 2026-02-14", "2026-02-14T00:00:00"} {
		if _, err := ParseDate(bad); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
			t.Errorf("ParseDate(%q) err = %v, want a YYYY-MM-DD error", bad, err)
		}
	}
}

func TestYearsAndProvisional(t *testing.T) {
	c := Default()
	if f, l := c.Years(); f != 2010 || l != 2026 {
		t.Errorf("Years() = %d, %d", f, l)
	}
	if c.Provisional(2026) || c.Provisional(2010) {
		t.Error("2010/2026 are published")
	}
	if !c.Provisional(2027) || !c.Provisional(2009) {
		t.Error("2027/2009 are not published")
	}
	if ys := PublishedYears(); len(ys) != 17 || ys[0] != 2010 || ys[16] != 2026 {
		t.Errorf("PublishedYears = %v", ys)
	}
}

func TestOverrides(t *testing.T) {
	// A hypothetical 2027 Spring Festival schedule decided before publication.
	ov := []Override{
		{Date: "2027-02-08", Off: true, Name: "春节"},
		{Date: "2027-02-09", Off: true, Name: "春节"},
		{Date: "2027-02-06", Off: false, Name: "春节"},
		// Local change inside a published year: 2026-03-04 closed, 2026-10-07 cancelled.
		{Date: "2026-03-04", Off: true, Name: "停电闭馆"},
		{Date: "2026-10-07", Off: false, Name: ""},
	}
	c := New(ov, OfficeHours{})
	if c.Provisional(2027) {
		t.Error("override should make 2027 non-provisional")
	}
	if !Default().Provisional(2027) {
		t.Error("Default must still see 2027 as provisional")
	}
	if c.Provisional(2026) || !c.Provisional(2028) {
		t.Error("Provisional(2026/2028) wrong")
	}
	if f, l := c.Years(); f != 2010 || l != 2026 {
		t.Errorf("Years() counts overrides: %d, %d", f, l)
	}
	from := mustDate(t, "2027-02-05") // Friday
	if got := ymd(Default().AddWorkdays(from, 1)); got != "2027-02-08" {
		t.Errorf("default: %s", got)
	}
	if got := ymd(c.AddWorkdays(from, 1)); got != "2027-02-06" {
		t.Errorf("override make-up Saturday: %s", got)
	}
	if got := ymd(c.AddWorkdays(from, 2)); got != "2027-02-10" {
		t.Errorf("override holiday: %s", got)
	}
	if w, n := c.DayKind(mustDate(t, "2027-02-06")); !w || n != "春节调休" {
		t.Errorf("DayKind 2027-02-06 = %v %q", w, n)
	}
	if w, n := c.DayKind(mustDate(t, "2026-03-04")); w || n != "停电闭馆" {
		t.Errorf("DayKind 2026-03-04 = %v %q", w, n)
	}
	if w, n := c.DayKind(mustDate(t, "2026-10-07")); !w || n != "" {
		t.Errorf("DayKind 2026-10-07 = %v %q", w, n)
	}
	if got := ymd(c.AddWorkdays(mustDate(t, "2026-09-30"), 1)); got != "2026-10-07" {
		t.Errorf("cancelled holiday: %s", got)
	}
	// Later override for the same date wins.
	c2 := New([]Override{{Date: "2026-03-04", Off: true}, {Date: "2026-03-04", Off: false}}, OfficeHours{})
	if !c2.IsWorkday(mustDate(t, "2026-03-04")) {
		t.Error("last override should win")
	}
	// A far-away override extends the dense range without breaking anything around it.
	c3 := New([]Override{{Date: "2035-05-01", Off: true, Name: "劳动节"}}, OfficeHours{})
	if got := ymd(c3.AddWorkdays(mustDate(t, "2035-04-30"), 1)); got != "2035-05-02" {
		t.Errorf("2035 override: %s", got)
	}
	if got := ymd(c3.AddWorkdays(mustDate(t, "2026-09-28"), 5)); got != "2026-10-10" {
		t.Errorf("2035 override broke 2026: %s", got)
	}
}

func TestBuildErrors(t *testing.T) {
	bad := []struct {
		ov []Override
		h  OfficeHours
	}{
		{[]Override{{Date: "2026-13-01"}}, OfficeHours{}},
		{[]Override{{Date: "tomorrow"}}, OfficeHours{}},
		{[]Override{{Date: "9999-01-01"}}, OfficeHours{}},
		{nil, OfficeHours{Spans: [][2]int{{600, 500}}}},
		{nil, OfficeHours{Spans: [][2]int{{540, 720}, {700, 800}}}},
		{nil, OfficeHours{Spans: [][2]int{{0, 1441}}}},
	}
	for i, b := range bad {
		if _, err := Build(b.ov, b.h); err == nil {
			t.Errorf("case %d: Build accepted invalid input", i)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("New should panic on invalid override")
		}
	}()
	New([]Override{{Date: "2026-02-30"}}, OfficeHours{})
}

func TestAddWorkHours(t *testing.T) {
	c := Default()
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, Shanghai)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		from string
		d    time.Duration
		want string
	}{
		{"2026-03-06 16:00", 4 * time.Hour, "2026-03-09 11:30"},  // Friday → Monday
		{"2026-09-30 16:00", 4 * time.Hour, "2026-10-08 11:30"},  // across National Day
		{"2026-10-09 16:00", 4 * time.Hour, "2026-10-10 11:30"},  // Friday → make-up Saturday
		{"2026-03-09 09:00", 3 * time.Hour, "2026-03-09 12:00"},  // exhausting a span ends at its close
		{"2026-03-09 09:00", 7 * time.Hour, "2026-03-09 17:30"},  // a full day
		{"2026-03-09 09:00", 14 * time.Hour, "2026-03-10 17:30"}, // two full days
		{"2026-03-09 12:30", time.Hour, "2026-03-09 14:30"},      // lunch break start
		{"2026-03-09 07:00", time.Hour, "2026-03-09 10:00"},      // before opening
		{"2026-03-09 20:00", time.Hour, "2026-03-10 10:00"},      // after closing
		{"2026-03-07 10:00", time.Hour, "2026-03-09 10:00"},      // Saturday
		{"2026-03-09 11:00", 90 * time.Minute, "2026-03-09 14:00"},
		{"2026-03-09 09:00", 0, "2026-03-09 09:00"},
		{"2026-03-07 10:00", 0, "2026-03-07 10:00"}, // d == 0 returns t unchanged
		// Negative: backwards.
		{"2026-03-09 11:30", -4 * time.Hour, "2026-03-06 16:00"},
		{"2026-03-09 14:00", -time.Hour, "2026-03-09 11:30"}, // 30 min after lunch + 30 min before
		{"2026-03-09 13:30", -3 * time.Hour, "2026-03-09 09:00"},
		{"2026-03-10 09:00", -7 * time.Hour, "2026-03-09 09:00"},
		{"2026-10-08 10:00", -2 * time.Hour, "2026-09-30 16:30"},
	}
	for _, tc := range cases {
		got := c.AddWorkHours(at(tc.from), tc.d)
		if !got.Equal(at(tc.want)) {
			t.Errorf("AddWorkHours(%s, %v) = %s, want %s", tc.from, tc.d, got.In(Shanghai).Format("2006-01-02 15:04"), tc.want)
		}
	}
	// Seconds survive: 16:00:30 + 1h → next day 09:30:30.
	got := c.AddWorkHours(time.Date(2026, 3, 9, 17, 0, 30, 0, Shanghai), time.Hour)
	if want := time.Date(2026, 3, 10, 9, 30, 30, 0, Shanghai); !got.Equal(want) {
		t.Errorf("seconds: %v, want %v", got, want)
	}
}

func TestWorkDurationFacts(t *testing.T) {
	c := Default()
	d := func(s string) time.Time {
		v, _ := time.ParseInLocation("2006-01-02 15:04", s, Shanghai)
		return v
	}
	cases := []struct {
		a, b string
		want time.Duration
	}{
		{"2026-03-09 09:00", "2026-03-09 17:30", 7 * time.Hour},
		{"2026-03-09 11:00", "2026-03-09 14:00", 90 * time.Minute},
		{"2026-03-06 16:00", "2026-03-09 11:30", 4 * time.Hour},
		{"2026-09-30 00:00", "2026-10-08 00:00", 7 * time.Hour},
		{"2026-10-01 00:00", "2026-10-07 23:00", 0},
		{"2026-03-09 11:30", "2026-03-06 16:00", -4 * time.Hour},
		// 2026: 248 working days × 7h (counted independently from 2026.json).
		{"2026-01-01 00:00", "2027-01-01 00:00", 248 * 7 * time.Hour},
	}
	for _, tc := range cases {
		if got := c.WorkDuration(d(tc.a), d(tc.b)); got != tc.want {
			t.Errorf("WorkDuration(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
	if n := c.WorkdaysBetween(d("2025-12-31 00:00"), d("2026-12-31 00:00")); n != 248 {
		t.Errorf("working days in 2026 = %d, want 248", n)
	}
}

func TestCustomOfficeHours(t *testing.T) {
	// A single 08:00–20:00 window (e.g. a service hall).
	c := New(nil, OfficeHours{Spans: [][2]int{{480, 1200}}})
	got := c.AddWorkHours(time.Date(2026, 3, 6, 19, 0, 0, 0, Shanghai), 2*time.Hour)
	if want := time.Date(2026, 3, 9, 9, 0, 0, 0, Shanghai); !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := Default()
			for i := range 1000 {
				c.AddWorkdays(time.Date(2026, 1, 1+i%300, 0, 0, 0, 0, Shanghai), i%40)
			}
		}()
	}
	wg.Wait()
}
