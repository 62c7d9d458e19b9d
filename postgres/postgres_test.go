package postgres_test

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/internal/pgtest"
	"github.com/tongban/tongban/postgres"
	"github.com/tongban/tongban/storetest"
)

func freshDatabase(t *testing.T) string { return pgtest.FreshDatabase(t) }

func open(t *testing.T, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	pgtest.AdminDSN(t)
	storetest.Run(t, func(t *testing.T) tongban.Store {
		return open(t, freshDatabase(t))
	}, storetest.Options{BackupUnsupported: true})
}

// Instances starting at once against a new database migrate it once.
func TestConcurrentOpen(t *testing.T) {
	dsn := freshDatabase(t)
	const n = 6
	dbs := make([]*postgres.DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dbs[i], errs[i] = postgres.Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	var versions, distinct int
	if err := dbs[0].Pool().QueryRow(t.Context(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&versions, &distinct); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("migrations/*.sql")
	if versions != len(files) || distinct != versions {
		t.Fatalf("schema_migrations has %d rows (%d distinct), want one per migration file (%d)", versions, distinct, len(files))
	}
	// Reopening applies nothing and works.
	again := open(t, dsn)
	if err := again.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// Instances on one database share rate-limit counts.
func TestHitRateShared(t *testing.T) {
	dsn := freshDatabase(t)
	a, b := open(t, dsn), open(t, dsn)
	now := tongban.Now()
	for i, db := range []*postgres.DB{a, b, a, b} {
		n, err := db.HitRate(t.Context(), "login:9.9.9.9", time.Minute, now)
		if err != nil {
			t.Fatal(err)
		}
		if n != i+1 {
			t.Fatalf("hit %d counted %d", i+1, n)
		}
	}
}

// Expired windows are deleted by a later hit.
func TestHitRateSweep(t *testing.T) {
	db := open(t, freshDatabase(t))
	ctx := t.Context()
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := db.Pool().Exec(ctx, `INSERT INTO rate_limits (key, window_start, count, expires_at) VALUES ('old', $1, 3, $2)`,
		old.UnixMicro(), old.Add(time.Minute).UnixMicro()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.HitRate(ctx, "new", time.Minute, tongban.Now()); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM rate_limits`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("rate_limits has %d rows after a sweep, want 1", n)
	}
}

// JSON-valued columns keep the exact bytes written, so hashes computed over
// payloads verify when read back.
func TestPayloadBytesKept(t *testing.T) {
	db := open(t, freshDatabase(t))
	ctx := t.Context()
	var typ string
	if err := db.Pool().QueryRow(ctx, `SELECT data_type FROM information_schema.columns WHERE table_name='events' AND column_name='payload'`).Scan(&typ); err != nil {
		t.Fatal(err)
	}
	if typ != "text" {
		t.Fatalf("events.payload is %s, want text", typ)
	}
	for _, col := range []string{"received_at", "deadline", "closed_at"} {
		if err := db.Pool().QueryRow(ctx, `SELECT data_type FROM information_schema.columns WHERE table_name='cases' AND column_name=$1`, col).Scan(&typ); err != nil {
			t.Fatal(err)
		}
		if typ != "bigint" {
			t.Fatalf("cases.%s is %s, want bigint", col, typ)
		}
	}
}
