package server

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/tongban/tongban"
)

// The web pages: a public portal (no login, works without JavaScript), the
// staff workbench and the administration pages. Pages are server-rendered
// html/template; the few assets are embedded and served with content
// hashes in their URLs.

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// staticAsset is an embedded file with its content hash.
type staticAsset struct {
	data  []byte
	hash  string
	ctype string
}

var (
	assets = loadAssets()
	pages  = loadTemplates()
)

func loadAssets() map[string]*staticAsset {
	out := map[string]*staticAsset{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		out[strings.TrimPrefix(p, "static/")] = &staticAsset{data: b, hash: hex.EncodeToString(sum[:6]), ctype: ct}
		return nil
	})
	if err != nil {
		panic(err)
	}
	return out
}

// assetURL is an asset's URL with its content hash, so it can be cached forever.
func assetURL(name string) string {
	a := assets[name]
	if a == nil {
		panic("ui: no asset " + name)
	}
	return "/static/" + name + "?v=" + a.hash
}

var templateFuncs = template.FuncMap{
	"asset": assetURL,
	"add":   func(a, b int) int { return a + b },
	"list":  func(xs ...string) []string { return xs },
	"deref": func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	},
	"seq": func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i + 1
		}
		return out
	},
	"has": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
	"isImage": func(ct string) bool { return strings.HasPrefix(ct, "image/") },
	"kb":      func(n int64) string { return strconv.FormatInt((n+1023)/1024, 10) + " KB" },
}

func loadTemplates() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" {
			continue
		}
		t := template.Must(template.New(base).Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", n))
		out[strings.TrimSuffix(base, ".html")] = t
	}
	return out
}

// view is what every page template gets: the language, the user, the
// CSRF token, the form as submitted and its errors, and the page's data.
type view struct {
	Lang    string
	Path    string
	Query   url.Values
	User    *tongban.User
	CSRF    string
	Title   string
	Section string // portal, work, desk, admin: which navigation is shown
	Form    url.Values
	Errs    map[string]string
	Error   string // a message not tied to one field
	Notice  string
	D       any
}

// T translates a catalogue key.
func (v *view) T(key string) string { return tr(v.Lang, key) }

// Tf translates and formats.
func (v *view) Tf(key string, args ...any) string { return fmt.Sprintf(tr(v.Lang, key), args...) }

// EN reports whether the page is in English.
func (v *view) EN() bool { return v.Lang == langEN }

// Pick returns zh or en by the page language (for data that carries both).
func (v *view) Pick(zh, en string) string {
	if v.Lang == langEN && en != "" {
		return en
	}
	return zh
}

// Val is a submitted form value, kept when a form is shown again.
func (v *view) Val(name string) string {
	if v.Form == nil {
		return ""
	}
	return v.Form.Get(name)
}

// Vals are the submitted values of a multi-valued field.
func (v *view) Vals(name string) []string {
	if v.Form == nil {
		return nil
	}
	return v.Form[name]
}

// Err is the error message for a field.
func (v *view) Err(name string) string { return v.Errs[name] }

func (v *view) Date(t any) string     { return fmtDate(v.Lang, deref(t)) }
func (v *view) DateTime(t any) string { return fmtDateTime(v.Lang, deref(t)) }
func (v *view) TypeName(code string) string {
	if code == "" {
		return ""
	}
	return typeName(v.Lang, code)
}
func (v *view) RoleName(r tongban.Role) string { return roleName(v.Lang, r) }
func (v *view) ChannelName(ch string) string   { return channelName(v.Lang, ch) }
func (v *view) Left(secs int64) string         { return fmtLeft(v.Lang, secs) }
func (v *view) LeftPtr(secs *int64) string {
	if secs == nil {
		return ""
	}
	return fmtLeft(v.Lang, *secs)
}

// SwitchURL is the current page in the other language.
func (v *view) SwitchURL() string {
	q := url.Values{}
	for k, vs := range v.Query {
		q[k] = vs
	}
	if v.Lang == langEN {
		q.Set("lang", langZH)
	} else {
		q.Set("lang", langEN)
	}
	return v.Path + "?" + q.Encode()
}

// Types are the request types in display order.
func (v *view) Types() []string { return tongban.RequestTypes }

// Roles are all roles in display order.
func (v *view) Roles() []tongban.Role { return tongban.AllRoles }

func deref(t any) time.Time {
	switch x := t.(type) {
	case time.Time:
		return x
	case *time.Time:
		if x != nil {
			return *x
		}
	}
	return time.Time{}
}

// newView starts a page's data from the request.
func (s *Server) newView(w http.ResponseWriter, r *http.Request, section, title string) *view {
	v := &view{Lang: langOf(w, r), Path: r.URL.Path, Section: section, Errs: map[string]string{}}
	q := r.URL.Query()
	q.Del("lang")
	v.Query = q
	a := authOf(r)
	v.User = a.User
	if a.Session != nil {
		v.CSRF = a.Session.CSRF
	}
	v.Title = v.T(title)
	return v
}

// setError records an error for the page: next to its field if the form
// has that field, otherwise at the top.
func (v *view) setError(e *tongban.Error, fields ...string) {
	msg := errText(v.Lang, e)
	for _, f := range fields {
		if e.Field == f {
			v.Errs[f] = msg
			v.Error = v.T("submit.failed")
			return
		}
	}
	v.Error = msg
}

// render writes a page. It renders into a buffer first, so a template
// error becomes a clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	t := pages[name]
	if t == nil {
		s.fail(w, r, fmt.Errorf("ui: no template %q", name))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.Log.Error("template", "page", name, "err", err)
		s.errors5.Add(1)
		if name != "error" {
			s.errorPage(w, r, http.StatusInternalServerError, tongban.Errorf(tongban.EInternal, "服务器内部错误", "internal error"))
			return
		}
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// serveStatic serves an embedded asset. A URL with the current content
// hash is cached for a year; any request can revalidate by ETag.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	a := assets[r.PathValue("name")]
	if a == nil {
		s.fail(w, r, tongban.ErrNotFound)
		return
	}
	etag := `"` + a.hash + `"`
	h := w.Header()
	h.Set("ETag", etag)
	if r.URL.Query().Get("v") == a.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", a.ctype)
	h.Set("Content-Length", strconv.Itoa(len(a.data)))
	w.Write(a.data)
}

func (s *Server) uiRoutes() {
	m := s.mux
	m.HandleFunc("GET /static/{name}", s.serveStatic)
	m.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, assetURL("favicon.svg"), http.StatusMovedPermanently)
	})

	// Public portal.
	m.HandleFunc("GET /{$}", s.uiHome)
	m.HandleFunc("GET /submit", s.uiSubmitForm)
	m.HandleFunc("POST /submit", s.uiSubmit)
	m.HandleFunc("GET /receipt/{code}", s.uiReceipt)
	m.HandleFunc("GET /track", s.uiTrack)
	m.HandleFunc("POST /track/{code}/rate", s.uiRate)

	// Service points.
	m.HandleFunc("GET /desk/new", s.page(s.uiDeskForm, tongban.RoleIntake, tongban.RoleDispatcher))
	m.HandleFunc("POST /desk/new", s.page(s.uiDeskSubmit, tongban.RoleIntake, tongban.RoleDispatcher))
	m.HandleFunc("GET /desk/receipt/{code}", s.page(s.uiDeskReceipt, tongban.RoleIntake, tongban.RoleDispatcher))

	// Staff workbench.
	m.HandleFunc("GET /login", s.uiLoginForm)
	m.HandleFunc("POST /login", s.uiLogin)
	m.HandleFunc("POST /logout", s.page(s.uiLogout))
	m.HandleFunc("GET /work", s.page(s.uiInbox))
	m.HandleFunc("GET /work/cases/{id}", s.page(s.uiCase))
	m.HandleFunc("POST /work/cases/{id}/act", s.page(s.uiAct))
	m.HandleFunc("POST /work/cases/{id}/reveal", s.page(s.uiReveal))
	m.HandleFunc("GET /work/cases/{id}/attachments/{aid}", s.page(s.uiAttachment))

	s.adminRoutes()
	m.HandleFunc("GET /", s.uiNotFound)
}

// uiNotFound answers a GET that no route matched: a page for people, and
// for the API the 405 the mux would have given when another method fits,
// in the API's error envelope.
func (s *Server) uiNotFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/open311/") {
		var allow []string
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			r2 := r.Clone(r.Context())
			r2.Method = m
			if _, p := s.mux.Handler(r2); p != "" && p != "GET /" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			if strings.HasPrefix(r.URL.Path, "/open311/") {
				s.open311Error(w, r, http.StatusMethodNotAllowed, tongban.Errorf(tongban.EInvalid, "不支持此请求方法", "method not allowed"))
				return
			}
			var b errorBody
			b.Error.Code, b.Error.Message, b.Error.MessageEN = tongban.EInvalid, "不支持此请求方法", "method not allowed"
			writeJSON(w, http.StatusMethodNotAllowed, b)
			return
		}
	}
	s.fail(w, r, tongban.ErrNotFound)
}

// page wraps a staff page: not logged in goes to the login page (GET) or
// gets 401; unsafe methods need the session's CSRF token; roles, if given,
// are required.
func (s *Server) page(h http.HandlerFunc, roles ...tongban.Role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a := authOf(r)
		if a.User == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.fail(w, r, tongban.ErrUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			limit := int64(1 << 20)
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
				limit = maxUploadBody
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
				if err := r.ParseMultipartForm(8 << 20); err != nil {
					s.fail(w, r, tongban.Errorf(tongban.ETooLarge, "上传内容过大", "upload too large"))
					return
				}
			}
		}
		if !s.csrfOK(r, a) {
			s.fail(w, r, tongban.Errorf(tongban.EForbidden, "页面已过期，请刷新后重试（CSRF 校验失败）", "the page has expired; reload it and retry (CSRF check failed)"))
			return
		}
		if len(roles) > 0 && !a.User.HasAny(roles...) {
			s.fail(w, r, tongban.ErrForbidden)
			return
		}
		h(w, r)
	}
}

// maxUploadBody bounds a form with up to nine 10 MB attachments.
const maxUploadBody = tongban.MaxAttachN*tongban.MaxAttachment + 1<<20

// errorPage renders an error as a page that says what to do next.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, e *tongban.Error) {
	v := s.newView(nil, r, "portal", "err.title."+strconv.Itoa(status))
	if strings.HasPrefix(v.Title, "err.title.") {
		v.Title = v.T("err.title.400")
		if status >= 500 {
			v.Title = v.T("err.title.500")
		}
	}
	if v.User != nil {
		v.Section = "work"
	}
	what := v.T("err.what." + strconv.Itoa(status))
	if strings.HasPrefix(what, "err.what.") {
		what = v.T("err.what.other")
	}
	v.D = map[string]any{"Status": status, "Message": errText(v.Lang, e), "What": what, "Code": e.Code,
		"Login": status == http.StatusUnauthorized || (status == http.StatusForbidden && v.User == nil)}
	s.render(w, r, status, "error", v)
}
