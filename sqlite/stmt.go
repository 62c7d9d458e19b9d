package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// SQLite parses every statement it is given; with database/sql and no
// prepared statements, parsing was a quarter of the time of a case-page
// read. stmtCache keeps one prepared statement per query text, bounded
// since list queries vary with their filters.
type stmtCache struct {
	mu     sync.RWMutex
	m      map[string]*sql.Stmt
	wanted map[string]bool // write statements to prepare between transactions
}

const maxCachedStmts = 512

func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[q]
}

// prepare adds a prepared statement for q unless the cache is full.
func (c *stmtCache) prepare(ctx context.Context, db *sql.DB, q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.m[q]; st != nil {
		return st
	}
	if len(c.m) >= maxCachedStmts {
		return nil
	}
	st, err := db.PrepareContext(ctx, q)
	if err != nil {
		return nil // the unprepared path reports the error
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[q] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// queryRow runs a one-row read through a cached prepared statement.
func (db *DB) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	st := db.readStmts.lookup(q)
	if st == nil {
		st = db.readStmts.prepare(ctx, db.read, q)
	}
	if st == nil {
		return db.read.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs a read through a cached prepared statement.
func (db *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st := db.readStmts.lookup(q)
	if st == nil {
		st = db.readStmts.prepare(ctx, db.read, q)
	}
	if st == nil {
		return db.read.QueryContext(ctx, q, args...)
	}
	return st.QueryContext(ctx, args...)
}

// execTx runs a write inside the writer's transaction. The single write
// connection is busy inside a transaction, so a statement seen for the
// first time runs unprepared and is prepared by the writer before its next
// transaction (preparingWrites).
func (db *DB) execTx(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st := db.writeStmts.lookup(q); st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	db.writeStmts.mu.Lock()
	if db.writeStmts.wanted == nil {
		db.writeStmts.wanted = map[string]bool{}
	}
	if len(db.writeStmts.wanted) < maxCachedStmts {
		db.writeStmts.wanted[q] = true
	}
	db.writeStmts.mu.Unlock()
	return tx.ExecContext(ctx, q, args...)
}

// prepareWanted prepares the write statements seen since the last call;
// the writer calls it while no transaction holds the connection.
func (db *DB) prepareWanted() {
	db.writeStmts.mu.Lock()
	wanted := db.writeStmts.wanted
	db.writeStmts.wanted = nil
	db.writeStmts.mu.Unlock()
	for q := range wanted {
		db.writeStmts.prepare(context.Background(), db.write, q)
	}
}
