package storetest

import (
	"testing"
	"time"

	"github.com/tongban/tongban"
)

// supervision checks the supervision tables: alarm rows and scorecard
// counters written with the case write, once only; claims and leases of
// due cases; findings; and orders created with the write that opens them.
func (s *suite) supervision(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	c := newCase()
	c.Attachments = nil
	due := at(5, 0, 0)
	c.NextAlarmAt = &due
	c.Derived = &tongban.Derived{Scores: []tongban.ScoreDelta{{Day: 20260105, Dim: tongban.ByCategory, Key: "lights", ScoreCounts: tongban.ScoreCounts{Received: 1}}}}
	create(t, st, c)
	if c.Derived != nil {
		t.Fatal("Derived not cleared after the write")
	}
	got := checkCase(t, st, c)
	if got.NextAlarmAt == nil || !got.NextAlarmAt.Equal(due) {
		t.Fatalf("NextAlarmAt = %v", got.NextAlarmAt)
	}
	// Claim: due at 5th, not before; leased once claimed.
	ids, err := st.ClaimDueAlarms(ctx, at(4, 0, 0), time.Minute, 10)
	must(t, err)
	if len(ids) != 0 {
		t.Fatalf("claimed %v before due", ids)
	}
	ids, err = st.ClaimDueAlarms(ctx, at(5, 0, 0), time.Minute, 10)
	must(t, err)
	if len(ids) != 1 || ids[0] != c.ID {
		t.Fatalf("claimed %v", ids)
	}
	ids, err = st.ClaimDueAlarms(ctx, at(5, 0, 0), time.Minute, 10)
	must(t, err)
	if len(ids) != 0 {
		t.Fatalf("claimed a leased case again: %v", ids)
	}
	// Raise a yellow card with the write; the lease ends with it.
	raise := func(deadline time.Time) error {
		ev, v := act(c, "alarm_yellow", c.Step, nil)
		next := at(9, 0, 0)
		c.NextAlarmAt = &next
		c.Supervision = &tongban.Supervision{Alarms: []tongban.AlarmMark{{Scope: "case", Colour: "yellow", Deadline: deadline, At: ev.At}}}
		c.Derived = &tongban.Derived{Raise: []tongban.Alarm{{Kind: c.Kind, Scope: "case", Colour: "yellow", Deadline: deadline, DueAt: deadline.Add(time.Second), RaisedAt: ev.At, Dept: "cg", Category: "lights"}},
			Scores: []tongban.ScoreDelta{{Day: 20260105, Dim: tongban.ByCategory, Key: "lights", ScoreCounts: tongban.ScoreCounts{AlarmYellow: 1, Hist: [len(tongban.HandlingBuckets)]int64{3: 2}}}}}
		err := st.UpdateCase(ctx, c, v, ev)
		if err != nil {
			c.Version, c.LastHash = v, ev.PrevHash
		}
		return err
	}
	must(t, raise(at(4, 23, 59)))
	got = checkCase(t, st, c)
	if got.Supervision == nil || len(got.Supervision.Alarms) != 1 {
		t.Fatalf("Supervision = %+v", got.Supervision)
	}
	ids, err = st.ClaimDueAlarms(ctx, at(9, 0, 0), time.Minute, 10)
	must(t, err)
	if len(ids) != 1 {
		t.Fatalf("a written case stayed leased: %v", ids)
	}
	// The same alarm again is a conflict, and nothing of it is written.
	wantCode(t, raise(at(4, 23, 59)), tongban.EConflict)
	list, total, err := st.ListAlarms(ctx, tongban.AlarmFilter{State: "open", Colour: "yellow", Dept: "cg"})
	must(t, err)
	if total != 1 || len(list) != 1 || list[0].CaseID != c.ID || list[0].TrackingCode != c.TrackingCode || !list[0].Deadline.Equal(at(4, 23, 59)) {
		t.Fatalf("ListAlarms = %d %+v", total, list)
	}
	over, err := st.OpenOverdue(ctx, tongban.ByDepartment, at(1, 0, 0), at(6, 0, 0))
	must(t, err)
	if over["cg"] != 1 {
		t.Fatalf("OpenOverdue = %v", over)
	}
	rows, err := st.ScoreTotals(ctx, tongban.ByCategory, 20260101, 20260131)
	must(t, err)
	if len(rows) != 1 || rows[0].Key != "lights" || rows[0].Received != 1 || rows[0].AlarmYellow != 1 || rows[0].Hist[3] != 2 {
		t.Fatalf("ScoreTotals = %+v", rows)
	}
	must(t, st.AddScores(ctx, []tongban.ScoreDelta{{Day: 20260106, Dim: tongban.ByCategory, Key: "lights", ScoreCounts: tongban.ScoreCounts{Closed: 3}}}))
	days, err := st.ScoreByDay(ctx, tongban.ByCategory, "", 20260101, 20260131)
	must(t, err)
	if len(days) != 2 || days[0].Key != "20260105" || days[1].Closed != 3 {
		t.Fatalf("ScoreByDay = %+v", days)
	}
	// Closing clears; a finding and an order go with the write.
	ev, v := act(c, "close", "closed", nil)
	c.Status, c.NextAlarmAt, c.Supervision = tongban.StatusClosed, nil, nil
	order := &tongban.Case{Kind: tongban.KindTask, Workflow: "supervision_order", TrackingCode: tongban.NewTrackingCode(), Channel: tongban.ChannelAPI,
		Title: "督办", Body: "b", Lead: "cg", Step: "answer", Status: tongban.StatusOpen, ReceivedAt: at(6, 0, 0), UpdatedAt: at(6, 0, 0), StepStarted: at(6, 0, 0), Deadline: at(9, 0, 0)}
	first := &tongban.Event{Action: "create", ToStep: "answer", Actor: "sup", At: at(6, 0, 0)}
	f := &tongban.Finding{Dept: "cg", Kind: "overdue", Reason: "超期", Outcome: "约谈", By: "sup", At: at(6, 0, 0)}
	c.Derived = &tongban.Derived{ClearAll: true, Findings: []*tongban.Finding{f}, Orders: []tongban.NewOrder{{Case: order, Event: first}}}
	must(t, st.UpdateCase(ctx, c, v, ev))
	if _, total, _ := st.ListAlarms(ctx, tongban.AlarmFilter{State: "open"}); total != 0 {
		t.Fatalf("%d alarms open after ClearAll", total)
	}
	fs, err := st.ListFindings(ctx, tongban.FindingFilter{Dept: "cg"})
	must(t, err)
	if len(fs) != 1 || fs[0].CaseID != c.ID || fs[0].Outcome != "约谈" || f.ID == 0 {
		t.Fatalf("ListFindings = %+v", fs)
	}
	if order.ID == 0 {
		t.Fatal("order not given an ID")
	}
	o, err := st.Case(ctx, order.ID)
	must(t, err)
	if o.Supervises != c.ID || o.ParentID != c.ID || o.Version != 1 {
		t.Fatalf("order = %+v", o)
	}
	evs, err := st.Events(ctx, o.ID)
	must(t, err)
	if len(evs) != 1 || tongban.VerifyChain(evs) != 0 {
		t.Fatalf("order events %d", len(evs))
	}
	must(t, st.SetNextAlarm(ctx, o.ID, 1, ptr(at(7, 0, 0))))
	wantCode(t, st.SetNextAlarm(ctx, o.ID, 2, nil), tongban.EConflict)
}
