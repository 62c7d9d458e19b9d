package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/tongban/tongban"
)

func upsertScore(table, period string) string {
	sets := make([]string, len(tongban.ScoreColumns))
	for i, c := range tongban.ScoreColumns {
		sets[i] = c + "=" + c + "+excluded." + c
	}
	return `INSERT INTO ` + table + ` (dim, key, ` + period + `, ` + strings.Join(tongban.ScoreColumns, ", ") + `) VALUES (` + placeholders(3+len(tongban.ScoreColumns)) +
		`) ON CONFLICT (dim, ` + period + `, key) DO UPDATE SET ` + strings.Join(sets, ", ")
}

var (
	upsertScoreSQL = upsertScore("score_days", "day")
	upsertMonthSQL = upsertScore("score_months", "month")
)

var sumScoreCols = func() string {
	s := make([]string, len(tongban.ScoreColumns))
	for i, c := range tongban.ScoreColumns {
		s[i] = "sum(" + c + ")"
	}
	return strings.Join(s, ", ")
}()

// addScores defers deltas to the end of the group commit (deferredWrites);
// the writer goroutine is the only caller.
func (db *DB) addScores(_ context.Context, _ *sql.Tx, deltas []tongban.ScoreDelta) error {
	db.deferred.opScores = append(db.deferred.opScores, deltas...)
	return nil
}

// applyDerived writes what a case write entails, in its transaction.
func (db *DB) applyDerived(ctx context.Context, tx *sql.Tx, c *tongban.Case, ev *tongban.Event) error {
	d := c.Derived
	if d.Empty() {
		return nil
	}
	at := micros(ev.At)
	if d.ClearAll {
		if _, err := tx.ExecContext(ctx, `UPDATE alarms SET cleared_at=? WHERE case_id=? AND cleared_at IS NULL`, at, c.ID); err != nil {
			return err
		}
	}
	for _, k := range d.Clear {
		if _, err := tx.ExecContext(ctx, `UPDATE alarms SET cleared_at=? WHERE case_id=? AND scope=? AND colour=? AND deadline=? AND cleared_at IS NULL`,
			at, c.ID, k.Scope, k.Colour, micros(k.Deadline)); err != nil {
			return err
		}
	}
	if d.Reassign {
		if _, err := tx.ExecContext(ctx, `UPDATE alarms SET dept=?, person=? WHERE case_id=? AND cleared_at IS NULL`, d.Dept, d.Person, c.ID); err != nil {
			return err
		}
	}
	for i := range d.Raise {
		a := &d.Raise[i]
		a.CaseID = c.ID
		res, err := tx.ExecContext(ctx, `INSERT INTO alarms (case_id, kind, scope, colour, deadline, due_at, raised_at, dept, person, category) VALUES (?,?,?,?,?,?,?,?,?,?)`,
			c.ID, c.Kind, a.Scope, a.Colour, micros(a.Deadline), micros(a.DueAt), micros(a.RaisedAt), a.Dept, a.Person, a.Category)
		if isUnique(err) {
			return tongban.ErrConflict // raised already: once only
		}
		if err != nil {
			return err
		}
		if a.ID, err = res.LastInsertId(); err != nil {
			return err
		}
	}
	if err := db.addScores(ctx, tx, d.Scores); err != nil {
		return err
	}
	for _, f := range d.Findings {
		f.CaseID = c.ID
		res, err := tx.ExecContext(ctx, `INSERT INTO findings (case_id, dept, person, kind, reason, outcome, by_login, at) VALUES (?,?,?,?,?,?,?,?)`,
			c.ID, f.Dept, f.Person, f.Kind, f.Reason, f.Outcome, f.By, micros(f.At))
		if err != nil {
			return err
		}
		if f.ID, err = res.LastInsertId(); err != nil {
			return err
		}
	}
	for _, o := range d.Orders {
		o.Case.ParentID, o.Case.Supervises = c.ID, c.ID
		if err := db.insertCase(ctx, tx, o.Case, o.Event); err != nil {
			return err
		}
	}
	if d.WriteRatings {
		return db.putRatings(ctx, tx, c.ID, d.Ratings)
	}
	return nil
}

// insertCase inserts a case without attachments and its first event, as
// CreateCase does, inside tx.
func (db *DB) insertCase(ctx context.Context, tx *sql.Tx, c *tongban.Case, first *tongban.Event) error {
	args := caseArgs(c)
	res, err := tx.ExecContext(ctx, `INSERT INTO cases (`+strings.TrimPrefix(caseCols, "id, ")+`) VALUES (`+placeholders(len(args))+`)`, args...)
	if isUnique(err) {
		return tongban.Errorf(tongban.EConflict, "跟踪码重复", "duplicate tracking code")
	}
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	first.CaseID, first.Seq, first.PrevHash = id, 1, ""
	first.Hash = first.ComputeHash()
	if _, err := tx.ExecContext(ctx, `UPDATE cases SET last_hash=?, version=1 WHERE id=?`, first.Hash, id); err != nil {
		return err
	}
	if err := db.insertEvent(ctx, tx, first); err != nil {
		return err
	}
	c.ID, c.Version, c.LastHash = id, 1, first.Hash
	if err := db.indexText(ctx, tx, id, c.Title, c.Body, c.Reply, c.Address); err != nil {
		return err
	}
	if err := db.applyDerived(ctx, tx, c, first); err != nil {
		return err
	}
	c.Derived = nil
	return nil
}

// ClaimDueAlarms leases the cases whose next alarm is due.
func (db *DB) ClaimDueAlarms(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]int64, error) {
	var ids []int64
	err := db.exec(ctx, func(tx *sql.Tx) error {
		ids = ids[:0]
		rows, err := tx.QueryContext(ctx, `UPDATE cases SET alarm_lease=? WHERE id IN (
			SELECT id FROM cases WHERE next_alarm_at <= ? AND (alarm_lease IS NULL OR alarm_lease <= ?) ORDER BY next_alarm_at LIMIT ?) RETURNING id`,
			micros(now.Add(lease)), micros(now), micros(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	return ids, err
}

// SetNextAlarm corrects a case's next alarm instant if its version holds.
func (db *DB) SetNextAlarm(ctx context.Context, caseID, version int64, next *time.Time) error {
	return db.exec(ctx, func(tx *sql.Tx) error {
		db.touch(caseID)
		res, err := tx.ExecContext(ctx, `UPDATE cases SET next_alarm_at=?, alarm_lease=NULL WHERE id=? AND version=?`, nullMicros(next), caseID, version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return tongban.ErrConflict
		}
		return nil
	})
}

func alarmWhere(f tongban.AlarmFilter) (string, []any) {
	var conds []string
	var args []any
	switch f.State {
	case "open":
		conds = append(conds, "a.cleared_at IS NULL")
	case "cleared":
		conds = append(conds, "a.cleared_at IS NOT NULL")
	}
	if f.Colour != "" {
		conds, args = append(conds, "a.colour=?"), append(args, f.Colour)
	}
	if f.Dept != "" {
		conds, args = append(conds, "a.dept=?"), append(args, f.Dept)
	}
	if f.Category != "" {
		conds, args = append(conds, "a.category=?"), append(args, f.Category)
	}
	if f.CaseID != 0 {
		conds, args = append(conds, "a.case_id=?"), append(args, f.CaseID)
	}
	if len(f.Scopes) > 0 {
		conds = append(conds, "a.scope IN ("+placeholders(len(f.Scopes))+")")
		for _, sc := range f.Scopes {
			args = append(args, sc)
		}
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// ListAlarms lists alarms, newest first, and counts all that match.
func (db *DB) ListAlarms(ctx context.Context, f tongban.AlarmFilter) ([]*tongban.Alarm, int, error) {
	w, args := alarmWhere(f)
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var total int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM alarms a`+w, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT a.id, a.case_id, c.tracking_code, c.title, a.kind, a.scope, a.colour, a.deadline, a.due_at, a.raised_at, a.cleared_at, a.dept, a.person, a.category
		FROM alarms a JOIN cases c ON c.id=a.case_id`+w+` ORDER BY a.raised_at DESC, a.id DESC LIMIT ? OFFSET ?`, append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []*tongban.Alarm{}
	for rows.Next() {
		var a tongban.Alarm
		var deadline, due, raised int64
		var cleared sql.NullInt64
		if err := rows.Scan(&a.ID, &a.CaseID, &a.TrackingCode, &a.Title, &a.Kind, &a.Scope, &a.Colour, &deadline, &due, &raised, &cleared, &a.Dept, &a.Person, &a.Category); err != nil {
			return nil, 0, err
		}
		a.Deadline, a.DueAt, a.RaisedAt, a.ClearedAt = fromMicros(deadline), fromMicros(due), fromMicros(raised), ptrMicros(cleared)
		out = append(out, &a)
	}
	return out, total, rows.Err()
}

func dimCol(dim string) (string, error) {
	switch dim {
	case tongban.ByDepartment:
		return "dept", nil
	case tongban.ByPerson:
		return "person", nil
	case tongban.ByCategory:
		return "category", nil
	}
	return "", fmt.Errorf("unknown scorecard dimension %q", dim)
}

// OpenOverdue counts open yellow cards on cases by dim.
func (db *DB) OpenOverdue(ctx context.Context, dim string, from, to time.Time) (map[string]int64, error) {
	col, err := dimCol(dim)
	if err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+col+`, count(*) FROM alarms WHERE colour='yellow' AND cleared_at IS NULL AND scope='case' AND kind<>'task'
		AND deadline>=? AND deadline<? GROUP BY `+col, micros(from), micros(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}

func (db *DB) scoreQuery(ctx context.Context, q string, args ...any) ([]tongban.ScoreRow, error) {
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tongban.ScoreRow
	for rows.Next() {
		var r tongban.ScoreRow
		var key any
		if err := rows.Scan(append([]any{&key}, r.ScoreCounts.Dests()...)...); err != nil {
			return nil, err
		}
		r.Key = fmt.Sprint(key)
		if b, ok := key.([]byte); ok {
			r.Key = string(b)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

var plainScoreCols = strings.Join(tongban.ScoreColumns, ", ")

// ScoreTotals sums by key the month rows of the whole months in the
// period and the day rows of the days outside them.
func (db *DB) ScoreTotals(ctx context.Context, dim string, fromDay, toDay int) ([]tongban.ScoreRow, error) {
	days, mFrom, mTo := tongban.SplitMonths(fromDay, toDay)
	parts := []string{}
	args := []any{}
	for _, r := range days {
		parts = append(parts, `SELECT key, `+plainScoreCols+` FROM score_days WHERE dim=? AND day>=? AND day<=?`)
		args = append(args, dim, r[0], r[1])
	}
	if mFrom <= mTo {
		parts = append(parts, `SELECT key, `+plainScoreCols+` FROM score_months WHERE dim=? AND month>=? AND month<=?`)
		args = append(args, dim, mFrom, mTo)
	}
	return db.scoreQuery(ctx, `SELECT key, `+sumScoreCols+` FROM (`+strings.Join(parts, " UNION ALL ")+`) GROUP BY key ORDER BY key`, args...)
}

// ScoreByDay sums day rows by day.
func (db *DB) ScoreByDay(ctx context.Context, dim, key string, fromDay, toDay int) ([]tongban.ScoreRow, error) {
	if key != "" {
		return db.scoreQuery(ctx, `SELECT day, `+sumScoreCols+` FROM score_days WHERE dim=? AND key=? AND day>=? AND day<=? GROUP BY day ORDER BY day`, dim, key, fromDay, toDay)
	}
	return db.scoreQuery(ctx, `SELECT day, `+sumScoreCols+` FROM score_days WHERE dim=? AND day>=? AND day<=? GROUP BY day ORDER BY day`, dim, fromDay, toDay)
}

// AddScores adds deltas to day rows in one transaction.
func (db *DB) AddScores(ctx context.Context, deltas []tongban.ScoreDelta) error {
	return db.exec(ctx, func(tx *sql.Tx) error { return db.addScores(ctx, tx, deltas) })
}

// ListFindings lists findings, newest first.
func (db *DB) ListFindings(ctx context.Context, f tongban.FindingFilter) ([]*tongban.Finding, error) {
	var conds []string
	var args []any
	add := func(c string, v any) { conds, args = append(conds, c), append(args, v) }
	if f.Dept != "" {
		add("dept=?", f.Dept)
	}
	if f.Person != "" {
		add("person=?", f.Person)
	}
	if f.Kind != "" {
		add("kind=?", f.Kind)
	}
	if f.CaseID != 0 {
		add("case_id=?", f.CaseID)
	}
	if !f.From.IsZero() {
		add("at>=?", micros(f.From))
	}
	if !f.To.IsZero() {
		add("at<?", micros(f.To))
	}
	w := ""
	if len(conds) > 0 {
		w = " WHERE " + strings.Join(conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id, case_id, dept, person, kind, reason, outcome, by_login, at FROM findings`+w+` ORDER BY at DESC, id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*tongban.Finding{}
	for rows.Next() {
		var x tongban.Finding
		var at int64
		if err := rows.Scan(&x.ID, &x.CaseID, &x.Dept, &x.Person, &x.Kind, &x.Reason, &x.Outcome, &x.By, &at); err != nil {
			return nil, err
		}
		x.At = fromMicros(at)
		out = append(out, &x)
	}
	return out, rows.Err()
}
