package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
)

// Administration pages: departments, users, categories and time limits,
// holiday overrides and API keys. Every change goes through the engine,
// which validates it and refuses to lock the administrators out.

func (s *Server) adminRoutes() {
	m := s.mux
	ad := func(h http.HandlerFunc) http.HandlerFunc { return s.page(h, tongban.RoleAdmin) }
	m.HandleFunc("GET /admin", ad(s.uiAdmin))
	m.HandleFunc("GET /admin/departments", ad(s.uiDepts))
	m.HandleFunc("POST /admin/departments", ad(s.uiDeptSave))
	m.HandleFunc("GET /admin/departments/{code}", ad(s.uiDepts))
	m.HandleFunc("POST /admin/departments/{code}", ad(s.uiDeptSave))
	m.HandleFunc("GET /admin/users", ad(s.uiUsers))
	m.HandleFunc("POST /admin/users", ad(s.uiUserSave))
	m.HandleFunc("GET /admin/users/{id}", ad(s.uiUsers))
	m.HandleFunc("POST /admin/users/{id}", ad(s.uiUserSave))
	m.HandleFunc("GET /admin/categories", ad(s.uiCats))
	m.HandleFunc("POST /admin/categories", ad(s.uiCatSave))
	m.HandleFunc("GET /admin/categories/{code}", ad(s.uiCats))
	m.HandleFunc("POST /admin/categories/{code}", ad(s.uiCatSave))
	m.HandleFunc("GET /admin/holidays", ad(s.uiHolidays))
	m.HandleFunc("POST /admin/holidays", ad(s.uiHolidaySave))
	m.HandleFunc("POST /admin/holidays/{date}/delete", ad(s.uiHolidayDelete))
	m.HandleFunc("GET /admin/apikeys", ad(s.uiKeys))
	m.HandleFunc("POST /admin/apikeys", ad(s.uiKeyCreate))
	m.HandleFunc("POST /admin/apikeys/{id}/revoke", ad(s.uiKeyRevoke))
}

func (s *Server) adminView(w http.ResponseWriter, r *http.Request, title string) *view {
	v := s.newView(w, r, "admin", title)
	if r.URL.Query().Get("saved") == "1" {
		v.Notice = v.T("admin.saved")
	}
	return v
}

// adminFail shows a page again with the error next to its field, or
// fails the request when the error is not the user's to fix.
func (s *Server) adminFail(w http.ResponseWriter, r *http.Request, err error, show func(*view), fields ...string) {
	e := tongban.AsError(err)
	if e == nil || e.Code == tongban.EInternal || e.Code == tongban.EUnavailable || e.Code == tongban.ENotFound {
		s.fail(w, r, err)
		return
	}
	v := s.adminView(w, r, "admin.title")
	v.Form = r.PostForm
	v.setError(e, fields...)
	if v.Errs[e.Field] == "" {
		v.Error = errText(v.Lang, e)
	}
	v.D = map[string]any{"Status": statusOf(e.Code)}
	show(v)
}

func (s *Server) uiAdmin(w http.ResponseWriter, r *http.Request) {
	v := s.adminView(w, r, "admin.title")
	s.render(w, r, http.StatusOK, "admin", v)
}

var deptKindList = []string{tongban.DeptBureau, tongban.DeptStreet, tongban.DeptCentre, tongban.DeptSupervision}

func (s *Server) uiDepts(w http.ResponseWriter, r *http.Request) {
	s.showDepts(w, r, s.adminView(w, r, "admin.departments"), http.StatusOK)
}

func (s *Server) showDepts(w http.ResponseWriter, r *http.Request, v *view, status int) {
	ds, err := s.Store.ListDepartments(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := map[string]any{"Depts": ds, "Kinds": deptKindList}
	if code := r.PathValue("code"); code != "" {
		dep, err := s.Store.Department(r.Context(), code)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d["Edit"] = dep
		if v.Form == nil {
			v.Form = url.Values{"name": {dep.Name}, "kind": {dep.Kind}, "parent": {dep.Parent}, "keywords": {strings.Join(dep.Keywords, " ")}}
			if dep.Disabled {
				v.Form.Set("disabled", "1")
			}
		}
	}
	v.Title = v.T("admin.departments")
	v.D = d
	s.render(w, r, status, "admin_depts", v)
}

func (s *Server) uiDeptSave(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	code := r.PathValue("code")
	var err error
	if code == "" {
		d := &tongban.Department{Code: f.Get("code"), Name: f.Get("name"), Kind: f.Get("kind"), Parent: f.Get("parent"), Keywords: strings.Fields(f.Get("keywords"))}
		err = s.Engine.AddDepartment(r.Context(), d)
	} else {
		var d *tongban.Department
		if d, err = s.Store.Department(r.Context(), code); err == nil {
			d.Name, d.Kind, d.Parent, d.Keywords, d.Disabled = f.Get("name"), f.Get("kind"), f.Get("parent"), strings.Fields(f.Get("keywords")), f.Get("disabled") != ""
			err = s.Engine.UpdateDepartment(r.Context(), d)
		}
	}
	if err != nil {
		s.adminFail(w, r, err, func(v *view) { s.showDepts(w, r, v, statusOf(tongban.ErrorCode(err))) }, "code", "name", "kind", "parent", "keywords")
		return
	}
	http.Redirect(w, r, "/admin/departments?saved=1", http.StatusSeeOther)
}

func (s *Server) uiUsers(w http.ResponseWriter, r *http.Request) {
	s.showUsers(w, r, s.adminView(w, r, "admin.users"), http.StatusOK)
}

func (s *Server) showUsers(w http.ResponseWriter, r *http.Request, v *view, status int) {
	us, err := s.Store.ListUsers(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lk, err := s.loadLookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := map[string]string{}
	for _, d := range lk.list {
		names[d.Code] = d.Name
	}
	d := map[string]any{"Users": us, "Depts": lk.activeDepts(), "DeptNames": names}
	if id := r.PathValue("id"); id != "" {
		n, _ := strconv.ParseInt(id, 10, 64)
		u, err := s.Store.User(r.Context(), n)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d["Edit"] = u
		if v.Form == nil {
			v.Form = url.Values{"name": {u.Name}, "department": {u.Dept}, "phone": {u.Phone}}
			for _, ro := range u.Roles {
				v.Form.Add("roles", string(ro))
			}
			if u.Disabled {
				v.Form.Set("disabled", "1")
			}
		}
	}
	v.Title = v.T("admin.users")
	v.D = d
	s.render(w, r, status, "admin_users", v)
}

func (s *Server) uiUserSave(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	name, dept, phone := f.Get("name"), f.Get("department"), f.Get("phone")
	roles := strings.Join(f["roles"], ",")
	ch := engine.UserChange{Name: &name, Dept: &dept, Phone: &phone, Roles: &roles}
	if pw := f.Get("password"); pw != "" {
		ch.Password = &pw
	}
	var err error
	if id := r.PathValue("id"); id == "" {
		_, err = s.Engine.AddUser(r.Context(), f.Get("login"), ch)
	} else {
		n, perr := strconv.ParseInt(id, 10, 64)
		if perr != nil {
			s.fail(w, r, tongban.ErrNotFound)
			return
		}
		dis := f.Get("disabled") != ""
		ch.Disabled = &dis
		_, err = s.Engine.UpdateUser(r.Context(), authOf(r).User, n, ch)
	}
	if err != nil {
		s.adminFail(w, r, err, func(v *view) { s.showUsers(w, r, v, statusOf(tongban.ErrorCode(err))) }, "login", "name", "department", "roles", "phone", "password")
		return
	}
	http.Redirect(w, r, "/admin/users?saved=1", http.StatusSeeOther)
}

func (s *Server) uiCats(w http.ResponseWriter, r *http.Request) {
	s.showCats(w, r, s.adminView(w, r, "admin.categories"), http.StatusOK)
}

func (s *Server) showCats(w http.ResponseWriter, r *http.Request, v *view, status int) {
	lk, err := s.loadLookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := map[string]any{"Cats": lk.catL, "Depts": lk.activeDepts(), "DeptNames": lk, "Defaults": tongban.DefaultTypeLimits}
	if code := r.PathValue("code"); code != "" {
		c := lk.cats[code]
		if c == nil {
			s.fail(w, r, tongban.ErrNotFound)
			return
		}
		d["Edit"] = c
		if v.Form == nil {
			v.Form = url.Values{"name": {c.Name}, "description": {c.Description}, "department": {c.Dept},
				"limit_hours": {strconv.Itoa(c.LimitHours)}, "keywords": {strings.Join(c.Keywords, " ")}, "order": {strconv.Itoa(c.Order)}}
			for t, n := range c.Limits {
				v.Form.Set("limit_"+t, strconv.Itoa(n))
			}
			if c.ReplyNeedsApproval {
				v.Form.Set("approval", "1")
			}
			if c.Active {
				v.Form.Set("active", "1")
			}
		}
	} else if v.Form == nil {
		v.Form = url.Values{"active": {"1"}}
	}
	v.Title = v.T("admin.categories")
	v.D = d
	s.render(w, r, status, "admin_cats", v)
}

func (s *Server) uiCatSave(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	code := r.PathValue("code")
	if code == "" {
		code = f.Get("code")
	}
	c := &tongban.Category{Code: code, Name: f.Get("name"), Description: f.Get("description"), Dept: f.Get("department"),
		Keywords: strings.Fields(f.Get("keywords")), ReplyNeedsApproval: f.Get("approval") != "", Active: f.Get("active") != "", Limits: map[string]int{}}
	var err error
	if h := strings.TrimSpace(f.Get("limit_hours")); h != "" {
		if c.LimitHours, err = strconv.Atoi(h); err != nil {
			err = tongban.FieldError("limit_hours", "小时时限应为整数", "limit_hours must be an integer")
		}
	}
	if o := strings.TrimSpace(f.Get("order")); err == nil && o != "" {
		if c.Order, err = strconv.Atoi(o); err != nil {
			err = tongban.FieldError("order", "排序应为整数", "order must be an integer")
		}
	}
	for _, t := range tongban.RequestTypes {
		if val := strings.TrimSpace(f.Get("limit_" + t)); err == nil && val != "" {
			n, perr := strconv.Atoi(val)
			if perr != nil {
				err = tongban.FieldError("limits", "时限应为整数", "limits must be integers")
				break
			}
			c.Limits[t] = n
		}
	}
	if err == nil && r.PathValue("code") == "" {
		if _, gerr := s.Store.Category(r.Context(), code); gerr == nil {
			err = tongban.FieldError("code", "编码已存在", "this code is taken")
		}
	}
	if err == nil {
		err = s.Engine.PutCategory(r.Context(), c)
	}
	if err != nil {
		s.adminFail(w, r, err, func(v *view) { s.showCats(w, r, v, statusOf(tongban.ErrorCode(err))) }, "code", "name", "description", "department", "limit_hours", "limits", "order")
		return
	}
	http.Redirect(w, r, "/admin/categories?saved=1", http.StatusSeeOther)
}

func (s *Server) uiHolidays(w http.ResponseWriter, r *http.Request) {
	s.showHolidays(w, r, s.adminView(w, r, "admin.holidays"), http.StatusOK)
}

func (s *Server) showHolidays(w http.ResponseWriter, r *http.Request, v *view, status int) {
	os, err := s.Store.ListCalendarOverrides(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Title = v.T("admin.holidays")
	v.D = map[string]any{"Overrides": os}
	s.render(w, r, status, "admin_holidays", v)
}

func (s *Server) uiHolidaySave(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	o := tongban.CalendarOverride{Date: strings.TrimSpace(f.Get("date")), Off: f.Get("off") != "", Name: strings.TrimSpace(f.Get("name"))}
	if err := s.Engine.SetOverride(r.Context(), o); err != nil {
		s.adminFail(w, r, err, func(v *view) { s.showHolidays(w, r, v, statusOf(tongban.ErrorCode(err))) }, "date", "name")
		return
	}
	http.Redirect(w, r, "/admin/holidays?saved=1", http.StatusSeeOther)
}

func (s *Server) uiHolidayDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.Engine.DeleteOverride(r.Context(), r.PathValue("date")); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/holidays?saved=1", http.StatusSeeOther)
}

func (s *Server) uiKeys(w http.ResponseWriter, r *http.Request) {
	s.showKeys(w, r, s.adminView(w, r, "admin.apikeys"), "", http.StatusOK)
}

func (s *Server) showKeys(w http.ResponseWriter, r *http.Request, v *view, newKey string, status int) {
	ks, err := s.Store.ListAPIKeys(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Title = v.T("admin.apikeys")
	v.D = map[string]any{"Keys": ks, "NewKey": newKey}
	s.render(w, r, status, "admin_keys", v)
}

// uiKeyCreate shows the new key in the response to the POST itself, never
// in a URL, and only this once.
func (s *Server) uiKeyCreate(w http.ResponseWriter, r *http.Request) {
	key, _, err := s.Engine.NewAPIKey(r.Context(), r.PostForm.Get("name"))
	if err != nil {
		s.adminFail(w, r, err, func(v *view) { s.showKeys(w, r, v, "", statusOf(tongban.ErrorCode(err))) }, "name")
		return
	}
	s.showKeys(w, r, s.adminView(w, r, "admin.apikeys"), key, http.StatusCreated)
}

func (s *Server) uiKeyRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, tongban.ErrNotFound)
		return
	}
	if err := s.Engine.RevokeAPIKey(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/apikeys?saved=1", http.StatusSeeOther)
}
