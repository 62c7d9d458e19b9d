package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/server"
	"github.com/tongban/tongban/sqlite"
)

// apiFixture is a real server over a fresh SQLite file, with a small
// district, one logged-in token per user and an API key.
type apiFixture struct {
	t      *testing.T
	ctx    context.Context
	e      *engine.Engine
	st     tongban.Store
	srv    *httptest.Server
	h      http.Handler
	tokens map[string]string // login → bearer token
	users  map[string]*tongban.User
	key    string // API key
}

const apiPassword = "correct horse battery"

func apiSetup(t *testing.T) *apiFixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	f := &apiFixture{t: t, ctx: ctx, e: e, st: st, tokens: map[string]string{}, users: map[string]*tongban.User{}}
	for _, d := range []tongban.Department{
		{Code: "zx", Name: "区指挥中心", Kind: tongban.DeptCentre},
		{Code: "cgj", Name: "城管执法局"},
		{Code: "zjj", Name: "住建局"},
		{Code: "swj", Name: "水务局"},
	} {
		if err := e.AddDepartment(ctx, &d); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct{ login, dept, roles string }{
		{"disp", "zx", "dispatcher"}, {"intake", "zx", "intake"},
		{"h.cgj", "cgj", "handler"}, {"head.cgj", "cgj", "head"},
		{"h.zjj", "zjj", "handler"}, {"head.zjj", "zjj", "head"},
		{"h.swj", "swj", "handler"}, {"admin", "zx", "admin"},
	} {
		name, pw, dept, roles := u.login, apiPassword, u.dept, u.roles
		usr, err := e.AddUser(ctx, u.login, engine.UserChange{Name: &name, Dept: &dept, Roles: &roles, Password: &pw})
		if err != nil {
			t.Fatal(err)
		}
		f.users[u.login] = usr
	}
	f.key, _, err = e.NewAPIKey(ctx, "partner")
	if err != nil {
		t.Fatal(err)
	}
	f.h = server.New(e, server.DefaultOptions()).Handler()
	f.srv = httptest.NewServer(f.h)
	t.Cleanup(func() {
		f.srv.Close()
		st.Close()
	})
	for login := range f.users {
		f.tokens[login] = f.apiLogin(login)
	}
	return f
}

func (f *apiFixture) apiLogin(login string) string {
	f.t.Helper()
	status, body := f.apiDo("POST", "/api/v1/auth/token", "", map[string]string{"login": login, "password": apiPassword})
	if status != http.StatusOK {
		f.t.Fatalf("login %s: %d %s", login, status, body)
	}
	var out struct {
		Token string        `json:"token"`
		User  *tongban.User `json:"user"`
	}
	apiDecode(f.t, body, &out)
	if out.Token == "" || out.User == nil || out.User.Login != login {
		f.t.Fatalf("login answer %s", body)
	}
	return out.Token
}

// apiDo sends a request; body is a string (sent as is), nil, or a value to
// encode as JSON. auth is a login (its token is used), an API key, or "".
func (f *apiFixture) apiDo(method, path, auth string, body any) (int, []byte) {
	f.t.Helper()
	resp := f.apiRequest(method, path, auth, body, nil)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, b
}

func (f *apiFixture) apiRequest(method, path, auth string, body any, hdr http.Header) *http.Response {
	f.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	case io.Reader:
		r = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, r)
	if err != nil {
		f.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		tok := f.tokens[auth]
		if tok == "" {
			tok = auth
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

func apiDecode(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decoding %q: %v", apiTrunc(body), err)
	}
}

func apiTrunc(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "…"
	}
	return string(b)
}

// apiWantError checks status and the JSON error envelope: a code, a
// Chinese message and an English one.
func apiWantError(t *testing.T, what string, status int, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("%s: status %d, want %d; body %s", what, status, wantStatus, apiTrunc(body))
		return
	}
	var e struct {
		Error *struct {
			Code      string `json:"code"`
			Message   string `json:"message"`
			MessageEN string `json:"message_en"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == nil {
		t.Errorf("%s: body is not a JSON error envelope: %s", what, apiTrunc(body))
		return
	}
	if e.Error.Code != wantCode {
		t.Errorf("%s: code %q, want %q (%s)", what, e.Error.Code, wantCode, e.Error.MessageEN)
	}
	if !apiHasHan(e.Error.Message) {
		t.Errorf("%s: message %q is not Chinese", what, e.Error.Message)
	}
	if strings.TrimSpace(e.Error.MessageEN) == "" {
		t.Errorf("%s: empty message_en", what)
	}
}

func apiHasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// apiCase is the part of a case view the tests read.
type apiCase struct {
	ID           int64             `json:"id"`
	TrackingCode string            `json:"tracking_code"`
	Type         string            `json:"type"`
	Category     string            `json:"category"`
	Channel      string            `json:"channel"`
	Title        string            `json:"title"`
	Step         string            `json:"step"`
	Status       string            `json:"status"`
	Department   string            `json:"department"`
	Co           []string          `json:"co_departments"`
	First        string            `json:"first_department"`
	Requester    tongban.Requester `json:"requester"`
	Version      int64             `json:"version"`
	Returns      int               `json:"returns"`
	Transfers    int               `json:"transfers"`
	Rating       int               `json:"rating"`
	Reply        string            `json:"reply"`
	DraftReply   string            `json:"draft_reply"`
	Deadline     string            `json:"deadline"`
	Actions      []string          `json:"actions"`
	CanReveal    bool              `json:"can_reveal_requester"`
	Attachments  []struct {
		ID          int64  `json:"id"`
		Name        string `json:"name"`
		ContentType string `json:"content_type"`
		Size        int64  `json:"size"`
	} `json:"attachments"`
	Event *tongban.Event `json:"event"`
}

// apiNewCase is a valid create body; change it per test.
func apiNewCase() map[string]any {
	return map[string]any{
		"type": "complaint", "category": "noise", "title": "夜间施工噪音扰民",
		"body": "东城花园旁工地每晚十一点后仍在施工。", "address": "东城花园3号楼",
		"requester": map[string]any{"name": "李秀英", "phone": "13987654321"},
	}
}

// apiCreate files a case with the given auth and fails unless 201.
func (f *apiFixture) apiCreate(auth string, in map[string]any) apiCase {
	f.t.Helper()
	status, body := f.apiDo("POST", "/api/v1/cases", auth, in)
	if status != http.StatusCreated {
		f.t.Fatalf("create: %d %s", status, apiTrunc(body))
	}
	var c apiCase
	apiDecode(f.t, body, &c)
	return c
}

func (f *apiFixture) apiGet(auth, ref string) apiCase {
	f.t.Helper()
	status, body := f.apiDo("GET", "/api/v1/cases/"+ref, auth, nil)
	if status != http.StatusOK {
		f.t.Fatalf("GET case %s as %s: %d %s", ref, auth, status, apiTrunc(body))
	}
	var c apiCase
	apiDecode(f.t, body, &c)
	return c
}

func (f *apiFixture) apiAct(auth, ref, action string, fields map[string]any) apiCase {
	f.t.Helper()
	status, body := f.apiTryAct(auth, ref, action, fields)
	if status != http.StatusOK {
		f.t.Fatalf("%s on %s as %s: %d %s", action, ref, auth, status, apiTrunc(body))
	}
	var c apiCase
	apiDecode(f.t, body, &c)
	if c.Event == nil || c.Event.Action != action || c.Event.Seq != c.Version {
		f.t.Fatalf("%s answer carries event %+v for version %d", action, c.Event, c.Version)
	}
	return c
}

func (f *apiFixture) apiTryAct(auth, ref, action string, fields map[string]any) (int, []byte) {
	in := map[string]any{"action": action}
	for k, v := range fields {
		in[k] = v
	}
	return f.apiDo("POST", "/api/v1/cases/"+ref+"/actions", auth, in)
}

func (f *apiFixture) apiCount() int {
	f.t.Helper()
	p, err := f.st.ListCases(f.ctx, tongban.CaseFilter{})
	if err != nil {
		f.t.Fatal(err)
	}
	return p.Total
}

// apiServeFrom sends a request straight to the handler from the given
// client address (for per-address rate limits).
func apiServeFrom(t *testing.T, h http.Handler, ip, method, path string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.RemoteAddr = ip + ":40000"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}
