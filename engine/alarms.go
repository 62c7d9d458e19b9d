package engine

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/supervise"
	"github.com/tongban/tongban/workflow"
)

// OrderWorkflow is the workflow of supervision orders (督办单).
const OrderWorkflow = "supervision_order"

// SystemActor is who raises alarms and opens orders on red cards.
const SystemActor = "system"

var defaultSupervision = supervise.Default()

// SuperviseConfig returns the supervision configuration in force.
func (e *Engine) SuperviseConfig() *supervise.Config {
	if e.Supervision != nil {
		return e.Supervision
	}
	return defaultSupervision
}

// plan lists the timed alarms the case's clocks call for now.
func (e *Engine) plan(ctx context.Context, c *tongban.Case) []supervise.Spec {
	cat, _ := e.Category(ctx, c.Category)
	var step *workflow.Step
	if def := e.Workflows[c.Workflow]; def != nil {
		step = def.Step(c.Step)
	}
	return applicationPlan(c, e.SuperviseConfig().Plan(c, cat, step, e.Calendar()))
}

// centre is the command centre's code: alarms on a case no department
// holds are the centre's.
func (e *Engine) centre(ctx context.Context) string {
	ds, err := e.Departments(ctx)
	if err != nil {
		return ""
	}
	for _, d := range ds {
		if d.Kind == tongban.DeptCentre && !d.Disabled {
			return d.Code
		}
	}
	return ""
}

func (e *Engine) alarmDept(ctx context.Context, c *tongban.Case) string {
	if d := supervise.Responsible(c); d != "" {
		return d
	}
	return e.centre(ctx)
}

// noReasonActions refuse or hand back work; a missing reason is flagged.
var noReasonActions = []string{"return", "request_transfer", "reject_extension", "reject_reply"}

// derive fills c.Derived and c's supervision state for the write of ev:
// prev is the case before (nil for a new case); raised, when not nil, is
// the alarm ev raises; orders are supervision orders opened by the write.
// It recomputes the next alarm instant, clears the alarms a closing or a
// moved deadline ends, raises the flags an event triggers, and adds the
// event's scorecard counts — all written by the store with the event.
func (e *Engine) derive(ctx context.Context, prev, c *tongban.Case, ev *tongban.Event, raised *supervise.Spec, orders ...tongban.NewOrder) {
	cfg := e.SuperviseConfig()
	cal := e.Calendar()
	d := &tongban.Derived{}
	d.Scores = supervise.Deltas(cal, prev, c, ev)
	raise := func(k tongban.AlarmKey, due time.Time, dept string) {
		supervise.Mark(c, k, ev.At)
		if dept == "" {
			dept = e.alarmDept(ctx, c)
		}
		a := tongban.Alarm{Kind: c.Kind, Scope: k.Scope, Colour: k.Colour, Deadline: k.Deadline, DueAt: due, RaisedAt: ev.At,
			Dept: dept, Person: c.Assignee, Category: c.Category}
		d.Raise = append(d.Raise, a)
		if c.Kind != tongban.KindTask { // an order running out counts as the red card on its case
			d.Scores = append(d.Scores, supervise.AlarmDelta(&a)...)
		}
	}
	flag := func(scope string) {
		raise(tongban.AlarmKey{Scope: scope, Colour: tongban.AlarmFlag, Deadline: ev.At}, ev.At, "")
	}
	if c.Kind != tongban.KindTask {
		switch ev.Action {
		case "rate":
			if c.Rating >= 1 && c.Rating <= 2 {
				if c.Supervision == nil {
					c.Supervision = &tongban.Supervision{}
				}
				at := ev.At
				c.Supervision.UnsatisfiedAt = &at
			}
		case "reopen":
			if cfg.FlagReopen {
				flag(tongban.AlarmScopeReopen)
			}
			if c.Supervision != nil {
				c.Supervision.UnsatisfiedAt = nil // being rectified
			}
		case "return":
			if cfg.MaxReturns > 0 && c.Returns > cfg.MaxReturns {
				flag(tongban.AlarmScopeReturns)
			}
		case "dispatch":
			d.Clear = append(d.Clear, supervise.Unmark(c, tongban.AlarmScopeReturns)...) // the centre has ruled
		}
		if cfg.FlagNoReason && ev.Reason == "" && slices.Contains(noReasonActions, ev.Action) {
			flag(tongban.AlarmScopeNoReason)
		}
	}
	// Supervision flags the write added (a fee outside the catalogue, an
	// entry after the fact): the case is flagged once per scope while the
	// flag is live; further flags of the scope are kept in the attrs only
	// (so concurrent writes at one instant cannot collide on the alarm).
	var prevFlags int
	if prev != nil {
		prevFlags = len(tongban.CaseFlags(prev))
	}
	if flags := tongban.CaseFlags(c); len(flags) > prevFlags {
		for _, f := range flags[prevFlags:] {
			sc := tongban.FlagScope(f.Kind)
			if c.Supervision == nil || !slices.ContainsFunc(c.Supervision.Alarms, func(m tongban.AlarmMark) bool { return m.Scope == sc }) {
				flag(sc)
			}
		}
	}
	if raised != nil {
		raise(raised.Key(), raised.DueAt, raised.Dept)
	}
	// The rating rows follow the ratings in the attrs.
	if prev == nil || string(prev.Attrs[tongban.AttrRatings]) != string(c.Attrs[tongban.AttrRatings]) {
		if rows := tongban.RatingRows(c); len(rows) > 0 || prev != nil {
			d.WriteRatings, d.Ratings = true, rows
		}
	}
	for _, o := range orders {
		d.Orders = append(d.Orders, o)
		d.Scores = append(d.Scores, supervise.OrderDelta(ev.At, o.Case.Lead, o.Case.Category)...)
	}
	if c.Status == tongban.StatusClosed {
		// Closing ends every clock but those of 差评 awaiting rectification,
		// which run on (supervise.RatingPlan).
		var keep []tongban.AlarmMark
		var drop []tongban.AlarmKey
		if c.Supervision != nil {
			for _, m := range c.Supervision.Alarms {
				if m.Scope == tongban.AlarmScopeRectify {
					keep = append(keep, m)
				} else {
					drop = append(drop, tongban.AlarmKey{Scope: m.Scope, Colour: m.Colour, Deadline: m.Deadline})
				}
			}
			c.Supervision.Alarms, c.Supervision.UnsatisfiedAt = keep, nil
		}
		switch {
		case len(keep) > 0:
			d.Clear = append(d.Clear, drop...)
		case prev == nil || prev.Status != tongban.StatusClosed || len(drop) > 0:
			d.ClearAll = true
		}
		plan := e.plan(ctx, c)
		d.Clear = append(d.Clear, supervise.Stale(c, plan)...)
		c.NextAlarmAt = supervise.Next(c, plan)
	} else {
		plan := e.plan(ctx, c)
		d.Clear = append(d.Clear, supervise.Stale(c, plan)...)
		c.NextAlarmAt = supervise.Next(c, plan)
	}
	if prev != nil && (prev.Lead != c.Lead || prev.Assignee != c.Assignee) && c.Supervision != nil && len(c.Supervision.Alarms) > 0 {
		d.Reassign, d.Dept, d.Person = true, e.alarmDept(ctx, c), c.Assignee
	}
	if c.Supervision.Empty() {
		c.Supervision = nil
	}
	c.Derived = nil
	if !d.Empty() {
		c.Derived = d
	}
}

// Scanner raises alarms as they fall due. Several scanners (one per
// instance) may run on one store: each claims the due cases with a lease,
// and every alarm is written through the case's optimistic concurrency
// and a unique alarm row, so an alarm is raised once even when a scanner
// dies mid-scan or two race.
type Scanner struct {
	E *Engine
	// Lease is how long a claimed case is left to this scanner.
	Lease time.Duration
	// Batch is how many due cases one claim takes; Workers how many are
	// raised at once.
	Batch, Workers int
	// MaxPerTick bounds the alarms one tick raises (0: no bound); cases
	// claimed beyond it stay leased, as if the scanner had died.
	MaxPerTick int

	raised atomic.Int64
}

// NewScanner returns a scanner over the engine.
func (e *Engine) NewScanner() *Scanner {
	return &Scanner{E: e, Lease: 30 * time.Second, Batch: 1000, Workers: 256}
}

// Raised is how many alarms this scanner has raised.
func (s *Scanner) Raised() int64 { return s.raised.Load() }

// Tick raises every alarm due at now, and returns how many it raised.
func (s *Scanner) Tick(ctx context.Context, now time.Time) (int, error) {
	now = now.UTC().Truncate(time.Microsecond)
	total := 0
	for {
		ids, err := s.E.Store.ClaimDueAlarms(ctx, now, s.Lease, s.Batch)
		if err != nil {
			return total, err
		}
		if len(ids) == 0 {
			return total, nil
		}
		n, err := s.process(ctx, ids, now, false)
		total += n
		if err != nil {
			return total, err
		}
		if len(ids) < s.Batch || s.MaxPerTick > 0 && total >= s.MaxPerTick {
			return total, nil
		}
	}
}

func (s *Scanner) process(ctx context.Context, ids []int64, now time.Time, historic bool) (int, error) {
	workers := max(1, min(s.Workers, len(ids)))
	var (
		wg    sync.WaitGroup
		next  atomic.Int64
		total atomic.Int64
		errMu sync.Mutex
		first error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ids) || ctx.Err() != nil || s.MaxPerTick > 0 && total.Load() >= int64(s.MaxPerTick) {
					return
				}
				n, err := s.E.raiseDue(ctx, ids[i], now, historic)
				total.Add(int64(n))
				if err != nil {
					s.E.Log.Error("alarm scan", "case", ids[i], "err", err)
					errMu.Lock()
					if first == nil {
						first = err
					}
					errMu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	s.raised.Add(total.Load())
	return int(total.Load()), first
}

// Run ticks every interval on the engine's clock until ctx ends. Claims
// are leased for one interval, so the cases a dead instance had claimed
// are raised by another within about one more interval.
func (s *Scanner) Run(ctx context.Context, interval time.Duration) {
	s.Lease = max(interval, time.Second)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.Tick(ctx, s.E.Now()); err != nil && ctx.Err() == nil {
			s.E.Log.Error("alarm scan", "err", err)
		} else if n > 0 {
			s.E.Log.Info("alarms raised", "n", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func isConflict(err error) bool { return tongban.AsError(err) == tongban.ErrConflict }

// raiseDue raises the alarms of one case due at now, earliest first,
// re-reading the case after a conflict. A historic raise (an import)
// dates each alarm at its due instant instead of now.
func (e *Engine) raiseDue(ctx context.Context, id int64, now time.Time, historic bool) (int, error) {
	return e.raiseDueOpts(ctx, id, now, historic, true)
}

func (e *Engine) raiseDueOpts(ctx context.Context, id int64, now time.Time, historic, orders bool) (int, error) {
	n, conflicts := 0, 0
	for conflicts < 8 {
		c, err := e.Store.Case(ctx, id)
		if err != nil {
			return n, err
		}
		plan := e.plan(ctx, c)
		due := supervise.Due(c, plan, now)
		if len(due) == 0 {
			next := supervise.Next(c, plan)
			if !sameTime(next, c.NextAlarmAt) {
				if err := e.Store.SetNextAlarm(ctx, c.ID, c.Version, next); isConflict(err) {
					conflicts++
					continue
				} else if err != nil {
					return n, err
				}
			}
			return n, nil
		}
		sp := due[0]
		at := now
		if historic {
			at = sp.DueAt
		}
		if c.Kind == tongban.KindTask && c.Supervises != 0 && sp.Scope == tongban.AlarmScopeCase && sp.Colour == tongban.AlarmYellow {
			// The order ran out: a red card on the case it supervises first,
			// so a crash between the two writes loses neither.
			m, err := e.raiseOrderRed(ctx, c, at)
			n += m
			if err != nil {
				return n, err
			}
		}
		if sp.Scope == tongban.AlarmScopeAutoAccept {
			err = e.autoAccept(ctx, c, at)
		} else {
			err = e.raise(ctx, c, sp, at, orders)
		}
		if isConflict(err) {
			conflicts++
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, tongban.ErrConflict
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func (e *Engine) raiseOrderRed(ctx context.Context, order *tongban.Case, at time.Time) (int, error) {
	sp := supervise.Spec{Scope: tongban.AlarmScopeOrder, Colour: tongban.AlarmRed, Deadline: order.Deadline, DueAt: supervise.Overdue(order.Deadline)}
	for range 8 {
		p, err := e.Store.Case(ctx, order.Supervises)
		if err != nil {
			return 0, err
		}
		if p.Status == tongban.StatusClosed || supervise.Raised(p, sp.Key()) {
			return 0, nil
		}
		err = e.raise(ctx, p, sp, at, false)
		if err == nil {
			return 1, nil
		}
		if !isConflict(err) {
			return 0, err
		}
	}
	return 0, tongban.ErrConflict
}

// raise writes one alarm event on c; a red card on a whole case opens a
// supervision order in the same transaction unless one is running.
func (e *Engine) raise(ctx context.Context, c *tongban.Case, sp supervise.Spec, at time.Time, allowOrder bool) error {
	prev := *c
	dept := sp.Dept
	if dept == "" {
		dept = e.alarmDept(ctx, c)
	}
	payload := map[string]any{"scope": sp.Scope, "deadline": sp.Deadline, "due_at": sp.DueAt, "department": dept}
	var orders []tongban.NewOrder
	if allowOrder && sp.Colour == tongban.AlarmRed && sp.Scope == tongban.AlarmScopeCase && c.Kind != tongban.KindTask && !orderRunning(c, at) {
		th := e.SuperviseConfig().For(c.Category)
		if dept := supervise.Responsible(c); dept != "" && th.OrderWorkdays > 0 {
			o, err := e.newOrder(ctx, c, orderSpec{Dept: dept, Demand: "办件已超期" + itoa(th.RedAfterWorkdays) + "个工作日（红牌），请立即办理并书面说明超期原因。",
				Workdays: th.OrderWorkdays, Auto: true}, SystemActor, 0, "", at)
			if err != nil {
				return err
			}
			orders = append(orders, o)
			payload["order"] = o.Case.TrackingCode
		}
	}
	raw, _ := json.Marshal(payload)
	ev := &tongban.Event{CaseID: c.ID, Seq: c.Version + 1, Action: sp.Action(), FromStep: c.Step, ToStep: c.Step,
		Actor: SystemActor, At: at, Payload: raw, PrevHash: c.LastHash}
	ev.Hash = ev.ComputeHash()
	version := c.Version
	c.Version, c.LastHash, c.UpdatedAt = version+1, ev.Hash, at
	e.derive(ctx, &prev, c, ev, &sp, orders...)
	return e.Store.UpdateCase(ctx, c, version, ev)
}

func orderRunning(c *tongban.Case, now time.Time) bool {
	if c.Supervision == nil {
		return false
	}
	for _, o := range c.Supervision.Orders {
		if o.Deadline.After(now) {
			return true
		}
	}
	return false
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// RaiseHistory raises, dated at their due instants, the alarms of a case
// due up to until: an imported case gets the alarms it would have had.
// With orders, a red card opens its order (and the order's own alarms
// follow, dated likewise); a case the history closes gets none.
func (e *Engine) RaiseHistory(ctx context.Context, id int64, until time.Time, orders bool) (int, error) {
	n, err := e.raiseDueOpts(ctx, id, until, true, orders)
	if err != nil || !orders {
		return n, err
	}
	c, err := e.Store.Case(ctx, id)
	if err != nil || c.Supervision == nil {
		return n, err
	}
	for _, o := range c.Supervision.Orders {
		oc, err := e.Store.CaseByCode(ctx, o.Code)
		if err != nil {
			return n, err
		}
		m, err := e.raiseDueOpts(ctx, oc.ID, until, true, false)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
