package textproc

import "encoding/binary"

// Bytes returns the signature as SigSize·4 little-endian bytes, the form
// the stores keep.
func (s *Signature) Bytes() []byte {
	b := make([]byte, SigSize*4)
	for i, v := range s {
		binary.LittleEndian.PutUint32(b[i*4:], v)
	}
	return b
}

// SignatureFromBytes decodes Bytes; ok is false if b has the wrong length.
func SignatureFromBytes(b []byte) (s Signature, ok bool) {
	if len(b) != SigSize*4 {
		return s, false
	}
	for i := range s {
		s[i] = binary.LittleEndian.Uint32(b[i*4:])
	}
	return s, true
}

// SignCase returns the signature of a case's title and body, as the
// stores keep it and the duplicate index compares it.
func SignCase(title, body string) Signature { return Sign(title + "\n" + body) }
