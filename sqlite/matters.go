package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/tongban/tongban"
)

var _ tongban.MatterStore = (*DB)(nil)

const matterCols = `version, definition, created_at, created_by`

func scanMatter(s interface{ Scan(...any) error }) (*tongban.Matter, error) {
	var m tongban.Matter
	var version, created int64
	var def, by string
	if err := s.Scan(&version, &def, &created, &by); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(def), &m); err != nil {
		return nil, err
	}
	m.Version, m.CreatedAt, m.CreatedBy = int(version), fromMicros(created), by
	return &m, nil
}

// PutMatter stores m as the next version of its code. The single writer
// serialises puts, so reading the last version inside the transaction is
// enough to number the next one.
func (db *DB) PutMatter(ctx context.Context, m *tongban.Matter) error {
	m.CreatedAt = tongban.Now()
	return db.exec(ctx, func(tx *sql.Tx) error {
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM matters WHERE code=?`, m.Code).Scan(&last); err != nil {
			return err
		}
		m.Version = int(last) + 1
		def, err := json.Marshal(m)
		if err != nil {
			return err
		}
		_, err = db.execTx(ctx, tx, `INSERT INTO matters (code, version, name, lead_dept, definition, created_at, created_by) VALUES (?,?,?,?,?,?,?)`,
			m.Code, m.Version, m.Name, m.Lead, string(def), micros(m.CreatedAt), m.CreatedBy)
		return err
	})
}

// Matter returns one version of a matter; version 0 is the latest.
func (db *DB) Matter(ctx context.Context, code string, version int) (*tongban.Matter, error) {
	if version <= 0 {
		m, err := scanMatter(db.queryRow(ctx, `SELECT `+matterCols+` FROM matters WHERE code=? ORDER BY version DESC LIMIT 1`, code))
		return m, notFound(err)
	}
	m, err := scanMatter(db.queryRow(ctx, `SELECT `+matterCols+` FROM matters WHERE code=? AND version=?`, code, version))
	return m, notFound(err)
}

// ListMatters returns the latest version of every matter, by code.
func (db *DB) ListMatters(ctx context.Context) ([]*tongban.Matter, error) {
	rows, err := db.query(ctx, `SELECT `+matterCols+` FROM matters m
		WHERE version = (SELECT MAX(version) FROM matters WHERE code = m.code) ORDER BY code`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*tongban.Matter{}
	for rows.Next() {
		m, err := scanMatter(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
