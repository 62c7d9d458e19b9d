package postgres

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/tongban/tongban"
	"github.com/tongban/tongban/internal/caserow"
)

const caseCols = `id, kind, workflow, tracking_code, type, channel, category, title, body, address, lat, long,
	req_name, req_phone, req_email, confidential, lead, co, first, assignee, step, status,
	received_at, updated_at, step_started_at, step_deadline, deadline, closed_at,
	reply, replied_at, draft_reply, rating, rating_comment, returns, reopens, transfers, extension_days,
	pending, parent_id, attrs, version, last_hash, supervises, next_alarm_at, supervision`

// caseColNames lists caseCols one name each.
var caseColNames = func() []string {
	names := strings.Split(caseCols, ",")
	for i := range names {
		names[i] = strings.TrimSpace(names[i])
	}
	return names
}()

// caseArgs returns the values for caseCols after id, in order.
func caseArgs(c *tongban.Case) []any {
	pending := ""
	if c.Pending != nil {
		pending = jsonText(c.Pending)
	}
	attrs := ""
	if len(c.Attrs) > 0 {
		attrs = jsonText(c.Attrs)
	}
	return []any{c.Kind, c.Workflow, c.TrackingCode, c.Type, c.Channel, c.Category, c.Title, c.Body, c.Address, c.Lat, c.Long,
		c.Requester.Name, c.Requester.Phone, c.Requester.Email, c.Confidential, c.Lead, jsonText(nonNil(c.Co)), c.First, c.Assignee, c.Step, c.Status,
		micros(c.ReceivedAt), micros(c.UpdatedAt), micros(c.StepStarted), nullMicros(c.StepDeadline), micros(c.Deadline), nullMicros(c.ClosedAt),
		c.Reply, nullMicros(c.RepliedAt), c.DraftReply, c.Rating, c.RatingComment, c.Returns, c.Reopens, c.Transfers, c.ExtensionDays,
		pending, c.ParentID, attrs, c.Version, c.LastHash, c.Supervises, nullMicros(c.NextAlarmAt), tongban.SupervisionText(c.Supervision)}
}

func scanCase(s scanner) (*tongban.Case, error) {
	var c tongban.Case
	var co, pending, attrs string
	var received, updated, stepStarted, deadline int64
	var stepDeadline, closed, replied, nextAlarm *int64
	var supervision string
	err := s.Scan(&c.ID, &c.Kind, &c.Workflow, &c.TrackingCode, &c.Type, &c.Channel, &c.Category, &c.Title, &c.Body, &c.Address, &c.Lat, &c.Long,
		&c.Requester.Name, &c.Requester.Phone, &c.Requester.Email, &c.Confidential, &c.Lead, &co, &c.First, &c.Assignee, &c.Step, &c.Status,
		&received, &updated, &stepStarted, &stepDeadline, &deadline, &closed,
		&c.Reply, &replied, &c.DraftReply, &c.Rating, &c.RatingComment, &c.Returns, &c.Reopens, &c.Transfers, &c.ExtensionDays,
		&pending, &c.ParentID, &attrs, &c.Version, &c.LastHash, &c.Supervises, &nextAlarm, &supervision)
	if err != nil {
		return nil, err
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

func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(from + i))
	}
	return b.String()
}

const insertAttachmentSQL = `INSERT INTO attachments (case_id, name, content_type, size, sha256, data, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id`

func queueAttachment(b *pgx.Batch, caseID int64, a *tongban.Attachment, id *int64) {
	data := a.Data
	if data == nil {
		data = []byte{} // NOT NULL, as in SQLite
	}
	b.Queue(insertAttachmentSQL, caseID, a.Name, a.ContentType, a.Size, a.SHA256, data, micros(a.CreatedAt)).
		QueryRow(func(r pgx.Row) error { return r.Scan(id) })
}

// CreateCase inserts the case, its first event and its attachments in one
// transaction. The event's hash is computed here, once the case ID exists.
// c and first are changed only when the transaction commits.
func (db *DB) CreateCase(ctx context.Context, c *tongban.Case, first *tongban.Event) error {
	text := newCaseText(c, db.goTSV)
	c.TextSig = nil
	if batchable(c) {
		if err := db.creates.create(ctx, c, first, text); err != errAlone {
			return err
		}
	}
	return db.createOne(ctx, c, first, &text)
}

// prepareCreate fills nc's row and first event from c and first for the
// case id: the event's chain starts, the row holds its hash. Attachments
// are copied, so that the ids an insert sets reach c only once it commits
// (finishCreate).
func prepareCreate(id int64, c *tongban.Case, first *tongban.Event, nc newCase) {
	ev := nc.first
	*ev = *first
	ev.CaseID, ev.Seq, ev.PrevHash = id, 1, ""
	ev.Hash = ev.ComputeHash()
	row := nc.row
	*row = *c
	row.Attachments = slices.Clone(c.Attachments)
	row.ID, row.Version, row.LastHash = id, 1, ev.Hash
}

// finishCreate sets on c and first what their committed insert gave.
func finishCreate(c *tongban.Case, first *tongban.Event, row *tongban.Case, ev *tongban.Event) {
	*first = *ev
	for j := range c.Attachments {
		c.Attachments[j].ID, c.Attachments[j].CaseID = row.Attachments[j].ID, row.ID
	}
	c.ID, c.Version, c.LastHash = row.ID, 1, ev.Hash
	c.Derived = nil
}

// createOne creates a case in a transaction of its own.
func (db *DB) createOne(ctx context.Context, c *tongban.Case, first *tongban.Event, text *caseText) error {
	var (
		row tongban.Case
		ev  tongban.Event
	)
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('cases', 'id'))`).Scan(&id); err != nil {
			return err
		}
		nc := newCase{row: &row, text: text, first: &ev}
		prepareCreate(id, c, first, nc)
		b := &pgx.Batch{}
		queueInsert(b, []newCase{nc})
		err := tx.SendBatch(ctx, b).Close()
		if isUnique(err) {
			return tongban.Errorf(tongban.EConflict, "跟踪码重复", "duplicate tracking code")
		}
		if err != nil {
			return err
		}
		return applyDerived(ctx, tx, &row, &ev)
	})
	if err != nil {
		return err
	}
	finishCreate(c, first, &row, &ev)
	return nil
}

// updateCaseSQL sets every column but id and kind, where the version
// still matches.
var updateCaseSQL = func() string {
	cols := caseColNames[2:]
	sets := make([]string, len(cols))
	for i, col := range cols {
		sets[i] = col + "=$" + strconv.Itoa(i+1)
	}
	n := len(cols)
	// A write ends any alarm-scan lease on the case.
	return `UPDATE cases SET ` + strings.Join(sets, ", ") + updateTextSQL(n+3) + `, alarm_lease=NULL WHERE id=$` + strconv.Itoa(n+1) + ` AND version=$` + strconv.Itoa(n+2)
}()

// UpdateCase writes the new state, adds new attachments (ID 0) and appends
// the event, if the stored version is still expectVersion.
func (db *DB) UpdateCase(ctx context.Context, c *tongban.Case, expectVersion int64, ev *tongban.Event) error {
	var newAtt []int
	for i, a := range c.Attachments {
		if a.ID == 0 {
			newAtt = append(newAtt, i)
		}
	}
	attIDs := make([]int64, len(newAtt))
	var evID int64
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		args := append(caseArgs(c)[1:], c.ID, expectVersion) // kind is immutable
		args = append(args, textArgs(c)...)
		tag, err := tx.Exec(ctx, updateCaseSQL, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return tongban.ErrConflict
		}
		b := &pgx.Batch{}
		for j, i := range newAtt {
			queueAttachment(b, c.ID, &c.Attachments[i], &attIDs[j])
		}
		queueEvents(b, []*tongban.Event{ev}, func(_ int, id int64) { evID = id })
		err = tx.SendBatch(ctx, b).Close()
		if isUnique(err) {
			return tongban.ErrConflict
		}
		if err != nil {
			return err
		}
		return applyDerived(ctx, tx, c, ev)
	})
	if err != nil {
		return err
	}
	c.Derived = nil
	for j, i := range newAtt {
		c.Attachments[i].ID, c.Attachments[i].CaseID = attIDs[j], c.ID
	}
	ev.ID = evID
	return nil
}

// Case returns a case with its attachments' metadata.
func (db *DB) Case(ctx context.Context, id int64) (*tongban.Case, error) {
	return db.caseWith(ctx, `id=$1`, id)
}

// CaseByCode returns a case by its tracking code.
func (db *DB) CaseByCode(ctx context.Context, code string) (*tongban.Case, error) {
	return db.caseWith(ctx, `tracking_code=$1`, code)
}

// caseWith reads a case and its attachments' metadata in one statement
// (internal/caserow): one query costs fewer round trips and flushes than
// the two pipelined.
func (db *DB) caseWith(ctx context.Context, where string, arg any) (*tongban.Case, error) {
	var atts string
	c, err := scanCase(caserow.WithExtra(db.pool.QueryRow(ctx, `SELECT `+caseCols+`, (SELECT coalesce(json_agg(json_build_object('i', a.id,
		'n', a.name, 't', a.content_type, 's', a.size, 'h', a.sha256, 'c', a.created_at) ORDER BY a.id), '[]')
		FROM attachments a WHERE a.case_id=cases.id) FROM cases WHERE `+where, arg), &atts))
	if err != nil {
		return nil, notFound(err)
	}
	if err := caserow.DecodeAttachments(c, atts); err != nil {
		return nil, err
	}
	return c, nil
}

// Attachment returns one attachment with its content.
func (db *DB) Attachment(ctx context.Context, id int64) (*tongban.Attachment, error) {
	var a tongban.Attachment
	var created int64
	err := db.pool.QueryRow(ctx, `SELECT id, case_id, name, content_type, size, sha256, data, created_at FROM attachments WHERE id=$1`, id).
		Scan(&a.ID, &a.CaseID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.Data, &created)
	if err != nil {
		return nil, notFound(err)
	}
	a.CreatedAt = fromMicros(created)
	return &a, nil
}

// Events returns a case's events in order.
func (db *DB) Events(ctx context.Context, caseID int64) ([]*tongban.Event, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, case_id, seq, action, from_step, to_step, actor_id, actor, actor_dept, at, reason, note, public, payload, prev_hash, hash
		FROM events WHERE case_id=$1 ORDER BY seq`, caseID)
	return collect(rows, err, func(s scanner) (*tongban.Event, error) {
		var e tongban.Event
		var at int64
		var payload string
		if err := s.Scan(&e.ID, &e.CaseID, &e.Seq, &e.Action, &e.FromStep, &e.ToStep, &e.ActorID, &e.Actor, &e.ActorDept, &at, &e.Reason, &e.Note, &e.Public, &payload, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		e.At = fromMicros(at)
		if payload != "" {
			e.Payload = json.RawMessage(payload)
		}
		return &e, nil
	})
}

// filter builds a WHERE clause with numbered parameters.
type filter struct {
	conds   []string
	args    []any
	tsq     string // the placeholder of a full-text query, if any
	tsqText string // and its value
}

// arg adds a parameter and returns its placeholder.
func (w *filter) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *filter) add(cond string) { w.conds = append(w.conds, cond) }

func (w *filter) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// where builds the WHERE clause of a case filter, with the SQLite store's
// semantics.
func where(f tongban.CaseFilter) *filter {
	w := &filter{}
	eq := func(col, v string) {
		if v != "" {
			w.add(col + "=" + w.arg(v))
		}
	}
	eq("kind", f.Kind)
	eq("status", f.Status)
	if len(f.Steps) > 0 {
		w.add("step = ANY(" + w.arg(f.Steps) + ")")
	}
	eq("type", f.Type)
	eq("category", f.Category)
	eq("channel", f.Channel)
	eq("lead", f.LeadDept)
	if f.Dept != "" {
		// co is a JSON array of codes: look for the code as a JSON string,
		// encoded exactly as it was stored.
		d := w.arg(f.Dept)
		w.add("(lead=" + d + " OR first=" + d + " OR strpos(co, " + w.arg(jsonText(f.Dept)) + ") > 0)")
	}
	eq("assignee", f.Assignee)
	if f.Pending != "" {
		w.add("starts_with(pending, " + w.arg(`{"kind":`+jsonText(f.Pending)) + ")")
	}
	if !f.From.IsZero() {
		w.add("received_at>=" + w.arg(micros(f.From)))
	}
	if !f.To.IsZero() {
		w.add("received_at<" + w.arg(micros(f.To)))
	}
	if !f.DueBefore.IsZero() {
		w.add("deadline<" + w.arg(micros(f.DueBefore)))
	}
	switch code, tsq := searchQuery(f.Query); {
	case code != "":
		w.add("tracking_code=" + w.arg(code))
	case tsq != "":
		w.tsq, w.tsqText = w.arg(tsq), tsq
		w.add("search_tsv @@ to_tsquery('simple', " + w.tsq + ")")
	case strings.TrimSpace(f.Query) != "":
		w.add("false") // a query without terms finds nothing
	}
	return w
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
	w := where(f)
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	if w.tsq != "" {
		return db.searchCases(ctx, f, w, limit)
	}
	page := &tongban.CasePage{Cases: []*tongban.Case{}}
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM cases`+w.sql(), w.args...).Scan(&page.Total); err != nil {
		return nil, err
	}
	cond := w.sql()
	order := orderBy(f.Sort)
	lim, off := w.arg(limit), w.arg(max(f.Offset, 0))
	rows, err := db.pool.Query(ctx, `SELECT `+caseCols+` FROM cases`+cond+order+` LIMIT `+lim+` OFFSET `+off, w.args...)
	cases, err := collect(rows, err, scanCase)
	if err != nil {
		return nil, err
	}
	if cases != nil {
		page.Cases = cases
	}
	return page, nil
}

// CountCases counts cases matching f; with a text query, at most
// tongban.MaxSearchTotal.
func (db *DB) CountCases(ctx context.Context, f tongban.CaseFilter) (int, error) {
	w := where(f)
	if w.tsq != "" {
		return db.countSearch(ctx, w)
	}
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM cases`+w.sql(), w.args...).Scan(&n)
	return n, err
}
