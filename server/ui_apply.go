package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/workflow"
)

// The online application form (网上申请), generated from the matter's form
// definition. Input names are the field names the engine's errors carry
// (applicant.name, form.project …), so each error lands next to its
// field. The form posts in-process to Engine.CreateApplication, the same
// function POST /api/v1/cases calls for kind "application".

// applyField is one form field as the page renders it.
type applyField struct {
	tongban.FormField
	Input string // the input's name: form.<name>
	ID    string
}

type applyMaterial struct {
	tongban.Material
	N     int
	Input string
}

type applyData struct {
	M         *tongban.Matter
	Fields    []applyField
	Materials []applyMaterial
	Uploads   bool // the materials can be uploaded (at most 9)
	Lead      string
	Reattach  bool
}

func (s *Server) applyView(w http.ResponseWriter, r *http.Request, m *tongban.Matter) *view {
	v := s.newView(w, r, "portal", "ap.title")
	v.Title = v.T("ap.title") + " · " + m.Name
	d := &applyData{M: m, Lead: s.deptName(m.Lead), Uploads: len(m.Materials) > 0 && len(m.Materials) <= tongban.MaxAttachN}
	for _, f := range m.Form {
		d.Fields = append(d.Fields, applyField{FormField: f, Input: "form." + f.Name, ID: "fm-" + f.Name})
	}
	for i, mt := range m.Materials {
		d.Materials = append(d.Materials, applyMaterial{Material: mt, N: i + 1, Input: "material." + strconv.Itoa(i+1)})
	}
	v.D = d
	return v
}

// openMatter is the matter of the path if it takes applications.
func (s *Server) openMatter(r *http.Request) (*tongban.Matter, error) {
	m, err := s.Engine.Matter(r.Context(), r.PathValue("code"), 0)
	if err != nil {
		return nil, err
	}
	if m.Withdrawn {
		return nil, tongban.Errorf(tongban.ENotFound, "该事项已停止受理", "this matter takes no applications")
	}
	return m, nil
}

func (s *Server) uiApplyForm(w http.ResponseWriter, r *http.Request) {
	m, err := s.openMatter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.applyView(w, r, m)
	v.Form = url.Values{"applicant.type": {tongban.ApplicantPerson}}
	if t := r.URL.Query().Get("type"); t == tongban.ApplicantCompany {
		v.Form.Set("applicant.type", t)
	}
	s.render(w, r, http.StatusOK, "apply_form", v)
}

// readApplyForm parses the application form into the engine's input.
func readApplyForm(w http.ResponseWriter, r *http.Request, m *tongban.Matter) (engine.NewApplication, url.Values, error) {
	na := engine.NewApplication{Matter: m.Code, Channel: tongban.ChannelWeb, Form: map[string]json.RawMessage{}}
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
			return na, url.Values{}, &tongban.Error{Code: tongban.ETooLarge, Field: "attachments", Message: "上传内容过大", English: "upload too large"}
		}
		return na, url.Values{}, tongban.Errorf(tongban.EInvalid, "表单无法解析", "cannot read the form")
	}
	f := r.PostForm
	g := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	na.Applicant = tongban.Applicant{Type: g("applicant.type"), Name: g("applicant.name"), IDNumber: g("applicant.id_number"),
		USCI: g("applicant.usci"), Phone: g("applicant.phone"), Address: g("applicant.address"), Contact: g("applicant.contact"),
		Email: g("applicant.email")}
	if na.Applicant.Type == tongban.ApplicantPerson {
		na.Applicant.USCI, na.Applicant.Contact = "", "" // the company's inputs, left filled when the type was switched
	}
	for _, fd := range m.Form {
		val := g("form." + fd.Name)
		if val == "" {
			continue
		}
		switch fd.Type {
		case "number":
			if n, err := strconv.ParseFloat(val, 64); err == nil {
				na.Form[fd.Name], _ = json.Marshal(n)
				continue
			}
		case "bool":
			na.Form[fd.Name], _ = json.Marshal(val == "yes")
			continue
		}
		na.Form[fd.Name], _ = json.Marshal(val)
	}
	if r.MultipartForm != nil {
		for i, mt := range m.Materials {
			for _, fh := range r.MultipartForm.File["material."+strconv.Itoa(i+1)] {
				if fh.Size == 0 && fh.Filename == "" {
					continue
				}
				if fh.Size > tongban.MaxAttachment {
					return na, f, &tongban.Error{Code: tongban.ETooLarge, Field: "attachments", Message: "单个附件不能超过10MB：" + fh.Filename, English: "each attachment must be at most 10 MB: " + fh.Filename}
				}
				file, err := fh.Open()
				if err != nil {
					return na, f, err
				}
				data, err := io.ReadAll(io.LimitReader(file, tongban.MaxAttachment+1))
				file.Close()
				if err != nil {
					return na, f, err
				}
				name := strings.NewReplacer("/", "／", `\`, "＼").Replace(mt.Name + "-" + fh.Filename)
				if rs := []rune(name); len(rs) > 100 {
					name = string(rs[:100])
				}
				na.Uploads = append(na.Uploads, engine.Upload{Name: name, Data: data})
			}
		}
	}
	return na, f, nil
}

// formErrors checks every field of the form on its own, so the page can
// show all the errors at once; the engine checks again on filing.
func formErrors(lang string, m *tongban.Matter, na *engine.NewApplication) map[string]string {
	errs := map[string]string{}
	for _, fd := range m.Form {
		one := *m
		one.Form = []tongban.FormField{fd}
		raw := map[string]json.RawMessage{}
		if x, ok := na.Form[fd.Name]; ok {
			raw[fd.Name] = x
		}
		if _, err := one.ValidateForm(raw); err != nil {
			if e := tongban.AsError(err); e != nil && e.Field != "" {
				errs[e.Field] = errText(lang, e)
			}
		}
	}
	ap := na.Applicant
	if err := ap.Validate(); err != nil {
		if e := tongban.AsError(err); e != nil && e.Field != "" {
			errs[e.Field] = errText(lang, e)
		}
	}
	return errs
}

func (s *Server) uiApply(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, "submit", s.Opts.SubmitPerMinute) {
		return
	}
	m, err := s.openMatter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	na, form, err := readApplyForm(w, r, m)
	v := s.applyView(w, r, m)
	v.Form = form
	d := v.D.(*applyData)
	if err == nil {
		if errs := formErrors(v.Lang, m, &na); len(errs) > 0 {
			v.Errs, v.Error = errs, v.T("submit.failed")
			d.Reattach = len(na.Uploads) > 0
			s.render(w, r, http.StatusBadRequest, "apply_form", v)
			return
		}
		var c *tongban.Case
		c, err = s.Engine.CreateApplication(r.Context(), engine.Actor{}, na)
		if err == nil {
			setReceiptCookie(w, c.TrackingCode)
			http.Redirect(w, r, "/receipt/"+c.TrackingCode+"/application", http.StatusSeeOther)
			return
		}
	}
	e := tongban.AsError(err)
	if e == nil || e.Code == tongban.EInternal || e.Code == tongban.EUnavailable {
		s.fail(w, r, err)
		return
	}
	fields := []string{"attachments", "channel"}
	for k := range form {
		fields = append(fields, k)
	}
	for _, fd := range m.Form {
		fields = append(fields, "form."+fd.Name)
	}
	v.setError(e, fields...)
	d.Reattach = len(na.Uploads) > 0 || e.Field == "attachments"
	s.render(w, r, statusOf(e.Code), "apply_form", v)
}

// uiApplyReceipt is the printable receipt: for the browser that filed
// (the receipt cookie) or whoever gives the phone's last four digits.
func (s *Server) uiApplyReceipt(w http.ResponseWriter, r *http.Request) {
	code, ok := tongban.NormalizeTrackingCode(r.PathValue("code"))
	if !ok {
		s.fail(w, r, tongban.ErrNotFound)
		return
	}
	v := s.newView(w, r, "portal", "ap.receipt")
	var c *tongban.Case
	var err error
	switch last4 := r.URL.Query().Get("phone_last4"); {
	case receiptCookieFor(r, code):
		c, err = s.Store.CaseByCode(r.Context(), code)
	case last4 != "":
		if !s.limit(w, r, "track", s.Opts.TrackPerMinute) {
			return
		}
		c, err = s.trackCase(r, code, last4)
		if e := tongban.AsError(err); e != nil && e.Code == tongban.ENotFound {
			v.Error = errText(v.Lang, e)
			v.D = map[string]any{"Code": code, "Verify": true}
			s.render(w, r, http.StatusNotFound, "apply_receipt", v)
			return
		}
	default:
		v.D = map[string]any{"Code": code, "Verify": true}
		s.render(w, r, http.StatusOK, "apply_receipt", v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if c.Kind != tongban.KindApplication {
		http.Redirect(w, r, "/receipt/"+c.TrackingCode, http.StatusSeeOther)
		return
	}
	var am workflow.AppMatter
	var ap tongban.Applicant
	workflow.GetAttr(c, workflow.AttrMatter, &am)
	workflow.GetAttr(c, workflow.AttrApplicant, &ap)
	masked := ap.Masked()
	if ap.Type == tongban.ApplicantCompany {
		masked.Name = ap.Name
	}
	last4 := ""
	if p := c.Requester.Phone; len(p) >= 4 {
		last4 = p[len(p)-4:]
	}
	v.D = map[string]any{"Case": c, "Matter": am, "Applicant": masked, "Lead": s.deptName(c.Lead),
		"IntakeDays": workflow.IntakeDays, "Attachments": len(c.Attachments),
		"Notice": "/api/v1/track/" + c.TrackingCode + "/notices/receipt?phone_last4=" + url.QueryEscape(last4),
		"Track":  "/track?" + url.Values{"code": {c.TrackingCode}}.Encode()}
	s.render(w, r, http.StatusOK, "apply_receipt", v)
}
