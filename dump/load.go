package dump

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/tongban/tongban"
)

// Load batches: up to batchRows records or batchBytes of attachment data
// go to Store.Load in one transaction.
const (
	batchRows  = 2000
	batchBytes = 32 << 20
)

// ErrNotEmpty is returned by Load for a store that already holds data.
var ErrNotEmpty = errors.New("the target store is not empty: load only into a new, empty store (a new SQLite file or a new PostgreSQL database)")

// Result is what a verified or loaded dump held.
type Result struct {
	ExportedAt time.Time
	Counts     Counts
	// Indexed is how many loaded cases Load indexed for text search
	// once they were in (Store.RebuildText): none on PostgreSQL, whose
	// Store.Load indexes the cases it inserts.
	Indexed int
}

// Error is a dump that fails verification or a load that fails.
type Error struct {
	Line   int64 // line of the file, 1-based; 0 when not about one line
	CaseID int64 // the case concerned, or 0
	Msg    string
	// Partial is set when records were already written to the store:
	// the store holds part of the dump and must be discarded.
	Partial bool
	Err     error
}

func (e *Error) Error() string {
	s := ""
	if e.Line > 0 {
		s = fmt.Sprintf("line %d: ", e.Line)
	}
	if e.CaseID > 0 {
		s += fmt.Sprintf("case %d: ", e.CaseID)
	}
	s += e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Partial {
		s += " — the target store now holds part of the dump and must be discarded (delete the SQLite file, or drop and recreate the PostgreSQL database) before loading again"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Verify reads a whole dump and checks it as Load does, writing nothing.
func Verify(ctx context.Context, r io.Reader) (*Result, error) {
	return read(ctx, r, nil)
}

// Load loads a dump into st, which must be empty. It checks the file as
// it goes — header, order, every case's event chain, the end line's
// counts and checksum — writing batches meanwhile; on an error after the
// first batch was written the returned *Error has Partial set. Verify the
// file first to fail before writing anything. Once all is written it
// rebuilds the derived text-search data (Store.RebuildText).
func Load(ctx context.Context, st tongban.Store, r io.Reader) (*Result, error) {
	empty, err := st.IsEmpty(ctx)
	if err != nil {
		return nil, err
	}
	if !empty {
		return nil, ErrNotEmpty
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Parsing and checking run here, writing in a second goroutine, so the
	// two overlap.
	batches := make(chan *tongban.LoadBatch, 2)
	written := make(chan error, 1)
	wrote := false
	go func() {
		var werr error
		for b := range batches {
			if werr != nil {
				continue // drain
			}
			if werr = st.Load(ctx, b); werr != nil {
				cancel()
			}
		}
		written <- werr
	}()
	res, rerr := read(ctx, r, func(b *tongban.LoadBatch) error {
		wrote = true
		select {
		case batches <- b:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if rerr != nil {
		cancel() // stop writing what is queued
	}
	close(batches)
	werr := <-written
	if rerr != nil {
		var e *Error
		if !errors.As(rerr, &e) {
			e = &Error{Msg: "load", Err: rerr}
			if werr != nil && !errors.Is(werr, context.Canceled) {
				e = &Error{Msg: "writing to the store", Err: werr} // the writer failed first and stopped the reader
			}
		}
		e.Partial = wrote
		return nil, e
	}
	if werr != nil {
		return nil, &Error{Msg: "writing to the store", Err: werr, Partial: true}
	}
	if err := st.FinishLoad(ctx); err != nil {
		return nil, &Error{Msg: "finishing the load", Err: err, Partial: true}
	}
	// The text-search index and signatures are derived, not dumped: build
	// them now, so that the loaded store searches (and finds duplicates)
	// as the source did. Everything is loaded by then; should this fail,
	// RebuildText (run again by tongban serve at start) finishes it.
	n, err := st.RebuildText(ctx)
	if err != nil {
		return nil, &Error{Msg: "indexing the loaded cases for text search (every record is loaded; tongban serve finishes the index when it starts)", Err: err}
	}
	res.Indexed = n
	return res, nil
}

// chain is what is known of one case's event chain while reading.
type chain struct {
	version int64
	seq     int64
	want    [32]byte // the case's last_hash
	last    [32]byte // hash of the last event read
}

// reader parses and checks a dump.
type reader struct {
	br      *bufio.Reader
	line    int64
	counts  Counts
	version int   // the file's format version
	typ     int   // index in Types of the current type
	lastID  int64 // id of the last record of the current type
	lastKey string
	// lastScore is the key of the last score record of the current type;
	// months holds, by month row key, the sum of the score_day rows read
	// whose score_month row has not come yet.
	lastScore tongban.ScoreKey
	// lastMatter is the key of the last matter record.
	lastMatter tongban.MatterKey
	months     map[tongban.ScoreKey]*tongban.ScoreCounts
	// Cases by ID, ascending (they come in id order), and their chains in
	// blocks, so that growing never copies (and briefly doubles) them all.
	caseIDs []int64
	chains  [][]chain
	batch   *tongban.LoadBatch
	bytes   int
	sink    func(*tongban.LoadBatch) error
}

func (r *reader) fail(caseID int64, format string, args ...any) error {
	return &Error{Line: r.line, CaseID: caseID, Msg: fmt.Sprintf(format, args...)}
}

// next returns the next line without its newline, or io.EOF. A last line
// without a newline is an error: the file was cut.
func (r *reader) next() ([]byte, error) {
	b, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long := append([]byte(nil), b...)
		for errors.Is(err, bufio.ErrBufferFull) {
			b, err = r.br.ReadSlice('\n')
			long = append(long, b...)
		}
		b = long
	}
	if err == io.EOF && len(b) > 0 {
		r.line++
		return nil, r.fail(0, "the file ends in the middle of a line: it is truncated")
	}
	if err != nil {
		return nil, err
	}
	r.line++
	return b, nil
}

func (r *reader) chainOf(caseID int64) *chain {
	i := sort.Search(len(r.caseIDs), func(i int) bool { return r.caseIDs[i] >= caseID })
	if i < len(r.caseIDs) && r.caseIDs[i] == caseID {
		return r.chainAt(i)
	}
	return nil
}

const chainBlock = 1 << 14

func (r *reader) chainAt(i int) *chain { return &r.chains[i/chainBlock][i%chainBlock] }

func (r *reader) addChain(id int64, c chain) {
	if len(r.caseIDs)%chainBlock == 0 {
		r.chains = append(r.chains, make([]chain, 0, chainBlock))
	}
	r.caseIDs = append(r.caseIDs, id)
	r.chains[len(r.chains)-1] = append(r.chains[len(r.chains)-1], c)
}

func decodeHash(s string) ([32]byte, bool) {
	var h [32]byte
	if len(s) != 64 {
		return h, false
	}
	_, err := hex.Decode(h[:], []byte(s))
	return h, err == nil
}

// recordType returns the value of the line's "type" field: fast when it
// comes first, as Write puts it.
func recordType(line []byte) (string, error) {
	const prefix = `{"type":"`
	if bytes.HasPrefix(line, []byte(prefix)) {
		rest := line[len(prefix):]
		if i := bytes.IndexByte(rest, '"'); i >= 0 && bytes.IndexByte(rest[:i], '\\') < 0 {
			return string(rest[:i]), nil
		}
	}
	var t struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(line, &t); err != nil {
		return "", err
	}
	return t.Type, nil
}

func read(ctx context.Context, in io.Reader, sink func(*tongban.LoadBatch) error) (*Result, error) {
	r := &reader{br: bufio.NewReaderSize(in, 1<<20), counts: newCounts(), typ: -1, batch: &tongban.LoadBatch{}, sink: sink,
		months: map[tongban.ScoreKey]*tongban.ScoreCounts{}}
	first, err := r.next()
	if err == io.EOF {
		return nil, r.fail(0, "empty file: not a tongban dump")
	}
	if err != nil {
		return nil, err
	}
	var h header
	if err := json.Unmarshal(first, &h); err != nil || h.Format != Format {
		return nil, r.fail(0, "not a tongban dump (the first line is not a %q header)", Format)
	}
	if h.Version < MinVersion || h.Version > Version {
		return nil, r.fail(0, "dump format version %d is not supported (this tongban reads versions %d to %d)", h.Version, MinVersion, Version)
	}
	r.version = h.Version
	sum := sha256.New()
	for {
		if r.line%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		line, err := r.next()
		if err == io.EOF {
			return nil, r.fail(0, "no end line: the file is truncated")
		}
		if err != nil {
			return nil, err
		}
		typ, err := recordType(line)
		if err != nil {
			return nil, r.fail(0, "not a JSON object: %v", err)
		}
		if typ == typeEnd {
			var end endRec
			if err := json.Unmarshal(line, &end); err != nil {
				return nil, r.fail(0, "bad end line: %v", err)
			}
			if got := hex.EncodeToString(sum.Sum(nil)); got != end.SHA256 {
				return nil, r.fail(0, "checksum mismatch: the file was altered or damaged (sha256 %s, end line says %s)", got, end.SHA256)
			}
			for _, t := range Types {
				if end.Counts[t] != r.counts[t] {
					return nil, r.fail(0, "the end line counts %d %s records, the file holds %d", end.Counts[t], t, r.counts[t])
				}
			}
			if err := r.endChains(); err != nil {
				return nil, err
			}
			if err := r.endMonths(); err != nil {
				return nil, err
			}
			if _, err := r.next(); err != io.EOF {
				if err == nil {
					return nil, r.fail(0, "data after the end line")
				}
				return nil, err
			}
			if err := r.flush(); err != nil {
				return nil, err
			}
			return &Result{ExportedAt: h.ExportedAt.Time, Counts: r.counts}, nil
		}
		sum.Write(line)
		if err := r.record(typ, line); err != nil {
			return nil, err
		}
		if r.batch.Len() >= batchRows || r.bytes >= batchBytes {
			if err := r.flush(); err != nil {
				return nil, err
			}
		}
	}
}

func (r *reader) flush() error {
	if r.sink == nil || r.batch.Len() == 0 {
		r.batch = &tongban.LoadBatch{}
		r.bytes = 0
		return nil
	}
	b := r.batch
	r.batch, r.bytes = &tongban.LoadBatch{}, 0
	return r.sink(b)
}

// nextType reports whether typ starts a new type, checking that it
// comes in file order and belongs to the file's version.
func (r *reader) nextType(typ string) (bool, error) {
	ti := typeIndex(typ)
	if ti < 0 {
		return false, r.fail(0, "unknown record type %q", typ)
	}
	if !inVersion(typ, r.version) {
		return false, r.fail(0, "record type %q is not part of this file's format version %d (it holds %v)", typ, r.version, typesOf(r.version))
	}
	if ti < r.typ {
		return false, r.fail(0, "%s record after %s records: records must come in the order %v", typ, Types[r.typ], typesOf(r.version))
	}
	if ti > r.typ {
		r.typ = ti
		return true, nil
	}
	return false, nil
}

// order checks that records come by type in file order, and within a
// type by strictly increasing id (or key).
func (r *reader) order(typ string, id int64, key string) error {
	first, err := r.nextType(typ)
	if err != nil {
		return err
	}
	switch {
	case first:
	case key != "":
		if key <= r.lastKey {
			return r.fail(0, "%s %q after %q: not in order", typ, key, r.lastKey)
		}
	case id <= r.lastID:
		return r.fail(0, "%s %d after %d: not in id order", typ, id, r.lastID)
	}
	r.counts[typ]++
	r.lastID, r.lastKey = id, key
	return nil
}

// orderScore is order for score rows, keyed by (dim, period, key); it
// also checks the period is a date (day YYYYMMDD, month YYYYMM).
func (r *reader) orderScore(typ string, k tongban.ScoreKey) error {
	if day := typ == TypeScoreDay; !validPeriod(k.Period, day) {
		want := "month (YYYYMM)"
		if day {
			want = "day (YYYYMMDD)"
		}
		return r.fail(0, "%s %s %q: %d is not a %s", typ, k.Dim, k.Key, k.Period, want)
	}
	first, err := r.nextType(typ)
	if err != nil {
		return err
	}
	if !first && k.Compare(r.lastScore) <= 0 {
		return r.fail(0, "%s %s/%d/%q after %s/%d/%q: not in (dim, period, key) order", typ, k.Dim, k.Period, k.Key, r.lastScore.Dim, r.lastScore.Period, r.lastScore.Key)
	}
	r.counts[typ]++
	r.lastScore = k
	return nil
}

// orderMatter is order for matter records, keyed by (code, version): codes
// bytewise, and each code's versions 1, 2, 3… with none missing.
func (r *reader) orderMatter(k tongban.MatterKey) error {
	if k.Code == "" {
		return r.fail(0, "matter without a code")
	}
	first, err := r.nextType(TypeMatter)
	if err != nil {
		return err
	}
	switch {
	case !first && k.Code < r.lastMatter.Code:
		return r.fail(0, "matter %q after %q: not in code order", k.Code, r.lastMatter.Code)
	case !first && k.Code == r.lastMatter.Code:
		if k.Version != r.lastMatter.Version+1 {
			return r.fail(0, "matter %q version %d after version %d: versions must be consecutive", k.Code, k.Version, r.lastMatter.Version)
		}
	case k.Version != 1:
		return r.fail(0, "matter %q starts at version %d: versions must be consecutive from 1", k.Code, k.Version)
	}
	r.counts[TypeMatter]++
	r.lastMatter = k
	return nil
}

// checkDefinition checks a matter's stored definition is a JSON object
// naming its code and version, as the store writes it.
func (r *reader) checkDefinition(m *matterRec) error {
	var def struct {
		Code    string `json:"code"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal([]byte(m.Definition), &def); err != nil {
		return r.fail(0, "matter %q version %d: the definition is not a JSON object: %v", m.Code, m.Version, err)
	}
	if def.Code != m.Code || def.Version != m.Version {
		return r.fail(0, "matter %q version %d: the definition names matter %q version %d", m.Code, m.Version, def.Code, def.Version)
	}
	return nil
}

func validPeriod(p int, day bool) bool {
	d := 1
	if day {
		p, d = p/100, p%100
	}
	y, m := p/100, p%100
	if y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1 {
		return false
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Day() == d
}

// addDay adds a score_day row to its month's sum.
func (r *reader) addDay(k tongban.ScoreKey, c *tongban.ScoreCounts) {
	mk := tongban.ScoreKey{Dim: k.Dim, Period: k.Period / 100, Key: k.Key}
	sum := r.months[mk]
	if sum == nil {
		sum = &tongban.ScoreCounts{}
		r.months[mk] = sum
	}
	sum.Add(c)
}

// checkMonth checks a score_month row is the sum of its days.
func (r *reader) checkMonth(k tongban.ScoreKey, c *tongban.ScoreCounts) error {
	sum := r.months[k]
	if sum == nil {
		return r.fail(0, "score_month %s/%d/%q has no score_day rows: month rows must be the sums of their days", k.Dim, k.Period, k.Key)
	}
	if *sum != *c {
		return r.fail(0, "score_month %s/%d/%q is not the sum of its score_day rows (month %+v, days %+v)", k.Dim, k.Period, k.Key, *c, *sum)
	}
	delete(r.months, k)
	return nil
}

// endMonths checks every month with score_day rows had its score_month row.
func (r *reader) endMonths() error {
	if len(r.months) == 0 {
		return nil
	}
	keys := make([]tongban.ScoreKey, 0, len(r.months))
	for k := range r.months {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Compare(keys[j]) < 0 })
	k := keys[0]
	return &Error{Msg: fmt.Sprintf("%d months have score_day rows but no score_month row, the first %s/%d/%q", len(keys), k.Dim, k.Period, k.Key)}
}

// strict decodes one record. Unknown fields are not looked for (that
// would cost a third of the parsing time): a format that adds fields gets
// a new version number, which this reader refuses.
func strict(line []byte, v any) error {
	return json.Unmarshal(line, v)
}

func (r *reader) record(typ string, line []byte) error {
	b := r.batch
	switch typ {
	case TypeDepartment:
		var v deptRec
		if err := strict(line, &v); err != nil {
			return r.fail(0, "bad department: %v", err)
		}
		if err := r.order(typ, v.ID, ""); err != nil {
			return err
		}
		b.Departments = append(b.Departments, v.domain())
	case TypeUser:
		var v userRec
		if err := strict(line, &v); err != nil {
			return r.fail(0, "bad user: %v", err)
		}
		if err := r.order(typ, v.ID, ""); err != nil {
			return err
		}
		b.Users = append(b.Users, v.domain())
	case TypeCategory:
		var v categoryRec
		if err := strict(line, &v); err != nil {
			return r.fail(0, "bad category: %v", err)
		}
		if v.Code == "" {
			return r.fail(0, "category without a code")
		}
		if err := r.order(typ, 0, v.Code); err != nil {
			return err
		}
		b.Categories = append(b.Categories, v.domain())
	case TypeMatter:
		var v matterRec
		if err := strict(line, &v); err != nil {
			return r.fail(0, "bad matter: %v", err)
		}
		if err := r.orderMatter(tongban.MatterKey{Code: v.Code, Version: v.Version}); err != nil {
			return err
		}
		if err := r.checkDefinition(&v); err != nil {
			return err
		}
		b.Matters = append(b.Matters, v.domain())
		r.bytes += len(v.Definition)
	case TypeCalendarOverride:
		var v calendarRec
		if err := strict(line, &v); err != nil {
			return r.fail(0, "bad calendar override: %v", err)
		}
		if v.Date == "" {
			return r.fail(0, "calendar override without a date")
		}
		if err := r.order(typ, 0, v.Date); err != nil {
			return err
		}
		b.CalendarOverrides = append(b.CalendarOverrides, tongban.CalendarOverride{Date: v.Date, Off: v.Off, Name: v.Name})
	case TypeAPIKey:
		var v apiKeyRec
		if err := strict(line, &v); err != nil {
			return r.fail(0, "bad API key: %v", err)
		}
		if err := r.order(typ, v.ID, ""); err != nil {
			return err
		}
		b.APIKeys = append(b.APIKeys, v.domain())
	case TypeCase:
		var v caseRec
		if err := strict(line, &v); err != nil {
			return r.fail(0, "bad case: %v", err)
		}
		if err := r.order(typ, v.ID, ""); err != nil {
			return err
		}
		want, ok := decodeHash(v.LastHash)
		if !ok || v.Version < 1 {
			return r.fail(v.ID, "bad last_hash %q or version %d", v.LastHash, v.Version)
		}
		r.addChain(v.ID, chain{version: v.Version, want: want})
		b.Cases = append(b.Cases, v.domain())
	case TypeEvent:
		var v eventRec
		if err := strict(line, &v); err != nil {
			return r.fail(0, "bad event: %v", err)
		}
		if err := r.order(typ, v.ID, ""); err != nil {
			return err
		}
		ev := v.domain()
		if err := r.checkEvent(ev); err != nil {
			return err
		}
		b.Events = append(b.Events, ev)
	case TypeAttachment:
		var v attachmentRec
		if err := strict(line, &v); err != nil {
			return r.fail(0, "bad attachment: %v", err)
		}
		if err := r.order(typ, v.ID, ""); err != nil {
			return err
		}
		if r.chainOf(v.CaseID) == nil {
			return r.fail(v.CaseID, "attachment %d belongs to a case not in the dump", v.ID)
		}
		if int64(len(v.Data)) != v.Size {
			return r.fail(v.CaseID, "attachment %d holds %d bytes, its size says %d", v.ID, len(v.Data), v.Size)
		}
		if s := sha256.Sum256(v.Data); hex.EncodeToString(s[:]) != v.SHA256 {
			return r.fail(v.CaseID, "attachment %d: its data does not match its sha256", v.ID)
		}
		b.Attachments = append(b.Attachments, v.domain())
		r.bytes += len(v.Data)
	case TypePIIAccess:
		var v piiRec
		if err := strict(line, &v); err != nil {
			return r.fail(0, "bad PII access record: %v", err)
		}
		if err := r.order(typ, v.ID, ""); err != nil {
			return err
		}
		b.PIIAccess = append(b.PIIAccess, v.domain())
	case TypeAlarm:
		var v alarmRec
		if err := strict(line, &v); err != nil {
			return r.fail(0, "bad alarm: %v", err)
		}
		if err := r.order(typ, v.ID, ""); err != nil {
			return err
		}
		if r.chainOf(v.CaseID) == nil {
			return r.fail(v.CaseID, "alarm %d belongs to a case not in the dump", v.ID)
		}
		b.Alarms = append(b.Alarms, v.domain())
	case TypeFinding:
		var v findingRec
		if err := strict(line, &v); err != nil {
			return r.fail(0, "bad finding: %v", err)
		}
		if err := r.order(typ, v.ID, ""); err != nil {
			return err
		}
		if r.chainOf(v.CaseID) == nil {
			return r.fail(v.CaseID, "finding %d belongs to a case not in the dump", v.ID)
		}
		b.Findings = append(b.Findings, v.domain())
	case TypeScoreDay:
		var v scoreDayRec
		if err := strict(line, &v); err != nil {
			return r.fail(0, "bad score_day: %v", err)
		}
		e := tongban.ScoreEntry{ScoreKey: tongban.ScoreKey{Dim: v.Dim, Period: v.Day, Key: v.Key}, ScoreCounts: v.domain()}
		if err := r.orderScore(typ, e.ScoreKey); err != nil {
			return err
		}
		r.addDay(e.ScoreKey, &e.ScoreCounts)
		b.ScoreDays = append(b.ScoreDays, e)
	case TypeScoreMonth:
		var v scoreMonthRec
		if err := strict(line, &v); err != nil {
			return r.fail(0, "bad score_month: %v", err)
		}
		e := tongban.ScoreEntry{ScoreKey: tongban.ScoreKey{Dim: v.Dim, Period: v.Month, Key: v.Key}, ScoreCounts: v.domain()}
		if err := r.orderScore(typ, e.ScoreKey); err != nil {
			return err
		}
		if err := r.checkMonth(e.ScoreKey, &e.ScoreCounts); err != nil {
			return err
		}
		b.ScoreMonths = append(b.ScoreMonths, e)
	default:
		return r.fail(0, "unknown record type %q", typ)
	}
	return nil
}

// checkEvent checks one event against its case's chain so far: the next
// seq, linked to the hash before, with the right hash of its own. Together
// with endChains this is tongban.VerifyChain over each case's events.
func (r *reader) checkEvent(ev *tongban.Event) error {
	c := r.chainOf(ev.CaseID)
	if c == nil {
		return r.fail(ev.CaseID, "event %d belongs to a case not in the dump", ev.ID)
	}
	if ev.Seq != c.seq+1 {
		return r.fail(ev.CaseID, "event chain broken: event %d has seq %d, want %d", ev.ID, ev.Seq, c.seq+1)
	}
	prev := ""
	if c.seq > 0 {
		prev = hex.EncodeToString(c.last[:])
	}
	if ev.PrevHash != prev {
		return r.fail(ev.CaseID, "event chain broken at seq %d: prev_hash does not link to the event before", ev.Seq)
	}
	if ev.ComputeHash() != ev.Hash {
		return r.fail(ev.CaseID, "event chain broken at seq %d: the event's hash does not match its content (altered record)", ev.Seq)
	}
	h, ok := decodeHash(ev.Hash)
	if !ok {
		return r.fail(ev.CaseID, "event %d: bad hash %q", ev.ID, ev.Hash)
	}
	c.seq, c.last = ev.Seq, h
	return nil
}

// endChains checks that each case's version and last hash are its last
// event's seq and hash.
func (r *reader) endChains() error {
	for i := range r.caseIDs {
		c := r.chainAt(i)
		if c.seq != c.version || c.last != c.want {
			return &Error{CaseID: r.caseIDs[i], Msg: fmt.Sprintf("version %d and last_hash %s do not match its last event (seq %d, hash %s)",
				c.version, hex.EncodeToString(c.want[:]), c.seq, hex.EncodeToString(c.last[:]))}
		}
	}
	return nil
}
