package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/demo/corpus"
	"github.com/tongban/tongban/storetest"
)

// The search benchmark's store: TONGBAN_BENCH_CASES requests (default
// 100,000) with texts from demo/corpus, loaded through Store.Load in
// batches of 5,000 and indexed with RebuildText. Received over a year,
// roughly in id order but up to three days out of it (as after an import);
// one in three closed; open ones in five steps with deadlines 5–20 days
// after receipt. TONGBAN_BENCH_DB names a file to keep it in (built when
// missing, reused when present) instead of a temporary one.
var searchBenchDB = sync.OnceValues(func() (*DB, error) {
	n := 100_000
	if v := os.Getenv("TONGBAN_BENCH_CASES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			return nil, fmt.Errorf("TONGBAN_BENCH_CASES=%q", v)
		}
	}
	path := os.Getenv("TONGBAN_BENCH_DB")
	if path == "" {
		dir, err := os.MkdirTemp("", "tongban-search-bench")
		if err != nil {
			return nil, err
		}
		path = filepath.Join(dir, "search.db")
	}
	_, statErr := os.Stat(path)
	db, err := Open(path)
	if err != nil {
		return nil, err
	}
	if statErr == nil {
		return db, nil // built by an earlier run
	}
	ctx := context.Background()
	t0 := time.Now()
	if err := fillSearchCorpus(ctx, db, n, false); err != nil {
		db.Close()
		return nil, err
	}
	t1 := time.Now()
	if _, err := db.RebuildText(ctx); err != nil {
		db.Close()
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "search bench store: %d cases loaded in %s, indexed in %s (%s)\n", n,
		t1.Sub(t0).Round(time.Second), time.Since(t1).Round(time.Second), path)
	return db, nil
})

// fillSearchCorpus loads n generated requests (ids 1..n). shuffled: the
// times are random, not in id order, and deadlines fall on whole days
// (many ties).
func fillSearchCorpus(ctx context.Context, db *DB, n int, shuffled bool) error {
	g := corpus.NewGenerator(42)
	rnd := rand.New(rand.NewPCG(42, 7))
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	span := 365 * 24 * time.Hour
	steps := []string{"dispatch", "accept", "handle", "handle", "review"}
	const batch = 5000
	for id := int64(1); id <= int64(n); {
		b := &tongban.LoadBatch{}
		for ; id <= int64(n) && len(b.Cases) < batch; id++ {
			r := g.Request()
			at := base.Add(time.Duration(float64(span) * float64(id) / float64(n))).Add(-time.Duration(rnd.Int64N(int64(72 * time.Hour)))).Truncate(time.Microsecond)
			deadline := at.Add(time.Duration(5+rnd.IntN(16)) * 24 * time.Hour)
			if shuffled {
				at = base.Add(time.Duration(rnd.Int64N(int64(span)))).Truncate(time.Microsecond)
				if id%10 == 0 {
					at = base // ties
				}
				deadline = base.Add(time.Duration(rnd.IntN(400)) * 24 * time.Hour)
			}
			lat, long := r.Lat, r.Long
			c := &tongban.Case{ID: id, Kind: tongban.KindRequest, Workflow: "request", TrackingCode: tongban.NewTrackingCode(), Type: "complaint", Channel: "web",
				Category: r.Category, Title: r.Title, Body: r.Body, Address: r.Address, Lat: &lat, Long: &long,
				Requester: tongban.Requester{Name: r.Name, Phone: r.Phone}, Lead: r.Dept, First: r.Dept, Step: steps[rnd.IntN(len(steps))], Status: tongban.StatusOpen,
				ReceivedAt: at, UpdatedAt: at.Add(time.Duration(rnd.Int64N(int64(30 * 24 * time.Hour)))), StepStarted: at,
				Deadline: deadline, Version: 1, LastHash: "x"}
			if id%3 == 0 {
				closed := at.Add(5 * 24 * time.Hour)
				c.Status, c.Step, c.ClosedAt = tongban.StatusClosed, "closed", &closed
			}
			b.Cases = append(b.Cases, c)
		}
		if err := db.Load(ctx, b); err != nil {
			return err
		}
	}
	return db.FinishLoad(ctx)
}

// BenchmarkSearch is ListCases with a full-text query and a page of 20,
// as the workbench and GET /api/v1/cases?q= ask it: one- and two-word
// queries, in relevance order (no sort) and with each explicit sort, and
// with a status filter. Each op is one query (cycling through the list);
// p50/p95 are over the ops. Run:
//
//	go test ./sqlite -run XXX -bench Search -benchtime 60x
func BenchmarkSearch(b *testing.B) {
	db, err := searchBenchDB()
	if err != nil {
		b.Fatal(err)
	}
	var total int
	if err := db.read.QueryRow(`SELECT count(*) FROM cases`).Scan(&total); err != nil {
		b.Fatal(err)
	}
	storetest.BenchSearch(b, db, total)
}
