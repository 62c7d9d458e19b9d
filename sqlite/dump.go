package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"runtime"
	"sync"

	"github.com/tongban/tongban"
)

// snapshot reads from one deferred read transaction: in WAL mode its first
// read fixes the snapshot every later read sees, while writers go on.
type snapshot struct {
	tx *sql.Tx
}

// Snapshot opens a consistent read-only view of the database.
func (db *DB) Snapshot(ctx context.Context) (tongban.Snapshot, error) {
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	// The first read starts the snapshot; do it now, so the view is the
	// store as of this call.
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		tx.Rollback()
		return nil, err
	}
	return &snapshot{tx: tx}, nil
}

func (s *snapshot) Close() error { return s.tx.Rollback() }

func queryAll[T any](ctx context.Context, tx *sql.Tx, scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) ([]T, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (s *snapshot) DumpDepartments(ctx context.Context) ([]*tongban.Department, error) {
	return queryAll(ctx, s.tx, scanDept, `SELECT `+deptCols+` FROM departments ORDER BY id`)
}

func (s *snapshot) DumpUsers(ctx context.Context) ([]*tongban.User, error) {
	return queryAll(ctx, s.tx, scanUser, `SELECT `+userCols+` FROM users ORDER BY id`)
}

func (s *snapshot) DumpCategories(ctx context.Context) ([]*tongban.Category, error) {
	return queryAll(ctx, s.tx, scanCategory, `SELECT `+catCols+` FROM categories ORDER BY code`)
}

const matterDumpCols = `code, version, name, lead_dept, definition, created_at, created_by`

// DumpMatters pages through matters by its primary key; TEXT compares
// bytewise (BINARY), as the dump orders codes.
func (s *snapshot) DumpMatters(ctx context.Context, after *tongban.MatterKey, limit int) ([]tongban.MatterRecord, error) {
	q := `SELECT ` + matterDumpCols + ` FROM matters`
	args := []any{}
	if after != nil {
		q += ` WHERE (code, version) > (?, ?)`
		args = append(args, after.Code, after.Version)
	}
	q += ` ORDER BY code, version LIMIT ?`
	return queryAll(ctx, s.tx, func(r interface{ Scan(...any) error }) (tongban.MatterRecord, error) {
		var m tongban.MatterRecord
		var created int64
		err := r.Scan(&m.Code, &m.Version, &m.Name, &m.LeadDept, &m.Definition, &created, &m.CreatedBy)
		m.CreatedAt = fromMicros(created)
		return m, err
	}, q, append(args, limit)...)
}

func (s *snapshot) DumpCalendarOverrides(ctx context.Context) ([]tongban.CalendarOverride, error) {
	return queryAll(ctx, s.tx, func(r interface{ Scan(...any) error }) (tongban.CalendarOverride, error) {
		var o tongban.CalendarOverride
		err := r.Scan(&o.Date, &o.Off, &o.Name)
		return o, err
	}, `SELECT date, off, name FROM calendar_overrides ORDER BY date`)
}

func (s *snapshot) DumpAPIKeys(ctx context.Context) ([]*tongban.APIKey, error) {
	return queryAll(ctx, s.tx, scanKey, `SELECT `+keyCols+` FROM api_keys ORDER BY id`)
}

func (s *snapshot) DumpCases(ctx context.Context, afterID int64, limit int) ([]*tongban.Case, error) {
	return queryAll(ctx, s.tx, scanCase, `SELECT `+caseCols+` FROM cases WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
}

const eventCols = `id, case_id, seq, action, from_step, to_step, actor_id, actor, actor_dept, at, reason, note, public, payload, prev_hash, hash`

func scanEvent(r interface{ Scan(...any) error }) (*tongban.Event, error) {
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
	return queryAll(ctx, s.tx, scanEvent, `SELECT `+eventCols+` FROM events WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
}

func (s *snapshot) DumpAttachments(ctx context.Context, afterID int64, limit int) ([]*tongban.Attachment, error) {
	return queryAll(ctx, s.tx, func(r interface{ Scan(...any) error }) (*tongban.Attachment, error) {
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
	}, `SELECT id, case_id, name, content_type, size, sha256, data, created_at FROM attachments WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
}

func (s *snapshot) DumpPIIAccess(ctx context.Context, afterID int64, limit int) ([]tongban.PIIAccess, error) {
	return queryAll(ctx, s.tx, func(r interface{ Scan(...any) error }) (tongban.PIIAccess, error) {
		var a tongban.PIIAccess
		var at int64
		err := r.Scan(&a.ID, &a.CaseID, &a.UserID, &a.Login, &a.Reason, &at)
		a.At = fromMicros(at)
		return a, err
	}, `SELECT id, case_id, user_id, login, reason, at FROM pii_access WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
}

const alarmCols = `id, case_id, kind, scope, colour, deadline, due_at, raised_at, cleared_at, dept, person, category`

func (s *snapshot) DumpAlarms(ctx context.Context, afterID int64, limit int) ([]*tongban.Alarm, error) {
	return queryAll(ctx, s.tx, func(r interface{ Scan(...any) error }) (*tongban.Alarm, error) {
		var a tongban.Alarm
		var deadline, due, raised int64
		var cleared sql.NullInt64
		if err := r.Scan(&a.ID, &a.CaseID, &a.Kind, &a.Scope, &a.Colour, &deadline, &due, &raised, &cleared, &a.Dept, &a.Person, &a.Category); err != nil {
			return nil, err
		}
		a.Deadline, a.DueAt, a.RaisedAt, a.ClearedAt = fromMicros(deadline), fromMicros(due), fromMicros(raised), ptrMicros(cleared)
		return &a, nil
	}, `SELECT `+alarmCols+` FROM alarms WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
}

const findingCols = `id, case_id, dept, person, kind, reason, outcome, by_login, at`

func (s *snapshot) DumpFindings(ctx context.Context, afterID int64, limit int) ([]*tongban.Finding, error) {
	return queryAll(ctx, s.tx, func(r interface{ Scan(...any) error }) (*tongban.Finding, error) {
		var f tongban.Finding
		var at int64
		if err := r.Scan(&f.ID, &f.CaseID, &f.Dept, &f.Person, &f.Kind, &f.Reason, &f.Outcome, &f.By, &at); err != nil {
			return nil, err
		}
		f.At = fromMicros(at)
		return &f, nil
	}, `SELECT `+findingCols+` FROM findings WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
}

func (s *snapshot) DumpScoreDays(ctx context.Context, after *tongban.ScoreKey, limit int) ([]tongban.ScoreEntry, error) {
	return s.dumpScores(ctx, "score_days", "day", after, limit)
}

func (s *snapshot) DumpScoreMonths(ctx context.Context, after *tongban.ScoreKey, limit int) ([]tongban.ScoreEntry, error) {
	return s.dumpScores(ctx, "score_months", "month", after, limit)
}

// dumpScores pages through a score table by its primary key; TEXT
// columns compare bytewise (BINARY), as the dump orders them.
func (s *snapshot) dumpScores(ctx context.Context, table, period string, after *tongban.ScoreKey, limit int) ([]tongban.ScoreEntry, error) {
	q := `SELECT dim, ` + period + `, key, ` + plainScoreCols + ` FROM ` + table
	args := []any{}
	if after != nil {
		q += ` WHERE (dim, ` + period + `, key) > (?, ?, ?)`
		args = append(args, after.Dim, after.Period, after.Key)
	}
	q += ` ORDER BY dim, ` + period + `, key LIMIT ?`
	return queryAll(ctx, s.tx, func(r interface{ Scan(...any) error }) (tongban.ScoreEntry, error) {
		var e tongban.ScoreEntry
		err := r.Scan(append([]any{&e.Dim, &e.Period, &e.Key}, e.ScoreCounts.Dests()...)...)
		return e, err
	}, q, append(args, limit)...)
}

// Load inserts the batch with its IDs in one write (one savepoint of a
// group commit). Cases are indexed for text search as they are inserted,
// as created ones are (their text segmented and signed first, on every
// core, outside the writer goroutine), so RebuildText finds nothing left
// to do.
func (db *DB) Load(ctx context.Context, b *tongban.LoadBatch) error {
	if b.Len() == 0 {
		return nil
	}
	texts := make([]caseText, len(b.Cases))
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), 1+len(b.Cases)/200)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(b.Cases); i += workers {
				c := b.Cases[i]
				texts[i] = segmentCase(c.Title, c.Body, c.Reply, c.Address, nil)
			}
		}()
	}
	wg.Wait()
	defer db.cases.clear() // loads write rows without touching them one by one
	return db.exec(ctx, func(tx *sql.Tx) error {
		ins := func(query string, n int, args func(i int) []any) error {
			if n == 0 {
				return nil
			}
			st, err := tx.PrepareContext(ctx, query)
			if err != nil {
				return err
			}
			defer st.Close()
			for i := range n {
				if _, err := st.ExecContext(ctx, args(i)...); err != nil {
					return err
				}
			}
			return nil
		}
		steps := []func() error{
			func() error {
				return ins(`INSERT INTO departments (`+deptCols+`) VALUES (?,?,?,?,?,?,?,?)`, len(b.Departments), func(i int) []any {
					d := b.Departments[i]
					return []any{d.ID, d.Code, d.Name, d.Kind, d.Parent, jsonText(nonNil(d.Keywords)), b2i(d.Disabled), micros(d.CreatedAt)}
				})
			},
			func() error {
				return ins(`INSERT INTO users (`+userCols+`) VALUES (?,?,?,?,?,?,?,?,?)`, len(b.Users), func(i int) []any {
					u := b.Users[i]
					return []any{u.ID, u.Login, u.Name, u.Dept, rolesText(u.Roles), u.Phone, b2i(u.Disabled), u.PasswordHash, micros(u.CreatedAt)}
				})
			},
			func() error {
				return ins(`INSERT INTO categories (`+catCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?)`, len(b.Categories), func(i int) []any {
					c := b.Categories[i]
					return []any{c.Code, c.Name, c.Description, c.Dept, jsonText(nonNilMap(c.Limits)), c.LimitHours, b2i(c.ReplyNeedsApproval),
						jsonText(nonNil(c.Keywords)), b2i(c.Active), c.Order, micros(c.UpdatedAt)}
				})
			},
			func() error {
				return ins(`INSERT INTO matters (`+matterDumpCols+`) VALUES (?,?,?,?,?,?,?)`, len(b.Matters), func(i int) []any {
					m := &b.Matters[i]
					return []any{m.Code, m.Version, m.Name, m.LeadDept, m.Definition, micros(m.CreatedAt), m.CreatedBy}
				})
			},
			func() error {
				return ins(`INSERT INTO calendar_overrides (date, off, name) VALUES (?,?,?)`, len(b.CalendarOverrides), func(i int) []any {
					o := b.CalendarOverrides[i]
					return []any{o.Date, b2i(o.Off), o.Name}
				})
			},
			func() error {
				return ins(`INSERT INTO api_keys (`+keyCols+`) VALUES (?,?,?,?,?,?)`, len(b.APIKeys), func(i int) []any {
					k := b.APIKeys[i]
					return []any{k.ID, k.Name, k.Hash, k.Prefix, b2i(k.Revoked), micros(k.CreatedAt)}
				})
			},
			func() error {
				if err := ins(insertNewCaseSQL, len(b.Cases), func(i int) []any {
					c := b.Cases[i]
					return append(append([]any{c.ID}, caseArgs(c)...), texts[i].sig)
				}); err != nil {
					return err
				}
				for i, c := range b.Cases {
					db.indexFTS(c.ID, texts[i])
				}
				return nil
			},
			func() error {
				// The rating rows are derived from the cases' attrs.
				var rows []tongban.RatingRow
				for _, c := range b.Cases {
					rows = append(rows, tongban.RatingRows(c)...)
				}
				return ins(insertRatingSQL, len(rows), func(i int) []any { return ratingArgs(&rows[i]) })
			},
			func() error {
				return ins(`INSERT INTO events (`+eventCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, len(b.Events), func(i int) []any {
					e := b.Events[i]
					return []any{e.ID, e.CaseID, e.Seq, e.Action, e.FromStep, e.ToStep, e.ActorID, e.Actor, e.ActorDept, micros(e.At),
						e.Reason, e.Note, b2i(e.Public), string(e.Payload), e.PrevHash, e.Hash}
				})
			},
			func() error {
				return ins(`INSERT INTO attachments (id, case_id, name, content_type, size, sha256, data, created_at) VALUES (?,?,?,?,?,?,?,?)`, len(b.Attachments), func(i int) []any {
					a := b.Attachments[i]
					data := a.Data
					if data == nil {
						data = []byte{}
					}
					return []any{a.ID, a.CaseID, a.Name, a.ContentType, a.Size, a.SHA256, data, micros(a.CreatedAt)}
				})
			},
			func() error {
				return ins(`INSERT INTO pii_access (id, case_id, user_id, login, reason, at) VALUES (?,?,?,?,?,?)`, len(b.PIIAccess), func(i int) []any {
					a := b.PIIAccess[i]
					return []any{a.ID, a.CaseID, a.UserID, a.Login, a.Reason, micros(a.At)}
				})
			},
			func() error {
				return ins(`INSERT INTO alarms (`+alarmCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`, len(b.Alarms), func(i int) []any {
					a := b.Alarms[i]
					return []any{a.ID, a.CaseID, a.Kind, a.Scope, a.Colour, micros(a.Deadline), micros(a.DueAt), micros(a.RaisedAt), nullMicros(a.ClearedAt),
						a.Dept, a.Person, a.Category}
				})
			},
			func() error {
				return ins(`INSERT INTO findings (`+findingCols+`) VALUES (?,?,?,?,?,?,?,?,?)`, len(b.Findings), func(i int) []any {
					f := b.Findings[i]
					return []any{f.ID, f.CaseID, f.Dept, f.Person, f.Kind, f.Reason, f.Outcome, f.By, micros(f.At)}
				})
			},
			func() error {
				return ins(insertScoreSQL("score_days", "day"), len(b.ScoreDays), func(i int) []any { return scoreEntryArgs(&b.ScoreDays[i]) })
			},
			func() error {
				return ins(insertScoreSQL("score_months", "month"), len(b.ScoreMonths), func(i int) []any { return scoreEntryArgs(&b.ScoreMonths[i]) })
			},
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
}

// insertScoreSQL inserts one score row as it is: a row already there is
// an error, not added to.
func insertScoreSQL(table, period string) string {
	return `INSERT INTO ` + table + ` (dim, ` + period + `, key, ` + plainScoreCols + `) VALUES (` + placeholders(3+len(tongban.ScoreColumns)) + `)`
}

func scoreEntryArgs(e *tongban.ScoreEntry) []any {
	return append([]any{e.Dim, e.Period, e.Key}, e.ScoreCounts.Values()...)
}

// FinishLoad has nothing to do: a new INTEGER PRIMARY KEY is max(id)+1.
func (db *DB) FinishLoad(ctx context.Context) error { return nil }

// IsEmpty reports whether no table a dump fills holds a row.
func (db *DB) IsEmpty(ctx context.Context) (bool, error) {
	var found bool
	err := db.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM departments) OR EXISTS (SELECT 1 FROM users)
		OR EXISTS (SELECT 1 FROM categories) OR EXISTS (SELECT 1 FROM matters) OR EXISTS (SELECT 1 FROM calendar_overrides) OR EXISTS (SELECT 1 FROM api_keys)
		OR EXISTS (SELECT 1 FROM cases) OR EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM attachments)
		OR EXISTS (SELECT 1 FROM pii_access) OR EXISTS (SELECT 1 FROM alarms) OR EXISTS (SELECT 1 FROM findings)
		OR EXISTS (SELECT 1 FROM score_days) OR EXISTS (SELECT 1 FROM score_months)`).Scan(&found)
	return !found, err
}
