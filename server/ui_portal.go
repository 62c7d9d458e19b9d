package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
)

// Public portal: home, submit, receipt, track and rate. Every page works
// without JavaScript; the map picker is the only scripted part and is
// optional.

// catLimit is a category as the home page lists it.
type catLimit struct {
	*tongban.Category
	Days map[string]int
}

func (s *Server) activeCategories(r *http.Request) ([]*tongban.Category, error) {
	cs, err := s.Store.ListCategories(r.Context())
	if err != nil {
		return nil, err
	}
	out := cs[:0:0]
	for _, c := range cs {
		if c.Active {
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *Server) uiHome(w http.ResponseWriter, r *http.Request) {
	v := s.newView(w, r, "portal", "site.name")
	cs, err := s.activeCategories(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var rows []catLimit
	for _, c := range cs {
		cl := catLimit{Category: c, Days: map[string]int{}}
		for _, t := range tongban.RequestTypes {
			cl.Days[t] = c.LimitDays(t)
		}
		rows = append(rows, cl)
	}
	v.D = map[string]any{"Categories": rows}
	s.render(w, r, http.StatusOK, "home", v)
}

// caseFormFields are the inputs of the submit form that errors may name.
var caseFormFields = []string{"type", "category", "title", "body", "address", "lat", "name", "phone", "email", "attachments", "channel"}

func (s *Server) submitView(w http.ResponseWriter, r *http.Request, section, title string) (*view, error) {
	v := s.newView(w, r, section, title)
	cs, err := s.activeCategories(r)
	if err != nil {
		return nil, err
	}
	d := map[string]any{"Categories": cs, "Map": theMap, "Desk": section == "desk",
		"Channels": []string{tongban.ChannelWindow, tongban.ChannelStreet, tongban.ChannelPhone}}
	v.D = d
	return v, nil
}

func (s *Server) uiSubmitForm(w http.ResponseWriter, r *http.Request) {
	v, err := s.submitView(w, r, "portal", "submit.title")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Form = url.Values{}
	if t := r.URL.Query().Get("type"); t != "" {
		v.Form.Set("type", t)
	}
	s.render(w, r, http.StatusOK, "submit", v)
}

// readCaseForm turns the submit form (multipart, or urlencoded without
// files) into a new case.
func readCaseForm(w http.ResponseWriter, r *http.Request) (engine.NewCase, url.Values, error) {
	var nc engine.NewCase
	if r.MultipartForm == nil && r.PostForm == nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxUploadBody)
		var err error
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			err = r.ParseMultipartForm(8 << 20)
		} else {
			err = r.ParseForm()
		}
		if err != nil {
			var big *http.MaxBytesError
			if errors.As(err, &big) {
				return nc, nil, &tongban.Error{Code: tongban.ETooLarge, Field: "attachments", Message: "上传内容过大", English: "upload too large"}
			}
			return nc, url.Values{}, tongban.Errorf(tongban.EInvalid, "表单无法解析", "cannot read the form")
		}
	}
	f := r.PostForm
	nc = engine.NewCase{Type: f.Get("type"), Category: f.Get("category"), Title: f.Get("title"), Body: f.Get("body"),
		Address: f.Get("address"), Confidential: f.Get("confidential") != "",
		Requester: tongban.Requester{Name: f.Get("name"), Phone: strings.TrimSpace(f.Get("phone")), Email: f.Get("email")}}
	if la, lo := strings.TrimSpace(f.Get("lat")), strings.TrimSpace(f.Get("long")); la != "" || lo != "" {
		lat, err1 := strconv.ParseFloat(la, 64)
		long, err2 := strconv.ParseFloat(lo, 64)
		if err1 != nil || err2 != nil {
			return nc, f, tongban.FieldError("lat", "位置无效，请重新选择或清除", "invalid location; choose again or clear it")
		}
		nc.Lat, nc.Long = &lat, &long
	}
	if r.MultipartForm != nil {
		files := r.MultipartForm.File["photos"]
		if len(files) > tongban.MaxAttachN {
			return nc, f, tongban.FieldError("attachments", "附件最多9个", "at most 9 attachments")
		}
		for _, fh := range files {
			if fh.Size == 0 && fh.Filename == "" {
				continue // the empty file input of a form sent without a file
			}
			if fh.Size > tongban.MaxAttachment {
				return nc, f, &tongban.Error{Code: tongban.ETooLarge, Field: "attachments", Message: "单个附件不能超过10MB：" + fh.Filename, English: "each attachment must be at most 10 MB: " + fh.Filename}
			}
			file, err := fh.Open()
			if err != nil {
				return nc, f, err
			}
			data, err := io.ReadAll(io.LimitReader(file, tongban.MaxAttachment+1))
			file.Close()
			if err != nil {
				return nc, f, err
			}
			nc.Uploads = append(nc.Uploads, engine.Upload{Name: fh.Filename, Data: data})
		}
	}
	return nc, f, nil
}

func (s *Server) uiSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, "submit", s.Opts.SubmitPerMinute) {
		return
	}
	nc, form, err := readCaseForm(w, r)
	if err == nil {
		nc.Channel = tongban.ChannelWeb
		var c *tongban.Case
		c, err = s.Engine.Create(r.Context(), engine.Actor{}, nc)
		if err == nil {
			setReceiptCookie(w, c.TrackingCode)
			http.Redirect(w, r, "/receipt/"+c.TrackingCode, http.StatusSeeOther)
			return
		}
	}
	s.submitFailed(w, r, "portal", "submit.title", form, err)
}

// submitFailed shows the form again with the input kept and the error
// next to its field.
func (s *Server) submitFailed(w http.ResponseWriter, r *http.Request, section, title string, form url.Values, err error) {
	e := tongban.AsError(err)
	if e == nil || e.Code == tongban.EInternal || e.Code == tongban.EUnavailable {
		s.fail(w, r, err)
		return
	}
	v, verr := s.submitView(w, r, section, title)
	if verr != nil {
		s.fail(w, r, verr)
		return
	}
	v.Form = form
	v.setError(e, caseFormFields...)
	status := statusOf(e.Code)
	s.render(w, r, status, "submit", v)
}

// Receipt access. The receipt names a case by its tracking code, which is
// in the URL and so may leak (history, a shared screen). The page is shown
// only to the browser that filed the case — it holds a signed cookie,
// valid for 30 minutes and scoped to /receipt/ — or to someone who gives
// the phone's last four digits, exactly as on the tracking page. The
// signing key is random per process: after a restart, or on another
// instance, the citizen is asked for the digits instead.
const (
	receiptCookie = "tb_receipt"
	receiptTTL    = 30 * time.Minute
)

var receiptKey = func() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}()

func receiptMAC(code string, exp int64) string {
	m := hmac.New(sha256.New, receiptKey)
	m.Write([]byte(code + "|" + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func setReceiptCookie(w http.ResponseWriter, code string) {
	exp := time.Now().Add(receiptTTL).Unix()
	http.SetCookie(w, &http.Cookie{Name: receiptCookie, Value: code + "." + strconv.FormatInt(exp, 10) + "." + receiptMAC(code, exp),
		Path: "/receipt/", MaxAge: int(receiptTTL.Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func receiptCookieFor(r *http.Request, code string) bool {
	c, err := r.Cookie(receiptCookie)
	if err != nil {
		return false
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 || parts[0] != code {
		return false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || time.Now().Unix() > exp {
		return false
	}
	return hmac.Equal([]byte(parts[2]), []byte(receiptMAC(code, exp)))
}

func (s *Server) uiReceipt(w http.ResponseWriter, r *http.Request) {
	code, ok := tongban.NormalizeTrackingCode(r.PathValue("code"))
	if !ok {
		s.fail(w, r, tongban.ErrNotFound)
		return
	}
	v := s.newView(w, r, "portal", "receipt.title")
	var c *tongban.Case
	if receiptCookieFor(r, code) {
		var err error
		if c, err = s.Store.CaseByCode(r.Context(), code); err != nil {
			s.fail(w, r, err)
			return
		}
	} else if last4 := r.URL.Query().Get("phone_last4"); last4 != "" {
		if !s.limit(w, r, "track", s.Opts.TrackPerMinute) {
			return
		}
		var err error
		if c, err = s.trackCase(r, code, last4); err != nil {
			if e := tongban.AsError(err); e != nil && e.Code == tongban.ENotFound {
				v.Error = errText(v.Lang, e)
				v.D = map[string]any{"Code": code}
				s.render(w, r, http.StatusNotFound, "receipt_verify", v)
				return
			}
			s.fail(w, r, err)
			return
		}
	} else {
		v.D = map[string]any{"Code": code}
		s.render(w, r, http.StatusOK, "receipt_verify", v)
		return
	}
	v.D = s.receiptData(c, false)
	s.render(w, r, http.StatusOK, "receipt", v)
}

func (s *Server) receiptData(c *tongban.Case, desk bool) map[string]any {
	return map[string]any{"Case": c, "CategoryName": s.categoryName(c.Category), "Desk": desk}
}

// uiTrack shows the tracking form, and the case when code and digits match.
func (s *Server) uiTrack(w http.ResponseWriter, r *http.Request) {
	v := s.newView(w, r, "portal", "track.title")
	q := r.URL.Query()
	v.Form = url.Values{"code": {q.Get("code")}, "phone_last4": {q.Get("phone_last4")}}
	if q.Get("code") == "" && q.Get("phone_last4") == "" {
		s.render(w, r, http.StatusOK, "track", v)
		return
	}
	if !s.limit(w, r, "track", s.Opts.TrackPerMinute) {
		return
	}
	c, err := s.trackCase(r, q.Get("code"), strings.TrimSpace(q.Get("phone_last4")))
	if err != nil {
		if e := tongban.AsError(err); e != nil && e.Code == tongban.ENotFound {
			v.Error = errText(v.Lang, e)
			s.render(w, r, http.StatusNotFound, "track", v)
			return
		}
		s.fail(w, r, err)
		return
	}
	if q.Get("rated") == "1" {
		v.Notice = v.T("track.thanks")
	}
	s.renderTrack(w, r, v, c, http.StatusOK)
}

func (s *Server) renderTrack(w http.ResponseWriter, r *http.Request, v *view, c *tongban.Case, status int) {
	if c.Kind == tongban.KindApplication {
		s.renderApplicationTrack(w, r, v, c, status) // ui_apply_track.go
		return
	}
	evs, err := s.Store.Events(r.Context(), c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tv := s.trackView(r, c, evs, false)
	stepEN := c.Step
	if d := s.Engine.Workflows[c.Workflow]; d != nil && d.Step(c.Step) != nil {
		stepEN = d.Step(c.Step).LabelEN
	}
	v.D = map[string]any{"Track": tv, "StepEN": stepEN, "Code": c.TrackingCode, "Last4": v.Form.Get("phone_last4"), "Levels": []int{5, 4, 3, 2, 1}}
	s.render(w, r, status, "track", v)
}

// uiRate takes the citizen's rating (好差评). The form is public: the
// tracking code and phone digits prove who rates, and the rate limit
// bounds guessing.
func (s *Server) uiRate(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, "track", s.Opts.TrackPerMinute) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, tongban.Errorf(tongban.EInvalid, "表单无法解析", "cannot read the form"))
		return
	}
	last4 := strings.TrimSpace(r.PostForm.Get("phone_last4"))
	c, err := s.trackCase(r, r.PathValue("code"), last4)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(w, r, "portal", "track.title")
	v.Form = url.Values{"code": {c.TrackingCode}, "phone_last4": {last4}, "level": {r.PostForm.Get("level")}, "comment": {r.PostForm.Get("comment")}}
	raw := map[string]json.RawMessage{}
	if lv := r.PostForm.Get("level"); lv != "" {
		n, err := strconv.Atoi(lv)
		if err != nil {
			v.setError(tongban.FieldError("level", "请选择满意度", "choose a level"), "level", "comment")
			s.renderTrack(w, r, v, c, http.StatusBadRequest)
			return
		}
		raw["level"], _ = json.Marshal(n)
	}
	if cm := strings.TrimSpace(r.PostForm.Get("comment")); cm != "" {
		raw["comment"], _ = json.Marshal(cm)
	}
	if _, _, err := s.Engine.Act(r.Context(), engine.Actor{}, c.TrackingCode, "rate", raw); err != nil {
		e := tongban.AsError(err)
		if e == nil || e.Code == tongban.EInternal || e.Code == tongban.EUnavailable {
			s.fail(w, r, err)
			return
		}
		if e.Field == "level" && raw["level"] == nil {
			e = tongban.FieldError("level", "请选择满意度", "choose a level")
		}
		v.setError(e, "level", "comment")
		if c2, err := s.Store.Case(r.Context(), c.ID); err == nil {
			c = c2
		}
		s.renderTrack(w, r, v, c, statusOf(e.Code))
		return
	}
	q := url.Values{"code": {c.TrackingCode}, "phone_last4": {last4}, "rated": {"1"}}
	http.Redirect(w, r, "/track?"+q.Encode(), http.StatusSeeOther)
}

// Service points: a clerk files on a citizen's behalf.

func (s *Server) uiDeskForm(w http.ResponseWriter, r *http.Request) {
	v, err := s.submitView(w, r, "desk", "desk.title")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Form = url.Values{"channel": {tongban.ChannelWindow}}
	s.render(w, r, http.StatusOK, "submit", v)
}

func (s *Server) uiDeskSubmit(w http.ResponseWriter, r *http.Request) {
	a := authOf(r)
	nc, form, err := readCaseForm(w, r)
	if err == nil {
		nc.Channel = form.Get("channel")
		switch nc.Channel {
		case tongban.ChannelWindow, tongban.ChannelStreet, tongban.ChannelPhone:
			var c *tongban.Case
			c, err = s.Engine.Create(r.Context(), a.actor(), nc)
			if err == nil {
				http.Redirect(w, r, "/desk/receipt/"+c.TrackingCode, http.StatusSeeOther)
				return
			}
		default:
			err = tongban.FieldError("channel", "请选择受理渠道", "choose the channel")
		}
	}
	s.submitFailed(w, r, "desk", "desk.title", form, err)
}

func (s *Server) uiDeskReceipt(w http.ResponseWriter, r *http.Request) {
	c, err := s.Engine.Get(r.Context(), authOf(r).actor(), r.PathValue("code"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(w, r, "desk", "receipt.title")
	v.D = s.receiptData(c, true)
	s.render(w, r, http.StatusOK, "receipt", v)
}
