package engine_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/sqlite"
)

// BenchmarkRaise10000 files 10,000 requests whose dispatch-step warning
// falls due at the same instant and times the one tick that raises them
// all (each an event, an alarm row and scorecard counts, written through
// optimistic concurrency): it must finish within the 10 s scan interval.
func BenchmarkRaise10000(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		ctx := context.Background()
		st, err := sqlite.Open(filepath.Join(b.TempDir(), "b.db"))
		if err != nil {
			b.Fatal(err)
		}
		e, err := engine.New(ctx, st)
		if err != nil {
			b.Fatal(err)
		}
		if err := e.EnsureDefaults(ctx); err != nil {
			b.Fatal(err)
		}
		received := time.Date(2026, 9, 28, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < 10000; i += 16 {
					_, err := e.Create(engine.WithNow(ctx, received), engine.Actor{}, engine.NewCase{Type: tongban.TypeHelp, Category: "road",
						Title: "路灯不亮", Body: "路灯坏了。", Requester: tongban.Requester{Phone: "13812345678"}, Channel: tongban.ChannelPhone})
					if err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		s := e.NewScanner()
		b.StartTimer()
		t0 := time.Now()
		n, err := s.Tick(ctx, received.Add(14*time.Hour)) // 2026-09-29 00:00: all warnings due
		d := time.Since(t0)
		b.StopTimer()
		if err != nil || n != 10000 {
			b.Fatalf("raised %d: %v", n, err)
		}
		b.ReportMetric(float64(n)/d.Seconds(), "alarms/s")
		st.Close()
		b.StartTimer()
	}
}
