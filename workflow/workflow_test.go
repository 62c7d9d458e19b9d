package workflow_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/workflow"
)

func builtinRequest(t *testing.T) *workflow.Definition {
	t.Helper()
	wfs, err := workflow.Builtin()
	if err != nil {
		t.Fatalf("Builtin: %v", err)
	}
	d := wfs["request"]
	if d == nil {
		t.Fatalf("no request workflow among %v", wfs)
	}
	return d
}

func TestBuiltinValidates(t *testing.T) {
	d := builtinRequest(t)
	if err := d.Validate(); err != nil {
		t.Fatalf("built-in request workflow does not validate: %v", err)
	}
	raw, err := os.ReadFile("defs/request.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := workflow.Parse(raw); err != nil {
		t.Fatalf("Parse(defs/request.json): %v", err)
	}
	if d.Start != "dispatch" || d.Kind != tongban.KindRequest {
		t.Errorf("start=%q kind=%q", d.Start, d.Kind)
	}
	for _, s := range []string{"dispatch", "accept", "handle", "review", "rating", "closed"} {
		if d.Step(s) == nil {
			t.Errorf("step %s missing", s)
		}
	}
	if !d.Step("closed").Final {
		t.Error("closed is not final")
	}
	names := func(step string) []string {
		var out []string
		for _, a := range d.ActionsFrom(step) {
			out = append(out, a.Name)
		}
		return out
	}
	want := map[string][]string{
		"dispatch": {"dispatch", "reply", "supervise", "close", "merge"},
		"merged":   {"unmerge"},
		"accept":   {"accept", "return", "assist", "supervise"},
		"handle":   {"request_extension", "approve_extension", "reject_extension", "request_transfer", "assist", "reply", "supervise"},
		"review":   {"approve_reply", "reject_reply", "supervise"},
		"rating":   {"rate", "reopen", "supervise", "close"},
		"closed":   nil,
	}
	// The steps of 好差评 may be taken from every step (rules_rating.go).
	ratings := []string{"rate_visit", "verify_rating", "callback_rating", "rectify_rating", "appeal_rating", "decide_appeal"}
	for step, w := range want {
		w = append(slices.Clone(w), ratings...)
		if got := names(step); !slices.Equal(got, w) {
			t.Errorf("actions from %s = %v, want %v", step, got, w)
		}
	}
	// Two actions named reply, from different steps: Find picks the right one.
	if a := d.Find("dispatch", "reply"); a == nil || a.Guard != "consultation" || a.To != "rating" {
		t.Errorf("Find(dispatch, reply) = %+v", a)
	}
	if a := d.Find("handle", "reply"); a == nil || len(a.Routes) != 2 {
		t.Errorf("Find(handle, reply) = %+v", a)
	}
	if a := d.Find("closed", "reply"); a != nil {
		t.Errorf("Find(closed, reply) = %+v, want nil", a)
	}
}

// mutate decodes the built-in definition, lets f break it, and encodes it.
func mutate(t *testing.T, f func(m map[string]any)) []byte {
	t.Helper()
	raw, err := os.ReadFile("defs/request.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func actions(m map[string]any) []any { return m["actions"].([]any) }
func steps(m map[string]any) []any   { return m["steps"].([]any) }

func action(m map[string]any, name, from string) map[string]any {
	for _, a := range actions(m) {
		am := a.(map[string]any)
		if am["name"] != name {
			continue
		}
		for _, f := range am["from"].([]any) {
			if f == from {
				return am
			}
		}
	}
	panic("no action " + name + " from " + from)
}

func TestParseRejectsBrokenDefinitions(t *testing.T) {
	cases := []struct {
		name string
		f    func(m map[string]any)
		want string // in the English message
	}{
		{"unknown target step", func(m map[string]any) { action(m, "dispatch", "dispatch")["to"] = "nowhere" }, `unknown target step "nowhere"`},
		{"unknown from step", func(m map[string]any) { action(m, "accept", "accept")["from"] = []any{"limbo"} }, `unknown from step "limbo"`},
		{"unknown start step", func(m map[string]any) { m["start"] = "nope" }, `start step "nope" is not a step`},
		{"unknown guard", func(m map[string]any) { action(m, "accept", "accept")["guard"] = "full_moon" }, `unknown guard "full_moon"`},
		{"unknown route condition", func(m map[string]any) {
			action(m, "reply", "handle")["routes"] = []any{map[string]any{"if": "full_moon", "to": "review"}, map[string]any{"to": "rating"}}
		}, `unknown route condition "full_moon"`},
		{"unknown effect", func(m map[string]any) { action(m, "accept", "accept")["effect"] = "teleport" }, `unknown effect "teleport"`},
		{"unknown role", func(m map[string]any) { action(m, "accept", "accept")["roles"] = []any{"janitor"} }, `unknown role "janitor"`},
		{"unknown scope", func(m map[string]any) { action(m, "accept", "accept")["scope"] = "galaxy" }, `unknown scope "galaxy"`},
		{"unreachable step", func(m map[string]any) {
			m["steps"] = append(steps(m), map[string]any{"name": "island", "label": "孤岛", "label_en": "Island"})
		}, "step island cannot be reached"},
		{"no final step", func(m map[string]any) {
			for _, s := range steps(m) {
				delete(s.(map[string]any), "final")
			}
		}, "no final step"},
		{"duplicate action from the same step", func(m map[string]any) {
			dup := map[string]any{"name": "accept", "label": "签收", "label_en": "Accept", "from": []any{"accept"}, "to": "handle", "roles": []any{"head"}, "scope": "lead"}
			m["actions"] = append(actions(m), dup)
		}, "action accept defined twice from step accept"},
		{"unknown field type", func(m map[string]any) {
			action(m, "return", "accept")["fields"] = []any{map[string]any{"name": "reason", "type": "blob", "label": "理由", "label_en": "Reason"}}
		}, `has unknown type "blob"`},
		{"reserved field name", func(m map[string]any) {
			action(m, "return", "accept")["fields"] = []any{map[string]any{"name": "version", "type": "int", "label": "版本", "label_en": "Version"}}
		}, `field name "version" empty, repeated or reserved`},
		{"choice without options", func(m map[string]any) {
			action(m, "return", "accept")["fields"] = []any{map[string]any{"name": "reason", "type": "choice", "label": "理由", "label_en": "Reason"}}
		}, "a choice needs options"},
		{"options on a text field", func(m map[string]any) {
			action(m, "return", "accept")["fields"] = []any{map[string]any{"name": "reason", "type": "text", "label": "理由", "label_en": "Reason",
				"options": []any{map[string]any{"value": "a", "label": "甲", "label_en": "A"}}}}
		}, "a choice needs options"},
		{"repeated option", func(m map[string]any) {
			action(m, "return", "accept")["fields"] = []any{map[string]any{"name": "reason", "type": "choice", "label": "理由", "label_en": "Reason",
				"options": []any{map[string]any{"value": "a", "label": "甲", "label_en": "A"}, map[string]any{"value": "a", "label": "乙", "label_en": "B"}}}}
		}, "option value empty or repeated"},
		{"last route conditional", func(m map[string]any) {
			action(m, "reply", "handle")["routes"] = []any{map[string]any{"if": "reply_needs_approval", "to": "review"}, map[string]any{"if": "no_pending", "to": "rating"}}
		}, "the last route must be unconditional"},
		{"unconditional route before the last", func(m map[string]any) {
			action(m, "reply", "handle")["routes"] = []any{map[string]any{"to": "rating"}, map[string]any{"if": "reply_needs_approval", "to": "review"}}
		}, "only the last route may be unconditional"},
		{"to and routes", func(m map[string]any) { action(m, "reply", "handle")["to"] = "rating" }, "give to or routes, not both"},
		{"roles missing for staff scope", func(m map[string]any) { delete(action(m, "accept", "accept"), "roles") }, "scope lead needs roles"},
		{"repeated step", func(m map[string]any) {
			m["steps"] = append(steps(m), map[string]any{"name": "handle", "label": "x", "label_en": "x"})
		}, `step name "handle" empty or repeated`},
		{"final start", func(m map[string]any) { m["start"] = "closed" }, "start step is final"},
		{"both limits", func(m map[string]any) { steps(m)[0].(map[string]any)["limit_hours"] = 4 }, "give at most one of limit_days and limit_hours"},
		{"no name", func(m map[string]any) { m["name"] = "" }, "name and kind are required"},
		{"unknown key", func(m map[string]any) { m["colour"] = "red" }, `unknown field "colour"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := workflow.Parse(mutate(t, tc.f))
			if err == nil {
				t.Fatal("Parse accepted a broken definition")
			}
			e := tongban.AsError(err)
			if e == nil || e.Code != tongban.EInvalid {
				t.Fatalf("error %v (%T) is not an invalid *tongban.Error", err, err)
			}
			if !strings.Contains(e.English, tc.want) {
				t.Errorf("English message %q does not say %q", e.English, tc.want)
			}
			if !strings.HasPrefix(e.Message, "流程定义") {
				t.Errorf("Chinese message %q", e.Message)
			}
		})
	}
	if _, err := workflow.Parse([]byte(`{"name":`)); err == nil {
		t.Error("Parse accepted truncated JSON")
	}
	// The mutation helper itself leaves a valid definition valid.
	if _, err := workflow.Parse(mutate(t, func(map[string]any) {})); err != nil {
		t.Fatalf("round trip of the built-in definition: %v", err)
	}
}

func raw(t *testing.T, s string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestParseInput(t *testing.T) {
	d := builtinRequest(t)
	ext := d.Find("handle", "request_extension")
	disp := d.Find("dispatch", "dispatch")
	rate := d.Find("rating", "rate")
	ret := d.Find("accept", "return")
	long := strings.Repeat("长", 1001)
	bad := []struct {
		name  string
		a     *workflow.Action
		in    string
		field string
	}{
		{"unknown field", ext, `{"working_days":3,"reason":"r","colour":"red"}`, "colour"},
		{"int as string", ext, `{"working_days":"3","reason":"r"}`, "working_days"},
		{"int as float", ext, `{"working_days":2.5,"reason":"r"}`, "working_days"},
		{"text as number", ext, `{"working_days":3,"reason":42}`, "reason"},
		{"missing required int", ext, `{"reason":"r"}`, "working_days"},
		{"null required int", ext, `{"working_days":null,"reason":"r"}`, "working_days"},
		{"missing required text", ext, `{"working_days":3}`, "reason"},
		{"blank required text", ext, `{"working_days":3,"reason":"   "}`, "reason"},
		{"int below min", ext, `{"working_days":0,"reason":"r"}`, "working_days"},
		{"int above max", ext, `{"working_days":31,"reason":"r"}`, "working_days"},
		{"negative int", ext, `{"working_days":-1,"reason":"r"}`, "working_days"},
		{"over-long text", ret, `{"reason":"` + long + `"}`, "reason"},
		{"dept as number", disp, `{"department":7}`, "department"},
		{"depts as string", disp, `{"department":"cgj","co_departments":"zjj"}`, "co_departments"},
		{"too many depts", disp, `{"department":"cgj","co_departments":[` + strings.Repeat(`"x",`, 20) + `"x"]}`, "co_departments"},
		{"rating 0", rate, `{"level":0}`, "level"},
		{"rating 6", rate, `{"level":6}`, "level"},
		{"comment over 500", rate, `{"level":3,"comment":"` + strings.Repeat("差", 501) + `"}`, "comment"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			in, err := workflow.ParseInput(tc.a, raw(t, tc.in))
			if err == nil {
				t.Fatalf("accepted: %v", in)
			}
			e := tongban.AsError(err)
			if e == nil || e.Code != tongban.EInvalid || e.Field != tc.field {
				t.Fatalf("error %#v, want invalid on field %s", err, tc.field)
			}
			if e.Message == "" || e.English == "" {
				t.Errorf("empty message: %#v", e)
			}
		})
	}

	in, err := workflow.ParseInput(ext, raw(t, `{"working_days":30,"reason":"  需要现场勘查  ","note":"n","version":3,"action":"request_extension"}`))
	if err != nil {
		t.Fatal(err)
	}
	if in.Int("working_days") != 30 || in.Str("reason") != "需要现场勘查" {
		t.Errorf("input = %v", in)
	}
	if _, ok := in["note"]; ok {
		t.Error("note leaked into the action input")
	}
	// Exactly at the text limit is fine (counted in characters, not bytes).
	if _, err := workflow.ParseInput(ret, raw(t, `{"reason":"`+strings.Repeat("长", 1000)+`"}`)); err != nil {
		t.Errorf("1000-character reason rejected: %v", err)
	}
	in, err = workflow.ParseInput(disp, raw(t, `{"department":"cgj","co_departments":["zjj","swj"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if in.Str("department") != "cgj" || !slices.Equal(in.Strs("co_departments"), []string{"zjj", "swj"}) {
		t.Errorf("dispatch input = %v", in)
	}
	in, err = workflow.ParseInput(rate, raw(t, `{"level":5}`))
	if err != nil || in.Int("level") != 5 {
		t.Errorf("rate input = %v, %v", in, err)
	}
	if _, ok := in["comment"]; ok {
		t.Error("absent optional comment present in input")
	}
}

func TestPermittedScopes(t *testing.T) {
	d := builtinRequest(t)
	c := &tongban.Case{Lead: "cgj", Co: []string{"zjj"}, Step: "handle"}
	handler := &tongban.User{Login: "h", Dept: "cgj", Roles: []tongban.Role{tongban.RoleHandler}}
	coHandler := &tongban.User{Login: "z", Dept: "zjj", Roles: []tongban.Role{tongban.RoleHandler}}
	dispatcher := &tongban.User{Login: "d", Dept: "zx", Roles: []tongban.Role{tongban.RoleDispatcher}}
	disabled := &tongban.User{Login: "x", Dept: "cgj", Roles: []tongban.Role{tongban.RoleHandler}, Disabled: true}
	reply, assist, rate := d.Find("handle", "reply"), d.Find("handle", "assist"), d.Find("rating", "rate")
	checks := []struct {
		a    *workflow.Action
		u    *tongban.User
		want bool
	}{
		{reply, handler, true}, {reply, coHandler, false}, {reply, dispatcher, false}, {reply, disabled, false}, {reply, nil, false},
		{assist, coHandler, true}, {assist, handler, false},
		{rate, nil, true}, {rate, dispatcher, false},
		{d.Find("dispatch", "dispatch"), dispatcher, true}, {d.Find("dispatch", "dispatch"), handler, false},
	}
	for _, ck := range checks {
		if got := workflow.Permitted(ck.a, c, ck.u); got != ck.want {
			name := "public"
			if ck.u != nil {
				name = ck.u.Login
			}
			t.Errorf("Permitted(%s, %s) = %v, want %v", ck.a.Name, name, got, ck.want)
		}
	}
	// A case with no lead department: lead scope is nobody's.
	if workflow.Permitted(reply, &tongban.Case{}, &tongban.User{Dept: "", Roles: []tongban.Role{tongban.RoleHandler}}) {
		t.Error("lead scope matched an empty department")
	}
}

// A choice takes one of its options' values, trimmed; anything else
// names the field.
func TestParseChoice(t *testing.T) {
	defs, err := workflow.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	a := defs["request"].Find("closed", "verify_rating")
	if a == nil {
		t.Fatal("verify_rating is not available on a closed request")
	}
	in, err := workflow.ParseInput(a, raw(t, `{"verdict": " malicious ", "item": 2}`))
	if err != nil || in.Str("verdict") != "malicious" || in.Int("item") != 2 {
		t.Fatalf("ParseInput = %v, %v", in, err)
	}
	for _, bad := range []string{`{"verdict": "maybe"}`, `{"verdict": 3}`, `{"verdict": ""}`, `{}`} {
		_, err := workflow.ParseInput(a, raw(t, bad))
		if e := tongban.AsError(err); e == nil || e.Code != tongban.EInvalid || e.Field != "verdict" {
			t.Errorf("ParseInput(%s) = %v, want invalid verdict", bad, err)
		}
	}
}
