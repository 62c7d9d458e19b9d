package sqlite

import (
	"context"
	"database/sql"
)

// LastEventID returns the id of the newest event (0: none). Event ids are
// handed out by the single writer in commit order.
func (db *DB) LastEventID(ctx context.Context) (int64, error) {
	var id sql.NullInt64
	err := db.queryRow(ctx, `SELECT max(id) FROM events`).Scan(&id)
	return id.Int64, err
}
