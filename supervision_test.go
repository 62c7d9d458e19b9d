package tongban

import (
	"fmt"
	"testing"
)

func TestSplitMonths(t *testing.T) {
	for _, tc := range []struct {
		from, to int
		want     string
	}{
		{20260101, 20261231, "[] 202601-202612"},
		{20260115, 20260320, "[[20260115 20260131] [20260301 20260320]] 202602-202602"},
		{20260115, 20260120, "[[20260115 20260120]] 1-0"},
		{20260201, 20260228, "[] 202602-202602"},
		{20260201, 20260227, "[[20260201 20260227]] 1-0"},
		{20251231, 20260131, "[[20251231 20251231]] 202601-202601"},
	} {
		d, a, b := SplitMonths(tc.from, tc.to)
		if got := fmt.Sprintf("%v %d-%d", d, a, b); got != tc.want {
			t.Errorf("SplitMonths(%d, %d) = %s, want %s", tc.from, tc.to, got, tc.want)
		}
	}
}
