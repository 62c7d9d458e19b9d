package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/tongban/tongban"
	"github.com/tongban/tongban/textproc"
)

// New cases are inserted by a few statements per table, whatever their
// number: a statement takes up to 64 rows as a multi-row VALUES list. A
// statement per row cost PostgreSQL more in starting and ending the
// statement (binding the parameters, opening the table and its thirteen
// indexes, taking their locks) than in writing the row; with several instances sharing a load,
// each one's batches are smaller and those costs count the more. (unnest
// of one array per column was tried too: it materialises each array
// separately, and a batch of one case cost the server 1.6 ms.)

// valuesSizes are the row counts of the statements a multi-row insert is
// split into, largest first: every count up to 16, so that the small
// batches of an instance sharing the load with others take one statement
// a table, and a few larger ones, so that each connection prepares 20
// statements a table.
var valuesSizes = []int{64, 48, 32, 24, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}

// valuesChunks splits n rows into statements of valuesSizes rows.
func valuesChunks(n int) []int {
	var out []int
	for _, k := range valuesSizes {
		for ; n >= k; n -= k {
			out = append(out, k)
		}
	}
	return out
}

// multiInsert is an INSERT of rows given as a VALUES list of typed
// parameters, width of them a row.
type multiInsert struct {
	sql   map[int]string // by rows
	width int
}

// newMultiInsert prepares the statement for every count of valuesSizes:
// head is the statement up to VALUES and tail follows the list; row(p)
// lists a row's parameters, p being the number of its first.
func newMultiInsert(head, tail string, width int, row func(p int) string) *multiInsert {
	m := &multiInsert{sql: map[int]string{}, width: width}
	for _, k := range valuesSizes {
		var b strings.Builder
		b.WriteString(head)
		b.WriteString(" VALUES ")
		for i := range k {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + row(1+i*width) + ")")
		}
		b.WriteString(tail)
		m.sql[k] = b.String()
	}
	return m
}

// queue queues the statements inserting n rows, each given by args(i, dst)
// appending its width values to dst; each statement's results, if any, go
// to results.
func (m *multiInsert) queue(q *pgx.Batch, n int, args func(i int, dst []any) []any, results func(pgx.Rows) error) {
	i := 0
	for _, k := range valuesChunks(n) {
		vals := make([]any, 0, k*m.width)
		for range k {
			vals = args(i, vals)
			i++
		}
		qq := q.Queue(m.sql[k], vals...)
		if results != nil {
			qq.Query(results)
		}
	}
}

// typedParams lists parameters from p, cast to types.
func typedParams(p int, types []string) []string {
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = "$" + strconv.Itoa(p+i) + "::" + t
	}
	return out
}

// caseColTypes are the PostgreSQL types of caseColNames, in order.
var caseColTypes = []string{"bigint", "text", "text", "text", "text", "text", "text", "text", "text", "text", "double precision", "double precision",
	"text", "text", "text", "boolean", "text", "text", "text", "text", "text", "text",
	"bigint", "bigint", "bigint", "bigint", "bigint", "bigint",
	"text", "bigint", "text", "integer", "text", "integer", "integer", "integer", "integer",
	"text", "bigint", "text", "bigint", "text", "bigint", "bigint", "text"}

// insertCases inserts cases: caseColNames, then the text columns
// (newCaseText): the search tsvector, or NULL where PostgreSQL builds it
// from the four segmented texts that follow, and the signature.
var insertCases = func() *multiInsert {
	if len(caseColTypes) != len(caseColNames) {
		panic(fmt.Sprintf("postgres: %d case column types for %d columns", len(caseColTypes), len(caseColNames)))
	}
	n := len(caseColNames)
	return newMultiInsert(`INSERT INTO cases (`+caseCols+`, search_tsv, text_sig)`, "", n+6, func(p int) string {
		seg := typedParams(p+n+1, []string{"text", "text", "text", "text"})
		return strings.Join(typedParams(p, caseColTypes), ", ") + ", coalesce($" + strconv.Itoa(p+n) + "::tsvector, " + tsvOf(seg[0], seg[1], seg[2], seg[3]) +
			"), $" + strconv.Itoa(p+n+5) + "::bytea"
	})
}()

// insertEvents inserts events and returns each one's case and id.
var insertEvents = newMultiInsert(`INSERT INTO events (case_id, seq, action, from_step, to_step, actor_id, actor, actor_dept, at, reason, note, public, payload, prev_hash, hash)`,
	` RETURNING case_id, id`, 15, func(p int) string {
		return strings.Join(typedParams(p, []string{"bigint", "bigint", "text", "text", "text", "bigint", "text", "text", "bigint", "text", "text", "boolean", "text", "text", "text"}), ", ")
	})

// caseText is what a new case writes beside its columns: computed before
// the case joins a batch, by the request's own goroutine, so that a batch
// spends its time in the database.
type caseText struct {
	tsv pgtype.TSVector // built in Go, when the server agrees (DB.goTSV) and every token is safe
	seg [4]string       // the segmented fields, when tsv is not valid
	sig []byte
}

var tsvBuilders = sync.Pool{New: func() any { return newTSVBuilder() }}

// newCaseText computes c's text columns, taking the signature from
// c.TextSig when it is set. goTSV: the server's tsvOf agrees with
// caseTSVector.
func newCaseText(c *tongban.Case, goTSV bool) caseText {
	t := caseText{sig: c.TextSig}
	if _, ok := textproc.SignatureFromBytes(t.sig); !ok {
		sig := textproc.SignCase(c.Title, c.Body)
		t.sig = sig.Bytes()
	}
	if goTSV {
		b := tsvBuilders.Get().(*tsvBuilder)
		t.tsv, _ = b.caseTSVector(caseFields(c))
		tsvBuilders.Put(b)
	}
	if !t.tsv.Valid {
		t.seg = [4]string{textproc.IndexText(c.Title), textproc.IndexText(c.Address), textproc.IndexText(c.Body), textproc.IndexText(c.Reply)}
	}
	return t
}

// newCase is one case of an insert: its row (with id, version and last
// hash set), its text columns, its first event (with case id and hash
// set) and where the ids the database gives go.
type newCase struct {
	row   *tongban.Case
	text  *caseText
	first *tongban.Event
}

// queueInsert queues the statements that insert cases, their first events
// and their attachments, and sets the events' and attachments' ids once
// the batch has run.
func queueInsert(q *pgx.Batch, cases []newCase) {
	insertCases.queue(q, len(cases), func(i int, dst []any) []any {
		nc := cases[i]
		t := nc.text
		dst = append(append(dst, nc.row.ID), caseArgs(nc.row)...)
		return append(dst, t.tsv, t.seg[0], t.seg[1], t.seg[2], t.seg[3], t.sig)
	}, nil)
	evs := make([]*tongban.Event, len(cases))
	for i, nc := range cases {
		evs[i] = nc.first
	}
	queueEvents(q, evs, func(i int, id int64) { evs[i].ID = id })
	for _, nc := range cases {
		for j := range nc.row.Attachments {
			a := &nc.row.Attachments[j]
			queueAttachment(q, nc.row.ID, a, &a.ID)
		}
	}
}

// queueEvents queues the inserts of events, of different cases, and
// hands each one's id to setID once the batch has run.
func queueEvents(q *pgx.Batch, evs []*tongban.Event, setID func(i int, id int64)) {
	at := make(map[int64]int, len(evs))
	for i, e := range evs {
		at[e.CaseID] = i
	}
	insertEvents.queue(q, len(evs), func(i int, dst []any) []any {
		e := evs[i]
		return append(dst, e.CaseID, e.Seq, e.Action, e.FromStep, e.ToStep, e.ActorID, e.Actor, e.ActorDept, micros(e.At),
			e.Reason, e.Note, e.Public, string(e.Payload), e.PrevHash, e.Hash)
	}, func(rows pgx.Rows) error {
		var caseID, id int64
		_, err := pgx.ForEachRow(rows, []any{&caseID, &id}, func() error {
			i, ok := at[caseID]
			if !ok {
				return fmt.Errorf("postgres: inserted an event of case %d, not in the batch", caseID)
			}
			setID(i, id)
			return nil
		})
		return err
	})
}

// goTSVAgrees reports whether the server's tsvOf equals caseTSVector's on
// the probe text: if it does, new and loaded cases have their tsvectors
// built in Go.
func goTSVAgrees(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (bool, error) {
	v, _ := newTSVBuilder().caseTSVector(tsvProbe)
	var same bool
	err := q.QueryRow(ctx, `SELECT $1::tsvector = `+tsvExpr(2), v, textproc.IndexText(tsvProbe[0]), textproc.IndexText(tsvProbe[1]),
		textproc.IndexText(tsvProbe[2]), textproc.IndexText(tsvProbe[3])).Scan(&same)
	return same, err
}
