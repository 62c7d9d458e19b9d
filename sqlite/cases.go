package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/internal/caserow"
)

const caseCols = `id, kind, workflow, tracking_code, type, channel, category, title, body, address, lat, long,
	req_name, req_phone, req_email, confidential, lead, co, first, assignee, step, status,
	received_at, updated_at, step_started_at, step_deadline, deadline, closed_at,
	reply, replied_at, draft_reply, rating, rating_comment, returns, reopens, transfers, extension_days,
	pending, parent_id, attrs, version, last_hash, supervises, next_alarm_at, supervision`

// insertNewCaseSQL writes a new case with its text signature, so the row
// is written once and never passes through the unindexed-cases index.
var insertNewCaseSQL = `INSERT INTO cases (` + caseCols + `, text_sig) VALUES (` + placeholders(strings.Count(caseCols, ",")+2) + `)`

// updateCaseSQL rewrites every column but id and kind if the version
// still matches; a write ends any alarm-scan lease on the case.
var updateCaseSQL = func() string {
	sets := strings.Split(strings.TrimPrefix(caseCols, "id, kind, "), ",")
	for i := range sets {
		sets[i] = strings.TrimSpace(sets[i]) + "=?"
	}
	return `UPDATE cases SET ` + strings.Join(sets, ", ") + `, alarm_lease=NULL WHERE id=? AND version=?`
}()

// caseArgs returns the values for caseCols after id, in order.
func caseArgs(c *tongban.Case) []any {
	var lat, long any
	if c.Lat != nil {
		lat = *c.Lat
	}
	if c.Long != nil {
		long = *c.Long
	}
	pending := ""
	if c.Pending != nil {
		pending = jsonText(c.Pending)
	}
	attrs := ""
	if len(c.Attrs) > 0 {
		attrs = jsonText(c.Attrs)
	}
	return []any{c.Kind, c.Workflow, c.TrackingCode, c.Type, c.Channel, c.Category, c.Title, c.Body, c.Address, lat, long,
		c.Requester.Name, c.Requester.Phone, c.Requester.Email, b2i(c.Confidential), c.Lead, jsonText(nonNil(c.Co)), c.First, c.Assignee, c.Step, c.Status,
		micros(c.ReceivedAt), micros(c.UpdatedAt), micros(c.StepStarted), nullMicros(c.StepDeadline), micros(c.Deadline), nullMicros(c.ClosedAt),
		c.Reply, nullMicros(c.RepliedAt), c.DraftReply, c.Rating, c.RatingComment, c.Returns, c.Reopens, c.Transfers, c.ExtensionDays,
		pending, c.ParentID, attrs, c.Version, c.LastHash, c.Supervises, nullMicros(c.NextAlarmAt), tongban.SupervisionText(c.Supervision)}
}

func scanCase(s interface{ Scan(...any) error }) (*tongban.Case, error) {
	var c tongban.Case
	var lat, long sql.NullFloat64
	var co, pending, attrs string
	var received, updated, stepStarted, deadline int64
	var stepDeadline, closed, replied, nextAlarm sql.NullInt64
	var supervision string
	err := s.Scan(&c.ID, &c.Kind, &c.Workflow, &c.TrackingCode, &c.Type, &c.Channel, &c.Category, &c.Title, &c.Body, &c.Address, &lat, &long,
		&c.Requester.Name, &c.Requester.Phone, &c.Requester.Email, &c.Confidential, &c.Lead, &co, &c.First, &c.Assignee, &c.Step, &c.Status,
		&received, &updated, &stepStarted, &stepDeadline, &deadline, &closed,
		&c.Reply, &replied, &c.DraftReply, &c.Rating, &c.RatingComment, &c.Returns, &c.Reopens, &c.Transfers, &c.ExtensionDays,
		&pending, &c.ParentID, &attrs, &c.Version, &c.LastHash, &c.Supervises, &nextAlarm, &supervision)
	if err != nil {
		return nil, err
	}
	if lat.Valid {
		c.Lat = &lat.Float64
	}
	if long.Valid {
		c.Long = &long.Float64
	}
	if co != "" && co != "[]" {
		_ = json.Unmarshal([]byte(co), &c.Co)
	}
	if pending != "" {
		c.Pending = new(tongban.Pending)
		_ = json.Unmarshal([]byte(pending), c.Pending)
	}
	if attrs != "" {
		_ = json.Unmarshal([]byte(attrs), &c.Attrs)
	}
	c.ReceivedAt, c.UpdatedAt, c.StepStarted, c.Deadline = fromMicros(received), fromMicros(updated), fromMicros(stepStarted), fromMicros(deadline)
	c.StepDeadline, c.ClosedAt, c.RepliedAt = ptrMicros(stepDeadline), ptrMicros(closed), ptrMicros(replied)
	c.NextAlarmAt, c.Supervision = ptrMicros(nextAlarm), tongban.ParseSupervision(supervision)
	return &c, nil
}

func (db *DB) insertEvent(ctx context.Context, tx *sql.Tx, e *tongban.Event) error {
	res, err := db.execTx(ctx, tx, `INSERT INTO events (case_id, seq, action, from_step, to_step, actor_id, actor, actor_dept, at, reason, note, public, payload, prev_hash, hash)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		e.CaseID, e.Seq, e.Action, e.FromStep, e.ToStep, e.ActorID, e.Actor, e.ActorDept, micros(e.At), e.Reason, e.Note, b2i(e.Public), string(e.Payload), e.PrevHash, e.Hash)
	if isUnique(err) {
		return tongban.ErrConflict
	}
	if err != nil {
		return err
	}
	e.ID, err = res.LastInsertId()
	return err
}

// CreateCase inserts the case, its first event and its attachments in one
// transaction. The event's hash is computed here, once the case ID exists.
func (db *DB) CreateCase(ctx context.Context, c *tongban.Case, first *tongban.Event) error {
	txt := segmentCase(c.Title, c.Body, c.Reply, c.Address, c.TextSig) // outside the writer
	c.TextSig = nil
	err := db.exec(ctx, func(tx *sql.Tx) error {
		// The first event's hash covers the case id, so take the id first
		// (the single writer makes max+1 safe) and write the row once.
		var id int64
		var err error
		for attempt := 0; ; attempt++ {
			if id, err = db.nextCaseID(ctx, tx); err != nil {
				return err
			}
			first.CaseID = id
			first.Seq = 1
			first.PrevHash = ""
			first.Hash = first.ComputeHash()
			c.Version, c.LastHash = 1, first.Hash
			args := append(append([]any{id}, caseArgs(c)...), txt.sig)
			_, err = db.execTx(ctx, tx, insertNewCaseSQL, args...)
			if !isUnique(err) {
				break
			}
			// Either the tracking code is taken, or another process
			// wrote cases behind our id counter: recount once and retry.
			db.caseID = 0
			if attempt == 1 {
				return tongban.Errorf(tongban.EConflict, "跟踪码重复", "duplicate tracking code")
			}
		}
		if err != nil {
			return err
		}
		if err := db.insertEvent(ctx, tx, first); err != nil {
			return err
		}
		for i := range c.Attachments {
			a := &c.Attachments[i]
			a.CaseID = id
			res, err := db.execTx(ctx, tx, `INSERT INTO attachments (case_id, name, content_type, size, sha256, data, created_at) VALUES (?,?,?,?,?,?,?)`,
				id, a.Name, a.ContentType, a.Size, a.SHA256, a.Data, micros(a.CreatedAt))
			if err != nil {
				return err
			}
			if a.ID, err = res.LastInsertId(); err != nil {
				return err
			}
		}
		c.ID, c.Version, c.LastHash = id, 1, first.Hash
		db.indexFTS(id, txt)
		return db.applyDerived(ctx, tx, c, first)
	})
	if err == nil {
		c.Derived = nil
	}
	return err
}

// UpdateCase writes the new state and appends the event if the version
// still matches.
func (db *DB) UpdateCase(ctx context.Context, c *tongban.Case, expectVersion int64, ev *tongban.Event) error {
	err := db.exec(ctx, func(tx *sql.Tx) error {
		args := append(caseArgs(c)[1:], c.ID, expectVersion) // kind is immutable; the rest follow
		reindex, err := textChanged(ctx, tx, c)
		if err != nil {
			return err
		}
		db.touch(c.ID)
		res, err := db.execTx(ctx, tx, updateCaseSQL, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return tongban.ErrConflict
		}
		if reindex {
			if err := db.indexText(ctx, tx, c.ID, c.Title, c.Body, c.Reply, c.Address); err != nil {
				return err
			}
		}
		for i := range c.Attachments {
			a := &c.Attachments[i]
			if a.ID != 0 {
				continue
			}
			a.CaseID = c.ID
			res, err := db.execTx(ctx, tx, `INSERT INTO attachments (case_id, name, content_type, size, sha256, data, created_at) VALUES (?,?,?,?,?,?,?)`,
				c.ID, a.Name, a.ContentType, a.Size, a.SHA256, a.Data, micros(a.CreatedAt))
			if err != nil {
				return err
			}
			if a.ID, err = res.LastInsertId(); err != nil {
				return err
			}
		}
		if err := db.insertEvent(ctx, tx, ev); err != nil {
			return err
		}
		return db.applyDerived(ctx, tx, c, ev)
	})
	if err == nil {
		c.Derived = nil
	}
	return err
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// Case returns a case with its attachments' metadata.
func (db *DB) Case(ctx context.Context, id int64) (*tongban.Case, error) {
	if c := db.cases.get(id); c != nil {
		return c, nil
	}
	return db.readCase(ctx, `WHERE id=?`, id)
}

// caseWithAttachments reads a case row and its attachments' metadata in
// one statement (internal/caserow).
const caseWithAttachments = `SELECT ` + caseCols + `, (SELECT json_group_array(json_object('i', a.id, 'n', a.name, 't', a.content_type,
	's', a.size, 'h', a.sha256, 'c', a.created_at)) FROM (SELECT * FROM attachments WHERE case_id=cases.id ORDER BY id) a) FROM cases `

// readCase reads one case (where selects it) from the database and caches it.
func (db *DB) readCase(ctx context.Context, where string, arg any) (*tongban.Case, error) {
	start, readAt := db.cases.begin(), time.Now()
	var atts string
	c, err := scanCase(caserow.WithExtra(db.queryRow(ctx, caseWithAttachments+where, arg), &atts))
	if err != nil {
		return nil, notFound(err)
	}
	if err := caserow.DecodeAttachments(c, atts); err != nil {
		return nil, err
	}
	db.cases.put(c, start, readAt)
	return c, nil
}

// CaseByCode returns a case by its tracking code.
func (db *DB) CaseByCode(ctx context.Context, code string) (*tongban.Case, error) {
	if id := db.cases.id(code); id != 0 {
		return db.Case(ctx, id)
	}
	return db.readCase(ctx, `WHERE tracking_code=?`, code)
}

// Attachment returns one attachment with its content.
func (db *DB) Attachment(ctx context.Context, id int64) (*tongban.Attachment, error) {
	var a tongban.Attachment
	var created int64
	err := db.queryRow(ctx, `SELECT id, case_id, name, content_type, size, sha256, data, created_at FROM attachments WHERE id=?`, id).
		Scan(&a.ID, &a.CaseID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.Data, &created)
	if err != nil {
		return nil, notFound(err)
	}
	a.CreatedAt = fromMicros(created)
	return &a, nil
}

// Events returns a case's events in order.
func (db *DB) Events(ctx context.Context, caseID int64) ([]*tongban.Event, error) {
	rows, err := db.query(ctx, `SELECT id, case_id, seq, action, from_step, to_step, actor_id, actor, actor_dept, at, reason, note, public, payload, prev_hash, hash
		FROM events WHERE case_id=? ORDER BY seq`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*tongban.Event
	for rows.Next() {
		var e tongban.Event
		var at int64
		var payload string
		if err := rows.Scan(&e.ID, &e.CaseID, &e.Seq, &e.Action, &e.FromStep, &e.ToStep, &e.ActorID, &e.Actor, &e.ActorDept, &at, &e.Reason, &e.Note, &e.Public, &payload, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		e.At = fromMicros(at)
		if payload != "" {
			e.Payload = json.RawMessage(payload)
		}
		out = append(out, &e)
	}
	return out, rows.Err()
}

// where builds the WHERE clause of a case filter.
func where(f tongban.CaseFilter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if f.Kind != "" {
		add("kind=?", f.Kind)
	}
	if f.Status != "" {
		add("status=?", f.Status)
	}
	if len(f.Steps) > 0 {
		add("step IN ("+placeholders(len(f.Steps))+")", anySlice(f.Steps)...)
	}
	if f.Type != "" {
		add("type=?", f.Type)
	}
	if f.Category != "" {
		add("category=?", f.Category)
	}
	if f.Channel != "" {
		add("channel=?", f.Channel)
	}
	if f.LeadDept != "" {
		add("lead=?", f.LeadDept)
	}
	if f.Dept != "" {
		add(`(lead=? OR first=? OR co LIKE ? ESCAPE '\')`, f.Dept, f.Dept, `%"`+escapeLike(f.Dept)+`"%`)
	}
	if f.Assignee != "" {
		add("assignee=?", f.Assignee)
	}
	if f.Pending != "" {
		add(`pending LIKE ? ESCAPE '\'`, `{"kind":"`+escapeLike(f.Pending)+`"%`)
	}
	if !f.From.IsZero() {
		add("received_at>=?", micros(f.From))
	}
	if !f.To.IsZero() {
		add("received_at<?", micros(f.To))
	}
	if !f.DueBefore.IsZero() {
		add("deadline<?", micros(f.DueBefore))
	}
	switch code, match := searchQuery(f.Query); {
	case code != "":
		add("tracking_code=?", code)
	case match == "" && strings.TrimSpace(f.Query) != "":
		add("0") // a query without terms finds nothing
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// from returns the FROM clause and WHERE clause of a case filter: with a
// full-text query, the FTS table joined to cases.
func from(f tongban.CaseFilter) (from, cond string, args []any, fts bool) {
	w, args := where(f)
	_, match := searchQuery(f.Query)
	if match == "" {
		return " FROM cases", w, args, false
	}
	if w == "" {
		w = " WHERE case_fts MATCH ?"
	} else {
		w = " WHERE case_fts MATCH ? AND " + strings.TrimPrefix(w, " WHERE ")
	}
	return " FROM case_fts JOIN cases ON cases.id = case_fts.rowid", w, append([]any{match}, args...), true
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func orderBy(sort string) string {
	switch sort {
	case "-received":
		return " ORDER BY received_at DESC, id DESC"
	case "received":
		return " ORDER BY received_at, id"
	case "-updated":
		return " ORDER BY updated_at DESC, id DESC"
	default:
		return " ORDER BY status DESC, deadline, id" // open before closed, least time left first
	}
}

// ListCases returns one page of cases matching f and the total count.
func (db *DB) ListCases(ctx context.Context, f tongban.CaseFilter) (*tongban.CasePage, error) {
	fr, w, args, fts := from(f)
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	page := &tongban.CasePage{Cases: []*tongban.Case{}}
	var err error
	if page.Total, err = db.count(ctx, f, fr, w, args, fts); err != nil {
		return nil, err
	}
	if fts && f.Sort != "" {
		return page, db.listSearchSorted(ctx, f, limit, page) // text_sort.go
	}
	order := orderBy(f.Sort)
	if fts && f.Sort == "" {
		order = searchOrder(page.Total)
	}
	rows, err := db.query(ctx, `SELECT `+caseCols+fr+w+order+` LIMIT ? OFFSET ?`, append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		page.Cases = append(page.Cases, c)
	}
	return page, rows.Err()
}

// CountCases counts cases matching f.
func (db *DB) CountCases(ctx context.Context, f tongban.CaseFilter) (int, error) {
	fr, w, args, fts := from(f)
	return db.count(ctx, f, fr, w, args, fts)
}

// count counts the cases of a filter; a full-text search with other
// filters counts at most tongban.MaxSearchTotal.
func (db *DB) count(ctx context.Context, f tongban.CaseFilter, fr, w string, args []any, fts bool) (int, error) {
	var n int
	q := `SELECT count(*)` + fr + w
	if fts {
		if only, _ := where(f); only == "" {
			q = `SELECT count(*) FROM case_fts WHERE case_fts MATCH ?` // no join needed
		} else {
			q = `SELECT count(*) FROM (SELECT 1` + fr + w + ` LIMIT ` + strconv.Itoa(tongban.MaxSearchTotal) + `)`
		}
	}
	err := db.queryRow(ctx, q, args...).Scan(&n)
	return n, err
}
