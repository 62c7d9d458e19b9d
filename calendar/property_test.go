package calendar

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// naive is a deliberately simple reference: a map of the embedded table's
// dates and a day-by-day loop with time.AddDate. It shares no code with the
// fast implementation except ParseDate.
type naive struct{ days map[string]bool } // date → working?

func newNaive(t testing.TB) *naive {
	n := &naive{days: map[string]bool{}}
	for _, ln := range strings.Split(holidayTable, "\n") {
		if ln == "" || strings.HasPrefix(ln, "#") {
			continue
		}
		f := strings.Split(ln, "\t")
		if len(f) != 4 {
			t.Fatalf("bad table line %q", ln)
		}
		n.days[f[1]] = f[2] == "work"
	}
	return n
}

func (n *naive) isWork(d time.Time) bool {
	if w, ok := n.days[d.Format("2006-01-02")]; ok {
		return w
	}
	return d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
}

func (n *naive) add(d time.Time, k int) time.Time {
	step := 1
	if k < 0 {
		step, k = -1, -k
	}
	for k > 0 {
		d = d.AddDate(0, 0, step)
		if n.isWork(d) {
			k--
		}
	}
	return d
}

func (n *naive) between(a, b time.Time) int {
	if b.Before(a) {
		return -n.between(b, a)
	}
	c := 0
	for d := a.AddDate(0, 0, 1); !d.After(b); d = d.AddDate(0, 0, 1) {
		if n.isWork(d) {
			c++
		}
	}
	return c
}

// randDate returns midnight Shanghai of a random date in [from, to] years.
func randDate(r *rand.Rand, from, to int) time.Time {
	start := time.Date(from, 1, 1, 0, 0, 0, 0, Shanghai)
	days := int(time.Date(to+1, 1, 1, 0, 0, 0, 0, Shanghai).Sub(start).Hours() / 24)
	return start.AddDate(0, 0, r.IntN(days))
}

// randInstant is a random instant in [from, to] years, any time of day, in a
// random zone — the package must reduce it to the Shanghai date.
func randInstant(r *rand.Rand, from, to int) time.Time {
	d := randDate(r, from, to).Add(time.Duration(r.Int64N(int64(24 * time.Hour))))
	zones := []*time.Location{Shanghai, time.UTC, time.FixedZone("X", -10*3600)}
	return d.In(zones[r.IntN(len(zones))])
}

func TestPropertyRoundTrip(t *testing.T) {
	c := Default()
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		a := randInstant(r, 2010, 2026)
		n := r.IntN(41)
		b := c.AddWorkdays(a, n)
		if got := c.WorkdaysBetween(a, b); got != n {
			t.Fatalf("WorkdaysBetween(%v, AddWorkdays(_, %d)=%s) = %d", a, n, ymd(b), got)
		}
		if n > 0 {
			if !c.IsWorkday(b) {
				t.Fatalf("AddWorkdays(%v, %d) = %s is not a workday", a, n, ymd(b))
			}
			if !b.After(a) {
				t.Fatalf("AddWorkdays(%v, %d) = %s not after start", a, n, ymd(b))
			}
			// Every day strictly between a's date and b's date... the count of
			// working days is n-1 (b is the n-th).
			if got := c.WorkdaysBetween(a, b.AddDate(0, 0, -1)); got != n-1 {
				t.Fatalf("AddWorkdays(%v, %d) = %s overshoots: %d before it", a, n, ymd(b), got)
			}
			back := c.AddWorkdays(b, -n)
			if back.After(a) {
				t.Fatalf("AddWorkdays(AddWorkdays(%v, %d), %d) = %s after start", a, n, -n, ymd(back))
			}
			// It lands on the last working day on or before a's date.
			if !c.IsWorkday(back) || c.WorkdaysBetween(back, a) != 0 {
				t.Fatalf("round trip from %v lands on %s", a, ymd(back))
			}
		} else if ymd(b) != ymd(a) {
			t.Fatalf("AddWorkdays(%v, 0) = %s", a, ymd(b))
		}
		// Negative steps: result is a workday strictly before, exactly n of them in [res, a).
		if n > 0 {
			p := c.AddWorkdays(a, -n)
			if !c.IsWorkday(p) || !p.Before(a) || -c.WorkdaysBetween(a, p.AddDate(0, 0, -1))-boolInt(c.IsWorkday(a)) != n {
				t.Fatalf("AddWorkdays(%v, %d) = %s", a, -n, ymd(p))
			}
		}
		// Antisymmetry.
		if c.WorkdaysBetween(a, b) != -c.WorkdaysBetween(b, a) {
			t.Fatalf("WorkdaysBetween not antisymmetric for %v, %v", a, b)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestAgainstNaive(t *testing.T) {
	c := Default()
	nv := newNaive(t)
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 10000; i++ {
		// Cover a little beyond the table on both sides (weekday-rule years).
		a := randDate(r, 2008, 2028)
		n := r.IntN(121) - 60
		want := nv.add(a, n)
		if got := c.AddWorkdays(a, n); !got.Equal(want) {
			t.Fatalf("AddWorkdays(%s, %d) = %s, naive %s", ymd(a), n, ymd(got), ymd(want))
		}
		b := a.AddDate(0, 0, r.IntN(201)-100)
		if got, want := c.WorkdaysBetween(a, b), nv.between(a, b); got != want {
			t.Fatalf("WorkdaysBetween(%s, %s) = %d, naive %d", ymd(a), ymd(b), got, want)
		}
		if got, want := c.IsWorkday(a), nv.isWork(a); got != want {
			t.Fatalf("IsWorkday(%s) = %v, naive %v", ymd(a), got, want)
		}
	}
}

func TestEveryDayAgainstNaive(t *testing.T) {
	c := Default()
	nv := newNaive(t)
	for d := time.Date(2000, 1, 1, 0, 0, 0, 0, Shanghai); d.Year() < 2040; d = d.AddDate(0, 0, 1) {
		if c.IsWorkday(d) != nv.isWork(d) {
			t.Fatalf("IsWorkday(%s) disagrees with the table", ymd(d))
		}
	}
}

// naiveWorkDuration walks minute by minute (only used on short ranges).
func naiveWorkDuration(c *Calendar, a, b time.Time) time.Duration {
	var s time.Duration
	for t := a; t.Before(b); t = t.Add(time.Minute) {
		if !c.IsWorkday(t) {
			continue
		}
		l := t.In(Shanghai)
		m := l.Hour()*60 + l.Minute()
		for _, sp := range DefaultOfficeHours().Spans {
			if m >= sp[0] && m < sp[1] {
				s += time.Minute
			}
		}
	}
	return s
}

func TestPropertyWorkHours(t *testing.T) {
	c := Default()
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 20000; i++ {
		a := randInstant(r, 2010, 2026)
		d := time.Duration(r.Int64N(int64(200*time.Hour))) - 100*time.Hour
		if r.IntN(4) == 0 {
			d = d.Round(30 * time.Minute) // hit span boundaries often
		}
		b := c.AddWorkHours(a, d)
		if got := c.WorkDuration(a, b); got != d {
			t.Fatalf("WorkDuration(%v, AddWorkHours(_, %v)=%v) = %v", a, d, b, got)
		}
		if d > 0 && b.Before(a) || d < 0 && b.After(a) {
			t.Fatalf("AddWorkHours(%v, %v) = %v goes the wrong way", a, d, b)
		}
		// Earliest/latest: one nanosecond less office time must be reachable strictly earlier/later.
		if d > 0 && c.WorkDuration(a, b.Add(-time.Nanosecond)) >= d {
			t.Fatalf("AddWorkHours(%v, %v) = %v is not the earliest", a, d, b)
		}
		// Result of a positive step is inside office hours (or at a closing time) on a workday.
		if d > 0 && !c.IsWorkday(b) {
			t.Fatalf("AddWorkHours(%v, %v) = %v on a non-working day", a, d, b)
		}
		// Additivity of WorkDuration.
		m := randInstant(r, 2010, 2026)
		if c.WorkDuration(a, m)+c.WorkDuration(m, b) != c.WorkDuration(a, b) {
			t.Fatalf("WorkDuration not additive for %v, %v, %v", a, m, b)
		}
	}
	// Short ranges against a minute-by-minute walk.
	for i := 0; i < 300; i++ {
		a := randDate(r, 2019, 2026).Add(time.Duration(r.IntN(24*60)) * time.Minute)
		b := a.Add(time.Duration(r.IntN(6*24*60)) * time.Minute)
		if got, want := c.WorkDuration(a, b), naiveWorkDuration(c, a, b); got != want {
			t.Fatalf("WorkDuration(%v, %v) = %v, minute walk %v", a, b, got, want)
		}
	}
}
