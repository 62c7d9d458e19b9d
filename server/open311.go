package server

import (
	"net/http"

	"github.com/tongban/tongban"
)

func (s *Server) open311Routes() {}

func (s *Server) open311Error(w http.ResponseWriter, r *http.Request, status int, e *tongban.Error) {
	writeJSON(w, status, []map[string]any{{"code": status, "description": e.Message + " / " + e.English}})
}
