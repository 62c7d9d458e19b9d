package postgres

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/tongban/tongban"
)

// Full-text search over many cases (docs/TEXT.md, "Search on
// PostgreSQL"). A search lists the ids of up to tongban.MaxSearchTotal
// matches first — their number is the total — and then reads one page of
// cases. The matches are found one of two ways, chosen by the planner's
// estimates (EXPLAIN, one round trip):
//
//   - walk: newest first along the primary key, testing each row, until
//     MaxSearchTotal match. Costs MaxSearchTotal/density rows: cheap for
//     a common word (10% of cases match: 10,000 rows).
//   - bitmap: the GIN index lists every match (about a quarter of a row's
//     cost each) and the first MaxSearchTotal are read. Cheap for a rarer
//     word; the planner's own choice for a common one, since its model
//     does not count the GIN index's work per match.
//
// A walk stops after twice the rows it should need, so a wrong estimate
// (words that are each common but rarely together) costs a bounded walk
// before the bitmap. When fewer than MaxSearchTotal match, the page is
// ranked or sorted among those ids only; when the walk found the newest
// MaxSearchTotal, a page in the default order (newest first) is a slice
// of them; otherwise a page is walked along the index in its order
// (migration 0008 added those of the deadline and updated orders),
// bounded by the density of the matches found, unless listing and
// sorting every match should cost less.

// searchEstimate is what the planner expects: rows in cases, matches of
// the text query alone and with the other filters.
type searchEstimate struct {
	rows, text, all float64
	force           string // tests: "walk" or "list" a page
}

// planRows is the top node's row estimate of EXPLAIN (FORMAT JSON).
func planRows(j []byte) float64 {
	var p []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		}
	}
	if json.Unmarshal(j, &p) != nil || len(p) == 0 {
		return 1
	}
	return max(p[0].Plan.Rows, 1)
}

func (db *DB) estimateSearch(ctx context.Context, w *filter) (searchEstimate, error) {
	var rows, text, all []byte
	b := &pgx.Batch{}
	b.Queue(`EXPLAIN (FORMAT JSON) SELECT 1 FROM cases`).QueryRow(func(r pgx.Row) error { return r.Scan(&rows) })
	b.Queue(`EXPLAIN (FORMAT JSON) SELECT 1 FROM cases WHERE search_tsv @@ to_tsquery('simple', $1)`, w.tsqText).
		QueryRow(func(r pgx.Row) error { return r.Scan(&text) })
	if len(w.conds) > 1 {
		b.Queue(`EXPLAIN (FORMAT JSON) SELECT 1 FROM cases`+w.sql(), w.args...).QueryRow(func(r pgx.Row) error { return r.Scan(&all) })
	}
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return searchEstimate{}, err
	}
	e := searchEstimate{rows: planRows(rows), text: planRows(text)}
	e.all = e.text
	if all != nil {
		e.all = min(planRows(all), e.text)
	}
	return e, nil
}

// walkRows is the number of rows a walk should need to meet n matches.
func (e searchEstimate) walkRows(n int) float64 {
	return float64(n) * e.rows / max(e.all, 1)
}

// useWalk tells whether walking for MaxSearchTotal matches should cost
// less than the bitmap: a listed match costs about a quarter of a walked
// row, a read match (at most MaxSearchTotal) one and a half.
func (e searchEstimate) useWalk() bool {
	return e.walkRows(tongban.MaxSearchTotal) < e.text/4+1.5*min(e.all, tongban.MaxSearchTotal)
}

// with returns a copy of w with further parameters.
func (w *filter) with(vs ...any) (*filter, []string) {
	c := *w
	c.args = slices.Clone(w.args)
	ps := make([]string, len(vs))
	for i, v := range vs {
		ps[i] = c.arg(v)
	}
	return &c, ps
}

// walkCols are the columns a walk tests and orders by: every column
// where() and orderBy() name. A walk reads these rather than whole rows.
const walkCols = `id, kind, status, step, type, category, channel, lead, first, co, assignee, pending,
	received_at, updated_at, deadline, tracking_code, search_tsv`

// query runs a search statement planned for its parameters (a prepared
// statement's generic plan does not know how common the words are) and
// with JIT compilation off (sorting every match of a common word costs
// the planner past jit_above_cost, and compiling took longer, 90 ms, than
// it saved). The settings are local to the round trip's transaction.
func (db *DB) query(ctx context.Context, q string, args []any, fn func(pgx.Rows) error) error {
	b := &pgx.Batch{}
	b.Queue(`SELECT set_config('jit', 'off', true), set_config('plan_cache_mode', 'force_custom_plan', true)`)
	b.Queue(q, args...).Query(func(rows pgx.Rows) error {
		defer rows.Close()
		if err := fn(rows); err != nil {
			return err
		}
		return rows.Err()
	})
	return db.pool.SendBatch(ctx, b).Close()
}

// queryIDs runs a search statement listing ids.
func (db *DB) queryIDs(ctx context.Context, q string, args []any) ([]int64, error) {
	var ids []int64
	err := db.query(ctx, q, args, func(rows pgx.Rows) error {
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	return ids, err
}

// walkIDs walks cases in the given order, at most m rows, and lists the
// ids of those matching w, from offset off, at most limit. The
// subquery's LIMIT keeps the conditions out of it: a plain index scan,
// each row tested above it.
func (db *DB) walkIDs(ctx context.Context, w *filter, order string, m float64, limit, off int) ([]int64, error) {
	wm, p := w.with(int64(math.Ceil(m)), limit, off)
	return db.queryIDs(ctx, `SELECT id FROM (SELECT `+walkCols+` FROM cases`+order+` LIMIT `+p[0]+`) c`+wm.sql()+order+` LIMIT `+p[1]+` OFFSET `+p[2], wm.args)
}

// matchIDs lists the ids of up to tongban.MaxSearchTotal cases matching
// w, a filter with a text query: newest first if newest is set, else in
// no order.
func (db *DB) matchIDs(ctx context.Context, w *filter, e searchEstimate) (ids []int64, newest bool, err error) {
	const most = tongban.MaxSearchTotal
	if e.useWalk() {
		ids, err := db.walkIDs(ctx, w, ` ORDER BY id DESC`, 2*e.walkRows(most), most, 0)
		if err != nil || len(ids) == most {
			return ids, true, err
		}
		// Fewer than expected near the top: perhaps fewer overall.
	}
	from := ` FROM cases`
	if e.all >= e.text/10 {
		// The other filters pass many of the matches: they are tested on
		// the matches the GIN index lists (OFFSET 0 keeps them out of the
		// subquery), not intersected with their own index's bitmap, which
		// for status = 'open' lists two thirds of the table (190 ms).
		from = ` FROM (SELECT ` + walkCols + ` FROM cases WHERE search_tsv @@ to_tsquery('simple', ` + w.tsq + `) OFFSET 0) c`
	}
	ids, err = db.queryIDs(ctx, `SELECT id`+from+w.sql()+` LIMIT `+strconv.Itoa(most), w.args)
	return ids, false, err
}

// searchCases is ListCases with a text query (w.tsq set).
func (db *DB) searchCases(ctx context.Context, f tongban.CaseFilter, w *filter, limit int) (*tongban.CasePage, error) {
	e, err := db.estimateSearch(ctx, w)
	if err != nil {
		return nil, err
	}
	return db.searchWith(ctx, f, w, limit, e)
}

// searchWith is searchCases with the given estimate (tests force each
// way with it: the results must not depend on it).
func (db *DB) searchWith(ctx context.Context, f tongban.CaseFilter, w *filter, limit int, e searchEstimate) (*tongban.CasePage, error) {
	ids, newest, err := db.matchIDs(ctx, w, e)
	if err != nil {
		return nil, err
	}
	off := max(f.Offset, 0)
	page := &tongban.CasePage{Total: len(ids), Cases: []*tongban.Case{}}
	read := func(q string, args []any) error {
		return db.query(ctx, `SELECT `+caseCols+q, args, func(rows pgx.Rows) error {
			for rows.Next() {
				c, err := scanCase(rows)
				if err != nil {
					return err
				}
				page.Cases = append(page.Cases, c)
			}
			return nil
		})
	}
	// byIDs reads a page among the given ids, testing the conditions
	// again (a case may have changed since); OFFSET 0 keeps them out of
	// the subquery, which reads the ids by primary key.
	byIDs := func(ids []int64, order string, lim, off int) error {
		wi, p := w.with(ids, lim, off)
		return read(` FROM (SELECT * FROM cases WHERE id = ANY(`+p[0]+`) OFFSET 0) c`+wi.sql()+order+` LIMIT `+p[1]+` OFFSET `+p[2], wi.args)
	}
	switch {
	case len(ids) == 0 || off >= len(ids) && len(ids) < tongban.MaxSearchTotal:
		return page, nil
	case len(ids) < tongban.MaxSearchTotal:
		// Every match is known: rank or sort them.
		order := orderBy(f.Sort)
		if f.Sort == "" {
			order = ` ORDER BY ts_rank_cd(search_tsv, to_tsquery('simple', ` + w.tsq + `)) DESC, id DESC`
		}
		return page, byIDs(ids, order, limit, off)
	case newest && f.Sort == "" && off < len(ids):
		// The newest MaxSearchTotal matches, in order.
		return page, byIDs(ids[off:min(off+limit, len(ids))], ` ORDER BY id DESC`, limit, 0)
	}
	// At least MaxSearchTotal match, in an order not at hand. Every order
	// has an index (the primary key, cases_received, and cases_updated and
	// cases_deadline of migration 0008): walk it for at most twice the
	// rows that should hold the page, when the rows it should need cost
	// less than listing every match from the GIN index and sorting them;
	// if not, or if the walk falls short, the planner's way.
	order := orderBy(f.Sort)
	if f.Sort == "" {
		order = ` ORDER BY id DESC`
	}
	rpm := rowsPerMatch(ids, e)
	need := float64(off+limit) * rpm // rows the page should need; the walk stops there
	if m := 2 * need; e.force == "walk" || e.force == "" && m < e.rows && need*costWalkRow < max(e.text, e.rows/rpm)*costListMatch {
		ids, err := db.walkIDs(ctx, w, order, m, limit, off)
		if err != nil || len(ids) == limit {
			if err == nil {
				err = byIDs(ids, order, limit, 0)
			}
			return page, err
		}
	}
	if e.force == "" {
		wp, p := w.with(limit, off)
		return page, read(` FROM cases`+wp.sql()+order+` LIMIT `+p[0]+` OFFSET `+p[1], wp.args)
	}
	// Tests: every match listed from the GIN index and sorted.
	ids, err = db.queryIDs(ctx, `SELECT id FROM (SELECT `+walkCols+` FROM cases WHERE search_tsv @@ to_tsquery('simple', `+w.tsq+`) OFFSET 0) c`+w.sql()+order+` LIMIT `+strconv.Itoa(off+limit), w.args)
	if err != nil {
		return page, err
	}
	return page, byIDs(ids[min(off, len(ids)):], order, limit, 0)
}

// Costs in walked rows: a row read along an index and tested (1.3–2.6 µs
// on 1,000,000 cases), and a match listed from the GIN index, its row
// read and sorted (4–4.5 µs: the rows are scattered, and a common word's
// bitmap turns lossy in 4 MB of work_mem).
const (
	costWalkRow   = 1.0
	costListMatch = 2.5
)

// rowsPerMatch estimates how many cases there are for each one matching
// every filter. From the MaxSearchTotal matches found, it is the span of
// their ids over their number: a walk took the newest ones, the GIN index
// the first in the table's order; either way ids are spread as the cases
// are. Else (fewer found) the planner's estimate.
func rowsPerMatch(ids []int64, e searchEstimate) float64 {
	if len(ids) >= tongban.MaxSearchTotal {
		lo, hi := slices.Min(ids), slices.Max(ids)
		return max(1, float64(hi-lo+1)/float64(len(ids)))
	}
	return e.rows / max(e.all, tongban.MaxSearchTotal)
}

// countSearch is CountCases with a text query: at most
// tongban.MaxSearchTotal.
func (db *DB) countSearch(ctx context.Context, w *filter) (int, error) {
	e, err := db.estimateSearch(ctx, w)
	if err != nil {
		return 0, err
	}
	ids, _, err := db.matchIDs(ctx, w, e)
	return len(ids), err
}
