package supervise

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tongban/tongban"
)

// ImportRow is one case from a legacy system's CSV export.
type ImportRow struct {
	Line       int
	ReceivedAt time.Time
	Type       string
	Category   string
	Title      string
	Body       string
	Dept       string
	ClosedAt   *time.Time
	Reply      string
	Rating     int
	Address    string
	Lat, Long  *float64
	Phone      string
}

// RowError is a rejected row: its line in the file and why.
type RowError struct {
	Line   int
	Reason string
}

func (e RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// Refs checks references against the store; nil funcs accept anything.
type Refs struct {
	Category   func(code string) bool
	Dept       func(code string) bool
	ValidPhone func(s string) bool
	Now        time.Time
}

var required = []string{"received_at", "type", "category", "title", "body", "department"}

var known = map[string]bool{"received_at": true, "type": true, "category": true, "title": true, "body": true, "department": true,
	"closed_at": true, "reply": true, "rating": true, "address": true, "lat": true, "long": true, "phone": true}

// ParseCSV reads a header row and then one case per row, checking every
// row; it returns the good rows and an error for each bad one, with its
// line number (1 is the header). A file it cannot read at all is an error.
func ParseCSV(r io.Reader, refs Refs) ([]ImportRow, []RowError, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("reading header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !known[h] {
			return nil, nil, fmt.Errorf("header: unknown column %q", h)
		}
		if _, dup := col[h]; dup {
			return nil, nil, fmt.Errorf("header: column %q repeated", h)
		}
		col[h] = i
	}
	for _, c := range required {
		if _, ok := col[c]; !ok {
			return nil, nil, fmt.Errorf("header: missing column %q", c)
		}
	}
	var rows []ImportRow
	var bad []RowError
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, RowError{pe.StartLine, "malformed CSV: " + pe.Err.Error()})
				continue
			}
			return nil, nil, err
		}
		if len(rec) != len(header) {
			bad = append(bad, RowError{line, fmt.Sprintf("%d fields, header has %d", len(rec), len(header))})
			continue
		}
		get := func(name string) string {
			if i, ok := col[name]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		row, reason := parseRow(get, refs)
		if reason != "" {
			bad = append(bad, RowError{line, reason})
			continue
		}
		row.Line = line
		rows = append(rows, row)
	}
	return rows, bad, nil
}

func parseRow(get func(string) string, refs Refs) (ImportRow, string) {
	var r ImportRow
	var err error
	if r.ReceivedAt, err = time.Parse(time.RFC3339, get("received_at")); err != nil {
		return r, "received_at: not an RFC 3339 time: " + strconv.Quote(get("received_at"))
	}
	r.ReceivedAt = r.ReceivedAt.UTC().Truncate(time.Microsecond)
	if !refs.Now.IsZero() && r.ReceivedAt.After(refs.Now) {
		return r, "received_at: in the future"
	}
	typ, ok := tongban.ParseType(get("type"))
	if !ok {
		return r, "type: must be 咨询/求助/投诉/举报/建议 or consultation/help/complaint/report/suggestion: " + strconv.Quote(get("type"))
	}
	r.Type = typ
	r.Category = get("category")
	if r.Category == "" || refs.Category != nil && !refs.Category(r.Category) {
		return r, "category: unknown category " + strconv.Quote(r.Category)
	}
	r.Title, r.Body, r.Address = get("title"), get("body"), get("address")
	switch {
	case r.Title == "":
		return r, "title: empty"
	case utf8.RuneCountInString(r.Title) > tongban.MaxTitle:
		return r, "title: longer than 200 characters"
	case r.Body == "":
		return r, "body: empty"
	case utf8.RuneCountInString(r.Body) > tongban.MaxBody:
		return r, "body: longer than 4000 characters"
	case utf8.RuneCountInString(r.Address) > tongban.MaxAddress:
		return r, "address: longer than 200 characters"
	}
	r.Dept = get("department")
	if r.Dept != "" && refs.Dept != nil && !refs.Dept(r.Dept) {
		return r, "department: unknown or disabled department " + strconv.Quote(r.Dept)
	}
	if v := get("closed_at"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return r, "closed_at: not an RFC 3339 time: " + strconv.Quote(v)
		}
		t = t.UTC().Truncate(time.Microsecond)
		if t.Before(r.ReceivedAt) {
			return r, "closed_at: before received_at"
		}
		if !refs.Now.IsZero() && t.After(refs.Now) {
			return r, "closed_at: in the future"
		}
		r.ClosedAt = &t
	}
	r.Reply = get("reply")
	if utf8.RuneCountInString(r.Reply) > tongban.MaxReply {
		return r, "reply: longer than 4000 characters"
	}
	if v := get("rating"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 5 {
			return r, "rating: must be 1 to 5: " + strconv.Quote(v)
		}
		if r.ClosedAt == nil {
			return r, "rating: given for a case not closed"
		}
		r.Rating = n
	}
	if r.ClosedAt != nil && r.Dept == "" && r.Reply == "" {
		return r, "closed_at: a closed case needs a department or a reply"
	}
	lat, long := get("lat"), get("long")
	if (lat == "") != (long == "") {
		return r, "lat/long: give both or neither"
	}
	if lat != "" {
		a, err1 := strconv.ParseFloat(lat, 64)
		b, err2 := strconv.ParseFloat(long, 64)
		if err1 != nil || err2 != nil || a < -90 || a > 90 || b < -180 || b > 180 {
			return r, "lat/long: not valid coordinates"
		}
		r.Lat, r.Long = &a, &b
	}
	r.Phone = get("phone")
	if r.Phone != "" && refs.ValidPhone != nil && !refs.ValidPhone(r.Phone) {
		return r, "phone: invalid number " + strconv.Quote(r.Phone)
	}
	return r, ""
}
