package tongban

import (
	"context"
	"time"
)

// TextStore is the stores' part of text intelligence. Both stores keep,
// for every case, a full-text index over its pre-segmented title, body,
// reply and address (textproc.IndexText; SQLite: FTS5, PostgreSQL:
// tsvector) and its MinHash signature (textproc.Sign of title and body),
// written in the same transaction as the case when those fields change.
// CaseFilter.Query searches that index. Both are derived data: a dump
// need not carry them, the store rebuilds them (RebuildText) for cases
// that lack them.
type TextStore interface {
	// ScanTexts calls fn for the cases f selects, in ID order.
	ScanTexts(ctx context.Context, f TextScan, fn func(*CaseText) error) error
	// RebuildText indexes every case not yet indexed (after a load or an
	// upgrade) and returns how many it indexed.
	RebuildText(ctx context.Context) (int, error)
	// LastEventID returns the id of the newest event (0: none). Every
	// write of a case writes an event, so the cases with events above an
	// earlier LastEventID (TextScan.EventAfter) are the cases written
	// since — by any instance.
	LastEventID(ctx context.Context) (int64, error)
}

// MaxSearchTotal limits full-text search (CaseFilter.Query), so that a
// query of one common word over millions of cases stays fast: Total
// counts at most MaxSearchTotal matches (SQLite counts a query without
// other filters exactly), and results are ordered by relevance when fewer
// match, else newest first (ranking that many helps nobody; the newest
// matter most).
const MaxSearchTotal = 1000

// TextScan selects cases for ScanTexts. Zero fields select all.
type TextScan struct {
	Kind     string
	Status   string
	From, To time.Time // received in [From, To)
	AfterID  int64
	// EventAfter and EventTo, when EventTo > 0, select only the cases
	// with an event whose id is in (EventAfter, EventTo]: the cases
	// written between two LastEventID calls.
	EventAfter, EventTo int64
	Limit               int  // at most this many (0: no limit)
	WithBody            bool // fill Body and Reply too
}

// CaseText is what text intelligence needs of a case.
type CaseText struct {
	ID           int64
	TrackingCode string
	Kind         string
	Status       string
	Step         string
	Category     string
	Lead, First  string
	Confidential bool
	ParentID     int64
	Title        string
	Body         string
	Reply        string
	Address      string
	Lat, Long    *float64
	Phone        string
	ReceivedAt   time.Time
	ClosedAt     *time.Time
	// Sig is the stored MinHash signature (textproc.Signature.Bytes);
	// nil when the case is not indexed yet.
	Sig []byte
}
