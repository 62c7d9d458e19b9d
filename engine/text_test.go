package engine_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
)

// A request filed again is found as a duplicate; merged, it is handled
// with the other: the reply reaches it as its own event; unmerge undoes
// the merge.
func TestMergeDuplicates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	at := cst(2026, 9, 7, 10, 0)
	a := f.create(at, tongban.TypeComplaint, "building")
	b := f.create(at.Add(time.Hour), tongban.TypeComplaint, "building")
	other, err := f.e.Create(engine.WithNow(f.ctx, at.Add(2*time.Hour)), engine.Actor{User: f.intake}, engine.NewCase{
		Type: tongban.TypeComplaint, Category: "building", Title: "路灯不亮", Body: "建设路口的路灯坏了三天，晚上很黑。",
		Requester: tongban.Requester{Name: "李四", Phone: "13912345678"}, Channel: tongban.ChannelPhone,
	})
	if err != nil {
		t.Fatal(err)
	}
	dups := f.e.Text.Duplicates(f.ctx, engine.DupQuery{ID: b.ID, Title: b.Title, Body: b.Body, At: b.ReceivedAt})
	if len(dups) != 1 || dups[0].ID != a.ID || dups[0].Score < 0.5 || dups[0].TrackingCode != a.TrackingCode {
		t.Fatalf("duplicates of b: %+v, want a with score ≥ 0.5", dups)
	}
	if d := f.e.Text.Duplicates(f.ctx, engine.DupQuery{ID: other.ID, Title: other.Title, Body: other.Body, At: other.ReceivedAt}); len(d) != 0 {
		t.Errorf("duplicates of an unrelated request: %+v", d)
	}

	_, _, err = f.tryAct(at, f.disp, b.TrackingCode, "merge", map[string]any{"into": b.TrackingCode})
	wantCode(t, err, tongban.EInvalid, "merge into itself")
	_, _, err = f.tryAct(at, f.disp, b.TrackingCode, "merge", map[string]any{"into": "999999"})
	wantCode(t, err, tongban.EInvalid, "merge into a missing case")
	b = f.act(at.Add(2*time.Hour), f.disp, b, "merge", map[string]any{"into": a.TrackingCode})
	if b.Step != engine.StepMerged || b.ParentID != a.ID || b.Status != tongban.StatusOpen {
		t.Fatalf("merged: step %s parent %d", b.Step, b.ParentID)
	}
	if d := f.e.Text.Duplicates(f.ctx, engine.DupQuery{Title: a.Title, Body: a.Body, At: b.ReceivedAt}); len(d) != 1 || d[0].ID != a.ID {
		t.Errorf("a merged request left in the duplicate index: %+v", d)
	}
	b = f.act(at.Add(3*time.Hour), f.disp, b, "unmerge", map[string]any{"reason": "不是同一件事"})
	if b.Step != "dispatch" || b.ParentID != 0 {
		t.Fatalf("unmerged: step %s parent %d", b.Step, b.ParentID)
	}
	b = f.act(at.Add(4*time.Hour), f.disp, b, "merge", map[string]any{"into": strconv.FormatInt(a.ID, 10)})

	a = f.act(at.Add(5*time.Hour), f.disp, a, "dispatch", map[string]any{"department": "cgj"})
	a = f.act(at.Add(6*time.Hour), f.hCGJ, a, "accept", nil)
	a = f.act(at.Add(7*time.Hour), f.headCGJ, a, "reply", map[string]any{"text": "已拆除违章搭建。"})
	if a.Step != "rating" {
		t.Fatalf("a after reply: %s", a.Step)
	}
	b = f.reload(b)
	if b.Step != "rating" || b.Reply != "已拆除违章搭建。" || b.Lead != "cgj" {
		t.Fatalf("merged request after the reply: step %s reply %q lead %q", b.Step, b.Reply, b.Lead)
	}
	evs := f.chain(b)
	if last := evs[len(evs)-1]; last.Action != "merged_outcome" || !last.Public {
		t.Errorf("last event of b: %s", last.Action)
	}
	if !slices.Contains(allowedNames(f.e, engine.Actor{}, b), "rate") {
		t.Errorf("the merged request's requester cannot rate it: %v", allowedNames(f.e, engine.Actor{}, b))
	}
}

// Routing suggestions from keyword rules before any history; automatic
// dispatch above the configured confidence, recorded as system:router.
func TestSuggestAndAutoDispatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d, err := f.st.Department(f.ctx, "swj")
	if err != nil {
		t.Fatal(err)
	}
	d.Keywords = []string{"漏水", "水管", "停水"}
	if err := f.e.UpdateDepartment(f.ctx, d); err != nil {
		t.Fatal(err)
	}
	sg, err := f.e.Text.Suggest(f.ctx, "水管漏水", "楼下水管漏水两天了，一直停水。")
	if err != nil {
		t.Fatal(err)
	}
	if len(sg) == 0 || sg[0].Department != "swj" || len(sg[0].Because) == 0 {
		t.Fatalf("suggestions %+v, want swj first with reasons", sg)
	}
	f.e.Text.AutoDispatch = 0.01
	c, err := f.e.Create(engine.WithNow(f.ctx, cst(2026, 9, 7, 10, 0)), engine.Actor{User: f.intake}, engine.NewCase{
		Type: tongban.TypeHelp, Category: "building", Title: "水管漏水", Body: "楼下水管漏水两天了，一直停水。",
		Requester: tongban.Requester{Name: "王五", Phone: "13712345678"}, Channel: tongban.ChannelPhone,
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Step != "accept" || c.Lead != "swj" {
		t.Fatalf("auto-dispatch: step %s lead %s", c.Step, c.Lead)
	}
	evs := f.chain(c)
	if last := evs[len(evs)-1]; last.Actor != engine.RouterActor || last.Action != "dispatch" || last.Note == "" {
		t.Errorf("auto-dispatch event: %+v", last)
	}
}

// A request filed through another instance reaches this instance's
// duplicate index at its next catch-up, not only at restart.
func TestDuplicateIndexCatchesUpWithOtherInstances(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	other, err := engine.New(f.ctx, f.e.Store) // a second instance on the same store
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Text.LoadIndex(f.ctx); err != nil {
		t.Fatal(err)
	}
	at := cst(2026, 9, 7, 10, 0)
	a := f.create(at, tongban.TypeComplaint, "building") // filed through the first instance
	q := engine.DupQuery{Title: a.Title, Body: a.Body, At: at.Add(time.Hour)}
	if d := other.Text.Duplicates(f.ctx, q); len(d) != 0 {
		t.Fatalf("the other instance knew of the case before catching up: %+v", d)
	}
	n, err := other.Text.CatchUp(engine.WithNow(f.ctx, at.Add(time.Hour)))
	if err != nil || n != 1 {
		t.Fatalf("catch-up added %d, %v; want 1", n, err)
	}
	if d := other.Text.Duplicates(f.ctx, q); len(d) != 1 || d[0].ID != a.ID {
		t.Fatalf("after catch-up: %+v, want case %d", d, a.ID)
	}
	if n, err := other.Text.CatchUp(engine.WithNow(f.ctx, at.Add(time.Hour))); err != nil || n != 0 {
		t.Fatalf("a second catch-up added %d, %v; want 0", n, err)
	}
}
