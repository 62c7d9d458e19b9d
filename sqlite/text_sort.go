package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/tongban/tongban"
)

// Full-text search with an explicit sort (sort=received, -received,
// deadline, -updated). Joining every match to cases to sort them is what
// costs — a common word matches tens of thousands of cases over a million,
// about 4 µs each — while finding the matches in the FTS index is cheap
// (well under 1 µs each). So when the matches are many, the sort is read
// from an index of cases in that order instead, stopping after
// offset+limit (k) hits. Three plans:
//
//   - window (received / -received, no other filter): the k·4·cases/matches
//     newest (oldest) entries of cases_received, ordered by (received_at,
//     id), are taken as a window; the matches among them are found with an
//     FTS query restricted to the window's id range — narrow, since ids
//     follow filing and filing follows receipt, but correct whatever the
//     order — and sorted. A window with fewer than k matches (or all of
//     them) is widened fourfold and the query repeated.
//   - walk: the matches are listed once ("id IN (SELECT rowid …)", which
//     SQLite builds in memory with a Bloom filter) and an index is walked
//     in sort order, each entry tested against the list before its row is
//     read: cases_received (cases_category when a category is chosen) for
//     received / -received; for deadline (open before closed, then
//     deadline, then id) no index has that order, but cases_status_step
//     holds each (status, step) group in deadline order, so the matches go
//     into a temporary table once, each group is walked for its first k
//     matches and the groups merged.
//   - join: the matches are joined to cases and sorted — with few matches,
//     and for -updated (no index) — reading ids only.
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
	windowWide = 4 // a window holds about this many times k matches
)

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
		if p == "window" && (!received || filtered) {
			p = "walk"
		}
		if p == "walk" && !received && f.Sort != "deadline" {
			p = "join"
		}
		return p, n, nil
	}
	if !received && f.Sort != "deadline" {
		return "join", n, nil
	}
	if filtered {
		if total >= tongban.MaxSearchTotal {
			return "walk", n, nil
		}
		return "join", n, nil
	}
	m, kn := float64(total), float64(k)*float64(n)
	join, walk, window := costJoin*m, costList*m+costWalk*kn/m, costWindow*windowWide*kn/m
	switch {
	case received && window <= walk && window <= join:
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
	switch {
	case plan == "window":
		ids, err = db.windowReceived(ctx, f.Sort, match, page.Total, offset, limit, cases)
	case plan == "walk" && f.Sort == "deadline":
		ids, err = db.walkDeadline(ctx, f, match, conds, args, offset, limit)
	case plan == "walk":
		idx := "cases_received"
		if f.Category != "" {
			idx = "cases_category" // (category, received_at): the category's cases in order
		}
		q := `SELECT id FROM cases INDEXED BY ` + idx + ` WHERE id IN (SELECT rowid FROM case_fts WHERE case_fts MATCH ?)`
		if conds != "" {
			q += ` AND ` + conds
		}
		ids, err = db.queryIDs(ctx, q+orderBy(f.Sort)+` LIMIT ? OFFSET ?`, append(append([]any{match}, args...), limit, offset)...)
	default:
		ids, err = db.joinSorted(ctx, f.Sort, match, conds, args, offset, limit)
	}
	if err != nil {
		return err
	}
	page.Cases, err = db.casesByID(ctx, ids)
	return err
}

// joinSorted joins the matches to cases and sorts them.
func (db *DB) joinSorted(ctx context.Context, sort, match, conds string, args []any, offset, limit int) ([]int64, error) {
	q := `SELECT cases.id FROM case_fts JOIN cases ON cases.id = case_fts.rowid WHERE case_fts MATCH ?`
	if conds != "" {
		q += ` AND ` + conds
	}
	return db.queryIDs(ctx, q+orderBy(sort)+` LIMIT ? OFFSET ?`, append(append([]any{match}, args...), limit, offset)...)
}

// windowReceived pages through the matches of a search without other
// filters by time received, through windows of cases_received (see above).
func (db *DB) windowReceived(ctx context.Context, sort, match string, total, offset, limit int, cases int64) ([]int64, error) {
	dir := " DESC"
	if sort == "received" {
		dir = ""
	}
	order := ` ORDER BY received_at` + dir + `, id` + dir
	q := `WITH w AS MATERIALIZED (SELECT id, received_at FROM cases INDEXED BY cases_received` + order + ` LIMIT ?1)
		SELECT id FROM w WHERE id IN (SELECT rowid FROM case_fts WHERE case_fts MATCH ?2 AND rowid BETWEEN (SELECT min(id) FROM w) AND (SELECT max(id) FROM w))` +
		order + ` LIMIT ?3 OFFSET ?4`
	k := offset + limit
	want := min(limit, total-offset) // rows on this page when the window holds enough
	width := max(256, int64(float64(windowWide)*float64(k)*float64(cases)/float64(total)))
	if ctx.Value(planKey{}) == "narrow" {
		width = 1 // tests: widen from one case
	}
	for {
		ids, err := db.queryIDs(ctx, q, width, match, limit, offset)
		if err != nil || len(ids) >= want || width >= cases {
			return ids, err
		}
		width *= 4 // fewer than k matches among the window's cases: widen it
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

// maxSortGroups bounds the (status, step) groups merged for sort=deadline
// (SQLite allows 500 terms in a compound SELECT); with more, the matches
// are joined and sorted instead.
const maxSortGroups = 200

// walkDeadline pages through the matches in deadline order (open before
// closed, then deadline, then id) group by group, see above.
func (db *DB) walkDeadline(ctx context.Context, f tongban.CaseFilter, match, conds string, args []any, offset, limit int) ([]int64, error) {
	conn, err := db.read.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	groups, err := statusSteps(ctx, conn, f)
	if err != nil {
		return nil, err
	}
	if len(groups) == 0 {
		return nil, nil
	}
	if len(groups) > maxSortGroups {
		return db.joinSorted(ctx, f.Sort, match, conds, args, offset, limit)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS search_hits (id INTEGER PRIMARY KEY)`); err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `DELETE FROM temp.search_hits`); err != nil {
		return nil, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DELETE FROM temp.search_hits`) // emptied again before the next use anyway
	if _, err := conn.ExecContext(ctx, `INSERT INTO temp.search_hits SELECT rowid FROM case_fts WHERE case_fts MATCH ?`, match); err != nil {
		return nil, err
	}
	// "id IN temp.search_hits" is a lookup in the table's rowid b-tree.
	arm := `SELECT * FROM (SELECT id, status, deadline FROM cases INDEXED BY cases_status_step WHERE status = ? AND step = ? AND id IN temp.search_hits`
	if conds != "" {
		arm += ` AND ` + conds
	}
	arm += ` ORDER BY deadline, id LIMIT ?)`
	arms := make([]string, len(groups))
	var qargs []any
	for i, g := range groups {
		arms[i] = arm
		qargs = append(append(append(qargs, g[0], g[1]), args...), offset+limit)
	}
	q := `SELECT id FROM (` + strings.Join(arms, ` UNION ALL `) + `) ORDER BY status DESC, deadline, id LIMIT ? OFFSET ?`
	rows, err := conn.QueryContext(ctx, q, append(qargs, limit, offset)...)
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

// statusSteps lists the (status, step) pairs of cases that f allows, by
// skipping through cases_status_step: one seek per pair, not a scan.
func statusSteps(ctx context.Context, conn *sql.Conn, f tongban.CaseFilter) ([][2]string, error) {
	var out [][2]string
	next := func(q string, args ...any) (string, bool, error) {
		var v string
		err := conn.QueryRowContext(ctx, q, args...).Scan(&v)
		if err == sql.ErrNoRows {
			return "", false, nil
		}
		return v, err == nil, err
	}
	status := ""
	for {
		var ok bool
		var err error
		if status, ok, err = next(`SELECT status FROM cases WHERE status > ? ORDER BY status LIMIT 1`, status); !ok {
			return out, err
		}
		if f.Status != "" && status != f.Status {
			continue
		}
		step := ""
		for {
			if step, ok, err = next(`SELECT step FROM cases WHERE status = ? AND step > ? ORDER BY step LIMIT 1`, status, step); err != nil {
				return nil, err
			} else if !ok {
				break
			}
			if len(f.Steps) == 0 || slices.Contains(f.Steps, step) {
				out = append(out, [2]string{status, step})
			}
		}
	}
}
