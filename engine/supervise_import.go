package engine

import (
	"context"
	"encoding/json"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/supervise"
)

// importer is the actor imported history is recorded under: it takes each
// step of the workflow at the time the legacy system says it happened.
func importer(dept string) Actor {
	return Actor{User: &tongban.User{Login: "import", Name: "历史导入", Dept: dept,
		Roles: []tongban.Role{tongban.RoleDispatcher, tongban.RoleHandler, tongban.RoleHead}}}
}

// ImportCase files one legacy case through the workflow at its historical
// times — received, dispatched and accepted by its department, replied,
// rated and closed at its closing time — with deadlines from the
// calendar, and raises the alarms it would have had (dated when they fell
// due); an open case's red cards open orders as they would have.
func (e *Engine) ImportCase(ctx context.Context, r supervise.ImportRow) (*tongban.Case, error) {
	c, err := e.Create(WithNow(ctx, r.ReceivedAt), importer(""), NewCase{Type: r.Type, Category: r.Category, Title: r.Title, Body: r.Body,
		Address: r.Address, Lat: r.Lat, Long: r.Long, Requester: tongban.Requester{Phone: r.Phone}, Channel: tongban.ChannelAPI, ReceivedAt: r.ReceivedAt})
	if err != nil {
		return nil, err
	}
	act := func(at time.Time, actor Actor, action string, fields map[string]any) error {
		raw := map[string]json.RawMessage{}
		for k, v := range fields {
			raw[k], _ = json.Marshal(v)
		}
		got, _, err := e.Act(WithNow(ctx, at), actor, c.TrackingCode, action, raw)
		if err == nil {
			c = got
		}
		return err
	}
	imp := importer(r.Dept)
	if r.Dept != "" {
		if err := act(r.ReceivedAt, imp, "dispatch", map[string]any{"department": r.Dept}); err != nil {
			return nil, err
		}
		if err := act(r.ReceivedAt, imp, "accept", nil); err != nil {
			return nil, err
		}
	}
	until := e.now(ctx)
	if r.ClosedAt != nil {
		until = *r.ClosedAt
	}
	if _, err := e.RaiseHistory(ctx, c.ID, until, r.ClosedAt == nil); err != nil {
		return nil, err
	}
	if r.ClosedAt == nil {
		return e.Store.Case(ctx, c.ID)
	}
	if c, err = e.Store.Case(ctx, c.ID); err != nil {
		return nil, err
	}
	at := *r.ClosedAt
	reply := r.Reply
	if reply == "" {
		reply = "（历史导入：原系统未记录答复内容）"
	}
	switch c.Step {
	case "dispatch":
		if err := act(at, importer(""), "close", map[string]any{"reason": reply}); err != nil {
			return nil, err
		}
		return c, nil
	case "handle":
		if err := act(at, imp, "reply", map[string]any{"text": reply}); err != nil {
			return nil, err
		}
		if c.Step == "review" {
			if err := act(at, imp, "approve_reply", nil); err != nil {
				return nil, err
			}
		}
	}
	if r.Rating > 0 && c.Step == "rating" {
		if err := act(at, Actor{}, "rate", map[string]any{"level": r.Rating}); err != nil {
			return nil, err
		}
	}
	if c.Status != tongban.StatusClosed {
		if err := act(at, importer(""), "close", nil); err != nil {
			return nil, err
		}
	}
	return c, nil
}
