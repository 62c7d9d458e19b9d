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
	// bytes estimates the memory the cached cases hold (caseBytes).
	bytes int64
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
	size    int64 // caseBytes of c
}

// The cache is bounded by an estimate of the memory it holds rather than
// by a count, since a case's size varies with its texts and history:
// 64 MB holds about 50,000 typical requests. The entry bound caps the
// maps for marks, which hold no case.
const (
	caseCacheBytes   = 64 << 20
	caseCacheEntries = 100000
	caseCacheTTL     = 30 * time.Second
)

// caseBytes estimates the heap a decoded case holds: its strings and
// attributes plus a fixed cost for the struct, times and slices.
func caseBytes(c *tongban.Case) int64 {
	n := 1024 + len(c.Title) + len(c.Body) + len(c.Address) + len(c.Reply) + len(c.DraftReply) + len(c.RatingComment) +
		len(c.Requester.Name) + len(c.Requester.Phone) + len(c.Requester.Email) + len(c.LastHash) + 64*len(c.Co) + 160*len(c.Attachments)
	for k, v := range c.Attrs {
		n += 48 + len(k) + len(v)
	}
	if c.Supervision != nil {
		n += 512
	}
	return int64(n)
}

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
	size := caseBytes(cp)
	cc.drop(c.ID)
	cc.makeRoom(size)
	cc.m[c.ID] = cachedCase{c: cp, readAt: readAt, seq: start, size: size}
	cc.bytes += size
	if cc.codes == nil || len(cc.codes) >= caseCacheEntries {
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
		cc.drop(id)
		cc.makeRoom(0)
		cc.m[id] = cachedCase{seq: cc.seq, pending: pending}
	}
}

// clear forgets everything (after a bulk load).
func (cc *caseCache) clear() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.seq++
	cc.floor = cc.seq
	cc.m, cc.codes, cc.bytes = nil, nil, 0
}

// drop removes a case's entry. Called with mu held.
func (cc *caseCache) drop(id int64) {
	if e, ok := cc.m[id]; ok {
		cc.bytes -= e.size
		delete(cc.m, id)
	}
}

// makeRoom makes room for an entry of size bytes: when the cache is
// full it drops a tenth of it (entries and bytes), never a pending mark.
// Dropping marks raises the floor to the latest one, so no read that began
// before them may fill the cache. Called with mu held.
func (cc *caseCache) makeRoom(size int64) {
	if cc.m == nil {
		cc.m = make(map[int64]cachedCase)
	}
	if len(cc.m) < caseCacheEntries && cc.bytes+size <= caseCacheBytes {
		return
	}
	n, limit := len(cc.m)/10, int64(caseCacheBytes-caseCacheBytes/10)
	for id, e := range cc.m {
		if e.pending {
			continue
		}
		cc.drop(id)
		if n--; n <= 0 && cc.bytes+size <= limit {
			break
		}
	}
	cc.floor = cc.seq
}
