package server

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/tongban/tongban"
)

// statusOf maps error codes to HTTP statuses: the one place that does.
func statusOf(code string) int {
	switch code {
	case tongban.EInvalid:
		return http.StatusBadRequest
	case tongban.ENotFound:
		return http.StatusNotFound
	case tongban.EConflict:
		return http.StatusConflict
	case tongban.EForbidden:
		return http.StatusForbidden
	case tongban.EUnauthorized:
		return http.StatusUnauthorized
	case tongban.ETooLarge:
		return http.StatusRequestEntityTooLarge
	case tongban.ERateLimited:
		return http.StatusTooManyRequests
	case tongban.EUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// appError turns any error into an *tongban.Error fit to show: errors from
// a lost database become 503 with a retry hint; anything unknown is logged
// and shown as internal.
func (s *Server) appError(r *http.Request, err error) *tongban.Error {
	if e := tongban.AsError(err); e != nil {
		return e
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return tongban.Errorf(tongban.EUnavailable, "请求超时，请重试", "request timed out; retry")
	}
	if isConnErr(err) {
		s.Log.Warn("store unavailable", "err", err, "path", r.URL.Path)
		return tongban.Errorf(tongban.EUnavailable, "数据库暂时不可用，请稍后重试", "the database is unavailable; retry shortly")
	}
	s.errors5.Add(1)
	s.Log.Error("internal error", "err", err, "method", r.Method, "path", r.URL.Path)
	return tongban.Errorf(tongban.EInternal, "服务器内部错误，请稍后重试", "internal error; please retry")
}

func isConnErr(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"connection refused", "connection reset", "broken pipe", "failed to connect", "conn closed", "the database system is shutting down", "terminating connection", "unexpected EOF"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// errorBody is the JSON error format of the API.
type errorBody struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		MessageEN string `json:"message_en"`
		Field     string `json:"field,omitempty"`
	} `json:"error"`
}

// fail writes an error in the format the request's path calls for.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := s.appError(r, err)
	status := statusOf(e.Code)
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "5")
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/open311/"):
		s.open311Error(w, r, status, e)
	case strings.HasPrefix(r.URL.Path, "/api/") || !wantsHTML(r):
		var b errorBody
		b.Error.Code, b.Error.Message, b.Error.MessageEN, b.Error.Field = e.Code, e.Message, e.English, e.Field
		writeJSON(w, status, b)
	default:
		s.errorPage(w, r, status, e)
	}
}

func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html") || r.Header.Get("Accept") == ""
}

// jsonBuffers recycles response buffers: a body is encoded whole before
// the status is written, so an encoding failure still gets a proper error
// and the response carries a Content-Length instead of chunks.
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledJSON keeps one large listing from pinning its buffer forever.
const maxPooledJSON = 256 << 10

func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := jsonBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledJSON {
			buf.Reset()
			jsonBuffers.Put(buf)
		}
	}()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(true) // complaint text is hostile: keep <, >, & escaped even in JSON
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if err := enc.Encode(v); err != nil {
		slog.Error("encode response", "err", err)
		http.Error(w, `{"error":{"code":"internal","message":"内部错误 / internal error"}}`, http.StatusInternalServerError)
		return
	}
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
