package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/workflow"
)

// matterRoutes registers the service catalogue (事项目录), published
// grants, the applicant's own supplement and the printable notices.
// Applications themselves are filed through POST /api/v1/cases.
func (s *Server) matterRoutes() {
	m := s.mux
	m.HandleFunc("GET /api/v1/matters", s.apiMatters)
	m.HandleFunc("GET /api/v1/matters/{code}", s.apiMatter)
	m.HandleFunc("POST /api/v1/matters", s.role(s.apiPutMatter, tongban.RoleAdmin))
	m.HandleFunc("PUT /api/v1/matters/{code}", s.role(s.apiPutMatter, tongban.RoleAdmin))
	m.HandleFunc("GET /api/v1/matters/{code}/grants", s.apiGrants)
	m.HandleFunc("POST /api/v1/track/{code}/supplement", s.apiPublicSupplement)
	m.HandleFunc("GET /api/v1/cases/{id}/notices/{kind}", s.staff(s.apiNotice))
	m.HandleFunc("GET /api/v1/track/{code}/notices/{kind}", s.apiPublicNotice)
}

func (s *Server) apiMatters(w http.ResponseWriter, r *http.Request) {
	ms, err := s.Engine.Matters(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if r.URL.Query().Get("all") == "" {
		out := ms[:0]
		for _, m := range ms {
			if !m.Withdrawn {
				out = append(out, m)
			}
		}
		ms = out
	}
	writeJSON(w, http.StatusOK, map[string]any{"matters": ms, "total": len(ms)})
}

func (s *Server) apiMatter(w http.ResponseWriter, r *http.Request) {
	version, err := intParam(r, "version", 0, 0, 1<<30)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.Engine.Matter(r.Context(), r.PathValue("code"), version)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) apiPutMatter(w http.ResponseWriter, r *http.Request) {
	var m tongban.Matter
	if err := decodeJSON(w, r, maxCreateJSON, &m); err != nil {
		s.fail(w, r, err)
		return
	}
	if code := r.PathValue("code"); code != "" {
		if m.Code != "" && m.Code != code {
			s.fail(w, r, tongban.FieldError("code", "事项编码与地址不一致", "code differs from the path"))
			return
		}
		m.Code = code
	}
	if err := s.Engine.PutMatter(r.Context(), authOf(r).actor(), &m); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/matters/"+pathEscape(m.Code))
	status := http.StatusOK
	if m.Version == 1 {
		status = http.StatusCreated
	}
	writeJSON(w, status, m)
}

// grant is one published licence (Art. 40): who was granted what, when.
type grant struct {
	TrackingCode string    `json:"tracking_code"`
	Applicant    string    `json:"applicant"`
	USCI         string    `json:"usci,omitempty"`
	LicenceNo    string    `json:"licence_no,omitempty"`
	DecidedAt    time.Time `json:"decided_at"`
	Version      int       `json:"matter_version"`
}

func (s *Server) apiGrants(w http.ResponseWriter, r *http.Request) {
	m, err := s.Engine.Matter(r.Context(), r.PathValue("code"), 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []grant{}
	for offset := 0; offset < 100000; offset += 100 {
		page, err := s.Store.ListCases(r.Context(), tongban.CaseFilter{Kind: tongban.KindApplication, Category: m.Code,
			Steps: []string{"deliver", "rating", "closed"}, Sort: "-received", Offset: offset, Limit: 100})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, c := range page.Cases {
			var d workflow.Decision
			var ap tongban.Applicant
			var am workflow.AppMatter
			if !workflow.GetAttr(c, workflow.AttrDecision, &d) || !d.Grant {
				continue
			}
			workflow.GetAttr(c, workflow.AttrApplicant, &ap)
			workflow.GetAttr(c, workflow.AttrMatter, &am)
			g := grant{TrackingCode: c.TrackingCode, Applicant: ap.Name, LicenceNo: d.LicenceNo, DecidedAt: d.At, Version: am.Version}
			if ap.Type == tongban.ApplicantPerson {
				g.Applicant = tongban.MaskName(ap.Name) // a person's name is published masked
			} else {
				g.USCI = ap.USCI
			}
			out = append(out, g)
		}
		if len(page.Cases) < 100 {
			break
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"matter": m.Code, "name": m.Name, "grants": out, "total": len(out)})
}

// apiCreateApplication files an application: online by the applicant
// (rate-limited by the caller), by a partner system with an API key, or
// by a window or street clerk (intake) on the applicant's behalf.
func (s *Server) apiCreateApplication(w http.ResponseWriter, r *http.Request, a *auth, in *createInput) {
	if in.Type != "" || in.Category != "" || in.Title != "" || in.Body != "" || in.Address != "" || in.Lat != nil || in.Long != nil ||
		in.Requester != (tongban.Requester{}) || in.Confidential {
		s.fail(w, r, tongban.FieldError("kind", "行政许可申请只接受 matter、applicant、form、channel 和 attachments", "an application takes matter, applicant, form, channel and attachments only"))
		return
	}
	if in.Applicant == nil {
		s.fail(w, r, tongban.FieldError("applicant", "请填写申请人信息", "applicant is required"))
		return
	}
	na := engine.NewApplication{Matter: in.Matter, Applicant: *in.Applicant, Form: in.Form}
	switch {
	case a.User != nil:
		if !a.User.Has(tongban.RoleIntake) {
			s.fail(w, r, tongban.ErrForbidden)
			return
		}
		na.Channel = in.Channel
		if na.Channel == "" {
			na.Channel = tongban.ChannelWindow
		}
		if na.Channel != tongban.ChannelWindow && na.Channel != tongban.ChannelStreet {
			s.fail(w, r, tongban.FieldError("channel", "窗口代办的渠道须为 window 或 street", "a clerk files at a window or a street service point"))
			return
		}
	default:
		ch, err := channelFor(a, in.Channel)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		na.Channel = ch
	}
	uploads, err := in.uploads()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	na.Uploads = uploads
	c, err := s.Engine.CreateApplication(r.Context(), a.actor(), na)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/cases/"+strconv.FormatInt(c.ID, 10))
	if a.User == nil && a.APIKey == nil {
		v := s.trackView(r, c, nil, true)
		writeJSON(w, http.StatusCreated, map[string]any{"case": v, "tracking_code": c.TrackingCode,
			"statutory_deadline": workflow.AttrTime(c, workflow.AttrStatutoryDeadline), "promised_deadline": workflow.AttrTime(c, workflow.AttrPromisedDeadline),
			"receipt": "/api/v1/track/" + c.TrackingCode + "/notices/receipt"})
		return
	}
	writeJSON(w, http.StatusCreated, s.caseView(r, a.actor(), c))
}

// applicationView lifts an application's deadlines to the top of its
// representation and masks the applicant's identity number in its attrs.
func applicationView(v *caseView) {
	if v.Kind != tongban.KindApplication {
		return
	}
	v.StatutoryDeadline = workflow.AttrTime(&v.Case, workflow.AttrStatutoryDeadline)
	v.PromisedDeadline = workflow.AttrTime(&v.Case, workflow.AttrPromisedDeadline)
	var ap tongban.Applicant
	if workflow.GetAttr(&v.Case, workflow.AttrApplicant, &ap) {
		attrs := make(map[string]json.RawMessage, len(v.Attrs))
		for k, x := range v.Attrs {
			attrs[k] = x
		}
		m := ap.Masked()
		if ap.Type == tongban.ApplicantCompany {
			m.Name = ap.Name
		}
		attrs[workflow.AttrApplicant], _ = json.Marshal(m)
		v.Attrs = attrs
	}
}

// apiPublicSupplement: the applicant hands in what the 补正 notice asked
// for, proven by tracking code and the last four digits of the phone.
func (s *Server) apiPublicSupplement(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, "track", s.Opts.TrackPerMinute) {
		return
	}
	var in struct {
		PhoneLast4 string `json:"phone_last4"`
		Text       string `json:"text"`
	}
	if err := decodeJSON(w, r, maxJSON, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.trackCase(r, r.PathValue("code"), in.PhoneLast4)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if c.Kind != tongban.KindApplication {
		s.fail(w, r, tongban.ErrNotFound)
		return
	}
	raw := map[string]json.RawMessage{}
	raw["text"], _ = json.Marshal(strings.TrimSpace(in.Text))
	c, _, err = s.Engine.Act(r.Context(), engine.Actor{}, c.TrackingCode, "supplement", raw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.trackView(r, c, nil, false))
}
