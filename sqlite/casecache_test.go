package sqlite

import (
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban"
)

// TestCaseCacheBudget fills the cache past its memory budget and checks
// that it stays within it, that its byte count matches its entries, that
// pending marks survive eviction, and that a case evicted and read again
// is served.
func TestCaseCacheBudget(t *testing.T) {
	var cc caseCache
	body := strings.Repeat("噪音扰民", 500) // 6 KB
	cc.mark([]int64{-1}, true)          // a commit under way
	n := int64(3 * caseCacheBytes / (6 << 10))
	for id := int64(1); id <= n; id++ {
		c := &tongban.Case{ID: id, TrackingCode: "T" + string(rune('A'+id%26)), Body: body}
		cc.put(c, cc.begin(), time.Now())
		if cc.bytes > caseCacheBytes {
			t.Fatalf("after %d puts the cache holds %d bytes, budget %d", id, cc.bytes, caseCacheBytes)
		}
	}
	var sum int64
	cached := 0
	for _, e := range cc.m {
		sum += e.size
		if e.c != nil {
			cached++
		}
	}
	if sum != cc.bytes {
		t.Fatalf("entries hold %d bytes, counted %d", sum, cc.bytes)
	}
	if cached < int(caseCacheBytes/(8<<10)) {
		t.Fatalf("only %d cases cached of %d put", cached, n)
	}
	if e, ok := cc.m[-1]; !ok || !e.pending {
		t.Fatal("eviction dropped a pending mark")
	}
	if cc.get(n) == nil {
		t.Fatal("the case put last is not served")
	}
}
