package postgres

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/tongban/tongban"
)

// snapshot reads from one REPEATABLE READ, READ ONLY transaction: every
// query sees the database as of the transaction's first statement.
type snapshot struct {
	tx pgx.Tx
	// The dimensions of score_days and score_months, bytewise, once read.
	dayDims, monthDims []string
}

// Snapshot opens a consistent read-only view of the database.
func (db *DB) Snapshot(ctx context.Context) (tongban.Snapshot, error) {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	// The snapshot is taken at the first statement: take it now.
	if _, err := tx.Exec(ctx, `SELECT 1`); err != nil {
		tx.Rollback(context.Background())
		return nil, err
	}
	return &snapshot{tx: tx}, nil
}

func (s *snapshot) Close() error { return s.tx.Rollback(context.Background()) }

func (s *snapshot) DumpDepartments(ctx context.Context) ([]*tongban.Department, error) {
	rows, err := s.tx.Query(ctx, `SELECT `+deptCols+` FROM departments ORDER BY id`)
	return collect(rows, err, scanDept)
}

func (s *snapshot) DumpUsers(ctx context.Context) ([]*tongban.User, error) {
	rows, err := s.tx.Query(ctx, `SELECT `+userCols+` FROM users ORDER BY id`)
	return collect(rows, err, scanUser)
}

func (s *snapshot) DumpCategories(ctx context.Context) ([]*tongban.Category, error) {
	rows, err := s.tx.Query(ctx, `SELECT `+catCols+` FROM categories ORDER BY code COLLATE "C"`)
	return collect(rows, err, scanCategory)
}

var matterColNames = []string{"code", "version", "name", "lead_dept", "definition", "created_at", "created_by"}

// DumpMatters pages through matters in (code, version) order, codes
// compared bytewise (the "C" collation) whatever the database's.
func (s *snapshot) DumpMatters(ctx context.Context, after *tongban.MatterKey, limit int) ([]tongban.MatterRecord, error) {
	q := `SELECT ` + strings.Join(matterColNames, ", ") + ` FROM matters`
	args := []any{}
	if after != nil {
		q += ` WHERE code COLLATE "C" > $1 OR (code = $1 AND version > $2)`
		args = append(args, after.Code, int64(after.Version))
	}
	q += ` ORDER BY code COLLATE "C", version LIMIT ` + strconv.Itoa(limit)
	rows, err := s.tx.Query(ctx, q, args...)
	return collect(rows, err, func(r scanner) (tongban.MatterRecord, error) {
		var m tongban.MatterRecord
		var version, created int64
		err := r.Scan(&m.Code, &version, &m.Name, &m.LeadDept, &m.Definition, &created, &m.CreatedBy)
		m.Version, m.CreatedAt = int(version), fromMicros(created)
		return m, err
	})
}

func (s *snapshot) DumpCalendarOverrides(ctx context.Context) ([]tongban.CalendarOverride, error) {
	rows, err := s.tx.Query(ctx, `SELECT date, off, name FROM calendar_overrides ORDER BY date COLLATE "C"`)
	return collect(rows, err, func(r scanner) (tongban.CalendarOverride, error) {
		var o tongban.CalendarOverride
		err := r.Scan(&o.Date, &o.Off, &o.Name)
		return o, err
	})
}

func (s *snapshot) DumpAPIKeys(ctx context.Context) ([]*tongban.APIKey, error) {
	rows, err := s.tx.Query(ctx, `SELECT `+keyCols+` FROM api_keys ORDER BY id`)
	return collect(rows, err, scanKey)
}

func (s *snapshot) DumpCases(ctx context.Context, afterID int64, limit int) ([]*tongban.Case, error) {
	rows, err := s.tx.Query(ctx, `SELECT `+caseCols+` FROM cases WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
	return collect(rows, err, scanCase)
}

var eventColNames = []string{"id", "case_id", "seq", "action", "from_step", "to_step", "actor_id", "actor", "actor_dept", "at", "reason", "note", "public", "payload", "prev_hash", "hash"}

const eventCols = `id, case_id, seq, action, from_step, to_step, actor_id, actor, actor_dept, at, reason, note, public, payload, prev_hash, hash`

func scanEvent(r scanner) (*tongban.Event, error) {
	var e tongban.Event
	var at int64
	var payload string
	if err := r.Scan(&e.ID, &e.CaseID, &e.Seq, &e.Action, &e.FromStep, &e.ToStep, &e.ActorID, &e.Actor, &e.ActorDept, &at, &e.Reason, &e.Note, &e.Public, &payload, &e.PrevHash, &e.Hash); err != nil {
		return nil, err
	}
	e.At = fromMicros(at)
	if payload != "" {
		e.Payload = json.RawMessage(payload)
	}
	return &e, nil
}

func (s *snapshot) DumpEvents(ctx context.Context, afterID int64, limit int) ([]*tongban.Event, error) {
	rows, err := s.tx.Query(ctx, `SELECT `+eventCols+` FROM events WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
	return collect(rows, err, scanEvent)
}

func (s *snapshot) DumpAttachments(ctx context.Context, afterID int64, limit int) ([]*tongban.Attachment, error) {
	rows, err := s.tx.Query(ctx, `SELECT id, case_id, name, content_type, size, sha256, data, created_at FROM attachments WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
	return collect(rows, err, func(r scanner) (*tongban.Attachment, error) {
		var a tongban.Attachment
		var created int64
		if err := r.Scan(&a.ID, &a.CaseID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.Data, &created); err != nil {
			return nil, err
		}
		if a.Data == nil {
			a.Data = []byte{}
		}
		a.CreatedAt = fromMicros(created)
		return &a, nil
	})
}

func (s *snapshot) DumpPIIAccess(ctx context.Context, afterID int64, limit int) ([]tongban.PIIAccess, error) {
	rows, err := s.tx.Query(ctx, `SELECT id, case_id, user_id, login, reason, at FROM pii_access WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
	return collect(rows, err, func(r scanner) (tongban.PIIAccess, error) {
		var a tongban.PIIAccess
		var at int64
		err := r.Scan(&a.ID, &a.CaseID, &a.UserID, &a.Login, &a.Reason, &at)
		a.At = fromMicros(at)
		return a, err
	})
}

var alarmColNames = []string{"id", "case_id", "kind", "scope", "colour", "deadline", "due_at", "raised_at", "cleared_at", "dept", "person", "category"}

func (s *snapshot) DumpAlarms(ctx context.Context, afterID int64, limit int) ([]*tongban.Alarm, error) {
	rows, err := s.tx.Query(ctx, `SELECT `+strings.Join(alarmColNames, ", ")+` FROM alarms WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
	return collect(rows, err, func(r scanner) (*tongban.Alarm, error) {
		var a tongban.Alarm
		var deadline, due, raised int64
		var cleared *int64
		if err := r.Scan(&a.ID, &a.CaseID, &a.Kind, &a.Scope, &a.Colour, &deadline, &due, &raised, &cleared, &a.Dept, &a.Person, &a.Category); err != nil {
			return nil, err
		}
		a.Deadline, a.DueAt, a.RaisedAt, a.ClearedAt = fromMicros(deadline), fromMicros(due), fromMicros(raised), ptrMicros(cleared)
		return &a, nil
	})
}

var findingColNames = []string{"id", "case_id", "dept", "person", "kind", "reason", "outcome", "by_login", "at"}

func (s *snapshot) DumpFindings(ctx context.Context, afterID int64, limit int) ([]*tongban.Finding, error) {
	rows, err := s.tx.Query(ctx, `SELECT `+strings.Join(findingColNames, ", ")+` FROM findings WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
	return collect(rows, err, func(r scanner) (*tongban.Finding, error) {
		var f tongban.Finding
		var at int64
		if err := r.Scan(&f.ID, &f.CaseID, &f.Dept, &f.Person, &f.Kind, &f.Reason, &f.Outcome, &f.By, &at); err != nil {
			return nil, err
		}
		f.At = fromMicros(at)
		return &f, nil
	})
}

func (s *snapshot) DumpScoreDays(ctx context.Context, after *tongban.ScoreKey, limit int) ([]tongban.ScoreEntry, error) {
	return s.dumpScores(ctx, "score_days", "day", &s.dayDims, after, limit)
}

func (s *snapshot) DumpScoreMonths(ctx context.Context, after *tongban.ScoreKey, limit int) ([]tongban.ScoreEntry, error) {
	return s.dumpScores(ctx, "score_months", "month", &s.monthDims, after, limit)
}

// dumpScores pages through a score table in (dim, period, key) order,
// strings bytewise whatever the database's collation: the few dimensions
// are listed once and sorted here, and each is read by the primary key
// index (dim equal, then period) with keys compared in the "C" collation.
func (s *snapshot) dumpScores(ctx context.Context, table, period string, dims *[]string, after *tongban.ScoreKey, limit int) ([]tongban.ScoreEntry, error) {
	if *dims == nil {
		rows, err := s.tx.Query(ctx, `SELECT DISTINCT dim FROM `+table)
		ds, err := collect(rows, err, func(r scanner) (string, error) {
			var d string
			return d, r.Scan(&d)
		})
		if err != nil {
			return nil, err
		}
		slices.Sort(ds)
		*dims = append([]string{}, ds...)
	}
	cols := `SELECT dim, ` + period + `, key, ` + sumScoreCols + ` FROM ` + table + ` WHERE dim = $1`
	var out []tongban.ScoreEntry
	for _, dim := range *dims {
		if len(out) >= limit {
			break
		}
		q, args := cols, []any{dim}
		if after != nil {
			if dim < after.Dim {
				continue
			}
			if dim == after.Dim {
				q += ` AND (` + period + ` > $2 OR (` + period + ` = $2 AND key COLLATE "C" > $3))`
				args = append(args, int64(after.Period), after.Key)
			}
		}
		// One row per counter, summed over its shards.
		q += ` GROUP BY dim, ` + period + `, key ORDER BY ` + period + `, key COLLATE "C" LIMIT ` + strconv.Itoa(limit-len(out))
		rows, err := s.tx.Query(ctx, q, args...)
		page, err := collect(rows, err, func(r scanner) (tongban.ScoreEntry, error) {
			var e tongban.ScoreEntry
			var p int64
			err := r.Scan(append([]any{&e.Dim, &p, &e.Key}, e.ScoreCounts.Dests()...)...)
			e.Period = int(p)
			return e, err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
	}
	return out, nil
}

// Load copies the batch in with COPY, in one transaction, cases with their
// search_tsv and text_sig (loadCases): a loaded case is searchable as a
// created one is. Its commit does not wait for the WAL flush
// (synchronous_commit off): FinishLoad's commit does, and makes every
// batch before it durable. Once the cases are in, the search index is
// built beside the loading of the rest (afterLoad). Batches may be loaded
// concurrently, each on a connection of its own, but not the first ones
// with cases: each drops the search index of an empty table (dump.Load
// writes the first batch of each kind alone, then two at once).
func (db *DB) Load(ctx context.Context, b *tongban.LoadBatch) error {
	if b.Len() == 0 {
		return nil
	}
	if err := db.load(ctx, b); err != nil {
		return err
	}
	db.afterLoad(ctx, b)
	return nil
}

func (db *DB) load(ctx context.Context, b *tongban.LoadBatch) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit TO off`); err != nil {
			return err
		}
		copyIn := func(table string, cols []string, n int, row func(i int) []any) error {
			if n == 0 {
				return nil
			}
			_, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) { return row(i), nil }))
			return err
		}
		if err := copyIn("departments", []string{"id", "code", "name", "kind", "parent", "keywords", "disabled", "created_at"}, len(b.Departments), func(i int) []any {
			d := b.Departments[i]
			return []any{d.ID, d.Code, d.Name, d.Kind, d.Parent, jsonText(nonNil(d.Keywords)), d.Disabled, micros(d.CreatedAt)}
		}); err != nil {
			return err
		}
		if err := copyIn("users", []string{"id", "login", "name", "dept", "roles", "phone", "disabled", "password_hash", "created_at"}, len(b.Users), func(i int) []any {
			u := b.Users[i]
			return []any{u.ID, u.Login, u.Name, u.Dept, rolesText(u.Roles), u.Phone, u.Disabled, u.PasswordHash, micros(u.CreatedAt)}
		}); err != nil {
			return err
		}
		if err := copyIn("categories", []string{"code", "name", "description", "dept", "limits", "limit_hours", "reply_needs_approval", "keywords", "active", "ord", "updated_at"}, len(b.Categories), func(i int) []any {
			c := b.Categories[i]
			return []any{c.Code, c.Name, c.Description, c.Dept, jsonText(nonNilMap(c.Limits)), int32(c.LimitHours), c.ReplyNeedsApproval,
				jsonText(nonNil(c.Keywords)), c.Active, int32(c.Order), micros(c.UpdatedAt)}
		}); err != nil {
			return err
		}
		if err := copyIn("matters", matterColNames, len(b.Matters), func(i int) []any {
			m := &b.Matters[i]
			return []any{m.Code, int64(m.Version), m.Name, m.LeadDept, m.Definition, micros(m.CreatedAt), m.CreatedBy}
		}); err != nil {
			return err
		}
		if err := copyIn("calendar_overrides", []string{"date", "off", "name"}, len(b.CalendarOverrides), func(i int) []any {
			o := b.CalendarOverrides[i]
			return []any{o.Date, o.Off, o.Name}
		}); err != nil {
			return err
		}
		if err := copyIn("api_keys", []string{"id", "name", "hash", "prefix", "revoked", "created_at"}, len(b.APIKeys), func(i int) []any {
			k := b.APIKeys[i]
			return []any{k.ID, k.Name, k.Hash, k.Prefix, k.Revoked, micros(k.CreatedAt)}
		}); err != nil {
			return err
		}
		if err := db.loadCases(ctx, tx, b.Cases); err != nil {
			return err
		}
		// The rating rows are derived from the cases' attrs.
		var ratings []tongban.RatingRow
		for _, c := range b.Cases {
			ratings = append(ratings, tongban.RatingRows(c)...)
		}
		if err := copyIn("ratings", ratingColNames, len(ratings), func(i int) []any { return ratingArgs(&ratings[i]) }); err != nil {
			return err
		}
		if err := copyIn("events", eventColNames, len(b.Events), func(i int) []any {
			e := b.Events[i]
			return []any{e.ID, e.CaseID, e.Seq, e.Action, e.FromStep, e.ToStep, e.ActorID, e.Actor, e.ActorDept, micros(e.At),
				e.Reason, e.Note, e.Public, string(e.Payload), e.PrevHash, e.Hash}
		}); err != nil {
			return err
		}
		if err := copyIn("attachments", []string{"id", "case_id", "name", "content_type", "size", "sha256", "data", "created_at"}, len(b.Attachments), func(i int) []any {
			a := b.Attachments[i]
			data := a.Data
			if data == nil {
				data = []byte{}
			}
			return []any{a.ID, a.CaseID, a.Name, a.ContentType, a.Size, a.SHA256, data, micros(a.CreatedAt)}
		}); err != nil {
			return err
		}
		if err := copyIn("pii_access", []string{"id", "case_id", "user_id", "login", "reason", "at"}, len(b.PIIAccess), func(i int) []any {
			a := b.PIIAccess[i]
			return []any{a.ID, a.CaseID, a.UserID, a.Login, a.Reason, micros(a.At)}
		}); err != nil {
			return err
		}
		if err := copyIn("alarms", alarmColNames, len(b.Alarms), func(i int) []any {
			a := b.Alarms[i]
			return []any{a.ID, a.CaseID, a.Kind, a.Scope, a.Colour, micros(a.Deadline), micros(a.DueAt), micros(a.RaisedAt), nullMicros(a.ClearedAt),
				a.Dept, a.Person, a.Category}
		}); err != nil {
			return err
		}
		if err := copyIn("findings", findingColNames, len(b.Findings), func(i int) []any {
			f := b.Findings[i]
			return []any{f.ID, f.CaseID, f.Dept, f.Person, f.Kind, f.Reason, f.Outcome, f.By, micros(f.At)}
		}); err != nil {
			return err
		}
		if err := copyIn("score_days", append([]string{"dim", "day", "key"}, tongban.ScoreColumns...), len(b.ScoreDays), func(i int) []any {
			return scoreEntryRow(&b.ScoreDays[i])
		}); err != nil {
			return err
		}
		return copyIn("score_months", append([]string{"dim", "month", "key"}, tongban.ScoreColumns...), len(b.ScoreMonths), func(i int) []any {
			return scoreEntryRow(&b.ScoreMonths[i])
		})
	})
}

func scoreEntryRow(e *tongban.ScoreEntry) []any {
	return append([]any{e.Dim, int64(e.Period), e.Key}, e.ScoreCounts.Values()...)
}

// identityTables are the tables whose id is an identity column.
var identityTables = []string{"departments", "users", "api_keys", "cases", "events", "attachments", "pii_access", "alarms", "findings"}

// FinishLoad sets every identity sequence past the largest loaded id, so
// new rows get fresh IDs, builds the search index if Load dropped it and
// did not build it since (afterLoad), refreshes the planner's statistics,
// and commits synchronously (see Load).
func (db *DB) FinishLoad(ctx context.Context) error {
	casesDone := db.endLoad()
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		for _, t := range identityTables {
			// is_called=false: the next nextval returns exactly max+1.
			if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'id'), COALESCE(max(id), 0) + 1, false) FROM `+t); err != nil {
				return err
			}
		}
		if err := ensureSearchIndex(ctx, tx); err != nil {
			return err
		}
		// Searches are planned by the statistics of search_tsv: without
		// them, until autovacuum's first ANALYZE, plans are guesses.
		if !casesDone {
			_, err := tx.Exec(ctx, `ANALYZE`)
			return err
		}
		var tables string
		if err := tx.QueryRow(ctx, `SELECT string_agg(quote_ident(relname), ', ') FROM pg_class
			WHERE relkind IN ('r', 'p', 'm') AND relnamespace = current_schema()::regnamespace AND relname <> 'cases'`).Scan(&tables); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `ANALYZE `+tables)
		return err
	})
}

// IsEmpty reports whether no table a dump fills holds a row.
func (db *DB) IsEmpty(ctx context.Context) (bool, error) {
	var found bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM departments) OR EXISTS (SELECT 1 FROM users)
		OR EXISTS (SELECT 1 FROM categories) OR EXISTS (SELECT 1 FROM matters) OR EXISTS (SELECT 1 FROM calendar_overrides) OR EXISTS (SELECT 1 FROM api_keys)
		OR EXISTS (SELECT 1 FROM cases) OR EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM attachments)
		OR EXISTS (SELECT 1 FROM pii_access) OR EXISTS (SELECT 1 FROM alarms) OR EXISTS (SELECT 1 FROM findings)
		OR EXISTS (SELECT 1 FROM score_days) OR EXISTS (SELECT 1 FROM score_months)`).Scan(&found)
	return !found, err
}
