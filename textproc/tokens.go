// Package textproc is tongban's text intelligence, in pure Go and without
// any data loaded at run time: search tokens for Chinese and mixed text,
// highlighted snippets, the routing classifier (training, evaluation,
// serialisation), near-duplicate scoring with an LSH index, and hot-issue
// clustering.
//
// Segmentation is by character bigrams: a run of Han characters
// 噪音扰民 is indexed as 噪音 音扰 扰民 (plus its last character alone, so
// that one-character queries can be answered), ASCII letters and digits
// as lower-case words. A query is cut the same way and every bigram of a
// term must occur, adjacent and in order, so that 油烟 finds exactly the
// texts containing 油烟 — recall equals a substring search, which is what
// a person expects of a two-character query, while a dictionary segmenter
// misses 油烟 inside 油烟机 or 厨房油烟 when it cuts the text differently.
package textproc

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// NormRune maps a rune to its search form: full-width ASCII to
// half-width, the ideographic space to a space, letters to lower case.
// It is a one-to-one map on runes, so positions in normalised text are
// positions in the original.
func NormRune(r rune) rune {
	if r >= 0x4E00 && r <= 0x9FFF { // common Han: unchanged, the usual case
		return r
	}
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		r -= 0xFEE0
	case r == 0x3000:
		return ' '
	}
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(r)
}

// Normalize returns s with every rune passed through NormRune.
func Normalize(s string) string {
	return strings.Map(NormRune, s)
}

// class of a normalised rune.
const (
	clsOther = iota // punctuation, space, symbols: separators
	clsHan          // CJK ideographs (and kana, hangul): bigrammed
	clsWord         // ASCII letters and digits, other letters: words
)

func runeClass(r rune) int {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			return clsWord
		}
		return clsOther
	}
	if isHan(r) {
		return clsHan
	}
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		return clsWord
	}
	return clsOther
}

func isHan(r rune) bool {
	return r >= 0x3400 && r <= 0x9FFF || r >= 0xF900 && r <= 0xFAFF ||
		r >= 0x20000 && r <= 0x3134F || r >= 0x3040 && r <= 0x30FF || r >= 0xAC00 && r <= 0xD7AF
}

// span is one run of a class in normalised runes [start, end).
type span struct {
	start, end int
	han        bool
}

// runs splits normalised runes into Han runs and word runs.
func runs(rs []rune) []span {
	var out []span
	i := 0
	for i < len(rs) {
		c := runeClass(rs[i])
		if c == clsOther {
			i++
			continue
		}
		j := i + 1
		for j < len(rs) && runeClass(rs[j]) == c {
			j++
		}
		out = append(out, span{i, j, c == clsHan})
		i = j
	}
	return out
}

// AppendTokens appends the index tokens of text to dst: for each Han run,
// its bigrams in order followed by its last character alone; for each
// ASCII/other-letter run, the lower-case word (cut at 32 runes).
func AppendTokens(dst []string, text string) []string {
	rs := []rune(Normalize(text))
	for _, sp := range runs(rs) {
		if !sp.han {
			e := min(sp.end, sp.start+32)
			dst = append(dst, string(rs[sp.start:e]))
			continue
		}
		for i := sp.start; i+1 < sp.end; i++ {
			dst = append(dst, string(rs[i:i+2]))
		}
		dst = append(dst, string(rs[sp.end-1]))
	}
	return dst
}

// Tokens returns the index tokens of text (see AppendTokens).
func Tokens(text string) []string { return AppendTokens(nil, text) }

// IndexText returns the tokens of the given fields joined by spaces: the
// pre-segmented text to store in an FTS5 table (tokenizer unicode61) or to
// pass to PostgreSQL's to_tsvector('simple', …). Fields are separated by
// a newline so that no bigram spans two fields.
func IndexText(fields ...string) string {
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteByte('\n')
		}
		for j, t := range Tokens(f) {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(t)
		}
	}
	return b.String()
}

// Term is one query term: a phrase of index tokens that must occur in
// order and adjacent. A term that is a single Han character is a Prefix
// term: it matches any bigram starting with it or the character alone
// (every occurrence of a character in indexed text is one or the other).
type Term struct {
	Text   string   // the normalised term as typed
	Tokens []string // its index tokens, in order
	Prefix bool
}

// ParseQuery cuts a search query into terms: at spaces and punctuation,
// and between Han and ASCII runs. A Han term of n ≥ 2 characters becomes
// the phrase of its n-1 bigrams.
func ParseQuery(q string) []Term {
	rs := []rune(Normalize(q))
	var out []Term
	for _, sp := range runs(rs) {
		s := string(rs[sp.start:sp.end])
		switch {
		case !sp.han:
			e := min(sp.end, sp.start+32)
			out = append(out, Term{Text: s, Tokens: []string{string(rs[sp.start:e])}})
		case sp.end-sp.start == 1:
			out = append(out, Term{Text: s, Tokens: []string{s}, Prefix: true})
		default:
			t := Term{Text: s}
			for i := sp.start; i+1 < sp.end; i++ {
				t.Tokens = append(t.Tokens, string(rs[i:i+2]))
			}
			out = append(out, t)
		}
	}
	return out
}

// FTS5Query returns a MATCH expression for an FTS5 table over IndexText
// (tokenizer unicode61) in which every term of q must occur; "" if q has
// no terms. Tokens contain only letters and digits and are quoted, so the
// expression cannot carry FTS5 syntax from the user.
func FTS5Query(q string) string {
	var parts []string
	for _, t := range ParseQuery(q) {
		if t.Prefix {
			parts = append(parts, `("`+t.Tokens[0]+`"* OR "`+t.Tokens[0]+`")`)
			continue
		}
		parts = append(parts, `"`+strings.Join(t.Tokens, " ")+`"`)
	}
	return strings.Join(parts, " AND ")
}

// TSQuery returns a query for PostgreSQL's to_tsquery('simple', $1) over
// to_tsvector('simple', IndexText(…)) in which every term of q must
// occur: bigram phrases joined with <->, prefix terms as tok:* | tok.
// Tokens contain only letters and digits and are quoted. "" if q has no
// terms.
func TSQuery(q string) string {
	var parts []string
	for _, t := range ParseQuery(q) {
		if t.Prefix {
			parts = append(parts, "('"+t.Tokens[0]+"':*)")
			continue
		}
		qs := make([]string, len(t.Tokens))
		for i, tok := range t.Tokens {
			qs[i] = "'" + tok + "'"
		}
		p := strings.Join(qs, " <-> ")
		if len(qs) > 1 {
			p = "(" + p + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " & ")
}

// Match reports whether text matches every term of the query exactly as
// the FTS5 and tsvector queries above match IndexText(text): a Han term's
// bigrams adjacent and in order, a one-character term as a prefix, an
// ASCII term as a whole word.
func Match(text string, terms []Term) bool {
	if len(terms) == 0 {
		return false
	}
	toks := Tokens(text)
	for _, t := range terms {
		if !matchTerm(toks, t) {
			return false
		}
	}
	return true
}

func matchTerm(toks []string, t Term) bool {
	if t.Prefix {
		for _, tok := range toks {
			if strings.HasPrefix(tok, t.Tokens[0]) {
				return true
			}
		}
		return false
	}
	k := len(t.Tokens)
outer:
	for i := 0; i+k <= len(toks); i++ {
		for j := range k {
			if toks[i+j] != t.Tokens[j] {
				continue outer
			}
		}
		return true
	}
	return false
}
