package textproc

import (
	"slices"
	"strings"
)

// Segment is a piece of a snippet. Text is plain, unescaped text from the
// original; a page renders Hit segments as <mark>{{.Text}}</mark> through
// html/template (or any escaper), so user text never becomes markup.
type Segment struct {
	Text string `json:"text"`
	Hit  bool   `json:"hit,omitempty"`
}

// SnippetRunes is the default length of a snippet in characters.
const SnippetRunes = 80

// Snippet returns about SnippetRunes characters of text around the place
// where the matches of the query are densest, cut into segments with the
// matches marked. Without a match it returns the beginning of the text.
// An ellipsis segment "…" marks text left out at either end.
func Snippet(text, query string) []Segment {
	return SnippetN(text, ParseQuery(query), SnippetRunes)
}

// SnippetN is Snippet with parsed terms and a length in characters.
func SnippetN(text string, terms []Term, width int) []Segment {
	orig := []rune(text)
	if width <= 0 {
		width = SnippetRunes
	}
	hits := findHits(orig, terms)
	start := 0
	if len(hits) > 0 {
		start = bestWindow(hits, width)
		// Show a little context before the first hit.
		start = max(0, start-width/8)
	}
	end := min(len(orig), start+width)
	if end-start < width {
		start = max(0, end-width)
	}
	var out []Segment
	if start > 0 {
		out = append(out, Segment{Text: "…"})
	}
	pos := start
	for _, h := range hits {
		if h[1] <= start || h[0] >= end {
			continue
		}
		a, b := max(h[0], start), min(h[1], end)
		if a > pos {
			out = append(out, Segment{Text: string(orig[pos:a])})
		}
		out = append(out, Segment{Text: string(orig[a:b]), Hit: true})
		pos = b
	}
	if pos < end {
		out = append(out, Segment{Text: string(orig[pos:end])})
	}
	if end < len(orig) {
		out = append(out, Segment{Text: "…"})
	}
	return out
}

// SnippetString renders segments as plain text with hits in 【】, for
// terminals and logs.
func SnippetString(segs []Segment) string {
	var b strings.Builder
	for _, s := range segs {
		if s.Hit {
			b.WriteString("【" + s.Text + "】")
		} else {
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

// findHits returns the merged, sorted rune ranges of every occurrence of
// every term in the text.
func findHits(orig []rune, terms []Term) [][2]int {
	if len(terms) == 0 {
		return nil
	}
	norm := make([]rune, len(orig))
	for i, r := range orig {
		norm[i] = NormRune(r)
	}
	var hits [][2]int
	for _, t := range terms {
		tr := []rune(t.Text)
		if len(tr) == 0 {
			continue
		}
		word := runeClass(tr[0]) == clsWord
		for i := 0; i+len(tr) <= len(norm); i++ {
			if norm[i] != tr[0] || !slices.Equal(norm[i:i+len(tr)], tr) {
				continue
			}
			if word && (i > 0 && runeClass(norm[i-1]) == clsWord ||
				i+len(tr) < len(norm) && runeClass(norm[i+len(tr)]) == clsWord) {
				continue
			}
			hits = append(hits, [2]int{i, i + len(tr)})
		}
	}
	slices.SortFunc(hits, func(a, b [2]int) int { return a[0] - b[0] })
	var merged [][2]int
	for _, h := range hits {
		if n := len(merged); n > 0 && h[0] <= merged[n-1][1] {
			merged[n-1][1] = max(merged[n-1][1], h[1])
			continue
		}
		merged = append(merged, h)
	}
	return merged
}

// bestWindow returns the start of the hit that begins the window of
// width runes containing the most hits.
func bestWindow(hits [][2]int, width int) int {
	best, bestN := hits[0][0], 0
	j := 0
	for i := range hits {
		if j < i {
			j = i
		}
		for j < len(hits) && hits[j][1]-hits[i][0] <= width {
			j++
		}
		if j-i > bestN {
			best, bestN = hits[i][0], j-i
		}
	}
	return best
}
