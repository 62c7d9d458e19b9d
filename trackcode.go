package tongban

import (
	"crypto/rand"
	"strings"
)

// Tracking codes are 12 symbols of Crockford's base32 alphabet (no I, L, O
// or U, so nothing looks alike): 11 random (55 bits, unguessable) and a
// Luhn mod 32 check symbol, which catches every single mistyped symbol and
// most swaps of neighbours before the database is asked. The check symbol
// comes from the same alphabet, so a code is easy to read out and to type.
const (
	trackAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	trackRandLen  = 11
)

// luhn32 returns the Luhn mod 32 sum of s read right to left, the
// rightmost symbol weighted by first (1 when s ends in its check symbol,
// 2 when computing one).
func luhn32(s string, first int) (int, bool) {
	factor, sum := first, 0
	for i := len(s) - 1; i >= 0; i-- {
		v := strings.IndexByte(trackAlphabet, s[i])
		if v < 0 {
			return 0, false
		}
		a := factor * v
		sum += a/32 + a%32
		factor = 3 - factor
	}
	return sum % 32, true
}

// NewTrackingCode returns a fresh random tracking code.
func NewTrackingCode() string {
	var buf [trackRandLen]byte
	if _, err := rand.Read(buf[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b := make([]byte, 0, trackRandLen+1)
	for _, x := range buf {
		b = append(b, trackAlphabet[x%32])
	}
	sum, _ := luhn32(string(b), 2)
	return string(append(b, trackAlphabet[(32-sum)%32]))
}

// NormalizeTrackingCode upper-cases a code, drops spaces and dashes, maps
// the look-alikes I/L→1 and O→0, and reports whether the check symbol holds.
// It makes one pass and no garbage: it runs on every case page read.
func NormalizeTrackingCode(s string) (string, bool) {
	s = strings.TrimSpace(s)
	var b [trackRandLen + 1]byte
	n := 0
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '-' || ch == ' ':
			continue
		case ch >= 'a' && ch <= 'z':
			ch -= 'a' - 'A'
		case ch >= 0x80:
			return s, false // not a code: a non-ASCII symbol
		}
		if n == len(b) {
			return s, false // not a code: too long
		}
		switch ch {
		case 'I', 'L':
			ch = '1'
		case 'O':
			ch = '0'
		}
		b[n] = ch
		n++
	}
	code := string(b[:n])
	if n != len(b) {
		return code, false
	}
	sum, ok := luhn32(code, 1)
	return code, ok && sum == 0
}
