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
	"runtime"
	"sort"
	"sync"
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
	// once they were in (Store.RebuildText): none, since both stores'
	// Store.Load index the cases they insert.
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
// indexes for text search any case the store's Load left unindexed
// (Store.RebuildText; none on either store).
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
	// Parsing and checking run here, writing in other goroutines
	// (writeBatches), so the two overlap.
	batches := make(chan *tongban.LoadBatch, 2)
	written := make(chan error, 1)
	wrote := false
	go func() { written <- writeBatches(ctx, st, batches, cancel) }()
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
	// The text-search index and signatures are derived, not dumped: the
	// stores build them as they load cases; whatever is left is built
	// now, so that the loaded store searches (and finds duplicates) as the
	// source did. Everything is loaded by then; should this fail,
	// RebuildText (run again by tongban serve at start) finishes it.
	n, err := st.RebuildText(ctx)
	if err != nil {
		return nil, &Error{Msg: "indexing the loaded cases for text search (every record is loaded; tongban serve finishes the index when it starts)", Err: err}
	}
	res.Indexed = n
	return res, nil
}

// writers is how many batches writeBatches writes at once.
const writers = 2

// writeBatches hands the batches to st.Load in order, up to writers at
// once (each a transaction of its own, on a connection of its own on
// PostgreSQL), so that the store writes one batch while it prepares the
// next. Only batches holding records of the same types overlap, and only
// once one of them is written: records refer to records of other types
// (an event to its case, a user to its department), never of their own,
// so a batch waits for every batch before it whenever the types change.
// After an error it cancels, drains the batches and returns the first.
func writeBatches(ctx context.Context, st tongban.Store, batches <-chan *tongban.LoadBatch, cancel func()) error {
	var (
		mu      sync.Mutex
		first   error
		written = map[uint16]bool{} // type sets of which a batch is written
		wg      sync.WaitGroup
		slots   = make(chan struct{}, writers)
		last    uint16
	)
	for b := range batches {
		set := typeSet(b)
		mu.Lock()
		failed, seen := first != nil, written[set]
		mu.Unlock()
		if failed {
			continue // drain
		}
		if set != last || !seen {
			wg.Wait()
		}
		last = set
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			err := st.Load(ctx, b)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				written[set] = true
			} else if first == nil {
				first = err
				cancel()
			}
		}()
	}
	wg.Wait()
	return first
}

// typeSet has a bit set for each kind of record b holds.
func typeSet(b *tongban.LoadBatch) uint16 {
	var s uint16
	for i, n := range []int{len(b.Departments), len(b.Users), len(b.Categories), len(b.Matters), len(b.CalendarOverrides), len(b.APIKeys),
		len(b.Cases), len(b.Events), len(b.Attachments), len(b.PIIAccess), len(b.Alarms), len(b.Findings), len(b.ScoreDays), len(b.ScoreMonths)} {
		if n > 0 {
			s |= 1 << i
		}
	}
	return s
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
	// Lines are read and checked in order here; in between, each chunk of
	// them is decoded (JSON, event and attachment hashes) on every core.
	var c chunk
	for {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		end, stop := c.fill(r)
		c.decode()
		for i := range c.n {
			r.line = c.lineNo[i]
			sum.Write(c.line(i))
			if err := r.apply(c.typ[i], &c.dec[i]); err != nil {
				return nil, err
			}
			if r.batch.Len() >= batchRows || r.bytes >= batchBytes {
				if err := r.flush(); err != nil {
					return nil, err
				}
			}
		}
		if stop != nil {
			r.line = c.stopLine
			if stop == io.EOF {
				return nil, r.fail(0, "no end line: the file is truncated")
			}
			return nil, stop
		}
		if end == nil {
			continue
		}
		r.line = c.stopLine
		var e endRec
		if err := json.Unmarshal(end, &e); err != nil {
			return nil, r.fail(0, "bad end line: %v", err)
		}
		if got := hex.EncodeToString(sum.Sum(nil)); got != e.SHA256 {
			return nil, r.fail(0, "checksum mismatch: the file was altered or damaged (sha256 %s, end line says %s)", got, e.SHA256)
		}
		for _, t := range Types {
			if e.Counts[t] != r.counts[t] {
				return nil, r.fail(0, "the end line counts %d %s records, the file holds %d", e.Counts[t], t, r.counts[t])
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
}

// chunk is a run of record lines read ahead, with each one's type and,
// once decoded, its record.
type chunk struct {
	buf    []byte
	ends   []int // line i is buf[ends[i-1]:ends[i]]
	typ    []string
	lineNo []int64
	dec    []decoded
	n      int
	// stopLine is the line of the end record or of the error that ended
	// the chunk.
	stopLine int64
}

// Chunk limits: lines, and bytes (attachments are large).
const (
	chunkLines = 512
	chunkBytes = 8 << 20
)

func (c *chunk) line(i int) []byte {
	start := 0
	if i > 0 {
		start = c.ends[i-1]
	}
	return c.buf[start:c.ends[i]]
}

// fill reads the next lines up to the chunk's limits, the end line
// (returned, not kept) or an error (stop, io.EOF at the end of the file).
func (c *chunk) fill(r *reader) (end []byte, stop error) {
	c.buf, c.ends, c.typ, c.lineNo, c.n = c.buf[:0], c.ends[:0], c.typ[:0], c.lineNo[:0], 0
	for c.n < chunkLines && len(c.buf) < chunkBytes {
		line, err := r.next()
		if err != nil {
			c.stopLine = r.line
			return nil, err
		}
		typ, err := recordType(line)
		if err != nil {
			c.stopLine = r.line
			return nil, r.fail(0, "not a JSON object: %v", err)
		}
		if typ == typeEnd {
			c.stopLine = r.line
			return line, nil
		}
		c.buf = append(c.buf, line...)
		c.ends = append(c.ends, len(c.buf))
		c.typ = append(c.typ, typ)
		c.lineNo = append(c.lineNo, r.line)
		c.n++
	}
	return nil, nil
}

// decode decodes the chunk's lines, on every core.
func (c *chunk) decode() {
	if cap(c.dec) < c.n {
		c.dec = make([]decoded, c.n)
	}
	c.dec = c.dec[:c.n]
	workers := min(runtime.GOMAXPROCS(0), 1+c.n/64)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < c.n; i += workers {
				c.dec[i] = decodeRecord(c.typ[i], c.line(i))
			}
		}()
	}
	wg.Wait()
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

// decoded is one record line decoded: its record, or the error of
// decoding it; for an event its computed hash, for an attachment whether
// its data matches its sha256.
type decoded struct {
	v      any
	err    error
	hash   string
	sha256 bool
}

// decodeRecord decodes one line of type typ. It depends on nothing read
// before, so lines are decoded in parallel (chunk.decode).
func decodeRecord(typ string, line []byte) decoded {
	var v any
	switch typ {
	case TypeDepartment:
		v = new(deptRec)
	case TypeUser:
		v = new(userRec)
	case TypeCategory:
		v = new(categoryRec)
	case TypeMatter:
		v = new(matterRec)
	case TypeCalendarOverride:
		v = new(calendarRec)
	case TypeAPIKey:
		v = new(apiKeyRec)
	case TypeCase:
		v = new(caseRec)
	case TypeEvent:
		v = new(eventRec)
	case TypeAttachment:
		v = new(attachmentRec)
	case TypePIIAccess:
		v = new(piiRec)
	case TypeAlarm:
		v = new(alarmRec)
	case TypeFinding:
		v = new(findingRec)
	case TypeScoreDay:
		v = new(scoreDayRec)
	case TypeScoreMonth:
		v = new(scoreMonthRec)
	default:
		return decoded{}
	}
	if err := strict(line, v); err != nil {
		return decoded{err: err}
	}
	d := decoded{v: v}
	switch v := v.(type) {
	case *eventRec:
		ev := v.domain()
		d.v, d.hash = ev, ev.ComputeHash()
	case *attachmentRec:
		sum := sha256.Sum256(v.Data)
		d.sha256 = hex.EncodeToString(sum[:]) == v.SHA256
	}
	return d
}

// badRecord names each type in the message about a line that does not
// decode.
var badRecord = map[string]string{TypeDepartment: "department", TypeUser: "user", TypeCategory: "category", TypeMatter: "matter",
	TypeCalendarOverride: "calendar override", TypeAPIKey: "API key", TypeCase: "case", TypeEvent: "event", TypeAttachment: "attachment",
	TypePIIAccess: "PII access record", TypeAlarm: "alarm", TypeFinding: "finding", TypeScoreDay: "score_day", TypeScoreMonth: "score_month"}

// apply checks a decoded record against those before it and adds it to
// the batch.
func (r *reader) apply(typ string, d *decoded) error {
	if d.err != nil {
		return r.fail(0, "bad %s: %v", badRecord[typ], d.err)
	}
	b := r.batch
	switch v := d.v.(type) {
	case *deptRec:
		if err := r.order(typ, v.ID, ""); err != nil {
			return err
		}
		b.Departments = append(b.Departments, v.domain())
	case *userRec:
		if err := r.order(typ, v.ID, ""); err != nil {
			return err
		}
		b.Users = append(b.Users, v.domain())
	case *categoryRec:
		if v.Code == "" {
			return r.fail(0, "category without a code")
		}
		if err := r.order(typ, 0, v.Code); err != nil {
			return err
		}
		b.Categories = append(b.Categories, v.domain())
	case *matterRec:
		if err := r.orderMatter(tongban.MatterKey{Code: v.Code, Version: v.Version}); err != nil {
			return err
		}
		if err := r.checkDefinition(v); err != nil {
			return err
		}
		b.Matters = append(b.Matters, v.domain())
		r.bytes += len(v.Definition)
	case *calendarRec:
		if v.Date == "" {
			return r.fail(0, "calendar override without a date")
		}
		if err := r.order(typ, 0, v.Date); err != nil {
			return err
		}
		b.CalendarOverrides = append(b.CalendarOverrides, tongban.CalendarOverride{Date: v.Date, Off: v.Off, Name: v.Name})
	case *apiKeyRec:
		if err := r.order(typ, v.ID, ""); err != nil {
			return err
		}
		b.APIKeys = append(b.APIKeys, v.domain())
	case *caseRec:
		if err := r.order(typ, v.ID, ""); err != nil {
			return err
		}
		want, ok := decodeHash(v.LastHash)
		if !ok || v.Version < 1 {
			return r.fail(v.ID, "bad last_hash %q or version %d", v.LastHash, v.Version)
		}
		r.addChain(v.ID, chain{version: v.Version, want: want})
		b.Cases = append(b.Cases, v.domain())
	case *tongban.Event:
		if err := r.order(typ, v.ID, ""); err != nil {
			return err
		}
		if err := r.checkEvent(v, d.hash); err != nil {
			return err
		}
		b.Events = append(b.Events, v)
	case *attachmentRec:
		if err := r.order(typ, v.ID, ""); err != nil {
			return err
		}
		if r.chainOf(v.CaseID) == nil {
			return r.fail(v.CaseID, "attachment %d belongs to a case not in the dump", v.ID)
		}
		if int64(len(v.Data)) != v.Size {
			return r.fail(v.CaseID, "attachment %d holds %d bytes, its size says %d", v.ID, len(v.Data), v.Size)
		}
		if !d.sha256 {
			return r.fail(v.CaseID, "attachment %d: its data does not match its sha256", v.ID)
		}
		b.Attachments = append(b.Attachments, v.domain())
		r.bytes += len(v.Data)
	case *piiRec:
		if err := r.order(typ, v.ID, ""); err != nil {
			return err
		}
		b.PIIAccess = append(b.PIIAccess, v.domain())
	case *alarmRec:
		if err := r.order(typ, v.ID, ""); err != nil {
			return err
		}
		if r.chainOf(v.CaseID) == nil {
			return r.fail(v.CaseID, "alarm %d belongs to a case not in the dump", v.ID)
		}
		b.Alarms = append(b.Alarms, v.domain())
	case *findingRec:
		if err := r.order(typ, v.ID, ""); err != nil {
			return err
		}
		if r.chainOf(v.CaseID) == nil {
			return r.fail(v.CaseID, "finding %d belongs to a case not in the dump", v.ID)
		}
		b.Findings = append(b.Findings, v.domain())
	case *scoreDayRec:
		e := tongban.ScoreEntry{ScoreKey: tongban.ScoreKey{Dim: v.Dim, Period: v.Day, Key: v.Key}, ScoreCounts: v.domain()}
		if err := r.orderScore(typ, e.ScoreKey); err != nil {
			return err
		}
		r.addDay(e.ScoreKey, &e.ScoreCounts)
		b.ScoreDays = append(b.ScoreDays, e)
	case *scoreMonthRec:
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
// seq, linked to the hash before, with the right hash of its own (hash,
// computed by decodeRecord). Together
// with endChains this is tongban.VerifyChain over each case's events.
func (r *reader) checkEvent(ev *tongban.Event, hash string) error {
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
	if hash != ev.Hash {
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
