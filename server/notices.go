package server

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/workflow"
)

// Printable notices of an application (行政许可文书): the receipt, and the
// notices each intake decision and the licensing decision produce, as
// HTML ready to print (A4, the browser's print to PDF makes the PDF).

//go:embed templates/notice_*.html
var noticeFS embed.FS

var noticeTemplates = template.Must(template.ParseFS(noticeFS, "templates/notice_*.html"))

// NoticeKinds are the notices an application may have.
var NoticeKinds = map[string]string{
	"receipt":    "申请材料接收凭证",
	"acceptance": "受理通知书",
	"refusal":    "不予受理决定书",
	"supplement": "补正材料告知书",
	"decision":   "行政许可决定书",
}

type noticeData struct {
	Title, Office, TrackingCode, Date    string
	Applicant, Matter, MatterCode        string
	Version, PromisedDays, StatutoryDays int
	Channel, ReceivedDate                string
	AcceptedDate, PromisedDate           string
	StatutoryDate                        string
	Auto                                 bool
	Reason, CompetentOffice, Remedies    string
	Items                                []string
	Grant                                bool
	Reasons, LicenceNo                   string
}

// ChineseDate formats a date as official documents do: 2026年11月28日.
func ChineseDate(t time.Time) string {
	t = t.In(calendar.Shanghai)
	return fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
}

func dateOf(t *time.Time) string {
	if t == nil {
		return ""
	}
	return ChineseDate(*t)
}

// renderNotice builds one notice of an application, or not_found if the
// application has none of that kind (yet).
func (s *Server) renderNotice(c *tongban.Case, kind string) ([]byte, error) {
	title, ok := NoticeKinds[kind]
	if !ok || c.Kind != tongban.KindApplication {
		return nil, tongban.ErrNotFound
	}
	var am workflow.AppMatter
	var ap tongban.Applicant
	workflow.GetAttr(c, workflow.AttrMatter, &am)
	workflow.GetAttr(c, workflow.AttrApplicant, &ap)
	d := noticeData{Title: title, Office: s.deptName(c.Lead), TrackingCode: c.TrackingCode, Applicant: ap.Name,
		Matter: am.Name, MatterCode: am.Code, Version: am.Version, PromisedDays: am.PromisedDays, StatutoryDays: am.StatutoryDays,
		Channel: tongban.ChannelNames[c.Channel], ReceivedDate: ChineseDate(c.ReceivedAt),
		AcceptedDate: dateOf(workflow.AttrTime(c, workflow.AttrAcceptedAt)), Remedies: workflow.Remedies}
	var at time.Time
	switch kind {
	case "receipt":
		at = c.ReceivedAt
	case "acceptance":
		t := workflow.AttrTime(c, workflow.AttrAcceptedAt)
		if t == nil {
			return nil, tongban.Errorf(tongban.ENotFound, "尚未受理", "not accepted")
		}
		at = *t
		var auto bool
		d.Auto = workflow.GetAttr(c, workflow.AttrAutoAccepted, &auto) && auto
		d.PromisedDate = dateOf(workflow.AttrTime(c, workflow.AttrPromisedDeadline))
		d.StatutoryDate = dateOf(workflow.AttrTime(c, workflow.AttrStatutoryDeadline))
	case "refusal":
		var rf struct {
			Reason          string    `json:"reason"`
			CompetentOffice string    `json:"competent_office"`
			At              time.Time `json:"at"`
		}
		if !workflow.GetAttr(c, workflow.AttrRefusal, &rf) {
			return nil, tongban.Errorf(tongban.ENotFound, "未作出不予受理决定", "no refusal")
		}
		at, d.Reason, d.CompetentOffice = rf.At, rf.Reason, rf.CompetentOffice
	case "supplement":
		var sr struct {
			Items []string  `json:"items"`
			At    time.Time `json:"at"`
		}
		if !workflow.GetAttr(c, workflow.AttrSupplementRequest, &sr) {
			return nil, tongban.Errorf(tongban.ENotFound, "未告知补正", "no supplement notice")
		}
		at, d.Items = sr.At, sr.Items
	case "decision":
		var dec workflow.Decision
		if !workflow.GetAttr(c, workflow.AttrDecision, &dec) {
			return nil, tongban.Errorf(tongban.ENotFound, "尚未作出决定", "not decided")
		}
		at, d.Grant, d.Reasons, d.LicenceNo = dec.At, dec.Grant, dec.Reasons, dec.LicenceNo
		if dec.Grant {
			d.Title = "准予行政许可决定书"
		} else {
			d.Title = "不予行政许可决定书"
		}
	}
	d.Date = ChineseDate(at)
	var buf bytes.Buffer
	if err := noticeTemplates.ExecuteTemplate(&buf, "notice_"+kind+".html", d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (s *Server) writeNotice(w http.ResponseWriter, r *http.Request, c *tongban.Case) {
	b, err := s.renderNotice(c, r.PathValue("kind"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Write(b)
}

func (s *Server) apiNotice(w http.ResponseWriter, r *http.Request) {
	c, err := s.Engine.Get(r.Context(), authOf(r).actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeNotice(w, r, c)
}

// apiPublicNotice gives the applicant their notices, proven by tracking
// code and ?phone_last4=.
func (s *Server) apiPublicNotice(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, "track", s.Opts.TrackPerMinute) {
		return
	}
	c, err := s.trackCase(r, r.PathValue("code"), r.URL.Query().Get("phone_last4"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeNotice(w, r, c)
}
