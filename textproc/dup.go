package textproc

import (
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Near-duplicates (并单).
//
// A text's fingerprint is a MinHash signature of SigSize values over its
// character-bigram shingles (an edit changes only two of them), taken after normalisation with every
// separator dropped (so that punctuation and spacing do not count). The
// fraction of equal values estimates the Jaccard similarity of the two
// shingle sets (standard error ≤ 0.075 with 48 values). An Index finds
// candidates by locality-sensitive hashing — the signature cut into
// SigBands bands of SigRows values, two texts being candidates when any
// band is equal (probability 1-(1-J⁴)¹²: 0.54 at J=0.5, 0.95 at 0.7,
// 0.996 at 0.8) — and, when a place is given, by the same address or a location
// within the index's radius; then every candidate is scored exactly.

// Signature sizes.
const (
	SigBands = 12
	SigRows  = 4
	SigSize  = SigBands * SigRows
)

// Signature is the MinHash fingerprint of a text.
type Signature [SigSize]uint32

var sigSeeds = func() (s [SigSize]uint64) {
	x := uint64(0x9E3779B97F4A7C15)
	for i := range s {
		x = mix64(x + uint64(i)*0xBF58476D1CE4E5B9)
		s[i] = x
	}
	return
}()

func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	return x
}

// shingles returns the hashed character-bigram shingles of text, appended
// to dst; a one-character text gives that character.
func shingles(dst []uint64, rs []rune, text string) ([]uint64, []rune) {
	rs = rs[:0]
	for _, r := range text {
		r = NormRune(r)
		if runeClass(r) != clsOther {
			rs = append(rs, r)
		}
	}
	if len(rs) == 1 {
		var k uint64
		for _, r := range rs {
			k = k<<21 | uint64(r)
		}
		return append(dst, mix64(k)), rs
	}
	for i := 0; i+2 <= len(rs); i++ {
		k := uint64(rs[i])<<21 | uint64(rs[i+1])
		dst = append(dst, mix64(k))
	}
	return dst, rs
}

var shinglePool = sync.Pool{New: func() any { return &shingleBuf{} }}

type shingleBuf struct {
	h  []uint64
	rs []rune
}

// Sign returns the MinHash signature of text. An empty text has the
// all-ones signature, equal to no other.
func Sign(text string) Signature {
	b := shinglePool.Get().(*shingleBuf)
	defer shinglePool.Put(b)
	b.h, b.rs = shingles(b.h[:0], b.rs, text)
	var s Signature
	for i := range s {
		s[i] = math.MaxUint32
	}
	if len(b.h) == 0 {
		return s
	}
	slices.Sort(b.h)
	b.h = slices.Compact(b.h)
	for _, h := range b.h {
		for i := range s {
			v := uint32(mix64(h^sigSeeds[i]) >> 32)
			if v < s[i] {
				s[i] = v
			}
		}
	}
	return s
}

// Similarity estimates the Jaccard similarity of the texts of two
// signatures.
func (s *Signature) Similarity(o *Signature) float64 {
	n := 0
	for i := range s {
		if s[i] == o[i] && s[i] != math.MaxUint32 {
			n++
		}
	}
	return float64(n) / SigSize
}

// Doc is a case as the duplicate index and the hot-issue clustering see it.
type Doc struct {
	ID      int64
	Title   string
	Body    string
	Address string
	Lat     float64 // with Long: the location; both 0 when unknown
	Long    float64
	At      time.Time
	// For hot issues: who asked and how many supported it.
	Requester  string
	Supporters int
}

func (d *Doc) text() string { return d.Title + "\n" + d.Body }

func (d *Doc) hasPoint() bool { return d.Lat != 0 || d.Long != 0 }

// NormAddress normalises an address for equality: NormRune, separators
// removed.
func NormAddress(a string) string {
	var b strings.Builder
	for _, r := range a {
		r = NormRune(r)
		if runeClass(r) != clsOther {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// DistanceMetres is the great-circle distance between two points.
func DistanceMetres(lat1, long1, lat2, long2 float64) float64 {
	const R = 6371000
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (long2-long1)*math.Pi/180
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * R * math.Asin(math.Sqrt(min(1, a)))
}

// PlaceScore is 1 for the same (non-empty) address or points within
// radius metres of each other, falling linearly to 0 at three times the
// radius; 0 when either place is unknown.
func PlaceScore(a, b *Doc, radius float64) float64 {
	if a.Address != "" && b.Address != "" && NormAddress(a.Address) == NormAddress(b.Address) {
		return 1
	}
	if !a.hasPoint() || !b.hasPoint() || radius <= 0 {
		return 0
	}
	d := DistanceMetres(a.Lat, a.Long, b.Lat, b.Long)
	switch {
	case d <= radius:
		return 1
	case d >= 3*radius:
		return 0
	}
	return (3*radius - d) / (2 * radius)
}

// DupScore combines the text similarity t (estimated Jaccard of bigram
// shingles) with the place score p: min(1, t·(1+p)) — so texts that share
// half their shingles are probably the same matter anywhere, and texts at
// the same place need share only a quarter. 0.5 and above means
// "probably the same matter".
func DupScore(t, p float64) float64 {
	return min(1, t*(1+p))
}

// Candidate is a possible duplicate found by an Index.
type Candidate struct {
	ID    int64
	Score float64 // DupScore, 0..1
	Text  float64 // the text similarity alone
	Place float64 // the place score alone
}

// Index finds near-duplicates among many cases. It is safe for
// concurrent use; Add and Remove take a write lock, Similar a read lock.
type Index struct {
	// Radius in metres within which two locations count as the same place.
	Radius float64
	// MaxBucket caps how many entries of one LSH bucket are examined.
	MaxBucket int

	mu    sync.RWMutex
	ids   []int64
	sigs  []Signature
	at    []int64 // unix seconds
	addr  []uint64
	lat   []float32
	long  []float32
	alive []bool
	byID  map[int64]int32
	band  [SigBands]map[uint32]int32 // band hash → latest entry
	next  [SigBands][]int32          // entry → previous entry of its bucket, -1 at the end
	addrH map[uint64]int32
	addrN []int32
	cell  map[uint64]int32
	cellN []int32
}

// NewIndex returns an empty index; radius is in metres (default 100).
func NewIndex(radius float64) *Index {
	if radius <= 0 {
		radius = 100
	}
	ix := &Index{Radius: radius, MaxBucket: 200, byID: map[int64]int32{},
		addrH: map[uint64]int32{}, cell: map[uint64]int32{}}
	for b := range ix.band {
		ix.band[b] = map[uint32]int32{}
	}
	return ix
}

// Len returns the number of entries, removed ones included.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.ids)
}

func bandHash(s *Signature, b int) uint32 {
	h := uint64(b) * 0x9E3779B97F4A7C15
	for _, v := range s[b*SigRows : (b+1)*SigRows] {
		h = mix64(h ^ uint64(v))
	}
	return uint32(h)
}

func addrHash(a string) uint64 {
	n := NormAddress(a)
	if n == "" {
		return 0
	}
	h := uint64(14695981039346656037)
	for i := 0; i < len(n); i++ {
		h ^= uint64(n[i])
		h *= 1099511628211
	}
	return h | 1
}

// cellOf returns the grid cell (of about radius metres) of a point.
func (ix *Index) cellOf(lat, long float64, dx, dy int) uint64 {
	size := ix.Radius / 111320 // degrees of latitude
	y := int64(math.Floor(lat/size)) + int64(dy)
	x := int64(math.Floor(long*math.Cos(lat*math.Pi/180)/size)) + int64(dx)
	return uint64(y)<<32 ^ uint64(uint32(x))
}

// Add indexes a case (replacing an earlier entry with the same ID).
func (ix *Index) Add(d *Doc) {
	ix.AddSigned(d, Sign(d.text()))
}

// AddSigned indexes a case whose signature is already known.
func (ix *Index) AddSigned(d *Doc, sig Signature) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if old, ok := ix.byID[d.ID]; ok {
		ix.alive[old] = false
	}
	e := int32(len(ix.ids))
	ix.byID[d.ID] = e
	ix.ids = append(ix.ids, d.ID)
	ix.sigs = append(ix.sigs, sig)
	ix.at = append(ix.at, d.At.Unix())
	ix.alive = append(ix.alive, true)
	ix.lat = append(ix.lat, float32(d.Lat))
	ix.long = append(ix.long, float32(d.Long))
	for b := range SigBands {
		h := bandHash(&sig, b)
		prev, ok := ix.band[b][h]
		if !ok {
			prev = -1
		}
		ix.next[b] = append(ix.next[b], prev)
		ix.band[b][h] = e
	}
	ah := addrHash(d.Address)
	ix.addr = append(ix.addr, ah)
	prev := int32(-1)
	if ah != 0 {
		if p, ok := ix.addrH[ah]; ok {
			prev = p
		}
		ix.addrH[ah] = e
	}
	ix.addrN = append(ix.addrN, prev)
	prev = -1
	if d.hasPoint() {
		c := ix.cellOf(d.Lat, d.Long, 0, 0)
		if p, ok := ix.cell[c]; ok {
			prev = p
		}
		ix.cell[c] = e
	}
	ix.cellN = append(ix.cellN, prev)
}

// Remove takes a case out of the index (closed, merged or deleted).
func (ix *Index) Remove(id int64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if e, ok := ix.byID[id]; ok {
		ix.alive[e] = false
		delete(ix.byID, id)
	}
}

// Query says what to look for.
type Query struct {
	Doc
	From, To time.Time // only cases in this period (zero: any)
	Limit    int       // at most this many results (default 10)
	MinScore float64   // drop candidates scoring less (default 0.3)
}

// Similar returns the indexed cases most like q, best first (q's own ID
// excluded).
func (ix *Index) Similar(q *Query) []Candidate {
	return ix.SimilarSigned(q, Sign(q.text()))
}

// SimilarSigned is Similar with the signature already computed.
func (ix *Index) SimilarSigned(q *Query, sig Signature) []Candidate {
	limit := q.Limit
	if limit <= 0 {
		limit = 10
	}
	minScore := q.MinScore
	if minScore <= 0 {
		minScore = 0.3
	}
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.From.IsZero() {
		from = q.From.Unix()
	}
	if !q.To.IsZero() {
		to = q.To.Unix()
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	// Gather candidate entries, then dedupe by sorting: cheaper than a
	// set when buckets are crowded.
	var cand []int32
	walk := func(e int32, next []int32) {
		for n := 0; e >= 0 && n < ix.MaxBucket; n++ {
			cand = append(cand, e)
			e = next[e]
		}
	}
	for b := range SigBands {
		if e, ok := ix.band[b][bandHash(&sig, b)]; ok {
			walk(e, ix.next[b])
		}
	}
	ah := addrHash(q.Address)
	if ah != 0 {
		if e, ok := ix.addrH[ah]; ok {
			walk(e, ix.addrN)
		}
	}
	if q.hasPoint() {
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				if e, ok := ix.cell[ix.cellOf(q.Lat, q.Long, dx, dy)]; ok {
					walk(e, ix.cellN)
				}
			}
		}
	}
	slices.Sort(cand)
	cand = slices.Compact(cand)
	var out []Candidate
	for _, e := range cand {
		if !ix.alive[e] || ix.ids[e] == q.ID || ix.at[e] < from || ix.at[e] > to {
			continue
		}
		t := sig.Similarity(&ix.sigs[e])
		if t*2 < minScore { // even a perfect place cannot lift it
			continue
		}
		p := ix.placeScore(e, ah, &q.Doc)
		if sc := DupScore(t, p); sc >= minScore {
			out = append(out, Candidate{ID: ix.ids[e], Score: sc, Text: t, Place: p})
		}
	}
	slices.SortFunc(out, func(a, b Candidate) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		case a.ID > b.ID: // later first on ties
			return -1
		case a.ID < b.ID:
			return 1
		}
		return 0
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

func (ix *Index) placeScore(e int32, ah uint64, q *Doc) float64 {
	if ah != 0 && ah == ix.addr[e] {
		return 1
	}
	if !q.hasPoint() || ix.lat[e] == 0 && ix.long[e] == 0 {
		return 0
	}
	d := DistanceMetres(q.Lat, q.Long, float64(ix.lat[e]), float64(ix.long[e]))
	switch {
	case d <= ix.Radius:
		return 1
	case d >= 3*ix.Radius:
		return 0
	}
	return (3*ix.Radius - d) / (2 * ix.Radius)
}
