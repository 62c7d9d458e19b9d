package sqlite

import (
	"context"
	"database/sql"

	"github.com/tongban/tongban"
)

// deferredWrites holds the writes a group commit makes once, after all its
// operations, instead of once per operation:
//
//   - Scorecard deltas are summed, so each counter row is written once per
//     commit rather than once per case (every create touches a handful of
//     day and month rows).
//   - Full-text entries are inserted outside the per-operation savepoints:
//     FTS5 flushes its pending terms into a new segment at every savepoint,
//     so entries written inside them cost a segment (and later merges) each.
//
// An operation's share is held apart until it succeeds (keep) and dropped
// if it was rolled back to its savepoint (drop). It belongs to the writer
// goroutine.
type deferredWrites struct {
	opScores []tongban.ScoreDelta
	opText   []ftsEntry
	days     map[scoreKey]*tongban.ScoreCounts
	months   map[scoreKey]*tongban.ScoreCounts
	text     []ftsEntry
	// touched lists the cases written, to invalidate in the case cache
	// once the commit is done (whether or not their write succeeded).
	touched []int64
}

type scoreKey struct {
	dim, key string
	period   int
}

type ftsEntry struct {
	id  int64
	txt caseText
}

func (d *deferredWrites) keep() {
	if len(d.opScores) > 0 && d.days == nil {
		d.days, d.months = map[scoreKey]*tongban.ScoreCounts{}, map[scoreKey]*tongban.ScoreCounts{}
	}
	for i := range d.opScores {
		s := &d.opScores[i]
		addCounts(d.days, scoreKey{s.Dim, s.Key, s.Day}, &s.ScoreCounts)
		addCounts(d.months, scoreKey{s.Dim, s.Key, s.Day / 100}, &s.ScoreCounts)
	}
	d.text = append(d.text, d.opText...)
	d.drop()
}

func addCounts(m map[scoreKey]*tongban.ScoreCounts, k scoreKey, c *tongban.ScoreCounts) {
	sum := m[k]
	if sum == nil {
		sum = new(tongban.ScoreCounts)
		m[k] = sum
	}
	sum.Add(c)
}

func (d *deferredWrites) drop() {
	d.opScores = d.opScores[:0]
	d.opText = d.opText[:0]
}

func (d *deferredWrites) reset() {
	d.drop()
	clear(d.days)
	clear(d.months)
	clear(d.text) // let the texts be collected
	d.text = d.text[:0]
}

// flushDeferred writes what the batch deferred, inside its transaction,
// just before it commits. Entries go in the order they were made, so a
// case indexed twice in one batch ends with its latest text.
func (db *DB) flushDeferred(ctx context.Context, tx *sql.Tx) error {
	d := &db.deferred
	defer d.reset()
	for _, e := range d.text {
		if _, err := db.execTx(ctx, tx, `INSERT OR REPLACE INTO case_fts (rowid, t, b, r, a) VALUES (?,?,?,?,?)`, e.id,
			e.txt.title, e.txt.body, e.txt.reply, e.txt.address); err != nil {
			return err
		}
	}
	for k, c := range d.days {
		if _, err := db.execTx(ctx, tx, upsertScoreSQL, append([]any{k.dim, k.key, k.period}, c.Values()...)...); err != nil {
			return err
		}
	}
	for k, c := range d.months {
		if _, err := db.execTx(ctx, tx, upsertMonthSQL, append([]any{k.dim, k.key, k.period}, c.Values()...)...); err != nil {
			return err
		}
	}
	return nil
}
