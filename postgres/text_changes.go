package postgres

import "context"

// LastEventID returns the id of the newest event (0: none). Ids are handed
// out when a transaction inserts its event, so one may commit a little
// after a higher one: readers of changes look a little back (see
// engine.Text.CatchUp).
func (db *DB) LastEventID(ctx context.Context) (int64, error) {
	var id *int64
	if err := db.pool.QueryRow(ctx, `SELECT max(id) FROM events`).Scan(&id); err != nil || id == nil {
		return 0, err
	}
	return *id, nil
}
