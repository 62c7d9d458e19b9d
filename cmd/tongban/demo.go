package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/tongban/tongban/demo"
)

func init() {
	register(command{name: "demo", usage: "demo [--addr 127.0.0.1:8080] [--data DIR] [--cases N]", summary: "fill an empty data directory with a demo district, print its logins, and serve", run: cmdDemo})
}

func cmdDemo(ctx context.Context, args []string, _ io.Reader, out io.Writer) error {
	const u = "demo [--addr 127.0.0.1:8080] [--data DIR] [--cases N]"
	fs := newFlags("demo", u, "Fill an empty data directory with a realistic district (departments, users for every role, categories, a year of requests in every state), then serve it. A directory that already has data is served as it is.", out)
	sf := addStoreFlags(fs)
	svf := addServeFlags(fs)
	cases := fs.Int("cases", 2000, "number of requests to generate")
	seed := fs.Uint64("seed", 2026, "random seed for the generated history")
	noServe := fs.Bool("no-serve", false, "fill the data directory and exit")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, u); err != nil {
		return err
	}
	if *cases < 0 || *cases > 1000000 {
		return fmt.Errorf("--cases must be 0..1000000")
	}
	e, closeFn, err := sf.openEngine(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	has, err := demo.HasData(ctx, e.Store)
	if err != nil {
		return err
	}
	var logins []demo.Login
	if has {
		fmt.Fprintln(out, "the data directory already has data: serving it as it is")
		logins = demo.Logins()
	} else {
		fmt.Fprintf(out, "creating the demo district with %d requests…\n", *cases)
		start := time.Now()
		logins, err = demo.Populate(ctx, e, demo.Options{Cases: *cases, Seed: *seed}, out)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "demo data created in %s\n", time.Since(start).Round(100*time.Millisecond))
	}
	fmt.Fprintf(out, "\nDemo logins (password for all: %s)\n", demo.Password)
	for _, l := range logins {
		fmt.Fprintf(out, "  %-22s %-12s %-14s %s\n", l.Login, l.Roles, l.Dept, l.Name)
	}
	fmt.Fprintln(out)
	if *noServe {
		return nil
	}
	return serve(ctx, e, svf, out)
}
