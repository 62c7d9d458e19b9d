package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/tongban/tongban"
)

const ratingCols = `case_id, no, kind, dept, category, channel, level, at, state, verified, called_back, rectified, on_time, appealed, removed, deadline`

func ratingArgs(r *tongban.RatingRow) []any {
	return []any{r.CaseID, r.No, r.Kind, r.Dept, r.Category, r.Channel, r.Level, micros(r.At), r.State,
		b2i(r.Verified), b2i(r.CalledBack), b2i(r.Rectified), b2i(r.OnTime), b2i(r.Appealed), b2i(r.Removed), nullMicros(r.Deadline)}
}

var _ tongban.RatingStore = (*DB)(nil)

var insertRatingSQL = `INSERT INTO ratings (` + ratingCols + `) VALUES (` + placeholders(16) + `)`

// putRatings replaces a case's rating rows, inside tx.
func (db *DB) putRatings(ctx context.Context, tx *sql.Tx, caseID int64, rows []tongban.RatingRow) error {
	if _, err := db.execTx(ctx, tx, `DELETE FROM ratings WHERE case_id=?`, caseID); err != nil {
		return err
	}
	for i := range rows {
		r := rows[i]
		r.CaseID = caseID
		if _, err := db.execTx(ctx, tx, insertRatingSQL, ratingArgs(&r)...); err != nil {
			return err
		}
	}
	return nil
}

// RatingTotals sums the ratings given in [from, to) by kind, department
// and category.
func (db *DB) RatingTotals(ctx context.Context, from, to time.Time) ([]tongban.RatingTotal, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT kind, dept, category,
		sum(level=1 AND removed=0), sum(level=2 AND removed=0), sum(level=3 AND removed=0), sum(level=4 AND removed=0), sum(level=5 AND removed=0),
		sum(verified), sum(called_back), sum(rectified), sum(on_time), sum(appealed), sum(removed)
		FROM ratings WHERE at>=? AND at<? GROUP BY kind, dept, category ORDER BY kind, dept, category`, micros(from), micros(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []tongban.RatingTotal{}
	for rows.Next() {
		var t tongban.RatingTotal
		l := &t.Levels
		if err := rows.Scan(&t.Kind, &t.Dept, &t.Category, &l[0], &l[1], &l[2], &l[3], &l[4],
			&t.Verified, &t.CalledBack, &t.Rectified, &t.OnTime, &t.Appealed, &t.Removed); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ListBadRatings lists 差评, the earliest deadline first.
func (db *DB) ListBadRatings(ctx context.Context, f tongban.BadRatingFilter) ([]*tongban.BadRatingRow, int, error) {
	conds := []string{"r.state<>''"}
	var args []any
	switch f.State {
	case "":
	case "open":
		conds = append(conds, "r.state NOT IN ('done','removed')")
	case "overdue":
		conds = append(conds, "r.state IN ('verify','rectify') AND r.rectified=0 AND r.deadline<?")
		args = append(args, micros(f.Now))
	default:
		conds, args = append(conds, "r.state=?"), append(args, f.State)
	}
	if f.Dept != "" {
		conds, args = append(conds, "r.dept=?"), append(args, f.Dept)
	}
	if f.Kind != "" {
		conds, args = append(conds, "r.kind=?"), append(args, f.Kind)
	}
	w := " WHERE " + strings.Join(conds, " AND ")
	var total int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM ratings r`+w, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := db.read.QueryContext(ctx, `SELECT r.case_id, r.no, r.kind, r.dept, r.category, r.channel, r.level, r.at, r.state, r.verified, r.called_back,
		r.rectified, r.on_time, r.appealed, r.removed, r.deadline, c.tracking_code, c.title
		FROM ratings r JOIN cases c ON c.id=r.case_id`+w+` ORDER BY r.deadline IS NULL, r.deadline, r.at, r.case_id, r.no LIMIT ? OFFSET ?`,
		append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []*tongban.BadRatingRow{}
	for rows.Next() {
		var x tongban.BadRatingRow
		var at int64
		var deadline sql.NullInt64
		if err := rows.Scan(&x.CaseID, &x.No, &x.Kind, &x.Dept, &x.Category, &x.Channel, &x.Level, &at, &x.State, &x.Verified, &x.CalledBack,
			&x.Rectified, &x.OnTime, &x.Appealed, &x.Removed, &deadline, &x.TrackingCode, &x.Title); err != nil {
			return nil, 0, err
		}
		x.At, x.Deadline = fromMicros(at), ptrMicros(deadline)
		out = append(out, &x)
	}
	return out, total, rows.Err()
}
