package dump

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/tongban/tongban"
)

// Page sizes of the keyset-paginated reads: memory stays flat however
// large the store. Attachments (up to 10 MB each) are read a few at a time.
const (
	pageSize           = 1000
	attachmentPageSize = 4
)

// encoder writes records as lines and hashes them.
type encoder struct {
	w     *bufio.Writer
	buf   bytes.Buffer
	enc   *json.Encoder
	sum   hash.Hash
	count Counts
}

func newEncoder(w io.Writer) *encoder {
	e := &encoder{w: bufio.NewWriterSize(w, 1<<20), sum: sha256.New(), count: newCounts()}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

// line encodes v as one line; hashed tells whether it counts in the
// checksum.
func (e *encoder) line(v any, hashed bool) error {
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil { // Encode appends the newline
		return err
	}
	if hashed {
		e.sum.Write(e.buf.Bytes())
	}
	_, err := e.w.Write(e.buf.Bytes())
	return err
}

func (e *encoder) record(typ string, v any) error {
	e.count[typ]++
	return e.line(v, true)
}

// Write writes a dump of the whole store to w, read from one consistent
// snapshot, and returns the counts. exportedAt goes in the header.
func Write(ctx context.Context, st tongban.Store, w io.Writer, exportedAt time.Time) (Counts, error) {
	snap, err := st.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("dump: snapshot: %w", err)
	}
	defer snap.Close()
	e := newEncoder(w)
	if err := e.line(header{Format, Version, Time{exportedAt}}, false); err != nil {
		return nil, err
	}
	if err := writeAll(ctx, snap, e); err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	if err := e.line(endRec{typeEnd, e.count, hex.EncodeToString(e.sum.Sum(nil))}, false); err != nil {
		return nil, err
	}
	if err := e.w.Flush(); err != nil {
		return nil, err
	}
	return e.count, nil
}

func writeAll(ctx context.Context, snap tongban.Snapshot, e *encoder) error {
	depts, err := snap.DumpDepartments(ctx)
	if err != nil {
		return err
	}
	for _, d := range depts {
		if err := e.record(TypeDepartment, toDept(d)); err != nil {
			return err
		}
	}
	users, err := snap.DumpUsers(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		if err := e.record(TypeUser, toUser(u)); err != nil {
			return err
		}
	}
	cats, err := snap.DumpCategories(ctx)
	if err != nil {
		return err
	}
	for _, c := range cats {
		if err := e.record(TypeCategory, toCategory(c)); err != nil {
			return err
		}
	}
	if err := matterPages(ctx, pageSize, snap.DumpMatters, func(m *tongban.MatterRecord) error {
		return e.record(TypeMatter, toMatter(m))
	}); err != nil {
		return err
	}
	overrides, err := snap.DumpCalendarOverrides(ctx)
	if err != nil {
		return err
	}
	for _, o := range overrides {
		if err := e.record(TypeCalendarOverride, calendarRec{TypeCalendarOverride, o.Date, o.Off, o.Name}); err != nil {
			return err
		}
	}
	keys, err := snap.DumpAPIKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := e.record(TypeAPIKey, toAPIKey(k)); err != nil {
			return err
		}
	}
	if err := pages(ctx, pageSize, snap.DumpCases, func(c *tongban.Case) (int64, error) {
		return c.ID, e.record(TypeCase, toCase(c))
	}); err != nil {
		return err
	}
	if err := pages(ctx, pageSize, snap.DumpEvents, func(ev *tongban.Event) (int64, error) {
		return ev.ID, e.record(TypeEvent, toEvent(ev))
	}); err != nil {
		return err
	}
	if err := pages(ctx, attachmentPageSize, snap.DumpAttachments, func(a *tongban.Attachment) (int64, error) {
		return a.ID, e.record(TypeAttachment, toAttachment(a))
	}); err != nil {
		return err
	}
	if err := pages(ctx, pageSize, snap.DumpPIIAccess, func(a tongban.PIIAccess) (int64, error) {
		return a.ID, e.record(TypePIIAccess, toPII(&a))
	}); err != nil {
		return err
	}
	if err := pages(ctx, pageSize, snap.DumpAlarms, func(a *tongban.Alarm) (int64, error) {
		return a.ID, e.record(TypeAlarm, toAlarm(a))
	}); err != nil {
		return err
	}
	if err := pages(ctx, pageSize, snap.DumpFindings, func(f *tongban.Finding) (int64, error) {
		return f.ID, e.record(TypeFinding, toFinding(f))
	}); err != nil {
		return err
	}
	if err := scorePages(ctx, pageSize, snap.DumpScoreDays, func(s *tongban.ScoreEntry) error {
		return e.record(TypeScoreDay, toScoreDay(s))
	}); err != nil {
		return err
	}
	return scorePages(ctx, pageSize, snap.DumpScoreMonths, func(s *tongban.ScoreEntry) error {
		return e.record(TypeScoreMonth, toScoreMonth(s))
	})
}

// matterPages is pages for matters, keyed by (code, version).
func matterPages(ctx context.Context, limit int, read func(ctx context.Context, after *tongban.MatterKey, limit int) ([]tongban.MatterRecord, error), emit func(*tongban.MatterRecord) error) error {
	var last *tongban.MatterKey
	for {
		page, err := read(ctx, last, limit)
		if err != nil {
			return err
		}
		for i := range page {
			m := &page[i]
			if last != nil && m.MatterKey.Compare(*last) <= 0 {
				return fmt.Errorf("store returned matter %v after %v: pages must be in (code, version) order", m.MatterKey, *last)
			}
			if err := emit(m); err != nil {
				return err
			}
			k := m.MatterKey
			last = &k
		}
		if len(page) < limit {
			return nil
		}
	}
}

// scorePages is pages for the score tables, keyed by (dim, period, key).
func scorePages(ctx context.Context, limit int, read func(ctx context.Context, after *tongban.ScoreKey, limit int) ([]tongban.ScoreEntry, error), emit func(*tongban.ScoreEntry) error) error {
	var last *tongban.ScoreKey
	for {
		page, err := read(ctx, last, limit)
		if err != nil {
			return err
		}
		for i := range page {
			s := &page[i]
			if last != nil && s.ScoreKey.Compare(*last) <= 0 {
				return fmt.Errorf("store returned score row %v after %v: pages must be in (dim, period, key) order", s.ScoreKey, *last)
			}
			if err := emit(s); err != nil {
				return err
			}
			k := s.ScoreKey
			last = &k
		}
		if len(page) < limit {
			return nil
		}
	}
}

// pages reads every record through a keyset-paginated read and hands each
// to emit, which returns its id.
func pages[T any](ctx context.Context, limit int, read func(ctx context.Context, afterID int64, limit int) ([]T, error), emit func(T) (int64, error)) error {
	var last int64
	for {
		page, err := read(ctx, last, limit)
		if err != nil {
			return err
		}
		for _, v := range page {
			id, err := emit(v)
			if err != nil {
				return err
			}
			if id <= last {
				return fmt.Errorf("store returned id %d after %d: pages must be in id order", id, last)
			}
			last = id
		}
		if len(page) < limit {
			return nil
		}
	}
}
