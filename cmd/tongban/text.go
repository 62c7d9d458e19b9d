package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/textproc"
)

func init() {
	register(command{name: "route retrain", usage: "route retrain [--data DIR] [--db DSN]", summary: "train the routing models on the store's closed requests", run: cmdRouteRetrain})
}

// textFlags configure text intelligence in serve.
type textFlags struct {
	autoDispatch    float64
	dupDays         int
	dupRadius       float64
	hotInterval     time.Duration
	retrainInterval time.Duration
	modelCheck      time.Duration // how often model files are checked for a retrain (1 minute)
	catchUp         time.Duration // how often the duplicate index catches up (30 s)
}

func (f *textFlags) add(fs *flag.FlagSet) {
	auto, _ := strconv.ParseFloat(envOr("TONGBAN_AUTO_DISPATCH", "0"), 64)
	fs.Float64Var(&f.autoDispatch, "auto-dispatch", auto, "dispatch new requests automatically when the routing confidence is at least this, 0..1; 0 disables it (TONGBAN_AUTO_DISPATCH)")
	fs.IntVar(&f.dupDays, "dup-days", 30, "look for duplicates among the requests of this many days")
	fs.Float64Var(&f.dupRadius, "dup-radius", 100, "locations within this many metres count as one place for duplicates and hot issues")
	fs.DurationVar(&f.hotInterval, "hot-interval", 5*time.Minute, "how often to recompute the hot issues of the last 30 days (API, supervision dashboard); 0: only when asked for and older than 5 minutes")
	fs.DurationVar(&f.retrainInterval, "retrain-interval", 0, "retrain the routing models on the closed requests this often, e.g. 24h (as `route retrain` does); 0 disables it. Either way, model files a retrain writes are loaded within a minute")
	f.modelCheck, f.catchUp = time.Minute, 30*time.Second
}

// start configures the engine's text service and starts its background
// work: the duplicate index is loaded (start-up does not wait) and then
// catches up with other instances every 30 s, unindexed cases are
// indexed, hot issues are refreshed and the routing models retrained on
// a schedule, and model files written by a retrain (this one, cron's or
// another instance's in a shared directory) are loaded when they change.
// The returned function waits for the background work to stop after ctx
// is cancelled.
func (f *textFlags) start(ctx context.Context, e *engine.Engine, log *slog.Logger) (wait func()) {
	t := e.Text
	t.AutoDispatch = f.autoDispatch
	if f.dupDays > 0 {
		t.DupPeriod = time.Duration(f.dupDays) * 24 * time.Hour
	}
	if f.dupRadius > 0 {
		t.DupRadius = f.dupRadius
	}
	t.HotInterval = f.hotInterval
	if err := t.LoadModels(); err != nil {
		log.Warn("routing models not loaded; using keyword rules", "err", err)
	}
	var wg sync.WaitGroup
	every := func(d time.Duration, now bool, fn func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk := time.NewTicker(d)
			defer tk.Stop()
			if now {
				fn()
			}
			for {
				select {
				case <-ctx.Done():
					return
				case <-tk.C:
					fn()
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t0 := time.Now()
		if n, err := e.Store.RebuildText(ctx); err != nil {
			log.Warn("text index rebuild failed", "err", err)
		} else if n > 0 {
			log.Info("text index rebuilt", "cases", n, "took", time.Since(t0).String())
		}
		t1 := time.Now()
		n, err := t.LoadIndex(ctx)
		if err != nil {
			log.Warn("duplicate index not loaded", "err", err)
			return
		}
		log.Info("duplicate index loaded", "open_requests", n, "took", time.Since(t1).String())
		// What other instances write reaches this one's index here.
		every(f.catchUp, false, func() {
			if _, err := t.CatchUp(ctx); err != nil && ctx.Err() == nil {
				log.Warn("duplicate index catch-up failed", "err", err)
			}
		})
	}()
	if f.hotInterval > 0 {
		every(f.hotInterval, true, func() {
			if _, err := t.RefreshHot(ctx); err != nil && ctx.Err() == nil {
				log.Warn("hot issues not computed", "err", err)
			}
		})
	}
	if f.retrainInterval > 0 {
		every(f.retrainInterval, false, func() {
			r, err := t.Retrain(ctx, textproc.TrainOptions{})
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("routing models not retrained", "err", err)
				}
				return
			}
			log.Info("routing models retrained", "examples", r.Examples, "departments", r.DeptLabels, "categories", r.CatLabels, "took", r.Took.String())
		})
	}
	if t.ModelDir != "" && f.modelCheck > 0 {
		every(f.modelCheck, false, func() {
			if ok, err := t.ReloadModels(); err != nil {
				log.Warn("routing models not reloaded", "err", err)
			} else if ok {
				log.Info("routing models reloaded", "dir", t.ModelDir)
			}
		})
	}
	return wg.Wait
}

func cmdRouteRetrain(ctx context.Context, args []string, _ io.Reader, out io.Writer) error {
	const u = "route retrain [--data DIR] [--db DSN]"
	fs := newFlags("route retrain", u, "Train the department and category routing models on the store's closed requests (label: the department that finally handled each) and write DATA/"+engine.DeptModelFile+" and DATA/"+engine.CatModelFile+" atomically; a running serve with the same data directory loads them within a minute. Run it from cron, e.g. nightly, or use serve --retrain-interval.", out)
	sf := addStoreFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, u); err != nil {
		return err
	}
	e, closeFn, err := sf.openEngine(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	if err := os.MkdirAll(sf.data, 0o750); err != nil {
		return err
	}
	e.Text.ModelDir = sf.data
	r, err := e.Text.Retrain(ctx, textproc.TrainOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "trained on %d closed requests: %d departments, %d categories in %s; wrote %s %s\n",
		r.Examples, r.DeptLabels, r.CatLabels, r.Took.Round(time.Millisecond), r.DeptModel, r.CatModel)
	return nil
}
