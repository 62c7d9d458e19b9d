package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/tongban/tongban"
	"github.com/tongban/tongban/textproc"
)

// Full-text search and duplicate signatures (migration 0004): search_tsv
// is a weighted tsvector over textproc.IndexText of title, address, body
// and reply; text_sig the MinHash signature. Both are written with the
// case.

// tsvExpr is the tsvector of four pre-segmented fields at parameters
// $p..$p+3: title, address, body, reply.
func tsvExpr(p int) string {
	n := func(i int) string { return "$" + strconv.Itoa(p+i) }
	return tsvOf(n(0), n(1), n(2), n(3))
}

// tsvOf is the tsvector of four pre-segmented fields given as SQL
// expressions: title (weight A), address (B), body (C), reply (D).
func tsvOf(title, address, body, reply string) string {
	return `setweight(to_tsvector('simple', ` + title + `), 'A') || setweight(to_tsvector('simple', ` + address +
		`), 'B') || setweight(to_tsvector('simple', ` + body + `), 'C') || setweight(to_tsvector('simple', ` + reply + `), 'D')`
}

// textArgs returns the parameters of tsvExpr followed by the signature.
func textArgs(c *tongban.Case) []any {
	sig := textproc.SignCase(c.Title, c.Body)
	return []any{textproc.IndexText(c.Title), textproc.IndexText(c.Address), textproc.IndexText(c.Body), textproc.IndexText(c.Reply), sig.Bytes()}
}

// ensureSearchIndex builds the search index of migration 0004 when it is
// missing: after a load (loadCases dropped it) or a load that failed part
// way. A database that has it pays one catalogue look-up.
func ensureSearchIndex(ctx context.Context, tx pgx.Tx) error {
	var missing bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('cases_search') IS NULL`).Scan(&missing); err != nil || !missing {
		return err
	}
	// Instances starting at once build it once (and not during a
	// migration).
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
		return err
	}
	// A GIN index builds faster the more of it fits in memory; never less
	// than the server's setting.
	if _, err := tx.Exec(ctx, `SELECT set_config('maintenance_work_mem', '256MB', true) WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes('256MB')`); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `CREATE INDEX IF NOT EXISTS cases_search ON cases USING gin (search_tsv)`)
	return err
}

// updateTextSQL is appended to updateCaseSQL's SET list: the text columns
// are rewritten only when title, body, reply or address change (in SET,
// a column names its old value) or the case is not indexed yet.
func updateTextSQL(first int) string {
	param := func(col string) string {
		for i, c := range caseColNames[2:] {
			if c == col {
				return "$" + strconv.Itoa(i+1)
			}
		}
		panic("no column " + col)
	}
	changed := `text_sig IS NULL OR title <> ` + param("title") + ` OR body <> ` + param("body") + ` OR reply <> ` + param("reply") + ` OR address <> ` + param("address")
	return `, search_tsv = CASE WHEN ` + changed + ` THEN ` + tsvExpr(first) + ` ELSE search_tsv END, text_sig = CASE WHEN ` + changed + ` THEN $` + strconv.Itoa(first+4) + ` ELSE text_sig END`
}

// RebuildText indexes the cases without a signature, 500 per transaction,
// after building the search index should it be missing.
func (db *DB) RebuildText(ctx context.Context) (int, error) {
	if err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error { return ensureSearchIndex(ctx, tx) }); err != nil {
		return 0, err
	}
	n := 0
	var after int64
	for {
		type row struct {
			id int64
			c  tongban.Case
		}
		rows, err := db.pool.Query(ctx, `SELECT id, title, body, reply, address FROM cases WHERE text_sig IS NULL AND id > $1 ORDER BY id LIMIT 500`, after)
		batch, err := collect(rows, err, func(s scanner) (row, error) {
			var r row
			err := s.Scan(&r.id, &r.c.Title, &r.c.Body, &r.c.Reply, &r.c.Address)
			return r, err
		})
		if err != nil || len(batch) == 0 {
			return n, err
		}
		after = batch[len(batch)-1].id
		b := &pgx.Batch{}
		for _, r := range batch {
			b.Queue(`UPDATE cases SET search_tsv = `+tsvExpr(1)+`, text_sig = $5 WHERE id = $6`, append(textArgs(&r.c), r.id)...)
		}
		if err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() }); err != nil {
			return n, err
		}
		n += len(batch)
	}
}

// ScanTexts calls fn for the cases f selects, in ID order.
func (db *DB) ScanTexts(ctx context.Context, f tongban.TextScan, fn func(*tongban.CaseText) error) error {
	w := &filter{}
	w.add("id > " + w.arg(f.AfterID))
	if f.EventTo > 0 {
		w.add("id IN (SELECT case_id FROM events WHERE id > " + w.arg(f.EventAfter) + " AND id <= " + w.arg(f.EventTo) + ")")
	}
	if f.Kind != "" {
		w.add("kind = " + w.arg(f.Kind))
	}
	if f.Status != "" {
		w.add("status = " + w.arg(f.Status))
	}
	if !f.From.IsZero() {
		w.add("received_at >= " + w.arg(micros(f.From)))
	}
	if !f.To.IsZero() {
		w.add("received_at < " + w.arg(micros(f.To)))
	}
	body := `'', ''`
	if f.WithBody {
		body = `body, reply`
	}
	q := `SELECT id, tracking_code, kind, status, step, category, lead, first, confidential, parent_id, title, ` + body +
		`, address, lat, long, req_phone, received_at, closed_at, text_sig FROM cases` + w.sql() + ` ORDER BY id`
	if f.Limit > 0 {
		q += ` LIMIT ` + w.arg(f.Limit)
	}
	rows, err := db.pool.Query(ctx, q, w.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var t tongban.CaseText
		var received int64
		var closed *int64
		if err := rows.Scan(&t.ID, &t.TrackingCode, &t.Kind, &t.Status, &t.Step, &t.Category, &t.Lead, &t.First, &t.Confidential, &t.ParentID,
			&t.Title, &t.Body, &t.Reply, &t.Address, &t.Lat, &t.Long, &t.Phone, &received, &closed, &t.Sig); err != nil {
			return err
		}
		if t.Lat == nil || t.Long == nil {
			t.Lat, t.Long = nil, nil
		}
		t.ReceivedAt, t.ClosedAt = fromMicros(received), ptrMicros(closed)
		if err := fn(&t); err != nil {
			return err
		}
	}
	return rows.Err()
}

// searchQuery turns a case filter's query into either a tracking code or
// a to_tsquery('simple', …) text; both empty when it has no terms.
func searchQuery(q string) (code, tsq string) {
	q = strings.TrimSpace(q)
	if q == "" {
		return "", ""
	}
	if c, ok := tongban.NormalizeTrackingCode(q); ok {
		return c, ""
	}
	return "", textproc.TSQuery(q)
}
