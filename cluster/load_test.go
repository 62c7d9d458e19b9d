package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Outcome classes of one request.
const (
	classOK      = "ok"      // the status the step wants
	classConn    = "connerr" // no response: refused, reset, timed out
	classUnavail = "503"     // unavailable, with Retry-After
)

// outcome is one request's result, kept for timing questions.
type outcome struct {
	at    time.Time
	inst  int
	op    string
	class string
}

// load is a workload of clients each filing a case with the API key, then
// dispatching it as the dispatcher, accepting it as the handler, and
// reading it back — every request sent to the next instance round-robin,
// so each case crosses instances at every step.
type load struct {
	c         *cluster
	targets   []*instance
	dispToken string
	handToken string
	prefix    string // makes titles unique across loads on one database

	next atomic.Uint64

	mu       sync.Mutex
	ack      map[string]*acked // by tracking code
	counts   map[string]int    // "op class" → n
	byInst   map[int]map[string]int
	outcomes []outcome
	bad      []string // responses no client should ever see
}

func newLoad(c *cluster, prefix string, targets []*instance, dispToken, handToken string) *load {
	return &load{c: c, targets: targets, dispToken: dispToken, handToken: handToken, prefix: prefix,
		ack: map[string]*acked{}, counts: map[string]int{}, byInst: map[int]map[string]int{}}
}

func (l *load) pick() *instance {
	return l.targets[l.next.Add(1)%uint64(len(l.targets))]
}

// record classifies a response and reports whether it is the one wanted.
func (l *load) record(op string, in *instance, r result, want int) bool {
	class := classOK
	switch {
	case r.err != nil:
		class = classConn
	case r.status == want:
	case r.status == http.StatusServiceUnavailable:
		class = classUnavail
		if r.header.Get("Retry-After") == "" {
			l.wrong("%s on instance %d: 503 without Retry-After: %s", op, in.n, r.body)
		}
	default:
		class = fmt.Sprint(r.status)
		l.wrong("%s on instance %d: status %d: %s", op, in.n, r.status, tail(string(r.body), 300))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts[op+" "+class]++
	if l.byInst[in.n] == nil {
		l.byInst[in.n] = map[string]int{}
	}
	l.byInst[in.n][class]++
	l.outcomes = append(l.outcomes, outcome{at: time.Now(), inst: in.n, op: op, class: class})
	return class == classOK
}

// wrong records something no client may ever be told.
func (l *load) wrong(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.bad) < 50 {
		l.bad = append(l.bad, fmt.Sprintf(format, args...))
	} else {
		l.bad[49] = "… and more"
	}
}

func pause(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(20 * time.Millisecond):
	}
}

func (l *load) worker(ctx context.Context, w int) {
	for i := 0; ctx.Err() == nil; i++ {
		title := fmt.Sprintf("%s w%02d-%05d", l.prefix, w, i)
		in := l.pick()
		r, cj := l.c.createCase(ctx, in, title)
		if ctx.Err() != nil {
			return // cut off by the end of the load: neither success nor failure
		}
		if !l.record("create", in, r, http.StatusCreated) {
			pause(ctx)
			continue
		}
		if cj.ID == 0 || cj.TrackingCode == "" || cj.Title != title || cj.Step != "dispatch" || cj.Version != 1 {
			l.wrong("create on instance %d answered %+v for %q", in.n, cj, title)
			continue
		}
		a := &acked{id: cj.ID, title: title, version: 1}
		l.mu.Lock()
		if l.ack[cj.TrackingCode] != nil {
			l.bad = append(l.bad, "tracking code "+cj.TrackingCode+" acknowledged twice")
		}
		l.ack[cj.TrackingCode] = a
		l.mu.Unlock()

		steps := []struct {
			action, token, step string
			fields              map[string]any
		}{
			{"dispatch", l.dispToken, "accept", map[string]any{"department": handDept}},
			{"accept", l.handToken, "handle", nil},
		}
		done := true
		for _, s := range steps {
			in = l.pick()
			r, got := l.c.act(ctx, in, s.token, a.id, s.action, a.version, s.fields)
			if ctx.Err() != nil {
				return
			}
			if !l.record(s.action, in, r, http.StatusOK) {
				done = false
				pause(ctx)
				break
			}
			if got.ID != a.id || got.Step != s.step || got.Version != a.version+1 || got.Lead != handDept {
				l.wrong("%s of case %d on instance %d answered %+v", s.action, a.id, in.n, got)
				done = false
				break
			}
			a.version++
			a.actions = append(a.actions, s.action)
		}
		if !done {
			continue
		}
		// Read it back elsewhere: cases are never cached, so any instance
		// shows the last acknowledged version at once.
		in = l.pick()
		r = l.c.do(ctx, "GET", in.url+"/api/v1/cases/"+url.PathEscape(cj.TrackingCode), l.dispToken, nil)
		if ctx.Err() != nil {
			return
		}
		if !l.record("read", in, r, http.StatusOK) {
			pause(ctx)
			continue
		}
		var got caseJSON
		if err := json.Unmarshal(r.body, &got); err != nil || got.ID != a.id || got.Version != a.version || got.Step != "handle" {
			l.wrong("read of case %s on instance %d after accept answered %+v (%v)", cj.TrackingCode, in.n, got, err)
		}
	}
}

// start runs clients until the returned stop function is called.
func (l *load) start(clients int) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.worker(ctx, w)
		}()
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// runFor runs clients for d.
func (l *load) runFor(clients int, d time.Duration) {
	stop := l.start(clients)
	time.Sleep(d)
	stop()
}

// report logs what the clients saw.
func (l *load) report(t *testing.T, d time.Duration) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := make([]string, 0, len(l.counts))
	for k := range l.counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, l.counts[k])
	}
	for i := range len(l.targets) {
		fmt.Fprintf(&b, "\n  instance %d: %v", i, l.byInst[l.targets[i].n])
	}
	t.Logf("%d cases acknowledged in %s (%.0f/s):%s", len(l.ack), d.Round(time.Millisecond), float64(len(l.ack))/d.Seconds(), b.String())
}

// allow fails the test for any wrong answer and for any request whose
// class is not allowed.
func (l *load) allow(t *testing.T, classes ...string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.bad {
		t.Error(b)
	}
	for k, n := range l.counts {
		class := k[strings.LastIndexByte(k, ' ')+1:]
		if class != classOK && !slices.Contains(classes, class) {
			t.Errorf("%d requests %q: not allowed here", n, k)
		}
	}
	if len(l.ack) == 0 {
		t.Error("no case was acknowledged")
	}
}

// count returns how many requests of a class went to an instance.
func (l *load) count(inst int, class string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byInst[inst][class]
}

// okSince counts successful requests to an instance after t.
func (l *load) okSince(inst int, t time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, o := range l.outcomes {
		if o.inst == inst && o.class == classOK && o.at.After(t) {
			n++
		}
	}
	return n
}
