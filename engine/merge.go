package engine

import (
	"context"
	"encoding/json"

	"github.com/tongban/tongban"
)

// Merged requests (并单) are handled once: when the case they were merged
// into is answered (reaches rating) or closed, each of them gets the same
// reply and step, as an event of its own, so that every requester is told
// and can rate it.

// Outcome actions recorded on merged requests.
const actMergedOutcome = "merged_outcome"

// propagateMerged passes c's outcome on to the requests merged into it.
func (e *Engine) propagateMerged(ctx context.Context, c *tongban.Case, ev *tongban.Event) {
	if c.Kind != tongban.KindRequest || ev.FromStep == ev.ToStep || (c.Step != "rating" && c.Status != tongban.StatusClosed) {
		return
	}
	page, err := e.Store.ListCases(ctx, tongban.CaseFilter{Kind: c.Kind, Steps: []string{StepMerged}, Limit: 500, Sort: "received"})
	if err != nil {
		e.Log.Warn("merged cases: list failed", "case", c.ID, "err", err)
		return
	}
	for _, m := range page.Cases {
		if m.ParentID != c.ID {
			continue
		}
		for range 3 { // re-read on a concurrent change
			if err := e.applyOutcome(ctx, c, m); err == nil || tongban.ErrorCode(err) != tongban.EConflict {
				if err != nil {
					e.Log.Warn("merged case: outcome failed", "case", m.ID, "into", c.ID, "err", err)
				}
				break
			}
			fresh, err := e.Store.Case(ctx, m.ID)
			if err != nil || fresh.Step != StepMerged || fresh.ParentID != c.ID {
				break
			}
			m = fresh
		}
	}
}

func (e *Engine) applyOutcome(ctx context.Context, into, m *tongban.Case) error {
	def := e.Workflows[m.Workflow]
	if def == nil || def.Step(into.Step) == nil {
		return nil
	}
	now := e.now(ctx)
	prev := *m
	from, version := m.Step, m.Version
	m.Step, m.StepStarted, m.UpdatedAt = into.Step, now, now
	m.Lead, m.Co, m.First = into.Lead, into.Co, into.First
	if into.Reply != "" {
		m.Reply, m.RepliedAt = into.Reply, into.RepliedAt
	}
	if def.Step(m.Step).Final {
		m.Status, m.ClosedAt, m.StepDeadline, m.Pending = tongban.StatusClosed, &now, nil, nil
	} else {
		m.Status, m.ClosedAt = tongban.StatusOpen, nil
		m.StepDeadline = e.stepDeadline(def.Step(m.Step), m, now)
	}
	payload, _ := json.Marshal(map[string]any{"into": into.ID, "into_code": into.TrackingCode, "text": m.Reply})
	ev := &tongban.Event{CaseID: m.ID, Seq: version + 1, Action: actMergedOutcome, FromStep: from, ToStep: m.Step,
		Actor: "system:merge", At: now, Public: true, Payload: payload, PrevHash: m.LastHash}
	ev.Hash = ev.ComputeHash()
	m.Version, m.LastHash = version+1, ev.Hash
	actor := Actor{User: &tongban.User{Login: "system:merge"}}
	if err := e.beforeWrite(ctx, actor, &prev, m, ev); err != nil {
		return err
	}
	if err := e.Store.UpdateCase(ctx, m, version, ev); err != nil {
		return err
	}
	e.Text.observe(m)
	return nil
}
