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
	wantAlarms, wantFindings, wantDays, wantMonths := supervisionRecords(t, st, cases[1], cases[3])
	wantMatters := putMatters(t, st)

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
	alarms := pageAll(t, 1, func(after int64, n int) ([]*tongban.Alarm, error) { return snap.DumpAlarms(ctx, after, n) },
		func(a *tongban.Alarm) int64 { return a.ID })
	if g, w := jsonOf(t, alarms), jsonOf(t, wantAlarms); g != w {
		t.Fatalf("DumpAlarms\n got %s\nwant %s", g, w)
	}
	findings := pageAll(t, 1, func(after int64, n int) ([]*tongban.Finding, error) { return snap.DumpFindings(ctx, after, n) },
		func(f *tongban.Finding) int64 { return f.ID })
	if g, w := jsonOf(t, findings), jsonOf(t, wantFindings); g != w {
		t.Fatalf("DumpFindings\n got %s\nwant %s", g, w)
	}
	readDays := func(after *tongban.ScoreKey, n int) ([]tongban.ScoreEntry, error) {
		return snap.DumpScoreDays(ctx, after, n)
	}
	readMonths := func(after *tongban.ScoreKey, n int) ([]tongban.ScoreEntry, error) {
		return snap.DumpScoreMonths(ctx, after, n)
	}
	readMatters := func(after *tongban.MatterKey, n int) ([]tongban.MatterRecord, error) {
		return snap.DumpMatters(ctx, after, n)
	}
	for _, limit := range []int{1, 2, 3, 100} {
		if g, w := jsonOf(t, matterPageAll(t, limit, readMatters)), jsonOf(t, wantMatters); g != w {
			t.Fatalf("DumpMatters (pages of %d)\n got %s\nwant %s", limit, g, w)
		}
		if g, w := jsonOf(t, scorePageAll(t, limit, readDays)), jsonOf(t, wantDays); g != w {
			t.Fatalf("DumpScoreDays (pages of %d)\n got %s\nwant %s", limit, g, w)
		}
		if g, w := jsonOf(t, scorePageAll(t, limit, readMonths)), jsonOf(t, wantMonths); g != w {
			t.Fatalf("DumpScoreMonths (pages of %d)\n got %s\nwant %s", limit, g, w)
		}
	}
}

// scorePageAll reads every score row through read in pages of limit,
// checking that keys strictly increase and that a short page ends the list.
func scorePageAll(t *testing.T, limit int, read func(after *tongban.ScoreKey, limit int) ([]tongban.ScoreEntry, error)) []tongban.ScoreEntry {
	t.Helper()
	all := []tongban.ScoreEntry{}
	var last *tongban.ScoreKey
	for {
		page, err := read(last, limit)
		must(t, err)
		if len(page) > limit {
			t.Fatalf("page of %d score rows, limit %d", len(page), limit)
		}
		for _, e := range page {
			if last != nil && e.ScoreKey.Compare(*last) <= 0 {
				t.Fatalf("score row %+v after %+v: pages not in (dim, period, key) order", e.ScoreKey, *last)
			}
			k := e.ScoreKey
			last = &k
		}
		all = append(all, page...)
		if len(page) == 0 {
			return all
		}
	}
}

// matterPageAll reads every matter version through read in pages of
// limit, checking that keys strictly increase and that a short page ends
// the list.
func matterPageAll(t *testing.T, limit int, read func(after *tongban.MatterKey, limit int) ([]tongban.MatterRecord, error)) []tongban.MatterRecord {
	t.Helper()
	all := []tongban.MatterRecord{}
	var last *tongban.MatterKey
	for {
		page, err := read(last, limit)
		must(t, err)
		if len(page) > limit {
			t.Fatalf("page of %d matters, limit %d", len(page), limit)
		}
		for _, m := range page {
			if last != nil && m.MatterKey.Compare(*last) <= 0 {
				t.Fatalf("matter %+v after %+v: pages not in (code, version) order", m.MatterKey, *last)
			}
			k := m.MatterKey
			last = &k
		}
		all = append(all, page...)
		if len(page) == 0 {
			return all
		}
	}
}

// putMatters puts matters through the store's MatterStore, if it keeps a
// catalogue — codes whose bytewise order differs from a linguistic one,
// one of them in three versions — and returns what a snapshot should hold
// of them, in dump order.
func putMatters(t *testing.T, st tongban.Store) []tongban.MatterRecord {
	t.Helper()
	ms, ok := st.(tongban.MatterStore)
	if !ok {
		return []tongban.MatterRecord{}
	}
	var out []tongban.MatterRecord
	for _, p := range []struct{ code, name string }{{"b-1", "乙"}, {"B-2", "丙"}, {"b-1", "乙 v2"}, {"a.1", "甲"}, {"b-1", "乙 v3"}} {
		m := &tongban.Matter{Code: p.code, Name: p.name, LegalBasis: "依据 \"<&>\"", Free: true, StatutoryDays: 20, PromisedDays: 10, Lead: "cg", CreatedBy: "admin",
			Steps: []tongban.MatterStep{{Name: "审查", Mode: tongban.StepSerial, Departments: []string{"cg"}, LimitDays: 5}}}
		must(t, ms.PutMatter(t.Context(), m))
		def, err := json.Marshal(m)
		must(t, err)
		out = append(out, tongban.MatterRecord{MatterKey: tongban.MatterKey{Code: m.Code, Version: m.Version}, Name: m.Name, LeadDept: m.Lead,
			Definition: string(def), CreatedAt: m.CreatedAt, CreatedBy: m.CreatedBy})
	}
	slices.SortFunc(out, func(a, b tongban.MatterRecord) int { return a.MatterKey.Compare(b.MatterKey) })
	return out
}

// supervisionRecords writes alarms (one cleared later), a finding and
// scorecard rows — with the case writes and through AddScores, with keys
// whose bytewise order differs from a linguistic one — and returns what a
// snapshot should hold of them, in dump order.
func supervisionRecords(t *testing.T, st tongban.Store, a, b *tongban.Case) ([]*tongban.Alarm, []*tongban.Finding, []tongban.ScoreEntry, []tongban.ScoreEntry) {
	t.Helper()
	ctx := t.Context()
	var alarms []*tongban.Alarm
	var findings []*tongban.Finding
	var deltas []tongban.ScoreDelta
	write := func(c *tongban.Case, d *tongban.Derived) *tongban.Event {
		t.Helper()
		ev, v := act(c, "note", c.Step, nil)
		c.Derived = d
		must(t, st.UpdateCase(ctx, c, v, ev))
		deltas = append(deltas, d.Scores...)
		for i := range d.Raise {
			ra := d.Raise[i]
			ra.Kind = c.Kind
			alarms = append(alarms, &ra)
		}
		findings = append(findings, d.Findings...)
		return ev
	}
	counts := func(n int64) tongban.ScoreCounts {
		var s tongban.ScoreCounts
		s.Received, s.HandlingSecs, s.Hist[13], s.Ratings[4], s.ValidComplaints = n, n*3600, n, 2*n, 3*n
		return s
	}
	write(a, &tongban.Derived{
		Raise: []tongban.Alarm{
			{Scope: tongban.AlarmScopeCase, Colour: tongban.AlarmWarning, Deadline: at(20, 17, 30), DueAt: at(20, 0, 0), RaisedAt: at(20, 0, 1), Dept: "cg", Person: "zhang", Category: "lights"},
			{Scope: tongban.AlarmScopeStep, Colour: tongban.AlarmYellow, Deadline: at(5, 17, 30), DueAt: at(5, 17, 31), RaisedAt: at(20, 0, 1), Dept: "cg", Category: "lights"},
		},
		Scores: []tongban.ScoreDelta{
			{Day: 20250320, Dim: tongban.ByDepartment, Key: "cg", ScoreCounts: counts(1)},
			{Day: 20250320, Dim: tongban.ByPerson, Key: "h.cgj", ScoreCounts: counts(2)},
			{Day: 20250320, Dim: tongban.ByPerson, Key: "hz", ScoreCounts: counts(3)},
			{Day: 20250320, Dim: tongban.ByPerson, Key: "Zhou", ScoreCounts: counts(4)},
			{Day: 20250320, Dim: tongban.ByPerson, Key: "张三", ScoreCounts: counts(5)},
		},
	})
	write(b, &tongban.Derived{
		Raise:    []tongban.Alarm{{Scope: tongban.AlarmScopeReopen, Colour: tongban.AlarmFlag, Deadline: at(21, 9, 0), DueAt: at(21, 9, 0), RaisedAt: at(21, 9, 0), Dept: "jt", Person: "li", Category: "roads"}},
		Findings: []*tongban.Finding{{Dept: "cg", Person: "zhang", Kind: tongban.FindingValidComplaint, Reason: "查实", Outcome: "通报批评", By: "sup", At: at(21, 10, 0)}},
		Scores:   []tongban.ScoreDelta{{Day: 20250321, Dim: tongban.ByDepartment, Key: "cg", ScoreCounts: counts(6)}},
	})
	// Clearing: the flag on b is cleared at the event's time.
	write(b, &tongban.Derived{ClearAll: true})
	alarms[2].ClearedAt = ptr(b.UpdatedAt)
	extra := []tongban.ScoreDelta{
		{Day: 20250228, Dim: tongban.ByDepartment, Key: "cg", ScoreCounts: counts(7)},
		{Day: 20250320, Dim: tongban.ByDepartment, Key: "cg", ScoreCounts: counts(8)}, // adds to a row
		{Day: 20250101, Dim: tongban.ByCategory, Key: "lights", ScoreCounts: counts(9)},
	}
	must(t, st.AddScores(ctx, extra))
	deltas = append(deltas, extra...)
	for _, f := range findings {
		if f.ID == 0 {
			t.Fatal("finding not given an ID")
		}
	}
	days := map[tongban.ScoreKey]*tongban.ScoreCounts{}
	months := map[tongban.ScoreKey]*tongban.ScoreCounts{}
	for _, d := range deltas {
		for _, k := range []struct {
			m map[tongban.ScoreKey]*tongban.ScoreCounts
			k tongban.ScoreKey
		}{{days, tongban.ScoreKey{Dim: d.Dim, Period: d.Day, Key: d.Key}}, {months, tongban.ScoreKey{Dim: d.Dim, Period: d.Day / 100, Key: d.Key}}} {
			if k.m[k.k] == nil {
				k.m[k.k] = &tongban.ScoreCounts{}
			}
			k.m[k.k].Add(&d.ScoreCounts)
		}
	}
	sorted := func(m map[tongban.ScoreKey]*tongban.ScoreCounts) []tongban.ScoreEntry {
		out := []tongban.ScoreEntry{}
		for k, c := range m {
			out = append(out, tongban.ScoreEntry{ScoreKey: k, ScoreCounts: *c})
		}
		slices.SortFunc(out, func(a, b tongban.ScoreEntry) int { return a.ScoreKey.Compare(b.ScoreKey) })
		return out
	}
	return alarms, findings, sorted(days), sorted(months)
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
	// Matter definitions as stored text: loaded and dumped byte for byte,
	// not re-encoded (odd spacing and key order kept).
	for _, m := range []struct {
		code string
		v    int
		def  string
	}{
		{"ZJ-001", 1, `{"code":"ZJ-001","version":1,"name":"许可 <&>","lead_department":"cg","steps":[]}`},
		{"ZJ-001", 2, `{"version":2, "code":"ZJ-001","name":"许可（修订）","lead_department":"cg","steps":[{"name":"审查","mode":"serial","departments":["cg"],"limit_days":5}]}`},
		{"zj-000", 1, `{"code":"zj-000","version":1,"name":"小写","lead_department":"jd","steps":[]}`},
	} {
		var def tongban.Matter
		must(t, json.Unmarshal([]byte(m.def), &def))
		b.Matters = append(b.Matters, tongban.MatterRecord{MatterKey: tongban.MatterKey{Code: m.code, Version: m.v}, Name: def.Name, LeadDept: def.Lead,
			Definition: m.def, CreatedAt: at(2, 8, m.v), CreatedBy: "admin"})
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
	b.Alarms = []*tongban.Alarm{
		{ID: 40, CaseID: 1000, Kind: tongban.KindRequest, Scope: tongban.AlarmScopeCase, Colour: tongban.AlarmYellow, Deadline: at(20, 17, 30),
			DueAt: at(20, 17, 31), RaisedAt: at(20, 17, 32), Dept: "cg", Person: "zhang", Category: "lights"},
		{ID: 44, CaseID: 1003, Kind: tongban.KindRequest, Scope: tongban.AlarmScopeStep, Colour: tongban.AlarmWarning, Deadline: at(5, 17, 30),
			DueAt: at(5, 9, 0), RaisedAt: at(5, 9, 1), ClearedAt: ptr(at(9, 9, 9)), Dept: "jd", Category: "lights"},
	}
	b.Findings = []*tongban.Finding{
		{ID: 60, CaseID: 1003, Dept: "cg", Person: "zhang", Kind: tongban.FindingValidComplaint, Reason: "查实", Outcome: "通报批评", By: "li", At: at(10, 8, 0)},
	}
	sc := func(n int64) tongban.ScoreCounts {
		var s tongban.ScoreCounts
		s.Received, s.Closed, s.ClosedOnTime, s.HandlingSecs, s.Returns, s.AlarmYellow, s.Findings = n, n, n-1, n*7200, n, n, n
		s.Hist[0], s.Hist[13], s.Ratings[0], s.Ratings[4] = n, 2*n, 3*n, 4*n
		return s
	}
	b.ScoreDays = []tongban.ScoreEntry{
		{ScoreKey: tongban.ScoreKey{Dim: tongban.ByDepartment, Period: 20250303, Key: "cg"}, ScoreCounts: sc(2)},
		{ScoreKey: tongban.ScoreKey{Dim: tongban.ByDepartment, Period: 20250303, Key: "jd"}, ScoreCounts: sc(3)},
		{ScoreKey: tongban.ScoreKey{Dim: tongban.ByDepartment, Period: 20250410, Key: "cg"}, ScoreCounts: sc(5)},
		{ScoreKey: tongban.ScoreKey{Dim: tongban.ByPerson, Period: 20250303, Key: "zhang"}, ScoreCounts: sc(2)},
	}
	b.ScoreMonths = []tongban.ScoreEntry{
		{ScoreKey: tongban.ScoreKey{Dim: tongban.ByDepartment, Period: 202503, Key: "cg"}, ScoreCounts: sc(2)},
		{ScoreKey: tongban.ScoreKey{Dim: tongban.ByDepartment, Period: 202503, Key: "jd"}, ScoreCounts: sc(3)},
		{ScoreKey: tongban.ScoreKey{Dim: tongban.ByDepartment, Period: 202504, Key: "cg"}, ScoreCounts: sc(5)},
		{ScoreKey: tongban.ScoreKey{Dim: tongban.ByPerson, Period: 202503, Key: "zhang"}, ScoreCounts: sc(2)},
	}
	return b
}

func (s *suite) loadRoundTrip(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	b := loadFixture(t)
	// Two batches, as a load sends them: references cross batches.
	first := &tongban.LoadBatch{Departments: b.Departments, Users: b.Users, Categories: b.Categories, Matters: b.Matters[:1], CalendarOverrides: b.CalendarOverrides, APIKeys: b.APIKeys, Cases: b.Cases}
	second := &tongban.LoadBatch{Events: b.Events, Attachments: b.Attachments, PIIAccess: b.PIIAccess, Alarms: b.Alarms, Findings: b.Findings,
		ScoreDays: b.ScoreDays[:2]}
	third := &tongban.LoadBatch{ScoreDays: b.ScoreDays[2:], ScoreMonths: b.ScoreMonths, Matters: b.Matters[1:]}
	must(t, st.Load(ctx, first))
	must(t, st.Load(ctx, second))
	must(t, st.Load(ctx, third))
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
	// The supervision records read back through the supervision methods.
	alarms, total, err := st.ListAlarms(ctx, tongban.AlarmFilter{})
	must(t, err)
	if total != 2 || len(alarms) != 2 {
		t.Fatalf("ListAlarms after Load: %d alarms", total)
	}
	for i, a := range alarms { // newest first, as the fixture lists them
		want := *b.Alarms[i]
		for _, c := range b.Cases {
			if c.ID == want.CaseID {
				want.TrackingCode, want.Title = c.TrackingCode, c.Title
			}
		}
		if g, w := jsonOf(t, a), jsonOf(t, &want); g != w {
			t.Fatalf("alarm after Load\n got %s\nwant %s", g, w)
		}
	}
	over, err := st.OpenOverdue(ctx, tongban.ByDepartment, at(1, 0, 0), at(31, 0, 0))
	must(t, err)
	if len(over) != 1 || over["cg"] != 1 {
		t.Fatalf("OpenOverdue after Load = %v", over)
	}
	findings, err := st.ListFindings(ctx, tongban.FindingFilter{})
	must(t, err)
	if g, w := jsonOf(t, findings), jsonOf(t, b.Findings); g != w {
		t.Fatalf("findings after Load\n got %s\nwant %s", g, w)
	}
	totals, err := st.ScoreTotals(ctx, tongban.ByDepartment, 20250101, 20251231) // whole months: month rows
	must(t, err)
	cg := b.ScoreDays[0].ScoreCounts
	cg.Add(&b.ScoreDays[2].ScoreCounts)
	if g, w := jsonOf(t, totals), jsonOf(t, []tongban.ScoreRow{{Key: "cg", ScoreCounts: cg}, {Key: "jd", ScoreCounts: b.ScoreDays[1].ScoreCounts}}); g != w {
		t.Fatalf("ScoreTotals after Load\n got %s\nwant %s", g, w)
	}
	byDay, err := st.ScoreByDay(ctx, tongban.ByDepartment, "cg", 20250301, 20250415) // day rows
	must(t, err)
	if g, w := jsonOf(t, byDay), jsonOf(t, []tongban.ScoreRow{{Key: "20250303", ScoreCounts: b.ScoreDays[0].ScoreCounts}, {Key: "20250410", ScoreCounts: b.ScoreDays[2].ScoreCounts}}); g != w {
		t.Fatalf("ScoreByDay after Load\n got %s\nwant %s", g, w)
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
	dAlarms, err := snap.DumpAlarms(ctx, 0, 10)
	must(t, err)
	if g, w := jsonOf(t, dAlarms), jsonOf(t, b.Alarms); g != w {
		t.Fatalf("DumpAlarms after Load\n got %s\nwant %s", g, w)
	}
	dFindings, err := snap.DumpFindings(ctx, 0, 10)
	must(t, err)
	if g, w := jsonOf(t, dFindings), jsonOf(t, b.Findings); g != w {
		t.Fatalf("DumpFindings after Load\n got %s\nwant %s", g, w)
	}
	days, err := snap.DumpScoreDays(ctx, nil, 10)
	must(t, err)
	if g, w := jsonOf(t, days), jsonOf(t, b.ScoreDays); g != w {
		t.Fatalf("DumpScoreDays after Load\n got %s\nwant %s", g, w)
	}
	months, err := snap.DumpScoreMonths(ctx, nil, 10)
	must(t, err)
	if g, w := jsonOf(t, months), jsonOf(t, b.ScoreMonths); g != w {
		t.Fatalf("DumpScoreMonths after Load\n got %s\nwant %s", g, w)
	}
	matters, err := snap.DumpMatters(ctx, nil, 10)
	must(t, err)
	if g, w := jsonOf(t, matters), jsonOf(t, b.Matters); g != w { // bytewise: "ZJ-001" before "zj-000"
		t.Fatalf("DumpMatters after Load\n got %s\nwant %s", g, w)
	}
	// The catalogue reads the loaded versions.
	if ms, ok := st.(tongban.MatterStore); ok {
		latest, err := ms.Matter(ctx, "ZJ-001", 0)
		must(t, err)
		if latest.Version != 2 || latest.Name != "许可（修订）" || !latest.CreatedAt.Equal(at(2, 8, 2)) || latest.CreatedBy != "admin" {
			t.Fatalf("latest ZJ-001 after Load = %+v", latest)
		}
		v1, err := ms.Matter(ctx, "ZJ-001", 1)
		must(t, err)
		if v1.Name != "许可 <&>" {
			t.Fatalf("ZJ-001 v1 after Load = %+v", v1)
		}
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
	// And the loaded cases go on working, with new alarms and findings
	// numbered after the loaded ones and scores added to the loaded rows.
	lc, err := st.Case(ctx, 1000)
	must(t, err)
	next, v := act(lc, "note", lc.Step, nil)
	alarm := tongban.Alarm{Scope: tongban.AlarmScopeCase, Colour: tongban.AlarmRed, Deadline: at(20, 17, 30), DueAt: at(25, 0, 0), RaisedAt: at(25, 0, 0), Dept: "cg"}
	finding := &tongban.Finding{Dept: "cg", Kind: "overdue", Reason: "超期", By: "li", At: at(25, 0, 0)}
	lc.Derived = &tongban.Derived{Raise: []tongban.Alarm{alarm}, Findings: []*tongban.Finding{finding},
		Scores: []tongban.ScoreDelta{{Day: 20250303, Dim: tongban.ByDepartment, Key: "cg", ScoreCounts: tongban.ScoreCounts{Received: 10}}}}
	raise := lc.Derived.Raise
	must(t, st.UpdateCase(ctx, lc, v, next))
	if raise[0].ID <= 44 || finding.ID <= 60 {
		t.Fatalf("new alarm/finding got ids %d/%d, loaded up to 44/60", raise[0].ID, finding.ID)
	}
	evs, err := st.Events(ctx, 1000)
	must(t, err)
	if len(evs) != 3 || tongban.VerifyChain(evs) != 0 {
		t.Fatalf("chain after update of a loaded case: %s", jsonOf(t, evs))
	}
	rows, err := st.ScoreTotals(ctx, tongban.ByDepartment, 20250301, 20250331)
	must(t, err)
	if len(rows) != 2 || rows[0].Key != "cg" || rows[0].Received != b.ScoreDays[0].Received+10 {
		t.Fatalf("ScoreTotals after adding to a loaded row = %+v", rows)
	}
}

// snap0 opens a snapshot closed when the test ends.
func snap0(t *testing.T, st tongban.Store) tongban.Snapshot {
	t.Helper()
	snap, err := st.Snapshot(t.Context())
	must(t, err)
	t.Cleanup(func() { snap.Close() })
	return snap
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
	// So are an alarm or a finding of a missing case, and a score row
	// loaded twice (rows are inserted, not added to), each leaving nothing.
	alarm := *b.Alarms[0]
	alarm.CaseID = 4242
	if err := st.Load(ctx, &tongban.LoadBatch{Alarms: []*tongban.Alarm{&alarm}}); err == nil {
		t.Fatal("Load of an alarm of a missing case succeeded")
	}
	finding := *b.Findings[0]
	finding.CaseID = 4242
	if err := st.Load(ctx, &tongban.LoadBatch{Findings: []*tongban.Finding{&finding}}); err == nil {
		t.Fatal("Load of a finding of a missing case succeeded")
	}
	if err := st.Load(ctx, &tongban.LoadBatch{ScoreMonths: b.ScoreMonths[:1], ScoreDays: []tongban.ScoreEntry{b.ScoreDays[0], b.ScoreDays[0]}}); err == nil {
		t.Fatal("Load of a score row twice succeeded")
	}
	if err := st.Load(ctx, &tongban.LoadBatch{Matters: []tongban.MatterRecord{b.Matters[0], b.Matters[1], b.Matters[0]}}); err == nil {
		t.Fatal("Load of a matter version twice succeeded")
	}
	if ms, err := snap0(t, st).DumpMatters(ctx, nil, 10); err != nil || len(ms) != 0 {
		t.Fatalf("a failed Load left %d matters (%v)", len(ms), err)
	}
	snap, err := st.Snapshot(ctx)
	must(t, err)
	defer snap.Close()
	days, err := snap.DumpScoreDays(ctx, nil, 10)
	must(t, err)
	months, err := snap.DumpScoreMonths(ctx, nil, 10)
	must(t, err)
	if len(days) != 0 || len(months) != 0 {
		t.Fatalf("a failed Load left %d score days, %d months", len(days), len(months))
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

	st = s.open(t)
	b := loadFixture(t)
	must(t, st.Load(ctx, &tongban.LoadBatch{Matters: b.Matters[:1]}))
	wantEmpty(st, false, "with a matter only")

	st = s.open(t)
	must(t, st.AddScores(ctx, []tongban.ScoreDelta{{Day: 20250303, Dim: tongban.ByDepartment, Key: "cg", ScoreCounts: tongban.ScoreCounts{Received: 1}}}))
	wantEmpty(st, false, "with scorecard rows only")
}
