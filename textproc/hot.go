package textproc

import (
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// HotOptions tune hot-issue clustering. The zero value means the defaults.
type HotOptions struct {
	// Threshold is the cosine similarity (TF-IDF over character bigrams,
	// titles counted three times) a request needs with a cluster's most
	// similar member to join it; default 0.15.
	Threshold float64
	// Radius in metres within which two locations count as one place; a
	// request at the place of a cluster member needs only Threshold·0.7.
	Radius float64
	// Now is the moment recency is measured from; default the newest request.
	Now time.Time
	// HalfLife of recency; default 7 days.
	HalfLife time.Duration
	// MinCount is the smallest cluster reported; default 2.
	MinCount int
	// Limit is the number of hot issues returned; default 20.
	Limit int
}

// Hotspot is one hot issue (热点): similar requests of a period.
type Hotspot struct {
	Title      string    `json:"title"`
	Keywords   []string  `json:"keywords"`
	Place      string    `json:"place,omitempty"`
	Heat       float64   `json:"heat"`
	Count      int       `json:"count"`
	Requesters int       `json:"requesters"`
	Supporters int       `json:"supporters"`
	First      time.Time `json:"first"`
	Last       time.Time `json:"last"`
	Cases      []int64   `json:"cases"`
}

// Heat is the heat index of a cluster:
//
//	people  = R + ¼·(N − R) + √S
//	heat    = people · (0.75 + 0.25·recency) · (1 + 0.25·growth)
//
// where N is the number of requests, R the number of distinct requesters
// (a request without a requester counts as its own), S the supporters
// (likes, 点赞) of all its requests, recency = 2^(−age/halfLife) with age
// the time from the cluster's last request to now, and growth the share
// of its requests made in the last quarter of its time span beyond the
// quarter expected (0..1). So heat counts people drawn to the matter — a
// requester fully, a repeated request by the same person a quarter, and
// supporters by their square root, since a like costs one click: a
// hundred likes weigh as ten people writing in, and one viral post does
// not outweigh dozens of requesters — and a recent or growing cluster gains up to a quarter
// each; an old one keeps three quarters. Heat never falls below the
// people count times 0.75.
func Heat(n, requesters, supporters int, first, last, now time.Time, times []time.Time, halfLife time.Duration) float64 {
	people := float64(requesters) + 0.25*float64(n-requesters) + math.Sqrt(float64(max(supporters, 0)))
	age := now.Sub(last)
	rec := 1.0
	if age > 0 && halfLife > 0 {
		rec = math.Exp2(-float64(age) / float64(halfLife))
	}
	growth := 0.0
	if span := last.Sub(first); span > 0 && len(times) >= 4 {
		cut := last.Add(-span / 4)
		k := 0
		for _, t := range times {
			if !t.Before(cut) {
				k++
			}
		}
		growth = min(1, max(0, (float64(k)/float64(len(times))-0.25)/0.75))
	}
	return people * (0.75 + 0.25*rec) * (1 + 0.25*growth)
}

type hotVec struct {
	keys []uint64
	vals []float32
}

func (a *hotVec) dot(b *hotVec) float64 {
	var s float64
	i, j := 0, 0
	for i < len(a.keys) && j < len(b.keys) {
		switch {
		case a.keys[i] < b.keys[j]:
			i++
		case a.keys[i] > b.keys[j]:
			j++
		default:
			s += float64(a.vals[i]) * float64(b.vals[j])
			i++
			j++
		}
	}
	return s
}

// Hotspots clusters the docs (requests of one period) and returns the hot
// issues, hottest first. Clustering is greedy and single-pass in time
// order: a request joins the cluster of its most similar earlier request
// if the similarity reaches the threshold, else starts a cluster;
// candidates come from an inverted index of each request's eight
// most weighty bigrams.
func Hotspots(docs []Doc, opts HotOptions) []Hotspot {
	if opts.Threshold <= 0 {
		opts.Threshold = 0.15
	}
	if opts.HalfLife <= 0 {
		opts.HalfLife = 7 * 24 * time.Hour
	}
	if opts.MinCount <= 0 {
		opts.MinCount = 2
	}
	if opts.Limit <= 0 {
		opts.Limit = 20
	}
	order := make([]int, len(docs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return docs[order[a]].At.Before(docs[order[b]].At) })
	if opts.Now.IsZero() {
		for _, d := range docs {
			if d.At.After(opts.Now) {
				opts.Now = d.At
			}
		}
	}
	// TF-IDF over Han bigrams and words; the title three times.
	counts := make([][]gram, len(docs))
	df := map[uint64]int{}
	var rs []rune
	var keys []uint64
	for i := range docs {
		rs = prepRunes(rs, docs[i].Title)
		keys = appendGrams(keys[:0], rs, 2, 2)
		keys = append(keys, keys...)
		keys = append(keys, keys[:len(keys)/2]...)
		rs = prepRunes(rs, docs[i].Body)
		keys = appendGrams(keys, rs, 2, 2)
		counts[i] = countGrams(nil, keys)
		for _, g := range counts[i] {
			df[g.key]++
		}
	}
	N := float64(len(docs))
	vecs := make([]hotVec, len(docs))
	tops := make([][]uint64, len(docs))
	for i, cs := range counts {
		v := hotVec{keys: make([]uint64, 0, len(cs)), vals: make([]float32, 0, len(cs))}
		var norm float64
		for _, g := range cs {
			if strings.ContainsRune(GramString(g.key), ' ') || strings.ContainsRune(GramString(g.key), '0') {
				continue
			}
			w := (1 + math.Log(float64(g.tf))) * math.Log((1+N)/(1+float64(df[g.key])))
			v.keys = append(v.keys, g.key)
			v.vals = append(v.vals, float32(w))
			norm += w * w
		}
		if norm > 0 {
			inv := float32(1 / math.Sqrt(norm))
			for j := range v.vals {
				v.vals[j] *= inv
			}
		}
		vecs[i] = v
		idx := make([]int, len(v.keys))
		for j := range idx {
			idx[j] = j
		}
		sort.Slice(idx, func(a, b int) bool { return v.vals[idx[a]] > v.vals[idx[b]] })
		for _, j := range idx[:min(8, len(idx))] {
			tops[i] = append(tops[i], v.keys[j])
		}
	}
	// single pass
	cluster := make([]int, len(docs))
	var members [][]int
	posting := map[uint64][]int{}
	seen := map[int]bool{}
	for _, i := range order {
		clear(seen)
		best, bestSim := -1, 0.0
		for _, k := range tops[i] {
			p := posting[k]
			for _, j := range p[max(0, len(p)-300):] {
				if seen[j] {
					continue
				}
				seen[j] = true
				s := vecs[i].dot(&vecs[j])
				th := opts.Threshold
				if PlaceScore(&docs[i], &docs[j], opts.Radius) >= 1 {
					th *= 0.7
				}
				if s >= th && s > bestSim {
					best, bestSim = j, s
				}
			}
		}
		if best >= 0 {
			cluster[i] = cluster[best]
			members[cluster[i]] = append(members[cluster[i]], i)
		} else {
			cluster[i] = len(members)
			members = append(members, []int{i})
		}
		for _, k := range tops[i] {
			posting[k] = append(posting[k], i)
		}
	}
	var out []Hotspot
	for _, m := range members {
		if len(m) < opts.MinCount {
			continue
		}
		out = append(out, summarise(docs, vecs, m, opts))
	}
	slices.SortStableFunc(out, func(a, b Hotspot) int {
		switch {
		case a.Heat > b.Heat:
			return -1
		case a.Heat < b.Heat:
			return 1
		}
		return 0
	})
	if len(out) > opts.Limit {
		out = out[:opts.Limit]
	}
	return out
}

func summarise(docs []Doc, vecs []hotVec, m []int, opts HotOptions) Hotspot {
	h := Hotspot{First: docs[m[0]].At, Last: docs[m[0]].At}
	who := map[string]bool{}
	places := map[string]int{}
	var times []time.Time
	centroid := map[uint64]float64{}
	for _, i := range m {
		d := &docs[i]
		h.Cases = append(h.Cases, d.ID)
		h.Supporters += d.Supporters
		if d.Requester == "" {
			h.Requesters++
		} else if !who[d.Requester] {
			who[d.Requester] = true
			h.Requesters++
		}
		if d.At.Before(h.First) {
			h.First = d.At
		}
		if d.At.After(h.Last) {
			h.Last = d.At
		}
		times = append(times, d.At)
		if d.Address != "" {
			places[d.Address]++
		}
		for j, k := range vecs[i].keys {
			centroid[k] += float64(vecs[i].vals[j])
		}
	}
	h.Count = len(m)
	slices.Sort(h.Cases)
	h.Heat = Heat(h.Count, h.Requesters, h.Supporters, h.First, h.Last, opts.Now, times, opts.HalfLife)
	pn := 0
	for p, n := range places {
		if n > pn || n == pn && p < h.Place {
			h.Place, pn = p, n
		}
	}
	// The title of the member closest to the centroid.
	bestSim, best := -1.0, m[0]
	for _, i := range m {
		var s float64
		for j, k := range vecs[i].keys {
			s += float64(vecs[i].vals[j]) * centroid[k]
		}
		if s > bestSim {
			bestSim, best = s, i
		}
	}
	h.Title = docs[best].Title
	if h.Title == "" {
		h.Title = string([]rune(docs[best].Body)[:min(30, len([]rune(docs[best].Body)))])
	}
	// Keywords: the heaviest centroid bigrams, joined where they chain.
	type kw struct {
		k uint64
		w float64
	}
	var ks []kw
	for k, w := range centroid {
		ks = append(ks, kw{k, w})
	}
	slices.SortFunc(ks, func(a, b kw) int {
		switch {
		case a.w > b.w:
			return -1
		case a.w < b.w:
			return 1
		case a.k < b.k:
			return -1
		case a.k > b.k:
			return 1
		}
		return 0
	})
	for _, k := range ks {
		if len(h.Keywords) >= 5 {
			break
		}
		s := GramString(k.k)
		rs := []rune(s)
		if len(rs) != 2 {
			continue
		}
		a, b := string(rs[0]), string(rs[1])
		merged := false
		for i, o := range h.Keywords {
			switch {
			case strings.Contains(o, s):
				merged = true
			case strings.HasSuffix(o, a):
				h.Keywords[i] = o + b
				merged = true
			case strings.HasPrefix(o, b):
				h.Keywords[i] = a + o
				merged = true
			}
			if merged {
				break
			}
		}
		if !merged {
			h.Keywords = append(h.Keywords, s)
		}
	}
	return h
}
