package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tongban/tongban/engine"
)

const (
	clients  = 16
	loadTime = 4 * time.Second
)

// TestPostgresRestart restarts the PostgreSQL server under load against two
// instances: clients see 503 with Retry-After (or, at worst, a failed
// connection), never a 500 or a wrong answer; within 10 s both instances
// serve again without being restarted; every acknowledged case is stored
// once with an intact chain.
//
// It restarts the machine's server, disturbing every other test using it,
// so it runs only with TONGBAN_TEST_PG_RESTART=1 and never in parallel
// (the parallel tests of this package wait until it is done). The restart
// command is `pg_ctlcluster --skip-systemctl-redirect VERSION NAME restart`
// for the one cluster under /etc/postgresql, or TONGBAN_TEST_PG_RESTART_CMD
// (run with sh -c) for a server elsewhere.
func TestPostgresRestart(t *testing.T) {
	if os.Getenv("TONGBAN_TEST_PG_RESTART") != "1" {
		t.Skip("restarts PostgreSQL: set TONGBAN_TEST_PG_RESTART=1 to run")
	}
	restart := restartCommand(t)
	c := newCluster(t, true)
	insts := c.start(2)
	disp, hand := c.login(insts[0], dispLogin, dispPass), c.login(insts[1], handLogin, handPass)
	l := newLoad(c, "restart", insts, disp, hand)
	began := time.Now()
	stop := l.start(clients)

	time.Sleep(1500 * time.Millisecond)
	t0 := time.Now()
	out, err := exec.Command(restart[0], restart[1:]...).CombinedOutput()
	if err != nil {
		stop()
		t.Fatalf("%s: %v\n%s", strings.Join(restart, " "), err, out)
	}
	restarted := time.Now()
	t.Logf("PostgreSQL restarted in %s", restarted.Sub(t0).Round(time.Millisecond))

	// Both instances must serve again within 10 s, on their own.
	var wg sync.WaitGroup
	recovered := make([]time.Duration, len(insts))
	for i, in := range insts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(restarted) < 10*time.Second {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				r, _ := c.createCase(ctx, in, fmt.Sprintf("recovery probe %d %d", i, time.Now().UnixNano()))
				cancel()
				if r.err == nil && r.status == http.StatusCreated {
					recovered[i] = time.Since(restarted)
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
			recovered[i] = -1
		}()
	}
	wg.Wait()
	time.Sleep(2 * time.Second) // and keep the load on a while longer
	stop()
	l.report(t, time.Since(began))
	for i, d := range recovered {
		if d < 0 {
			t.Errorf("instance %d did not serve a create within 10 s of the restart", i)
		} else {
			t.Logf("instance %d served a create %s after the restart finished", i, d.Round(time.Millisecond))
		}
		if n := l.okSince(insts[i].n, restarted.Add(recovered[i])); n == 0 {
			t.Errorf("instance %d served no client request after it recovered", i)
		}
	}
	failed := 0
	for _, in := range insts {
		failed += l.count(in.n, classUnavail) + l.count(in.n, classConn)
	}
	if failed == 0 {
		t.Log("note: no client request failed during the restart")
	}
	l.allow(t, classUnavail, classConn)
	c.checkLogs()
	c.verify(l.ack)
}

// restartCommand returns the command that restarts the test server.
func restartCommand(t *testing.T) []string {
	t.Helper()
	if s := os.Getenv("TONGBAN_TEST_PG_RESTART_CMD"); s != "" {
		return []string{"sh", "-c", s}
	}
	confs, _ := filepath.Glob("/etc/postgresql/*/*/postgresql.conf")
	if len(confs) != 1 {
		t.Fatalf("found %d clusters under /etc/postgresql (%v): set TONGBAN_TEST_PG_RESTART_CMD to the command restarting the test server", len(confs), confs)
	}
	dir := filepath.Dir(confs[0])
	return []string{"pg_ctlcluster", "--skip-systemctl-redirect", filepath.Base(filepath.Dir(dir)), filepath.Base(dir), "restart"}
}

// TestTwoAndThreeInstances runs the workload against two, then three
// instances on one database, checks that sessions work on every instance
// whichever issued them, that every acknowledged case is stored once with
// an intact chain, and that of two identical actions sent to two instances
// at once exactly one is applied.
func TestTwoAndThreeInstances(t *testing.T) {
	t.Parallel()
	c := newCluster(t, true)
	insts := c.start(2)

	// Sessions live in the database: a token from one instance works on all.
	disp := c.login(insts[0], dispLogin, dispPass)
	hand := c.login(insts[1], handLogin, handPass)
	checkToken := func(token, login string) {
		t.Helper()
		for _, in := range c.insts {
			r := c.do(context.Background(), "GET", in.url+"/api/v1/me", token, nil)
			var me struct {
				Login string `json:"login"`
				User  struct {
					Login string `json:"login"`
				} `json:"user"`
			}
			_ = json.Unmarshal(r.body, &me)
			if r.err != nil || r.status != http.StatusOK || (me.Login != login && me.User.Login != login) {
				t.Fatalf("token of %s on instance %d: %v %d %s", login, in.n, r.err, r.status, r.body)
			}
		}
	}
	checkToken(disp, dispLogin)
	checkToken(hand, handLogin)

	l2 := newLoad(c, "two", insts, disp, hand)
	began := time.Now()
	l2.runFor(clients, loadTime)
	l2.report(t, time.Since(began))
	l2.allow(t)
	c.verify(l2.ack)

	insts = append(insts, c.start(1)...)
	checkToken(disp, dispLogin) // including the new instance
	checkToken(hand, handLogin)
	l3 := newLoad(c, "three", insts, disp, hand)
	began = time.Now()
	l3.runFor(clients, loadTime)
	l3.report(t, time.Since(began))
	l3.allow(t)
	c.verify(l3.ack)

	// The same accept, at the same version, at two instances at once.
	const n = 50
	ctx := context.Background()
	ids := make([]int64, n)
	for i := range ids {
		r, cj := c.createCase(ctx, insts[i%3], fmt.Sprintf("race %d", i))
		if r.err != nil || r.status != http.StatusCreated {
			t.Fatalf("create: %v %d %s", r.err, r.status, r.body)
		}
		r, _ = c.act(ctx, insts[(i+1)%3], disp, cj.ID, "dispatch", 1, map[string]any{"department": handDept})
		if r.err != nil || r.status != http.StatusOK {
			t.Fatalf("dispatch: %v %d %s", r.err, r.status, r.body)
		}
		ids[i] = cj.ID
	}
	statuses := make([][2]int, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i, id := range ids {
		for j := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				r, _ := c.act(ctx, insts[(i+j)%3], hand, id, "accept", 2, nil)
				if r.err != nil {
					t.Errorf("accept of case %d: %v", id, r.err)
				}
				statuses[i][j] = r.status
			}()
		}
	}
	close(gate)
	wg.Wait()
	for i, s := range statuses {
		if !(s == [2]int{200, 409} || s == [2]int{409, 200}) {
			t.Errorf("case %d: the two accepts answered %v, want one 200 and one 409", ids[i], s)
		}
	}
	conn, err := pgx.Connect(ctx, c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT c.id, c.version, (SELECT count(*) FROM events e WHERE e.case_id = c.id AND e.action = 'accept') FROM cases c WHERE c.id = ANY($1)`, ids)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for rows.Next() {
		var id, version, accepts int64
		if err := rows.Scan(&id, &version, &accepts); err != nil {
			t.Fatal(err)
		}
		seen++
		if accepts != 1 || version != 3 {
			t.Errorf("case %d: %d accept events, version %d; want 1 and 3", id, accepts, version)
		}
	}
	if rows.Err() != nil || seen != n {
		t.Fatalf("race cases: saw %d of %d (%v)", seen, n, rows.Err())
	}
	c.verify(nil)
	c.checkLogs()
}

// TestKillOneInstance kills one of three instances with SIGKILL under load:
// clients of the dead one get connection errors, the others nothing but
// success, and every acknowledged case is stored once with an intact chain.
func TestKillOneInstance(t *testing.T) {
	t.Parallel()
	c := newCluster(t, true)
	insts := c.start(3)
	disp, hand := c.login(insts[0], dispLogin, dispPass), c.login(insts[2], handLogin, handPass)
	l := newLoad(c, "kill", insts, disp, hand)
	began := time.Now()
	stop := l.start(clients)
	time.Sleep(loadTime * 3 / 8)
	victim := insts[2]
	c.kill(victim)
	killed := time.Now()
	time.Sleep(loadTime * 5 / 8)
	stop()
	l.report(t, time.Since(began))

	t.Logf("connection errors from the killed instance: %d", l.count(victim.n, classConn))
	if l.count(victim.n, classConn) == 0 {
		t.Error("no client noticed the kill: the workload does not reach every instance")
	}
	for _, in := range insts[:2] {
		if n := l.count(in.n, classConn); n > 0 {
			t.Errorf("instance %d (alive): %d connection errors", in.n, n)
		}
		if l.okSince(in.n, killed) == 0 {
			t.Errorf("instance %d served nothing after the kill", in.n)
		}
	}
	l.allow(t, classConn)
	c.verify(l.ack)

	// The survivors keep serving.
	for _, in := range insts[:2] {
		r, cj := c.createCase(context.Background(), in, "after the kill")
		if r.err != nil || r.status != http.StatusCreated {
			t.Fatalf("instance %d after the kill: create %v %d %s", in.n, r.err, r.status, r.body)
		}
		r = c.do(context.Background(), "GET", fmt.Sprintf("%s/api/v1/cases/%d", in.url, cj.ID), disp, nil)
		if r.err != nil || r.status != http.StatusOK {
			t.Fatalf("instance %d after the kill: read %v %d %s", in.n, r.err, r.status, r.body)
		}
	}
	c.checkLogs()
}

// TestRateLimitShared sends public submissions alternately to two
// instances: the 21st within a minute is refused on either.
func TestRateLimitShared(t *testing.T) {
	t.Parallel()
	c := newCluster(t, false)
	insts := c.start(2)
	// Windows are fixed calendar minutes: start early in one.
	if left := time.Until(time.Now().Truncate(time.Minute).Add(time.Minute)); left < 8*time.Second {
		time.Sleep(left + 50*time.Millisecond)
	}
	window := time.Now().Truncate(time.Minute)
	ctx := context.Background()
	for i := range 20 {
		in := insts[i%2]
		r := c.do(ctx, "POST", in.url+"/api/v1/cases", "", createBody(fmt.Sprintf("public %d", i)))
		if r.err != nil || r.status != http.StatusCreated {
			t.Fatalf("public submission %d on instance %d: %v %d %s", i+1, in.n, r.err, r.status, r.body)
		}
	}
	for i := 20; i < 24; i++ {
		in := insts[i%2]
		r := c.do(ctx, "POST", in.url+"/api/v1/cases", "", createBody(fmt.Sprintf("public %d", i)))
		if r.err != nil || r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Errorf("public submission %d on instance %d: %v %d (Retry-After %q) %s; want 429", i+1, in.n, r.err, r.status, r.header.Get("Retry-After"), r.body)
		}
	}
	if !time.Now().Truncate(time.Minute).Equal(window) {
		t.Fatal("the test crossed a minute boundary; the limit's window restarted")
	}
	c.checkLogs()
}

// TestConcurrentStartMigrates starts three instances at the same moment on
// a brand-new database: all become ready, each migration is applied once,
// and the default categories are there once.
func TestConcurrentStartMigrates(t *testing.T) {
	t.Parallel()
	binary(t)
	migs, err := filepath.Glob(filepath.Join(rootDir, "postgres", "migrations", "*.sql"))
	if err != nil || len(migs) == 0 {
		t.Fatalf("no migrations found under %s: %v", rootDir, err)
	}
	for round := range 2 {
		c := newCluster(t, false)
		c.start(3)
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, c.dsn)
		if err != nil {
			t.Fatal(err)
		}
		var rows, versions, cats int
		err = conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT version), (SELECT count(*) FROM categories) FROM schema_migrations`).Scan(&rows, &versions, &cats)
		conn.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rows != len(migs) || versions != len(migs) {
			t.Errorf("round %d: schema_migrations has %d rows, %d versions; want %d, one per migration", round, rows, versions, len(migs))
		}
		if want := len(engine.DefaultCategories()); cats != want {
			t.Errorf("round %d: %d categories, want %d", round, cats, want)
		}
		for _, in := range c.insts {
			if s := in.stderr.String(); bytes.Contains([]byte(s), []byte(`"level":"ERROR"`)) {
				t.Errorf("round %d: instance %d logged errors:\n%s", round, in.n, s)
			}
		}
	}
}
