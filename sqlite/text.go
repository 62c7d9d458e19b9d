package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/textproc"
)

// Full-text search and duplicate signatures (migration 0004): case_fts is
// a contentless FTS5 table over textproc.IndexText of title, body, reply
// and address (rowid = case id); cases.text_sig the MinHash signature.
// Both are written in the transaction that writes the case.

// ftsRank weights title matches above address, body and reply ones.
const ftsRank = `bm25(case_fts, 8.0, 1.0, 1.0, 2.0)`

// searchOrder is the order of search results without an explicit sort:
// by relevance (bm25) when fewer than tongban.MaxSearchTotal match, else
// newest first, which needs no score for every match.
func searchOrder(total int) string {
	if total < tongban.MaxSearchTotal {
		return ` ORDER BY ` + ftsRank + `, cases.id DESC`
	}
	return ` ORDER BY case_fts.rowid DESC`
}

// indexText (re)writes a case's index row and signature inside tx.
func (db *DB) indexText(ctx context.Context, tx *sql.Tx, id int64, title, body, reply, address string) error {
	txt := segmentCase(title, body, reply, address, nil)
	db.indexFTS(id, txt)
	_, err := db.execTx(ctx, tx, `UPDATE cases SET text_sig=? WHERE id=?`, txt.sig, id)
	return err
}

// caseText is a case's text as indexed: each field segmented for FTS5,
// and the near-duplicate signature.
type caseText struct {
	title, body, reply, address string
	sig                         []byte
}

// segmentCase prepares a case's text for indexing, with sig as its
// signature when it is one (Case.TextSig). A new case's text is prepared
// by the caller, outside the writer goroutine.
func segmentCase(title, body, reply, address string, sig []byte) caseText {
	if _, ok := textproc.SignatureFromBytes(sig); !ok {
		s := textproc.SignCase(title, body)
		sig = s.Bytes()
	}
	return caseText{textproc.IndexText(title), textproc.IndexText(body), textproc.IndexText(reply), textproc.IndexText(address), sig}
}

// indexFTS defers the full-text entry to the end of the group commit
// (deferredWrites).
func (db *DB) indexFTS(id int64, txt caseText) {
	db.deferred.opText = append(db.deferred.opText, ftsEntry{id, txt})
}

// textChanged reports, before c is written, whether its indexed text
// differs from the stored one (or the stored case is not indexed).
func textChanged(ctx context.Context, tx *sql.Tx, c *tongban.Case) (bool, error) {
	var title, body, reply, address string
	var unindexed bool
	err := tx.QueryRowContext(ctx, `SELECT title, body, reply, address, text_sig IS NULL FROM cases WHERE id=?`, c.ID).
		Scan(&title, &body, &reply, &address, &unindexed)
	if err == sql.ErrNoRows {
		return false, nil // the update will report the conflict
	}
	if err != nil {
		return false, err
	}
	return unindexed || title != c.Title || body != c.Body || reply != c.Reply || address != c.Address, nil
}

// RebuildText indexes the cases without a signature, in batches of 500
// per transaction.
func (db *DB) RebuildText(ctx context.Context) (int, error) {
	type row struct {
		id                          int64
		title, body, reply, address string
	}
	n := 0
	var after int64
	for {
		rows, err := db.read.QueryContext(ctx, `SELECT id, title, body, reply, address FROM cases WHERE text_sig IS NULL AND id > ? ORDER BY id LIMIT 500`, after)
		if err != nil {
			return n, err
		}
		var batch []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.title, &r.body, &r.reply, &r.address); err != nil {
				rows.Close()
				return n, err
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return n, err
		}
		if len(batch) == 0 {
			return n, nil
		}
		after = batch[len(batch)-1].id
		err = db.exec(ctx, func(tx *sql.Tx) error {
			for _, r := range batch {
				if err := db.indexText(ctx, tx, r.id, r.title, r.body, r.reply, r.address); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		n += len(batch)
	}
}

// rebuildInBackground indexes unindexed cases after Open without delaying
// it; Close stops it.
func (db *DB) rebuildInBackground() {
	var one int
	if err := db.read.QueryRow(`SELECT 1 FROM cases WHERE text_sig IS NULL LIMIT 1`).Scan(&one); err != nil {
		return // nothing to do (or the error shows again on use)
	}
	ctx, cancel := context.WithCancel(context.Background())
	db.wg.Add(1)
	go func() {
		defer db.wg.Done()
		go func() {
			<-db.closed
			cancel()
		}()
		_, _ = db.RebuildText(ctx)
		cancel()
	}()
}

// ScanTexts calls fn for the cases f selects, in ID order.
func (db *DB) ScanTexts(ctx context.Context, f tongban.TextScan, fn func(*tongban.CaseText) error) error {
	var conds []string
	var args []any
	add := func(c string, a ...any) { conds = append(conds, c); args = append(args, a...) }
	// Walk the primary key from AfterID ("+col" keeps the planner off
	// other indexes, which would sort every match for each page).
	add("id > ?", f.AfterID)
	if f.EventTo > 0 {
		add("id IN (SELECT case_id FROM events WHERE id > ? AND id <= ?)", f.EventAfter, f.EventTo)
	}
	if f.Kind != "" {
		add("+kind = ?", f.Kind)
	}
	if f.Status != "" {
		add("+status = ?", f.Status)
	}
	if !f.From.IsZero() {
		add("+received_at >= ?", micros(f.From))
	}
	if !f.To.IsZero() {
		add("+received_at < ?", micros(f.To))
	}
	body := `'', ''`
	if f.WithBody {
		body = `body, reply`
	}
	q := `SELECT id, tracking_code, kind, status, step, category, lead, first, confidential, parent_id, title, ` + body +
		`, address, lat, long, req_phone, received_at, closed_at, text_sig FROM cases WHERE ` + strings.Join(conds, " AND ") + ` ORDER BY id`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var t tongban.CaseText
		var lat, long sql.NullFloat64
		var received int64
		var closed sql.NullInt64
		if err := rows.Scan(&t.ID, &t.TrackingCode, &t.Kind, &t.Status, &t.Step, &t.Category, &t.Lead, &t.First, &t.Confidential, &t.ParentID,
			&t.Title, &t.Body, &t.Reply, &t.Address, &lat, &long, &t.Phone, &received, &closed, &t.Sig); err != nil {
			return err
		}
		if lat.Valid && long.Valid {
			t.Lat, t.Long = &lat.Float64, &long.Float64
		}
		t.ReceivedAt, t.ClosedAt = fromMicros(received), ptrMicros(closed)
		if err := fn(&t); err != nil {
			return err
		}
	}
	return rows.Err()
}

// searchQuery turns a case filter's query into either a tracking code or
// an FTS5 MATCH expression; both empty when the query has no terms.
func searchQuery(q string) (code, match string) {
	q = strings.TrimSpace(q)
	if q == "" {
		return "", ""
	}
	if c, ok := tongban.NormalizeTrackingCode(q); ok {
		return c, ""
	}
	return "", textproc.FTS5Query(q)
}
