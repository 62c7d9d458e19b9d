package tongban

import (
	"strings"
	"testing"
)

func TestTrackingCodeCheckSymbol(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		c := NewTrackingCode()
		if len(c) != 12 || strings.ContainsAny(c, "ILOU*~$=") {
			t.Fatalf("bad code %q", c)
		}
		if seen[c] {
			t.Fatalf("duplicate code %q", c)
		}
		seen[c] = true
		if n, ok := NormalizeTrackingCode(strings.ToLower(c[:4]) + "-" + c[4:8] + " " + c[8:]); !ok || n != c {
			t.Fatalf("normalised %q = %q, %v", c, n, ok)
		}
		// Every single-symbol substitution is caught.
		for pos := 0; pos < len(c); pos++ {
			for _, r := range trackAlphabet {
				if byte(r) == c[pos] {
					continue
				}
				bad := c[:pos] + string(r) + c[pos+1:]
				if _, ok := NormalizeTrackingCode(bad); ok {
					t.Fatalf("substitution %q → %q not caught", c, bad)
				}
			}
		}
	}
	if _, ok := NormalizeTrackingCode("SHORT"); ok {
		t.Fatal("short code accepted")
	}
	c := NewTrackingCode()
	// Pasted from a phone: an ideographic space around it, look-alikes typed.
	typed := "\u3000" + strings.NewReplacer("1", "l", "0", "o").Replace(c) + "\n"
	if n, ok := NormalizeTrackingCode(typed); !ok || n != c {
		t.Fatalf("normalised %q = %q, %v; want %q", typed, n, ok, c)
	}
	for _, bad := range []string{c + "0", strings.ToLower(c) + "x", "../../etc/passwd", c[:6] + "中" + c[6:], c[:11], ""} {
		if n, ok := NormalizeTrackingCode(bad); ok {
			t.Fatalf("%q accepted as %q", bad, n)
		}
	}
}

func TestMasking(t *testing.T) {
	r := Requester{Name: "张三丰", Phone: "13812345678", Email: "zhang@example.cn"}.Masked()
	if r.Name != "张**" || r.Phone != "138****5678" || r.Email != "z***@example.cn" {
		t.Fatalf("masked %+v", r)
	}
}
