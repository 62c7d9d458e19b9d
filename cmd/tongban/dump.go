package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/dump"
)

func init() {
	register(command{name: "dump", usage: "dump FILE [--data DIR] [--db DSN]", summary: "write the whole system to a portable dump file (FILE.gz: compressed; -: stdout)", run: cmdDump})
	register(command{name: "load", usage: "load FILE [--data DIR] [--db DSN]", summary: "load a dump into a new, empty store (SQLite or PostgreSQL)", run: cmdLoad})
}

const dumpHelp = `Write the whole system — departments, users (with password hashes), categories,
the service catalogue (every version of every matter), calendar overrides,
API keys (hashes), cases (supervision orders and applications included),
events with their hash chains, attachments, the PII access log, and
electronic supervision's alarms, findings and scorecard day and month rows —
to FILE, a versioned JSON Lines file (format version 3) read from one
consistent snapshot while the server keeps running. A FILE ending in .gz is
compressed; - writes to standard output. Sessions, rate-limit counters and
the text-search index (rebuilt by tongban load) are not included. The file holds personal data and credential hashes: keep
it as safe as the database.

Load it into a new store of either kind with tongban load. For PostgreSQL,
pg_dump -Fc DBNAME > FILE (restored with pg_restore into an empty database)
is the alternative for whole-database backups.`

func cmdDump(ctx context.Context, args []string, _ io.Reader, out io.Writer) error {
	const u = "dump FILE [--data DIR] [--db DSN]"
	fs := newFlags("dump", u, dumpHelp, out)
	sf := addStoreFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 1, u); err != nil {
		return err
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	return writeDump(ctx, st, pos[0], out)
}

// writeDump dumps st to path and reports counts and time (on stderr when
// the dump goes to stdout); tongban backup uses it for PostgreSQL.
func writeDump(ctx context.Context, st tongban.Store, path string, stdout io.Writer) error {
	report := stdout
	if path == "-" {
		report = os.Stderr
	}
	start := time.Now()
	counts, err := dump.WriteFile(ctx, st, path, stdout, tongban.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(report, "dump written to %s in %s: %s\n", path, time.Since(start).Round(time.Millisecond), counts)
	return nil
}

func cmdLoad(ctx context.Context, args []string, stdin io.Reader, out io.Writer) error {
	const u = "load FILE [--data DIR] [--db DSN]"
	fs := newFlags("load", u, `Load a dump written by tongban dump (or tongban backup on PostgreSQL) into a new,
empty store: a SQLite file that does not exist yet, or an empty PostgreSQL
database (tongban migrate may have run on it). IDs, hashes and versions are
kept. Every case's event hash chain, the record counts and the file's
checksum are verified, as are that alarms and findings belong to cases in
the file, that scorecard month rows are the sums of their days and that
each matter's versions run from 1 without a gap; a FILE (not -) is
verified completely before anything is written. The loaded cases are then
indexed for text search. Files of format versions 1 to 3 are read. FILE
may be gzip-compressed; - reads standard input.`, out)
	sf := addStoreFlags(fs)
	noPrecheck := fs.Bool("no-precheck", false, "do not verify FILE completely before loading (it is still verified while loading)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 1, u); err != nil {
		return err
	}
	path := pos[0]
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	empty, err := st.IsEmpty(ctx)
	if err != nil {
		return err
	}
	if !empty {
		return dump.ErrNotEmpty
	}
	start := time.Now()
	if path != "-" && !*noPrecheck {
		f, err := dump.Open(path, stdin)
		if err != nil {
			return err
		}
		res, err := dump.Verify(ctx, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w (nothing was loaded)", path, err)
		}
		fmt.Fprintf(out, "verified %s (exported %s) in %s: %d records\n", path, res.ExportedAt.Format(time.RFC3339), time.Since(start).Round(time.Millisecond), res.Counts.Total())
	}
	f, err := dump.Open(path, stdin)
	if err != nil {
		return err
	}
	defer f.Close()
	loadStart := time.Now()
	res, err := dump.Load(ctx, st, f)
	if err != nil {
		if errors.Is(err, dump.ErrNotEmpty) {
			return err
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	indexed := "text search indexed while loading"
	if res.Indexed > 0 {
		indexed = fmt.Sprintf("%d cases indexed for text search", res.Indexed)
	}
	fmt.Fprintf(out, "loaded %s in %s (total %s): %s; %s\n", path, time.Since(loadStart).Round(time.Millisecond), time.Since(start).Round(time.Millisecond), res.Counts, indexed)
	return nil
}
