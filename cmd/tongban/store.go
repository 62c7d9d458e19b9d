package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/sqlite"
)

// storeFlags are --data and --db, taken by every command that opens the store.
type storeFlags struct {
	data string
	db   string
}

func addStoreFlags(fs *flag.FlagSet) *storeFlags {
	sf := &storeFlags{}
	fs.StringVar(&sf.data, "data", envOr("TONGBAN_DATA", "./tongban-data"), "data directory (TONGBAN_DATA)")
	fs.StringVar(&sf.db, "db", envOr("TONGBAN_DB", ""), "database: a SQLite file path or postgres://… (TONGBAN_DB); default DATA/tongban.db")
	return sf
}

func (sf *storeFlags) isPostgres() bool {
	return strings.HasPrefix(sf.db, "postgres://") || strings.HasPrefix(sf.db, "postgresql://")
}

func (sf *storeFlags) sqlitePath() string {
	if sf.db != "" {
		return strings.TrimPrefix(sf.db, "sqlite://")
	}
	return filepath.Join(sf.data, "tongban.db")
}

// open opens (and migrates) the store.
func (sf *storeFlags) open(ctx context.Context) (tongban.Store, error) {
	if sf.isPostgres() {
		return openPostgres(ctx, sf.db)
	}
	path := sf.sqlitePath()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return sqlite.Open(path)
}

// openEngine opens the store and the engine over it, with default categories.
func (sf *storeFlags) openEngine(ctx context.Context) (*engine.Engine, func(), error) {
	st, err := sf.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	e, err := engine.New(ctx, st)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	e.Text.ModelDir = sf.data
	if err := e.EnsureDefaults(ctx); err != nil {
		st.Close()
		return nil, nil, err
	}
	return e, func() { st.Close() }, nil
}
