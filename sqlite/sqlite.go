// Package sqlite is the embedded store: one SQLite file in WAL mode through
// modernc.org/sqlite (pure Go, so the binary stays static).
//
// All writes go through one writer goroutine that commits whatever writes
// are waiting in one transaction (group commit), each in its own savepoint
// so one failing write does not fail its neighbours. A write returns only
// after its commit is on disk (synchronous=FULL), so an acknowledged case
// survives kill -9 and power loss while throughput stays high.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tongban/tongban"
	_ "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the SQLite store. It implements tongban.Store.
type DB struct {
	path   string
	write  *sql.DB // exactly one connection, owned by the writer goroutine
	read   *sql.DB
	queue  chan *writeOp
	closed chan struct{}
	wg     sync.WaitGroup

	rateMu sync.Mutex
	rates  map[string]rateWindow

	readStmts, writeStmts stmtCache

	caseID   int64          // last case id handed out; writer goroutine only
	deferred deferredWrites // writes made once per commit; writer goroutine only
	cases    caseCache
}

// touch records, inside a write, that the case's row changes: every write
// to a column of a case must call it, or the case cache serves the old row.
func (db *DB) touch(id int64) {
	db.deferred.touched = append(db.deferred.touched, id)
}

type rateWindow struct {
	start time.Time
	count int
}

type writeOp struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
}

var _ tongban.Store = (*DB)(nil)

// maxBatch bounds one group commit so a flood cannot starve readers of
// checkpoints or make one commit arbitrarily long.
const maxBatch = 512

// Open opens (creating if needed) the database file at path and applies
// migrations.
func Open(path string) (*DB, error) {
	dsn := func(extra string) string {
		q := url.Values{}
		for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)", "cache_size(-16000)"} {
			q.Add("_pragma", p)
		}
		if extra != "" {
			q.Set("_txlock", extra)
		}
		return "file:" + path + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn("immediate"))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.Ping(); err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db := &DB{path: path, write: w, queue: make(chan *writeOp, 4096), closed: make(chan struct{}), rates: map[string]rateWindow{}}
	if err := db.migrate(); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(""))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	db.read = r
	db.wg.Add(1)
	go db.writer()
	db.rebuildInBackground()
	return db, nil
}

// Migrate applies pending migrations to the file at path and closes it.
func Migrate(path string) error {
	db, err := Open(path)
	if err != nil {
		return err
	}
	return db.Close()
}

func (db *DB) migrate() error {
	ctx := context.Background()
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			tx.Rollback()
			return err
		}
		if n > 0 {
			tx.Rollback()
			continue
		}
		body, _ := migrations.ReadFile(name)
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", version, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, time.Now().UnixMicro()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Close stops the writer after the queued writes and closes the database.
func (db *DB) Close() error {
	select {
	case <-db.closed:
		return nil
	default:
	}
	close(db.closed)
	db.wg.Wait()
	db.readStmts.close()
	db.writeStmts.close()
	var errs []error
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	errs = append(errs, db.write.Close())
	return errors.Join(errs...)
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.read.PingContext(ctx) }

// Backup writes a consistent copy of the live database with VACUUM INTO,
// which reads one snapshot while writers go on.
func (db *DB) Backup(ctx context.Context, path string) error {
	_, err := db.read.ExecContext(ctx, `VACUUM INTO ?`, path)
	return err
}

// exec queues fn to run inside the next group-commit transaction and waits
// until that transaction is durable (or fn failed).
func (db *DB) exec(ctx context.Context, fn func(tx *sql.Tx) error) error {
	op := &writeOp{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.queue <- op:
	case <-db.closed:
		return tongban.Errorf(tongban.EUnavailable, "服务正在关闭", "the store is closing")
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, wait for the outcome even if ctx ends: the write may
	// already be committed, and the caller must not believe otherwise.
	return <-op.done
}

func (db *DB) writer() {
	defer db.wg.Done()
	batch := make([]*writeOp, 0, maxBatch)
	for {
		var first *writeOp
		select {
		case first = <-db.queue:
		case <-db.closed:
			// Drain what was queued before Close.
			for {
				select {
				case op := <-db.queue:
					db.commit([]*writeOp{op})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxBatch {
			select {
			case op := <-db.queue:
				batch = append(batch, op)
			default:
				break fill
			}
		}
		db.commit(batch)
	}
}

func (db *DB) commit(batch []*writeOp) {
	ctx := context.Background()
	db.prepareWanted()
	results := make([]error, len(batch))
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		for _, op := range batch {
			op.done <- err
		}
		return
	}
	single := len(batch) == 1
	for i, op := range batch {
		if op.ctx.Err() != nil {
			results[i] = op.ctx.Err()
			continue
		}
		if single {
			results[i] = op.fn(tx)
		} else {
			results[i] = db.runInSavepoint(ctx, tx, op)
		}
		if results[i] == nil {
			db.deferred.keep()
		} else {
			db.deferred.drop()
		}
	}
	fail := func(err error, ops []*writeOp) {
		tx.Rollback()
		db.cases.mark(db.deferred.touched, false)
		db.deferred.touched = db.deferred.touched[:0]
		db.deferred.reset()
		db.caseID = 0
		for _, op := range ops {
			op.done <- err
		}
	}
	if single && results[0] != nil {
		fail(results[0], batch)
		return
	}
	if err := db.flushDeferred(ctx, tx); err != nil {
		fail(err, batch)
		return
	}
	db.cases.mark(db.deferred.touched, true)
	err = tx.Commit()
	db.cases.mark(db.deferred.touched, false)
	db.deferred.touched = db.deferred.touched[:0]
	if err != nil {
		fail(err, batch)
		return
	}
	for i, op := range batch {
		op.done <- results[i]
	}
}

// runInSavepoint runs one write of a batch so that its failure undoes
// only its own changes.
func (db *DB) runInSavepoint(ctx context.Context, tx *sql.Tx, op *writeOp) error {
	if _, err := db.execTx(ctx, tx, `SAVEPOINT op`); err != nil {
		return err
	}
	err := op.fn(tx)
	if err != nil {
		if _, rerr := db.execTx(ctx, tx, `ROLLBACK TO op`); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	if _, rerr := db.execTx(ctx, tx, `RELEASE op`); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// isUnique reports a UNIQUE or PRIMARY KEY constraint violation.
func isUnique(err error) bool {
	var se interface{ Code() int }
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func isForeignKey(err error) bool {
	var se interface{ Code() int }
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func ptrMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
