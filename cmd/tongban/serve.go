package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/server"
	"github.com/tongban/tongban/supervise"
)

func init() {
	register(command{name: "serve", usage: "serve [--addr 127.0.0.1:8080] [--data DIR] [--db DSN]", summary: "serve the portal, workbench, API and Open311", run: cmdServe})
}

type serveFlags struct {
	addr         string
	trustProxy   bool
	scanInterval time.Duration
	supervision  string
	pprof        string
	text         textFlags
}

func addServeFlags(fs *flag.FlagSet) *serveFlags {
	f := &serveFlags{}
	fs.StringVar(&f.addr, "addr", envOr("TONGBAN_ADDR", "127.0.0.1:8080"), "listen address (TONGBAN_ADDR)")
	fs.BoolVar(&f.trustProxy, "trust-proxy", os.Getenv("TONGBAN_TRUST_PROXY") == "1", "take client addresses from X-Forwarded-For (TONGBAN_TRUST_PROXY=1)")
	scan, err := time.ParseDuration(envOr("TONGBAN_SCAN_INTERVAL", "10s"))
	if err != nil || scan < 0 {
		scan = 10 * time.Second
	}
	fs.DurationVar(&f.scanInterval, "scan-interval", scan, "how often to raise the alarms that fell due; 0 disables the scanner (TONGBAN_SCAN_INTERVAL)")
	fs.StringVar(&f.supervision, "supervision", os.Getenv("TONGBAN_SUPERVISION"), "JSON file of supervision settings over the defaults: alarm thresholds per category, flags, grading (TONGBAN_SUPERVISION; see docs/SUPERVISION.md)")
	fs.StringVar(&f.pprof, "pprof", os.Getenv("TONGBAN_PPROF"), "serve Go profiles (/debug/pprof/) on this separate address, e.g. 127.0.0.1:6060; keep it off public networks (TONGBAN_PPROF)")
	f.text.add(fs)
	return f
}

func cmdServe(ctx context.Context, args []string, _ io.Reader, out io.Writer) error {
	const u = "serve [--addr 127.0.0.1:8080] [--data DIR] [--db DSN]"
	fs := newFlags("serve", u, "Serve tongban until SIGINT or SIGTERM; in-flight requests finish before exit.", out)
	sf := addStoreFlags(fs)
	svf := addServeFlags(fs)
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
	return serve(ctx, e, svf, out)
}

// serve listens and serves until a signal, then shuts down gracefully.
func serve(ctx context.Context, e *engine.Engine, svf *serveFlags, out io.Writer) error {
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	e.Log = log
	if svf.supervision != "" {
		cfg, err := supervise.Load(svf.supervision)
		if err != nil {
			return fmt.Errorf("supervision settings %s: %w", svf.supervision, err)
		}
		e.Supervision = cfg
	}
	opts := server.DefaultOptions()
	opts.TrustProxy = svf.trustProxy
	srv := server.New(e, opts)
	ln, err := net.Listen("tcp", svf.addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 5 * time.Minute, WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	if svf.scanInterval > 0 {
		go e.NewScanner().Run(ctx, svf.scanInterval)
	}
	if svf.pprof != "" {
		if err := servePprof(ctx, svf.pprof, log); err != nil {
			return err
		}
	}
	svf.text.start(ctx, e, log)
	fmt.Fprintf(out, "tongban listening on http://%s\n", ln.Addr())
	log.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}

// servePprof serves the runtime profiles on their own listener, so that
// they are never reachable through the public address.
func servePprof(ctx context.Context, addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	log.Info("profiles", "addr", ln.Addr().String())
	return nil
}
