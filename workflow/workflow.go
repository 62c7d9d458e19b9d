// Package workflow defines workflows as data — steps, the actions allowed
// at each, who may take them and where they lead — validates definitions
// when they are loaded, and applies an action to a case. It is pure: the
// engine supplies the clock and the store.
//
// Conditions and side effects are named in the data and implemented once
// here (guards.go, effects.go), so administrators can reshape a workflow
// without code while every name stays checked at load time.
package workflow

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/tongban/tongban"
)

// Scopes say which department an actor must belong to.
const (
	ScopeAny    = "any"    // the role is enough
	ScopeLead   = "lead"   // the case's lead department
	ScopeCo     = "co"     // one of the co-departments
	ScopePublic = "public" // the requester, proven by tracking code and phone
)

// Definition is one workflow.
type Definition struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Label   string   `json:"label"`
	LabelEN string   `json:"label_en"`
	Start   string   `json:"start"`
	Steps   []Step   `json:"steps"`
	Actions []Action `json:"actions"`
}

// Step is a state a case can be in.
type Step struct {
	Name    string `json:"name"`
	Label   string `json:"label"`
	LabelEN string `json:"label_en"`
	// Queue names whose inbox the case sits in at this step.
	Queue string `json:"queue,omitempty"`
	Final bool   `json:"final,omitempty"`
	// The step's own time limit; CaseDeadline makes the step due with the case.
	LimitDays    int  `json:"limit_days,omitempty"`
	LimitHours   int  `json:"limit_hours,omitempty"`
	CaseDeadline bool `json:"case_deadline,omitempty"`
}

// Action is a transition.
type Action struct {
	Name    string         `json:"name"`
	Label   string         `json:"label"`
	LabelEN string         `json:"label_en"`
	From    []string       `json:"from"`
	To      string         `json:"to,omitempty"` // empty: stays in the step
	Routes  []Route        `json:"routes,omitempty"`
	Roles   []tongban.Role `json:"roles,omitempty"`
	Scope   string         `json:"scope"`
	Guard   string         `json:"guard,omitempty"`
	Effect  string         `json:"effect,omitempty"`
	Public  bool           `json:"public,omitempty"` // shown on the public timeline
	Fields  []Field        `json:"fields,omitempty"`
}

// Route picks the next step by a named condition; the first that holds wins.
type Route struct {
	If string `json:"if,omitempty"`
	To string `json:"to"`
}

// Field is one input of an action.
type Field struct {
	Name     string `json:"name"`
	Type     string `json:"type"` // text, int, bool, dept, depts, choice
	Required bool   `json:"required,omitempty"`
	Min      int    `json:"min,omitempty"`
	Max      int    `json:"max,omitempty"` // characters for text, value for int
	Label    string `json:"label"`
	LabelEN  string `json:"label_en"`
	// Options are the values a choice may take.
	Options []Option `json:"options,omitempty"`
}

// Option is one value of a choice field.
type Option struct {
	Value   string `json:"value"`
	Label   string `json:"label"`
	LabelEN string `json:"label_en"`
}

var fieldTypes = []string{"text", "int", "bool", "dept", "depts", "choice"}

// Step returns the named step.
func (d *Definition) Step(name string) *Step {
	for i := range d.Steps {
		if d.Steps[i].Name == name {
			return &d.Steps[i]
		}
	}
	return nil
}

// ActionsFrom returns the actions that may start from step.
func (d *Definition) ActionsFrom(step string) []*Action {
	var out []*Action
	for i := range d.Actions {
		if slices.Contains(d.Actions[i].From, step) {
			out = append(out, &d.Actions[i])
		}
	}
	return out
}

// Validate checks that a definition is complete and consistent: every name
// it uses exists, every step is reachable, and a final step can be reached.
func (d *Definition) Validate() error {
	bad := func(format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		return tongban.Errorf(tongban.EInvalid, "流程定义无效："+msg, "invalid workflow: "+msg)
	}
	if d.Name == "" || d.Kind == "" {
		return bad("name and kind are required")
	}
	steps := map[string]bool{}
	for _, s := range d.Steps {
		if s.Name == "" || steps[s.Name] {
			return bad("step name %q empty or repeated", s.Name)
		}
		if s.LimitDays < 0 || s.LimitHours < 0 || (s.LimitDays > 0 && s.LimitHours > 0) {
			return bad("step %s: give at most one of limit_days and limit_hours, not negative", s.Name)
		}
		steps[s.Name] = true
	}
	if !steps[d.Start] {
		return bad("start step %q is not a step", d.Start)
	}
	if d.Step(d.Start).Final {
		return bad("start step is final")
	}
	seen := map[string]bool{}
	next := map[string][]string{}
	for _, a := range d.Actions {
		if a.Name == "" {
			return bad("an action has no name")
		}
		if len(a.From) == 0 {
			return bad("action %s has no from step", a.Name)
		}
		for _, f := range a.From {
			if !steps[f] {
				return bad("action %s: unknown from step %q", a.Name, f)
			}
			key := a.Name + "@" + f
			if seen[key] {
				return bad("action %s defined twice from step %s", a.Name, f)
			}
			seen[key] = true
		}
		targets := []string{}
		if a.To != "" {
			targets = append(targets, a.To)
		}
		for i, r := range a.Routes {
			if r.If != "" {
				if _, ok := conditions[r.If]; !ok {
					return bad("action %s: unknown route condition %q", a.Name, r.If)
				}
			} else if i != len(a.Routes)-1 {
				return bad("action %s: only the last route may be unconditional", a.Name)
			}
			targets = append(targets, r.To)
		}
		if a.To != "" && len(a.Routes) > 0 {
			return bad("action %s: give to or routes, not both", a.Name)
		}
		if len(a.Routes) > 0 && a.Routes[len(a.Routes)-1].If != "" {
			return bad("action %s: the last route must be unconditional", a.Name)
		}
		for _, t := range targets {
			if !steps[t] {
				return bad("action %s: unknown target step %q", a.Name, t)
			}
		}
		for _, f := range a.From {
			if len(targets) == 0 {
				next[f] = append(next[f], f)
			}
			next[f] = append(next[f], targets...)
		}
		switch a.Scope {
		case ScopeAny, ScopeLead, ScopeCo:
			if len(a.Roles) == 0 {
				return bad("action %s: scope %s needs roles", a.Name, a.Scope)
			}
		case ScopePublic:
		default:
			return bad("action %s: unknown scope %q", a.Name, a.Scope)
		}
		for _, r := range a.Roles {
			if !slices.Contains(tongban.AllRoles, r) {
				return bad("action %s: unknown role %q", a.Name, r)
			}
		}
		if a.Guard != "" {
			if _, ok := conditions[a.Guard]; !ok {
				return bad("action %s: unknown guard %q", a.Name, a.Guard)
			}
		}
		if a.Effect != "" {
			if _, ok := effects[a.Effect]; !ok {
				return bad("action %s: unknown effect %q", a.Name, a.Effect)
			}
		}
		names := map[string]bool{}
		for _, f := range a.Fields {
			if f.Name == "" || names[f.Name] || f.Name == "note" || f.Name == "version" || f.Name == "action" {
				return bad("action %s: field name %q empty, repeated or reserved", a.Name, f.Name)
			}
			names[f.Name] = true
			if !slices.Contains(fieldTypes, f.Type) {
				return bad("action %s: field %s has unknown type %q", a.Name, f.Name, f.Type)
			}
			if (f.Type == "choice") != (len(f.Options) > 0) {
				return bad("action %s: field %s: a choice needs options, other types none", a.Name, f.Name)
			}
			for i, o := range f.Options {
				if o.Value == "" || slices.ContainsFunc(f.Options[:i], func(x Option) bool { return x.Value == o.Value }) {
					return bad("action %s: field %s: option value empty or repeated", a.Name, f.Name)
				}
			}
		}
	}
	// Every step reachable from the start, and some final step reachable.
	reached := map[string]bool{d.Start: true}
	queue := []string{d.Start}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, t := range next[s] {
			if !reached[t] {
				reached[t] = true
				queue = append(queue, t)
			}
		}
	}
	final := false
	for _, s := range d.Steps {
		if !reached[s.Name] {
			return bad("step %s cannot be reached", s.Name)
		}
		final = final || s.Final
	}
	if !final {
		return bad("no final step")
	}
	return nil
}

//go:embed defs/*.json
var builtin embed.FS

// Parse decodes and validates a definition; unknown keys are errors.
func Parse(data []byte) (*Definition, error) {
	var d Definition
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, tongban.Errorf(tongban.EInvalid, "流程定义格式错误："+err.Error(), "malformed workflow: "+err.Error())
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// Builtin returns the workflows shipped in the binary, by name.
func Builtin() (map[string]*Definition, error) {
	entries, err := builtin.ReadDir("defs")
	if err != nil {
		return nil, err
	}
	out := map[string]*Definition{}
	for _, e := range entries {
		data, err := builtin.ReadFile("defs/" + e.Name())
		if err != nil {
			return nil, err
		}
		d, err := Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		out[d.Name] = d
	}
	return out, nil
}
