package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"database/sql"

	"github.com/tongban/tongban"
)

// benchDB is one store with 1,000,000 open cases, 10,000 of them due at
// manyAt and 10 at fewAt, and a year of scorecard rows for 60
// departments: built once with SQL (minutes through the engine, seconds
// this way) and shared by the benchmarks.
var benchDB = sync.OnceValues(func() (*DB, error) {
	dir, err := os.MkdirTemp("", "tongban-bench")
	if err != nil {
		return nil, err
	}
	db, err := Open(filepath.Join(dir, "bench.db"))
	if err != nil {
		return nil, err
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	far := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	err = db.exec(context.Background(), func(tx *sql.Tx) error {
		// Every case is open with its next alarm in the future, except
		// ids ≡ 0 mod 100 (10,000) due at manyAt and ids ≤ 10 due at fewAt.
		_, err := tx.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 1000000)
			INSERT INTO cases (id, kind, workflow, tracking_code, type, channel, category, title, body, lead, step, status,
				received_at, updated_at, step_started_at, deadline, version, last_hash, next_alarm_at)
			SELECT i, 'request', 'request', printf('B%011d', i), 'complaint', 'web', 'road', 't', 'b', printf('d%02d', i % 60), 'handle', 'open',
				?1, ?1, ?1, ?2, 1, '',
				CASE WHEN i <= 10 THEN ?3 WHEN i % 100 = 0 THEN ?4 ELSE ?2 + i END FROM n`,
			base, far, fewAt.UnixMicro(), manyAt.UnixMicro())
		if err != nil {
			return err
		}
		_, err = tx.Exec(`WITH RECURSIVE d(k) AS (SELECT 0 UNION ALL SELECT k+1 FROM d WHERE k < 364),
			dep(j) AS (SELECT 0 UNION ALL SELECT j+1 FROM dep WHERE j < 59)
			INSERT INTO score_days (dim, key, day, received, closed, closed_on_time, handling_secs, h3, r4, r5, returns, alarm_yellow)
			SELECT 'department', printf('d%02d', j), CAST(strftime('%Y%m%d', '2026-01-01', '+' || k || ' days') AS INTEGER),
				46, 45, 40, 45*3*25200, 45, 20, 10, 2, 5 FROM d, dep`)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO score_months (dim, key, month, received, closed, closed_on_time, handling_secs, h3, r4, r5, returns, alarm_yellow)
			SELECT dim, key, day / 100, sum(received), sum(closed), sum(closed_on_time), sum(handling_secs), sum(h3), sum(r4), sum(r5), sum(returns), sum(alarm_yellow)
			FROM score_days GROUP BY dim, key, day / 100`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("populate: %w", err)
	}
	return db, nil
})

var (
	fewAt  = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	manyAt = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
)

// BenchmarkClaimDue is the store's share of a scan tick over 1,000,000
// open cases: finding (and leasing) the cases due. Its cost follows the
// cases due, not the cases open.
func BenchmarkClaimDue(b *testing.B) {
	db, err := benchDB()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		now  time.Time
		want int
	}{{"open=1M/due=10", fewAt, 10}, {"open=1M/due=10000", manyAt, 10010}} {
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				// A lease that has ended by the next iteration's "now".
				now := tc.now.Add(time.Duration(i) * time.Hour)
				n := 0
				for {
					ids, err := db.ClaimDueAlarms(ctx, now, time.Minute, 1000)
					if err != nil {
						b.Fatal(err)
					}
					n += len(ids)
					if len(ids) < 1000 {
						break
					}
				}
				if n != tc.want {
					b.Fatalf("claimed %d, want %d", n, tc.want)
				}
			}
		})
	}
}

// BenchmarkRanking is the department ranking's store work for a year of
// 1,000,000 cases: summing 60 departments × 365 day rows and counting the
// open yellow cards.
func BenchmarkRanking(b *testing.B) {
	db, err := benchDB()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		rows, err := db.ScoreTotals(ctx, tongban.ByDepartment, 20260101, 20261231)
		if err != nil || len(rows) != 60 || rows[0].Received != 46*365 {
			b.Fatalf("%v %d", err, len(rows))
		}
		if _, err := db.OpenOverdue(ctx, tongban.ByDepartment, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			b.Fatal(err)
		}
	}
}
