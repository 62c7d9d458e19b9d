package storetest

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/tongban/tongban"
)

// transfer checks the Transfer methods behind tongban dump and load.
func (s *suite) transfer(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"SnapshotPages", s.snapshotPages},
		{"SnapshotIsolated", s.snapshotIsolated},
		{"LoadRoundTrip", s.loadRoundTrip},
		{"LoadThenCreate", s.loadThenCreate},
		{"LoadAtomic", s.loadAtomic},
		{"IsEmpty", s.isEmpty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s.skip(t)
			tc.fn(t)
		})
	}
}

// pageAll reads every record through read in pages of limit, checking
// that ids strictly increase and that a short page ends the list.
func pageAll[T any](t *testing.T, limit int, read func(afterID int64, limit int) ([]T, error), id func(T) int64) []T {
	t.Helper()
	var all []T
	var last int64
	for {
		page, err := read(last, limit)
		must(t, err)
		if len(page) > limit {
			t.Fatalf("page of %d records, limit %d", len(page), limit)
		}
		for _, v := range page {
			if id(v) <= last {
				t.Fatalf("id %d after %d: pages not in id order", id(v), last)
			}
			last = id(v)
		}
		all = append(all, page...)
		if len(page) == 0 {
			return all
		}
	}
}

func (s *suite) snapshotPages(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	mkDept(t, st, "cg")
	mkDept(t, st, "jt")
	u := mkUser(t, st, "zhang", "cg")
	must(t, st.PutCategory(ctx, &tongban.Category{Code: "b-cat", Name: "B", Active: true, Limits: map[string]int{"help": 3}}))
	must(t, st.PutCategory(ctx, &tongban.Category{Code: "a-cat", Name: "A", Order: 99}))
	must(t, st.SetCalendarOverride(ctx, tongban.CalendarOverride{Date: "2027-10-08", Off: true, Name: "国庆"}))
	must(t, st.SetCalendarOverride(ctx, tongban.CalendarOverride{Date: "2027-01-01", Off: true, Name: "元旦"}))
	must(t, st.CreateAPIKey(ctx, &tongban.APIKey{Name: "app", Hash: "h1", Prefix: "tbk_abcd"}))
	var cases []*tongban.Case
	for i := range 7 {
		c := newCase()
		if i%2 == 1 {
			c.Attachments = nil
		}
		create(t, st, c)
		for range i % 3 {
			ev, v := act(c, "note", c.Step, json.RawMessage(`{"i":1}`))
			must(t, st.UpdateCase(ctx, c, v, ev))
		}
		cases = append(cases, c)
	}
	must(t, st.LogPIIAccess(ctx, &tongban.PIIAccess{CaseID: cases[0].ID, UserID: u.ID, Login: u.Login, Reason: "回访", At: at(4, 9, 0)}))
	must(t, st.LogPIIAccess(ctx, &tongban.PIIAccess{CaseID: cases[2].ID, UserID: u.ID, Login: u.Login, Reason: "核实", At: at(4, 9, 1)}))

	snap, err := st.Snapshot(ctx)
	must(t, err)
	defer snap.Close()

	depts, err := snap.DumpDepartments(ctx)
	must(t, err)
	wantDepts, err := st.ListDepartments(ctx)
	must(t, err)
	if jsonOf(t, depts) != jsonOf(t, wantDepts) {
		t.Fatalf("DumpDepartments = %s, want %s", jsonOf(t, depts), jsonOf(t, wantDepts))
	}
	users, err := snap.DumpUsers(ctx)
	must(t, err)
	if len(users) != 1 || users[0].PasswordHash != "h-zhang" || jsonOf(t, users[0]) != jsonOf(t, u) {
		t.Fatalf("DumpUsers = %s (hash %q)", jsonOf(t, users), users[0].PasswordHash)
	}
	cats, err := snap.DumpCategories(ctx)
	must(t, err)
	if len(cats) != 2 || cats[0].Code != "a-cat" || cats[1].Code != "b-cat" || cats[1].Limits["help"] != 3 {
		t.Fatalf("DumpCategories (by code) = %s", jsonOf(t, cats))
	}
	ovs, err := snap.DumpCalendarOverrides(ctx)
	must(t, err)
	if len(ovs) != 2 || ovs[0].Date != "2027-01-01" || ovs[1].Name != "国庆" {
		t.Fatalf("DumpCalendarOverrides = %s", jsonOf(t, ovs))
	}
	keys, err := snap.DumpAPIKeys(ctx)
	must(t, err)
	if len(keys) != 1 || keys[0].Hash != "h1" || keys[0].Prefix != "tbk_abcd" {
		t.Fatalf("DumpAPIKeys = %s", jsonOf(t, keys))
	}

	gotCases := pageAll(t, 3, func(after int64, n int) ([]*tongban.Case, error) { return snap.DumpCases(ctx, after, n) },
		func(c *tongban.Case) int64 { return c.ID })
	if len(gotCases) != len(cases) {
		t.Fatalf("DumpCases returned %d cases, want %d", len(gotCases), len(cases))
	}
	var wantEvents []*tongban.Event
	var wantAtts []*tongban.Attachment
	for i, c := range cases {
		if gotCases[i].Attachments != nil {
			t.Fatalf("DumpCases returned attachments; they are dumped separately")
		}
		if g, w := caseJSON(t, gotCases[i]), caseJSON(t, withoutAttachments(c)); g != w {
			t.Fatalf("DumpCases[%d]\n got %s\nwant %s", i, g, w)
		}
		evs, err := st.Events(ctx, c.ID)
		must(t, err)
		wantEvents = append(wantEvents, evs...)
		for _, a := range c.Attachments {
			full, err := st.Attachment(ctx, a.ID)
			must(t, err)
			wantAtts = append(wantAtts, full)
		}
	}
	slices.SortFunc(wantEvents, func(a, b *tongban.Event) int { return int(a.ID - b.ID) })
	gotEvents := pageAll(t, 4, func(after int64, n int) ([]*tongban.Event, error) { return snap.DumpEvents(ctx, after, n) },
		func(e *tongban.Event) int64 { return e.ID })
	if g, w := jsonOf(t, gotEvents), jsonOf(t, wantEvents); g != w {
		t.Fatalf("DumpEvents\n got %s\nwant %s", g, w)
	}
	gotAtts := pageAll(t, 2, func(after int64, n int) ([]*tongban.Attachment, error) { return snap.DumpAttachments(ctx, after, n) },
		func(a *tongban.Attachment) int64 { return a.ID })
	if len(gotAtts) != len(wantAtts) {
		t.Fatalf("DumpAttachments returned %d, want %d", len(gotAtts), len(wantAtts))
	}
	for i, a := range gotAtts {
		if !bytes.Equal(a.Data, wantAtts[i].Data) || jsonOf(t, a) != jsonOf(t, wantAtts[i]) {
			t.Fatalf("DumpAttachments[%d] = %s, want %s", i, jsonOf(t, a), jsonOf(t, wantAtts[i]))
		}
	}
	pii := pageAll(t, 1, func(after int64, n int) ([]tongban.PIIAccess, error) { return snap.DumpPIIAccess(ctx, after, n) },
		func(a tongban.PIIAccess) int64 { return a.ID })
	if len(pii) != 2 || pii[0].CaseID != cases[0].ID || pii[1].Reason != "核实" || !pii[1].At.Equal(at(4, 9, 1)) {
		t.Fatalf("DumpPIIAccess = %s", jsonOf(t, pii))
	}
}

// A snapshot does not see writes made after it was opened.
func (s *suite) snapshotIsolated(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	c := newCase()
	create(t, st, c)
	snap, err := st.Snapshot(ctx)
	must(t, err)
	defer snap.Close()
	ev, v := act(c, "assign", "handle", nil)
	must(t, st.UpdateCase(ctx, c, v, ev))
	create(t, st, newCase())
	mkDept(t, st, "late")
	cases, err := snap.DumpCases(ctx, 0, 10)
	must(t, err)
	evs, err := snap.DumpEvents(ctx, 0, 10)
	must(t, err)
	depts, err := snap.DumpDepartments(ctx)
	must(t, err)
	if len(cases) != 1 || cases[0].Version != 1 || len(evs) != 1 || len(depts) != 0 {
		t.Fatalf("snapshot saw later writes: %d cases (version %d), %d events, %d departments", len(cases), cases[0].Version, len(evs), len(depts))
	}
}

// loadFixture is a batch with explicit, non-contiguous IDs and every field
// set; its cases' event chains are intact.
func loadFixture(t *testing.T) *tongban.LoadBatch {
	t.Helper()
	b := &tongban.LoadBatch{
		Departments: []*tongban.Department{
			{ID: 11, Code: "cg", Name: "城管局", Kind: tongban.DeptBureau, Keywords: []string{"城管"}, CreatedAt: at(1, 8, 0)},
			{ID: 15, Code: "jd", Name: "街道", Kind: tongban.DeptStreet, Parent: "cg", Disabled: true, CreatedAt: at(1, 8, 1)},
		},
		Users: []*tongban.User{
			{ID: 21, Login: "zhang", Name: "张三", Dept: "cg", Roles: []tongban.Role{tongban.RoleHandler, tongban.RoleHead}, Phone: "13812345678", PasswordHash: "$argon2id$x", CreatedAt: at(1, 9, 0)},
			{ID: 29, Login: "li", Name: "李四", Dept: "jd", Roles: []tongban.Role{tongban.RoleAdmin}, Disabled: true, PasswordHash: "$argon2id$y", CreatedAt: at(1, 9, 1)},
		},
		Categories: []*tongban.Category{
			{Code: "lights", Name: "路灯", Description: "d", Dept: "cg", Limits: map[string]int{"help": 4}, LimitHours: 0, ReplyNeedsApproval: true, Keywords: []string{"灯"}, Active: true, Order: 10, UpdatedAt: at(1, 10, 0)},
		},
		CalendarOverrides: []tongban.CalendarOverride{{Date: "2027-02-06", Off: true, Name: "春节"}},
		APIKeys:           []*tongban.APIKey{{ID: 31, Name: "app", Hash: "keyhash", Prefix: "tbk_abcd", Revoked: true, CreatedAt: at(1, 11, 0)}},
	}
	evID := int64(500)
	for i, id := range []int64{1000, 1003} {
		c := newCase()
		c.ID, c.Attachments = id, nil
		if i == 1 {
			c.Lat, c.Long, c.Pending, c.Attrs, c.Co, c.StepDeadline = nil, nil, nil, nil, nil, nil
			c.ClosedAt, c.RepliedAt, c.Reply, c.Status, c.Rating, c.ParentID = ptr(at(9, 9, 9)), ptr(at(8, 8, 8)), "已修复", tongban.StatusClosed, 5, 1000
		}
		prev := ""
		for seq := int64(1); seq <= int64(i+2); seq++ {
			e := &tongban.Event{ID: evID, CaseID: id, Seq: seq, Action: "note", FromStep: "handle", ToStep: "handle", ActorID: 21, Actor: "zhang", ActorDept: "cg",
				At: at(3, 10, int(seq)), Reason: "r", Note: "n", Public: seq%2 == 1, Payload: json.RawMessage(`{"b":2,"a":"<&>"}`), PrevHash: prev}
			if seq == 1 {
				e.Payload = nil
			}
			e.Hash = e.ComputeHash()
			prev = e.Hash
			evID += 3
			b.Events = append(b.Events, e)
		}
		c.Version, c.LastHash = int64(i+2), prev
		b.Cases = append(b.Cases, c)
	}
	b.Attachments = []*tongban.Attachment{
		{ID: 70, CaseID: 1000, Name: "照片.jpg", ContentType: "image/jpeg", Size: 3, SHA256: "aa", Data: []byte{0xff, 0, 0xd9}, CreatedAt: at(3, 9, 1)},
		{ID: 72, CaseID: 1003, Name: "empty.pdf", ContentType: "application/pdf", Size: 0, SHA256: "bb", Data: []byte{}, CreatedAt: at(3, 9, 2)},
	}
	b.PIIAccess = []tongban.PIIAccess{{ID: 90, CaseID: 1000, UserID: 21, Login: "zhang", Reason: "回访", At: at(4, 9, 0)}}
	return b
}

func (s *suite) loadRoundTrip(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	b := loadFixture(t)
	// Two batches, as a load sends them: references cross batches.
	first := &tongban.LoadBatch{Departments: b.Departments, Users: b.Users, Categories: b.Categories, CalendarOverrides: b.CalendarOverrides, APIKeys: b.APIKeys, Cases: b.Cases}
	second := &tongban.LoadBatch{Events: b.Events, Attachments: b.Attachments, PIIAccess: b.PIIAccess}
	must(t, st.Load(ctx, first))
	must(t, st.Load(ctx, second))
	must(t, st.FinishLoad(ctx))

	depts, err := st.ListDepartments(ctx)
	must(t, err)
	if g, w := jsonOf(t, depts), jsonOf(t, b.Departments); g != w {
		t.Fatalf("departments\n got %s\nwant %s", g, w)
	}
	for _, u := range b.Users {
		got, err := st.User(ctx, u.ID)
		must(t, err)
		if jsonOf(t, got) != jsonOf(t, u) || got.PasswordHash != u.PasswordHash {
			t.Fatalf("user %d = %s (hash %q), want %s", u.ID, jsonOf(t, got), got.PasswordHash, jsonOf(t, u))
		}
	}
	cat, err := st.Category(ctx, "lights")
	must(t, err)
	if g, w := jsonOf(t, cat), jsonOf(t, b.Categories[0]); g != w {
		t.Fatalf("category (UpdatedAt kept)\n got %s\nwant %s", g, w)
	}
	ovs, err := st.ListCalendarOverrides(ctx)
	must(t, err)
	if jsonOf(t, ovs) != jsonOf(t, b.CalendarOverrides) {
		t.Fatalf("calendar overrides = %s", jsonOf(t, ovs))
	}
	k, err := st.APIKeyByHash(ctx, "keyhash")
	must(t, err)
	if jsonOf(t, k) != jsonOf(t, b.APIKeys[0]) || k.Hash != "keyhash" {
		t.Fatalf("API key = %s", jsonOf(t, k))
	}
	for _, c := range b.Cases {
		want := *c
		for _, a := range b.Attachments {
			if a.CaseID == c.ID {
				want.Attachments = append(want.Attachments, *a)
			}
		}
		checkCase(t, st, &want)
		evs, err := st.Events(ctx, c.ID)
		must(t, err)
		var wantEvs []*tongban.Event
		for _, e := range b.Events {
			if e.CaseID == c.ID {
				wantEvs = append(wantEvs, e)
			}
		}
		if g, w := jsonOf(t, evs), jsonOf(t, wantEvs); g != w {
			t.Fatalf("events of case %d\n got %s\nwant %s", c.ID, g, w)
		}
		if bad := tongban.VerifyChain(evs); bad != 0 {
			t.Fatalf("loaded chain of case %d breaks at %d", c.ID, bad)
		}
		for i, e := range evs {
			if !bytes.Equal(e.Payload, wantEvs[i].Payload) {
				t.Fatalf("payload %q, want %q", e.Payload, wantEvs[i].Payload)
			}
		}
	}
	for _, a := range b.Attachments {
		got, err := st.Attachment(ctx, a.ID)
		must(t, err)
		if !bytes.Equal(got.Data, a.Data) || jsonOf(t, got) != jsonOf(t, a) {
			t.Fatalf("attachment %d = %s, want %s", a.ID, jsonOf(t, got), jsonOf(t, a))
		}
	}
	pii, err := st.ListPIIAccess(ctx, 1000)
	must(t, err)
	if jsonOf(t, pii) != jsonOf(t, b.PIIAccess) {
		t.Fatalf("PII access = %s", jsonOf(t, pii))
	}
	// What was loaded dumps back the same.
	snap, err := st.Snapshot(ctx)
	must(t, err)
	defer snap.Close()
	cases, err := snap.DumpCases(ctx, 0, 10)
	must(t, err)
	if g, w := jsonOf(t, cases), jsonOf(t, b.Cases); g != w {
		t.Fatalf("DumpCases after Load\n got %s\nwant %s", g, w)
	}
}

// After a load, new records get IDs above the loaded ones.
func (s *suite) loadThenCreate(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	b := loadFixture(t)
	must(t, st.Load(ctx, b))
	must(t, st.FinishLoad(ctx))
	d := mkDept(t, st, "new")
	if d.ID <= 15 {
		t.Fatalf("new department got id %d, loaded up to 15", d.ID)
	}
	u := mkUser(t, st, "wang", "cg")
	if u.ID <= 29 {
		t.Fatalf("new user got id %d, loaded up to 29", u.ID)
	}
	k := &tongban.APIKey{Name: "k2", Hash: "h2", Prefix: "tbk_x"}
	must(t, st.CreateAPIKey(ctx, k))
	if k.ID <= 31 {
		t.Fatalf("new API key got id %d, loaded up to 31", k.ID)
	}
	c := newCase()
	ev := create(t, st, c)
	if c.ID <= 1003 || ev.ID <= b.Events[len(b.Events)-1].ID || c.Attachments[0].ID <= 72 {
		t.Fatalf("new case/event/attachment got ids %d/%d/%d, loaded up to 1003/%d/72", c.ID, ev.ID, c.Attachments[0].ID, b.Events[len(b.Events)-1].ID)
	}
	a := &tongban.PIIAccess{CaseID: c.ID, UserID: u.ID, Login: u.Login, At: at(5, 0, 0)}
	must(t, st.LogPIIAccess(ctx, a))
	if a.ID <= 90 {
		t.Fatalf("new PII access got id %d, loaded up to 90", a.ID)
	}
	// And the loaded cases go on working.
	lc, err := st.Case(ctx, 1000)
	must(t, err)
	next, v := act(lc, "note", lc.Step, nil)
	must(t, st.UpdateCase(ctx, lc, v, next))
	evs, err := st.Events(ctx, 1000)
	must(t, err)
	if len(evs) != 3 || tongban.VerifyChain(evs) != 0 {
		t.Fatalf("chain after update of a loaded case: %s", jsonOf(t, evs))
	}
}

// A batch is one transaction: a failing record leaves nothing of it.
func (s *suite) loadAtomic(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	b := loadFixture(t)
	must(t, st.Load(ctx, &tongban.LoadBatch{Departments: b.Departments, Cases: b.Cases[:1]}))
	dup := *b.Cases[0]
	dup.TrackingCode = tongban.NewTrackingCode()
	err := st.Load(ctx, &tongban.LoadBatch{Users: b.Users, Cases: []*tongban.Case{&dup}}) // case id 1000 again
	if err == nil {
		t.Fatal("Load of a duplicate case id succeeded")
	}
	users, err := st.ListUsers(ctx)
	must(t, err)
	if len(users) != 0 {
		t.Fatalf("a failed Load left %d users", len(users))
	}
	// An event for a case that does not exist is refused.
	if err := st.Load(ctx, &tongban.LoadBatch{Events: []*tongban.Event{{ID: 1, CaseID: 4242, Seq: 1, Action: "create", Actor: "x", At: at(1, 0, 0), Hash: "h"}}}); err == nil {
		t.Fatal("Load of an event of a missing case succeeded")
	}
}

func (s *suite) isEmpty(t *testing.T) {
	ctx := t.Context()
	wantEmpty := func(st tongban.Store, want bool, what string) {
		t.Helper()
		empty, err := st.IsEmpty(ctx)
		must(t, err)
		if empty != want {
			t.Fatalf("IsEmpty = %v %s", empty, what)
		}
	}
	st := s.open(t)
	wantEmpty(st, true, "for a fresh store")
	must(t, st.Load(ctx, &tongban.LoadBatch{}))
	wantEmpty(st, true, "after loading an empty batch")
	must(t, st.SetCalendarOverride(ctx, tongban.CalendarOverride{Date: "2027-01-01", Off: true}))
	wantEmpty(st, false, "with a calendar override")

	st = s.open(t)
	must(t, st.PutCategory(ctx, &tongban.Category{Code: "x", Name: "x"}))
	wantEmpty(st, false, "with a category")

	st = s.open(t)
	create(t, st, newCase())
	wantEmpty(st, false, "with a case")
}
