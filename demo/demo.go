// Package demo fills an empty store with a realistic district: its
// departments, users for every role, categories with time limits, and a
// year of requests in every state, each taken through the real engine at
// the time it would have happened, so events, deadlines and hash chains
// are exactly what production would have written.
package demo

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/demo/corpus"
	"github.com/tongban/tongban/engine"
)

// Password is every demo user's password; the demo is for trying out.
const Password = "Tongban@2026"

// Login is a demo account to print.
type Login struct {
	Login, Name, Dept, Roles string
}

// Options tune the generated history.
type Options struct {
	Cases   int
	Seed    uint64
	Workers int
	Now     time.Time
}

// HasData reports whether the store already holds cases or users.
func HasData(ctx context.Context, st tongban.Store) (bool, error) {
	us, err := st.ListUsers(ctx)
	if err != nil {
		return false, err
	}
	return len(us) > 0, nil
}

// Populate creates the district and its history. It returns the logins.
func Populate(ctx context.Context, e *engine.Engine, o Options, progress io.Writer) ([]Login, error) {
	if o.Cases == 0 {
		o.Cases = 2000
	}
	if o.Workers == 0 {
		o.Workers = 8
	}
	if o.Now.IsZero() {
		o.Now = tongban.Now()
	}
	if err := e.EnsureDefaults(ctx); err != nil {
		return nil, err
	}
	for _, d := range corpus.Departments() {
		dep := &tongban.Department{Code: d.Code, Name: d.Name, Kind: d.Kind, Parent: d.Parent, Keywords: d.Keywords}
		if err := e.AddDepartment(ctx, dep); err != nil {
			return nil, fmt.Errorf("department %s: %w", d.Code, err)
		}
	}
	for i, c := range corpus.Categories() {
		cat := &tongban.Category{Code: c.Code, Name: c.Name, Description: c.Description, Dept: c.Dept,
			ReplyNeedsApproval: c.ReplyNeedsApproval, Keywords: c.Keywords, Active: true, Order: (i + 1) * 10}
		if c.Urgent {
			cat.LimitHours = 8
		}
		if err := e.PutCategory(ctx, cat); err != nil {
			return nil, fmt.Errorf("category %s: %w", c.Code, err)
		}
	}
	logins, users, err := makeUsers(ctx, e)
	if err != nil {
		return nil, err
	}
	if err := makeHistory(ctx, e, o, users, progress); err != nil {
		return nil, err
	}
	return logins, nil
}

// staff holds the users the history acts as.
type staff struct {
	dispatcher, intake *tongban.User
	handler, head      map[string]*tongban.User // by department
}

// Logins lists the demo accounts without touching a store, to print
// when serving a directory the demo filled earlier.
func Logins() []Login {
	out := []Login{
		{Login: "admin", Dept: "centre", Roles: "admin"},
		{Login: "dispatcher", Dept: "centre", Roles: "dispatcher,intake"},
		{Login: "intake", Dept: "centre", Roles: "intake"},
		{Login: "supervisor", Dept: "supervision", Roles: "supervisor"},
		{Login: "leader", Dept: "centre", Roles: "leader"},
	}
	for _, d := range corpus.Departments() {
		if d.Kind == tongban.DeptBureau || d.Kind == tongban.DeptStreet {
			out = append(out, Login{Login: d.Code + ".handler", Dept: d.Code, Roles: "handler"},
				Login{Login: d.Code + ".head", Dept: d.Code, Roles: "head,handler"})
		}
	}
	return out
}

func makeUsers(ctx context.Context, e *engine.Engine) ([]Login, *staff, error) {
	// One hash for all demo users keeps the demo fast to create; real
	// users each get their own salt through the admin pages and CLI.
	hash, err := engine.HashPassword(Password)
	if err != nil {
		return nil, nil, err
	}
	st := &staff{handler: map[string]*tongban.User{}, head: map[string]*tongban.User{}}
	g := corpus.NewGenerator(7)
	var logins []Login
	add := func(login, dept string, roles ...tongban.Role) (*tongban.User, error) {
		u := &tongban.User{Login: login, Name: g.PersonName(), Dept: dept, Roles: roles, PasswordHash: hash}
		if err := e.Store.CreateUser(ctx, u); err != nil {
			return nil, fmt.Errorf("user %s: %w", login, err)
		}
		rs := ""
		for i, r := range roles {
			if i > 0 {
				rs += ","
			}
			rs += string(r)
		}
		logins = append(logins, Login{Login: login, Name: u.Name, Dept: dept, Roles: rs})
		return u, nil
	}
	var errs error
	must := func(u *tongban.User, err error) *tongban.User {
		if err != nil && errs == nil {
			errs = err
		}
		return u
	}
	must(add("admin", "centre", tongban.RoleAdmin))
	st.dispatcher = must(add("dispatcher", "centre", tongban.RoleDispatcher, tongban.RoleIntake))
	st.intake = must(add("intake", "centre", tongban.RoleIntake))
	must(add("supervisor", "supervision", tongban.RoleSupervisor))
	must(add("leader", "centre", tongban.RoleLeader))
	for _, d := range corpus.Departments() {
		if d.Kind != tongban.DeptBureau && d.Kind != tongban.DeptStreet {
			continue
		}
		st.handler[d.Code] = must(add(d.Code+".handler", d.Code, tongban.RoleHandler))
		st.head[d.Code] = must(add(d.Code+".head", d.Code, tongban.RoleHead, tongban.RoleHandler))
	}
	return logins, st, errs
}

func makeHistory(ctx context.Context, e *engine.Engine, o Options, st *staff, progress io.Writer) error {
	jobs := make(chan int)
	errc := make(chan error, o.Workers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for w := 0; w < o.Workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := range jobs {
				if err := lifeOf(ctx, e, o, st, i); err != nil {
					errc <- fmt.Errorf("case %d: %w", i, err)
					return
				}
				mu.Lock()
				done++
				if progress != nil && done%500 == 0 {
					fmt.Fprintf(progress, "  %d/%d requests\n", done, o.Cases)
				}
				mu.Unlock()
			}
		}(w)
	}
	var err error
feed:
	for i := 0; i < o.Cases; i++ {
		select {
		case jobs <- i:
		case err = <-errc:
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	return err
}

// lifeOf files request i at a time in the past year and takes it as far
// through its life as the time since then allows.
func lifeOf(ctx context.Context, e *engine.Engine, o Options, st *staff, i int) error {
	rng := rand.New(rand.NewPCG(o.Seed, uint64(i)))
	g := corpus.NewGenerator(int64(o.Seed)*100003 + int64(i))
	r := g.Request()
	// More requests recently, as a growing service sees.
	age := time.Duration(rng.Float64()*rng.Float64()*365*24) * time.Hour
	received := o.Now.Add(-age - time.Duration(rng.IntN(3600))*time.Second)
	lat, long := r.Lat, r.Long
	channels := []string{tongban.ChannelWeb, tongban.ChannelWeb, tongban.ChannelPhone, tongban.ChannelPhone, tongban.ChannelWindow, tongban.ChannelStreet, tongban.ChannelAPI}
	c, err := e.Create(engine.WithNow(ctx, received), engine.Actor{User: st.intake}, engine.NewCase{
		Type: r.Type, Category: r.Category, Title: r.Title, Body: r.Body, Address: r.Address, Lat: &lat, Long: &long,
		Requester: tongban.Requester{Name: r.Name, Phone: r.Phone}, Channel: channels[rng.IntN(len(channels))]})
	if err != nil {
		return err
	}
	t := received
	cal := e.Calendar()
	// step advances the clock; it reports false when that moment is still
	// in the future, which leaves the case where it is now.
	step := func(d time.Duration) bool {
		t = t.Add(d)
		return t.Before(o.Now)
	}
	hours := func(lo, hi int) time.Duration {
		return time.Duration(lo*60+rng.IntN((hi-lo)*60+1)) * time.Minute
	}
	act := func(u *tongban.User, action string, fields map[string]any) error {
		raw := map[string][]byte{}
		for k, v := range fields {
			raw[k] = mustJSON(v)
		}
		_, _, err := e.Act(engine.WithNow(ctx, t), engine.Actor{User: u}, c.TrackingCode, action, toRaw(raw))
		return err
	}
	if r.Type == corpus.TypeConsult && rng.IntN(2) == 0 {
		if !step(hours(0, 3)) {
			return nil
		}
		if err := act(st.dispatcher, "reply", map[string]any{"text": g.Reply(r)}); err != nil {
			return err
		}
		return rateOrClose(rng, g, e, ctx, c, st, &t, o.Now, act)
	}
	lead := r.Dept
	if st.handler[lead] == nil {
		lead = "cgj"
	}
	if !step(hours(0, 6)) {
		return nil
	}
	if rng.IntN(10) == 0 { // 退单: first sent to the wrong department
		wrong := pickOther(rng, st, lead)
		if err := act(st.dispatcher, "dispatch", map[string]any{"department": wrong}); err != nil {
			return err
		}
		if !step(hours(1, 20)) {
			return nil
		}
		if err := act(st.handler[wrong], "return", map[string]any{"reason": g.ReturnReason()}); err != nil {
			return err
		}
		if !step(hours(0, 4)) {
			return nil
		}
	}
	fields := map[string]any{"department": lead}
	if rng.IntN(8) == 0 {
		fields["co_departments"] = []string{pickOther(rng, st, lead)}
	}
	if err := act(st.dispatcher, "dispatch", fields); err != nil {
		return err
	}
	if !step(hours(1, 22)) {
		return nil
	}
	if err := act(st.handler[lead], "accept", nil); err != nil {
		return err
	}
	if rng.IntN(30) == 0 { // 转办 through the centre
		if !step(hours(2, 30)) {
			return nil
		}
		if err := act(st.handler[lead], "request_transfer", map[string]any{"reason": g.TransferReason()}); err != nil {
			return err
		}
		if !step(hours(0, 4)) {
			return nil
		}
		lead = pickOther(rng, st, lead)
		if err := act(st.dispatcher, "dispatch", map[string]any{"department": lead}); err != nil {
			return err
		}
		if !step(hours(1, 20)) {
			return nil
		}
		if err := act(st.handler[lead], "accept", nil); err != nil {
			return err
		}
	}
	if rng.IntN(12) == 0 { // 延期
		if !step(hours(24, 120)) {
			return nil
		}
		if err := act(st.handler[lead], "request_extension", map[string]any{"working_days": 3 + rng.IntN(8), "reason": g.ExtensionReason()}); err != nil {
			return err
		}
		if !step(hours(1, 20)) {
			return nil
		}
		if rng.IntN(5) == 0 {
			if err := act(st.head[lead], "reject_extension", map[string]any{"reason": "请加快办理，按原时限答复"}); err != nil {
				return err
			}
		} else if err := act(st.head[lead], "approve_extension", nil); err != nil {
			return err
		}
	}
	// Most replies come well within the limit; some come late. A case
	// reopened after an unhappy rating is answered once more.
	for round := 0; round < 2; round++ {
		cur, err := e.Store.Case(ctx, c.ID)
		if err != nil {
			return err
		}
		if cur.Step != "handle" {
			return nil
		}
		limit := 10
		if left := cal.WorkdaysBetween(t, cur.Deadline); left > 0 {
			limit = left
		}
		days := 1 + rng.IntN(max(limit, 1))
		if rng.IntN(12) == 0 {
			days = limit + 1 + rng.IntN(6)
		}
		next := cal.AddWorkdays(t, days).Add(time.Duration(9*60+rng.IntN(8*60)) * time.Minute)
		if !step(next.Sub(t)) {
			return nil
		}
		if err := act(st.handler[lead], "reply", map[string]any{"text": g.Reply(r)}); err != nil {
			return err
		}
		if cur, err = e.Store.Case(ctx, c.ID); err != nil {
			return err
		}
		if cur.Step == "review" {
			if !step(hours(1, 20)) {
				return nil
			}
			if err := act(st.head[lead], "approve_reply", nil); err != nil {
				return err
			}
		}
		if err := rateOrClose(rng, g, e, ctx, c, st, &t, o.Now, act); err != nil {
			return err
		}
	}
	return nil
}

// rateOrClose has the citizen rate the reply (sometimes unhappily, which
// may reopen the case once) or the centre close it unrated.
func rateOrClose(rng *rand.Rand, g *corpus.Generator, e *engine.Engine, ctx context.Context, c *tongban.Case, st *staff, t *time.Time, now time.Time, act func(*tongban.User, string, map[string]any) error) error {
	*t = t.Add(time.Duration(2+rng.IntN(70)) * time.Hour)
	if !t.Before(now) {
		return nil
	}
	if rng.IntN(5) == 0 {
		return act(st.dispatcher, "close", map[string]any{"reason": "群众未在规定时间内评价，按期办结"})
	}
	level := []int{5, 5, 5, 5, 5, 4, 4, 4, 3, 3, 2, 1}[rng.IntN(12)]
	if _, _, err := e.Act(engine.WithNow(ctx, *t), engine.Actor{}, c.TrackingCode, "rate", toRaw(map[string][]byte{"level": mustJSON(level), "comment": mustJSON(g.Comment(level))})); err != nil {
		return err
	}
	if level > 2 || rng.IntN(2) == 0 {
		return nil
	}
	if cur, err := e.Store.Case(ctx, c.ID); err != nil || cur.Step != "rating" {
		return err // already closed: a case reopens once at most
	}
	*t = t.Add(time.Duration(1+rng.IntN(20)) * time.Hour)
	if !t.Before(now) {
		return nil
	}
	return act(st.dispatcher, "reopen", map[string]any{"reason": "群众对答复不满意，要求重新核查处理"})
}

func pickOther(rng *rand.Rand, st *staff, not string) string {
	codes := make([]string, 0, len(st.handler))
	for code := range st.handler {
		if code != not {
			codes = append(codes, code)
		}
	}
	// Map order is random; sort for determinism under a seed.
	sortStrings(codes)
	return codes[rng.IntN(len(codes))]
}
