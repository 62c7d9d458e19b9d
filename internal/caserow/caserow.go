// Package caserow holds what both stores share to read a case row with
// its attachments' metadata in one statement: a case page is the most
// frequent read, and a second query for its attachments cost as much
// again as the row itself.
package caserow

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tongban/tongban"
)

// Attachment is one element of the JSON list a store's query builds per
// case (SQLite json_object, PostgreSQL json_build_object) with these keys;
// created_at ("c") is in microseconds since the epoch, as both stores keep it.
type Attachment struct {
	ID          int64  `json:"i"`
	Name        string `json:"n"`
	ContentType string `json:"t"`
	Size        int64  `json:"s"`
	SHA256      string `json:"h"`
	Created     int64  `json:"c"`
}

// DecodeAttachments sets c.Attachments from such a list ("" or "[]": none).
func DecodeAttachments(c *tongban.Case, list string) error {
	if list == "" || list == "[]" {
		return nil
	}
	var rows []Attachment
	if err := json.Unmarshal([]byte(list), &rows); err != nil {
		return fmt.Errorf("attachments of case %d: %w", c.ID, err)
	}
	c.Attachments = make([]tongban.Attachment, 0, len(rows))
	for _, r := range rows {
		c.Attachments = append(c.Attachments, tongban.Attachment{ID: r.ID, CaseID: c.ID, Name: r.Name, ContentType: r.ContentType,
			Size: r.Size, SHA256: r.SHA256, CreatedAt: time.UnixMicro(r.Created).UTC()})
	}
	return nil
}

// Scanner is a row of a query result.
type Scanner interface{ Scan(dest ...any) error }

// WithExtra scans a row into a case scanner's destinations followed by
// extra ones, for queries that add columns after the case's.
func WithExtra(s Scanner, extra ...any) Scanner { return withExtra{s, extra} }

type withExtra struct {
	s     Scanner
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.s.Scan(append(dest, w.extra...)...) }
