package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tongban/tongban"
)

// upsertScore adds rows of counters (dim, key, period, shard, then
// tongban.ScoreColumns) to table's rows. The rows of one statement must
// differ in (dim, key, period): a statement cannot update a row twice.
func upsertScore(table, period string) *multiInsert {
	sets := make([]string, len(tongban.ScoreColumns))
	types := []string{"text", "text", "bigint", "smallint"}
	for i, c := range tongban.ScoreColumns {
		sets[i] = c + "=" + table + "." + c + "+excluded." + c
		types = append(types, "bigint")
	}
	return newMultiInsert(`INSERT INTO `+table+` (dim, key, `+period+`, shard, `+strings.Join(tongban.ScoreColumns, ", ")+`)`,
		` ON CONFLICT (dim, `+period+`, key, shard) DO UPDATE SET `+strings.Join(sets, ", "), len(types), func(p int) string {
			return strings.Join(typedParams(p, types), ", ")
		})
}

var (
	upsertDays   = upsertScore("score_days", "day")
	upsertMonths = upsertScore("score_months", "month")
)

// scoreShards is how many rows share one counter (migration 0006): a
// transaction adds to one of them, chosen at random, so concurrent
// transactions rarely wait for each other's row locks.
const scoreShards = 8

var sumScoreCols = func() string {
	s := make([]string, len(tongban.ScoreColumns))
	for i, c := range tongban.ScoreColumns {
		s[i] = "sum(" + c + ")::bigint"
	}
	return strings.Join(s, ", ")
}()

func addScores(ctx context.Context, tx pgx.Tx, deltas []tongban.ScoreDelta) error {
	if len(deltas) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	queueScores(b, deltas)
	return tx.SendBatch(ctx, b).Close()
}

// queueScores queues the upserts of deltas' day and month rows, a
// statement or a few each, in the order sortScores gives, on one shard
// chosen for the transaction.
func queueScores(b *pgx.Batch, deltas []tongban.ScoreDelta) {
	if len(deltas) == 0 {
		return
	}
	days := sumScores(deltas)
	months := make([]tongban.ScoreDelta, len(days))
	for i, d := range days {
		months[i] = d
		months[i].Day = d.Day / 100
	}
	months = sumScores(months)
	shard := rand.IntN(scoreShards)
	for _, u := range []struct {
		insert *multiInsert
		deltas []tongban.ScoreDelta
	}{{upsertDays, days}, {upsertMonths, months}} {
		sortScores(u.deltas)
		u.insert.queue(b, len(u.deltas), func(i int, dst []any) []any {
			d := &u.deltas[i]
			return append(append(dst, d.Dim, d.Key, int64(d.Day), shard), d.ScoreCounts.Values()...)
		}, nil)
	}
}

// applyDerived writes what a case write entails, in its transaction. IDs
// of new alarms, findings and orders are set on them.
func applyDerived(ctx context.Context, tx pgx.Tx, c *tongban.Case, ev *tongban.Event) error {
	d := c.Derived
	if d.Empty() {
		return nil
	}
	at := micros(ev.At)
	if d.ClearAll {
		if _, err := tx.Exec(ctx, `UPDATE alarms SET cleared_at=$1 WHERE case_id=$2 AND cleared_at IS NULL`, at, c.ID); err != nil {
			return err
		}
	}
	for _, k := range d.Clear {
		if _, err := tx.Exec(ctx, `UPDATE alarms SET cleared_at=$1 WHERE case_id=$2 AND scope=$3 AND colour=$4 AND deadline=$5 AND cleared_at IS NULL`,
			at, c.ID, k.Scope, k.Colour, micros(k.Deadline)); err != nil {
			return err
		}
	}
	if d.Reassign {
		if _, err := tx.Exec(ctx, `UPDATE alarms SET dept=$1, person=$2 WHERE case_id=$3 AND cleared_at IS NULL`, d.Dept, d.Person, c.ID); err != nil {
			return err
		}
	}
	for i := range d.Raise {
		a := &d.Raise[i]
		a.CaseID = c.ID
		err := tx.QueryRow(ctx, `INSERT INTO alarms (case_id, kind, scope, colour, deadline, due_at, raised_at, dept, person, category) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id`,
			c.ID, c.Kind, a.Scope, a.Colour, micros(a.Deadline), micros(a.DueAt), micros(a.RaisedAt), a.Dept, a.Person, a.Category).Scan(&a.ID)
		if isUnique(err) {
			return tongban.ErrConflict // raised already: once only
		}
		if err != nil {
			return err
		}
	}
	if err := addScores(ctx, tx, d.Scores); err != nil {
		return err
	}
	for _, f := range d.Findings {
		f.CaseID = c.ID
		if err := tx.QueryRow(ctx, `INSERT INTO findings (case_id, dept, person, kind, reason, outcome, by_login, at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id`,
			c.ID, f.Dept, f.Person, f.Kind, f.Reason, f.Outcome, f.By, micros(f.At)).Scan(&f.ID); err != nil {
			return err
		}
	}
	for _, o := range d.Orders {
		o.Case.ParentID, o.Case.Supervises = c.ID, c.ID
		if err := insertCase(ctx, tx, o.Case, o.Event); err != nil {
			return err
		}
	}
	if d.WriteRatings {
		return putRatings(ctx, tx, c.ID, d.Ratings)
	}
	return nil
}

// insertCase inserts a case without attachments and its first event inside
// tx. Supervision orders are few: PostgreSQL builds their tsvectors.
func insertCase(ctx context.Context, tx pgx.Tx, c *tongban.Case, first *tongban.Event) error {
	var id int64
	if err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('cases', 'id'))`).Scan(&id); err != nil {
		return err
	}
	first.CaseID, first.Seq, first.PrevHash = id, 1, ""
	first.Hash = first.ComputeHash()
	c.ID, c.Version, c.LastHash = id, 1, first.Hash
	text := newCaseText(c, false)
	b := &pgx.Batch{}
	queueInsert(b, []newCase{{row: c, text: &text, first: first}})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		if isUnique(err) {
			return tongban.Errorf(tongban.EConflict, "跟踪码重复", "duplicate tracking code")
		}
		return err
	}
	if err := applyDerived(ctx, tx, c, first); err != nil {
		return err
	}
	c.Derived = nil
	return nil
}

// ClaimDueAlarms leases the cases whose next alarm is due; concurrent
// scanners skip each other's rows (SKIP LOCKED) and leases.
func (db *DB) ClaimDueAlarms(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]int64, error) {
	rows, err := db.pool.Query(ctx, `UPDATE cases SET alarm_lease=$1 WHERE id IN (
		SELECT id FROM cases WHERE next_alarm_at <= $2 AND (alarm_lease IS NULL OR alarm_lease <= $2)
		ORDER BY next_alarm_at LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING id`, micros(now.Add(lease)), micros(now), limit)
	return collect(rows, err, func(s scanner) (int64, error) {
		var id int64
		return id, s.Scan(&id)
	})
}

// SetNextAlarm corrects a case's next alarm instant if its version holds.
func (db *DB) SetNextAlarm(ctx context.Context, caseID, version int64, next *time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE cases SET next_alarm_at=$1, alarm_lease=NULL WHERE id=$2 AND version=$3`, nullMicros(next), caseID, version)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return tongban.ErrConflict
	}
	return nil
}

// ListAlarms lists alarms, newest first, and counts all that match.
func (db *DB) ListAlarms(ctx context.Context, f tongban.AlarmFilter) ([]*tongban.Alarm, int, error) {
	var conds []string
	var args []any
	add := func(c string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(c, "?", "$"+strconv.Itoa(len(args))))
	}
	switch f.State {
	case "open":
		conds = append(conds, "a.cleared_at IS NULL")
	case "cleared":
		conds = append(conds, "a.cleared_at IS NOT NULL")
	}
	if f.Colour != "" {
		add("a.colour=?", f.Colour)
	}
	if f.Dept != "" {
		add("a.dept=?", f.Dept)
	}
	if f.Category != "" {
		add("a.category=?", f.Category)
	}
	if f.CaseID != 0 {
		add("a.case_id=?", f.CaseID)
	}
	if len(f.Scopes) > 0 {
		add("a.scope = ANY(?)", f.Scopes)
	}
	w := ""
	if len(conds) > 0 {
		w = " WHERE " + strings.Join(conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var total int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM alarms a`+w, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	n := len(args)
	rows, err := db.pool.Query(ctx, `SELECT a.id, a.case_id, c.tracking_code, c.title, a.kind, a.scope, a.colour, a.deadline, a.due_at, a.raised_at, a.cleared_at, a.dept, a.person, a.category
		FROM alarms a JOIN cases c ON c.id=a.case_id`+w+` ORDER BY a.raised_at DESC, a.id DESC LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2),
		append(args, limit, max(f.Offset, 0))...)
	out, err := collect(rows, err, func(s scanner) (*tongban.Alarm, error) {
		var a tongban.Alarm
		var deadline, due, raised int64
		var cleared *int64
		if err := s.Scan(&a.ID, &a.CaseID, &a.TrackingCode, &a.Title, &a.Kind, &a.Scope, &a.Colour, &deadline, &due, &raised, &cleared, &a.Dept, &a.Person, &a.Category); err != nil {
			return nil, err
		}
		a.Deadline, a.DueAt, a.RaisedAt, a.ClearedAt = fromMicros(deadline), fromMicros(due), fromMicros(raised), ptrMicros(cleared)
		return &a, nil
	})
	if out == nil {
		out = []*tongban.Alarm{}
	}
	return out, total, err
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
	rows, err := db.pool.Query(ctx, `SELECT `+col+`, count(*) FROM alarms WHERE colour='yellow' AND cleared_at IS NULL AND scope='case' AND kind<>'task'
		AND deadline>=$1 AND deadline<$2 GROUP BY `+col, micros(from), micros(to))
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
	rows, err := db.pool.Query(ctx, q, args...)
	return collect(rows, err, func(s scanner) (tongban.ScoreRow, error) {
		var r tongban.ScoreRow
		err := s.Scan(append([]any{&r.Key}, r.ScoreCounts.Dests()...)...)
		return r, err
	})
}

var plainScoreCols = strings.Join(tongban.ScoreColumns, ", ")

// ScoreTotals sums by key the month rows of the whole months in the
// period and the day rows of the days outside them.
func (db *DB) ScoreTotals(ctx context.Context, dim string, fromDay, toDay int) ([]tongban.ScoreRow, error) {
	days, mFrom, mTo := tongban.SplitMonths(fromDay, toDay)
	parts := []string{}
	args := []any{}
	next := func() string { args = append(args, nil); return "$" + strconv.Itoa(len(args)) }
	for _, r := range days {
		a, b, c := next(), next(), next()
		args[len(args)-3], args[len(args)-2], args[len(args)-1] = dim, r[0], r[1]
		parts = append(parts, `SELECT key, `+plainScoreCols+` FROM score_days WHERE dim=`+a+` AND day>=`+b+` AND day<=`+c)
	}
	if mFrom <= mTo {
		a, b, c := next(), next(), next()
		args[len(args)-3], args[len(args)-2], args[len(args)-1] = dim, mFrom, mTo
		parts = append(parts, `SELECT key, `+plainScoreCols+` FROM score_months WHERE dim=`+a+` AND month>=`+b+` AND month<=`+c)
	}
	return db.scoreQuery(ctx, `SELECT key, `+sumScoreCols+` FROM (`+strings.Join(parts, " UNION ALL ")+`) s GROUP BY key ORDER BY key`, args...)
}

// ScoreByDay sums day rows by day.
func (db *DB) ScoreByDay(ctx context.Context, dim, key string, fromDay, toDay int) ([]tongban.ScoreRow, error) {
	if key != "" {
		return db.scoreQuery(ctx, `SELECT day::text, `+sumScoreCols+` FROM score_days WHERE dim=$1 AND key=$2 AND day>=$3 AND day<=$4 GROUP BY day ORDER BY day`, dim, key, fromDay, toDay)
	}
	return db.scoreQuery(ctx, `SELECT day::text, `+sumScoreCols+` FROM score_days WHERE dim=$1 AND day>=$2 AND day<=$3 GROUP BY day ORDER BY day`, dim, fromDay, toDay)
}

// AddScores adds deltas to day rows in one transaction.
func (db *DB) AddScores(ctx context.Context, deltas []tongban.ScoreDelta) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error { return addScores(ctx, tx, deltas) })
}

// ListFindings lists findings, newest first.
func (db *DB) ListFindings(ctx context.Context, f tongban.FindingFilter) ([]*tongban.Finding, error) {
	var conds []string
	var args []any
	add := func(c string, v any) {
		args = append(args, v)
		conds = append(conds, c+"$"+strconv.Itoa(len(args)))
	}
	if f.Dept != "" {
		add("dept=", f.Dept)
	}
	if f.Person != "" {
		add("person=", f.Person)
	}
	if f.Kind != "" {
		add("kind=", f.Kind)
	}
	if f.CaseID != 0 {
		add("case_id=", f.CaseID)
	}
	if !f.From.IsZero() {
		add("at>=", micros(f.From))
	}
	if !f.To.IsZero() {
		add("at<", micros(f.To))
	}
	w := ""
	if len(conds) > 0 {
		w = " WHERE " + strings.Join(conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := db.pool.Query(ctx, `SELECT id, case_id, dept, person, kind, reason, outcome, by_login, at FROM findings`+w+` ORDER BY at DESC, id DESC LIMIT $`+strconv.Itoa(len(args)+1), append(args, limit)...)
	out, err := collect(rows, err, func(s scanner) (*tongban.Finding, error) {
		var x tongban.Finding
		var at int64
		if err := s.Scan(&x.ID, &x.CaseID, &x.Dept, &x.Person, &x.Kind, &x.Reason, &x.Outcome, &x.By, &at); err != nil {
			return nil, err
		}
		x.At = fromMicros(at)
		return &x, nil
	})
	if out == nil {
		out = []*tongban.Finding{}
	}
	return out, err
}
