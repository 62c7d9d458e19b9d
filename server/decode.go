package server

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/tongban/tongban"
)

// Request body limits.
const (
	maxJSON       = 1 << 20   // ordinary API bodies
	maxCreateJSON = 100 << 20 // a case with base64 attachments
)

// decodeJSON reads exactly one JSON object into v, strictly: unknown
// fields, wrong types, trailing data and oversize bodies are 4xx errors
// that name what is wrong.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		// Be liberal with clients (curl -d sends form-urlencoded) but not
		// with bodies that are plainly something else.
		if err != nil || strings.HasPrefix(mt, "multipart/") || strings.HasSuffix(mt, "xml") {
			return tongban.Errorf(tongban.EInvalid, "请求体须为 JSON（Content-Type: application/json）", "the body must be JSON (Content-Type: application/json)")
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		return tongban.Errorf(tongban.EInvalid, "请求体只能包含一个 JSON 对象", "the body must hold exactly one JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var big *http.MaxBytesError
	switch {
	case errors.As(err, &big):
		return tongban.Errorf(tongban.ETooLarge, "请求体过大", "request body too large")
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return tongban.Errorf(tongban.EInvalid, "JSON 格式错误", "malformed JSON")
	case errors.Is(err, io.EOF):
		return tongban.Errorf(tongban.EInvalid, "请求体为空", "empty body")
	case errors.As(err, &typ):
		f := typ.Field
		if f == "" {
			return tongban.Errorf(tongban.EInvalid, "JSON 类型错误：应为对象", "wrong JSON type: an object is expected")
		}
		return tongban.FieldError(f, "字段类型错误："+f+"（应为 "+typ.Type.String()+"）", "wrong type for field "+f+" (want "+typ.Type.String()+")")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return tongban.FieldError(f, "未知字段："+f, "unknown field: "+f)
	}
	return tongban.Errorf(tongban.EInvalid, "JSON 无法解析", "cannot parse JSON")
}
