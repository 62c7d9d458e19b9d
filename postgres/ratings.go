package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tongban/tongban"
)

var ratingColNames = []string{"case_id", "no", "kind", "dept", "category", "channel", "level", "at", "state", "verified", "called_back",
	"rectified", "on_time", "appealed", "removed", "deadline"}

func ratingArgs(r *tongban.RatingRow) []any {
	return []any{r.CaseID, int32(r.No), r.Kind, r.Dept, r.Category, r.Channel, int32(r.Level), micros(r.At), r.State,
		r.Verified, r.CalledBack, r.Rectified, r.OnTime, r.Appealed, r.Removed, nullMicros(r.Deadline)}
}

var _ tongban.RatingStore = (*DB)(nil)

var insertRatingSQL = `INSERT INTO ratings (` + strings.Join(ratingColNames, ", ") + `) VALUES (` + placeholders(1, len(ratingColNames)) + `)`

// putRatings replaces a case's rating rows, inside tx.
func putRatings(ctx context.Context, tx pgx.Tx, caseID int64, rows []tongban.RatingRow) error {
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM ratings WHERE case_id=$1`, caseID)
	for i := range rows {
		r := rows[i]
		r.CaseID = caseID
		b.Queue(insertRatingSQL, ratingArgs(&r)...)
	}
	return tx.SendBatch(ctx, b).Close()
}

// RatingTotals sums the ratings given in [from, to) by kind, department
// and category.
func (db *DB) RatingTotals(ctx context.Context, from, to time.Time) ([]tongban.RatingTotal, error) {
	lv := func(n int) string {
		return "count(*) FILTER (WHERE level=" + strconv.Itoa(n) + " AND NOT removed)"
	}
	rows, err := db.pool.Query(ctx, `SELECT kind, dept, category, `+lv(1)+`, `+lv(2)+`, `+lv(3)+`, `+lv(4)+`, `+lv(5)+`,
		count(*) FILTER (WHERE verified), count(*) FILTER (WHERE called_back), count(*) FILTER (WHERE rectified),
		count(*) FILTER (WHERE on_time), count(*) FILTER (WHERE appealed), count(*) FILTER (WHERE removed)
		FROM ratings WHERE at>=$1 AND at<$2 GROUP BY kind, dept, category ORDER BY kind COLLATE "C", dept COLLATE "C", category COLLATE "C"`,
		micros(from), micros(to))
	out, err := collect(rows, err, func(s scanner) (tongban.RatingTotal, error) {
		var t tongban.RatingTotal
		l := &t.Levels
		err := s.Scan(&t.Kind, &t.Dept, &t.Category, &l[0], &l[1], &l[2], &l[3], &l[4],
			&t.Verified, &t.CalledBack, &t.Rectified, &t.OnTime, &t.Appealed, &t.Removed)
		return t, err
	})
	if out == nil && err == nil {
		out = []tongban.RatingTotal{}
	}
	return out, err
}

// ListBadRatings lists 差评, the earliest deadline first.
func (db *DB) ListBadRatings(ctx context.Context, f tongban.BadRatingFilter) ([]*tongban.BadRatingRow, int, error) {
	conds := []string{"r.state<>''"}
	var args []any
	add := func(c string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(c, "?", "$"+strconv.Itoa(len(args))))
	}
	switch f.State {
	case "":
	case "open":
		conds = append(conds, "r.state NOT IN ('done','removed')")
	case "overdue":
		add("r.state IN ('verify','rectify') AND NOT r.rectified AND r.deadline<?", micros(f.Now))
	default:
		add("r.state=?", f.State)
	}
	if f.Dept != "" {
		add("r.dept=?", f.Dept)
	}
	if f.Kind != "" {
		add("r.kind=?", f.Kind)
	}
	w := " WHERE " + strings.Join(conds, " AND ")
	var total int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM ratings r`+w, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	n := len(args)
	rows, err := db.pool.Query(ctx, `SELECT r.case_id, r.no, r.kind, r.dept, r.category, r.channel, r.level, r.at, r.state, r.verified, r.called_back,
		r.rectified, r.on_time, r.appealed, r.removed, r.deadline, c.tracking_code, c.title
		FROM ratings r JOIN cases c ON c.id=r.case_id`+w+` ORDER BY r.deadline NULLS LAST, r.at, r.case_id, r.no LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2),
		append(args, limit, max(f.Offset, 0))...)
	out, err := collect(rows, err, func(s scanner) (*tongban.BadRatingRow, error) {
		var x tongban.BadRatingRow
		var at int64
		var deadline *int64
		var no, level int32
		if err := s.Scan(&x.CaseID, &no, &x.Kind, &x.Dept, &x.Category, &x.Channel, &level, &at, &x.State, &x.Verified, &x.CalledBack,
			&x.Rectified, &x.OnTime, &x.Appealed, &x.Removed, &deadline, &x.TrackingCode, &x.Title); err != nil {
			return nil, err
		}
		x.No, x.Level = int(no), int(level)
		x.At, x.Deadline = fromMicros(at), ptrMicros(deadline)
		return &x, nil
	})
	if out == nil && err == nil {
		out = []*tongban.BadRatingRow{}
	}
	return out, total, err
}
