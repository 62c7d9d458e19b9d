// Package loadtest drives a running tongban over HTTP the way a busy
// hotline would — many clients filing requests and reading case pages at
// once — and reports throughput and latency percentiles. It also measures
// the raw SQLite insert rate on the same disk, the limit the API's create
// rate is held against.
package loadtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"
)

// Result is one measured phase.
type Result struct {
	Name     string
	Requests int64
	Errors   int64
	// Failures counts the failed requests by what went wrong (an HTTP
	// status or a client error), so that an error is never just a number.
	Failures map[string]int
	Elapsed  time.Duration
	P50, P95 time.Duration
	P99, Max time.Duration
	Codes    []string // tracking codes acknowledged (creates)
}

// Rate is requests per second.
func (r Result) Rate() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

func (r Result) String() string {
	return fmt.Sprintf("%-16s %8d req %6d err in %6.2fs = %8.0f/s  p50 %6.2fms p95 %6.2fms p99 %6.2fms max %6.2fms",
		r.Name, r.Requests, r.Errors, r.Elapsed.Seconds(), r.Rate(), ms(r.P50), ms(r.P95), ms(r.P99), ms(r.Max)) + r.failures()
}

func (r Result) failures() string {
	var parts []string
	for what, n := range r.Failures {
		parts = append(parts, fmt.Sprintf("%d× %s", n, what))
	}
	if len(parts) == 0 {
		return ""
	}
	slices.Sort(parts)
	return "\n  failures: " + strings.Join(parts, "; ")
}

// failure describes a request that did not get the status it wanted: the
// client's error, or the status with the error code of the answer's body.
func failure(status int, err error, body []byte) string {
	if err != nil {
		return err.Error()
	}
	if code, err := jsonString(body, "code"); err == nil {
		return fmt.Sprintf("HTTP %d %s", status, code)
	}
	return fmt.Sprintf("HTTP %d", status)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Client is a load-test client for one or more instances.
type Client struct {
	Targets []string // base URLs; each client spreads its requests round-robin
	APIKey  string
	Token   string
	workers []*worker
}

// worker is one client's connections and request buffer, used by its
// goroutine alone.
type worker struct {
	conns []*wireConn // one per target
	next  int
	req   []byte
}

// NewClient returns a client for up to conc concurrent clients.
func NewClient(targets []string, apiKey, token string, conc int) (*Client, error) {
	c := &Client{Targets: targets, APIKey: apiKey, Token: token}
	for w := range conc {
		wk := &worker{next: w}
		for _, t := range targets {
			wc, err := newWireConn(t)
			if err != nil {
				return nil, err
			}
			wk.conns = append(wk.conns, wc)
		}
		c.workers = append(c.workers, wk)
	}
	return c, nil
}

// conn returns worker w's connection to the next target.
func (c *Client) conn(w int) (*worker, *wireConn) {
	wk := c.workers[w%len(c.workers)]
	wk.next++
	return wk, wk.conns[wk.next%len(wk.conns)]
}

// lastBody is the body of worker w's last answer.
func (c *Client) lastBody(w int) []byte {
	wk := c.workers[w%len(c.workers)]
	return wk.conns[wk.next%len(wk.conns)].body
}

var bodies = []string{
	"小区门口的餐馆每天晚上油烟直排，居民窗户都不敢开，请相关部门尽快处理。",
	"工地夜间施工噪音很大，凌晨两点还在打桩，严重影响周边居民休息。",
	"人行道上摊贩占道经营，行人只能走机动车道，存在安全隐患。",
	"路口井盖缺失已经一周，晚上路灯也不亮，请尽快修复。",
}

// create files one request and returns its tracking code.
func (c *Client) create(w, i int) (string, int, error) {
	wk, conn := c.conn(w)
	body := []byte(`{"type":"投诉","category":"fume","title":"压力测试诉求 `)
	body = strconv.AppendInt(body, int64(i), 10)
	body = append(body, `","body":"`...)
	body = append(body, bodies[i%len(bodies)]...)
	body = append(body, `","address":"青川区锦绣路88号","requester":{"name":"测试","phone":"13800000000"}}`...)
	req := append(wk.req[:0], "POST /api/v1/cases HTTP/1.1\r\nHost: "...)
	req = append(req, conn.host...)
	req = append(req, "\r\nContent-Type: application/json\r\nAuthorization: Bearer "...)
	req = append(req, c.APIKey...)
	req = append(req, "\r\nContent-Length: "...)
	req = strconv.AppendInt(req, int64(len(body)), 10)
	req = append(append(req, "\r\n\r\n"...), body...)
	wk.req = req
	status, err := conn.do(req)
	if err != nil || status != http.StatusCreated {
		return "", status, err
	}
	code, err := jsonString(conn.body, "tracking_code")
	return code, status, err
}

// read fetches one case page as staff.
func (c *Client) read(w int, ref string) (int, error) {
	wk, conn := c.conn(w)
	req := append(wk.req[:0], "GET /api/v1/cases/"...)
	req = append(req, url.PathEscape(ref)...)
	req = append(req, " HTTP/1.1\r\nHost: "...)
	req = append(req, conn.host...)
	req = append(req, "\r\nAuthorization: Bearer "...)
	req = append(req, c.Token...)
	req = append(req, "\r\n\r\n"...)
	wk.req = req
	return conn.do(req)
}

// run runs op from conc goroutines for d and collects latencies.
// op returns a tracking code to keep, or what went wrong.
func run(name string, conc int, d time.Duration, op func(ctx context.Context, worker, i int) (code, failed string)) Result {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	var codes []string
	failures := map[string]int{}
	var n, errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			var localCodes []string
			localFailures := map[string]int{}
			for i := 0; ctx.Err() == nil; i++ {
				t0 := time.Now()
				code, failed := op(ctx, w, w*1_000_000+i)
				if ctx.Err() != nil && failed != "" {
					break // cut off by the deadline, not a failure
				}
				local = append(local, time.Since(t0))
				n.Add(1)
				if failed != "" {
					errs.Add(1)
					localFailures[failed]++
				} else if code != "" {
					localCodes = append(localCodes, code)
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			codes = append(codes, localCodes...)
			for k, v := range localFailures {
				failures[k] += v
			}
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	r := Result{Name: name, Requests: n.Load(), Errors: errs.Load(), Elapsed: elapsed, P50: pct(0.50), P95: pct(0.95), P99: pct(0.99), Codes: codes, Failures: failures}
	if len(lat) > 0 {
		r.Max = lat[len(lat)-1]
	}
	return r
}

// Creates files requests from conc clients for d.
func (c *Client) Creates(conc int, d time.Duration) Result {
	return run("create", conc, d, func(_ context.Context, w, i int) (string, string) {
		code, status, err := c.create(w, i)
		if err != nil || status != http.StatusCreated {
			return "", failure(status, err, c.lastBody(w))
		}
		return code, ""
	})
}

// Reads fetches case pages for the given refs from conc clients for d.
func (c *Client) Reads(refs []string, conc int, d time.Duration) Result {
	return run("read case", conc, d, func(_ context.Context, w, i int) (string, string) {
		status, err := c.read(w, refs[(i*7919+w)%len(refs)])
		if err != nil || status != http.StatusOK {
			return "", failure(status, err, c.lastBody(w))
		}
		return "", ""
	})
}

// RawSQLite measures inserts per second straight into a SQLite file in
// dir with the same settings the store uses (WAL, synchronous=FULL): one
// row per committed transaction, and rows batched per transaction as the
// store's group commit does.
func RawSQLite(dir string, d time.Duration, batch int) (Result, error) {
	path := filepath.Join(dir, "raw.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)")
	if err != nil {
		return Result{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`DROP TABLE IF EXISTS t; CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT UNIQUE, title TEXT, body TEXT, at INTEGER)`); err != nil {
		return Result{}, err
	}
	name := "sqlite raw x1"
	if batch > 1 {
		name = fmt.Sprintf("sqlite raw x%d", batch)
	}
	var seq atomic.Int64
	res := run(name, 1, d, func(ctx context.Context, _, _ int) (string, string) {
		tx, err := db.Begin()
		if err != nil {
			return "", err.Error()
		}
		for j := 0; j < batch; j++ {
			k := seq.Add(1)
			if _, err := tx.Exec(`INSERT INTO t (code, title, body, at) VALUES (?,?,?,?)`, fmt.Sprintf("C%012d", k), "压力测试诉求", bodies[k%4], time.Now().UnixMicro()); err != nil {
				tx.Rollback()
				return "", err.Error()
			}
		}
		if err := tx.Commit(); err != nil {
			return "", err.Error()
		}
		return "", ""
	})
	res.Requests *= int64(batch) // rows, not transactions
	return res, nil
}

// ---- PostgreSQL ----

// ScratchDB is a database created for one measurement on a PostgreSQL
// server and dropped afterwards.
type ScratchDB struct {
	admin string // DSN of the server's maintenance database
	Name  string
	DSN   string // DSN of the scratch database, pool_* settings kept
	Libpq string // the same without pool_* settings, for libpq tools
}

// CreateScratchDB creates an empty database on the server named by dsn (a
// postgres:// URL). Settings only pgxpool understands (pool_max_conns…)
// are kept in DSN for the instances and left out of Libpq.
func CreateScratchDB(ctx context.Context, dsn, prefix string) (*ScratchDB, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("--pg wants a postgres:// URL, got %q", dsn)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := prefix + hex.EncodeToString(b[:])
	admin := withoutPool(u)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	full := *u
	full.Path = "/" + name
	return &ScratchDB{admin: admin, Name: name, DSN: full.String(), Libpq: withoutPool(&full)}, nil
}

// withoutPool returns the URL without pgxpool's own query settings.
func withoutPool(u *url.URL) string {
	c := *u
	q := c.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	c.RawQuery = q.Encode()
	return c.String()
}

// Drop drops the database, closing whatever is still connected to it.
func (s *ScratchDB) Drop(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+s.Name+" WITH (FORCE)")
	return err
}

// Checkpoint writes out the server's dirty pages (CHECKPOINT needs a
// superuser or the pg_checkpoint role).
func (s *ScratchDB) Checkpoint(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CHECKPOINT")
	return err
}

// PgbenchPath finds pgbench on PATH or in Debian's versioned directories.
func PgbenchPath() (string, error) {
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p, nil
	}
	ms, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	if len(ms) > 0 {
		slices.Sort(ms)
		return ms[len(ms)-1], nil
	}
	return "", fmt.Errorf("pgbench not found: install postgresql-client (or postgresql-contrib)")
}

var tpsRe = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// Pgbench measures the server's simple-update rate (pgbench -N, the
// TPC-B-like transaction without the contended branch and teller
// updates) with clients connections from jobs threads for d, after
// initialising a scale-10 database: the rate of small durable write
// transactions the server sustains, which bounds tongban's creates.
func Pgbench(ctx context.Context, libpqDSN string, clients, jobs int, d time.Duration) (tps float64, cmdline string, err error) {
	bin, err := PgbenchPath()
	if err != nil {
		return 0, "", err
	}
	if out, err := exec.CommandContext(ctx, bin, "-i", "-s", "10", "-q", libpqDSN).CombinedOutput(); err != nil {
		return 0, "", fmt.Errorf("pgbench -i: %v\n%s", err, out)
	}
	args := []string{"-N", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(jobs), "-T", strconv.Itoa(int(d.Seconds())), libpqDSN}
	cmdline = bin + " " + strings.Join(args[:len(args)-1], " ")
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		return 0, cmdline, fmt.Errorf("pgbench: %v\n%s", err, out)
	}
	m := tpsRe.FindSubmatch(out)
	if m == nil {
		return 0, cmdline, fmt.Errorf("pgbench printed no tps:\n%s", out)
	}
	tps, err = strconv.ParseFloat(string(m[1]), 64)
	return tps, cmdline, err
}
