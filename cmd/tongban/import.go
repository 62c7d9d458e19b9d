package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/supervise"
)

func init() {
	register(command{name: "import cases", usage: "import cases FILE.csv [--skip-bad] [--data DIR] [--db DSN]",
		summary: "load cases from a legacy system's CSV, with their deadlines and alarms", run: cmdImportCases})
}

func cmdImportCases(ctx context.Context, args []string, stdin io.Reader, out io.Writer) error {
	const u = "import cases FILE.csv [--skip-bad] [--data DIR] [--db DSN]"
	fs := newFlags("import cases", u, "Load cases from a CSV file (header: received_at,type,category,title,body,department[,closed_at,reply,rating,address,lat,long,phone]).\n"+
		"Every row is checked first; a file with any bad row loads nothing unless --skip-bad is given.", out)
	sf := addStoreFlags(fs)
	skipBad := fs.Bool("skip-bad", false, "load the good rows and skip the bad ones")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 1, u); err != nil {
		return err
	}
	var r io.Reader = stdin
	if pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	e, closeFn, err := sf.openEngine(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	n, bad, err := importCases(ctx, e, r, *skipBad, out)
	if err != nil {
		return err
	}
	if bad > 0 && !*skipBad {
		return fmt.Errorf("%d bad row(s); nothing loaded (use --skip-bad to load the good rows)", bad)
	}
	fmt.Fprintf(out, "loaded %d case(s)", n)
	if bad > 0 {
		fmt.Fprintf(out, ", skipped %d bad row(s)", bad)
	}
	fmt.Fprintln(out)
	return nil
}

// importCases checks every row, reports the bad ones on out, and loads
// the good ones unless a bad one was found and skipBad is false.
func importCases(ctx context.Context, e *engine.Engine, r io.Reader, skipBad bool, out io.Writer) (loaded, bad int, err error) {
	refs := supervise.Refs{
		Category: func(code string) bool {
			c, err := e.Category(ctx, code)
			return err == nil && c.Active
		},
		Dept: func(code string) bool {
			d, err := e.Department(ctx, code)
			return err == nil && !d.Disabled
		},
		ValidPhone: engine.ValidPhone,
		Now:        e.Now(),
	}
	rows, errs, err := supervise.ParseCSV(r, refs)
	if err != nil {
		return 0, 0, err
	}
	for _, re := range errs {
		fmt.Fprintf(out, "line %d: %s\n", re.Line, re.Reason)
	}
	if len(errs) > 0 && !skipBad {
		return 0, len(errs), nil
	}
	for _, row := range rows {
		if _, err := e.ImportCase(ctx, row); err != nil {
			return loaded, len(errs), fmt.Errorf("line %d: %w (%d case(s) loaded before it)", row.Line, err, loaded)
		}
		loaded++
	}
	return loaded, len(errs), nil
}
