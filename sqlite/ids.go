package sqlite

import (
	"context"
	"database/sql"
)

// nextCaseID hands out case ids. It runs only on the writer goroutine, so
// a counter read once from the table is enough; an id whose write rolls
// back leaves a harmless gap. Reading MAX(id) per create cost a sixth of
// the writer's time.
func (db *DB) nextCaseID(ctx context.Context, tx *sql.Tx) (int64, error) {
	if db.caseID == 0 {
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM cases`).Scan(&db.caseID); err != nil {
			return 0, err
		}
	}
	db.caseID++
	return db.caseID, nil
}
