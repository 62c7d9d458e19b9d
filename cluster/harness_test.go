package cluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tongban/tongban"
	"github.com/tongban/tongban/internal/pgtest"
	"github.com/tongban/tongban/postgres"
)

// Users and departments every set-up cluster has.
const (
	dispLogin = "disp"
	dispPass  = "dispatcher-password"
	handLogin = "hand"
	handPass  = "handler-password"
	handDept  = "cg"
)

var (
	buildOnce sync.Once
	buildDir  string
	binPath   string
	rootDir   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// moduleRoot is the directory of the module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("go env GOMOD: not in a module")
	}
	return filepath.Dir(gomod), nil
}

// binary builds ./cmd/tongban once per test run and returns its path. It
// skips under -short: these tests start real processes.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the cluster tests build the binary and start several servers")
	}
	buildOnce.Do(func() {
		rootDir, buildErr = moduleRoot()
		if buildErr != nil {
			return
		}
		buildDir, buildErr = os.MkdirTemp("", "tongban-cluster-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "tongban")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/tongban")
		cmd.Dir = rootDir
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// syncBuffer is a bytes.Buffer safe for a process to write while a test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// instance is one running `tongban serve`.
type instance struct {
	n      int
	url    string
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan struct{} // closed when the process has exited
	killed bool
}

// cluster is a database and the instances serving it.
type cluster struct {
	t     *testing.T
	bin   string
	dsn   string
	key   string // API key, when set up
	insts []*instance
	http  *http.Client
}

// newCluster makes a fresh database; with setup it also adds, through the
// CLI, a centre with a dispatcher, a bureau with a handler, and an API key.
func newCluster(t *testing.T, setup bool) *cluster {
	t.Helper()
	bin := binary(t)
	c := &cluster{t: t, bin: bin, dsn: pgtest.FreshDatabase(t), http: newHTTPClient(64)}
	if setup {
		c.cli("", "dept", "add", "zx", "指挥中心", "--kind", "centre")
		c.cli("", "dept", "add", handDept, "城市管理局", "--kind", "bureau")
		c.cli(dispPass+"\n", "user", "add", dispLogin, "--dept", "zx", "--role", "dispatcher", "--password-stdin")
		c.cli(handPass+"\n", "user", "add", handLogin, "--dept", handDept, "--role", "handler", "--password-stdin")
		c.key = strings.TrimSpace(c.cli("", "apikey", "add", "cluster test"))
		if !strings.HasPrefix(c.key, "tbk_") {
			t.Fatalf("apikey add printed %q", c.key)
		}
	}
	return c
}

func newHTTPClient(conns int) *http.Client {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute,
		DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext}
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}

// cli runs the binary against the cluster's database and returns stdout.
func (c *cluster) cli(stdin string, args ...string) string {
	c.t.Helper()
	cmd := exec.Command(c.bin, append(args, "--db", c.dsn)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		c.t.Fatalf("tongban %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// freePort returns a TCP port nobody listens on right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// launch starts one instance without waiting for it. The port is picked
// free just before; the rare process that loses the port to someone else
// exits, and await reports it.
func (c *cluster) launch() (*instance, <-chan string, error) {
	port, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(c.bin, "serve", "--db", c.dsn, "--addr", addr)
	cmd.Env = append(os.Environ(), "TONGBAN_TRUST_PROXY=0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	in := &instance{n: len(c.insts), cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = in.stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	c.insts = append(c.insts, in)
	go func() {
		cmd.Wait()
		close(in.exited)
	}()
	c.t.Cleanup(func() {
		cmd.Process.Kill()
		<-in.exited
		if !in.killed && c.t.Failed() {
			c.t.Logf("instance %d (%s) stderr:\n%s", in.n, in.url, tail(in.stderr.String(), 4000))
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "tongban listening on "); ok {
				lines <- u
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	return in, lines, nil
}

// await waits until the instance has printed its address and answers
// /readyz with 200.
func (c *cluster) await(in *instance, lines <-chan string) {
	c.t.Helper()
	select {
	case in.url = <-lines:
	case <-in.exited:
		c.t.Fatalf("instance %d exited before listening: %s", in.n, in.stderr.String())
	case <-time.After(30 * time.Second):
		c.t.Fatalf("instance %d did not report its address; stderr:\n%s", in.n, in.stderr.String())
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := c.do(context.Background(), "GET", in.url+"/readyz", "", nil)
		if r.status == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("instance %d (%s) not ready after 30s: %v %d %s", in.n, in.url, r.err, r.status, r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// start launches n more instances at once and waits for all to be ready.
func (c *cluster) start(n int) []*instance {
	c.t.Helper()
	type pending struct {
		in    *instance
		lines <-chan string
	}
	var ps []pending
	for range n {
		in, lines, err := c.launch()
		if err != nil {
			c.t.Fatal(err)
		}
		ps = append(ps, pending{in, lines})
	}
	out := make([]*instance, n)
	for i, p := range ps {
		c.await(p.in, p.lines)
		out[i] = p.in
	}
	return out
}

// kill sends SIGKILL to an instance and waits for it to die.
func (c *cluster) kill(in *instance) {
	in.killed = true
	if err := in.cmd.Process.Kill(); err != nil {
		c.t.Fatalf("kill instance %d: %v", in.n, err)
	}
	<-in.exited
}

// checkLogs fails the test if a live instance logged an internal error or
// a panic (each of those was answered with a 500).
func (c *cluster) checkLogs() {
	c.t.Helper()
	for _, in := range c.insts {
		if in.killed {
			continue
		}
		for _, l := range strings.Split(in.stderr.String(), "\n") {
			if strings.Contains(l, `"msg":"internal error"`) || strings.Contains(l, `"msg":"panic"`) {
				c.t.Errorf("instance %d logged: %s", in.n, l)
			}
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// ---- HTTP ----

// result is one HTTP exchange.
type result struct {
	status int
	header http.Header
	body   []byte
	err    error // transport error: no response
}

func (c *cluster) do(ctx context.Context, method, url, auth string, body any) result {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return result{err: err}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return result{err: err}
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

// login opens a session through an instance and returns the token.
func (c *cluster) login(in *instance, login, password string) string {
	c.t.Helper()
	r := c.do(context.Background(), "POST", in.url+"/api/v1/auth/token", "", map[string]string{"login": login, "password": password})
	var out struct {
		Token string `json:"token"`
	}
	if r.err != nil || r.status != http.StatusOK || json.Unmarshal(r.body, &out) != nil || out.Token == "" {
		c.t.Fatalf("login %s on instance %d: %v %d %s", login, in.n, r.err, r.status, r.body)
	}
	return out.Token
}

// caseJSON is the part of a case view the tests check.
type caseJSON struct {
	ID           int64  `json:"id"`
	TrackingCode string `json:"tracking_code"`
	Title        string `json:"title"`
	Step         string `json:"step"`
	Version      int64  `json:"version"`
	Lead         string `json:"department"`
}

func createBody(title string) map[string]any {
	return map[string]any{"type": "complaint", "category": "noise", "title": title, "body": "夜间施工噪音扰民，请尽快处理。",
		"address": "青川区锦绣路88号", "requester": map[string]string{"name": "测试", "phone": "13812345678"}}
}

// createCase files a case with the API key through an instance.
func (c *cluster) createCase(ctx context.Context, in *instance, title string) (result, caseJSON) {
	r := c.do(ctx, "POST", in.url+"/api/v1/cases", c.key, createBody(title))
	var cj caseJSON
	if r.err == nil && r.status == http.StatusCreated {
		if err := json.Unmarshal(r.body, &cj); err != nil {
			r.err = fmt.Errorf("decode created case: %w", err)
		}
	}
	return r, cj
}

// act takes an action at a version through an instance.
func (c *cluster) act(ctx context.Context, in *instance, token string, id int64, action string, version int64, fields map[string]any) (result, caseJSON) {
	body := map[string]any{"action": action, "version": version}
	for k, v := range fields {
		body[k] = v
	}
	r := c.do(ctx, "POST", fmt.Sprintf("%s/api/v1/cases/%d/actions", in.url, id), token, body)
	var cj caseJSON
	if r.err == nil && r.status == http.StatusOK {
		if err := json.Unmarshal(r.body, &cj); err != nil {
			r.err = fmt.Errorf("decode acted case: %w", err)
		}
	}
	return r, cj
}

// ---- checks against the database ----

// acked is what a client was told about a case: the create was answered
// 201, and the last action answered 200 left it at version.
type acked struct {
	id      int64
	title   string
	version int64
	actions []string // actions acknowledged with 200, in order
}

// verify checks the database directly: every acknowledged case exists
// exactly once with the title it was filed with and at least the version
// last acknowledged, every acknowledged action is recorded once, no case
// has any action twice (the workload takes each at most once), and every
// case's event chain is intact and ends at the case's last hash.
func (c *cluster) verify(ack map[string]*acked) {
	t := c.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.dsn)
	if err != nil {
		t.Fatalf("connect for checks: %v", err)
	}
	defer conn.Close(ctx)

	codes := make([]string, 0, len(ack))
	for code := range ack {
		codes = append(codes, code)
	}
	type row struct {
		n       int
		id      int64
		title   string
		version int64
	}
	got := map[string]row{}
	rows, err := conn.Query(ctx, `SELECT tracking_code, count(*), min(id), min(title), max(version) FROM cases WHERE tracking_code = ANY($1) GROUP BY tracking_code`, codes)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var code string
		var r row
		if err := rows.Scan(&code, &r.n, &r.id, &r.title, &r.version); err != nil {
			t.Fatal(err)
		}
		got[code] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	bad := 0
	for code, a := range ack {
		r, ok := got[code]
		switch {
		case !ok:
			t.Errorf("case %s acknowledged with 201 is missing", code)
		case r.n != 1:
			t.Errorf("case %s stored %d times", code, r.n)
		case r.id != a.id || r.title != a.title:
			t.Errorf("case %s is id %d %q, acknowledged as id %d %q", code, r.id, r.title, a.id, a.title)
		case r.version < a.version:
			t.Errorf("case %s at version %d, but version %d was acknowledged", code, r.version, a.version)
		default:
			continue
		}
		if bad++; bad > 20 {
			t.Fatal("too many errors")
		}
	}

	// Every acknowledged action is there once; nothing is there twice.
	counts := map[int64]map[string]int{}
	rows, err = conn.Query(ctx, `SELECT case_id, action, count(*) FROM events GROUP BY case_id, action`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var action string
		var n int
		if err := rows.Scan(&id, &action, &n); err != nil {
			t.Fatal(err)
		}
		if counts[id] == nil {
			counts[id] = map[string]int{}
		}
		counts[id][action] = n
		if n > 1 {
			t.Errorf("case %d has %d %q events: applied more than once", id, n, action)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for code, a := range ack {
		for _, action := range append([]string{"create"}, a.actions...) {
			if counts[a.id][action] != 1 {
				t.Errorf("case %s: acknowledged %q recorded %d times", code, action, counts[a.id][action])
			}
		}
	}

	// Chains, through the store, for every case in the database.
	st, err := postgres.Open(ctx, c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	type caseRow struct {
		id      int64
		version int64
		hash    string
	}
	all, err := pgx.CollectRows(mustQuery(ctx, t, conn, `SELECT id, version, last_hash FROM cases ORDER BY id`), func(r pgx.CollectableRow) (caseRow, error) {
		var cr caseRow
		err := r.Scan(&cr.id, &cr.version, &cr.hash)
		return cr, err
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var chainErrs []string
	work := make(chan caseRow)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for cr := range work {
				evs, err := st.Events(ctx, cr.id)
				var msg string
				switch {
				case err != nil:
					msg = fmt.Sprintf("case %d: events: %v", cr.id, err)
				case tongban.VerifyChain(evs) != 0:
					msg = fmt.Sprintf("case %d: chain broken at seq %d", cr.id, tongban.VerifyChain(evs))
				case int64(len(evs)) != cr.version:
					msg = fmt.Sprintf("case %d: %d events at version %d", cr.id, len(evs), cr.version)
				case evs[len(evs)-1].Hash != cr.hash:
					msg = fmt.Sprintf("case %d: last event hash differs from the case's", cr.id)
				}
				if msg != "" {
					mu.Lock()
					chainErrs = append(chainErrs, msg)
					mu.Unlock()
				}
			}
		}()
	}
	for _, cr := range all {
		work <- cr
	}
	close(work)
	wg.Wait()
	for i, m := range chainErrs {
		if i == 20 {
			t.Fatalf("… %d chain errors in all", len(chainErrs))
		}
		t.Error(m)
	}
	t.Logf("verified %d acknowledged cases (%d in the database), every chain intact", len(ack), len(all))
}

func mustQuery(ctx context.Context, t *testing.T, conn *pgx.Conn, sql string, args ...any) pgx.Rows {
	t.Helper()
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
