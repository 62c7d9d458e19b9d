package postgres

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/internal/pgtest"
)

// BenchmarkCreateBatch commits batches of k new cases, one after another
// on one connection, and reports what a case costs the PostgreSQL backends
// (pg-µs/case, their CPU time read from /proc: only when the server runs
// on this machine) besides the wall time. The difference between sizes
// shows the fixed cost of a batch, which several instances sharing a
// load pay more often.
func BenchmarkCreateBatch(b *testing.B) {
	for _, k := range []int{1, 4, 16} {
		b.Run("batch"+strconv.Itoa(k), func(b *testing.B) {
			ctx := context.Background()
			db, err := Open(ctx, pgtest.FreshDatabase(b))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			var spare spareIDs
			seq := 0
			newBatch := func() []*createOp {
				ops := make([]*createOp, k)
				at := tongban.Now()
				for i := range ops {
					seq++
					c := &tongban.Case{Kind: tongban.KindRequest, Workflow: "request", TrackingCode: fmt.Sprintf("B%011d", seq),
						Channel: tongban.ChannelPhone, Category: "fume", Lead: "chengguan", Title: "小区门口餐馆油烟直排 " + strconv.Itoa(seq),
						Body:    strings.Repeat("小区门口的餐馆每天晚上油烟直排，居民窗户都不敢开，请相关部门尽快处理。", 2),
						Address: "青川区锦绣路88号", Step: "dispatch", Status: tongban.StatusOpen,
						ReceivedAt: at, UpdatedAt: at, StepStarted: at, Deadline: at.Add(72 * time.Hour)}
					c.Requester.Name, c.Requester.Phone = "张先生", "13800000000"
					day := at.Year()*10000 + int(at.Month())*100 + at.Day()
					d := []tongban.ScoreDelta{{Dim: "dept", Key: c.Lead, Day: day}, {Dim: "category", Key: c.Category, Day: day}}
					d[0].Received, d[1].Received = 1, 1
					c.Derived = &tongban.Derived{Scores: d}
					ev := &tongban.Event{Action: "create", ToStep: "dispatch", Actor: "市民", At: at}
					ops[i] = &createOp{c: c, first: ev, text: newCaseText(c, db.goTSV)}
				}
				return ops
			}
			pids, err := backendPIDs(ctx, db)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			before := cpuTicks(pids)
			for b.Loop() {
				b.StopTimer()
				batch := newBatch()
				b.StartTimer()
				if err := db.creates.commit(batch, &spare); err != nil {
					b.Fatal(err)
				}
			}
			after := cpuTicks(pids)
			if before >= 0 && after >= 0 {
				b.ReportMetric(float64(after-before)*1e4/float64(b.N*k), "pg-µs/case") // a tick is 10 ms
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*k), "µs/case")
		})
	}
}

// backendPIDs returns the PostgreSQL backend processes connected to db's
// database, after opening the pool's connections.
func backendPIDs(ctx context.Context, db *DB) ([]int, error) {
	var pids []int
	rows, err := db.pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			return nil, err
		}
		pids = append(pids, pid)
	}
	return pids, rows.Err()
}

// cpuTicks sums the user and system time of pids, or returns -1 when
// one cannot be read (the server is elsewhere).
func cpuTicks(pids []int) int64 {
	var sum int64
	for _, pid := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return -1
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		sum += u + s
	}
	return sum
}
