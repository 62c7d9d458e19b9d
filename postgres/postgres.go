// Package postgres is the production store on PostgreSQL through pgx/v5.
//
// It keeps the SQLite store's tables and encodings: times are bigint
// microseconds since the Unix epoch and JSON values are text (not jsonb,
// which would reorder keys), so event hashes verify identically in both
// stores and dumps of the two compare. Writes that change a case run in one
// transaction with optimistic concurrency on the case's version.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tongban/tongban"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the PostgreSQL store. It implements tongban.Store.
type DB struct {
	pool *pgxpool.Pool
	// lastSweep is when (wall clock, Unix µs) this instance last deleted
	// expired rate-limit windows.
	lastSweep atomic.Int64
	creates   *createBatcher
	// goTSV: the server builds the tsvectors caseTSVector does, so new
	// and loaded cases have theirs built in Go.
	goTSV bool
}

var _ tongban.Store = (*DB)(nil)

// defaultMaxConns sizes an instance's pool unless the DSN sets
// pool_max_conns: three instances stay well inside PostgreSQL's default
// max_connections of 100.
const defaultMaxConns = 16

// migrateLock is the pg_advisory_lock key that serialises migrations of
// instances starting at once ("tongban" in ASCII).
const migrateLock int64 = 0x746f6e6762616e

// Open connects a pool to dsn (a postgres:// URL or key=value string) and
// applies pending migrations.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		// pgxpool's default (the number of CPUs, at least 4) leaves
		// requests queueing for a connection while the database idles.
		cfg.MaxConns = defaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	db := &DB{pool: pool}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if db.goTSV, err = goTSVAgrees(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db.creates = newCreateBatcher(db)
	return db, nil
}

// Pool returns the connection pool.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// migrate applies the embedded migrations in name order, each in its own
// transaction, holding a session advisory lock so that concurrent starts
// apply each migration once.
func (db *DB) migrate(ctx context.Context) (err error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLock); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	defer func() {
		if _, uerr := conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, migrateLock); uerr != nil {
			// Never return a connection that may still hold the lock to
			// the pool: closing it ends the session and frees the lock.
			conn.Conn().Close(context.Background())
			if err == nil {
				err = fmt.Errorf("postgres: migrate: unlock: %w", uerr)
			}
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at bigint NOT NULL)`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			// No arguments: sent with the simple protocol, so a file may
			// hold many statements.
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, version, time.Now().UnixMicro())
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migration %s: %w", version, err)
		}
	}
	return nil
}

// Close closes the pool.
func (db *DB) Close() error {
	db.creates.close()
	db.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

// Backup is not done by the store on PostgreSQL.
func (db *DB) Backup(ctx context.Context, path string) error {
	return tongban.Errorf(tongban.EInvalid, "PostgreSQL 请使用 tongban dump 或 pg_dump 备份", "use tongban dump or pg_dump for PostgreSQL")
}

// ---- helpers ----

type scanner interface{ Scan(dest ...any) error }

// collect scans every row with scan.
func collect[T any](rows pgx.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return tongban.ErrNotFound
	}
	return err
}

// PostgreSQL error codes the store maps to tongban errors.
const (
	codeUnique     = "23505"
	codeForeignKey = "23503"
)

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func isUnique(err error) bool     { return pgCode(err) == codeUnique }
func isForeignKey(err error) bool { return pgCode(err) == codeForeignKey }

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := t.UnixMicro()
	return &v
}

func ptrMicros(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMicros(*v)
	return &t
}
