package storetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tongban/tongban"
)

// readAfterWrite checks that a read which starts after a write was
// acknowledged sees that write, and that no reader ever goes back to an
// older version, while other readers keep reading the same case (a store
// may cache case reads; this is what its cache must keep).
func (s *suite) readAfterWrite(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	c := newCase()
	create(t, st, c)
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last int64
			for !stop.Load() {
				read := func() (*tongban.Case, error) { return st.Case(ctx, c.ID) }
				if r%2 == 1 {
					read = func() (*tongban.Case, error) { return st.CaseByCode(ctx, c.TrackingCode) }
				}
				got, err := read()
				if err != nil {
					errs <- err
					return
				}
				if got.Version < last {
					errs <- fmt.Errorf("a reader went back from version %d to %d", last, got.Version)
					return
				}
				if want := fmt.Sprintf("第%d次", got.Version); got.Version > 1 && got.DraftReply != want {
					errs <- fmt.Errorf("version %d carries draft %q, want %q", got.Version, got.DraftReply, want)
					return
				}
				last = got.Version
				got.Title = "读者改动不可泄漏" // a taker's change must not reach other readers
			}
		}()
	}
	for i := 0; i < 60; i++ {
		cur, err := st.Case(ctx, c.ID)
		must(t, err)
		if cur.Title != c.Title {
			t.Fatalf("a reader's change to its copy leaked into the store's answer: %q", cur.Title)
		}
		ev, version := act(cur, "note", cur.Step, json.RawMessage(`{}`))
		cur.DraftReply = fmt.Sprintf("第%d次", cur.Version)
		must(t, st.UpdateCase(ctx, cur, version, ev))
		got, err := st.Case(ctx, c.ID)
		must(t, err)
		if got.Version != cur.Version || got.DraftReply != cur.DraftReply {
			t.Fatalf("after write %d: read version %d draft %q, want %d %q", i, got.Version, got.DraftReply, cur.Version, cur.DraftReply)
		}
		byCode, err := st.CaseByCode(ctx, c.TrackingCode)
		must(t, err)
		if byCode.Version != cur.Version {
			t.Fatalf("after write %d: read by code version %d, want %d", i, byCode.Version, cur.Version)
		}
		if i%10 == 0 {
			next := time.Date(2030, 1, 1+i, 9, 0, 0, 0, time.UTC)
			must(t, st.SetNextAlarm(ctx, c.ID, cur.Version, &next))
			got, err := st.Case(ctx, c.ID)
			must(t, err)
			if got.NextAlarmAt == nil || !got.NextAlarmAt.Equal(next) {
				t.Fatalf("after SetNextAlarm: next_alarm_at %v, want %v", got.NextAlarmAt, next)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// concurrentCreateMixed creates cases at once, each adding to scorecard
// counters, with a few that must fail (a tracking code already taken)
// among them: a store that commits creations together must fail only
// those, keep every other, and count each once.
func (s *suite) concurrentCreateMixed(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	taken := newCase()
	create(t, st, taken)
	const n, bad = 120, 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		c := newCase()
		c.Title = fmt.Sprintf("并发混合 %d", i)
		c.Attachments = nil
		if i%(n/bad) == 7 {
			c.TrackingCode = taken.TrackingCode
		}
		c.Derived = &tongban.Derived{Scores: []tongban.ScoreDelta{
			{Day: 20261128, Dim: tongban.ByDepartment, Key: "mix", ScoreCounts: tongban.ScoreCounts{Received: 1}},
			{Day: 20261128, Dim: tongban.ByDepartment, Key: fmt.Sprintf("mix%d", i%3), ScoreCounts: tongban.ScoreCounts{Received: 1}},
		}}
		wg.Go(func() { errs[i] = st.CreateCase(ctx, c, firstEvent(c)) })
	}
	wg.Wait()
	failed := 0
	for i, err := range errs {
		if i%(n/bad) == 7 {
			wantCode(t, err, tongban.EConflict)
			failed++
			continue
		}
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	total, err := st.CountCases(ctx, tongban.CaseFilter{})
	must(t, err)
	if want := 1 + n - failed; total != want {
		t.Fatalf("CountCases = %d, want %d", total, want)
	}
	rows, err := st.ScoreByDay(ctx, tongban.ByDepartment, "mix", 20261128, 20261128)
	must(t, err)
	if len(rows) != 1 || rows[0].Received != int64(n-failed) {
		t.Fatalf("department counter after concurrent creates: %+v, want received %d", rows, n-failed)
	}
}

// scoresAddUp adds to one counter in many transactions, some at once: a
// store may spread a counter over several rows, but every reader and the
// dump must see one row holding the sum.
func (s *suite) scoresAddUp(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	const n = 40
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = st.AddScores(ctx, []tongban.ScoreDelta{
				{Day: 20261127, Dim: tongban.ByDepartment, Key: "sum", ScoreCounts: tongban.ScoreCounts{Received: 1, Closed: int64(i % 2)}},
			})
		})
	}
	wg.Wait()
	for _, err := range errs {
		must(t, err)
	}
	rows, err := st.ScoreByDay(ctx, tongban.ByDepartment, "sum", 20261127, 20261127)
	must(t, err)
	if len(rows) != 1 || rows[0].Received != n || rows[0].Closed != n/2 {
		t.Fatalf("ScoreByDay = %+v, want one row with received %d closed %d", rows, n, n/2)
	}
	snap := snap0(t, st)
	for name, read := range map[string]func(after *tongban.ScoreKey, limit int) ([]tongban.ScoreEntry, error){
		"days": func(after *tongban.ScoreKey, limit int) ([]tongban.ScoreEntry, error) {
			return snap.DumpScoreDays(ctx, after, limit)
		},
		"months": func(after *tongban.ScoreKey, limit int) ([]tongban.ScoreEntry, error) {
			return snap.DumpScoreMonths(ctx, after, limit)
		},
	} {
		got := scorePageAll(t, 1, read)
		if len(got) != 1 || got[0].Key != "sum" || got[0].Received != n || got[0].Closed != n/2 {
			t.Fatalf("dump of score %s = %+v, want one row with received %d closed %d", name, got, n, n/2)
		}
	}
}
