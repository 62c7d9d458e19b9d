// Package storetest is the conformance suite every tongban.Store
// implementation must pass. It uses nothing but the Store interface, so the
// SQLite and PostgreSQL stores are held to one contract.
package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban"
)

// Options adjusts the suite to what a store supports.
type Options struct {
	// BackupUnsupported accepts a Backup that fails with code "invalid"
	// (PostgreSQL is backed up with tongban dump or pg_dump instead).
	BackupUnsupported bool
	// OpenBackup, when set, opens the file Backup wrote so the suite can
	// check it holds the data.
	OpenBackup func(t *testing.T, path string) tongban.Store
	// Skip maps a subtest name (as given to t.Run, e.g.
	// "ListCases/DeptUnderscore") to the reason it is skipped, for known
	// bugs awaiting a fix.
	Skip map[string]string
}

// Run runs the suite. open must return a fresh, empty, migrated store for
// each call; it registers the store's cleanup with t.
func Run(t *testing.T, open func(t *testing.T) tongban.Store, opts ...Options) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	s := &suite{open: open, opts: o}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"Departments", s.departments},
		{"Users", s.users},
		{"Categories", s.categories},
		{"Sessions", s.sessions},
		{"APIKeys", s.apiKeys},
		{"CalendarOverrides", s.calendar},
		{"PIIAccess", s.piiAccess},
		{"HitRate", s.hitRate},
		{"HitRateConcurrent", s.hitRateConcurrent},
		{"CreateCase", s.createCase},
		{"CaseRoundTrip", s.caseRoundTrip},
		{"CaseNotFound", s.caseNotFound},
		{"DuplicateTrackingCode", s.duplicateTrackingCode},
		{"UpdateCase", s.updateCase},
		{"UpdateCaseStale", s.updateCaseStale},
		{"UpdateCaseRace", s.updateCaseRace},
		{"ReadAfterWrite", s.readAfterWrite},
		{"EventsChain", s.eventsChain},
		{"ListCases", s.listCases},
		{"Search", s.search},
		{"Backup", s.backup},
		{"ConcurrentCreate", s.concurrentCreate},
		{"ConcurrentCreateMixed", s.concurrentCreateMixed},
		{"ConcurrentCreateSomeBad", s.concurrentCreateSomeBad},
		{"ScoresAddUp", s.scoresAddUp},
		{"Ping", s.ping},
		{"Supervision", s.supervision},
		{"Transfer", s.transfer},
		{"Matters", s.matters},
		{"Ratings", s.ratings},
		{"AlarmScopes", s.alarmScopes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s.skip(t)
			tc.fn(t)
		})
	}
}

type suite struct {
	open func(t *testing.T) tongban.Store
	opts Options
}

// skip skips t when the options list it as a known bug. Subtest names are
// matched without the parent test's prefix.
func (s *suite) skip(t *testing.T) {
	t.Helper()
	name := t.Name()
	for k, why := range s.opts.Skip {
		if len(name) >= len(k) && name[len(name)-len(k):] == k && (len(name) == len(k) || name[len(name)-len(k)-1] == '/') {
			t.Skip(why)
		}
	}
}

// ---- helpers ----

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want code %q", code)
	}
	if got := tongban.ErrorCode(err); got != code {
		t.Fatalf("got error %v (code %q), want code %q", err, got, code)
	}
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	wantCode(t, err, tongban.EInvalid)
	if e := tongban.AsError(err); e.Field != field {
		t.Fatalf("got error %v on field %q, want field %q", err, e.Field, field)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// at returns a fixed UTC time with a microsecond part, so stores that kept
// less precision show.
func at(day, hour, minute int) time.Time {
	return time.Date(2025, time.March, day, hour, minute, 7, 123456000, time.UTC)
}

func ptr[T any](v T) *T { return &v }

func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func mkDept(t *testing.T, st tongban.Store, code string) *tongban.Department {
	t.Helper()
	d := &tongban.Department{Code: code, Name: "部门" + code, Kind: tongban.DeptBureau}
	must(t, st.CreateDepartment(t.Context(), d))
	return d
}

func mkUser(t *testing.T, st tongban.Store, login, dept string) *tongban.User {
	t.Helper()
	u := &tongban.User{Login: login, Name: "用户" + login, Dept: dept, Roles: []tongban.Role{tongban.RoleHandler}, PasswordHash: "h-" + login}
	must(t, st.CreateUser(t.Context(), u))
	return u
}

// newCase returns a case with every field set, as the engine would build
// it before CreateCase.
func newCase() *tongban.Case {
	return &tongban.Case{
		Kind: tongban.KindRequest, Workflow: "request", TrackingCode: tongban.NewTrackingCode(),
		Type: tongban.TypeComplaint, Channel: tongban.ChannelWeb, Category: "lights",
		Title: "路灯不亮", Body: "小区门口的路灯坏了三天\n请尽快修理。", Address: "建设路12号",
		Lat: ptr(31.2304), Long: ptr(121.4737),
		Requester:    tongban.Requester{Name: "张三丰", Phone: "13812345678", Email: "zs@example.com"},
		Confidential: true,
		Lead:         "cg", Co: []string{"jt", "hb"}, First: "cg", Assignee: "zhang",
		Step: "handle", Status: tongban.StatusOpen,
		ReceivedAt: at(3, 9, 1), UpdatedAt: at(3, 10, 2), StepStarted: at(3, 10, 2),
		StepDeadline: ptr(at(5, 17, 30)), Deadline: at(20, 17, 30),
		DraftReply: "草稿", Rating: 0, Returns: 1, Reopens: 2, Transfers: 3, ExtensionDays: 4,
		Pending:  &tongban.Pending{Kind: "extension", Days: 5, Reason: "需要协调", By: "zhang", At: at(4, 8, 0)},
		ParentID: 0,
		Attrs: map[string]json.RawMessage{
			"form":     json.RawMessage(`{"z":1,"a":[1,2,"三"],"m":null}`),
			"progress": json.RawMessage(`42`),
		},
		Attachments: []tongban.Attachment{
			{Name: "照片.jpg", ContentType: "image/jpeg", Size: 6, SHA256: "aa", Data: []byte{0xff, 0xd8, 0, 1, 0, 0xd9}, CreatedAt: at(3, 9, 1)},
			{Name: "b.pdf", ContentType: "application/pdf", Size: 4, SHA256: "bb", Data: []byte("%PDF"), CreatedAt: at(3, 9, 2)},
		},
	}
}

// create stores c with its first event built as the engine builds it.
func create(t *testing.T, st tongban.Store, c *tongban.Case) *tongban.Event {
	t.Helper()
	ev := firstEvent(c)
	must(t, st.CreateCase(t.Context(), c, ev))
	return ev
}

func firstEvent(c *tongban.Case) *tongban.Event {
	payload, _ := json.Marshal(map[string]any{"channel": c.Channel, "type": c.Type, "category": c.Category, "deadline": c.Deadline})
	return &tongban.Event{Action: "create", FromStep: "", ToStep: c.Step, ActorID: 0, Actor: "市民", ActorDept: "",
		At: tongban.Now(), Public: true, Payload: payload}
}

// act prepares c's next state and event as engine.act does: the caller
// sets Seq, PrevHash and Hash and bumps the version.
func act(c *tongban.Case, action, to string, payload json.RawMessage) (*tongban.Event, int64) {
	version := c.Version
	now := tongban.Now()
	ev := &tongban.Event{CaseID: c.ID, Seq: version + 1, Action: action, FromStep: c.Step, ToStep: to,
		ActorID: 7, Actor: "李四", ActorDept: "cg", At: now, Reason: "理由", Note: "备注", Public: action != "note",
		Payload: payload, PrevHash: c.LastHash}
	ev.Hash = ev.ComputeHash()
	c.Step, c.StepStarted, c.UpdatedAt = to, now, now
	c.Version, c.LastHash = version+1, ev.Hash
	return ev, version
}

// caseJSON is the case as compared: its JSON plus the fields JSON leaves
// out (LastHash, attachment data is compared separately).
func caseJSON(t *testing.T, c *tongban.Case) string {
	t.Helper()
	return jsonOf(t, c) + " last_hash=" + c.LastHash
}

func withoutAttachments(c *tongban.Case) *tongban.Case {
	cp := *c
	cp.Attachments = nil
	return &cp
}

// expectStored returns what Case should return for c: attachment data is
// not loaded.
func expectStored(c *tongban.Case) *tongban.Case {
	cp := *c
	cp.Attachments = nil
	for _, a := range c.Attachments {
		a.Data = nil
		cp.Attachments = append(cp.Attachments, a)
	}
	return &cp
}

func checkCase(t *testing.T, st tongban.Store, want *tongban.Case) *tongban.Case {
	t.Helper()
	got, err := st.Case(t.Context(), want.ID)
	must(t, err)
	if g, w := caseJSON(t, got), caseJSON(t, expectStored(want)); g != w {
		t.Fatalf("stored case differs\n got: %s\nwant: %s", g, w)
	}
	return got
}

// ---- entities ----

func (s *suite) departments(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	list, err := st.ListDepartments(ctx)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("fresh store has %d departments", len(list))
	}
	d := &tongban.Department{Code: "cg", Name: "城管局", Kind: tongban.DeptBureau, Parent: "gov", Keywords: []string{"路灯", "占道"}}
	must(t, st.CreateDepartment(ctx, d))
	if d.ID == 0 {
		t.Fatal("CreateDepartment did not set ID")
	}
	if d.CreatedAt.IsZero() {
		t.Fatal("CreateDepartment did not set CreatedAt")
	}
	got, err := st.Department(ctx, "cg")
	must(t, err)
	if g, w := jsonOf(t, got), jsonOf(t, d); g != w {
		t.Fatalf("Department\n got %s\nwant %s", g, w)
	}
	sameTime(t, "CreatedAt", got.CreatedAt, d.CreatedAt)

	d2 := &tongban.Department{Code: "jd", Name: "街道", Kind: tongban.DeptStreet, Disabled: true, CreatedAt: at(1, 8, 0)}
	must(t, st.CreateDepartment(ctx, d2))
	got, err = st.Department(ctx, "jd")
	must(t, err)
	if !got.Disabled || len(got.Keywords) != 0 || got.Parent != "" {
		t.Fatalf("Department jd = %+v", got)
	}
	sameTime(t, "given CreatedAt", got.CreatedAt, at(1, 8, 0))

	wantField(t, st.CreateDepartment(ctx, &tongban.Department{Code: "cg", Name: "重复", Kind: tongban.DeptBureau}), "code")

	d.Name, d.Kind, d.Parent, d.Keywords, d.Disabled = "城市管理局", tongban.DeptCentre, "", []string{"井盖"}, true
	must(t, st.UpdateDepartment(ctx, d))
	got, err = st.Department(ctx, "cg")
	must(t, err)
	if g, w := jsonOf(t, got), jsonOf(t, d); g != w {
		t.Fatalf("after UpdateDepartment\n got %s\nwant %s", g, w)
	}
	wantCode(t, st.UpdateDepartment(ctx, &tongban.Department{Code: "nope", Name: "x", Kind: tongban.DeptBureau}), tongban.ENotFound)
	_, err = st.Department(ctx, "nope")
	wantCode(t, err, tongban.ENotFound)

	list, err = st.ListDepartments(ctx)
	must(t, err)
	if len(list) != 2 || list[0].Code != "cg" || list[1].Code != "jd" {
		t.Fatalf("ListDepartments = %s, want cg, jd in creation order", jsonOf(t, list))
	}
}

func (s *suite) users(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	mkDept(t, st, "cg")
	mkDept(t, st, "hb")
	u := &tongban.User{Login: "zhang", Name: "张三", Dept: "cg", Roles: []tongban.Role{tongban.RoleHandler, tongban.RoleHead},
		Phone: "13800000000", PasswordHash: "$argon2id$x"}
	must(t, st.CreateUser(ctx, u))
	if u.ID == 0 || u.CreatedAt.IsZero() {
		t.Fatalf("CreateUser did not set ID/CreatedAt: %+v", u)
	}
	byID, err := st.User(ctx, u.ID)
	must(t, err)
	byLogin, err := st.UserByLogin(ctx, "zhang")
	must(t, err)
	for _, got := range []*tongban.User{byID, byLogin} {
		if g, w := jsonOf(t, got), jsonOf(t, u); g != w {
			t.Fatalf("User\n got %s\nwant %s", g, w)
		}
		if got.PasswordHash != u.PasswordHash {
			t.Fatalf("PasswordHash = %q, want %q", got.PasswordHash, u.PasswordHash)
		}
		if !slices.Equal(got.Roles, []tongban.Role{tongban.RoleHandler, tongban.RoleHead}) {
			t.Fatalf("Roles = %v", got.Roles)
		}
	}

	wantField(t, st.CreateUser(ctx, &tongban.User{Login: "li", Name: "李四", Dept: "nope", Roles: []tongban.Role{tongban.RoleAdmin}, PasswordHash: "x"}), "department")
	wantField(t, st.CreateUser(ctx, &tongban.User{Login: "zhang", Name: "重名", Dept: "hb", Roles: []tongban.Role{tongban.RoleAdmin}, PasswordHash: "x"}), "login")

	dis := &tongban.User{Login: "wang", Name: "王五", Dept: "hb", Roles: []tongban.Role{tongban.RoleAdmin}, Disabled: true, PasswordHash: "x", CreatedAt: at(2, 3, 4)}
	must(t, st.CreateUser(ctx, dis))
	got, err := st.UserByLogin(ctx, "wang")
	must(t, err)
	if !got.Disabled || got.ID != dis.ID {
		t.Fatalf("disabled user = %+v", got)
	}
	sameTime(t, "given CreatedAt", got.CreatedAt, at(2, 3, 4))

	u.Name, u.Dept, u.Roles, u.Phone, u.Disabled, u.PasswordHash = "张三丰", "hb", []tongban.Role{tongban.RoleSupervisor}, "", true, "new-hash"
	must(t, st.UpdateUser(ctx, u))
	got, err = st.User(ctx, u.ID)
	must(t, err)
	if g, w := jsonOf(t, got), jsonOf(t, u); g != w || got.PasswordHash != "new-hash" {
		t.Fatalf("after UpdateUser\n got %s\nwant %s", g, w)
	}
	wantField(t, st.UpdateUser(ctx, &tongban.User{ID: u.ID, Login: "zhang", Name: "x", Dept: "nope", Roles: u.Roles}), "department")
	wantCode(t, st.UpdateUser(ctx, &tongban.User{ID: 99999, Login: "ghost", Name: "x", Dept: "cg", Roles: u.Roles}), tongban.ENotFound)
	_, err = st.User(ctx, 99999)
	wantCode(t, err, tongban.ENotFound)
	_, err = st.UserByLogin(ctx, "ghost")
	wantCode(t, err, tongban.ENotFound)

	list, err := st.ListUsers(ctx)
	must(t, err)
	if len(list) != 2 || list[0].Login != "zhang" || list[1].Login != "wang" {
		t.Fatalf("ListUsers = %s, want zhang, wang", jsonOf(t, list))
	}
}

func (s *suite) categories(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	c := &tongban.Category{Code: "lights", Name: "路灯", Description: "路灯不亮、损坏", Dept: "cg",
		Limits: map[string]int{tongban.TypeComplaint: 5, tongban.TypeHelp: 3}, LimitHours: 0, ReplyNeedsApproval: true,
		Keywords: []string{"路灯", "灯杆"}, Active: true, Order: 2}
	must(t, st.PutCategory(ctx, c))
	if c.UpdatedAt.IsZero() {
		t.Fatal("PutCategory did not set UpdatedAt")
	}
	got, err := st.Category(ctx, "lights")
	must(t, err)
	if g, w := jsonOf(t, got), jsonOf(t, c); g != w {
		t.Fatalf("Category\n got %s\nwant %s", g, w)
	}
	if !maps.Equal(got.Limits, c.Limits) || !slices.Equal(got.Keywords, c.Keywords) {
		t.Fatalf("limits/keywords = %v %v", got.Limits, got.Keywords)
	}

	c.Name, c.Limits, c.Keywords, c.LimitHours, c.ReplyNeedsApproval, c.Active, c.Order = "路灯照明", map[string]int{tongban.TypeReport: 30}, nil, 4, false, false, 1
	must(t, st.PutCategory(ctx, c))
	got, err = st.Category(ctx, "lights")
	must(t, err)
	if g, w := jsonOf(t, got), jsonOf(t, c); g != w {
		t.Fatalf("Category after second Put\n got %s\nwant %s", g, w)
	}
	if len(got.Keywords) != 0 || !maps.Equal(got.Limits, map[string]int{tongban.TypeReport: 30}) {
		t.Fatalf("after upsert limits/keywords = %v %v", got.Limits, got.Keywords)
	}

	must(t, st.PutCategory(ctx, &tongban.Category{Code: "noise", Name: "噪音", Active: true, Order: 1}))
	must(t, st.PutCategory(ctx, &tongban.Category{Code: "abc", Name: "其他", Active: true, Order: 9}))
	must(t, st.PutCategory(ctx, &tongban.Category{Code: "zeta", Name: "首位", Active: true, Order: 0}))
	list, err := st.ListCategories(ctx)
	must(t, err)
	var codes []string
	for _, x := range list {
		codes = append(codes, x.Code)
	}
	if want := []string{"zeta", "lights", "noise", "abc"}; !slices.Equal(codes, want) {
		t.Fatalf("ListCategories order = %v, want %v (by order, then code)", codes, want)
	}
	_, err = st.Category(ctx, "nope")
	wantCode(t, err, tongban.ENotFound)
}

func (s *suite) sessions(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	mkDept(t, st, "cg")
	u1, u2 := mkUser(t, st, "a", "cg"), mkUser(t, st, "b", "cg")
	mk := func(hash string, uid int64) *tongban.Session {
		s := &tongban.Session{TokenHash: hash, UserID: uid, CSRF: "csrf-" + hash, CreatedAt: at(1, 9, 0), ExpiresAt: at(2, 9, 0)}
		must(t, st.CreateSession(ctx, s))
		return s
	}
	s1 := mk("h1", u1.ID)
	mk("h2", u1.ID)
	mk("h3", u2.ID)
	got, err := st.Session(ctx, "h1")
	must(t, err)
	if got.TokenHash != s1.TokenHash || got.UserID != s1.UserID || got.CSRF != s1.CSRF {
		t.Fatalf("Session = %+v, want %+v", got, s1)
	}
	sameTime(t, "CreatedAt", got.CreatedAt, s1.CreatedAt)
	sameTime(t, "ExpiresAt", got.ExpiresAt, s1.ExpiresAt)
	_, err = st.Session(ctx, "nope")
	wantCode(t, err, tongban.ENotFound)

	must(t, st.DeleteSession(ctx, "h1"))
	_, err = st.Session(ctx, "h1")
	wantCode(t, err, tongban.ENotFound)
	if _, err := st.Session(ctx, "h2"); err != nil {
		t.Fatalf("DeleteSession removed another session: %v", err)
	}

	mk("h4", u1.ID)
	must(t, st.DeleteUserSessions(ctx, u1.ID))
	for _, h := range []string{"h2", "h4"} {
		_, err = st.Session(ctx, h)
		wantCode(t, err, tongban.ENotFound)
	}
	if _, err := st.Session(ctx, "h3"); err != nil {
		t.Fatalf("DeleteUserSessions removed another user's session: %v", err)
	}
}

func (s *suite) apiKeys(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	k := &tongban.APIKey{Name: "Open311 app", Hash: "sha-1", Prefix: "tb_abc"}
	must(t, st.CreateAPIKey(ctx, k))
	if k.ID == 0 || k.CreatedAt.IsZero() {
		t.Fatalf("CreateAPIKey did not set ID/CreatedAt: %+v", k)
	}
	k2 := &tongban.APIKey{Name: "partner", Hash: "sha-2", Prefix: "tb_def", CreatedAt: at(1, 1, 1)}
	must(t, st.CreateAPIKey(ctx, k2))
	got, err := st.APIKeyByHash(ctx, "sha-1")
	must(t, err)
	if g, w := jsonOf(t, got), jsonOf(t, k); g != w || got.Hash != "sha-1" {
		t.Fatalf("APIKeyByHash\n got %s\nwant %s", g, w)
	}
	_, err = st.APIKeyByHash(ctx, "nope")
	wantCode(t, err, tongban.ENotFound)

	must(t, st.RevokeAPIKey(ctx, k.ID))
	got, err = st.APIKeyByHash(ctx, "sha-1")
	must(t, err)
	if !got.Revoked {
		t.Fatal("revoked key not marked revoked")
	}
	got, err = st.APIKeyByHash(ctx, "sha-2")
	must(t, err)
	if got.Revoked {
		t.Fatal("RevokeAPIKey revoked another key")
	}
	wantCode(t, st.RevokeAPIKey(ctx, 99999), tongban.ENotFound)

	list, err := st.ListAPIKeys(ctx)
	must(t, err)
	if len(list) != 2 || list[0].ID != k.ID || !list[0].Revoked || list[1].ID != k2.ID || list[1].Prefix != "tb_def" {
		t.Fatalf("ListAPIKeys = %s", jsonOf(t, list))
	}
	sameTime(t, "given CreatedAt", list[1].CreatedAt, at(1, 1, 1))
}

func (s *suite) calendar(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	list, err := st.ListCalendarOverrides(ctx)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("fresh store has overrides %v", list)
	}
	for _, o := range []tongban.CalendarOverride{
		{Date: "2026-10-01", Off: true, Name: "国庆节"},
		{Date: "2026-02-14", Off: false, Name: "春节调休"},
		{Date: "2026-05-01", Off: true, Name: "劳动节"},
	} {
		must(t, st.SetCalendarOverride(ctx, o))
	}
	must(t, st.SetCalendarOverride(ctx, tongban.CalendarOverride{Date: "2026-05-01", Off: false, Name: "改为上班"}))
	list, err = st.ListCalendarOverrides(ctx)
	must(t, err)
	want := []tongban.CalendarOverride{
		{Date: "2026-02-14", Off: false, Name: "春节调休"},
		{Date: "2026-05-01", Off: false, Name: "改为上班"},
		{Date: "2026-10-01", Off: true, Name: "国庆节"},
	}
	if !slices.Equal(list, want) {
		t.Fatalf("overrides = %v, want %v", list, want)
	}
	must(t, st.DeleteCalendarOverride(ctx, "2026-05-01"))
	must(t, st.DeleteCalendarOverride(ctx, "2030-01-01")) // absent: no error
	list, err = st.ListCalendarOverrides(ctx)
	must(t, err)
	if !slices.Equal(list, []tongban.CalendarOverride{want[0], want[2]}) {
		t.Fatalf("after delete overrides = %v", list)
	}
}

func (s *suite) piiAccess(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	c1, c2 := newCase(), newCase()
	create(t, st, c1)
	create(t, st, c2)
	var logged []tongban.PIIAccess
	for i, caseID := range []int64{c1.ID, c2.ID, c1.ID, c1.ID} {
		a := &tongban.PIIAccess{CaseID: caseID, UserID: int64(10 + i), Login: fmt.Sprintf("u%d", i), Reason: "回访", At: at(5, 9, i)}
		must(t, st.LogPIIAccess(ctx, a))
		if a.ID == 0 {
			t.Fatal("LogPIIAccess did not set ID")
		}
		logged = append(logged, *a)
	}
	list, err := st.ListPIIAccess(ctx, c1.ID)
	must(t, err)
	want := []tongban.PIIAccess{logged[3], logged[2], logged[0]}
	if g, w := jsonOf(t, list), jsonOf(t, want); g != w {
		t.Fatalf("ListPIIAccess (newest first)\n got %s\nwant %s", g, w)
	}
	list, err = st.ListPIIAccess(ctx, 99999)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("ListPIIAccess of unknown case = %v", list)
	}
}

func (s *suite) hitRate(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	const window = time.Minute
	base := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	hit := func(key string, now time.Time, want int) {
		t.Helper()
		n, err := st.HitRate(ctx, key, window, now)
		must(t, err)
		if n != want {
			t.Fatalf("HitRate(%s, %v) = %d, want %d", key, now, n, want)
		}
	}
	hit("login:1.2.3.4", base, 1)
	hit("login:1.2.3.4", base.Add(10*time.Second), 2)
	hit("login:5.6.7.8", base.Add(20*time.Second), 1)
	hit("login:1.2.3.4", base.Add(59*time.Second+999*time.Millisecond), 3)
	hit("login:5.6.7.8", base.Add(30*time.Second), 2)
	// The next window starts again from one.
	hit("login:1.2.3.4", base.Add(window), 1)
	hit("login:1.2.3.4", base.Add(window+time.Second), 2)
	hit("login:5.6.7.8", base.Add(2*window+time.Second), 1)
	// A longer window keeps counting across minutes.
	day := 24 * time.Hour
	dayBase := time.Date(2025, 3, 1, 0, 30, 0, 0, time.UTC)
	for i, off := range []time.Duration{0, time.Hour, 23 * time.Hour} {
		n, err := st.HitRate(ctx, "open311:key", day, dayBase.Add(off))
		must(t, err)
		if n != i+1 {
			t.Fatalf("daily HitRate at +%v = %d, want %d", off, n, i+1)
		}
	}
	n, err := st.HitRate(ctx, "open311:key", day, dayBase.Add(day))
	must(t, err)
	if n != 1 {
		t.Fatalf("daily HitRate the next day = %d, want 1", n)
	}
}

func (s *suite) hitRateConcurrent(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	const n = 50
	now := time.Date(2025, 3, 1, 10, 0, 30, 0, time.UTC)
	counts := make([]int, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			c, err := st.HitRate(ctx, "burst", time.Minute, now)
			if err != nil {
				errs <- err
			}
			counts[i] = c
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	slices.Sort(counts)
	for i, c := range counts {
		if c != i+1 {
			t.Fatalf("concurrent HitRate counts = %v, want 1..%d each once", counts, n)
		}
	}
}

// ---- cases ----

func (s *suite) createCase(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	c := newCase()
	ev := firstEvent(c)
	evAt := ev.At
	must(t, st.CreateCase(ctx, c, ev))
	if c.ID == 0 {
		t.Fatal("CreateCase did not set the case ID")
	}
	if c.Version != 1 {
		t.Fatalf("Version = %d, want 1", c.Version)
	}
	if ev.CaseID != c.ID || ev.Seq != 1 || ev.PrevHash != "" {
		t.Fatalf("first event CaseID/Seq/PrevHash = %d/%d/%q, want %d/1/\"\"", ev.CaseID, ev.Seq, ev.PrevHash, c.ID)
	}
	if ev.Hash == "" || ev.Hash != ev.ComputeHash() {
		t.Fatalf("first event Hash = %q, want ComputeHash() = %q", ev.Hash, ev.ComputeHash())
	}
	if c.LastHash != ev.Hash {
		t.Fatalf("LastHash = %q, want the first event's hash %q", c.LastHash, ev.Hash)
	}
	for i, a := range c.Attachments {
		if a.ID == 0 || a.CaseID != c.ID {
			t.Fatalf("attachment %d ID/CaseID = %d/%d", i, a.ID, a.CaseID)
		}
	}
	evs, err := st.Events(ctx, c.ID)
	must(t, err)
	if len(evs) != 1 {
		t.Fatalf("Events = %d events, want 1", len(evs))
	}
	e := evs[0]
	if e.ID == 0 || e.CaseID != c.ID || e.Seq != 1 || e.Action != "create" || e.ToStep != c.Step || !e.Public ||
		e.Actor != "市民" || !e.At.Equal(evAt) || !bytes.Equal(e.Payload, ev.Payload) || e.Hash != ev.Hash {
		t.Fatalf("stored first event = %s, want %s", jsonOf(t, e), jsonOf(t, ev))
	}
	if bad := tongban.VerifyChain(evs); bad != 0 {
		t.Fatalf("VerifyChain = %d, want 0", bad)
	}
}

func (s *suite) caseRoundTrip(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	c := newCase()
	create(t, st, c)
	got := checkCase(t, st, c)
	if got.LastHash != c.LastHash || got.Version != 1 {
		t.Fatalf("LastHash/Version = %q/%d", got.LastHash, got.Version)
	}
	if got.Lat == nil || *got.Lat != 31.2304 || got.Long == nil || *got.Long != 121.4737 {
		t.Fatalf("lat/long = %v/%v", got.Lat, got.Long)
	}
	if !slices.Equal(got.Co, []string{"jt", "hb"}) {
		t.Fatalf("Co = %v", got.Co)
	}
	if got.Pending == nil || jsonOf(t, got.Pending) != jsonOf(t, c.Pending) {
		t.Fatalf("Pending = %+v, want %+v", got.Pending, c.Pending)
	}
	for k, v := range c.Attrs {
		if !bytes.Equal(got.Attrs[k], v) {
			t.Fatalf("Attrs[%s] = %s, want %s", k, got.Attrs[k], v)
		}
	}
	if len(got.Attrs) != len(c.Attrs) {
		t.Fatalf("Attrs = %v", got.Attrs)
	}
	sameTime(t, "ReceivedAt", got.ReceivedAt, c.ReceivedAt)
	if got.ReceivedAt.Nanosecond() != 123456000 {
		t.Fatalf("ReceivedAt lost microseconds: %v", got.ReceivedAt)
	}
	if got.ClosedAt != nil || got.RepliedAt != nil {
		t.Fatalf("nil times came back set: %v %v", got.ClosedAt, got.RepliedAt)
	}
	if len(got.Attachments) != 2 {
		t.Fatalf("Attachments = %d, want 2", len(got.Attachments))
	}
	for i, a := range c.Attachments {
		if got.Attachments[i].Data != nil {
			t.Fatalf("Case loaded attachment data; it should carry metadata only")
		}
		if m := got.Attachments[i]; m.ID != a.ID || m.CaseID != c.ID || m.Name != a.Name || m.ContentType != a.ContentType ||
			m.Size != a.Size || m.SHA256 != a.SHA256 || !m.CreatedAt.Equal(a.CreatedAt) {
			t.Fatalf("Case's attachment %d = %+v, want %+v", i, m, a)
		}
		full, err := st.Attachment(ctx, a.ID)
		must(t, err)
		if !bytes.Equal(full.Data, a.Data) || full.Name != a.Name || full.ContentType != a.ContentType ||
			full.Size != a.Size || full.SHA256 != a.SHA256 || full.CaseID != c.ID || !full.CreatedAt.Equal(a.CreatedAt) {
			t.Fatalf("Attachment(%d) = %+v, want %+v", a.ID, full, a)
		}
	}
	byCode, err := st.CaseByCode(ctx, c.TrackingCode)
	must(t, err)
	if g, w := caseJSON(t, byCode), caseJSON(t, got); g != w {
		t.Fatalf("CaseByCode\n got %s\nwant %s", g, w)
	}

	// A minimal case: nil pointers, no co-departments, attrs or attachments.
	m := &tongban.Case{Kind: tongban.KindTask, Workflow: "task", TrackingCode: tongban.NewTrackingCode(), Channel: tongban.ChannelAPI,
		Title: "t", Body: "b", Step: "draft", Status: tongban.StatusOpen, ParentID: c.ID,
		ReceivedAt: at(1, 0, 0), UpdatedAt: at(1, 0, 0), StepStarted: at(1, 0, 0), Deadline: at(2, 0, 0)}
	create(t, st, m)
	gm := checkCase(t, st, m)
	if gm.Lat != nil || gm.Long != nil || gm.Pending != nil || gm.StepDeadline != nil || len(gm.Co) != 0 || len(gm.Attrs) != 0 || len(gm.Attachments) != 0 {
		t.Fatalf("minimal case came back with values: %s", jsonOf(t, gm))
	}
	// Zero coordinates are values, not absence.
	z := newCase()
	z.Lat, z.Long = ptr(0.0), ptr(-0.5)
	create(t, st, z)
	gz := checkCase(t, st, z)
	if gz.Lat == nil || *gz.Lat != 0 || gz.Long == nil || *gz.Long != -0.5 {
		t.Fatalf("zero lat/long = %v/%v", gz.Lat, gz.Long)
	}
}

func (s *suite) caseNotFound(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	_, err := st.Case(ctx, 12345)
	wantCode(t, err, tongban.ENotFound)
	_, err = st.CaseByCode(ctx, "0000000000000")
	wantCode(t, err, tongban.ENotFound)
	_, err = st.Attachment(ctx, 12345)
	wantCode(t, err, tongban.ENotFound)
	evs, err := st.Events(ctx, 12345)
	must(t, err)
	if len(evs) != 0 {
		t.Fatalf("Events of unknown case = %d", len(evs))
	}
}

func (s *suite) duplicateTrackingCode(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	c := newCase()
	create(t, st, c)
	d := newCase()
	d.TrackingCode = c.TrackingCode
	d.Title = "重复"
	wantCode(t, st.CreateCase(ctx, d, firstEvent(d)), tongban.EConflict)
	n, err := st.CountCases(ctx, tongban.CaseFilter{})
	must(t, err)
	if n != 1 {
		t.Fatalf("after a failed create CountCases = %d, want 1", n)
	}
	got, err := st.CaseByCode(ctx, c.TrackingCode)
	must(t, err)
	if got.ID != c.ID || got.Title != c.Title || len(got.Attachments) != 2 {
		t.Fatalf("duplicate create changed the case: %s", jsonOf(t, got))
	}
}

func (s *suite) updateCase(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	orig := newCase()
	first := create(t, st, orig)
	c, err := st.Case(ctx, orig.ID)
	must(t, err)

	c.Assignee, c.Lead, c.Co, c.First = "li", "hb", []string{"cg"}, "hb"
	c.Lat, c.Long = nil, nil
	c.Pending = nil
	c.Attrs = map[string]json.RawMessage{"progress": json.RawMessage(`{"pct":80,"b":[true]}`)}
	c.Reply, c.RepliedAt, c.Rating, c.RatingComment = "已修复", ptr(at(6, 11, 12)), 5, "满意"
	c.Status, c.ClosedAt, c.StepDeadline = tongban.StatusClosed, ptr(at(6, 11, 13)), nil
	c.Returns, c.Transfers, c.ExtensionDays = 2, 4, 6
	c.Attachments = append(c.Attachments, tongban.Attachment{Name: "after.png", ContentType: "image/png", Size: 3, SHA256: "cc", Data: []byte{1, 2, 3}, CreatedAt: at(6, 11, 0)})
	ev, version := act(c, "close", "closed", json.RawMessage(`{"reply":"已修复","z":1,"a":2}`))
	if version != 1 {
		t.Fatalf("stored version = %d", version)
	}
	must(t, st.UpdateCase(ctx, c, version, ev))
	if ev.ID == 0 {
		t.Fatal("UpdateCase did not set the event ID")
	}
	added := c.Attachments[2]
	if added.ID == 0 || added.CaseID != c.ID {
		t.Fatalf("new attachment ID/CaseID = %d/%d", added.ID, added.CaseID)
	}
	got := checkCase(t, st, c)
	if got.Version != 2 || got.LastHash != ev.Hash || got.Lat != nil || got.Pending != nil {
		t.Fatalf("after UpdateCase: %s", caseJSON(t, got))
	}
	a, err := st.Attachment(ctx, added.ID)
	must(t, err)
	if !bytes.Equal(a.Data, []byte{1, 2, 3}) {
		t.Fatalf("added attachment data = %v", a.Data)
	}

	evs, err := st.Events(ctx, c.ID)
	must(t, err)
	if len(evs) != 2 {
		t.Fatalf("Events = %d, want 2", len(evs))
	}
	if evs[0].Hash != first.Hash {
		t.Fatal("first event changed")
	}
	if g, w := jsonOf(t, evs[1]), jsonOf(t, ev); g != w {
		t.Fatalf("stored event\n got %s\nwant %s", g, w)
	}
	if !bytes.Equal(evs[1].Payload, ev.Payload) {
		t.Fatalf("payload bytes = %s, want %s", evs[1].Payload, ev.Payload)
	}
	if bad := tongban.VerifyChain(evs); bad != 0 {
		t.Fatalf("VerifyChain = %d, want 0", bad)
	}

	// Setting lat/long and pending again, and an event without payload.
	c.Lat, c.Long, c.Pending = ptr(1.5), ptr(2.5), &tongban.Pending{Kind: "reply", By: "li", At: at(7, 0, 0)}
	c.Co = nil
	ev3, v := act(c, "note", "closed", nil)
	must(t, st.UpdateCase(ctx, c, v, ev3))
	checkCase(t, st, c)
	evs, err = st.Events(ctx, c.ID)
	must(t, err)
	if len(evs) != 3 || evs[2].Payload != nil || evs[2].Public || tongban.VerifyChain(evs) != 0 {
		t.Fatalf("events after payload-less update: %s", jsonOf(t, evs))
	}
}

func (s *suite) updateCaseStale(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	c := newCase()
	create(t, st, c)
	stale, err := st.Case(ctx, c.ID)
	must(t, err)

	cur, err := st.Case(ctx, c.ID)
	must(t, err)
	cur.Assignee = "winner"
	ev, v := act(cur, "assign", "handle", nil)
	must(t, st.UpdateCase(ctx, cur, v, ev))
	before := checkCase(t, st, cur)

	stale.Assignee, stale.Title = "loser", "被改的标题"
	stale.Attachments = append(stale.Attachments, tongban.Attachment{Name: "x.png", ContentType: "image/png", Size: 1, SHA256: "dd", Data: []byte{9}, CreatedAt: at(8, 0, 0)})
	sev, sv := act(stale, "assign", "handle", nil)
	wantCode(t, st.UpdateCase(ctx, stale, sv, sev), tongban.EConflict)

	after, err := st.Case(ctx, c.ID)
	must(t, err)
	if g, w := caseJSON(t, after), caseJSON(t, before); g != w {
		t.Fatalf("stale update changed the case\n got %s\nwant %s", g, w)
	}
	evs, err := st.Events(ctx, c.ID)
	must(t, err)
	if len(evs) != 2 || evs[1].Hash != ev.Hash || tongban.VerifyChain(evs) != 0 {
		t.Fatalf("stale update changed the events: %s", jsonOf(t, evs))
	}

	// A version from the future conflicts too.
	cur2 := *after
	fev, fv := act(&cur2, "assign", "handle", nil)
	wantCode(t, st.UpdateCase(ctx, &cur2, fv+5, fev), tongban.EConflict)
	// And so does a case that does not exist.
	ghost := *after
	ghost.ID = 99999
	gev, gv := act(&ghost, "assign", "handle", nil)
	wantCode(t, st.UpdateCase(ctx, &ghost, gv, gev), tongban.EConflict)
	evs, err = st.Events(ctx, c.ID)
	must(t, err)
	if len(evs) != 2 {
		t.Fatalf("events = %d after rejected updates, want 2", len(evs))
	}
}

func (s *suite) updateCaseRace(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	c := newCase()
	create(t, st, c)
	base, err := st.Case(ctx, c.ID)
	must(t, err)
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		mine := *base
		mine.Assignee = fmt.Sprintf("handler%02d", i)
		mine.Attachments = slices.Clone(base.Attachments)
		ev, v := act(&mine, "assign", "handle", json.RawMessage(fmt.Sprintf(`{"to":%d}`, i)))
		wg.Go(func() {
			<-start
			errs[i] = st.UpdateCase(ctx, &mine, v, ev)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("both %d and %d won", winner, i)
		case err == nil:
			winner = i
		default:
			wantCode(t, err, tongban.EConflict)
		}
	}
	if winner < 0 {
		t.Fatal("no update won")
	}
	got, err := st.Case(ctx, c.ID)
	must(t, err)
	if got.Version != 2 || got.Assignee != fmt.Sprintf("handler%02d", winner) {
		t.Fatalf("stored version/assignee = %d/%s, winner %d", got.Version, got.Assignee, winner)
	}
	evs, err := st.Events(ctx, c.ID)
	must(t, err)
	if len(evs) != 2 || string(evs[1].Payload) != fmt.Sprintf(`{"to":%d}`, winner) || evs[1].Hash != got.LastHash {
		t.Fatalf("events after race: %s", jsonOf(t, evs))
	}
	if bad := tongban.VerifyChain(evs); bad != 0 {
		t.Fatalf("VerifyChain = %d", bad)
	}
}

func (s *suite) eventsChain(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	c := newCase()
	create(t, st, c)
	other := newCase()
	create(t, st, other)
	steps := []string{"dispatch", "accept", "handle", "review", "closed", "reopened", "handle", "closed"}
	var hashes []string
	for i, to := range steps {
		var p json.RawMessage
		if i%2 == 0 {
			p = json.RawMessage(fmt.Sprintf(`{"i":%d,"说明":"第%d步"}`, i, i))
		}
		ev, v := act(c, "step", to, p)
		must(t, st.UpdateCase(ctx, c, v, ev))
		hashes = append(hashes, ev.Hash)
		if i == 3 { // interleave another case's events
			oev, ov := act(other, "note", other.Step, nil)
			must(t, st.UpdateCase(ctx, other, ov, oev))
		}
	}
	evs, err := st.Events(ctx, c.ID)
	must(t, err)
	if len(evs) != len(steps)+1 {
		t.Fatalf("Events = %d, want %d", len(evs), len(steps)+1)
	}
	for i, e := range evs {
		if e.Seq != int64(i+1) || e.CaseID != c.ID {
			t.Fatalf("event %d has seq %d case %d", i, e.Seq, e.CaseID)
		}
		if i > 0 && (e.Hash != hashes[i-1] || e.ToStep != steps[i-1]) {
			t.Fatalf("event %d = %s", i, jsonOf(t, e))
		}
	}
	if bad := tongban.VerifyChain(evs); bad != 0 {
		t.Fatalf("VerifyChain = %d, want 0", bad)
	}
	oevs, err := st.Events(ctx, other.ID)
	must(t, err)
	if len(oevs) != 2 || tongban.VerifyChain(oevs) != 0 {
		t.Fatalf("other case's events: %s", jsonOf(t, oevs))
	}
	got, err := st.Case(ctx, c.ID)
	must(t, err)
	if got.Version != int64(len(steps)+1) || got.LastHash != hashes[len(hashes)-1] {
		t.Fatalf("version/last hash = %d/%s", got.Version, got.LastHash)
	}
}

// listFixture stores five cases that differ in every filtered field.
func listFixture(t *testing.T, st tongban.Store) []*tongban.Case {
	t0 := time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC)
	h := time.Hour
	d := 24 * h
	mk := func(f func(c *tongban.Case)) *tongban.Case {
		c := &tongban.Case{Kind: tongban.KindRequest, Workflow: "request", TrackingCode: tongban.NewTrackingCode(), Channel: tongban.ChannelWeb,
			Status: tongban.StatusOpen}
		f(c)
		if c.UpdatedAt.IsZero() {
			c.UpdatedAt = c.ReceivedAt
		}
		c.StepStarted = c.ReceivedAt
		create(t, st, c)
		return c
	}
	c1 := mk(func(c *tongban.Case) {
		c.Title, c.Body, c.Address = "路灯不亮", "小区门口路灯坏了 roadXhole", "建设路12号"
		c.Step, c.Type, c.Category, c.Lead = "dispatch", tongban.TypeComplaint, "lights", "cg"
		c.ReceivedAt, c.Deadline, c.UpdatedAt = t0, t0.Add(5*d), t0.Add(9*h)
	})
	c2 := mk(func(c *tongban.Case) {
		c.Title, c.Body, c.Address = "噪音扰民", "夜间施工 noise", "和平街"
		c.Step, c.Type, c.Category, c.Lead, c.First, c.Co, c.Assignee = "handle", tongban.TypeComplaint, "noise", "hb", "cg", []string{"jt"}, "zhang"
		c.ReceivedAt, c.Deadline = t0.Add(h), t0.Add(2*d)
	})
	c3 := mk(func(c *tongban.Case) {
		c.Title, c.Body = "咨询社保", "如何办理"
		c.Step, c.Type, c.Category, c.Lead, c.First, c.Co, c.Assignee = "handle", tongban.TypeConsultation, "social", "rs", "rs", []string{"hb", "cg"}, "li"
		c.Channel = tongban.ChannelPhone
		c.ReceivedAt, c.Deadline = t0.Add(2*h), t0.Add(1*d)
	})
	c4 := mk(func(c *tongban.Case) {
		c.Title, c.Body, c.Reply = "垃圾清运", "垃圾桶 100% 满了", "已处理完毕"
		c.Step, c.Status, c.Type, c.Category, c.Lead, c.First, c.Assignee = "closed", tongban.StatusClosed, tongban.TypeHelp, "waste", "cg", "cg", "zhang"
		c.ReceivedAt, c.Deadline, c.ClosedAt = t0.Add(3*h), t0.Add(3*d), ptr(t0.Add(4*d))
	})
	c5 := mk(func(c *tongban.Case) {
		c.Kind, c.Workflow = tongban.KindEvent, "event"
		c.Title, c.Body, c.Address = "Road_hole", "pothole on road", "人民路 5号"
		c.Step, c.Type, c.Category, c.Lead, c.Co = "review", tongban.TypeReport, "noise", "jt", []string{"cgx", "c_g"}
		c.Pending = &tongban.Pending{Kind: "extension", Days: 3, By: "x", At: t0}
		c.ReceivedAt, c.Deadline = t0.Add(4*h), t0.Add(10*d)
	})
	return []*tongban.Case{c1, c2, c3, c4, c5}
}

func (s *suite) listCases(t *testing.T) {
	st := s.open(t)
	cs := listFixture(t, st)
	c1, c2, c3, c4, c5 := cs[0], cs[1], cs[2], cs[3], cs[4]
	t0 := cs[0].ReceivedAt
	h, d := time.Hour, 24*time.Hour

	ids := func(cases ...*tongban.Case) []int64 {
		out := []int64{}
		for _, c := range cases {
			out = append(out, c.ID)
		}
		return out
	}
	name := func(id int64) string {
		for i, c := range cs {
			if c.ID == id {
				return fmt.Sprintf("c%d", i+1)
			}
		}
		return fmt.Sprint(id)
	}
	names := func(ids []int64) []string {
		out := []string{}
		for _, id := range ids {
			out = append(out, name(id))
		}
		return out
	}
	// check lists with f and compares the IDs in order when ordered, or
	// as a set otherwise; Total and CountCases must agree.
	check := func(t *testing.T, f tongban.CaseFilter, ordered bool, want ...*tongban.Case) *tongban.CasePage {
		t.Helper()
		page, err := st.ListCases(t.Context(), f)
		must(t, err)
		if page.Cases == nil {
			t.Fatal("ListCases returned nil Cases; want an empty slice")
		}
		got := []int64{}
		for _, c := range page.Cases {
			got = append(got, c.ID)
		}
		w := ids(want...)
		if !ordered {
			slices.Sort(got)
			slices.Sort(w)
		}
		if !slices.Equal(got, w) {
			t.Fatalf("ListCases(%+v) = %v, want %v", f, names(got), names(w))
		}
		if f.Limit == 0 && f.Offset == 0 && page.Total != len(want) {
			t.Fatalf("ListCases(%+v).Total = %d, want %d", f, page.Total, len(want))
		}
		n, err := st.CountCases(t.Context(), f)
		must(t, err)
		if n != page.Total {
			t.Fatalf("CountCases(%+v) = %d, ListCases Total = %d", f, n, page.Total)
		}
		return page
	}
	run := func(name string, f func(t *testing.T)) {
		t.Run(name, func(t *testing.T) {
			s.skip(t)
			f(t)
		})
	}

	run("All", func(t *testing.T) {
		page := check(t, tongban.CaseFilter{}, false, c1, c2, c3, c4, c5)
		for _, got := range page.Cases {
			for _, c := range cs {
				if c.ID == got.ID {
					if g, w := caseJSON(t, withoutAttachments(got)), caseJSON(t, withoutAttachments(c)); g != w {
						t.Fatalf("listed case differs\n got %s\nwant %s", g, w)
					}
				}
			}
		}
	})
	run("Kind", func(t *testing.T) {
		check(t, tongban.CaseFilter{Kind: tongban.KindRequest}, false, c1, c2, c3, c4)
		check(t, tongban.CaseFilter{Kind: tongban.KindEvent}, false, c5)
	})
	run("Status", func(t *testing.T) {
		check(t, tongban.CaseFilter{Status: tongban.StatusOpen}, false, c1, c2, c3, c5)
		check(t, tongban.CaseFilter{Status: tongban.StatusClosed}, false, c4)
	})
	run("Steps", func(t *testing.T) {
		check(t, tongban.CaseFilter{Steps: []string{"handle"}}, false, c2, c3)
		check(t, tongban.CaseFilter{Steps: []string{"dispatch", "review"}}, false, c1, c5)
		check(t, tongban.CaseFilter{Steps: []string{"nowhere"}}, false)
	})
	run("Type", func(t *testing.T) {
		check(t, tongban.CaseFilter{Type: tongban.TypeComplaint}, false, c1, c2)
	})
	run("Category", func(t *testing.T) {
		check(t, tongban.CaseFilter{Category: "noise"}, false, c2, c5)
	})
	run("Channel", func(t *testing.T) {
		check(t, tongban.CaseFilter{Channel: tongban.ChannelPhone}, false, c3)
	})
	run("Dept", func(t *testing.T) {
		// lead (c1, c4), first (c2), co (c3); c5's co "cgx" is another department.
		check(t, tongban.CaseFilter{Dept: "cg"}, false, c1, c2, c3, c4)
		check(t, tongban.CaseFilter{Dept: "hb"}, false, c2, c3)
		check(t, tongban.CaseFilter{Dept: "jt"}, false, c2, c5)
		check(t, tongban.CaseFilter{Dept: "c"}, false)
	})
	run("DeptUnderscore", func(t *testing.T) {
		// "_" is a valid code character and must not act as a wildcard:
		// "c_g" is c5's co-department only, not "cg" nor "cgx".
		check(t, tongban.CaseFilter{Dept: "c_g"}, false, c5)
		check(t, tongban.CaseFilter{Dept: "c_x"}, false)
		check(t, tongban.CaseFilter{Dept: "h_"}, false)
	})
	run("LeadDept", func(t *testing.T) {
		check(t, tongban.CaseFilter{LeadDept: "cg"}, false, c1, c4)
		check(t, tongban.CaseFilter{LeadDept: "jt"}, false, c5)
	})
	run("Assignee", func(t *testing.T) {
		check(t, tongban.CaseFilter{Assignee: "zhang"}, false, c2, c4)
	})
	run("Pending", func(t *testing.T) {
		check(t, tongban.CaseFilter{Pending: "extension"}, false, c5)
		check(t, tongban.CaseFilter{Pending: "reply"}, false)
	})
	run("FromTo", func(t *testing.T) {
		check(t, tongban.CaseFilter{From: t0.Add(h), To: t0.Add(3 * h)}, false, c2, c3)
		check(t, tongban.CaseFilter{From: t0.Add(3 * h)}, false, c4, c5)
		check(t, tongban.CaseFilter{To: t0.Add(h)}, false, c1)
	})
	run("DueBefore", func(t *testing.T) {
		// c4's deadline is exactly t0+3d: not before.
		check(t, tongban.CaseFilter{DueBefore: t0.Add(3 * d)}, false, c2, c3)
		check(t, tongban.CaseFilter{DueBefore: t0.Add(3*d + time.Microsecond)}, false, c2, c3, c4)
	})
	run("Query", func(t *testing.T) {
		check(t, tongban.CaseFilter{Query: "路灯"}, false, c1)   // title
		check(t, tongban.CaseFilter{Query: "施工"}, false, c2)   // body
		check(t, tongban.CaseFilter{Query: "和平"}, false, c2)   // address
		check(t, tongban.CaseFilter{Query: "处理完毕"}, false, c4) // reply
		check(t, tongban.CaseFilter{Query: "  噪音   施工 "}, false, c2)
		check(t, tongban.CaseFilter{Query: "噪音 路灯"}, false)
		check(t, tongban.CaseFilter{Query: "POTHOLE"}, false, c5) // ASCII case-insensitive
		// Full-text search: ASCII terms are whole words; punctuation
		// separates terms and is never a wildcard; a query without any
		// term finds nothing.
		check(t, tongban.CaseFilter{Query: "road"}, false, c5)
		check(t, tongban.CaseFilter{Query: "roadxhole"}, false, c1)
		check(t, tongban.CaseFilter{Query: "100%"}, false, c4)
		check(t, tongban.CaseFilter{Query: "road_hole"}, false, c5)
		check(t, tongban.CaseFilter{Query: "d_h"}, false)
		check(t, tongban.CaseFilter{Query: "%"}, false)
		check(t, tongban.CaseFilter{Query: `\`}, false)
		check(t, tongban.CaseFilter{Query: c3.TrackingCode}, false, c3)
	})
	run("Combined", func(t *testing.T) {
		check(t, tongban.CaseFilter{Status: tongban.StatusOpen, Dept: "cg", Steps: []string{"handle"}}, false, c2, c3)
		check(t, tongban.CaseFilter{Status: tongban.StatusOpen, Assignee: "zhang", Type: tongban.TypeComplaint}, false, c2)
	})
	run("Sort", func(t *testing.T) {
		// Default: open before closed, least time left first.
		check(t, tongban.CaseFilter{}, true, c3, c2, c1, c5, c4)
		check(t, tongban.CaseFilter{Sort: "deadline"}, true, c3, c2, c1, c5, c4)
		check(t, tongban.CaseFilter{Sort: "received"}, true, c1, c2, c3, c4, c5)
		check(t, tongban.CaseFilter{Sort: "-received"}, true, c5, c4, c3, c2, c1)
		check(t, tongban.CaseFilter{Sort: "-updated"}, true, c1, c5, c4, c3, c2)
	})
	run("Paging", func(t *testing.T) {
		f := tongban.CaseFilter{Sort: "received", Limit: 2}
		for _, p := range []struct {
			offset int
			want   []*tongban.Case
		}{{0, []*tongban.Case{c1, c2}}, {2, []*tongban.Case{c3, c4}}, {4, []*tongban.Case{c5}}, {5, nil}, {50, nil}} {
			f.Offset = p.offset
			page := check(t, f, true, p.want...)
			if page.Total != 5 {
				t.Fatalf("Total at offset %d = %d, want 5", p.offset, page.Total)
			}
		}
		page := check(t, tongban.CaseFilter{Sort: "received", Status: tongban.StatusOpen, Limit: 1, Offset: 1}, true, c2)
		if page.Total != 4 {
			t.Fatalf("Total with filter = %d, want 4", page.Total)
		}
	})
	run("Count", func(t *testing.T) {
		for _, f := range []tongban.CaseFilter{
			{Status: tongban.StatusOpen, Steps: []string{"handle"}},
			{Status: tongban.StatusOpen, Dept: "cg"},
			{Status: tongban.StatusOpen, Pending: "extension"},
			{DueBefore: t0.Add(2*d + time.Microsecond), Status: tongban.StatusOpen},
		} {
			n, err := st.CountCases(t.Context(), f)
			must(t, err)
			page, err := st.ListCases(t.Context(), f)
			must(t, err)
			if n != page.Total || n != len(page.Cases) || n == 0 {
				t.Fatalf("CountCases(%+v) = %d, ListCases = %d/%d", f, n, page.Total, len(page.Cases))
			}
		}
	})
}

func (s *suite) backup(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	c := newCase()
	create(t, st, c)
	ev, v := act(c, "assign", "handle", json.RawMessage(`{"x":1}`))
	must(t, st.UpdateCase(ctx, c, v, ev))
	path := filepath.Join(t.TempDir(), "backup.db")
	err := st.Backup(ctx, path)
	if err != nil {
		if s.opts.BackupUnsupported && tongban.ErrorCode(err) == tongban.EInvalid {
			t.Logf("Backup not supported by this store: %v", err)
			return
		}
		t.Fatalf("Backup: %v", err)
	}
	fi, err := os.Stat(path)
	must(t, err)
	if fi.Size() == 0 {
		t.Fatal("Backup wrote an empty file")
	}
	// The live store goes on working after a backup.
	c2 := newCase()
	create(t, st, c2)
	if s.opts.OpenBackup == nil {
		return
	}
	b := s.opts.OpenBackup(t, path)
	got, err := b.CaseByCode(ctx, c.TrackingCode)
	must(t, err)
	if g, w := caseJSON(t, got), caseJSON(t, expectStored(c)); g != w {
		t.Fatalf("case in backup\n got %s\nwant %s", g, w)
	}
	evs, err := b.Events(ctx, c.ID)
	must(t, err)
	if len(evs) != 2 || tongban.VerifyChain(evs) != 0 {
		t.Fatalf("events in backup: %s", jsonOf(t, evs))
	}
	a, err := b.Attachment(ctx, c.Attachments[0].ID)
	must(t, err)
	if !bytes.Equal(a.Data, c.Attachments[0].Data) {
		t.Fatal("attachment data differs in backup")
	}
	_, err = b.CaseByCode(ctx, c2.TrackingCode)
	wantCode(t, err, tongban.ENotFound)
}

func (s *suite) concurrentCreate(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	const n = 200
	cases := make([]*tongban.Case, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		c := newCase()
		c.Title = fmt.Sprintf("并发 %d", i)
		c.Attachments = c.Attachments[:1]
		cases[i] = c
		wg.Go(func() { errs[i] = st.CreateCase(ctx, c, firstEvent(c)) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent CreateCase: %v", err)
	}
	ids, codes := map[int64]bool{}, map[string]bool{}
	for _, c := range cases {
		if ids[c.ID] || codes[c.TrackingCode] {
			t.Fatalf("duplicate ID %d or tracking code %s", c.ID, c.TrackingCode)
		}
		ids[c.ID], codes[c.TrackingCode] = true, true
	}
	var rwg sync.WaitGroup
	rerrs := make(chan error, n)
	for _, c := range cases {
		rwg.Go(func() {
			got, err := st.CaseByCode(ctx, c.TrackingCode)
			if err != nil {
				rerrs <- fmt.Errorf("CaseByCode(%s): %w", c.TrackingCode, err)
				return
			}
			if got.ID != c.ID || got.Title != c.Title || got.Version != 1 || len(got.Attachments) != 1 {
				rerrs <- fmt.Errorf("case %d read back as %d %q v%d", c.ID, got.ID, got.Title, got.Version)
				return
			}
			evs, err := st.Events(ctx, c.ID)
			if err != nil {
				rerrs <- err
				return
			}
			if len(evs) != 1 || tongban.VerifyChain(evs) != 0 || evs[0].Hash != got.LastHash {
				rerrs <- fmt.Errorf("case %d events broken", c.ID)
			}
		})
	}
	rwg.Wait()
	close(rerrs)
	for err := range rerrs {
		t.Error(err)
	}
	total, err := st.CountCases(ctx, tongban.CaseFilter{})
	must(t, err)
	if total != n {
		t.Fatalf("CountCases = %d, want %d", total, n)
	}
}

func (s *suite) ping(t *testing.T) {
	st := s.open(t)
	must(t, st.Ping(t.Context()))
}

// concurrentCreateSomeBad files creations concurrently of which some
// reuse a tracking code: those fail with a conflict, every other one is
// stored once (a store that commits creations together must not let one
// bad creation sink or duplicate the others).
func (s *suite) concurrentCreateSomeBad(t *testing.T) {
	st, ctx := s.open(t), t.Context()
	taken := newCase()
	must(t, st.CreateCase(ctx, taken, firstEvent(taken)))
	const n = 120
	cases := make([]*tongban.Case, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		c := newCase()
		c.Title = fmt.Sprintf("并发混入 %d", i)
		c.Attachments = nil
		if i%10 == 3 {
			c.TrackingCode = taken.TrackingCode
		}
		cases[i] = c
		wg.Go(func() { errs[i] = st.CreateCase(ctx, c, firstEvent(c)) })
	}
	wg.Wait()
	for i, c := range cases {
		if i%10 == 3 {
			if tongban.ErrorCode(errs[i]) != tongban.EConflict {
				t.Fatalf("creation %d reusing a tracking code: err %v, want a conflict", i, errs[i])
			}
			continue
		}
		if errs[i] != nil {
			t.Fatalf("creation %d: %v", i, errs[i])
		}
		got, err := st.CaseByCode(ctx, c.TrackingCode)
		if err != nil || got.ID != c.ID || got.Title != c.Title {
			t.Fatalf("creation %d read back as %+v, %v", i, got, err)
		}
		if evs, err := st.Events(ctx, c.ID); err != nil || len(evs) != 1 || tongban.VerifyChain(evs) != 0 {
			t.Fatalf("creation %d: events %v, %v", i, evs, err)
		}
	}
	got, err := st.CaseByCode(ctx, taken.TrackingCode)
	if err != nil || got.ID != taken.ID {
		t.Fatalf("the first holder of the code reads back as %+v, %v", got, err)
	}
}
