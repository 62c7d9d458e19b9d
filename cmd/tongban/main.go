// Command tongban is the whole platform in one binary: it serves, fills a
// demo district, migrates, administers, backs up and does calendar
// arithmetic. Run `tongban help` for the list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/tongban/tongban"
)

// command is one subcommand.
type command struct {
	name    string
	usage   string
	summary string
	run     func(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error
}

var commands []command

func register(c command) { commands = append(commands, c) }

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout)
	if err == nil {
		return
	}
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if e := tongban.AsError(err); e != nil {
		fmt.Fprintf(os.Stderr, "tongban: %s\n         %s\n", e.Message, e.English)
	} else {
		fmt.Fprintf(os.Stderr, "tongban: %v\n", err)
	}
	os.Exit(1)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return nil
	}
	name := args[0]
	rest := args[1:]
	// Two-word commands: "dept add", "user add", "apikey add", "workdays add".
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		for _, c := range commands {
			if c.name == name+" "+rest[0] {
				return c.run(ctx, rest[1:], stdin, stdout)
			}
		}
	}
	for _, c := range commands {
		if c.name == name {
			return c.run(ctx, rest, stdin, stdout)
		}
	}
	return fmt.Errorf("unknown command %q; run `tongban help`", strings.Join(args[:min(2, len(args))], " "))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "tongban — 通办: one case engine for a district's requests, approvals and supervision")
	fmt.Fprintln(w, "\nUsage: tongban COMMAND [flags] [arguments]   (flags may come before or after arguments)")
	fmt.Fprintln(w, "\nCommands:")
	cs := append([]command(nil), commands...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-18s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command that touches the store takes --data DIR (TONGBAN_DATA, default ./tongban-data)")
	fmt.Fprintln(w, "and --db DSN (TONGBAN_DB: a SQLite file path, or postgres://… for PostgreSQL).")
	fmt.Fprintln(w, "Run `tongban COMMAND --help` for a command's flags.")
}

// parse parses flags that may come before, between or after positional
// arguments, and returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		// A negative number is an argument (workdays add DATE -5), never a
		// flag: no flag has a numeric name.
		for len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' && strings.Trim(args[0][1:], "0123456789") == "" {
			pos, args = append(pos, args[0]), args[1:]
		}
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// newFlags makes a flag set whose --help prints the command's usage.
func newFlags(name, usageLine, summary string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: tongban %s\n\n%s\n\nFlags:\n", usageLine, summary)
		fs.PrintDefaults()
	}
	return fs
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func wantArgs(pos []string, n int, usageLine string) error {
	if len(pos) != n {
		return fmt.Errorf("expected %d argument(s); usage: tongban %s", n, usageLine)
	}
	return nil
}
