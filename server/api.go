package server

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/engine"
)

func (s *Server) apiRoutes() {
	m := s.mux
	m.HandleFunc("POST /api/v1/auth/token", s.apiLogin)
	m.HandleFunc("DELETE /api/v1/auth/token", s.apiLogout)
	m.HandleFunc("GET /api/v1/me", s.staff(s.apiMe))
	m.HandleFunc("GET /api/v1/openapi.json", s.apiOpenAPI)

	m.HandleFunc("GET /api/v1/departments", s.apiDepartments)
	m.HandleFunc("POST /api/v1/departments", s.role(s.apiCreateDepartment, tongban.RoleAdmin))
	m.HandleFunc("PATCH /api/v1/departments/{code}", s.role(s.apiUpdateDepartment, tongban.RoleAdmin))
	m.HandleFunc("GET /api/v1/users", s.role(s.apiUsers, tongban.RoleAdmin))
	m.HandleFunc("POST /api/v1/users", s.role(s.apiCreateUser, tongban.RoleAdmin))
	m.HandleFunc("PATCH /api/v1/users/{id}", s.role(s.apiUpdateUser, tongban.RoleAdmin))
	m.HandleFunc("GET /api/v1/categories", s.apiCategories)
	m.HandleFunc("GET /api/v1/categories/{code}", s.apiCategory)
	m.HandleFunc("POST /api/v1/categories", s.role(s.apiPutCategory, tongban.RoleAdmin))
	m.HandleFunc("PUT /api/v1/categories/{code}", s.role(s.apiPutCategory, tongban.RoleAdmin))
	m.HandleFunc("GET /api/v1/workflows", s.apiWorkflows)

	m.HandleFunc("GET /api/v1/cases", s.staff(s.apiListCases))
	m.HandleFunc("POST /api/v1/cases", s.apiCreateCase)
	m.HandleFunc("GET /api/v1/cases/{id}", s.staff(s.apiGetCase))
	m.HandleFunc("POST /api/v1/cases/{id}/actions", s.staff(s.apiAct))
	m.HandleFunc("GET /api/v1/cases/{id}/events", s.staff(s.apiEvents))
	m.HandleFunc("GET /api/v1/cases/{id}/requester", s.staff(s.apiRequester))
	m.HandleFunc("GET /api/v1/cases/{id}/attachments/{aid}", s.staff(s.apiAttachment))

	m.HandleFunc("GET /api/v1/track/{code}", s.apiTrack)
	m.HandleFunc("POST /api/v1/track/{code}/rate", s.apiRate)

	m.HandleFunc("GET /api/v1/calendar/overrides", s.apiOverrides)
	m.HandleFunc("PUT /api/v1/calendar/overrides/{date}", s.role(s.apiSetOverride, tongban.RoleAdmin))
	m.HandleFunc("DELETE /api/v1/calendar/overrides/{date}", s.role(s.apiDeleteOverride, tongban.RoleAdmin))
	m.HandleFunc("GET /api/v1/workdays", s.apiWorkdays)

	m.HandleFunc("GET /api/v1/apikeys", s.role(s.apiKeys, tongban.RoleAdmin))
	m.HandleFunc("POST /api/v1/apikeys", s.role(s.apiCreateKey, tongban.RoleAdmin))
	m.HandleFunc("DELETE /api/v1/apikeys/{id}", s.role(s.apiRevokeKey, tongban.RoleAdmin))
	// Unknown API paths and methods answer in the API's JSON error format.
	for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		m.HandleFunc(method+" /api/", func(w http.ResponseWriter, r *http.Request) { s.fail(w, r, tongban.ErrNotFound) })
	}
}

// staff requires a logged-in user; cookie-authenticated unsafe requests
// must carry the session's CSRF token.
func (s *Server) staff(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a := authOf(r)
		if a.User == nil {
			s.fail(w, r, tongban.ErrUnauthorized)
			return
		}
		if !s.csrfOK(r, a) {
			s.fail(w, r, tongban.Errorf(tongban.EForbidden, "页面已过期，请刷新后重试（CSRF 校验失败）", "CSRF check failed; reload the page and retry"))
			return
		}
		h(w, r)
	}
}

// role requires a user holding one of the roles.
func (s *Server) role(h http.HandlerFunc, roles ...tongban.Role) http.HandlerFunc {
	return s.staff(func(w http.ResponseWriter, r *http.Request) {
		if !authOf(r).User.HasAny(roles...) {
			s.fail(w, r, tongban.ErrForbidden)
			return
		}
		h(w, r)
	})
}

func (s *Server) csrfOK(r *http.Request, a *auth) bool {
	if !a.Cookie || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	tok := r.Header.Get("X-CSRF-Token")
	if tok == "" {
		tok = r.PostFormValue("csrf")
	}
	return tok != "" && a.Session != nil && tok == a.Session.CSRF
}

func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, "login", s.Opts.LoginPerMinute) {
		return
	}
	var in struct {
		Login    string `json:"login"`
		Password string `json:"password"`
	}
	if err := decodeJSON(w, r, maxJSON, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	token, sess, u, err := s.Engine.Login(r.Context(), in.Login, in.Password)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": token, "expires_at": sess.ExpiresAt, "user": u})
}

func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request) {
	a := authOf(r)
	if a.Session == nil {
		s.fail(w, r, tongban.ErrUnauthorized)
		return
	}
	if err := s.Engine.Logout(r.Context(), a.Session.TokenHash); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, authOf(r).User)
}

func (s *Server) apiDepartments(w http.ResponseWriter, r *http.Request) {
	ds, err := s.Store.ListDepartments(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"departments": nonNil(ds)})
}

func (s *Server) apiCreateDepartment(w http.ResponseWriter, r *http.Request) {
	var d tongban.Department
	if err := decodeJSON(w, r, maxJSON, &d); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Engine.AddDepartment(r.Context(), &d); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, d)
}

func (s *Server) apiUpdateDepartment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name     *string   `json:"name"`
		Kind     *string   `json:"kind"`
		Parent   *string   `json:"parent"`
		Keywords *[]string `json:"keywords"`
		Disabled *bool     `json:"disabled"`
	}
	if err := decodeJSON(w, r, maxJSON, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.Store.Department(r.Context(), r.PathValue("code"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	setIf(&d.Name, in.Name)
	setIf(&d.Kind, in.Kind)
	setIf(&d.Parent, in.Parent)
	setIf(&d.Keywords, in.Keywords)
	setIf(&d.Disabled, in.Disabled)
	if err := s.Engine.UpdateDepartment(r.Context(), d); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func (s *Server) apiUsers(w http.ResponseWriter, r *http.Request) {
	us, err := s.Store.ListUsers(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": nonNil(us)})
}

type userInput struct {
	Login    *string   `json:"login"`
	Name     *string   `json:"name"`
	Dept     *string   `json:"department"`
	Roles    *[]string `json:"roles"`
	Phone    *string   `json:"phone"`
	Password *string   `json:"password"`
	Disabled *bool     `json:"disabled"`
}

func (in userInput) change() engine.UserChange {
	c := engine.UserChange{Name: in.Name, Dept: in.Dept, Phone: in.Phone, Password: in.Password, Disabled: in.Disabled}
	if in.Roles != nil {
		s := strings.Join(*in.Roles, ",")
		c.Roles = &s
	}
	return c
}

func (s *Server) apiCreateUser(w http.ResponseWriter, r *http.Request) {
	var in userInput
	if err := decodeJSON(w, r, maxJSON, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	login := ""
	if in.Login != nil {
		login = *in.Login
	}
	u, err := s.Engine.AddUser(r.Context(), login, in.change())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, u)
}

func (s *Server) apiUpdateUser(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, tongban.ErrNotFound)
		return
	}
	var in userInput
	if err := decodeJSON(w, r, maxJSON, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	if in.Login != nil {
		s.fail(w, r, tongban.FieldError("login", "登录名不可修改", "login cannot be changed"))
		return
	}
	u, err := s.Engine.UpdateUser(r.Context(), authOf(r).User, id, in.change())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) apiCategories(w http.ResponseWriter, r *http.Request) {
	cs, err := s.Store.ListCategories(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"categories": nonNil(cs)})
}

func (s *Server) apiCategory(w http.ResponseWriter, r *http.Request) {
	c, err := s.Store.Category(r.Context(), r.PathValue("code"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) apiPutCategory(w http.ResponseWriter, r *http.Request) {
	var c tongban.Category
	c.Active = true
	if err := decodeJSON(w, r, maxJSON, &c); err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if code := r.PathValue("code"); code != "" {
		if c.Code != "" && c.Code != code {
			s.fail(w, r, tongban.FieldError("code", "编码与地址不一致", "code does not match the URL"))
			return
		}
		c.Code = code
		status = http.StatusOK
	}
	if err := s.Engine.PutCategory(r.Context(), &c); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, status, c)
}

func (s *Server) apiWorkflows(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Engine.Workflows)
}

// createInput is a new case as the API takes it.
type createInput struct {
	Kind         string            `json:"kind"`
	Type         string            `json:"type"`
	Category     string            `json:"category"`
	Title        string            `json:"title"`
	Body         string            `json:"body"`
	Address      string            `json:"address"`
	Lat          *float64          `json:"lat"`
	Long         *float64          `json:"long"`
	Requester    tongban.Requester `json:"requester"`
	Confidential bool              `json:"confidential"`
	Channel      string            `json:"channel"`
	// An application (kind "application") names its matter, applicant and form.
	Matter      string                     `json:"matter"`
	Applicant   *tongban.Applicant         `json:"applicant"`
	Form        map[string]json.RawMessage `json:"form"`
	Attachments []struct {
		Name string `json:"name"`
		Data string `json:"content_base64"`
	} `json:"attachments"`
}

func (s *Server) apiCreateCase(w http.ResponseWriter, r *http.Request) {
	a := authOf(r)
	if a.User != nil && !s.csrfOK(r, a) {
		s.fail(w, r, tongban.Errorf(tongban.EForbidden, "CSRF 校验失败", "CSRF check failed"))
		return
	}
	if a.User == nil && a.APIKey == nil && !s.limit(w, r, "submit", s.Opts.SubmitPerMinute) {
		return
	}
	var in createInput
	if err := decodeJSON(w, r, maxCreateJSON, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	if in.Kind == tongban.KindApplication {
		s.apiCreateApplication(w, r, a, &in)
		return
	}
	nc := engine.NewCase{Kind: in.Kind, Type: in.Type, Category: in.Category, Title: in.Title, Body: in.Body, Address: in.Address,
		Lat: in.Lat, Long: in.Long, Requester: in.Requester, Confidential: in.Confidential}
	ch, err := channelFor(a, in.Channel)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	nc.Channel = ch
	if nc.Uploads, err = in.uploads(); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.Engine.Create(r.Context(), a.actor(), nc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/cases/"+strconv.FormatInt(c.ID, 10))
	if a.User == nil && a.APIKey == nil {
		writeJSON(w, http.StatusCreated, s.trackView(r, c, nil, true))
		return
	}
	writeJSON(w, http.StatusCreated, s.caseView(r, a.actor(), c))
}

// uploads decodes the attachments sent as base64.
func (in *createInput) uploads() ([]engine.Upload, error) {
	if len(in.Attachments) > tongban.MaxAttachN {
		return nil, tongban.FieldError("attachments", "附件最多9个", "at most 9 attachments")
	}
	var out []engine.Upload
	for i, at := range in.Attachments {
		data, err := base64.StdEncoding.DecodeString(at.Data)
		if err != nil {
			return nil, tongban.FieldError("attachments", "附件"+strconv.Itoa(i+1)+"不是有效的 base64", "attachment "+strconv.Itoa(i+1)+" is not valid base64")
		}
		out = append(out, engine.Upload{Name: at.Name, Data: data})
	}
	return out, nil
}

// channelFor decides the channel: the public files on the web, machines
// through the API, and staff say how the request reached them.
func channelFor(a *auth, want string) (string, error) {
	switch {
	case a.User != nil:
		if !a.User.HasAny(tongban.RoleIntake, tongban.RoleDispatcher) {
			return "", tongban.ErrForbidden
		}
		if want == "" {
			return tongban.ChannelPhone, nil
		}
		if !slices.Contains(tongban.Channels, want) {
			return "", tongban.FieldError("channel", "未知渠道", "unknown channel")
		}
		return want, nil
	case a.APIKey != nil:
		if want != "" && want != tongban.ChannelAPI {
			return "", tongban.FieldError("channel", "接口提交的渠道只能是 api", "API clients file on channel api")
		}
		return tongban.ChannelAPI, nil
	}
	if want != "" && want != tongban.ChannelWeb {
		return "", tongban.FieldError("channel", "公众提交的渠道只能是 web", "the public files on channel web")
	}
	return tongban.ChannelWeb, nil
}

// listFilter reads case filters from the query string and scopes them to
// what the user may see.
func (s *Server) listFilter(r *http.Request, u *tongban.User) (tongban.CaseFilter, error) {
	q := r.URL.Query()
	f := tongban.CaseFilter{Kind: q.Get("kind"), Status: q.Get("status"), Type: q.Get("type"), Category: q.Get("category"),
		Dept: q.Get("department"), Channel: q.Get("channel"), Query: strings.TrimSpace(q.Get("q")), Sort: q.Get("sort"), Pending: q.Get("pending")}
	if len(f.Query) > 200 {
		return f, tongban.FieldError("q", "搜索词过长", "query too long")
	}
	if t := f.Type; t != "" {
		code, ok := tongban.ParseType(t)
		if !ok {
			return f, tongban.FieldError("type", "未知诉求类型", "unknown type")
		}
		f.Type = code
	}
	if f.Status != "" && f.Status != tongban.StatusOpen && f.Status != tongban.StatusClosed {
		return f, tongban.FieldError("status", "状态只能是 open 或 closed", "status must be open or closed")
	}
	if st := q.Get("step"); st != "" {
		f.Steps = strings.Split(st, ",")
	}
	if q.Get("assignee") == "me" {
		f.Assignee = u.Login
	} else {
		f.Assignee = q.Get("assignee")
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
		end  bool
	}{{"from", &f.From, false}, {"to", &f.To, true}} {
		if v := q.Get(p.name); v != "" {
			t, err := calendar.ParseDate(v)
			if err != nil {
				return f, tongban.FieldError(p.name, "日期格式应为 YYYY-MM-DD", "dates are YYYY-MM-DD")
			}
			if p.end {
				t = t.AddDate(0, 0, 1)
			}
			*p.dst = t
		}
	}
	switch q.Get("due") {
	case "":
	case "overdue":
		f.DueBefore, f.Status = s.Engine.Now(), tongban.StatusOpen
	case "soon":
		f.DueBefore, f.Status = s.Engine.Calendar().DeadlineAfterWorkdays(s.Engine.Now(), 1), tongban.StatusOpen
	default:
		return f, tongban.FieldError("due", "due 只能是 overdue 或 soon", "due must be overdue or soon")
	}
	limit, offset := 20, 0
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return f, tongban.FieldError("per_page", "每页条数须在1到100之间", "per_page must be 1..100")
		}
		limit = n
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100000 {
			return f, tongban.FieldError("page", "页码无效", "invalid page")
		}
		offset = (n - 1) * limit
	}
	f.Limit, f.Offset = limit, offset
	switch f.Sort {
	case "", "deadline", "received", "-received", "-updated":
	default:
		return f, tongban.FieldError("sort", "未知排序方式", "unknown sort")
	}
	// Departments see their own cases only.
	if !u.HasAny(tongban.RoleIntake, tongban.RoleDispatcher, tongban.RoleSupervisor, tongban.RoleLeader, tongban.RoleAdmin) {
		f.Dept = u.Dept
	}
	return f, nil
}

func (s *Server) apiListCases(w http.ResponseWriter, r *http.Request) {
	a := authOf(r)
	f, err := s.listFilter(r, a.User)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := s.Store.ListCases(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	views := make([]*caseView, len(page.Cases))
	for i, c := range page.Cases {
		views[i] = s.caseSummary(c)
		views[i].Snippet = searchSnippet(c, f.Query)
	}
	writeJSON(w, http.StatusOK, map[string]any{"cases": views, "total": page.Total, "page": f.Offset/f.Limit + 1, "per_page": f.Limit})
}

func (s *Server) apiGetCase(w http.ResponseWriter, r *http.Request) {
	a := authOf(r)
	c, err := s.Engine.Get(r.Context(), a.actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", `"`+strconv.FormatInt(c.Version, 10)+`"`)
	writeJSON(w, http.StatusOK, s.caseView(r, a.actor(), c))
}

func (s *Server) apiAct(w http.ResponseWriter, r *http.Request) {
	a := authOf(r)
	var raw map[string]json.RawMessage
	if err := decodeJSON(w, r, maxJSON, &raw); err != nil {
		s.fail(w, r, err)
		return
	}
	var action string
	if err := json.Unmarshal(raw["action"], &action); err != nil || action == "" {
		s.fail(w, r, tongban.FieldError("action", "请指定操作 action", "action is required"))
		return
	}
	// If-Match carries the version the client saw, as an alternative to "version".
	if im := strings.Trim(r.Header.Get("If-Match"), `"`); im != "" && raw["version"] == nil {
		raw["version"] = json.RawMessage(im)
	}
	c, ev, err := s.Engine.Act(r.Context(), a.actor(), r.PathValue("id"), action, raw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.caseView(r, a.actor(), c)
	v.Event = ev
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request) {
	a := authOf(r)
	c, err := s.Engine.Get(r.Context(), a.actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	evs, err := s.Store.Events(r.Context(), c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	bad := tongban.VerifyChain(evs)
	writeJSON(w, http.StatusOK, map[string]any{"events": nonNil(evs), "chain_ok": bad == 0, "first_bad_seq": bad})
}

func (s *Server) apiRequester(w http.ResponseWriter, r *http.Request) {
	a := authOf(r)
	c, err := s.Engine.Get(r.Context(), a.actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req, err := s.Engine.Reveal(r.Context(), a.User, c, r.URL.Query().Get("reason"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, req)
}

func (s *Server) apiAttachment(w http.ResponseWriter, r *http.Request) {
	a := authOf(r)
	c, err := s.Engine.Get(r.Context(), a.actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.serveAttachment(w, r, c)
}

func (s *Server) serveAttachment(w http.ResponseWriter, r *http.Request, c *tongban.Case) {
	aid, err := strconv.ParseInt(r.PathValue("aid"), 10, 64)
	if err != nil {
		s.fail(w, r, tongban.ErrNotFound)
		return
	}
	at, err := s.Store.Attachment(r.Context(), aid)
	if err != nil && tongban.ErrorCode(err) != tongban.ENotFound {
		s.fail(w, r, err)
		return
	}
	if err != nil || at.CaseID != c.ID {
		s.fail(w, r, tongban.ErrNotFound)
		return
	}
	w.Header().Set("Content-Type", at.ContentType)
	w.Header().Set("Content-Disposition", `inline; filename="attachment"; filename*=UTF-8''`+pathEscape(at.Name))
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Write(at.Data)
}

func (s *Server) apiOverrides(w http.ResponseWriter, r *http.Request) {
	os, err := s.Store.ListCalendarOverrides(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"overrides": nonNil(os)})
}

func (s *Server) apiSetOverride(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Off  bool   `json:"off"`
		Name string `json:"name"`
	}
	if err := decodeJSON(w, r, maxJSON, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	o := tongban.CalendarOverride{Date: r.PathValue("date"), Off: in.Off, Name: in.Name}
	if err := s.Engine.SetOverride(r.Context(), o); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func (s *Server) apiDeleteOverride(w http.ResponseWriter, r *http.Request) {
	if err := s.Engine.DeleteOverride(r.Context(), r.PathValue("date")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiWorkdays answers calendar arithmetic: ?from=DATE&n=N or ?from=A&to=B.
func (s *Server) apiWorkdays(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, err := calendar.ParseDate(q.Get("from"))
	if err != nil {
		s.fail(w, r, tongban.FieldError("from", "日期格式应为 YYYY-MM-DD", "from must be YYYY-MM-DD"))
		return
	}
	cal := s.Engine.Calendar()
	if to := q.Get("to"); to != "" {
		t, err := calendar.ParseDate(to)
		if err != nil {
			s.fail(w, r, tongban.FieldError("to", "日期格式应为 YYYY-MM-DD", "to must be YYYY-MM-DD"))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"from": q.Get("from"), "to": to, "workdays": cal.WorkdaysBetween(from, t)})
		return
	}
	n, err := strconv.Atoi(q.Get("n"))
	if err != nil || n < -3650 || n > 3650 {
		s.fail(w, r, tongban.FieldError("n", "n 须为 -3650 到 3650 的整数", "n must be an integer in -3650..3650"))
		return
	}
	d := cal.AddWorkdays(from, n)
	writeJSON(w, http.StatusOK, map[string]any{"from": q.Get("from"), "n": n, "date": d.Format("2006-01-02"), "provisional": cal.Provisional(d.Year())})
}

func (s *Server) apiKeys(w http.ResponseWriter, r *http.Request) {
	ks, err := s.Store.ListAPIKeys(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"api_keys": nonNil(ks)})
}

func (s *Server) apiCreateKey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(w, r, maxJSON, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	key, k, err := s.Engine.NewAPIKey(r.Context(), in.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"key": key, "api_key": k})
}

func (s *Server) apiRevokeKey(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, tongban.ErrNotFound)
		return
	}
	if err := s.Engine.RevokeAPIKey(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
