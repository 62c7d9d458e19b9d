package engine_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/internal/pgtest"
	"github.com/tongban/tongban/postgres"
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

// Two instances on one SQLite store: what one writes reaches the other's
// duplicate index at its next catch-up, not only at restart.
func TestDuplicateIndexCatchesUpWithOtherInstances(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	other, err := engine.New(f.ctx, f.e.Store) // a second instance on the same store
	if err != nil {
		t.Fatal(err)
	}
	dupAcrossInstances(t, f.e, other)
}

// The same with two instances on one PostgreSQL database, each with its
// own connection pool.
func TestDuplicateIndexCatchesUpPostgres(t *testing.T) {
	t.Parallel()
	dsn := pgtest.FreshDatabase(t)
	ctx := context.Background()
	var engines []*engine.Engine
	for range 2 {
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		e, err := engine.New(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		engines = append(engines, e)
	}
	if err := engines[0].EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	dupAcrossInstances(t, engines[0], engines[1])
}

// dupAcrossInstances files, closes, merges and unmerges requests through
// instance a and checks what b's duplicate index offers before and after
// its catch-ups: new requests appear, closed and merged ones disappear,
// an unmerged one comes back, and an unchanged index stays unchanged.
func dupAcrossInstances(t *testing.T, a, b *engine.Engine) {
	ctx := context.Background()
	if _, err := a.Department(ctx, "zx"); err != nil {
		if err := a.AddDepartment(ctx, &tongban.Department{Code: "zx", Name: "区指挥中心", Kind: tongban.DeptCentre}); err != nil {
			t.Fatal(err)
		}
	}
	user := func(login, roles string) *tongban.User {
		name, dept, pw := login, "zx", testPassword
		u, err := a.AddUser(ctx, login, engine.UserChange{Name: &name, Dept: &dept, Roles: &roles, Password: &pw})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	intake, disp := user("dup.intake", "intake"), user("dup.disp", "dispatcher")
	if _, err := b.Text.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	at := cst(2026, 9, 7, 10, 0)
	file := func(min int, title, body, phone string) *tongban.Case {
		c, err := a.Create(engine.WithNow(ctx, at.Add(time.Duration(min)*time.Minute)), engine.Actor{User: intake}, engine.NewCase{
			Type: tongban.TypeComplaint, Category: "building", Title: title, Body: body,
			Requester: tongban.Requester{Name: "张三", Phone: phone}, Channel: tongban.ChannelPhone,
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	act := func(c *tongban.Case, action string, fields map[string]string) {
		raw := map[string]json.RawMessage{}
		for k, v := range fields {
			raw[k], _ = json.Marshal(v)
		}
		if _, _, err := a.Act(engine.WithNow(ctx, at.Add(time.Hour)), engine.Actor{User: disp}, c.TrackingCode, action, raw); err != nil {
			t.Fatalf("%s on %s: %v", action, c.TrackingCode, err)
		}
	}
	later := engine.WithNow(ctx, at.Add(2*time.Hour))
	offered := func(q *tongban.Case) []int64 {
		var ids []int64
		for _, d := range b.Text.Duplicates(ctx, engine.DupQuery{Title: q.Title, Body: q.Body, At: at.Add(2 * time.Hour)}) {
			ids = append(ids, d.ID)
		}
		slices.Sort(ids)
		return ids
	}
	catchUp := func(want int) {
		t.Helper()
		if n, err := b.Text.CatchUp(later); err != nil || n != want {
			t.Fatalf("catch-up changed %d cases, %v; want %d", n, err, want)
		}
	}

	// Filed on a: b does not know of them until it catches up.
	bld := "小区北门有人在人行道上搭建彩钢棚，已持续一周，行人只能走机动车道。"
	c1 := file(0, "小区门口违章搭建", bld, "13812345678")
	c2 := file(1, "小区门口违章搭建彩钢棚", bld, "13812345679")
	c3 := file(2, "小区北门违章搭建", bld, "13812345670")
	lamp := file(3, "路灯不亮", "建设路口的路灯坏了三天，晚上很黑，老人孩子出门不便。", "13912345678")
	if got := offered(c1); len(got) != 0 {
		t.Fatalf("b offered %v before catching up", got)
	}
	catchUp(4)
	if got := offered(c1); !slices.Equal(got, []int64{c1.ID, c2.ID, c3.ID}) {
		t.Fatalf("after catch-up b offers %v, want %d %d %d", got, c1.ID, c2.ID, c3.ID)
	}
	catchUp(0) // nothing changed: the index is left alone

	// Closed and merged on a: b stops offering them at its next catch-up.
	act(c1, "close", map[string]string{"reason": "重复来电，已电话答复"})
	act(c2, "merge", map[string]string{"into": c3.TrackingCode})
	if got := offered(c1); !slices.Equal(got, []int64{c1.ID, c2.ID, c3.ID}) {
		t.Fatalf("b changed before catching up: %v", got)
	}
	catchUp(2)
	if got := offered(c1); !slices.Equal(got, []int64{c3.ID}) {
		t.Fatalf("after the close and the merge b offers %v, want only %d", got, c3.ID)
	}
	if got := offered(lamp); !slices.Equal(got, []int64{lamp.ID}) {
		t.Fatalf("an untouched request went missing: %v", got)
	}
	catchUp(0)

	// Unmerged on a: back in b's index.
	act(c2, "unmerge", map[string]string{"reason": "不是同一处"})
	catchUp(1)
	if got := offered(c1); !slices.Equal(got, []int64{c2.ID, c3.ID}) {
		t.Fatalf("after the unmerge b offers %v, want %d %d", got, c2.ID, c3.ID)
	}
	// A fresh instance loads the same state.
	fresh, err := engine.New(ctx, b.Store)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := fresh.Text.LoadIndex(later); err != nil || n != 3 {
		t.Fatalf("a fresh instance loaded %d open requests, %v; want 3", n, err)
	}
}
