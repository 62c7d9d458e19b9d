package postgres

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"
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

// PutMatter stores m as the next version of its code. Two instances
// putting the same code at once may pick the same number; the primary key
// refuses the second, which then tries the next number.
func (db *DB) PutMatter(ctx context.Context, m *tongban.Matter) error {
	m.CreatedAt = tongban.Now()
	for attempt := 0; ; attempt++ {
		var last int64
		if err := db.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM matters WHERE code=$1`, m.Code).Scan(&last); err != nil {
			return err
		}
		m.Version = int(last) + 1
		def, err := json.Marshal(m)
		if err != nil {
			return err
		}
		_, err = db.pool.Exec(ctx, `INSERT INTO matters (code, version, name, lead_dept, definition, created_at, created_by) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
			m.Code, m.Version, m.Name, m.Lead, string(def), micros(m.CreatedAt), m.CreatedBy)
		if err == nil || !isUnique(err) || attempt == 8 {
			if isUnique(err) {
				return tongban.ErrConflict
			}
			return err
		}
	}
}

// Matter returns one version of a matter; version 0 is the latest.
func (db *DB) Matter(ctx context.Context, code string, version int) (*tongban.Matter, error) {
	if version <= 0 {
		m, err := scanMatter(db.pool.QueryRow(ctx, `SELECT `+matterCols+` FROM matters WHERE code=$1 ORDER BY version DESC LIMIT 1`, code))
		return m, notFound(err)
	}
	m, err := scanMatter(db.pool.QueryRow(ctx, `SELECT `+matterCols+` FROM matters WHERE code=$1 AND version=$2`, code, version))
	return m, notFound(err)
}

// ListMatters returns the latest version of every matter, by code.
func (db *DB) ListMatters(ctx context.Context) ([]*tongban.Matter, error) {
	rows, err := db.pool.Query(ctx, `SELECT DISTINCT ON (code COLLATE "C") `+matterCols+` FROM matters
		ORDER BY code COLLATE "C", version DESC`)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*tongban.Matter, error) { return scanMatter(r) })
	if out == nil {
		out = []*tongban.Matter{}
	}
	return out, err
}
