// Package server is tongban's HTTP face: the JSON API under /api/v1, Open311
// GeoReport v2 under /open311/v2, the web pages, and the operational
// endpoints. Errors are mapped to statuses in one place (errors.go); who may
// do what is decided by the engine and checked here per request.
package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
)

// Options tune a server.
type Options struct {
	// Per-IP limits per minute on public endpoints.
	SubmitPerMinute int
	TrackPerMinute  int
	LoginPerMinute  int
	// TrustProxy takes the client address from X-Forwarded-For (behind
	// the district's load balancer only).
	TrustProxy bool
}

// DefaultOptions are the limits for a district portal.
func DefaultOptions() Options {
	return Options{SubmitPerMinute: 20, TrackPerMinute: 60, LoginPerMinute: 20}
}

// Server serves tongban over HTTP.
type Server struct {
	Engine *engine.Engine
	Store  tongban.Store
	Log    *slog.Logger
	Opts   Options
	mux    *http.ServeMux

	requests atomic.Int64
	errors5  atomic.Int64
	started  time.Time
}

// New builds a server with every route registered.
func New(e *engine.Engine, opts Options) *Server {
	s := &Server{Engine: e, Store: e.Store, Log: e.Log, Opts: opts, mux: http.NewServeMux(), started: time.Now()}
	s.routes()
	return s
}

// Handler returns the root handler with the middleware applied.
func (s *Server) Handler() http.Handler { return s.recover(s.headers(s.authenticate(s.mux))) }

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	m.HandleFunc("GET /readyz", s.readyz)
	m.HandleFunc("GET /metrics", s.metrics)
	s.apiRoutes()
	s.open311Routes()
	s.uiRoutes()
	s.superviseRoutes()
	s.textRoutes()
	s.matterRoutes()
	s.applyRoutes() // ui_matters.go: catalogue, online application, progress, review workbench
	s.ratingRoutes()
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "database": "down"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "database": "up"})
}

type ctxKey int

const (
	ctxAuth ctxKey = iota
)

// auth is who is calling, resolved once per request.
type auth struct {
	User    *tongban.User
	Session *tongban.Session
	APIKey  *tongban.APIKey
	Cookie  bool // authenticated by session cookie: CSRF applies
}

func authOf(r *http.Request) *auth {
	a, _ := r.Context().Value(ctxAuth).(*auth)
	if a == nil {
		return &auth{}
	}
	return a
}

func (a *auth) actor() engine.Actor { return engine.Actor{User: a.User, APIKey: a.APIKey} }

const sessionCookie = "tb_session"

// authenticate resolves a bearer token, an API key or the session cookie.
// A bad bearer token is an error; a stale cookie is just ignored.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := &auth{}
		if h := r.Header.Get("Authorization"); h != "" {
			token, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				s.fail(w, r, tongban.Errorf(tongban.EUnauthorized, "仅支持 Bearer 令牌", "only Bearer tokens are accepted"))
				return
			}
			token = strings.TrimSpace(token)
			if strings.HasPrefix(token, "tbk_") {
				k, err := s.Engine.CheckAPIKey(r.Context(), token)
				if err != nil {
					s.fail(w, r, err)
					return
				}
				a.APIKey = k
			} else {
				sess, u, err := s.Engine.Authenticate(r.Context(), token)
				if err != nil {
					s.fail(w, r, err)
					return
				}
				a.User, a.Session = u, sess
			}
		} else if k := r.Header.Get("X-API-Key"); k != "" {
			key, err := s.Engine.CheckAPIKey(r.Context(), k)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			a.APIKey = key
		} else if c, err := r.Cookie(sessionCookie); err == nil {
			sess, u, err := s.Engine.Authenticate(r.Context(), c.Value)
			switch {
			case err == nil:
				a.User, a.Session, a.Cookie = u, sess, true
			case tongban.ErrorCode(err) != tongban.EUnauthorized:
				s.fail(w, r, err) // the store is down: say so rather than log the user out
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxAuth, a)))
	})
}

// headers sets the security headers every response carries. The strict
// CSP holds because every script and style is served from the binary.
func (s *Server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Log.Error("panic", "err", v, "path", r.URL.Path, "stack", string(debug.Stack()))
				s.fail(w, r, tongban.Errorf(tongban.EInternal, "服务器内部错误", "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// clientIP is the caller's address, for rate limits.
func (s *Server) clientIP(r *http.Request) string {
	if s.Opts.TrustProxy {
		if f := r.Header.Get("X-Forwarded-For"); f != "" {
			return strings.TrimSpace(strings.Split(f, ",")[0])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limit counts a hit against a per-minute budget and fails with 429 when
// it is spent.
func (s *Server) limit(w http.ResponseWriter, r *http.Request, bucket string, perMinute int) bool {
	if perMinute <= 0 {
		return true
	}
	n, err := s.Store.HitRate(r.Context(), bucket+":"+s.clientIP(r), time.Minute, time.Now())
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	if n > perMinute {
		w.Header().Set("Retry-After", "60")
		s.fail(w, r, tongban.Errorf(tongban.ERateLimited, "请求过于频繁，请稍后再试", "too many requests; try again later"))
		return false
	}
	return true
}
