package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/demo/corpus"
	"github.com/tongban/tongban/internal/pgtest"
	"github.com/tongban/tongban/postgres"
	"github.com/tongban/tongban/storetest"
)

// searchBenchDB opens the search benchmark's store: TONGBAN_BENCH_CASES
// requests (default 100,000) with texts from demo/corpus — the same ones,
// times and steps as the SQLite benchmark's (sqlite/text_search_bench_test.go)
// — loaded through Store.Load in batches of 5,000, then FinishLoad and
// RebuildText, as tongban load does. TONGBAN_BENCH_PG_DB names a database
// on the test server (TONGBAN_TEST_PG) to keep it in: created and filled
// when missing, reused when it holds the cases (drop it to change their
// number), completed when a filling was interrupted. Without it the store is a fresh
// database dropped at the end. A server that cannot be reached fails the
// benchmark.
func searchBenchDB(b *testing.B) *postgres.DB {
	b.Helper()
	n := 100_000
	if v := os.Getenv("TONGBAN_BENCH_CASES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("TONGBAN_BENCH_CASES=%q", v)
		}
	}
	var dsn, name string
	if name = os.Getenv("TONGBAN_BENCH_PG_DB"); name != "" {
		dsn, _ = pgtest.KeptDatabase(b, name)
	} else {
		dsn, name = pgtest.FreshDatabase(b), "a fresh database"
	}
	ctx := context.Background()
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	// A database filled by an earlier run is reused; one whose filling
	// was interrupted (each batch commits on its own) is completed.
	var have int64
	var indexed bool
	if err := db.Pool().QueryRow(ctx, `SELECT COALESCE(max(id), 0), to_regclass('cases_search') IS NOT NULL FROM cases`).Scan(&have, &indexed); err != nil {
		b.Fatal(err)
	}
	if have >= int64(n) && indexed {
		if k, err := db.RebuildText(ctx); err != nil {
			b.Fatal(err)
		} else if k > 0 {
			fmt.Fprintf(os.Stderr, "search bench store: indexed %d cases left unindexed\n", k)
		}
		return db
	}
	t0 := time.Now()
	if err := fillSearchCorpus(ctx, db, n, have); err != nil {
		b.Fatal(err)
	}
	t1 := time.Now()
	if err := db.FinishLoad(ctx); err != nil {
		b.Fatal(err)
	}
	t2 := time.Now()
	k, err := db.RebuildText(ctx)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "search bench store: %d cases (from %d) loaded in %s, FinishLoad (search index, ANALYZE) %s, RebuildText %s (%d cases) (%s)\n", n, have+1,
		t1.Sub(t0).Round(time.Second), t2.Sub(t1).Round(time.Second), time.Since(t2).Round(time.Second), k, name)
	// What autovacuum does soon after a load (hint bits, visibility map),
	// so that the first sub-benchmarks do not pay for it.
	if _, err := db.Pool().Exec(ctx, `VACUUM cases`); err != nil {
		b.Fatal(err)
	}
	return db
}

// fillSearchCorpus loads n generated requests (ids 1..n), exactly as the
// SQLite benchmark's fillSearchCorpus (not shuffled) does, skipping those
// up to id have (loaded already).
func fillSearchCorpus(ctx context.Context, db *postgres.DB, n int, have int64) error {
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
			if c.ID > have {
				b.Cases = append(b.Cases, c)
			}
		}
		if len(b.Cases) == 0 {
			continue
		}
		if err := db.Load(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkSearch is ListCases with a full-text query and a page of 20,
// as the workbench and GET /api/v1/cases?q= ask it: one- and two-word
// queries, in relevance order (no sort) and with each explicit sort, and
// with a status filter. Each op is one query (cycling through the list);
// p50/p95 are over the ops. It needs the PostgreSQL test server and runs
// only with -bench:
//
//	TONGBAN_BENCH_CASES=1000000 TONGBAN_BENCH_PG_DB=tb_search1m go test ./postgres -run XXX -bench Search -benchtime 60x -timeout 3h
func BenchmarkSearch(b *testing.B) {
	db := searchBenchDB(b)
	ctx := context.Background()
	var total int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM cases`).Scan(&total); err != nil {
		b.Fatal(err)
	}
	storetest.BenchSearch(b, db, total)
}
