package server_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban"
)

// apiTinyPNG is a real 2×2 PNG.
func apiTinyPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func apiAttach(name string, data []byte) map[string]any {
	return map[string]any{"name": name, "content_base64": base64.StdEncoding.EncodeToString(data)}
}

func TestHostileCreate(t *testing.T) {
	t.Parallel()
	f := apiSetup(t)
	ok := f.apiCreate(f.key, apiNewCase())
	stillWorks := func(what string) {
		t.Helper()
		if status, body := f.apiDo("GET", "/api/v1/cases/"+ok.TrackingCode, "disp", nil); status != 200 {
			t.Fatalf("after %s a valid request fails: %d %s", what, status, body)
		}
	}
	with := func(k string, v any) map[string]any {
		in := apiNewCase()
		in[k] = v
		return in
	}
	phone := func(p string) map[string]any {
		return with("requester", map[string]any{"name": "李秀英", "phone": p})
	}
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), bytes.Repeat([]byte{0}, 200)...)
	html := []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>")
	ten := make([]any, 10)
	for i := range ten {
		ten[i] = apiAttach(fmt.Sprintf("p%d.png", i), apiTinyPNG(t))
	}
	cases := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"malformed JSON", `{"title": "x",`, 400, tongban.EInvalid},
		{"not JSON at all", `title=x&body=y`, 400, tongban.EInvalid},
		{"array instead of object", `[1,2,3]`, 400, tongban.EInvalid},
		{"empty body", ``, 400, tongban.EInvalid},
		{"two objects", `{"type":"complaint"}{"type":"complaint"}`, 400, tongban.EInvalid},
		{"unknown field", with("titel", "x"), 400, tongban.EInvalid},
		{"unknown nested field", with("requester", map[string]any{"phone": "13987654321", "ssn": "1"}), 400, tongban.EInvalid},
		{"string for lat", with("lat", "31.2"), 400, tongban.EInvalid},
		{"number for title", with("title", 42), 400, tongban.EInvalid},
		{"object for body", with("body", map[string]any{"x": 1}), 400, tongban.EInvalid},
		{"bool for type", with("type", true), 400, tongban.EInvalid},
		{"lat without long", with("lat", 31.2), 400, tongban.EInvalid},
		{"lat out of range", func() map[string]any { in := with("lat", 1000.0); in["long"] = 121.0; return in }(), 400, tongban.EInvalid},
		{"missing title", with("title", nil), 400, tongban.EInvalid},
		{"missing body", with("body", ""), 400, tongban.EInvalid},
		{"missing type", with("type", ""), 400, tongban.EInvalid},
		{"missing category", with("category", ""), 400, tongban.EInvalid},
		{"title 201 chars", with("title", strings.Repeat("标", 201)), 400, tongban.EInvalid},
		{"body 4001 chars", with("body", strings.Repeat("文", 4001)), 400, tongban.EInvalid},
		{"address 201 chars", with("address", strings.Repeat("路", 201)), 400, tongban.EInvalid},
		{"name 51 chars", with("requester", map[string]any{"name": strings.Repeat("名", 51), "phone": "13987654321"}), 400, tongban.EInvalid},
		{"phone too short", phone("12345"), 400, tongban.EInvalid},
		{"phone 12 digits", phone("139876543210"), 400, tongban.EInvalid},
		{"phone bad prefix", phone("12987654321"), 400, tongban.EInvalid},
		{"phone letters", phone("1398765432x"), 400, tongban.EInvalid},
		{"phone with spaces", phone("139 8765 4321"), 400, tongban.EInvalid},
		{"phone script", phone("<script>"), 400, tongban.EInvalid},
		{"bad email", with("requester", map[string]any{"phone": "13987654321", "email": "a@b"}), 400, tongban.EInvalid},
		{"unknown category", with("category", "ufo"), 400, tongban.EInvalid},
		{"unknown type", with("type", "rant"), 400, tongban.EInvalid},
		{"unknown kind", with("kind", "spaceship"), 400, tongban.EInvalid},
		{"unknown channel", with("channel", "pigeon"), 400, tongban.EInvalid},
		{"exe named .jpg", with("attachments", []any{apiAttach("photo.jpg", exe)}), 400, tongban.EInvalid},
		{"html named .jpg", with("attachments", []any{apiAttach("photo.jpg", html)}), 400, tongban.EInvalid},
		{"svg named .png", with("attachments", []any{apiAttach("x.png", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`))}), 400, tongban.EInvalid},
		{"empty attachment", with("attachments", []any{apiAttach("x.png", nil)}), 400, tongban.EInvalid},
		{"invalid base64", with("attachments", []any{map[string]any{"name": "x.png", "content_base64": "!!!not base64"}}), 400, tongban.EInvalid},
		{"ten attachments", with("attachments", ten), 400, tongban.EInvalid},
		{"attachment over 10 MB", with("attachments", []any{apiAttach("big.png", append(apiTinyPNG(t), make([]byte, 10<<20)...))}), 413, tongban.ETooLarge},
	}
	for _, auth := range []string{f.key, "intake", ""} {
		for i, tc := range cases {
			before := f.apiCount()
			var status int
			var body []byte
			if auth == "" {
				// The public has a per-minute budget per address: give each
				// request its own address, straight through the handler.
				status, body = apiServeFrom(t, f.h, fmt.Sprintf("192.0.2.%d", i+1), "POST", "/api/v1/cases", tc.body)
			} else {
				status, body = f.apiDo("POST", "/api/v1/cases", auth, tc.body)
			}
			who := map[string]string{f.key: "api key", "intake": "staff", "": "public"}[auth]
			apiWantError(t, tc.name+" ("+who+")", status, body, tc.status, tc.code)
			if after := f.apiCount(); after != before {
				t.Errorf("%s (%s): rejected create changed the case count %d → %d", tc.name, who, before, after)
			}
			stillWorks(tc.name)
		}
	}
	// Content types that are plainly not JSON.
	for _, ct := range []string{"application/xml", "multipart/form-data; boundary=x", "text/xml", "application/json; charset"} {
		resp := f.apiRequest("POST", "/api/v1/cases", f.key, apiNewCase(), http.Header{"Content-Type": {ct}})
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		apiWantError(t, "content type "+ct, resp.StatusCode, b, 400, tongban.EInvalid)
	}

	// Limits are inclusive: exactly 200 and 4000 characters are accepted.
	in := apiNewCase()
	in["title"], in["body"] = strings.Repeat("标", 200), strings.Repeat("文", 4000)
	f.apiCreate(f.key, in)
	// A landline and a real PNG are accepted; the PNG is served back as such.
	in = apiNewCase()
	pngData := apiTinyPNG(t)
	in["requester"] = map[string]any{"phone": "021-62345678"}
	in["attachments"] = []any{apiAttach(`..\..\windows\photo.png`, pngData)}
	c := f.apiCreate(f.key, in)
	if len(c.Attachments) != 1 || c.Attachments[0].ContentType != "image/png" || c.Attachments[0].Size != int64(len(pngData)) || strings.ContainsAny(c.Attachments[0].Name, `/\`) {
		t.Fatalf("attachment %+v", c.Attachments)
	}
	resp := f.apiRequest("GET", fmt.Sprintf("/api/v1/cases/%d/attachments/%d", c.ID, c.Attachments[0].ID), "disp", nil, nil)
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, pngData) || resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("attachment download: %d %q %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(got))
	}
	// Another case's attachment id under this case is not found.
	status, body := f.apiDo("GET", fmt.Sprintf("/api/v1/cases/%d/attachments/%d", ok.ID, c.Attachments[0].ID), "disp", nil)
	apiWantError(t, "attachment of another case", status, body, 404, tongban.ENotFound)
	status, body = f.apiDo("GET", fmt.Sprintf("/api/v1/cases/%d/attachments/%d", c.ID, c.Attachments[0].ID), "h.swj", nil)
	apiWantError(t, "attachment of a case in another department", status, body, 404, tongban.ENotFound)
}

// TestHostileOversizedBody streams a body over the 100 MB limit without
// holding it in the test's memory.
func TestHostileOversizedBody(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 100 MB")
	}
	t.Parallel()
	f := apiSetup(t)
	before := f.apiCount()
	const size = 100<<20 + 4096
	conn, err := net.Dial("tcp", f.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Minute)) // a safety net only
	fmt.Fprintf(conn, "POST /api/v1/cases HTTP/1.1\r\nHost: tongban\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n", f.key, size)
	go func() {
		head := []byte(`{"type":"complaint","category":"noise","title":"t","body":"`)
		conn.Write(head)
		chunk := bytes.Repeat([]byte("a"), 64<<10)
		for sent := len(head); sent < size; sent += len(chunk) {
			if _, err := conn.Write(chunk); err != nil {
				return // the server stopped reading: expected
			}
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to an oversized body: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	apiWantError(t, "oversized create", resp.StatusCode, body, 413, tongban.ETooLarge)
	if after := f.apiCount(); after != before {
		t.Errorf("oversized create wrote a case")
	}
	// Ordinary endpoints have a 1 MB limit.
	c := f.apiCreate(f.key, apiNewCase())
	big := `{"action":"dispatch","department":"cgj","note":"` + strings.Repeat("x", 2<<20) + `"}`
	status, b := f.apiDo("POST", "/api/v1/cases/"+c.TrackingCode+"/actions", "disp", big)
	apiWantError(t, "2 MB action body", status, b, 413, tongban.ETooLarge)
	f.apiCreate(f.key, apiNewCase())
}

func TestHostileActionsAndAuth(t *testing.T) {
	t.Parallel()
	f := apiSetup(t)
	c := f.apiCreate(f.key, apiNewCase())
	ref := c.TrackingCode
	stillWorks := func(what string) {
		t.Helper()
		if status, body := f.apiDo("GET", "/api/v1/cases/"+ref, "disp", nil); status != 200 {
			t.Fatalf("after %s a valid request fails: %d %s", what, status, body)
		}
	}
	for _, tc := range []struct {
		name, user string
		body       any
		status     int
		code       string
	}{
		{"action not allowed in step", "disp", map[string]any{"action": "accept"}, 409, tongban.EConflict},
		{"action of a later step", "disp", map[string]any{"action": "approve_reply"}, 409, tongban.EConflict},
		{"unknown action", "disp", map[string]any{"action": "launch_missiles"}, 400, tongban.EInvalid},
		{"missing action", "disp", map[string]any{"department": "cgj"}, 400, tongban.EInvalid},
		{"action not a string", "disp", map[string]any{"action": 7}, 400, tongban.EInvalid},
		{"malformed JSON", "disp", `{"action":"dispatch"`, 400, tongban.EInvalid},
		{"unknown field", "disp", map[string]any{"action": "dispatch", "department": "cgj", "priority": "high"}, 400, tongban.EInvalid},
		{"department not a string", "disp", map[string]any{"action": "dispatch", "department": []string{"cgj"}}, 400, tongban.EInvalid},
		{"unknown department", "disp", map[string]any{"action": "dispatch", "department": "../../etc"}, 400, tongban.EInvalid},
		{"version not a number", "disp", map[string]any{"action": "dispatch", "department": "cgj", "version": "1"}, 400, tongban.EInvalid},
		{"stale version", "disp", map[string]any{"action": "dispatch", "department": "cgj", "version": 99}, 409, tongban.EConflict},
		{"note too long", "disp", map[string]any{"action": "dispatch", "department": "cgj", "note": strings.Repeat("注", 1001)}, 400, tongban.EInvalid},
		{"forbidden role", "intake", map[string]any{"action": "dispatch", "department": "cgj"}, 403, tongban.EForbidden},
		{"other department", "h.cgj", map[string]any{"action": "dispatch", "department": "cgj"}, 404, tongban.ENotFound},
		{"anonymous", "", map[string]any{"action": "dispatch", "department": "cgj"}, 401, tongban.EUnauthorized},
		{"API key", f.key, map[string]any{"action": "dispatch", "department": "cgj"}, 401, tongban.EUnauthorized},
	} {
		status, body := f.apiDo("POST", "/api/v1/cases/"+ref+"/actions", tc.user, tc.body)
		apiWantError(t, tc.name, status, body, tc.status, tc.code)
		stillWorks(tc.name)
	}
	if got := f.apiGet("disp", ref); got.Version != 1 || got.Step != "dispatch" {
		t.Fatalf("rejected actions changed the case: %+v", got)
	}

	// Bad credentials are 401 with the JSON envelope, never a silent anonymous request.
	for _, h := range []string{"Bearer not-a-token", "Bearer ", "Bearer tbk_forged", "Basic YWRtaW46cGFzc3dvcmQ=", "Bearer " + strings.Repeat("x", 500), "bearer " + f.tokens["disp"]} {
		for _, path := range []string{"/api/v1/cases", "/api/v1/me"} {
			resp := f.apiRequest("GET", path, "", nil, http.Header{"Authorization": {h}})
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			apiWantError(t, "Authorization "+apiTrunc([]byte(h))[:min(len(h), 30)], resp.StatusCode, b, 401, tongban.EUnauthorized)
		}
		// Even the public create refuses a bad credential rather than filing anonymously.
		before := f.apiCount()
		resp := f.apiRequest("POST", "/api/v1/cases", "", apiNewCase(), http.Header{"Authorization": {h}})
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		apiWantError(t, "create with bad Authorization", resp.StatusCode, b, 401, tongban.EUnauthorized)
		if f.apiCount() != before {
			t.Error("create with bad credentials wrote a case")
		}
	}
	resp := f.apiRequest("GET", "/api/v1/cases", "", nil, http.Header{"X-Api-Key": {"tbk_forged"}})
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	apiWantError(t, "forged X-API-Key", resp.StatusCode, b, 401, tongban.EUnauthorized)

	// Cookie sessions: reads work, writes need the CSRF token.
	cookie := http.Header{"Cookie": {"tb_session=" + f.apiLogin("disp")}}
	resp = f.apiRequest("GET", "/api/v1/cases/"+ref, "", nil, cookie)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("cookie GET: %d", resp.StatusCode)
	}
	for _, extra := range []http.Header{{}, {"X-Csrf-Token": {"forged"}}} {
		h := http.Header{"Cookie": cookie["Cookie"]}
		for k, v := range extra {
			h[k] = v
		}
		resp = f.apiRequest("POST", "/api/v1/cases/"+ref+"/actions", "", map[string]any{"action": "dispatch", "department": "cgj"}, h)
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		apiWantError(t, "cookie POST action without CSRF", resp.StatusCode, b, 403, tongban.EForbidden)
		before := f.apiCount()
		resp = f.apiRequest("POST", "/api/v1/cases", "", apiNewCase(), h)
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		apiWantError(t, "cookie POST create without CSRF", resp.StatusCode, b, 403, tongban.EForbidden)
		if f.apiCount() != before {
			t.Error("cookie create without CSRF wrote a case")
		}
		resp = f.apiRequest("POST", "/api/v1/apikeys", "", map[string]any{"name": "x"}, h)
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("cookie POST apikeys without CSRF: %d %s", resp.StatusCode, b)
		}
	}
	if got := f.apiGet("disp", ref); got.Version != 1 {
		t.Fatal("a CSRF-less request changed the case")
	}

	// Path-traversal-ish and nonsense ids.
	for _, id := range []string{"..%2F..%2Fetc%2Fpasswd", "%2e%2e", "0", "-1", "99999999999999999999", "1%20OR%201=1", "%27%3B--", "%00",
		strings.Repeat("9", 300), "ZZZZZZZZZZZZ", strings.ToLower(ref[:11]) + "U", "%E4%B8%AD%E6%96%87"} {
		for _, p := range []struct{ method, path string }{
			{"GET", "/api/v1/cases/" + id}, {"GET", "/api/v1/cases/" + id + "/events"},
			{"GET", "/api/v1/cases/" + id + "/requester"}, {"POST", "/api/v1/cases/" + id + "/actions"},
			{"GET", "/api/v1/cases/" + id + "/attachments/1"}, {"GET", "/api/v1/track/" + id + "?phone_last4=4321"},
		} {
			var body any
			if p.method == "POST" {
				body = map[string]any{"action": "dispatch", "department": "cgj"}
			}
			status, b := f.apiDo(p.method, p.path, "disp", body)
			if status != 404 && status != 400 {
				t.Errorf("%s %s: %d, want 404 or 400; %s", p.method, p.path, status, apiTrunc(b))
				continue
			}
			apiWantError(t, p.method+" "+p.path, status, b, status, map[int]string{404: tongban.ENotFound, 400: tongban.EInvalid}[status])
		}
		stillWorks("id " + id)
	}
	status, body := f.apiDo("GET", fmt.Sprintf("/api/v1/cases/%d/attachments/..%%2F1", c.ID), "disp", nil)
	apiWantError(t, "attachment id ..%2F1", status, body, 404, tongban.ENotFound)

	// Huge page numbers and sizes.
	for _, q := range []string{"?page=99999999999999999999", "?page=100001", "?page=-5", "?per_page=1000000", "?page=1e9", "?per_page=-1"} {
		status, body := f.apiDo("GET", "/api/v1/cases"+q, "disp", nil)
		apiWantError(t, "list "+q, status, body, 400, tongban.EInvalid)
	}
	status, body = f.apiDo("GET", "/api/v1/cases?page=100000&per_page=100", "disp", nil)
	if status != 200 || !strings.Contains(string(body), `"cases":[]`) {
		t.Errorf("last allowed page: %d %s", status, apiTrunc(body))
	}
	stillWorks("huge pages")
}

func TestHostileErrorsAreJSONUnderAPI(t *testing.T) {
	t.Parallel()
	f := apiSetup(t)
	// Unknown API paths and wrong methods answer in the API's error format too.
	for _, p := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/api/v1/no-such-thing", 404, tongban.ENotFound},
		{"GET", "/api/v2/cases", 404, tongban.ENotFound},
		{"DELETE", "/api/v1/cases/1", 405, ""},
		{"PUT", "/api/v1/track/ABC", 405, ""},
	} {
		status, body := f.apiDo(p.method, p.path, "disp", nil)
		if status != p.status && !(p.status == 405 && status == 404) {
			t.Errorf("%s %s: %d, want %d", p.method, p.path, status, p.status)
			continue
		}
		if p.code == "" {
			// Wrong method: 405 (or 404 from a catch-all), in the envelope.
			if status == 404 {
				p.code = tongban.ENotFound
			} else if !strings.Contains(string(body), `"error"`) {
				t.Errorf("%s %s: %d answered with %q, not the JSON error envelope", p.method, p.path, status, apiTrunc(body))
				continue
			}
		}
		if p.code != "" {
			apiWantError(t, p.method+" "+p.path, status, body, status, p.code)
		}
	}
}

func TestHostileXSS(t *testing.T) {
	t.Parallel()
	f := apiSetup(t)
	const payload = `<script>alert(1)</script>`
	in := apiNewCase()
	in["title"], in["body"], in["address"] = payload, "正文"+payload+`<img src=x onerror=alert(1)>`, payload
	c := f.apiCreate(f.key, in)
	for _, p := range []string{"/api/v1/cases/" + c.TrackingCode, "/api/v1/cases?q=alert", "/api/v1/cases/" + c.TrackingCode + "/events"} {
		status, body := f.apiDo("GET", p, "disp", nil)
		if status != 200 {
			t.Fatalf("GET %s: %d", p, status)
		}
		if bytes.Contains(body, []byte("<script>")) || bytes.Contains(body, []byte("<img")) {
			t.Errorf("GET %s returns the payload unescaped: %s", p, apiTrunc(body))
		}
		if p != "/api/v1/cases/"+c.TrackingCode+"/events" && !bytes.Contains(body, []byte(`\u003cscript\u003ealert(1)\u003c/script\u003e`)) {
			t.Errorf("GET %s: payload not found as escaped text: %s", p, apiTrunc(body))
		}
	}
	var got apiCase
	_, body := f.apiDo("GET", "/api/v1/cases/"+c.TrackingCode, "disp", nil)
	apiDecode(t, body, &got)
	if got.Title != payload {
		t.Errorf("title round trip %q", got.Title)
	}
	// Error messages that name a field the client sent stay escaped.
	status, body := f.apiDo("POST", "/api/v1/cases", f.key, `{"`+payload+`":1}`)
	if status != 400 || bytes.Contains(body, []byte("<script>")) {
		t.Errorf("unknown-field error echoes markup: %d %s", status, body)
	}
	status, body = f.apiTryAct("disp", c.TrackingCode, payload, nil)
	if status != 400 || bytes.Contains(body, []byte("<script>")) {
		t.Errorf("unknown-action error echoes markup: %d %s", status, body)
	}
	// HTML pages: the home page, a missing page, an error page.
	html := http.Header{"Accept": {"text/html"}}
	for _, p := range []struct {
		path string
		hdr  http.Header
	}{
		{"/", html},
		{"/?q=" + "%3Cscript%3Ealert(1)%3C%2Fscript%3E", html},
		{"/%3Cscript%3Ealert(1)%3C%2Fscript%3E", html},
		{"/", http.Header{"Accept": {"text/html"}, "Authorization": {"Bearer " + payload}}},
		{"/track/" + c.TrackingCode + "?phone_last4=4321", html},
		{"/track?code=" + c.TrackingCode + "&phone_last4=4321", html},
		{"/track?code=%3Cscript%3Ealert(1)%3C%2Fscript%3E&phone_last4=4321", html},
	} {
		resp := f.apiRequest("GET", p.path, "", nil, p.hdr)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Errorf("GET %s: %d", p.path, resp.StatusCode)
		}
		if bytes.Contains(b, []byte(payload)) || bytes.Contains(b, []byte("<img src=x")) {
			t.Errorf("GET %s (%d) contains the raw payload", p.path, resp.StatusCode)
		}
	}
	// The public track page shows the title, as text.
	resp := f.apiRequest("GET", "/track?code="+c.TrackingCode+"&phone_last4=4321", "", nil, html)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == 200 && !bytes.Contains(b, []byte("&lt;script&gt;alert(1)&lt;/script&gt;")) {
		t.Errorf("track page does not show the title escaped")
	}
}

func TestHostileRateLimit(t *testing.T) {
	t.Parallel()
	f := apiSetup(t)
	// The limit counts per fixed minute; if the minute turns during the
	// burst, try again from a fresh address.
	for attempt := 0; attempt < 3; attempt++ {
		ip := fmt.Sprintf("203.0.113.%d", 10+attempt)
		window := time.Now().Truncate(time.Minute)
		var codes []int
		var last *httptest.ResponseRecorder
		for i := 0; i < 21; i++ {
			req := httptest.NewRequest("POST", "/api/v1/cases", strings.NewReader(`{"type":"complaint","category":"noise","title":"t","body":"b","requester":{"phone":"13987654321"}}`))
			req.Header.Set("Content-Type", "application/json")
			req.RemoteAddr = ip + ":40000"
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			codes = append(codes, rec.Code)
			last = rec
		}
		if !time.Now().Truncate(time.Minute).Equal(window) {
			continue
		}
		for i, c := range codes[:20] {
			if c != http.StatusCreated {
				t.Fatalf("public create %d of 20: %d", i+1, c)
			}
		}
		apiWantError(t, "21st public create", last.Code, last.Body.Bytes(), 429, tongban.ERateLimited)
		if ra := last.Header().Get("Retry-After"); ra == "" {
			t.Error("429 without Retry-After")
		}
		// Another address is not affected, and neither are API clients.
		req := httptest.NewRequest("POST", "/api/v1/cases", strings.NewReader(`{"type":"complaint","category":"noise","title":"t","body":"b","requester":{"phone":"13987654321"}}`))
		req.RemoteAddr = "198.51.100.1:40000"
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			t.Errorf("another address: %d", rec.Code)
		}
		return
	}
	t.Fatal("could not fit 21 requests in one rate-limit minute in 3 attempts")
}
