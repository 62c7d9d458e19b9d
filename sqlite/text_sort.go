package sqlite

import (
	"context"
	"database/sql"
	"math"
	"strings"

	"github.com/tongban/tongban"
)

// Full-text search with an explicit sort (sort=received, -received,
// deadline, -updated). Joining every match to cases to sort them is what
// costs — a common word matches tens of thousands of cases over a million,
// about 4 µs each — while finding the matches in the FTS index is cheap
// (well under 1 µs each). So when the matches are many, the sort is read
// from the index of cases in that order instead (sortIndex: cases_received;
// cases_updated and cases_deadline, migration 0008), stopping after
// offset+limit (k) hits. Three plans:
//
//   - window: the first entries of the sort's index, about
//     k·cases/matches times a margin, are taken as a window; the matches
//     among them are found with an FTS query restricted to the window's
//     id range — narrow, since ids follow filing, and receipt, updates
//     and deadlines follow filing within weeks, but correct whatever the
//     order — tested against the other filters, if any, and sorted. A
//     window with fewer than k hits is widened fourfold and the query
//     repeated. With other filters the number of matches passing them is
//     not known: the window starts small, and past the width that should
//     have held k hits the walk takes over.
//   - walk: the matches are listed once ("id IN (SELECT rowid …)", which
//     SQLite builds in memory with a Bloom filter) and the sort's index is
//     walked in order (cases_category, when a category is chosen, for
//     received / -received), each entry tested against the list before its
//     row is read.
//   - join: the matches are joined to cases and sorted, reading ids only
//     — with few matches.
//
// Either way the page's cases are then read by id. All plans give the same
// pages (TestSearchSortedPlansAgree); the choice is by estimated cost.

// planKey in a context forces a plan (tests): "window", "walk" or "join";
// "narrow" is a window that starts with one case.
type planKey struct{}

// Estimated costs in µs (measured on 1,000,000 cases): a match joined to
// its case, a match put in the in-memory list, an index entry walked with
// the test, an index entry put in a window.
const (
	costJoin   = 4.0
	costList   = 0.5
	costWalk   = 1.5
	costWindow = 0.9
)

// windowWide is the margin of a window: it should hold this many times k
// hits, so that it rarely needs widening — more for a short page, where
// the hits in a window vary more.
func windowWide(k int) float64 { return 1.25 + 12/math.Sqrt(float64(k)) }

// sortIndex is the index of cases in the order of sort, and the columns
// of it the order names.
func sortIndex(sort string) (index, cols string) {
	switch sort {
	case "received", "-received":
		return "cases_received", "received_at"
	case "-updated":
		return "cases_updated", "updated_at"
	default:
		return "cases_deadline", "status, deadline"
	}
}

// sortedPlan chooses how to page through the matches in sort order. total
// is the count ListCases found: exact without other filters, else at most
// MaxSearchTotal — at the cap, at least that many cases pass every filter.
func (db *DB) sortedPlan(ctx context.Context, f tongban.CaseFilter, filtered bool, total, k int) (string, int64, error) {
	received := f.Sort == "received" || f.Sort == "-received"
	var cases sql.NullInt64
	if err := db.queryRow(ctx, `SELECT max(id) FROM cases`).Scan(&cases); err != nil {
		return "", 0, err
	}
	n := cases.Int64
	if p, ok := ctx.Value(planKey{}).(string); ok {
		if p == "narrow" {
			p = "window" // starting with a window of one case
		}
		return p, n, nil
	}
	if filtered {
		switch {
		case total < tongban.MaxSearchTotal:
			return "join", n, nil
		case received && f.Category != "":
			return "walk", n, nil // the category's cases in order
		}
		return "window", n, nil
	}
	m, kn := float64(total), float64(k)*float64(n)
	join, walk, window := costJoin*m, costList*m+costWalk*kn/m, costWindow*windowWide(k)*kn/m
	switch {
	case window <= walk && window <= join:
		return "window", n, nil
	case walk <= join:
		return "walk", n, nil
	}
	return "join", n, nil
}

// listSearchSorted fills page.Cases for a full-text search f with an
// explicit sort; page.Total is already counted.
func (db *DB) listSearchSorted(ctx context.Context, f tongban.CaseFilter, limit int, page *tongban.CasePage) error {
	_, match := searchQuery(f.Query)
	w, args := where(f)
	conds := strings.TrimPrefix(w, " WHERE ")
	offset := max(f.Offset, 0)
	if page.Total == 0 || offset >= page.Total && (w == "" || page.Total < tongban.MaxSearchTotal) {
		return nil // nothing matches, or the page is past the end
	}
	plan, cases, err := db.sortedPlan(ctx, f, w != "", page.Total, offset+limit)
	if err != nil {
		return err
	}
	var ids []int64
	switch plan {
	case "window":
		var ok bool
		ids, ok, err = db.windowSorted(ctx, f.Sort, match, conds, args, page.Total, offset, limit, cases)
		if err == nil && !ok {
			ids, err = db.walkSorted(ctx, f, match, conds, args, offset, limit)
		}
	case "walk":
		ids, err = db.walkSorted(ctx, f, match, conds, args, offset, limit)
	default:
		ids, err = db.joinSorted(ctx, f.Sort, match, conds, args, offset, limit)
	}
	if err != nil {
		return err
	}
	page.Cases, err = db.casesByID(ctx, ids)
	return err
}

// walkSorted walks the sort's index, testing each entry against the
// matches listed in memory.
func (db *DB) walkSorted(ctx context.Context, f tongban.CaseFilter, match, conds string, args []any, offset, limit int) ([]int64, error) {
	idx, _ := sortIndex(f.Sort)
	if f.Category != "" && (f.Sort == "received" || f.Sort == "-received") {
		idx = "cases_category" // (category, received_at): the category's cases in order
	}
	q := `SELECT id FROM cases INDEXED BY ` + idx + ` WHERE id IN (SELECT rowid FROM case_fts WHERE case_fts MATCH ?)`
	if conds != "" {
		q += ` AND ` + conds
	}
	return db.queryIDs(ctx, q+orderBy(f.Sort)+` LIMIT ? OFFSET ?`, append(append([]any{match}, args...), limit, offset)...)
}

// joinSorted joins the matches to cases and sorts them.
func (db *DB) joinSorted(ctx context.Context, sort, match, conds string, args []any, offset, limit int) ([]int64, error) {
	q := `SELECT cases.id FROM case_fts JOIN cases ON cases.id = case_fts.rowid WHERE case_fts MATCH ?`
	if conds != "" {
		q += ` AND ` + conds
	}
	return db.queryIDs(ctx, q+orderBy(sort)+` LIMIT ? OFFSET ?`, append(append([]any{match}, args...), limit, offset)...)
}

// windowSorted pages through the matches in sort order through windows of
// the sort's index (see above). ok is false when a filtered search's
// window grew past the width that should have held the page: the walk is
// left to find it.
func (db *DB) windowSorted(ctx context.Context, sort, match, conds string, args []any, total, offset, limit int, cases int64) (ids []int64, ok bool, err error) {
	idx, cols := sortIndex(sort)
	order := orderBy(sort)
	q := `WITH w AS MATERIALIZED (SELECT id, ` + cols + ` FROM cases INDEXED BY ` + idx + order + ` LIMIT ?)
		SELECT id FROM w WHERE id IN (SELECT rowid FROM case_fts WHERE case_fts MATCH ? AND rowid BETWEEN (SELECT min(id) FROM w) AND (SELECT max(id) FROM w))`
	if conds != "" {
		// The filters' columns name the case's row (the innermost scope).
		q += ` AND EXISTS (SELECT 1 FROM cases c WHERE c.id = w.id AND ` + conds + `)`
	}
	q += order + ` LIMIT ? OFFSET ?`
	k := offset + limit
	// Rows on this page when the window holds enough: a filtered total is
	// at least MaxSearchTotal, not the number passing the filters.
	want := min(limit, total-offset)
	var width, most int64
	if conds == "" {
		width = max(256, int64(windowWide(k)*float64(k)*float64(cases)/float64(total)))
	} else {
		want = limit
		width = max(256, 16*int64(k))
		// At least MaxSearchTotal pass every filter: spread evenly, this
		// many entries would hold the page several times over.
		most = max(width, int64(windowWide(k)*float64(k)*float64(cases)/tongban.MaxSearchTotal))
	}
	if ctx.Value(planKey{}) == "narrow" {
		width = 1 // tests: widen from one case
	}
	for {
		ids, err := db.queryIDs(ctx, q, append(append([]any{width, match}, args...), limit, offset)...)
		if err != nil || len(ids) >= want || width >= cases {
			return ids, true, err
		}
		if most > 0 && width >= most {
			return nil, false, nil
		}
		width *= 4 // fewer than k hits among the window's cases: widen it
	}
}

// queryIDs runs a query returning case ids.
func (db *DB) queryIDs(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// casesByID reads cases in the order of ids (a page: at most 500).
func (db *DB) casesByID(ctx context.Context, ids []int64) ([]*tongban.Case, error) {
	out := make([]*tongban.Case, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	// As many placeholders as the next power of two (padded with id 0,
	// which no case has), so that few statements are prepared.
	n := 8
	for n < len(ids) {
		n *= 2
	}
	args := make([]any, n)
	for i := range args {
		args[i] = int64(0)
	}
	for i, id := range ids {
		args[i] = id
	}
	rows, err := db.query(ctx, `SELECT `+caseCols+` FROM cases WHERE id IN (`+placeholders(n)+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byID := make(map[int64]*tongban.Case, len(ids))
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		byID[c.ID] = c
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, id := range ids {
		if c := byID[id]; c != nil { // deleted in between: left out
			out = append(out, c)
		}
	}
	return out, nil
}
