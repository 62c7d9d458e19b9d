package tongban

import (
	"crypto/rand"
	"strings"
)

// Tracking codes are 12 symbols of Crockford base32: 11 random (55 bits,
// unguessable) and a check symbol (mod 37) that catches a mistyped or
// swapped character before the database is asked.
const (
	trackAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	checkAlphabet = trackAlphabet + "*~$=U"
	trackRandLen  = 11
)

// NewTrackingCode returns a fresh random tracking code.
func NewTrackingCode() string {
	var buf [trackRandLen]byte
	if _, err := rand.Read(buf[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	var b strings.Builder
	sum := 0
	for _, x := range buf {
		v := int(x) % 32
		b.WriteByte(trackAlphabet[v])
		sum = (sum*32 + v) % 37
	}
	b.WriteByte(checkAlphabet[sum])
	return b.String()
}

// NormalizeTrackingCode upper-cases a code, drops spaces and dashes, maps
// the look-alikes I/L→1 and O→0, and reports whether the check symbol holds.
func NormalizeTrackingCode(s string) (string, bool) {
	s = strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(s)))
	s = strings.NewReplacer("I", "1", "L", "1", "O", "0").Replace(s)
	if len(s) != trackRandLen+1 {
		return s, false
	}
	sum := 0
	for i := 0; i < trackRandLen; i++ {
		v := strings.IndexByte(trackAlphabet, s[i])
		if v < 0 {
			return s, false
		}
		sum = (sum*32 + v) % 37
	}
	return s, s[trackRandLen] == checkAlphabet[sum]
}
