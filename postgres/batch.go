package postgres

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/tongban/tongban"
)

// createBatcher commits concurrent case creations together: one
// transaction, one round trip for the new ids, one pipelined batch of the
// inserts and the scorecard deltas summed per counter row, one commit. With a
// transaction per case, PostgreSQL's commit rate and the row locks on the
// shared day and month counters (every new case adds to its department's
// and category's rows) held creations well below what the server can do.
//
// A batch that fails for any reason is not retried as a batch: each of its
// creations runs again alone (createOne), so one bad case fails alone and
// reports its own error.
type createBatcher struct {
	db    *DB
	queue chan *createOp
	stop  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

type createOp struct {
	c     *tongban.Case
	first *tongban.Event
	text  caseText
	done  chan error
}

// errAlone tells a caller that its batch failed and it must create alone.
var errAlone = errors.New("postgres: create alone")

const (
	// maxCreateBatch bounds one transaction's creations.
	maxCreateBatch = 256
	// createWorkers is one: while a batch commits the next one gathers,
	// so batches grow with the load. With two, batches were half as big;
	// with several instances on one database each instance's batches are
	// smaller still, and per-batch costs (in the instance and in
	// PostgreSQL) made three instances do 2,669–2,874 creates/s where one
	// worker each does 2,912–3,243 (one instance: the same either way).
	createWorkers = 1
)

func newCreateBatcher(db *DB) *createBatcher {
	b := &createBatcher{db: db, queue: make(chan *createOp, 1024), stop: make(chan struct{})}
	for range createWorkers {
		b.wg.Add(1)
		go b.run()
	}
	return b
}

func (b *createBatcher) close() {
	b.once.Do(func() { close(b.stop) })
	b.wg.Wait()
}

// batchable reports whether a creation can join a batch: its derived
// writes are scorecard deltas only (supervision orders and alarms keep the
// one-by-one path that sets their ids).
func batchable(c *tongban.Case) bool {
	if c.Derived == nil {
		return true
	}
	rest := *c.Derived
	rest.Scores = nil
	return rest.Empty() // so a kind of derived write added later is never dropped here
}

// create queues op and waits for its outcome. It reports errAlone when the
// caller must create alone instead.
func (b *createBatcher) create(ctx context.Context, c *tongban.Case, first *tongban.Event, text caseText) error {
	op := &createOp{c: c, first: first, text: text, done: make(chan error, 1)}
	select {
	case b.queue <- op:
	case <-b.stop:
		return errAlone
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, wait: the batch may commit it whatever ctx does.
	return <-op.done
}

func (b *createBatcher) run() {
	defer b.wg.Done()
	batch := make([]*createOp, 0, maxCreateBatch)
	var spare spareIDs
	for {
		select {
		case op := <-b.queue:
			batch = append(batch[:0], op)
		case <-b.stop:
			for {
				select {
				case op := <-b.queue:
					op.done <- errAlone
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < maxCreateBatch {
			select {
			case op := <-b.queue:
				batch = append(batch, op)
			default:
				break fill
			}
		}
		err := b.commit(batch, &spare)
		for _, op := range batch {
			op.done <- err
		}
	}
}

// commit writes a batch in one transaction and, once it has committed,
// sets ids, versions and hashes on the cases and events as createOne does.
// It returns errAlone when the batch was rolled back, and the error of
// the connection when it failed with the batch in flight: then the outcome
// is unknown and retrying could create the cases twice, so the callers
// report the failure.
func (b *createBatcher) commit(batch []*createOp, spare *spareIDs) error {
	ctx := context.Background()
	n := len(batch)
	rows := make([]tongban.Case, n)
	evs := make([]tongban.Event, n)
	conn, err := b.db.pool.Acquire(ctx)
	if err != nil {
		return errAlone
	}
	defer conn.Release()
	sent := false
	err = func() error {
		ids := spare.take(n, time.Now())
		if len(ids) < n {
			idRows, err := conn.Query(ctx, nextIDsSQL, n-len(ids))
			if err != nil {
				return err
			}
			more, err := pgx.CollectRows(idRows, pgx.RowTo[int64])
			if err != nil {
				return err
			}
			ids = append(ids, more...)
		}
		cases := make([]newCase, n)
		var scores []tongban.ScoreDelta
		for i, op := range batch {
			cases[i] = newCase{row: &rows[i], text: &op.text, first: &evs[i]}
			prepareCreate(ids[i], op.c, op.first, cases[i])
			if op.c.Derived != nil {
				scores = append(scores, op.c.Derived.Scores...)
			}
		}
		q := &pgx.Batch{}
		queueInsert(q, cases)
		// The counters go last, in the same round trip, so their row
		// locks are held as briefly as possible.
		queueScores(q, scores)
		// The ids of the next batch, which is likely as big, come back
		// with this one: enough for a few small batches at a time.
		if len(spare.ids) < n {
			q.Queue(nextIDsSQL, max(n, minSpareIDs)-len(spare.ids)).Query(func(rows pgx.Rows) error {
				next, err := pgx.CollectRows(rows, pgx.RowTo[int64])
				spare.put(next, time.Now())
				return err
			})
		}
		// The batch is its own transaction: the statements of one
		// pipelined batch run in one implicit transaction that commits at
		// its end, which saves the round trips of BEGIN and COMMIT.
		sent = true
		return conn.SendBatch(ctx, q).Close()
	}()
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
	case !sent || errors.As(err, &pgErr):
		// Nothing was sent, or the server refused a statement and rolled
		// the whole batch back: each creation can safely run alone.
		return errAlone
	default:
		// The connection failed while the batch was in flight: it may
		// have committed, so a retry could create the cases twice.
		return err
	}
	for i, op := range batch {
		finishCreate(op.c, op.first, &rows[i], &evs[i])
	}
	return nil
}

// nextIDsSQL reserves $1 case ids.
const nextIDsSQL = `SELECT nextval(pg_get_serial_sequence('cases', 'id')) FROM generate_series(1, $1)`

// spareIDs are case ids a batch reserved for the next one, saving it a
// round trip. They are dropped unused once spareIDAge old (the sequence has
// gaps anyway), so that ids follow the order of creation, across
// instances, to within that.
type spareIDs struct {
	ids []int64
	at  time.Time
}

const spareIDAge = 100 * time.Millisecond

// minSpareIDs is the fewest ids reserved ahead at a time.
const minSpareIDs = 16

// take returns up to n spare ids, oldest first.
func (s *spareIDs) take(n int, now time.Time) []int64 {
	if now.Sub(s.at) > spareIDAge {
		s.ids = nil
	}
	k := min(n, len(s.ids))
	ids := make([]int64, k, n)
	copy(ids, s.ids)
	s.ids = s.ids[k:]
	return ids
}

// put keeps ids as spares reserved at now.
func (s *spareIDs) put(ids []int64, now time.Time) {
	if len(s.ids) == 0 {
		s.at = now
	}
	s.ids = append(s.ids, ids...)
}

// sumScores adds up deltas per counter row.
func sumScores(deltas []tongban.ScoreDelta) []tongban.ScoreDelta {
	type key struct {
		dim, key string
		day      int
	}
	at := map[key]int{}
	var out []tongban.ScoreDelta
	for _, d := range deltas {
		k := key{d.Dim, d.Key, d.Day}
		if i, ok := at[k]; ok {
			out[i].ScoreCounts.Add(&d.ScoreCounts)
			continue
		}
		at[k] = len(out)
		out = append(out, d)
	}
	return out
}

// sortScores orders deltas by counter row, so that concurrent transactions
// (batches, single writes, other instances) lock the rows in one order and
// never deadlock.
func sortScores(deltas []tongban.ScoreDelta) {
	slices.SortFunc(deltas, func(a, b tongban.ScoreDelta) int {
		return cmp.Or(cmp.Compare(a.Dim, b.Dim), cmp.Compare(a.Key, b.Key), cmp.Compare(a.Day, b.Day))
	})
}
