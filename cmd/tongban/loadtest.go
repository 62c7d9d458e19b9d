package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/loadtest"
	"github.com/tongban/tongban/postgres"
	"github.com/tongban/tongban/sqlite"
)

func init() {
	register(command{name: "loadtest", usage: "loadtest [--duration 10s] [--concurrency 32] [--target URL --key KEY --login L --password P | --pg DSN [--instances 1,2,3]]", summary: "measure create and read throughput over HTTP (starts its own server unless --target is given)", run: cmdLoadtest})
}

func cmdLoadtest(ctx context.Context, args []string, _ io.Reader, out io.Writer) error {
	const u = "loadtest [--duration 10s] [--concurrency 32] [--cpuprofile FILE] [--target URL[,URL…] --key KEY --login L --password P | --pg DSN [--instances 1,2,3] [--pgbench=false]]"
	fs := newFlags("loadtest", u, "Measure creations and case-page reads per second through the JSON API, with latency percentiles, and the raw SQLite insert rate on the same disk. Without --target it starts `tongban serve` on a fresh SQLite store in a temporary directory as a separate process and also reports its start-up time and resident memory. With --pg it measures instead 1, 2, 3… instances sharing one PostgreSQL database (a fresh scratch database on that server for each count, after a CHECKPOINT, dropped afterwards; each instance with GOMAXPROCS = cores ÷ instances unless GOMAXPROCS is set), then the server's own pgbench simple-update rate in the same run. The clients speak HTTP/1.1 over one keep-alive connection each per instance.", out)
	dur := fs.Duration("duration", 10*time.Second, "length of each phase")
	conc := fs.Int("concurrency", 32, "concurrent clients")
	target := fs.String("target", "", "base URL(s) of running instances, comma-separated (default: start one)")
	key := fs.String("key", "", "API key for creates (with --target)")
	login := fs.String("login", "", "staff login for reads (with --target)")
	password := fs.String("password", "", "staff password (with --target)")
	dir := fs.String("dir", "", "directory for the started server's data and the raw SQLite test (default: a temporary one)")
	pg := fs.String("pg", "", "postgres:// URL of a server to measure several instances on (scratch databases are created and dropped); pool_max_conns=N in it sizes each instance's pool")
	instances := fs.String("instances", "1,2,3", "with --pg: the instance counts to measure, comma-separated")
	bench := fs.Bool("pgbench", true, "with --pg: also measure pgbench -N on a scratch database")
	cpuProfile := fs.String("cpuprofile", "", "write the load generator's own CPU profile to this file (to see what the clients cost)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if err := wantArgs(pos, 0, u); err != nil {
		return err
	}
	if *pg != "" {
		var counts []int
		for _, f := range strings.Split(*instances, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 || n > 16 {
				return fmt.Errorf("--instances: %q is not a count from 1 to 16", f)
			}
			counts = append(counts, n)
		}
		return loadtestPG(ctx, out, *pg, counts, *conc, *dur, *bench)
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "tongban-load-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	var child *exec.Cmd
	if *target == "" {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		*key, *login, *password, err = loadSetup(ctx, filepath.Join(*dir, "data"))
		if err != nil {
			return err
		}
		self, err := os.Executable()
		if err != nil {
			return err
		}
		child = exec.Command(self, "serve", "--data", filepath.Join(*dir, "data"), "--addr", addr)
		child.Stderr = io.Discard
		stdout, _ := child.StdoutPipe()
		start := time.Now()
		if err := child.Start(); err != nil {
			return err
		}
		defer func() { child.Process.Signal(os.Interrupt); child.Wait() }()
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		if !strings.Contains(line, "listening") {
			return fmt.Errorf("server did not start: %q", line)
		}
		*target = "http://" + addr
		if err := waitReady(*target); err != nil {
			return err
		}
		fmt.Fprintf(out, "start-up: %s to ready (process start to /readyz 200)\n", time.Since(start).Round(time.Millisecond))
		go io.Copy(io.Discard, stdout)
	}
	targets := strings.Split(*target, ",")
	token, err := loginToken(targets[0], *login, *password)
	if err != nil {
		return err
	}
	c, err := loadtest.NewClient(targets, *key, token, *conc)
	if err != nil {
		return err
	}
	c.Creates(*conc, time.Second) // warm up connections and caches
	cr := c.Creates(*conc, *dur)
	fmt.Fprintln(out, cr)
	if len(cr.Codes) == 0 {
		return fmt.Errorf("no create succeeded")
	}
	rd := c.Reads(cr.Codes, *conc, *dur)
	fmt.Fprintln(out, rd)
	if child != nil {
		time.Sleep(2 * time.Second)
		fmt.Fprintf(out, "server resident memory after the run, idle: %s\n", rss(child.Process.Pid))
	}
	for _, b := range []int{1, 64} {
		r, err := loadtest.RawSQLite(*dir, 3*time.Second, b)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, r)
	}
	return nil
}

// loadSetup makes a department, a dispatcher and an API key in a fresh store.
func loadSetup(ctx context.Context, data string) (key, login, password string, err error) {
	if err = os.MkdirAll(data, 0o750); err != nil {
		return
	}
	st, err := sqlite.Open(filepath.Join(data, "tongban.db"))
	if err != nil {
		return
	}
	defer st.Close()
	return loadSetupStore(ctx, st)
}

// loadSetupStore makes a department, a dispatcher and an API key in st.
func loadSetupStore(ctx context.Context, st tongban.Store) (key, login, password string, err error) {
	e, err := engine.New(ctx, st)
	if err != nil {
		return
	}
	if err = e.EnsureDefaults(ctx); err != nil {
		return
	}
	if err = e.AddDepartment(ctx, &tongban.Department{Code: "centre", Name: "指挥中心", Kind: tongban.DeptCentre}); err != nil {
		return
	}
	login, password = "loaddisp", "load-test-password"
	roles, name, dept := "dispatcher", "压力测试", "centre"
	if _, err = e.AddUser(ctx, login, engine.UserChange{Name: &name, Dept: &dept, Roles: &roles, Password: &password}); err != nil {
		return
	}
	key, _, err = e.NewAPIKey(ctx, "loadtest")
	return
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitReady(base string) error {
	for i := 0; i < 200; i++ {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready", base)
}

func loginToken(base, login, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"login": login, "password": password})
	resp, err := http.Post(base+"/api/v1/auth/token", "application/json", strings.NewReader(string(body)))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		return "", fmt.Errorf("login %s failed (status %d)", login, resp.StatusCode)
	}
	return out.Token, nil
}

// rss reads a process's resident set size from /proc.
func rss(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmRSS:"))
		}
	}
	return "unknown"
}

// loadtestPG measures creates and reads through 1, 2, 3… instances of
// `tongban serve` sharing one PostgreSQL database — a fresh scratch
// database on the server for each count — and then pgbench's simple-update
// rate on the same server, so the two can be compared in one run.
func loadtestPG(ctx context.Context, out io.Writer, dsn string, counts []int, conc int, dur time.Duration, bench bool) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "PostgreSQL %s, %d clients, %s per phase\n", redactDSN(dsn), conc, dur)
	for _, n := range counts {
		if err := loadtestPGOnce(ctx, out, self, dsn, n, conc, dur); err != nil {
			return err
		}
	}
	if !bench {
		return nil
	}
	db, err := loadtest.CreateScratchDB(ctx, dsn, "tongban_pgbench_")
	if err != nil {
		return err
	}
	defer db.Drop(context.Background())
	tps, cmdline, err := loadtest.Pgbench(ctx, db.Libpq, 16, 2, 10*time.Second)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "pgbench -N (simple update), scale 10: %8.0f tps  (%s)\n", tps, cmdline)
	return nil
}

func loadtestPGOnce(ctx context.Context, out io.Writer, self, dsn string, n, conc int, dur time.Duration) error {
	db, err := loadtest.CreateScratchDB(ctx, dsn, "tongban_load_")
	if err != nil {
		return err
	}
	defer db.Drop(context.Background())
	// Each count starts from a clean server: the dirty pages of the count
	// before (and of dropping its database) are written out first, not
	// while this one is measured.
	if err := db.Checkpoint(ctx); err != nil {
		fmt.Fprintf(out, "note: no CHECKPOINT before %d instance(s): %v\n", n, err)
	}
	st, err := postgres.Open(ctx, db.DSN)
	if err != nil {
		return err
	}
	key, login, password, err := loadSetupStore(ctx, st)
	st.Close()
	if err != nil {
		return err
	}
	// Each instance gets its share of the machine's cores, as it would in
	// a container with a CPU limit (Go then sizes GOMAXPROCS to the limit):
	// instances that each schedule work on every core of a machine they
	// share spend more of it switching between each other.
	procs := max(1, runtime.NumCPU()/n)
	if os.Getenv("GOMAXPROCS") != "" {
		procs, _ = strconv.Atoi(os.Getenv("GOMAXPROCS"))
	}
	fmt.Fprintf(out, "%d instance(s), GOMAXPROCS=%d each\n", n, procs)
	// The instances' warnings and errors are kept, to be shown should a
	// request fail.
	problems := &logProblems{}
	var targets []string
	for i := 0; i < n; i++ {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		child := exec.Command(self, "serve", "--db", db.DSN, "--addr", addr)
		child.Stdout, child.Stderr = io.Discard, problems
		child.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(procs))
		if err := child.Start(); err != nil {
			return err
		}
		defer func() { child.Process.Signal(os.Interrupt); child.Wait() }()
		targets = append(targets, "http://"+addr)
	}
	for _, t := range targets {
		if err := waitReadyFor(t, 30*time.Second); err != nil {
			return err
		}
	}
	token, err := loginToken(targets[0], login, password)
	if err != nil {
		return err
	}
	c, err := loadtest.NewClient(targets, key, token, conc)
	if err != nil {
		return err
	}
	c.Creates(conc, time.Second) // warm up connections, pools and caches
	cr := c.Creates(conc, dur)
	if len(cr.Codes) == 0 {
		return fmt.Errorf("%d instance(s): no create succeeded", n)
	}
	rd := c.Reads(cr.Codes, conc, dur)
	cr.Name = fmt.Sprintf("create  x%d inst", n)
	rd.Name = fmt.Sprintf("read    x%d inst", n)
	fmt.Fprintln(out, cr)
	fmt.Fprintln(out, rd)
	if cr.Errors+rd.Errors > 0 {
		for _, l := range problems.lines() {
			fmt.Fprintf(out, "  instance log: %s\n", l)
		}
	}
	return nil
}

// logProblems keeps the last warning and error lines the instances log
// (JSON lines, one per write).
type logProblems struct {
	mu   sync.Mutex
	last []string
}

const keptProblems = 20

func (p *logProblems) Write(b []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if !strings.Contains(l, `"level":"WARN"`) && !strings.Contains(l, `"level":"ERROR"`) {
			continue
		}
		p.mu.Lock()
		p.last = append(p.last, l)
		if len(p.last) > keptProblems {
			p.last = p.last[len(p.last)-keptProblems:]
		}
		p.mu.Unlock()
	}
	return len(b), nil
}

func (p *logProblems) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.last)
}

// waitReadyFor polls /readyz until it answers 200 or d has passed.
func waitReadyFor(base string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s", base, d)
}

// redactDSN hides a password in a DSN for printing.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxx")
		}
		return u.String()
	}
	return dsn
}
