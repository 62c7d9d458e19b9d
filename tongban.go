// Package tongban holds the domain of the platform: departments, users and
// their roles, categories, cases, events and the interfaces between the
// parts. It depends on nothing but the standard library, so every other
// package can point inward to it.
package tongban

import (
	"slices"
	"strings"
	"time"
)

// Role is what a user may do; scope comes from the user's department.
type Role string

const (
	RoleIntake     Role = "intake"     // 受理员: hotline and window staff
	RoleDispatcher Role = "dispatcher" // 派单员: command-centre dispatchers
	RoleHandler    Role = "handler"    // 承办人
	RoleHead       Role = "head"       // 负责人: approves replies and extensions
	RoleSupervisor Role = "supervisor" // 监察室
	RoleLeader     Role = "leader"     // 区领导
	RoleAdmin      Role = "admin"      // 系统管理员
)

// AllRoles lists the roles in the order screens show them.
var AllRoles = []Role{RoleIntake, RoleDispatcher, RoleHandler, RoleHead, RoleSupervisor, RoleLeader, RoleAdmin}

// RoleNames gives each role's Chinese name.
var RoleNames = map[Role]string{
	RoleIntake: "受理员", RoleDispatcher: "派单员", RoleHandler: "承办人", RoleHead: "负责人",
	RoleSupervisor: "监察员", RoleLeader: "区领导", RoleAdmin: "管理员",
}

// ParseRoles parses "handler,head" into roles, rejecting unknown names.
func ParseRoles(s string) ([]Role, error) {
	var out []Role
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		r := Role(p)
		if !slices.Contains(AllRoles, r) {
			return nil, FieldError("roles", "未知角色："+p, "unknown role: "+p)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, FieldError("roles", "至少需要一个角色", "at least one role is required")
	}
	return out, nil
}

// Department kinds.
const (
	DeptBureau      = "bureau"
	DeptStreet      = "street"
	DeptCentre      = "centre"
	DeptSupervision = "supervision"
)

// Department is a bureau, a street office, the command centre or the
// supervision office.
type Department struct {
	ID        int64     `json:"id"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	Parent    string    `json:"parent,omitempty"`
	Keywords  []string  `json:"keywords,omitempty"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// User is a member of staff. The password hash never leaves the store layer
// in API output.
type User struct {
	ID           int64     `json:"id"`
	Login        string    `json:"login"`
	Name         string    `json:"name"`
	Dept         string    `json:"department"`
	Roles        []Role    `json:"roles"`
	Phone        string    `json:"phone,omitempty"`
	Disabled     bool      `json:"disabled"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
}

// Has reports whether the user holds role r.
func (u *User) Has(r Role) bool { return u != nil && slices.Contains(u.Roles, r) }

// HasAny reports whether the user holds any of the roles.
func (u *User) HasAny(rs ...Role) bool {
	for _, r := range rs {
		if u.Has(r) {
			return true
		}
	}
	return false
}

// Session is a logged-in browser or API token. Only the token's hash is stored.
type Session struct {
	TokenHash string
	UserID    int64
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// APIKey lets a machine client (an Open311 app, a partner system) file requests.
type APIKey struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Hash      string    `json:"-"`
	Prefix    string    `json:"prefix"`
	Revoked   bool      `json:"revoked"`
	CreatedAt time.Time `json:"created_at"`
}

// CalendarOverride changes one day of the working calendar: a year not yet
// published by the State Council, or a local change.
type CalendarOverride struct {
	Date string `json:"date"` // YYYY-MM-DD
	Off  bool   `json:"off"`
	Name string `json:"name"`
}

// PIIAccess records that someone saw a requester's personal data unmasked.
type PIIAccess struct {
	ID     int64     `json:"id"`
	CaseID int64     `json:"case_id"`
	UserID int64     `json:"user_id"`
	Login  string    `json:"login"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}
