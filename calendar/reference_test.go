package calendar

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestAgainstReferenceFiles compares every day of every published year with
// the holiday-cn JSON files the table was generated from. It is a dev-only
// check (the project's tests must not depend on ../shared): set
// TONGBAN_HOLIDAY_REF to the directory holding YYYY.json to run it, e.g.
//
//	TONGBAN_HOLIDAY_REF=/work/shared/reference/holidays go test ./calendar/ -run Reference -v
func TestAgainstReferenceFiles(t *testing.T) {
	dir := os.Getenv("TONGBAN_HOLIDAY_REF")
	if dir == "" {
		t.Skip("TONGBAN_HOLIDAY_REF not set; skipping cross-check against the holiday-cn reference files")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Skipf("TONGBAN_HOLIDAY_REF=%q is not a directory; skipping", dir)
	}
	type day struct {
		Name     string `json:"name"`
		Date     string `json:"date"`
		IsOffDay bool   `json:"isOffDay"`
	}
	ref := map[string]day{}
	published := map[int]bool{}
	for y := 2000; y <= 2100; y++ {
		raw, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.json", y)))
		if err != nil {
			continue
		}
		var f struct{ Days []day }
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatalf("%d.json: %v", y, err)
		}
		if len(f.Days) > 0 {
			published[y] = true
		}
		for _, d := range f.Days {
			ref[d.Date] = d
		}
	}
	c := Default()
	first, last := c.Years()
	for y := 2000; y <= 2100; y++ {
		if c.Provisional(y) == published[y] {
			t.Errorf("Provisional(%d) = %v, reference published = %v", y, c.Provisional(y), published[y])
		}
	}
	checked := 0
	for d := time.Date(first-1, 1, 1, 0, 0, 0, 0, Shanghai); d.Year() <= last+1; d = d.AddDate(0, 0, 1) {
		key := d.Format("2006-01-02")
		want := d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
		wantName := ""
		if r, ok := ref[key]; ok {
			want = !r.IsOffDay
			wantName = r.Name
		}
		w, name := c.DayKind(d)
		if w != want {
			t.Errorf("%s: workday = %v, reference %v", key, w, want)
		}
		if _, listed := ref[key]; listed && !w && name != wantName {
			t.Errorf("%s: name %q, reference %q", key, name, wantName)
		}
		checked++
	}
	t.Logf("checked %d days (%d–%d) and %d listed dates against %s", checked, first-1, last+1, len(ref), dir)
}
