package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/textproc"
)

// Text is the engine's text intelligence: routing suggestions from a
// department and a category classifier (trained models from the data
// directory, else keyword rules), an in-memory near-duplicate index of
// open requests (fed by every write of this instance and loaded from the
// stored signatures at start; with several instances each keeps its own),
// and cached hot issues. It is safe for concurrent use.
type Text struct {
	e *Engine
	// DupPeriod is how far back duplicates are looked for (default 30 days).
	DupPeriod time.Duration
	// DupRadius is the distance in metres within which two locations are
	// one place (default 100).
	DupRadius float64
	// AutoDispatch dispatches a new request to the suggested department
	// when its confidence is at least this (0: off).
	AutoDispatch float64
	// ModelDir holds route-dept.model and route-cat.model ("" : none).
	ModelDir string
	// HotInterval is how often the hot issues of the last 30 days are
	// recomputed (serve: --hot-interval, which calls RefreshHot on that
	// schedule); RecentHotspots serves the last computation meanwhile
	// (default 5 minutes).
	HotInterval time.Duration

	dept, cat atomic.Pointer[textproc.Classifier]
	rules     atomic.Pointer[ruleSet]
	trained   atomic.Bool // dept is a trained model, not rules

	dupOnce sync.Once
	dup     *textproc.Index
	metaMu  sync.RWMutex // guards meta, and orders changes to dup
	meta    map[int64]dupMeta
	loaded  atomic.Bool
	// Event ids up to which the index has caught up: at the last catch-up
	// and at the one before (see CatchUp).
	catchMu             sync.Mutex
	eventPrev, eventTop int64

	hotMu    sync.Mutex
	hotCache map[string]*HotIssues
	// The last 30 days' hot issues as last computed; computations of
	// them are one at a time.
	recentHot     atomic.Pointer[HotIssues]
	recentMu      sync.Mutex
	hotRefreshing atomic.Bool

	modelMu   sync.Mutex
	modelSeen map[string]modelStamp // model files as last loaded
}

type ruleSet struct {
	dept, cat *textproc.Classifier
	at        time.Time
}

type dupMeta struct {
	code, title  string
	confidential bool
	fp           uint64 // fingerprint of what the index holds for the case
}

// Model file names in the model directory.
const (
	DeptModelFile = "route-dept.model"
	CatModelFile  = "route-cat.model"
	// StepMerged is the step of a request merged into another (并单).
	StepMerged = "merged"
	// RouterActor is how automatic dispatches are recorded.
	RouterActor = "system:router"
)

func newText(e *Engine) *Text {
	return &Text{e: e, DupPeriod: 30 * 24 * time.Hour, DupRadius: 100, meta: map[int64]dupMeta{}, hotCache: map[string]*HotIssues{}}
}

func (t *Text) index() *textproc.Index {
	t.dupOnce.Do(func() { t.dup = textproc.NewIndex(t.DupRadius) })
	return t.dup
}

// ---- routing ----

// modelStamp identifies a version of a model file.
type modelStamp struct {
	mod  time.Time
	size int64
}

func stampOf(path string) (modelStamp, bool) {
	st, err := os.Stat(path)
	if err != nil {
		return modelStamp{}, false
	}
	return modelStamp{st.ModTime(), st.Size()}, true
}

// LoadModels loads the trained models from ModelDir, if present.
func (t *Text) LoadModels() error {
	if t.ModelDir == "" {
		return nil
	}
	t.modelMu.Lock()
	defer t.modelMu.Unlock()
	return t.loadModels()
}

func (t *Text) loadModels() error {
	seen := map[string]modelStamp{}
	load := func(name string) (*textproc.Classifier, error) {
		path := filepath.Join(t.ModelDir, name)
		f, err := os.Open(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			seen[name] = modelStamp{st.ModTime(), st.Size()}
		}
		return textproc.Load(f)
	}
	d, err := load(DeptModelFile)
	if err != nil {
		return fmt.Errorf("%s: %w", DeptModelFile, err)
	}
	c, err := load(CatModelFile)
	if err != nil {
		return fmt.Errorf("%s: %w", CatModelFile, err)
	}
	if d != nil {
		t.dept.Store(d)
		t.trained.Store(true)
	}
	if c != nil {
		t.cat.Store(c)
	}
	t.modelSeen = seen
	return nil
}

// ReloadModels loads the models from ModelDir again if a file changed
// since they were last loaded or written here — after a `tongban route
// retrain` (e.g. from cron) — and reports whether it did. serve checks
// every minute, so a retrain takes effect without a restart.
func (t *Text) ReloadModels() (bool, error) {
	if t.ModelDir == "" {
		return false, nil
	}
	t.modelMu.Lock()
	defer t.modelMu.Unlock()
	changed := false
	for _, name := range []string{DeptModelFile, CatModelFile} {
		st, ok := stampOf(filepath.Join(t.ModelDir, name))
		old, had := t.modelSeen[name]
		if ok && (!had || !old.mod.Equal(st.mod) || old.size != st.size) {
			changed = true
		}
	}
	if !changed {
		return false, nil
	}
	return true, t.loadModels()
}

// Trained reports whether routing uses a trained department model (else
// keyword rules).
func (t *Text) Trained() bool { return t.trained.Load() }

// SetModels installs trained classifiers (either may be nil: keep).
func (t *Text) SetModels(dept, cat *textproc.Classifier) {
	if dept != nil {
		t.dept.Store(dept)
		t.trained.Store(true)
	}
	if cat != nil {
		t.cat.Store(cat)
	}
}

// ruleClassifiers builds (at most every 5 s, like the caches they come
// from) keyword-rule classifiers from departments' and categories'
// keywords; a category's keywords also count for its department.
func (t *Text) ruleClassifiers(ctx context.Context) (*ruleSet, error) {
	if r := t.rules.Load(); r != nil && time.Since(r.at) < cacheTTL {
		return r, nil
	}
	depts, err := t.e.Departments(ctx)
	if err != nil {
		return nil, err
	}
	cats, err := t.e.Categories(ctx)
	if err != nil {
		return nil, err
	}
	dr, cr := map[string][]string{}, map[string][]string{}
	active := map[string]bool{}
	for _, d := range depts {
		if d.Disabled {
			continue
		}
		active[d.Code] = true
		if len(d.Keywords) > 0 {
			dr[d.Code] = append(dr[d.Code], d.Keywords...)
		}
	}
	for _, c := range cats {
		if !c.Active {
			continue
		}
		kw := append(slices.Clone(c.Keywords), c.Name)
		cr[c.Code] = kw
		if active[c.Dept] {
			dr[c.Dept] = append(dr[c.Dept], kw...)
		}
	}
	r := &ruleSet{dept: textproc.NewRuleClassifier(dr), cat: textproc.NewRuleClassifier(cr), at: time.Now()}
	t.rules.Store(r)
	return r, nil
}

// Suggestion is a routing suggestion for a request.
type Suggestion struct {
	Department string   `json:"department"`
	Category   string   `json:"category,omitempty"`
	Confidence float64  `json:"confidence"`
	Because    []string `json:"because"`
}

// Suggest returns up to three departments (each with the likeliest
// category that department leads or that has no lead department, if
// any) for a request's text.
func (t *Text) Suggest(ctx context.Context, title, body string) ([]Suggestion, error) {
	dc, cc := t.dept.Load(), t.cat.Load()
	if dc == nil || cc == nil {
		r, err := t.ruleClassifiers(ctx)
		if err != nil {
			return nil, err
		}
		if dc == nil {
			dc = r.dept
		}
		if cc == nil {
			cc = r.cat
		}
	}
	text := title + "\n" + body
	ds := dc.Suggest(text, 3)
	cs := cc.Suggest(text, 10)
	catDept := map[string]string{}
	if cats, err := t.e.Categories(ctx); err == nil {
		for _, c := range cats {
			catDept[c.Code] = c.Dept
		}
	}
	out := make([]Suggestion, 0, len(ds))
	for _, d := range ds {
		s := Suggestion{Department: d.Label, Confidence: d.Confidence, Because: d.Because}
		for _, c := range cs {
			// A category the department leads, or one without a lead
			// department (as the default categories are).
			if cd, ok := catDept[c.Label]; ok && (cd == d.Label || cd == "") {
				s.Category = c.Label
				break
			}
		}
		if s.Because == nil {
			s.Because = []string{}
		}
		out = append(out, s)
	}
	return out, nil
}

// autoDispatch dispatches a new request to the top suggestion when its
// confidence reaches AutoDispatch, as the actor system:router, recording
// the confidence and the words in the event's note.
func (t *Text) autoDispatch(ctx context.Context, c *tongban.Case) {
	if t == nil || t.AutoDispatch <= 0 || c.Kind != tongban.KindRequest || c.Step != "dispatch" {
		return
	}
	sg, err := t.Suggest(ctx, c.Title, c.Body)
	if err != nil || len(sg) == 0 || sg[0].Confidence < t.AutoDispatch {
		return
	}
	top := sg[0]
	if d, err := t.e.Department(ctx, top.Department); err != nil || d.Disabled {
		return
	}
	actor := Actor{User: &tongban.User{Login: RouterActor, Name: "自动派单", Roles: []tongban.Role{tongban.RoleDispatcher}}}
	note := fmt.Sprintf("自动派单：置信度 %.2f；依据：%s", top.Confidence, strings.Join(top.Because, "、"))
	dep, _ := json.Marshal(top.Department)
	nb, _ := json.Marshal(note)
	raw := map[string]json.RawMessage{"department": dep, "note": nb}
	cp := *c
	if _, _, err := t.e.act(ctx, actor, &cp, "dispatch", raw); err != nil {
		t.e.Log.Warn("auto-dispatch failed", "case", c.ID, "err", err)
		return
	}
	*c = cp
}

// ---- duplicates ----

func docOf(id int64, title, body, address string, lat, long *float64, at time.Time) *textproc.Doc {
	d := &textproc.Doc{ID: id, Title: title, Body: body, Address: address, At: at}
	if lat != nil && long != nil {
		d.Lat, d.Long = *lat, *long
	}
	return d
}

// dupOpen reports whether a case belongs in the duplicate index: an open
// request not merged into another.
func dupOpen(kind, status, step string) bool {
	return kind == tongban.KindRequest && status == tongban.StatusOpen && step != StepMerged
}

// dupFingerprint sums up what the index holds for a case, so that a case
// seen again unchanged is not re-added.
func dupFingerprint(d *textproc.Doc, sig []byte, m dupMeta) uint64 {
	h := fnv.New64a()
	h.Write(sig)
	fmt.Fprintf(h, "\x00%s\x00%s\x00%s\x00%t\x00%d\x00%x\x00%x", d.Address, m.code, m.title, m.confidential, d.At.Unix(),
		math.Float32bits(float32(d.Lat)), math.Float32bits(float32(d.Long)))
	return h.Sum64()
}

// dupPut puts a case in the duplicate index unless it holds it unchanged;
// it reports whether it changed the index.
func (t *Text) dupPut(d *textproc.Doc, sig textproc.Signature, m dupMeta) bool {
	m.fp = dupFingerprint(d, sig.Bytes(), m)
	t.metaMu.Lock()
	defer t.metaMu.Unlock()
	if old, ok := t.meta[d.ID]; ok && old.fp == m.fp {
		return false
	}
	t.index().AddSigned(d, sig)
	t.meta[d.ID] = m
	return true
}

// dupDrop takes a case out of the duplicate index; it reports whether the
// index held it.
func (t *Text) dupDrop(id int64) bool {
	t.metaMu.Lock()
	defer t.metaMu.Unlock()
	_, ok := t.meta[id]
	t.index().Remove(id)
	delete(t.meta, id)
	return ok
}

// observe updates the duplicate index after a write of c.
func (t *Text) observe(c *tongban.Case) {
	if t == nil {
		return
	}
	var sig textproc.Signature
	if dupOpen(c.Kind, c.Status, c.Step) {
		sig = textproc.SignCase(c.Title, c.Body)
	}
	t.observeSigned(c, sig)
}

// observeSigned is observe with c's signature (textproc.SignCase) given.
func (t *Text) observeSigned(c *tongban.Case, sig textproc.Signature) {
	if t == nil {
		return
	}
	if !dupOpen(c.Kind, c.Status, c.Step) {
		t.dupDrop(c.ID)
		return
	}
	t.dupPut(docOf(c.ID, c.Title, "", c.Address, c.Lat, c.Long, c.ReceivedAt), sig,
		dupMeta{code: c.TrackingCode, title: c.Title, confidential: c.Confidential})
}

// LoadIndex fills the duplicate index from the stored signatures of the
// open requests of the last DupPeriod (cases not yet indexed are signed
// here). Run it in the background at start.
func (t *Text) LoadIndex(ctx context.Context) (int, error) {
	top, err := t.e.Store.LastEventID(ctx) // before the scan: what is written during it is caught up with
	if err != nil {
		return 0, err
	}
	from := t.e.now(ctx).Add(-t.DupPeriod)
	n := 0
	var after int64
	for {
		k := 0
		err := t.e.Store.ScanTexts(ctx, tongban.TextScan{Kind: tongban.KindRequest, Status: tongban.StatusOpen, From: from, AfterID: after, Limit: 5000},
			func(ct *tongban.CaseText) error {
				k++
				after = ct.ID
				if t.reconcile(ctx, ct, from) {
					n++
				}
				return nil
			})
		if err != nil {
			return n, err
		}
		if k == 0 {
			break
		}
	}
	t.catchMu.Lock()
	t.eventPrev, t.eventTop = top, top
	t.catchMu.Unlock()
	t.loaded.Store(true)
	return n, nil
}

// CatchUp brings the duplicate index up to date with what other instances
// wrote since it last looked (this instance's own writes update it as
// they happen): every request with an event since then is re-read, and
// added if it is open, unmerged and recent, else removed — so requests
// filed elsewhere appear, and requests closed or merged elsewhere stop
// being offered as duplicates. It returns how many cases it added or
// removed. serve runs it every 30 seconds.
//
// Each catch-up reads the events since the catch-up before the last one,
// so every event is read twice: PostgreSQL hands out event ids when a
// transaction writes, so a write may commit a little after a higher id
// was seen, and is still found at the next catch-up.
func (t *Text) CatchUp(ctx context.Context) (int, error) {
	if !t.loaded.Load() {
		return 0, nil
	}
	t.catchMu.Lock()
	defer t.catchMu.Unlock()
	top, err := t.e.Store.LastEventID(ctx)
	if err != nil {
		return 0, err
	}
	if top <= t.eventPrev {
		return 0, nil
	}
	from := t.e.now(ctx).Add(-t.DupPeriod)
	n := 0
	err = t.e.Store.ScanTexts(ctx, tongban.TextScan{Kind: tongban.KindRequest, EventAfter: t.eventPrev, EventTo: top},
		func(ct *tongban.CaseText) error {
			if t.reconcile(ctx, ct, from) {
				n++
			}
			return nil
		})
	if err != nil {
		return n, err
	}
	t.eventPrev, t.eventTop = t.eventTop, top
	return n, nil
}

// reconcile puts a stored request into the duplicate index or takes it
// out, as its state says; it reports whether the index changed.
func (t *Text) reconcile(ctx context.Context, ct *tongban.CaseText, from time.Time) bool {
	if !dupOpen(ct.Kind, ct.Status, ct.Step) || ct.ReceivedAt.Before(from) {
		return t.dupDrop(ct.ID)
	}
	sig, ok := textproc.SignatureFromBytes(ct.Sig)
	if !ok { // not indexed yet
		c, err := t.e.Store.Case(ctx, ct.ID)
		if err != nil {
			return false
		}
		sig = textproc.SignCase(c.Title, c.Body)
	}
	return t.dupPut(docOf(ct.ID, ct.Title, "", ct.Address, ct.Lat, ct.Long, ct.ReceivedAt), sig,
		dupMeta{code: ct.TrackingCode, title: ct.Title, confidential: ct.Confidential})
}

// Duplicate is a possible earlier report of the same matter.
type Duplicate struct {
	ID           int64   `json:"id,omitempty"`
	TrackingCode string  `json:"tracking_code"`
	Title        string  `json:"title"`
	Score        float64 `json:"score"`
}

// DupQuery is what to compare: a request's text and place.
type DupQuery struct {
	ID                   int64
	Title, Body, Address string
	Lat, Long            *float64
	At                   time.Time
	Limit                int
	PublicOnly           bool // only non-confidential cases, without IDs
	Visible              func(id int64) bool
}

// Duplicates returns open requests like q, best first, received within
// DupPeriod before q.At (or now).
func (t *Text) Duplicates(ctx context.Context, q DupQuery) []Duplicate {
	at := q.At
	if at.IsZero() {
		at = t.e.now(ctx)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 10
	}
	d := docOf(q.ID, q.Title, q.Body, q.Address, q.Lat, q.Long, at)
	cands := t.index().Similar(&textproc.Query{Doc: *d, From: at.Add(-t.DupPeriod), Limit: limit * 2})
	out := []Duplicate{}
	t.metaMu.RLock()
	defer t.metaMu.RUnlock()
	for _, c := range cands {
		m, ok := t.meta[c.ID]
		if !ok || (q.PublicOnly && m.confidential) || (q.Visible != nil && !q.Visible(c.ID)) {
			continue
		}
		dup := Duplicate{ID: c.ID, TrackingCode: m.code, Title: m.title, Score: float64(int(c.Score*1000+0.5)) / 1000}
		if q.PublicOnly {
			dup.ID = 0
		}
		out = append(out, dup)
		if len(out) == limit {
			break
		}
	}
	return out
}

// ---- hot issues ----

// HotIssues are the hot issues of a period, as last computed.
type HotIssues struct {
	From, To  time.Time
	Computed  time.Time
	Requests  int
	Truncated bool
	Issues    []textproc.Hotspot
}

// MaxHotRequests caps the requests one hot-issue computation reads.
const MaxHotRequests = 100_000

// hotTTL is how long a computed period is served from the cache.
const hotTTL = 5 * time.Minute

// Hotspots returns the hot issues of requests received in [from, to),
// computed at most every hotTTL per period.
func (t *Text) Hotspots(ctx context.Context, from, to time.Time) (*HotIssues, error) {
	key := from.Truncate(time.Minute).String() + "|" + to.Truncate(time.Minute).String()
	t.hotMu.Lock()
	h := t.hotCache[key]
	t.hotMu.Unlock()
	if h != nil && time.Since(h.Computed) < hotTTL {
		return h, nil
	}
	h, err := t.computeHot(ctx, from, to)
	if err != nil {
		return nil, err
	}
	t.hotMu.Lock()
	if len(t.hotCache) > 64 {
		clear(t.hotCache)
	}
	t.hotCache[key] = h
	t.hotMu.Unlock()
	return h, nil
}

// RecentHotspots returns the hot issues of the last 30 days as last
// computed — by RefreshHot on serve's schedule, or here when there is no
// computation yet (later callers wait for it rather than computing too).
// A computation older than HotInterval is still returned, and a new one
// started in the background; so a page view never clusters requests
// itself except the very first.
func (t *Text) RecentHotspots(ctx context.Context) (*HotIssues, error) {
	to := recentTo(t.e.now(ctx))
	age := t.hotInterval()
	if h := t.recentHot.Load(); h != nil && !h.To.Before(to.Add(-2*age)) && !h.To.After(to.Add(age)) {
		if (time.Since(h.Computed) > age || to.Sub(h.To) > age) && t.hotRefreshing.CompareAndSwap(false, true) {
			go func() {
				defer t.hotRefreshing.Store(false)
				if _, err := t.RefreshHot(context.WithoutCancel(ctx)); err != nil {
					t.e.Log.Warn("hot issues not computed", "err", err)
				}
			}()
		}
		return h, nil
	}
	// None yet, or for another clock (a test's or demo's simulated now).
	return t.RefreshHot(ctx)
}

// RefreshHot computes the hot issues of the last 30 days (to the minute)
// and keeps them for RecentHotspots. One computation runs at a time; a
// caller arriving during one gets its result.
func (t *Text) RefreshHot(ctx context.Context) (*HotIssues, error) {
	to := recentTo(t.e.now(ctx))
	started := time.Now()
	t.recentMu.Lock()
	defer t.recentMu.Unlock()
	if h := t.recentHot.Load(); h != nil && h.To.Equal(to) && !h.Computed.Before(started) {
		return h, nil // computed while this call waited
	}
	h, err := t.computeHot(ctx, to.Add(-30*24*time.Hour), to)
	if err != nil {
		return nil, err
	}
	t.recentHot.Store(h)
	return h, nil
}

// recentTo is the end of the recent period: the end of now's minute.
func recentTo(now time.Time) time.Time { return now.Truncate(time.Minute).Add(time.Minute) }

func (t *Text) hotInterval() time.Duration {
	if t.HotInterval > 0 {
		return t.HotInterval
	}
	return hotTTL
}

func (t *Text) computeHot(ctx context.Context, from, to time.Time) (*HotIssues, error) {
	h := &HotIssues{From: from, To: to, Computed: time.Now()}
	var docs []textproc.Doc
	err := t.e.Store.ScanTexts(ctx, tongban.TextScan{Kind: tongban.KindRequest, From: from, To: to, Limit: MaxHotRequests + 1, WithBody: true},
		func(ct *tongban.CaseText) error {
			// Merged requests count too: each is a person asking.
			d := docOf(ct.ID, ct.Title, ct.Body, ct.Address, ct.Lat, ct.Long, ct.ReceivedAt)
			if ct.Phone != "" {
				sum := sha256.Sum256([]byte("tongban-hot:" + ct.Phone))
				d.Requester = hex.EncodeToString(sum[:8])
			}
			docs = append(docs, *d)
			return nil
		})
	if err != nil {
		return nil, err
	}
	if len(docs) > MaxHotRequests {
		docs, h.Truncated = docs[len(docs)-MaxHotRequests:], true
	}
	h.Requests = len(docs)
	now := to
	if n := t.e.now(ctx); n.Before(now) {
		now = n
	}
	h.Issues = textproc.Hotspots(docs, textproc.HotOptions{Now: now, Radius: t.DupRadius})
	if h.Issues == nil {
		h.Issues = []textproc.Hotspot{}
	}
	return h, nil
}

// ---- retraining ----

// RetrainResult says what Retrain did.
type RetrainResult struct {
	Examples   int
	DeptLabels int
	CatLabels  int
	Took       time.Duration
	DeptModel  string
	CatModel   string
}

// Retrain trains the department and category classifiers on the closed
// requests of the store — the department label is the one that finally
// handled the request (its first department, 首办, which stays the one that
// accepted after returns and a transfer accepted; else its lead) — writes
// them atomically to ModelDir (if set) and puts them in force.
func (t *Text) Retrain(ctx context.Context, opts textproc.TrainOptions) (*RetrainResult, error) {
	t0 := time.Now()
	var dex, cex []textproc.Example
	err := t.e.Store.ScanTexts(ctx, tongban.TextScan{Kind: tongban.KindRequest, Status: tongban.StatusClosed, WithBody: true},
		func(ct *tongban.CaseText) error {
			if ct.Step == StepMerged {
				return nil
			}
			text := ct.Title + "\n" + ct.Body
			if d := cmpOr(ct.First, ct.Lead); d != "" {
				dex = append(dex, textproc.Example{Text: text, Label: d})
			}
			if ct.Category != "" {
				cex = append(cex, textproc.Example{Text: text, Label: ct.Category})
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	if len(dex) < 2 {
		return nil, tongban.Errorf(tongban.EInvalid, "已办结的诉求太少，无法训练", "too few closed requests to train on")
	}
	r := &RetrainResult{Examples: len(dex)}
	dm, err := textproc.Train(dex, opts)
	if err != nil {
		return nil, err
	}
	var cm *textproc.Classifier
	if len(cex) >= 2 {
		if cm, err = textproc.Train(cex, opts); err != nil {
			return nil, err
		}
		r.CatLabels = len(cm.Labels)
	}
	r.DeptLabels = len(dm.Labels)
	if t.ModelDir != "" {
		t.modelMu.Lock()
		defer t.modelMu.Unlock()
		if t.modelSeen == nil {
			t.modelSeen = map[string]modelStamp{}
		}
		if r.DeptModel, err = saveModel(t.ModelDir, DeptModelFile, dm); err != nil {
			return nil, err
		}
		t.modelSeen[DeptModelFile], _ = stampOf(r.DeptModel)
		if cm != nil {
			if r.CatModel, err = saveModel(t.ModelDir, CatModelFile, cm); err != nil {
				return nil, err
			}
			t.modelSeen[CatModelFile], _ = stampOf(r.CatModel)
		}
	}
	t.SetModels(dm, cm)
	r.Took = time.Since(t0)
	return r, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// saveModel writes m to dir/name through a temporary file and a rename.
func saveModel(dir, name string, m *textproc.Classifier) (string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".route-*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if err := m.Save(tmp); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	return path, os.Rename(tmp.Name(), path)
}
