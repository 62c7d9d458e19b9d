package server

import (
	"html/template"
	"net/http"

	"github.com/tongban/tongban"
)

func (s *Server) uiRoutes() {
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>通办</title><h1>通办 tongban</h1><p>API: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a></p></html>`))
	})
}

var errorTmpl = template.Must(template.New("e").Parse(`<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{{.Status}} {{.Message}}</title><h1>{{.Status}}</h1><p>{{.Message}}</p><p>{{.English}}</p><p><a href="/">返回首页 / Home</a></p></html>`))

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, e *tongban.Error) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	errorTmpl.Execute(w, map[string]any{"Status": status, "Message": e.Message, "English": e.English})
}
