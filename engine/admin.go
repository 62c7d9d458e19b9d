package engine

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
)

var deptKinds = []string{tongban.DeptBureau, tongban.DeptStreet, tongban.DeptCentre, tongban.DeptSupervision}

func (e *Engine) checkDept(ctx context.Context, d *tongban.Department) error {
	d.Code, d.Name = strings.TrimSpace(d.Code), strings.TrimSpace(d.Name)
	if !tongban.ValidCode(d.Code) {
		return tongban.FieldError("code", "编码只能包含小写字母、数字、-和_，长度1-40", "code must be 1-40 of a-z, 0-9, - and _")
	}
	if n := runes(d.Name); n == 0 || n > 60 {
		return tongban.FieldError("name", "名称必填，不超过60字", "name is required, at most 60 characters")
	}
	if d.Kind == "" {
		d.Kind = tongban.DeptBureau
	}
	if !slices.Contains(deptKinds, d.Kind) {
		return tongban.FieldError("kind", "部门类型须为 bureau、street、centre 或 supervision", "kind must be bureau, street, centre or supervision")
	}
	if d.Parent != "" {
		if d.Parent == d.Code {
			return tongban.FieldError("parent", "上级部门不能是自己", "a department cannot be its own parent")
		}
		if _, err := e.Department(ctx, d.Parent); err != nil {
			return tongban.FieldError("parent", "上级部门不存在", "unknown parent department")
		}
	}
	if len(d.Keywords) > 200 {
		return tongban.FieldError("keywords", "关键词最多200个", "at most 200 keywords")
	}
	return nil
}

// AddDepartment validates and creates a department.
func (e *Engine) AddDepartment(ctx context.Context, d *tongban.Department) error {
	if err := e.checkDept(ctx, d); err != nil {
		return err
	}
	defer e.invalidate()
	return e.Store.CreateDepartment(ctx, d)
}

// UpdateDepartment validates and saves a department.
func (e *Engine) UpdateDepartment(ctx context.Context, d *tongban.Department) error {
	if err := e.checkDept(ctx, d); err != nil {
		return err
	}
	defer e.invalidate()
	return e.Store.UpdateDepartment(ctx, d)
}

// UserChange lists the fields to set; nil leaves a field as it is.
type UserChange struct {
	Name, Dept, Roles, Phone, Password *string
	Disabled                           *bool
}

func validLogin(s string) bool {
	if len(s) < 2 || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func (e *Engine) applyUser(ctx context.Context, u *tongban.User, ch UserChange) error {
	if ch.Name != nil {
		u.Name = strings.TrimSpace(*ch.Name)
	}
	if n := runes(u.Name); n == 0 || n > tongban.MaxName {
		return tongban.FieldError("name", "姓名必填，不超过50字", "name is required, at most 50 characters")
	}
	if ch.Dept != nil {
		if _, err := e.Store.Department(ctx, *ch.Dept); err != nil {
			return tongban.FieldError("department", "部门不存在", "unknown department")
		}
		u.Dept = *ch.Dept
	}
	if u.Dept == "" {
		return tongban.FieldError("department", "请选择部门", "department is required")
	}
	if ch.Roles != nil {
		rs, err := tongban.ParseRoles(*ch.Roles)
		if err != nil {
			return err
		}
		u.Roles = rs
	}
	if len(u.Roles) == 0 {
		return tongban.FieldError("roles", "至少需要一个角色", "at least one role is required")
	}
	if ch.Phone != nil {
		p := strings.TrimSpace(*ch.Phone)
		if p != "" && !ValidPhone(p) {
			return tongban.FieldError("phone", "电话号码格式不正确", "invalid phone number")
		}
		u.Phone = p
	}
	if ch.Password != nil {
		h, err := HashPassword(*ch.Password)
		if err != nil {
			return err
		}
		u.PasswordHash = h
	}
	if u.PasswordHash == "" {
		return tongban.FieldError("password", "请设置密码", "password is required")
	}
	if ch.Disabled != nil {
		u.Disabled = *ch.Disabled
	}
	return nil
}

// AddUser validates and creates a user.
func (e *Engine) AddUser(ctx context.Context, login string, ch UserChange) (*tongban.User, error) {
	login = strings.TrimSpace(login)
	if !validLogin(login) {
		return nil, tongban.FieldError("login", "登录名为2-40位小写字母、数字或 . _ -", "login must be 2-40 of a-z, 0-9, . _ -")
	}
	u := &tongban.User{Login: login}
	if err := e.applyUser(ctx, u, ch); err != nil {
		return nil, err
	}
	if err := e.Store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// UpdateUser changes a user. An administrator cannot lock themselves
// out, and the last active administrator cannot be removed: someone must
// always be able to administer the system.
func (e *Engine) UpdateUser(ctx context.Context, by *tongban.User, id int64, ch UserChange) (*tongban.User, error) {
	u, err := e.Store.User(ctx, id)
	if err != nil {
		return nil, err
	}
	wasAdmin := u.Has(tongban.RoleAdmin) && !u.Disabled
	if err := e.applyUser(ctx, u, ch); err != nil {
		return nil, err
	}
	isAdmin := u.Has(tongban.RoleAdmin) && !u.Disabled
	if wasAdmin && !isAdmin {
		if by != nil && by.ID == u.ID {
			return nil, tongban.Errorf(tongban.EConflict, "不能停用自己或取消自己的管理员角色", "you cannot disable yourself or drop your own admin role")
		}
		users, err := e.Store.ListUsers(ctx)
		if err != nil {
			return nil, err
		}
		others := 0
		for _, o := range users {
			if o.ID != u.ID && o.Has(tongban.RoleAdmin) && !o.Disabled {
				others++
			}
		}
		if others == 0 {
			return nil, tongban.Errorf(tongban.EConflict, "系统至少需要一名可用的管理员", "at least one active administrator must remain")
		}
	}
	if err := e.Store.UpdateUser(ctx, u); err != nil {
		return nil, err
	}
	e.sessions.forget(func(_ string, en sessionEntry) bool { return en.u.ID == u.ID })
	if u.Disabled || ch.Password != nil {
		if err := e.Store.DeleteUserSessions(ctx, u.ID); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// PutCategory validates and saves a category.
func (e *Engine) PutCategory(ctx context.Context, c *tongban.Category) error {
	c.Code, c.Name = strings.TrimSpace(c.Code), strings.TrimSpace(c.Name)
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Dept != "" {
		if _, err := e.Store.Department(ctx, c.Dept); err != nil {
			return tongban.FieldError("department", "部门不存在", "unknown department")
		}
	}
	defer e.invalidate()
	return e.Store.PutCategory(ctx, c)
}

// SetOverride changes one day of the calendar and reloads it.
func (e *Engine) SetOverride(ctx context.Context, o tongban.CalendarOverride) error {
	if _, err := calendar.ParseDate(o.Date); err != nil {
		return tongban.FieldError("date", "日期格式应为 YYYY-MM-DD", "date must be YYYY-MM-DD")
	}
	if runes(o.Name) > 50 {
		return tongban.FieldError("name", "名称不超过50字", "name at most 50 characters")
	}
	if err := e.Store.SetCalendarOverride(ctx, o); err != nil {
		return err
	}
	return e.ReloadCalendar(ctx)
}

// DeleteOverride removes one day's override and reloads the calendar.
func (e *Engine) DeleteOverride(ctx context.Context, date string) error {
	if err := e.Store.DeleteCalendarOverride(ctx, date); err != nil {
		return err
	}
	return e.ReloadCalendar(ctx)
}

// MayReveal reports whether a user may see a case's requester unmasked:
// those who must call the requester back. A confidential report's
// requester stays hidden from the department it concerns.
func MayReveal(u *tongban.User, c *tongban.Case) bool {
	if u == nil || !CanView(u, c) {
		return false
	}
	if u.HasAny(tongban.RoleIntake, tongban.RoleDispatcher, tongban.RoleSupervisor) {
		return true
	}
	return !c.Confidential && u.HasAny(tongban.RoleHandler, tongban.RoleHead) && u.Dept == c.Lead
}

// Reveal returns the requester unmasked and logs the view.
func (e *Engine) Reveal(ctx context.Context, u *tongban.User, c *tongban.Case, reason string) (tongban.Requester, error) {
	if !MayReveal(u, c) {
		return tongban.Requester{}, tongban.Errorf(tongban.EForbidden, "您无权查看诉求人信息", "you may not see the requester's personal data")
	}
	if runes(reason) > 200 {
		reason = string([]rune(reason)[:200])
	}
	if err := e.Store.LogPIIAccess(ctx, &tongban.PIIAccess{CaseID: c.ID, UserID: u.ID, Login: u.Login, Reason: reason, At: e.Now()}); err != nil {
		return tongban.Requester{}, err
	}
	return c.Requester, nil
}

// ClockState is where a case stands against its deadline.
type ClockState struct {
	Deadline     time.Time  `json:"deadline"`
	StepDeadline *time.Time `json:"step_deadline,omitempty"`
	// Left is office time left to the case deadline (negative: overdue).
	LeftSeconds     int64  `json:"left_work_seconds"`
	LeftWorkdays    int    `json:"left_workdays"`
	StepLeftSeconds *int64 `json:"step_left_work_seconds,omitempty"`
	State           string `json:"state"` // normal, warning, overdue, closed
	StepState       string `json:"step_state,omitempty"`
}

// Clock reports time left on the case and its step in working time. Its
// colours come from the same alarm plan the supervision scanner raises
// from, so the screen and the alarms never disagree.
func (e *Engine) Clock(c *tongban.Case) ClockState {
	now := e.Now()
	cal := e.Calendar()
	cs := ClockState{Deadline: c.Deadline, StepDeadline: c.StepDeadline}
	if c.Status == tongban.StatusClosed {
		cs.State = "closed"
		return cs
	}
	warn := map[string]time.Time{}
	for _, sp := range e.plan(context.Background(), c) {
		if sp.Colour == "warning" {
			warn[sp.Scope] = sp.DueAt
		}
	}
	cs.LeftSeconds = int64(cal.WorkDuration(now, c.Deadline).Seconds())
	cs.LeftWorkdays = cal.WorkdaysBetween(now, c.Deadline)
	cs.State = stateOf(now, c.Deadline, warn["case"])
	if c.StepDeadline != nil {
		l := int64(cal.WorkDuration(now, *c.StepDeadline).Seconds())
		cs.StepLeftSeconds = &l
		cs.StepState = stateOf(now, *c.StepDeadline, warn["step"])
	}
	return cs
}

// stateOf: overdue past the deadline; warning from the warning alarm's
// due time (when the plan has one).
func stateOf(now, deadline, warnAt time.Time) string {
	switch {
	case now.After(deadline):
		return "overdue"
	case !warnAt.IsZero() && !now.Before(warnAt):
		return "warning"
	}
	return "normal"
}
