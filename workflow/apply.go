package workflow

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tongban/tongban"
)

// Clock computes deadlines; the engine passes the district calendar.
type Clock interface {
	DeadlineAfterWorkdays(t time.Time, n int) time.Time
	AddWorkHours(t time.Time, d time.Duration) time.Time
}

// Input holds an action's validated field values: string, int, bool or []string.
type Input map[string]any

// Str returns a text or dept field, or "".
func (in Input) Str(name string) string { s, _ := in[name].(string); return s }

// Int returns an int field, or 0.
func (in Input) Int(name string) int { n, _ := in[name].(int); return n }

// Strs returns a depts field.
func (in Input) Strs(name string) []string { s, _ := in[name].([]string); return s }

// Env is what an action sees besides the case itself.
type Env struct {
	Now        time.Time
	Actor      *tongban.User // nil for the public
	Category   *tongban.Category
	Clock      Clock
	Input      Input
	DeptExists func(code string) bool
	// FindCase finds another case by ID or tracking code (for merge).
	FindCase func(ref string) (*tongban.Case, error)
	// Matter loads the catalogue version an application was filed under.
	Matter func() (*tongban.Matter, error)
	// RectifyWorkdays is the limit within which a 差评 is to be rectified
	// (0: none); Centre the command centre's code, the department rated
	// when no department has handled the case.
	RectifyWorkdays int
	Centre          string
	// Payload collects facts the effect wants recorded on the event.
	Payload map[string]any
	// Reason is what the event shows as its reason (e.g. an extension's).
	Reason string
}

// Permitted reports whether actor may take action a on case c, by role
// and department scope. The public scope is decided by the caller, who
// checks the tracking code and phone digits.
func Permitted(a *Action, c *tongban.Case, actor *tongban.User) bool {
	if a.Scope == ScopePublic {
		return actor == nil
	}
	if actor == nil || actor.Disabled || !actor.HasAny(a.Roles...) {
		return false
	}
	switch a.Scope {
	case ScopeAny:
		return true
	case ScopeLead:
		return c.Lead != "" && actor.Dept == c.Lead
	case ScopeCo:
		return slices.Contains(c.Co, actor.Dept)
	}
	return false
}

// Holds reports whether the action's guard holds.
func Holds(a *Action, c *tongban.Case, env *Env) bool {
	return a.Guard == "" || conditions[a.Guard](c, env)
}

// Find returns the action named name that may start from the case's step.
func (d *Definition) Find(step, name string) *Action {
	for _, a := range d.ActionsFrom(step) {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// Apply runs a's effect on c and returns the step it leads to. The caller
// has checked permission and guard; c is changed in place.
func Apply(a *Action, c *tongban.Case, env *Env) (string, error) {
	if env.Payload == nil {
		env.Payload = map[string]any{}
	}
	if a.Effect != "" {
		if err := effects[a.Effect](c, env); err != nil {
			return "", err
		}
	}
	if a.To != "" {
		return a.To, nil
	}
	for _, r := range a.Routes {
		if r.If == "" || conditions[r.If](c, env) {
			return r.To, nil
		}
	}
	return c.Step, nil
}

// ParseInput checks raw JSON values against the action's fields: unknown
// fields, wrong types, missing required values and lengths over the limit
// are errors naming the field. "note", "version" and "action" belong to
// every action and are skipped here.
func ParseInput(a *Action, raw map[string]json.RawMessage) (Input, error) {
	in := Input{}
	for k := range raw {
		if k == "note" || k == "version" || k == "action" {
			continue
		}
		if !slices.ContainsFunc(a.Fields, func(f Field) bool { return f.Name == k }) {
			return nil, tongban.FieldError(k, "未知字段："+k, "unknown field: "+k)
		}
	}
	for _, f := range a.Fields {
		v, ok := raw[f.Name]
		if !ok || string(v) == "null" {
			if f.Required {
				return nil, tongban.FieldError(f.Name, f.Label+"为必填项", f.LabelEN+" is required")
			}
			continue
		}
		switch f.Type {
		case "choice":
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, tongban.FieldError(f.Name, f.Label+"应为文本", f.LabelEN+" must be a string")
			}
			s = strings.TrimSpace(s)
			if s == "" {
				if f.Required {
					return nil, tongban.FieldError(f.Name, f.Label+"为必填项", f.LabelEN+" is required")
				}
				continue
			}
			if !slices.ContainsFunc(f.Options, func(o Option) bool { return o.Value == s }) {
				vals := make([]string, len(f.Options))
				for i, o := range f.Options {
					vals[i] = o.Value
				}
				return nil, tongban.FieldError(f.Name, f.Label+"须为以下之一："+strings.Join(vals, "、"), f.LabelEN+" must be one of "+strings.Join(vals, ", "))
			}
			in[f.Name] = s
		case "text", "dept":
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, tongban.FieldError(f.Name, f.Label+"应为文本", f.LabelEN+" must be a string")
			}
			s = strings.TrimSpace(s)
			if f.Required && s == "" {
				return nil, tongban.FieldError(f.Name, f.Label+"为必填项", f.LabelEN+" is required")
			}
			if f.Max > 0 && utf8.RuneCountInString(s) > f.Max {
				return nil, tongban.FieldError(f.Name, fmt.Sprintf("%s不能超过%d字", f.Label, f.Max), fmt.Sprintf("%s must be at most %d characters", f.LabelEN, f.Max))
			}
			if s != "" {
				in[f.Name] = s
			}
		case "int":
			var n int
			if err := json.Unmarshal(v, &n); err != nil {
				return nil, tongban.FieldError(f.Name, f.Label+"应为整数", f.LabelEN+" must be an integer")
			}
			if n < f.Min || (f.Max > 0 && n > f.Max) {
				return nil, tongban.FieldError(f.Name, fmt.Sprintf("%s须在%d到%d之间", f.Label, f.Min, f.Max), fmt.Sprintf("%s must be between %d and %d", f.LabelEN, f.Min, f.Max))
			}
			in[f.Name] = n
		case "bool":
			var b bool
			if err := json.Unmarshal(v, &b); err != nil {
				return nil, tongban.FieldError(f.Name, f.Label+"应为是或否", f.LabelEN+" must be true or false")
			}
			in[f.Name] = b
		case "depts":
			var ss []string
			if err := json.Unmarshal(v, &ss); err != nil {
				return nil, tongban.FieldError(f.Name, f.Label+"应为部门编码列表", f.LabelEN+" must be a list of department codes")
			}
			if len(ss) > 20 {
				return nil, tongban.FieldError(f.Name, f.Label+"最多20个", f.LabelEN+": at most 20")
			}
			in[f.Name] = ss
		}
	}
	return in, nil
}
