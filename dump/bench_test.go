package dump_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/demo/corpus"
	"github.com/tongban/tongban/dump"
	"github.com/tongban/tongban/sqlite"
)

// generate fills an empty store with n synthetic cases of realistic size
// and text (demo/corpus requests, as the search benchmarks use; every
// third one closed with a reply), three correctly chained events each,
// through Store.Load (far faster than the engine), plus a department and
// a user.
func generate(ctx context.Context, st tongban.Store, n int) error {
	base := time.Date(2024, 1, 2, 9, 0, 0, 0, time.UTC)
	if err := st.Load(ctx, &tongban.LoadBatch{
		Departments: []*tongban.Department{{ID: 1, Code: "zx", Name: "区指挥中心", Kind: tongban.DeptCentre, CreatedAt: base},
			{ID: 2, Code: "cgj", Name: "城管执法局", Kind: tongban.DeptBureau, CreatedAt: base}},
		Users: []*tongban.User{{ID: 1, Login: "disp", Name: "派单员", Dept: "zx", Roles: []tongban.Role{tongban.RoleDispatcher}, PasswordHash: "$argon2id$v=19$m=65536,t=1,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", CreatedAt: base},
			{ID: 2, Login: "h", Name: "承办人", Dept: "cgj", Roles: []tongban.Role{tongban.RoleHandler}, PasswordHash: "x", CreatedAt: base}},
	}); err != nil {
		return err
	}
	g := corpus.NewGenerator(42)
	const per = 1000
	evID := int64(0)
	for start := 1; start <= n; start += per {
		b := &tongban.LoadBatch{}
		for id := int64(start); id < int64(min(start+per, n+1)); id++ {
			r := g.Request()
			at := base.Add(time.Duration(id) * 37 * time.Second).Add(time.Duration(id%1000) * time.Microsecond)
			deadline := at.Add(15 * 24 * time.Hour)
			lat, long := r.Lat, r.Long
			c := &tongban.Case{ID: id, Kind: tongban.KindRequest, Workflow: "request", TrackingCode: fmt.Sprintf("T%011d", id),
				Type: tongban.TypeComplaint, Channel: tongban.ChannelPhone, Category: r.Category, Title: r.Title,
				Body: r.Body, Address: r.Address, Lat: &lat, Long: &long,
				Requester: tongban.Requester{Name: r.Name, Phone: r.Phone}, Lead: "cgj", First: "cgj", Assignee: "h",
				Step: "handle", Status: tongban.StatusOpen, ReceivedAt: at, UpdatedAt: at.Add(2 * time.Hour), StepStarted: at.Add(2 * time.Hour),
				StepDeadline: &deadline, Deadline: deadline}
			if id%3 == 0 {
				closed := at.Add(2 * time.Hour)
				c.Step, c.Status, c.StepDeadline, c.ClosedAt, c.Reply, c.RepliedAt = "closed", tongban.StatusClosed, nil, &closed, g.Reply(r), &closed
			}
			prev := ""
			for seq, step := range []struct{ action, from, to, actor, dept string }{
				{"create", "", "dispatch", "disp", "zx"}, {"dispatch", "dispatch", "accept", "disp", "zx"}, {"accept", "accept", "handle", "h", "cgj"},
			} {
				evID++
				e := &tongban.Event{ID: evID, CaseID: id, Seq: int64(seq + 1), Action: step.action, FromStep: step.from, ToStep: step.to,
					ActorID: int64(1 + seq/2), Actor: step.actor, ActorDept: step.dept, At: at.Add(time.Duration(seq) * time.Hour), Public: true, PrevHash: prev}
				if seq == 0 {
					e.Payload = json.RawMessage(`{"category":"` + r.Category + `","channel":"phone","deadline":"` + deadline.Format(time.RFC3339) + `","type":"complaint"}`)
				}
				e.Hash = e.ComputeHash()
				prev = e.Hash
				b.Events = append(b.Events, e)
			}
			c.Version, c.LastHash = 3, prev
			b.Cases = append(b.Cases, c)
		}
		if err := st.Load(ctx, b); err != nil {
			return err
		}
	}
	return st.FinishLoad(ctx)
}

// resetPeak resets the process's peak RSS (VmHWM) after returning freed
// memory to the OS.
func resetPeak() {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakMB is the process's peak RSS since the last resetPeak.
func peakMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkDumpLoad1M fills a SQLite store with TONGBAN_BENCH_CASES
// (default 1,000,000) synthetic cases of three events each, dumps it to a
// file, verifies the file, and loads it into a fresh PostgreSQL database
// and a fresh SQLite file, reporting seconds and peak RSS of each phase. It runs only with -bench:
//
//	go test ./dump -run XXX -bench BenchmarkDumpLoad1M -benchtime 1x -timeout 2h
//
// TONGBAN_BENCH_DIR puts the SQLite file and the dump somewhere other
// than the test's temporary directory.
func BenchmarkDumpLoad1M(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("TONGBAN_BENCH_CASES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	dir := os.Getenv("TONGBAN_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	} else {
		dir, _ = os.MkdirTemp(dir, "tbbench")
		b.Cleanup(func() { os.RemoveAll(dir) })
	}
	// TONGBAN_BENCH_FILE names a dump to load (kept): made by this
	// benchmark when missing, else only verified and loaded.
	path := os.Getenv("TONGBAN_BENCH_FILE")
	_, statErr := os.Stat(path)
	reuse := path != "" && statErr == nil
	if path == "" {
		path = filepath.Join(dir, "dump.jsonl")
	}
	ctx := context.Background()
	for range b.N {
		var dumpS, dumpMB float64
		if !reuse {
			b.StopTimer()
			src := openSQLiteAt(b, filepath.Join(dir, "src.db"))
			start := time.Now()
			if err := generate(ctx, src, n); err != nil {
				b.Fatal(err)
			}
			b.Logf("fill SQLite with %d cases: %.1fs", n, time.Since(start).Seconds())
			b.StartTimer()

			resetPeak()
			start = time.Now()
			counts, err := dump.WriteFile(ctx, src, path, nil, tongban.Now())
			if err != nil {
				b.Fatal(err)
			}
			dumpS, dumpMB = time.Since(start).Seconds(), peakMB()
			fi, _ := os.Stat(path)
			b.Logf("dump: %.1fs, peak RSS %.0f MB, %s, file %.0f MB", dumpS, dumpMB, counts, float64(fi.Size())/(1<<20))
			src.Close()
		}

		resetPeak()
		start := time.Now()
		f, err := dump.Open(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := dump.Verify(ctx, f); err != nil {
			b.Fatal(err)
		}
		f.Close()
		verifyS, verifyMB := time.Since(start).Seconds(), peakMB()
		b.Logf("verify only: %.1fs, peak RSS %.0f MB", verifyS, verifyMB)

		load := func(name string, st tongban.Store) (secs, mb float64) {
			ts := &timedStore{Store: st}
			resetPeak()
			start := time.Now()
			f, err := dump.Open(path, nil)
			if err != nil {
				b.Fatal(err)
			}
			res, err := dump.Load(ctx, ts, f)
			if err != nil {
				b.Fatal(err)
			}
			f.Close()
			secs, mb = time.Since(start).Seconds(), peakMB()
			b.Logf("load into %s: %.1fs (Store.Load of cases %.1fs, of the rest %.1fs, FinishLoad %.1fs, RebuildText %.1fs indexing %d), peak RSS %.0f MB, %s",
				name, secs, ts.cases.Seconds(), ts.others.Seconds(), ts.finish.Seconds(), ts.rebuild.Seconds(), res.Indexed, mb, res.Counts)
			return secs, mb
		}
		// TONGBAN_BENCH_PG=0 or TONGBAN_BENCH_SQLITE=0 skips that load.
		var loadS, loadMB, sqlS, sqlMB float64
		if os.Getenv("TONGBAN_BENCH_PG") != "0" {
			loadS, loadMB = load("PostgreSQL", openPostgres(b))
		}
		if os.Getenv("TONGBAN_BENCH_SQLITE") != "0" {
			sqlS, sqlMB = load("SQLite", openSQLiteAt(b, filepath.Join(dir, "dst.db")))
		}

		b.ReportMetric(dumpS, "dump-s")
		b.ReportMetric(dumpMB, "dump-peak-MB")
		b.ReportMetric(verifyS, "verify-s")
		b.ReportMetric(loadS, "load-s")
		b.ReportMetric(loadMB, "load-peak-MB")
		b.ReportMetric(sqlS, "load-sqlite-s")
		b.ReportMetric(sqlMB, "load-sqlite-peak-MB")
	}
}

// timedStore times a load's Store.Load calls (those of batches with
// cases, and the others), FinishLoad and RebuildText.
type timedStore struct {
	tongban.Store
	cases, others, finish, rebuild time.Duration
}

func (s *timedStore) Load(ctx context.Context, b *tongban.LoadBatch) error {
	start := time.Now()
	defer func() {
		if len(b.Cases) > 0 {
			s.cases += time.Since(start)
		} else {
			s.others += time.Since(start)
		}
	}()
	return s.Store.Load(ctx, b)
}

func (s *timedStore) FinishLoad(ctx context.Context) error {
	start := time.Now()
	defer func() { s.finish += time.Since(start) }()
	return s.Store.FinishLoad(ctx)
}

func (s *timedStore) RebuildText(ctx context.Context) (int, error) {
	start := time.Now()
	defer func() { s.rebuild += time.Since(start) }()
	return s.Store.RebuildText(ctx)
}

func openSQLiteAt(t testing.TB, path string) tongban.Store {
	t.Helper()
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
