package textproc

import (
	"bufio"
	"compress/gzip"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Example is one labelled text for training or evaluation.
type Example struct {
	Text  string
	Label string
}

// Suggestion is one routing suggestion.
type Suggestion struct {
	Label      string   `json:"label"`
	Confidence float64  `json:"confidence"` // 0..1; the suggestions of one text sum to at most 1
	Because    []string `json:"because"`    // the words of the text that drove the choice, strongest first
}

// TrainOptions tune the classifier. The zero value means the defaults.
type TrainOptions struct {
	MaxN        int     // longest character n-gram (1..3); default 2
	MinDF       int     // a feature must occur in at least MinDF texts; default 2
	MaxFeatures int     // keep the MaxFeatures most frequent features; default 500,000
	C           float64 // SVM cost (inverse regularisation); default 0.5
	Epochs      int     // at most this many passes of coordinate descent; default 30
	NBWeight    float64 // weight of the naive Bayes vote in the ensemble (0..1); default 0 (none)
	Unbalanced  bool    // do not weight each label's texts by n/(labels·n_label) in its SVM
	HeadRunes   int     // n-grams of the first HeadRunes characters (the title) count twice; default 0
	Temperature float64 // sharpness of the confidence softmax; default fitted on the training data
	Seed        uint64
}

func (o *TrainOptions) defaults() {
	if o.MaxN <= 0 || o.MaxN > 3 {
		o.MaxN = 2
	}
	if o.MinDF <= 0 {
		o.MinDF = 2
	}
	if o.MaxFeatures <= 0 {
		o.MaxFeatures = 500_000
	}
	if o.C <= 0 {
		o.C = 0.5
	}
	if o.Epochs <= 0 {
		o.Epochs = 30
	}
	o.NBWeight = min(max(o.NBWeight, 0), 1)
}

// ModelVersion is the version of the serialised Classifier format.
const ModelVersion = 1

// Classifier routes a text to labels (departments or categories).
//
// Features are character 1..3-grams (see features.go) with sublinear TF-IDF
// weights, L2-normalised. Two linear models vote: a one-vs-rest linear SVM
// (L2-regularised squared hinge, trained by dual coordinate descent as in
// LIBLINEAR) and a complement naive Bayes over the same features; the
// final score is (1-NBWeight)·svm + NBWeight·nb, both standardised. The
// confidence is a softmax of the scores whose temperature is fitted on the
// training data. Keyword rules, if set, add a fixed bonus to the labels
// whose keywords occur (the cold start, and a way to correct the model);
// a Classifier with no training data and only rules routes by rules alone.
//
// A Classifier is safe for concurrent use once trained or loaded.
type Classifier struct {
	Version int
	Labels  []string
	Opts    TrainOptions
	Keys    []uint64  // feature keys (packed n-grams), index = feature id
	IDF     []float32 // per feature
	W       []float32 // per feature, per label: W[f*len(Labels)+l]
	Bias    []float32 // per label
	Scale   float32   // multiplies scores before the softmax
	Rules   map[string][]string
	Trained int // number of training texts

	index map[uint64]int32
	pool  sync.Pool
}

// NewRuleClassifier returns a classifier that routes by keyword rules
// alone: label → keywords. It is the cold start before any history exists.
func NewRuleClassifier(rules map[string][]string) *Classifier {
	c := &Classifier{Version: ModelVersion, Rules: rules, Scale: 1}
	for l := range rules {
		c.Labels = append(c.Labels, l)
	}
	sort.Strings(c.Labels)
	c.Bias = make([]float32, len(c.Labels))
	c.init()
	return c
}

func (c *Classifier) init() {
	c.index = make(map[uint64]int32, len(c.Keys))
	for i, k := range c.Keys {
		c.index[k] = int32(i)
	}
	c.pool.New = func() any { return &scratch{} }
}

type scratch struct {
	rs     []rune
	keys   []uint64
	grams  []gram
	feats  []int32
	vals   []float32
	scores []float64
}

// docVec turns a text into sorted (feature, weight) pairs, L2-normalised;
// features not in the index are dropped (but counted in the norm, so that
// a text full of unknown words gets small scores).
func (c *Classifier) docVec(s *scratch, text string) {
	s.rs = prepRunes(s.rs, text)
	s.keys = appendGrams(s.keys[:0], s.rs, 1, c.Opts.MaxN)
	if h := c.Opts.HeadRunes; h > 0 {
		s.keys = appendGrams(s.keys, s.rs[:min(len(s.rs), h)], 1, c.Opts.MaxN)
	}
	s.grams = countGrams(s.grams[:0], s.keys)
	s.feats, s.vals = s.feats[:0], s.vals[:0]
	var norm float64
	for _, g := range s.grams {
		tf := 1 + math.Log(float64(g.tf))
		f, ok := c.index[g.key]
		if !ok {
			// An unseen feature: weight as the rarest known.
			norm += tf * tf * float64(c.maxIDF()) * float64(c.maxIDF())
			continue
		}
		v := tf * float64(c.IDF[f])
		norm += v * v
		s.feats = append(s.feats, f)
		s.vals = append(s.vals, float32(v))
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for i := range s.vals {
			s.vals[i] *= inv
		}
	}
}

func (c *Classifier) maxIDF() float32 {
	if len(c.IDF) == 0 {
		return 1
	}
	return c.IDF[len(c.IDF)-1] // features are sorted by df descending
}

// scores computes the label scores of the vector in s.
func (c *Classifier) scoresOf(s *scratch, text string) []float64 {
	L := len(c.Labels)
	s.scores = s.scores[:0]
	for l := range L {
		s.scores = append(s.scores, float64(c.Bias[l]))
	}
	for i, f := range s.feats {
		v := s.vals[i]
		row := c.W[int(f)*L : int(f)*L+L]
		for l, w := range row {
			s.scores[l] += float64(v * w)
		}
	}
	if len(c.Rules) > 0 {
		c.ruleBonus(text, s.scores)
	}
	return s.scores
}

// RuleBonus is the score a label gains for each of its keywords found
// (at most three counted).
const RuleBonus = 0.5

func (c *Classifier) ruleBonus(text string, scores []float64) {
	n := Normalize(text)
	for l, name := range c.Labels {
		hits := 0
		for _, kw := range c.Rules[name] {
			if kw != "" && strings.Contains(n, Normalize(kw)) {
				hits++
			}
		}
		scores[l] += RuleBonus * float64(min(hits, 3))
	}
}

// Suggest returns the k most likely labels for text, best first.
func (c *Classifier) Suggest(text string, k int) []Suggestion {
	L := len(c.Labels)
	if L == 0 || k <= 0 {
		return nil
	}
	s := c.pool.Get().(*scratch)
	defer c.pool.Put(s)
	c.docVec(s, text)
	sc := c.scoresOf(s, text)
	order := make([]int, L)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return sc[order[a]] > sc[order[b]] })
	// softmax
	mx := sc[order[0]]
	var z float64
	for _, v := range sc {
		z += math.Exp(float64(c.Scale) * (v - mx))
	}
	k = min(k, L)
	out := make([]Suggestion, k)
	for i := range k {
		l := order[i]
		out[i] = Suggestion{Label: c.Labels[l], Confidence: math.Exp(float64(c.Scale)*(sc[l]-mx)) / z}
		out[i].Because = c.because(s, text, l)
	}
	return out
}

// Predict returns the best label only (no explanation, no allocation
// beyond the scratch space).
func (c *Classifier) Predict(text string) string {
	if len(c.Labels) == 0 {
		return ""
	}
	s := c.pool.Get().(*scratch)
	defer c.pool.Put(s)
	c.docVec(s, text)
	sc := c.scoresOf(s, text)
	best := 0
	for l, v := range sc {
		if v > sc[best] {
			best = l
		}
	}
	return c.Labels[best]
}

// because returns up to five words of the text that pushed label l up
// most: n-grams of two or three characters by contribution, skipping any
// that overlaps one already chosen, plus matched rule keywords first.
func (c *Classifier) because(s *scratch, text string, l int) []string {
	var out []string
	if kws := c.Rules[c.Labels[l]]; len(kws) > 0 {
		n := Normalize(text)
		for _, kw := range kws {
			if kw != "" && strings.Contains(n, Normalize(kw)) && len(out) < 3 {
				out = append(out, kw)
			}
		}
	}
	L := len(c.Labels)
	type contrib struct {
		key uint64
		v   float32
	}
	var cs []contrib
	for i, f := range s.feats {
		key := c.Keys[f]
		if gramLen(key) < 2 {
			continue
		}
		v := s.vals[i] * c.W[int(f)*L+l]
		if v > 0 {
			cs = append(cs, contrib{key, v})
		}
	}
	// Keep the 12 strongest: a partial selection, not a full sort.
	const keep = 12
	if len(cs) > keep {
		for i := range keep {
			m := i
			for j := i + 1; j < len(cs); j++ {
				if cs[j].v > cs[m].v {
					m = j
				}
			}
			cs[i], cs[m] = cs[m], cs[i]
		}
		cs = cs[:keep]
	} else {
		slices.SortFunc(cs, func(a, b contrib) int {
			switch {
			case a.v > b.v:
				return -1
			case a.v < b.v:
				return 1
			}
			return 0
		})
	}
	for _, ct := range cs {
		if len(out) >= 5 {
			break
		}
		w := strings.TrimSpace(GramString(ct.key))
		if len([]rune(w)) < 2 || strings.ContainsRune(w, '0') {
			continue
		}
		dup := false
		for _, o := range out {
			if strings.Contains(o, w) || strings.Contains(w, o) || overlaps(o, w) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, w)
		}
	}
	return out
}

// overlaps reports whether the end of a is the start of b or vice versa
// (two n-grams of one word: 油烟 and 烟扰).
func overlaps(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	return ra[len(ra)-1] == rb[0] || rb[len(rb)-1] == ra[0]
}

// Train fits a classifier on examples. It uses all CPUs.
func Train(examples []Example, opts TrainOptions) (*Classifier, error) {
	opts.defaults()
	if len(examples) == 0 {
		return nil, errors.New("textproc: no training examples")
	}
	c := &Classifier{Version: ModelVersion, Opts: opts, Trained: len(examples)}
	labelID := map[string]int{}
	for _, e := range examples {
		if _, ok := labelID[e.Label]; !ok {
			labelID[e.Label] = 0
		}
	}
	for l := range labelID {
		c.Labels = append(c.Labels, l)
	}
	sort.Strings(c.Labels)
	for i, l := range c.Labels {
		labelID[l] = i
	}
	L := len(c.Labels)
	y := make([]int, len(examples))
	for i, e := range examples {
		y[i] = labelID[e.Label]
	}

	// 1. n-gram counts per text, in parallel.
	docs := make([][]gram, len(examples))
	workers := runtime.GOMAXPROCS(0)
	parallel(len(examples), workers, func(lo, hi int) {
		var rs []rune
		var keys []uint64
		for i := lo; i < hi; i++ {
			rs = prepRunes(rs, examples[i].Text)
			keys = appendGrams(keys[:0], rs, 1, opts.MaxN)
			if opts.HeadRunes > 0 {
				keys = appendGrams(keys, rs[:min(len(rs), opts.HeadRunes)], 1, opts.MaxN)
			}
			docs[i] = countGrams(make([]gram, 0, len(keys)/2), keys)
		}
	})
	// 2. document frequencies; vocabulary by df, descending.
	df := make(map[uint64]int32, 1<<16)
	for _, d := range docs {
		for _, g := range d {
			df[g.key]++
		}
	}
	type kd struct {
		k  uint64
		df int32
	}
	var vocab []kd
	for k, n := range df {
		if int(n) >= opts.MinDF {
			vocab = append(vocab, kd{k, n})
		}
	}
	df = nil
	slices.SortFunc(vocab, func(a, b kd) int {
		if a.df != b.df {
			return int(b.df - a.df)
		}
		if a.k < b.k {
			return -1
		}
		return 1
	})
	if len(vocab) > opts.MaxFeatures {
		vocab = vocab[:opts.MaxFeatures]
	}
	F := len(vocab)
	c.Keys = make([]uint64, F)
	c.IDF = make([]float32, F)
	N := float64(len(examples))
	for i, v := range vocab {
		c.Keys[i] = v.k
		c.IDF[i] = float32(math.Log((1+N)/(1+float64(v.df))) + 1)
	}
	c.init()
	// 3. sparse matrix.
	X := make([]sparseVec, len(examples))
	parallel(len(examples), workers, func(lo, hi int) {
		s := &scratch{}
		for i := lo; i < hi; i++ {
			s.grams = docs[i]
			s.feats, s.vals = s.feats[:0], s.vals[:0]
			var norm float64
			for _, g := range s.grams {
				tf := 1 + math.Log(float64(g.tf))
				f, ok := c.index[g.key]
				if !ok {
					norm += tf * tf * float64(c.maxIDF()) * float64(c.maxIDF())
					continue
				}
				v := tf * float64(c.IDF[f])
				norm += v * v
				s.feats = append(s.feats, f)
				s.vals = append(s.vals, float32(v))
			}
			inv := float32(1 / math.Sqrt(max(norm, 1e-12)))
			x := sparseVec{idx: slices.Clone(s.feats), val: make([]float32, len(s.vals))}
			for j, v := range s.vals {
				x.val[j] = v * inv
			}
			X[i] = x
			docs[i] = nil
		}
	})
	// 4. one-vs-rest SVMs, labels in parallel.
	counts := make([]int, L)
	for _, l := range y {
		counts[l]++
	}
	svmW := make([][]float32, L)
	svmB := make([]float32, L)
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(workers, L) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				l := next
				next++
				mu.Unlock()
				if l >= L {
					return
				}
				cp := opts.C
				if !opts.Unbalanced {
					cp *= float64(len(y)) / float64(L*counts[l])
				}
				svmW[l], svmB[l] = trainSVM(X, y, l, F, cp, opts.C, opts.Epochs, opts.Seed+uint64(l))
			}
		}()
	}
	wg.Wait()
	// 5. complement naive Bayes over the same TF-IDF vectors.
	nbW, nbB := trainCNB(X, y, L, F)
	// 6. standardise both and combine, feature-major.
	ws, wn := scoreStd(X, svmW, svmB), scoreStd(X, nbW, nbB)
	a, b := 1-opts.NBWeight, opts.NBWeight
	c.W = make([]float32, F*L)
	c.Bias = make([]float32, L)
	for l := range L {
		for f := range F {
			c.W[f*L+l] = float32(a*float64(svmW[l][f])/ws + b*float64(nbW[l][f])/wn)
		}
		c.Bias[l] = float32(a*float64(svmB[l])/ws + b*float64(nbB[l])/wn)
	}
	// 7. softmax temperature by log-loss on the training data, damped.
	if opts.Temperature > 0 {
		c.Scale = float32(opts.Temperature)
	} else {
		c.Scale = fitScale(c, X, y) / 2
	}
	return c, nil
}

type sparseVec struct {
	idx []int32
	val []float32
}

func parallel(n, workers int, fn func(lo, hi int)) {
	if workers < 1 {
		workers = 1
	}
	chunk := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, min(n, lo+chunk))
	}
	wg.Wait()
}

// trainSVM fits a binary L2-regularised squared-hinge SVM (label l against
// the rest) by dual coordinate descent with shrinking (Hsieh et al. 2008,
// as LIBLINEAR), with a bias feature of value 1.
func trainSVM(X []sparseVec, y []int, l, F int, Cpos, Cneg float64, epochs int, seed uint64) ([]float32, float32) {
	n := len(X)
	w := make([]float64, F)
	var bias float64
	alpha := make([]float64, n)
	qd := make([]float64, n)
	sign := make([]float64, n)
	D := make([]float64, n)
	for i, x := range X {
		var q float64
		for _, v := range x.val {
			q += float64(v) * float64(v)
		}
		sign[i], D[i] = -1, 1/(2*Cneg)
		if y[i] == l {
			sign[i], D[i] = 1, 1/(2*Cpos)
		}
		qd[i] = q + 1 + D[i]
	}
	active := make([]int, n)
	for i := range active {
		active[i] = i
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	pgMaxOld := math.Inf(1)
	const eps = 0.1
	for ep := 0; ep < epochs; ep++ {
		r.Shuffle(len(active), func(a, b int) { active[a], active[b] = active[b], active[a] })
		pgMax, pgMin := math.Inf(-1), math.Inf(1)
		for s := 0; s < len(active); s++ {
			i := active[s]
			x := X[i]
			g := bias
			for j, f := range x.idx {
				g += w[f] * float64(x.val[j])
			}
			g = g*sign[i] - 1 + D[i]*alpha[i]
			pg := 0.0
			switch {
			case alpha[i] == 0:
				if g > pgMaxOld {
					// shrink: stays at zero
					active[s] = active[len(active)-1]
					active = active[:len(active)-1]
					s--
					continue
				}
				if g < 0 {
					pg = g
				}
			default:
				pg = g
			}
			pgMax, pgMin = max(pgMax, pg), min(pgMin, pg)
			if math.Abs(pg) > 1e-12 {
				old := alpha[i]
				alpha[i] = max(alpha[i]-g/qd[i], 0)
				d := (alpha[i] - old) * sign[i]
				for j, f := range x.idx {
					w[f] += d * float64(x.val[j])
				}
				bias += d
			}
		}
		if pgMax-pgMin <= eps {
			if len(active) == n {
				break
			}
			// check all once more without shrinking
			active = active[:n]
			for i := range active {
				active[i] = i
			}
			pgMaxOld = math.Inf(1)
			continue
		}
		pgMaxOld = pgMax
		if pgMaxOld <= 0 {
			pgMaxOld = math.Inf(1)
		}
	}
	out := make([]float32, F)
	for f, v := range w {
		out[f] = float32(v)
	}
	return out, float32(bias)
}

// trainCNB fits complement naive Bayes (Rennie et al. 2003) with
// normalised weights over TF-IDF vectors; scores are negated complement
// log-likelihoods, so higher is better.
func trainCNB(X []sparseVec, y []int, L, F int) ([][]float32, []float32) {
	total := make([]float64, F)
	per := make([][]float64, L)
	for l := range per {
		per[l] = make([]float64, F)
	}
	for i, x := range X {
		for j, f := range x.idx {
			v := float64(x.val[j])
			total[f] += v
			per[y[i]][f] += v
		}
	}
	var all float64
	for _, v := range total {
		all += v
	}
	const alpha = 0.3
	W := make([][]float32, L)
	B := make([]float32, L)
	for l := range L {
		var sum float64
		for _, v := range per[l] {
			sum += v
		}
		den := all - sum + alpha*float64(F)
		w := make([]float64, F)
		var norm float64
		for f := range F {
			w[f] = math.Log((total[f] - per[l][f] + alpha) / den)
			norm += math.Abs(w[f])
		}
		W[l] = make([]float32, F)
		for f := range F {
			W[l][f] = float32(-w[f] / norm * float64(F))
		}
	}
	return W, B
}

// scoreStd returns the standard deviation of the scores of model (W, B)
// about each text's mean score over the labels, over a sample of X, so
// that two models can be mixed on one scale.
func scoreStd(X []sparseVec, W [][]float32, B []float32) float64 {
	var ss float64
	var n int
	step := max(1, len(X)/2000)
	sc := make([]float64, len(W))
	for i := 0; i < len(X); i += step {
		x := X[i]
		var m float64
		for l := range W {
			v := float64(B[l])
			for j, f := range x.idx {
				v += float64(W[l][f]) * float64(x.val[j])
			}
			sc[l] = v
			m += v
		}
		m /= float64(len(W))
		for _, v := range sc {
			ss += (v - m) * (v - m)
			n++
		}
	}
	return math.Sqrt(max(ss/float64(n), 1e-12))
}

// fitScale picks the softmax scale that minimises the log-loss of the
// combined model on (a sample of) the training data.
func fitScale(c *Classifier, X []sparseVec, y []int) float32 {
	L := len(c.Labels)
	step := max(1, len(X)/3000)
	var rows [][]float64
	var ys []int
	for i := 0; i < len(X); i += step {
		sc := make([]float64, L)
		for l := range L {
			sc[l] = float64(c.Bias[l])
		}
		for j, f := range X[i].idx {
			v := float64(X[i].val[j])
			for l := range L {
				sc[l] += v * float64(c.W[int(f)*L+l])
			}
		}
		rows = append(rows, sc)
		ys = append(ys, y[i])
	}
	best, bestLoss := 1.0, math.Inf(1)
	for s := 0.25; s <= 64; s *= 1.25 {
		var loss float64
		for i, sc := range rows {
			mx := slices.Max(sc)
			var z float64
			for _, v := range sc {
				z += math.Exp(s * (v - mx))
			}
			loss += math.Log(z) - s*(sc[ys[i]]-mx)
		}
		if loss < bestLoss {
			best, bestLoss = s, loss
		}
	}
	return float32(best)
}

// modelMagic starts every serialised model.
const modelMagic = "tongban-route-model\n"

// Save writes the classifier, gzip-compressed gob after a magic line.
func (c *Classifier) Save(w io.Writer) error {
	if _, err := io.WriteString(w, modelMagic); err != nil {
		return err
	}
	zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err := gob.NewEncoder(zw).Encode(c); err != nil {
		return err
	}
	return zw.Close()
}

// Load reads a classifier written by Save.
func Load(r io.Reader) (*Classifier, error) {
	br := bufio.NewReader(r)
	magic := make([]byte, len(modelMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != modelMagic {
		return nil, errors.New("textproc: not a tongban routing model")
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, err
	}
	c := &Classifier{}
	if err := gob.NewDecoder(zr).Decode(c); err != nil {
		return nil, fmt.Errorf("textproc: reading model: %w", err)
	}
	if c.Version != ModelVersion {
		return nil, fmt.Errorf("textproc: model version %d, this build reads %d", c.Version, ModelVersion)
	}
	L := len(c.Labels)
	if len(c.IDF) != len(c.Keys) || len(c.W) != len(c.Keys)*L || len(c.Bias) != L {
		return nil, errors.New("textproc: model is inconsistent")
	}
	c.init()
	return c, nil
}
