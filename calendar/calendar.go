// Package calendar answers the date questions of Chinese administrative time
// limits: which days are working days (工作日), what date is "n working days
// after" a given date, and how much office time lies between two instants.
//
// Working days are Monday–Friday, minus the statutory holidays published each
// year by the State Council, plus the make-up workdays (调休) that move a
// Saturday or Sunday into the working week. The published schedules for
// 2010 onwards are embedded (holidays_cn.tsv, generated from the holiday-cn
// project, MIT licence, see LICENSE_holiday-cn.txt). For years without a
// published schedule the plain Monday–Friday rule applies and the year is
// reported as Provisional, so callers can warn that a deadline may move once
// the schedule appears; local overrides can fill the gap.
//
// All dates are interpreted in China Standard Time (Asia/Shanghai), whatever
// the location of the time.Time passed in, because the statutory calendar is
// a Beijing-time calendar.
//
// The package does no I/O besides reading its embedded table; a Calendar is
// immutable after construction and safe for concurrent use.
package calendar

//go:generate go run ./internal/gen -o holidays_cn.tsv ../../shared/reference/holidays

import (
	_ "embed"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // Asia/Shanghai must resolve even on hosts without zoneinfo (minimal containers, Windows).
)

//go:embed holidays_cn.tsv
var holidayTable string

// Shanghai is the Asia/Shanghai location (China Standard Time). Every date
// computation in this package happens in this zone.
var Shanghai = mustLoadShanghai()

func mustLoadShanghai() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		// Cannot happen: time/tzdata is linked in.
		panic("calendar: loading Asia/Shanghai: " + err.Error())
	}
	return loc
}

// Override changes the status of one date, taking precedence over the
// embedded table. It exists for schedules not yet in the table (a newly
// published year, or an unpublished one decided locally) and for local
// decisions such as an office closure.
type Override struct {
	Date string // YYYY-MM-DD
	Off  bool   // true: no work that day; false: a working day (e.g. a 调休 Saturday)
	Name string // holiday name shown by DayKind, e.g. "春节"; may be empty
}

// OfficeHours are the daily office periods of a working day, used for
// time limits counted in hours rather than days.
type OfficeHours struct {
	// Spans are [start, end) pairs in minutes after midnight, ascending and
	// non-overlapping, e.g. {{540,720},{810,1050}} = 09:00–12:00, 13:30–17:30.
	Spans [][2]int
}

// DefaultOfficeHours returns the usual government office hours,
// 09:00–12:00 and 13:30–17:30 (7 hours a day).
func DefaultOfficeHours() OfficeHours {
	return OfficeHours{Spans: [][2]int{{540, 720}, {810, 1050}}}
}

// Validate reports whether the spans are usable: at least one, each within
// the day with start < end, ascending and non-overlapping.
func (h OfficeHours) Validate() error {
	if len(h.Spans) == 0 {
		return errors.New("calendar: office hours have no spans")
	}
	prevEnd := 0
	for i, s := range h.Spans {
		if s[0] < 0 || s[1] > 24*60 || s[0] >= s[1] {
			return fmt.Errorf("calendar: office hours span %d %v is not within 0..1440 with start < end", i, s)
		}
		if i > 0 && s[0] < prevEnd {
			return fmt.Errorf("calendar: office hours span %d %v overlaps or precedes the previous span", i, s)
		}
		prevEnd = s[1]
	}
	return nil
}

// entry is one listed date: from the embedded table or from an override.
type entry struct {
	off  bool
	name string
}

// Calendar answers working-day and office-hour questions. Build one with New
// or Build (or use Default); it is immutable and safe for concurrent use.
//
// Internally days are numbered from 1970-01-01 (day 0). Over the dense range
// [lo, hi) — whole years covering the table and every override — the
// calendar keeps a prefix count of working days and the list of working
// days, so counting and stepping by n working days are O(1) array lookups.
// Outside that range only the Monday–Friday rule applies and closed formulas
// are used, so any date works without a table.
type Calendar struct {
	lo, hi int64
	prefix []int32 // prefix[i] = working days in [lo, lo+i)
	work   []int32 // work[k] = offset from lo of the k-th working day in range
	listed map[int64]entry

	published   map[int]bool // years with a table schedule or any override
	first, last int          // published years in the embedded table

	spans  [][2]time.Duration // office spans as offsets from midnight
	perDay time.Duration      // office time of one working day
}

// baseTable is the parsed embedded table, shared by every Calendar.
type baseTable struct {
	days        map[int64]entry
	years       map[int]bool
	first, last int
}

var loadBase = sync.OnceValue(func() *baseTable {
	b, err := parseTable(holidayTable)
	if err != nil {
		panic("calendar: embedded holidays_cn.tsv: " + err.Error())
	}
	return b
})

func parseTable(src string) (*baseTable, error) {
	b := &baseTable{days: map[int64]entry{}, years: map[int]bool{}}
	for i, ln := range strings.Split(src, "\n") {
		if ln == "" || ln[0] == '#' {
			continue
		}
		f := strings.Split(ln, "\t")
		if len(f) != 4 {
			return nil, fmt.Errorf("line %d: want 4 tab-separated fields", i+1)
		}
		year, err := strconv.Atoi(f[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: bad year %q", i+1, f[0])
		}
		day, err := parseDay(f[1])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		if f[2] != "off" && f[2] != "work" {
			return nil, fmt.Errorf("line %d: bad kind %q", i+1, f[2])
		}
		b.days[day] = entry{off: f[2] == "off", name: f[3]}
		if !b.years[year] {
			b.years[year] = true
			if b.first == 0 || year < b.first {
				b.first = year
			}
			if year > b.last {
				b.last = year
			}
		}
	}
	if len(b.days) == 0 {
		return nil, errors.New("empty table")
	}
	return b, nil
}

// Default returns the calendar of the embedded table with no overrides and
// DefaultOfficeHours. It is built once and shared.
func Default() *Calendar { return defaultCal() }

var defaultCal = sync.OnceValue(func() *Calendar { return New(nil, DefaultOfficeHours()) })

// New builds a calendar from the embedded table plus overrides. An override
// replaces whatever the table says about its date (later overrides for the
// same date win over earlier ones) and marks its year as non-provisional.
// A zero OfficeHours (no spans) means DefaultOfficeHours.
//
// New panics on an invalid override date or invalid office hours, like
// regexp.MustCompile; use Build when the input comes from users or a database.
func New(overrides []Override, hours OfficeHours) *Calendar {
	c, err := Build(overrides, hours)
	if err != nil {
		panic(err)
	}
	return c
}

// Override dates must fall within these years: the dense day arrays span every
// override year, so an absurd year would cost memory for nothing.
const minOverrideYear, maxOverrideYear = 1900, 2199

// Build is New returning an error instead of panicking.
func Build(overrides []Override, hours OfficeHours) (*Calendar, error) {
	if len(hours.Spans) == 0 {
		hours = DefaultOfficeHours()
	}
	if err := hours.Validate(); err != nil {
		return nil, err
	}
	base := loadBase()
	c := &Calendar{
		listed:    make(map[int64]entry, len(base.days)+len(overrides)),
		published: make(map[int]bool, len(base.years)+4),
		first:     base.first,
		last:      base.last,
	}
	for d, e := range base.days {
		c.listed[d] = e
	}
	for y := range base.years {
		c.published[y] = true
	}
	for _, o := range overrides {
		d, err := parseDay(o.Date)
		if err != nil {
			return nil, fmt.Errorf("calendar: override: %w", err)
		}
		y, _, _ := civil(d)
		if y < minOverrideYear || y > maxOverrideYear {
			return nil, fmt.Errorf("calendar: override %s: year outside %d..%d", o.Date, minOverrideYear, maxOverrideYear)
		}
		c.listed[d] = entry{off: o.Off, name: o.Name}
		c.published[y] = true
	}

	// Dense range: whole years from the earliest to the latest listed date.
	minD, maxD := int64(1<<62), int64(-1<<62)
	for d := range c.listed {
		minD = min(minD, d)
		maxD = max(maxD, d)
	}
	y0, _, _ := civil(minD)
	y1, _, _ := civil(maxD)
	c.lo = daysFromCivil(y0, 1, 1)
	c.hi = daysFromCivil(y1+1, 1, 1)
	n := c.hi - c.lo
	c.prefix = make([]int32, n+1)
	c.work = make([]int32, 0, n*5/7+16)
	for i := int64(0); i < n; i++ {
		c.prefix[i+1] = c.prefix[i]
		if c.rawIsWork(c.lo + i) {
			c.prefix[i+1]++
			c.work = append(c.work, int32(i))
		}
	}

	for _, s := range hours.Spans {
		a, b := time.Duration(s[0])*time.Minute, time.Duration(s[1])*time.Minute
		c.spans = append(c.spans, [2]time.Duration{a, b})
		c.perDay += b - a
	}
	return c, nil
}

// rawIsWork decides a day from the listed entries and the weekday rule; it is
// only used while building the dense arrays.
func (c *Calendar) rawIsWork(d int64) bool {
	if e, ok := c.listed[d]; ok {
		return !e.off
	}
	return isWeekday(d)
}

// isWork is the fast per-day test.
func (c *Calendar) isWork(d int64) bool {
	if d >= c.lo && d < c.hi {
		i := d - c.lo
		return c.prefix[i+1] != c.prefix[i]
	}
	return isWeekday(d)
}

// count returns the number of working days in [lo, d) — negative for d < lo —
// so that count(b) - count(a) is the number of working days in [a, b).
func (c *Calendar) count(d int64) int64 {
	switch {
	case d < c.lo:
		return weekdaysBefore(d) - weekdaysBefore(c.lo)
	case d > c.hi:
		return int64(c.prefix[len(c.prefix)-1]) + weekdaysBefore(d) - weekdaysBefore(c.hi)
	default:
		return int64(c.prefix[d-c.lo])
	}
}

// nth returns the working day with count(d) == k, i.e. the k-th working day
// counting from lo (k may be negative or beyond the dense range).
func (c *Calendar) nth(k int64) int64 {
	total := int64(len(c.work))
	switch {
	case k < 0:
		return weekdayByIndex(weekdaysBefore(c.lo) + k)
	case k >= total:
		return weekdayByIndex(weekdaysBefore(c.hi) + k - total)
	default:
		return c.lo + int64(c.work[k])
	}
}

// addDays is AddWorkdays on day numbers.
func (c *Calendar) addDays(d int64, n int) int64 {
	switch {
	case n > 0:
		// Working days after d are numbered count(d+1), count(d+1)+1, ...
		return c.nth(c.count(d+1) + int64(n) - 1)
	case n < 0:
		// Working days before d are numbered count(d)-1, count(d)-2, ...
		return c.nth(c.count(d) + int64(n))
	}
	return d
}

// IsWorkday reports whether t's date (in Shanghai) is a working day.
func (c *Calendar) IsWorkday(t time.Time) bool {
	return c.isWork(dayOf(t))
}

// DayKind reports whether t's date (in Shanghai) is a working day and why it
// is special:
//   - a statutory holiday: (false, its name, e.g. "春节" or "国庆节、中秋节");
//   - a make-up workday on a weekend: (true, name+"调休", e.g. "春节调休";
//     just "调休" when the entry has no name);
//   - a listed weekday workday (e.g. 2020-02-03, the end of the extended 2020
//     Spring Festival, or an override cancelling a holiday): (true, its name);
//   - an ordinary day: (true, "") on Monday–Friday, (false, "") at weekends.
func (c *Calendar) DayKind(t time.Time) (workday bool, name string) {
	d := dayOf(t)
	if e, ok := c.listed[d]; ok {
		if e.off {
			return false, e.name
		}
		if !isWeekday(d) {
			return true, e.name + "调休"
		}
		return true, e.name
	}
	return isWeekday(d), ""
}

// AddWorkdays returns midnight (Shanghai) of the date n working days after
// t's date. As in Chinese law (期间开始的当日不计算在内) t's date itself is not
// counted, whether or not it is a working day, so the result for n > 0 is
// always a working day strictly after t's date. For n < 0 it is the |n|-th
// working day strictly before t's date. For n == 0 it is t's own date, even
// when that is not a working day.
func (c *Calendar) AddWorkdays(t time.Time, n int) time.Time {
	return midnight(c.addDays(dayOf(t), n))
}

// WorkdaysBetween returns the number of working days after a's date up to and
// including b's date, so that WorkdaysBetween(a, AddWorkdays(a, n)) == n for
// n >= 0. It is antisymmetric: when b's date is before a's the result is
// -WorkdaysBetween(b, a). Same date gives 0.
func (c *Calendar) WorkdaysBetween(a, b time.Time) int {
	da, db := dayOf(a), dayOf(b)
	return int(c.count(db+1) - c.count(da+1))
}

// DeadlineAfterWorkdays returns 23:59:59 (Shanghai) of AddWorkdays(t, n): a
// time limit of n working days runs until the end of its last day, so
// case deadlines compare "now.After(deadline)" against this instant.
func (c *Calendar) DeadlineAfterWorkdays(t time.Time, n int) time.Time {
	y, m, d := civil(c.addDays(dayOf(t), n))
	return time.Date(y, time.Month(m), d, 23, 59, 59, 0, Shanghai)
}

// AddWorkHours returns the earliest instant at which d of office time (time
// within the office hours of working days) has elapsed since t. Starting
// outside office hours, counting starts at the next opening. A result that
// exhausts a span exactly is the span's closing time (09:00 + 3h = 12:00,
// not 13:30). A negative d goes backwards (latest instant with |d| of office
// time up to t). d == 0 returns t unchanged.
//
// The cost is O(spans), independent of d: whole days are skipped with
// AddWorkdays.
func (c *Calendar) AddWorkHours(t time.Time, d time.Duration) time.Time {
	if d == 0 {
		return t
	}
	day, off := splitDay(t)
	if d > 0 {
		if c.isWork(day) {
			done := c.officeBefore(off)
			if avail := c.perDay - done; d <= avail {
				return at(day, c.forwardPos(done+d))
			}
			d -= c.perDay - done
		}
		k, r := d/c.perDay, d%c.perDay
		if r == 0 {
			return at(c.addDays(day, int(k)), c.forwardPos(c.perDay))
		}
		return at(c.addDays(day, int(k)+1), c.forwardPos(r))
	}
	d = -d
	if c.isWork(day) {
		done := c.officeBefore(off)
		if d <= done {
			return at(day, c.backwardPos(c.perDay-done+d))
		}
		d -= done
	}
	k, r := d/c.perDay, d%c.perDay
	if r == 0 {
		return at(c.addDays(day, -int(k)), c.backwardPos(c.perDay))
	}
	return at(c.addDays(day, -int(k)-1), c.backwardPos(r))
}

// WorkDuration returns the office time between a and b (negative if b is
// before a). It is O(spans): the days in between are counted with the
// working-day prefix table, not iterated.
func (c *Calendar) WorkDuration(a, b time.Time) time.Duration {
	if b.Before(a) {
		return -c.WorkDuration(b, a)
	}
	da, oa := splitDay(a)
	db, ob := splitDay(b)
	if da == db {
		if !c.isWork(da) {
			return 0
		}
		return c.officeBefore(ob) - c.officeBefore(oa)
	}
	var total time.Duration
	if c.isWork(da) {
		total += c.perDay - c.officeBefore(oa)
	}
	total += time.Duration(c.count(db)-c.count(da+1)) * c.perDay
	if c.isWork(db) {
		total += c.officeBefore(ob)
	}
	return total
}

// officeBefore is the office time of a working day before offset off.
func (c *Calendar) officeBefore(off time.Duration) time.Duration {
	var s time.Duration
	for _, sp := range c.spans {
		if off <= sp[0] {
			break
		}
		s += min(off, sp[1]) - sp[0]
	}
	return s
}

// forwardPos is the earliest offset at which r (0 < r <= perDay) of office
// time has elapsed since the start of the day.
func (c *Calendar) forwardPos(r time.Duration) time.Duration {
	for _, sp := range c.spans {
		if l := sp[1] - sp[0]; r <= l {
			return sp[0] + r
		} else {
			r -= l
		}
	}
	return c.spans[len(c.spans)-1][1]
}

// backwardPos is the latest offset from which r (0 < r <= perDay) of office
// time remains until the end of the day.
func (c *Calendar) backwardPos(r time.Duration) time.Duration {
	for i := len(c.spans) - 1; i >= 0; i-- {
		sp := c.spans[i]
		if l := sp[1] - sp[0]; r <= l {
			return sp[1] - r
		} else {
			r -= l
		}
	}
	return c.spans[0][0]
}

// Provisional reports whether year has no published schedule in the embedded
// table and no override mentions it: its working days then follow only the
// Monday–Friday rule and may change when the State Council publishes the
// schedule (usually in November of the previous year).
func (c *Calendar) Provisional(year int) bool {
	return !c.published[year]
}

// Years returns the first and last year with a published schedule in the
// embedded table (overrides are not counted).
func (c *Calendar) Years() (first, last int) {
	return c.first, c.last
}

// ParseDate parses YYYY-MM-DD into midnight Shanghai of that date.
func ParseDate(s string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02", s, Shanghai)
	if err != nil {
		return time.Time{}, fmt.Errorf("calendar: invalid date %q, want YYYY-MM-DD: %w", s, err)
	}
	return t, nil
}

// parseDay parses YYYY-MM-DD into a day number.
func parseDay(s string) (int64, error) {
	t, err := ParseDate(s)
	if err != nil {
		return 0, err
	}
	y, m, d := t.Date()
	return daysFromCivil(y, int(m), d), nil
}

// PublishedYears returns the published years of the embedded table, ascending; useful
// for listing which schedules are known.
func PublishedYears() []int {
	b := loadBase()
	ys := make([]int, 0, len(b.years))
	for y := range b.years {
		ys = append(ys, y)
	}
	sort.Ints(ys)
	return ys
}

// ---- day arithmetic -------------------------------------------------------

// dayOf returns the day number of t's date in Shanghai.
func dayOf(t time.Time) int64 {
	y, m, d := t.In(Shanghai).Date()
	return daysFromCivil(y, int(m), d)
}

// splitDay returns t's Shanghai date and its wall-clock offset from midnight.
func splitDay(t time.Time) (int64, time.Duration) {
	s := t.In(Shanghai)
	y, m, d := s.Date()
	hh, mm, ss := s.Clock()
	off := time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute +
		time.Duration(ss)*time.Second + time.Duration(s.Nanosecond())
	return daysFromCivil(y, int(m), d), off
}

func midnight(day int64) time.Time {
	y, m, d := civil(day)
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, Shanghai)
}

// at builds the instant at wall-clock offset off on day (Shanghai).
func at(day int64, off time.Duration) time.Time {
	y, m, d := civil(day)
	return time.Date(y, time.Month(m), d, 0, 0, 0, int(off), Shanghai)
}

// daysFromCivil converts a proleptic Gregorian date to days since 1970-01-01
// (H. Hinnant's algorithm); cheaper than time.Date in hot paths.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(int64(y), 400)
	yoe := int64(y) - era*400
	mp := int64((m + 9) % 12)
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civil is the inverse of daysFromCivil.
func civil(z int64) (y, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		yy++
	}
	return int(yy), m, d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// isWeekday reports Monday–Friday. Day 0 (1970-01-01) was a Thursday.
func isWeekday(d int64) bool {
	w := d - floorDiv(d, 7)*7 // 0 = Thursday
	return w != 2 && w != 3   // Saturday, Sunday
}

// firstMonday is the day number of Monday 1970-01-05, the origin of the
// weekday enumeration below.
const firstMonday = 4

// weekdaysBefore returns the number of Monday–Friday days in
// [firstMonday, d) (negative for d before firstMonday).
func weekdaysBefore(d int64) int64 {
	x := d - firstMonday
	w := floorDiv(x, 7)
	return w*5 + min(x-w*7, 5)
}

// weekdayByIndex is the inverse: the weekday d with weekdaysBefore(d) == j.
func weekdayByIndex(j int64) int64 {
	w := floorDiv(j, 5)
	return firstMonday + w*7 + (j - w*5)
}
