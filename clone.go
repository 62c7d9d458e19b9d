package tongban

import (
	"encoding/json"
	"slices"
)

// Clone returns a deep copy of c that shares no memory with it, so that a
// cached case can be handed out and changed by its taker. Derived, which
// is never stored, is not copied. TestCloneSharesNothing fails when a
// field is added that Clone does not copy deeply.
func (c *Case) Clone() *Case {
	if c == nil {
		return nil
	}
	cp := *c
	cp.Derived = nil
	cp.Lat, cp.Long = clonePtr(c.Lat), clonePtr(c.Long)
	cp.Co = slices.Clone(c.Co)
	cp.TextSig = slices.Clone(c.TextSig)
	cp.StepDeadline, cp.ClosedAt, cp.RepliedAt = clonePtr(c.StepDeadline), clonePtr(c.ClosedAt), clonePtr(c.RepliedAt)
	cp.Pending = clonePtr(c.Pending)
	cp.NextAlarmAt = clonePtr(c.NextAlarmAt)
	cp.Supervision = c.Supervision.clone()
	if c.Attrs != nil {
		cp.Attrs = make(map[string]json.RawMessage, len(c.Attrs))
		for k, v := range c.Attrs {
			cp.Attrs[k] = slices.Clone(v)
		}
	}
	cp.StatutoryDeadline, cp.PromisedDeadline = clonePtr(c.StatutoryDeadline), clonePtr(c.PromisedDeadline)
	if c.Attachments != nil {
		cp.Attachments = make([]Attachment, len(c.Attachments))
		for i, a := range c.Attachments {
			a.Data = slices.Clone(a.Data)
			cp.Attachments[i] = a
		}
	}
	return &cp
}

func (s *Supervision) clone() *Supervision {
	if s == nil {
		return nil
	}
	cp := *s
	cp.Alarms = slices.Clone(s.Alarms)
	cp.UnsatisfiedAt = clonePtr(s.UnsatisfiedAt)
	cp.Orders = slices.Clone(s.Orders)
	return &cp
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
