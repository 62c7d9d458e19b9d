package textproc

import (
	"slices"
	"unicode/utf8"
)

// Character n-gram features, used by the classifier and hot-issue
// clustering. A text is normalised (NormRune), every digit becomes 0, and every
// run of separators one space, with a space at both ends; its features are
// the character n-grams for n = 1..maxN that are not just a space. An
// n-gram of up to three runes is packed exactly into a uint64 (21 bits a
// rune, the first rune highest), so features need no dictionary to be
// named and never collide.

// prepRunes returns the feature form of text, appended to dst.
func prepRunes(dst []rune, text string) []rune {
	dst = append(dst[:0], ' ')
	for _, r := range text {
		r = NormRune(r)
		switch runeClass(r) {
		case clsOther:
			if dst[len(dst)-1] != ' ' {
				dst = append(dst, ' ')
			}
			continue
		case clsWord:
			if '0' <= r && r <= '9' {
				r = '0'
			}
		}
		dst = append(dst, r)
	}
	if dst[len(dst)-1] != ' ' {
		dst = append(dst, ' ')
	}
	return dst
}

// appendGrams appends the packed n-grams (n = minN..maxN ≤ 3) of rs.
func appendGrams(dst []uint64, rs []rune, minN, maxN int) []uint64 {
	for i := range rs {
		var k uint64
		for n := 1; n <= maxN && i+n <= len(rs); n++ {
			k = k<<21 | uint64(rs[i+n-1])
			if n < minN || n == 1 && rs[i] == ' ' {
				continue
			}
			dst = append(dst, k)
		}
	}
	return dst
}

// gram is a feature with its count in a text.
type gram struct {
	key uint64
	tf  int32
}

// countGrams sorts keys and returns the distinct keys with their counts,
// appended to dst.
func countGrams(dst []gram, keys []uint64) []gram {
	slices.Sort(keys)
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && keys[j] == keys[i] {
			j++
		}
		dst = append(dst, gram{keys[i], int32(j - i)})
		i = j
	}
	return dst
}

// GramString returns the text of a packed n-gram.
func GramString(k uint64) string {
	var rs [3]rune
	n := 0
	for k != 0 && n < 3 {
		rs[2-n] = rune(k & (1<<21 - 1))
		k >>= 21
		n++
	}
	b := make([]byte, 0, 12)
	for _, r := range rs[3-n:] {
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}

// gramLen returns the number of runes in a packed n-gram.
func gramLen(k uint64) int {
	switch {
	case k>>42 != 0:
		return 3
	case k>>21 != 0:
		return 2
	}
	return 1
}
