package sqlite

import (
	"sync"
	"time"

	"github.com/tongban/tongban"
)

// caseCache keeps recently read cases decoded, so that a case page costs
// no query: reading and scanning the 45 columns of a case row through
// database/sql was over half the time of a case read.
//
// It stays true because every write to a case goes through this process's
// writer goroutine, which marks the cases a commit writes twice: before the
// commit (pending: while the commit may or may not be visible, nothing
// about those cases is cached) and after it. A read may fill the cache only
// if it began after the latest mark of its case, so every cached case was
// read after the write before it was acknowledged, and no reader can be
// handed an older version than one it has already seen. Another process
// changing cases in the same file would be seen within caseCacheTTL: no
// tongban command does (imports only add cases, which are never cached
// before they exist), but an operator's own script might.
type caseCache struct {
	mu sync.Mutex
	m  map[int64]cachedCase
	// codes maps tracking codes to case ids, which never change.
	codes map[string]int64
	// seq numbers the marks; floor is the oldest read start still allowed
	// to fill the cache (raised when marks are evicted or all is cleared).
	seq, floor uint64
}

type cachedCase struct {
	c       *tongban.Case // nil: only a mark
	seq     uint64        // the mark's number, or the read's start
	pending bool          // a commit writing the case is under way
	readAt  time.Time
}

const (
	caseCacheSize = 20000
	caseCacheTTL  = 30 * time.Second
)

// get returns a private copy of a fresh cached case, or nil.
func (cc *caseCache) get(id int64) *tongban.Case {
	cc.mu.Lock()
	e, ok := cc.m[id]
	cc.mu.Unlock()
	if !ok || e.c == nil || time.Since(e.readAt) > caseCacheTTL {
		return nil
	}
	return e.c.Clone()
}

// begin is called before reading a case from the database; its result
// goes to put.
func (cc *caseCache) begin() uint64 {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.seq
}

// put caches a copy of c, read from a transaction that started after
// begin returned start, unless the case was invalidated since.
func (cc *caseCache) put(c *tongban.Case, start uint64, readAt time.Time) {
	cp := c.Clone()
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if start < cc.floor {
		return
	}
	if e, ok := cc.m[c.ID]; ok && (e.pending || e.seq > start) {
		return
	}
	cc.makeRoom()
	cc.m[c.ID] = cachedCase{c: cp, readAt: readAt, seq: start}
	if cc.codes == nil || len(cc.codes) >= caseCacheSize {
		cc.codes = make(map[string]int64)
	}
	cc.codes[c.TrackingCode] = c.ID
}

// id returns the case id of a tracking code read before, or 0.
func (cc *caseCache) id(code string) int64 {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.codes[code]
}

// mark marks the cases a commit writes: pending before the commit, not
// pending once it has succeeded or failed.
func (cc *caseCache) mark(ids []int64, pending bool) {
	if len(ids) == 0 {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.seq++
	for _, id := range ids {
		cc.makeRoom()
		cc.m[id] = cachedCase{seq: cc.seq, pending: pending}
	}
}

// clear forgets everything (after a bulk load).
func (cc *caseCache) clear() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.seq++
	cc.floor = cc.seq
	cc.m, cc.codes = nil, nil
}

// makeRoom drops a tenth of the entries when the cache is full, never a
// pending mark. Dropping marks raises the floor to the latest one, so no
// read that began before them may fill the cache. Called with mu held.
func (cc *caseCache) makeRoom() {
	if cc.m == nil {
		cc.m = make(map[int64]cachedCase)
	}
	if len(cc.m) < caseCacheSize {
		return
	}
	n := caseCacheSize / 10
	for id, e := range cc.m {
		if e.pending {
			continue
		}
		delete(cc.m, id)
		if n--; n == 0 {
			break
		}
	}
	cc.floor = cc.seq
}
