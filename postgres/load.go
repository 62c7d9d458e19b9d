package postgres

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/tongban/tongban"
	"github.com/tongban/tongban/textproc"
)

// Loading cases (Store.Load) with their search_tsv built in Go.
//
// A case's search_tsv is tsvOf(…) over the segmented title, address, body
// and reply: to_tsvector('simple', …) of each, weighted A to D, joined by
// ||. For segmented text whose every token PostgreSQL's default parser
// takes whole as one word — lower-case ASCII letters and digits, and the
// Han characters of Unicode 3.0 (U+3400–U+4DB5, U+4E00–U+9FA5), alphabetic
// in every UTF-8 locale — that value follows from the tokens alone, and
// caseTSVector computes it here, so the row goes by COPY straight into
// cases. A case with any other token (a Latin letter with an accent, a
// Cyrillic word, a rarer Han character) is loaded the old way, through a
// temporary table and to_tsvector in PostgreSQL. TestLoadTSVector
// compares the two on varied text, and every load first checks the
// server agrees on a probe text (goTSVAgrees, when the store opens),
// falling back to to_tsvector for every case otherwise. New cases are
// built the same way (newCaseText).

// PostgreSQL's limits on tsvector positions (tsearch/ts_type.h).
const (
	maxEntryPos = 1<<14 - 1 // MAXENTRYPOS - 1: positions are clamped to it
	maxNumPos   = 256       // MAXNUMPOS: positions kept per lexeme
)

// safeToken reports whether PostgreSQL's default parser reads tok as one
// word whose lexeme under the simple dictionary is tok itself.
func safeToken(tok string) bool {
	if tok == "" {
		return false
	}
	for _, r := range tok {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
		case 0x4E00 <= r && r <= 0x9FA5, 0x3400 <= r && r <= 0x4DB5:
		default:
			return false
		}
	}
	return true
}

// tsvBuilder builds tsvectors; it keeps its maps between cases.
type tsvBuilder struct {
	field map[string][]uint16 // a field's lexemes and positions
	all   map[string][]pgtype.TSVectorPosition
	toks  []string
}

func newTSVBuilder() *tsvBuilder {
	return &tsvBuilder{field: map[string][]uint16{}, all: map[string][]pgtype.TSVectorPosition{}}
}

var tsvWeights = [4]pgtype.TSVectorWeight{pgtype.TSVectorWeightA, pgtype.TSVectorWeightB, pgtype.TSVectorWeightC, pgtype.TSVectorWeightD}

// caseTSVector returns the search_tsv of a case's fields (title, address,
// body, reply) as tsvOf over their textproc.IndexText gives it, or false
// when a token is not one caseTSVector can vouch for (safeToken).
func (b *tsvBuilder) caseTSVector(fields [4]string) (pgtype.TSVector, bool) {
	clear(b.all)
	maxPos := 0 // the largest position in b.all, as tsvector_concat finds it
	for k, f := range fields {
		b.toks = textproc.AppendTokens(b.toks[:0], f)
		if len(b.toks) == 0 {
			continue
		}
		// to_tsvector (parsetext, then uniqueWORD): the n-th token is at
		// position n, clamped; a lexeme keeps at most maxNumPos-1 distinct
		// positions, none after a clamped one.
		clear(b.field)
		for i, tok := range b.toks {
			if !safeToken(tok) {
				return pgtype.TSVector{}, false
			}
			pos := uint16(min(i+1, maxEntryPos))
			ps := b.field[tok]
			if n := len(ps); n == 0 || n < maxNumPos-1 && ps[n-1] != maxEntryPos && ps[n-1] != pos {
				b.field[tok] = append(ps, pos)
			}
		}
		// setweight, then tsvector_concat (add_pos): the field's positions
		// move past the largest position so far, clamped; a lexeme keeps at
		// most maxNumPos, none after a clamped one.
		next := maxPos
		for tok, ps := range b.field {
			dst := b.all[tok]
			for _, p := range ps {
				if n := len(dst); n >= maxNumPos || n > 0 && dst[n-1].Position == maxEntryPos {
					break
				}
				np := uint16(min(int(p)+maxPos, maxEntryPos))
				dst = append(dst, pgtype.TSVectorPosition{Position: np, Weight: tsvWeights[k]})
				next = max(next, int(np))
			}
			b.all[tok] = dst
		}
		maxPos = next
	}
	v := pgtype.TSVector{Lexemes: make([]pgtype.TSVectorLexeme, 0, len(b.all)), Valid: true}
	for tok, ps := range b.all {
		v.Lexemes = append(v.Lexemes, pgtype.TSVectorLexeme{Word: tok, Positions: ps})
	}
	// Lexemes in PostgreSQL's order: bytewise, a prefix first.
	slices.SortFunc(v.Lexemes, func(a, b pgtype.TSVectorLexeme) int { return strings.Compare(a.Word, b.Word) })
	return v, true
}

// tsvProbe is text with every kind of token caseTSVector builds: words,
// numbers, bigrams, lone characters, repeats past the positions kept.
var tsvProbe = func() [4]string {
	var body []byte
	for range 300 {
		body = append(body, "油烟扰民 abc 12 "...)
	}
	return [4]string{"违章搭建 A1 x", "建设路 88 号", string(body), "已处理，谢谢 ok"}
}()

// loadState is what a DB knows of the load in progress, from its first
// Load to FinishLoad.
type loadState struct {
	mu sync.Mutex
	// build, once started, is closed when the background build of the
	// search index (and ANALYZE of cases) has ended; should it have
	// failed, FinishLoad builds the index.
	build    chan struct{}
	analyzed bool // the build analysed cases
	// casesAfter: cases were loaded after the build started.
	casesAfter bool
}

// loadStates holds the loadState of each DB loading (an entry stays
// behind only for a load given up before FinishLoad).
var loadStates sync.Map // *DB → *loadState

func (db *DB) loadState() *loadState {
	s, _ := loadStates.LoadOrStore(db, &loadState{})
	return s.(*loadState)
}

// afterLoad is called after a Load of b committed. A dump holds every
// case before any event: the first batch with events and no cases starts
// building the search index, if Load dropped it, on a connection of its
// own, while the events go on loading (PostgreSQL builds an index on one
// core). It runs under ctx: should the load be given up, so is the build.
func (db *DB) afterLoad(ctx context.Context, b *tongban.LoadBatch) {
	s := db.loadState()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.build != nil {
		s.casesAfter = s.casesAfter || len(b.Cases) > 0
		return
	}
	if len(b.Cases) > 0 || len(b.Events) == 0 {
		return
	}
	s.build = make(chan struct{})
	go func() {
		analyzed := false
		err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
			var missing bool
			if err := tx.QueryRow(ctx, `SELECT to_regclass('cases_search') IS NULL`).Scan(&missing); err != nil || !missing {
				return err
			}
			if err := ensureSearchIndex(ctx, tx); err != nil {
				return err
			}
			// Its statistics too, while the events load.
			_, err := tx.Exec(ctx, `ANALYZE cases`)
			analyzed = err == nil
			return err
		})
		s.mu.Lock()
		s.analyzed = analyzed && err == nil
		s.mu.Unlock()
		close(s.build)
	}()
}

// endLoad waits for a background build afterLoad started and forgets the
// load. It reports whether cases was built and analysed with every case
// loaded; if not (no build, a failed one, cases loaded since),
// FinishLoad does it.
func (db *DB) endLoad() (casesDone bool) {
	v, ok := loadStates.LoadAndDelete(db)
	if !ok {
		return false
	}
	s := v.(*loadState)
	s.mu.Lock()
	build := s.build
	s.mu.Unlock()
	if build == nil {
		return false
	}
	<-build
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.analyzed && !s.casesAfter
}

// caseFields are the fields of search_tsv, in tsvOf's order.
func caseFields(c *tongban.Case) [4]string { return [4]string{c.Title, c.Address, c.Body, c.Reply} }

// loadCases inserts loaded cases (Load) with their text columns, so that
// they are searchable at once, as created ones are, and RebuildText finds
// nothing left to do. Signatures and tsvectors are computed here, on
// every core, in chunks that the COPY sends as each is done, so that
// PostgreSQL writes rows while Go computes the next ones. The cases whose
// tsvector caseTSVector builds go by that COPY straight into cases; the
// others by a second COPY into a temporary table with their segmented
// texts, then into cases by one INSERT … SELECT that calls to_tsvector.
func (db *DB) loadCases(ctx context.Context, tx pgx.Tx, cases []*tongban.Case) error {
	if len(cases) == 0 {
		return nil
	}
	useGo := db.goTSV
	// Into an empty table, the search index is dropped and built once
	// all cases are in (afterLoad, or FinishLoad): far faster than growing
	// it batch by batch.
	if _, err := tx.Exec(ctx, `DO $$ BEGIN IF NOT EXISTS (SELECT FROM cases) THEN DROP INDEX IF EXISTS cases_search; END IF; END $$`); err != nil {
		return err
	}
	src := newCaseRows(cases, useGo)
	cols := append(slices.Clone(caseColNames), "search_tsv", "text_sig")
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"cases"}, cols, src); err != nil {
		src.wait()
		return err
	}
	src.wait()
	if len(src.other) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE load_cases (LIKE cases INCLUDING DEFAULTS, seg_title text, seg_address text, seg_body text, seg_reply text) ON COMMIT DROP`); err != nil {
		return err
	}
	cols = append(slices.Clone(caseColNames), "seg_title", "seg_address", "seg_body", "seg_reply", "text_sig")
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"load_cases"}, cols, pgx.CopyFromSlice(len(src.other), func(j int) ([]any, error) {
		i := src.other[j]
		c := cases[i]
		t := &src.texts[i]
		return append(append([]any{c.ID}, caseArgs(c)...), t.seg[0], t.seg[1], t.seg[2], t.seg[3], t.sig), nil
	})); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO cases (`+caseCols+`, search_tsv, text_sig) SELECT `+caseCols+`, `+
		tsvOf("seg_title", "seg_address", "seg_body", "seg_reply")+`, text_sig FROM load_cases`)
	return err
}

// caseRows is the COPY source of loadCases: the cases whose tsvector was
// built in Go, in order, each as soon as its chunk is computed; the
// others are listed in other once the COPY has read them all.
type caseRows struct {
	cases []*tongban.Case
	texts []caseText
	ready []chan struct{} // closed when chunk k of texts is computed
	done  sync.WaitGroup
	i     int // the current case, from -1
	other []int
}

const caseChunk = 64

func newCaseRows(cases []*tongban.Case, useGo bool) *caseRows {
	r := &caseRows{cases: cases, texts: make([]caseText, len(cases)), i: -1}
	chunks := (len(cases) + caseChunk - 1) / caseChunk
	r.ready = make([]chan struct{}, chunks)
	for k := range r.ready {
		r.ready[k] = make(chan struct{})
	}
	workers := min(runtime.GOMAXPROCS(0), chunks)
	for w := range workers {
		r.done.Add(1)
		go func() {
			defer r.done.Done()
			for k := w; k < chunks; k += workers {
				for i := k * caseChunk; i < min((k+1)*caseChunk, len(cases)); i++ {
					r.texts[i] = newCaseText(cases[i], useGo)
				}
				close(r.ready[k])
			}
		}()
	}
	return r
}

// wait returns once every chunk is computed.
func (r *caseRows) wait() { r.done.Wait() }

func (r *caseRows) Next() bool {
	for r.i++; r.i < len(r.cases); r.i++ {
		if r.i%caseChunk == 0 {
			<-r.ready[r.i/caseChunk]
		}
		if r.texts[r.i].tsv.Valid {
			return true
		}
		r.other = append(r.other, r.i)
	}
	return false
}

func (r *caseRows) Values() ([]any, error) {
	c, t := r.cases[r.i], &r.texts[r.i]
	return append(append([]any{c.ID}, caseArgs(c)...), t.tsv, t.sig), nil
}

func (r *caseRows) Err() error { return nil }
