package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// The OpenAPI document is built from this table when first asked for, so
// each route is described once, next to its parameters and schemas.
type apiOp struct {
	method, path, summary, tag string
	auth                       string // "", "staff", "admin", "apikey|staff|public"
	params                     []string
	body                       string // schema name
	ok                         int
	result                     string // schema name
}

var apiOps = []apiOp{
	{"post", "/auth/token", "Log in; returns a bearer token", "auth", "", nil, "Login", 200, "Token"},
	{"delete", "/auth/token", "Log out (end this token's session)", "auth", "staff", nil, "", 204, ""},
	{"get", "/me", "The logged-in user", "auth", "staff", nil, "", 200, "User"},
	{"get", "/departments", "List departments", "admin", "", nil, "", 200, "Departments"},
	{"post", "/departments", "Create a department", "admin", "admin", nil, "Department", 201, "Department"},
	{"patch", "/departments/{code}", "Change a department", "admin", "admin", []string{"code"}, "Department", 200, "Department"},
	{"get", "/users", "List users", "admin", "admin", nil, "", 200, "Users"},
	{"post", "/users", "Create a user", "admin", "admin", nil, "UserInput", 201, "User"},
	{"patch", "/users/{id}", "Change a user (disable, reset password, roles); an admin cannot lock themselves out", "admin", "admin", []string{"id"}, "UserInput", 200, "User"},
	{"get", "/categories", "List request categories with their time limits", "admin", "", nil, "", 200, "Categories"},
	{"get", "/categories/{code}", "One category", "admin", "", []string{"code"}, "", 200, "Category"},
	{"post", "/categories", "Create or replace a category", "admin", "admin", nil, "Category", 201, "Category"},
	{"put", "/categories/{code}", "Create or replace a category", "admin", "admin", []string{"code"}, "Category", 200, "Category"},
	{"get", "/workflows", "The workflow definitions in force", "admin", "", nil, "", 200, ""},
	{"get", "/cases", "List and search cases the caller may see", "cases", "staff", []string{"q", "status", "step", "type", "category", "department", "assignee", "channel", "from", "to", "due", "sort", "page", "per_page"}, "", 200, "CaseList"},
	{"post", "/cases", "File a request (public: channel web, rate-limited; API key: channel api; staff: phone, window or street)", "cases", "apikey|staff|public", nil, "NewCase", 201, "Case"},
	{"get", "/cases/{id}", "One case with the actions the caller may take now; {id} is the id or the tracking code", "cases", "staff", []string{"id"}, "", 200, "Case"},
	{"post", "/cases/{id}/actions", "Take an action: dispatch, accept, return, request_extension, approve_extension, reject_extension, request_transfer, assist, reply, approve_reply, reject_reply, reopen, close; 好差评: rate_visit, verify_rating, callback_rating, rectify_rating, appeal_rating, decide_appeal; applications: charge_fee", "cases", "staff", []string{"id"}, "Action", 200, "Case"},
	{"get", "/cases/{id}/events", "The case's events and whether their hash chain verifies", "cases", "staff", []string{"id"}, "", 200, "Events"},
	{"get", "/cases/{id}/requester", "The requester unmasked (logged)", "cases", "staff", []string{"id", "reason"}, "", 200, "Requester"},
	{"get", "/cases/{id}/attachments/{aid}", "An attachment's content", "cases", "staff", []string{"id", "aid"}, "", 200, ""},
	{"get", "/track/{code}", "Public progress of a request: tracking code and the requester's last four phone digits", "public", "", []string{"code", "phone_last4"}, "", 200, "Track"},
	{"post", "/track/{code}/rate", "The requester rates the reply: level 1-5, 5 = 非常满意", "public", "", []string{"code"}, "Rating", 200, "Track"},
	{"get", "/calendar/overrides", "Calendar overrides (unpublished years, local changes)", "calendar", "", nil, "", 200, ""},
	{"put", "/calendar/overrides/{date}", "Set one day as working (off=false) or off", "calendar", "admin", []string{"date"}, "Override", 200, ""},
	{"delete", "/calendar/overrides/{date}", "Remove one day's override", "calendar", "admin", []string{"date"}, "", 204, ""},
	{"get", "/workdays", "Calendar arithmetic: ?from=DATE&n=N or ?from=A&to=B", "calendar", "", []string{"from", "n", "to"}, "", 200, ""},
	{"get", "/alarms", "Live and past alarms (alarm_warning, alarm_yellow, alarm_red, alarm_flag): ?state=open&colour=&department=&category=&case=&scope=", "supervision", "staff", []string{"state", "colour", "department", "category", "case", "scope"}, "", 200, ""},
	{"get", "/scorecards", "Scorecards by department, person or category for a period: ?from=YYYY-MM-DD&to=YYYY-MM-DD&by=department|person|category", "supervision", "staff", []string{"from", "to", "by"}, "", 200, ""},
	{"get", "/findings", "Accountability findings (问责), the audit list", "supervision", "staff", nil, "", 200, ""},
	{"post", "/cases/{id}/findings", "Record a finding against a department or person on a case or order (supervisors)", "supervision", "staff", []string{"id"}, "", 201, ""},
	{"get", "/supervision/config", "The supervision settings in force (thresholds, flags, grading)", "supervision", "staff", nil, "", 200, ""},
	{"get", "/ratings/summary", "Published 好差评 figures (public, aggregates only): ?from=YYYY-MM-DD&to=YYYY-MM-DD, by department, matter and category", "ratings", "", []string{"from", "to"}, "", 200, "RatingSummary"},
	{"get", "/ratings", "差评 with their state and time left: ?state=open|overdue|all|verify|rectify|callback|appeal|done|removed&department=&kind=; departments see their own", "ratings", "staff", []string{"state", "department", "kind", "limit", "offset"}, "", 200, "BadRatings"},
	{"get", "/cases/{id}/suggestions", "Routing suggestions: [{department, category, confidence, because}]", "text", "staff", []string{"id"}, "", 200, ""},
	{"get", "/cases/{id}/duplicates", "Earlier open requests about the same matter, best first, score 0-1 (>= 0.5 probably the same)", "text", "staff", []string{"id"}, "", 200, ""},
	{"post", "/similar", "Similar open requests before filing: {title, body, address, lat, long} (public, rate-limited)", "text", "", nil, "", 200, ""},
	{"get", "/hotspots", "Hot issues, hottest first: ?from=&to=", "text", "staff", []string{"from", "to"}, "", 200, ""},
	{"get", "/matters", "The service catalogue (事项目录)", "approval", "", nil, "", 200, ""},
	{"post", "/matters", "Define a matter (admin); a new version when the code exists", "approval", "admin", nil, "", 201, ""},
	{"get", "/matters/{code}", "One matter (?version=N for an older one)", "approval", "", []string{"code"}, "", 200, ""},
	{"put", "/matters/{code}", "A new version of a matter (admin)", "approval", "admin", []string{"code"}, "", 200, ""},
	{"get", "/matters/{code}/grants", "Published grants of a matter (Art. 40)", "approval", "", []string{"code"}, "", 200, ""},
	{"get", "/cases/{id}/notices/{kind}", "Printable notice: receipt, acceptance, refusal, supplement, decision", "approval", "staff", []string{"id", "kind"}, "", 200, ""},
	{"get", "/track/{code}/notices/{kind}", "The applicant's printable notice (phone_last4)", "approval", "", []string{"code", "kind", "phone_last4"}, "", 200, ""},
	{"post", "/track/{code}/supplement", "The applicant supplies the materials a 补正 notice asked for", "approval", "", []string{"code"}, "", 200, ""},
	{"get", "/apikeys", "List API keys", "admin", "admin", nil, "", 200, ""},
	{"post", "/apikeys", "Create an API key (shown once)", "admin", "admin", nil, "Name", 201, ""},
	{"delete", "/apikeys/{id}", "Revoke an API key", "admin", "admin", []string{"id"}, "", 204, ""},
}

var paramDocs = map[string]string{
	"q": "search words in title, body, address and reply", "status": "open or closed", "step": "comma-separated steps",
	"type": "consultation, help, complaint, report, suggestion (or 咨询…)", "category": "category code", "department": "department code (lead, co- or first)",
	"assignee": "login, or me", "channel": "web, phone, window, street, open311, api", "from": "received on or after YYYY-MM-DD",
	"to": "received on or before YYYY-MM-DD", "due": "overdue or soon (within one working day)", "sort": "deadline (default: least time left first), received, -received, -updated",
	"page": "page number from 1", "per_page": "1-100, default 20", "phone_last4": "the requester's last four phone digits",
	"reason": "why the data is needed (logged)", "code": "a code", "id": "numeric id, or for cases the tracking code", "aid": "attachment id",
	"date": "YYYY-MM-DD", "n": "working days (negative: before)", "by": "department, person or category",
	"colour": "warning, yellow or red", "state": "open, cleared or all", "case": "a case id", "kind": "notice kind",
	"scope": "comma-separated alarm scopes: case, step, order, returns, no_reason, reopen, unsatisfied, rectify, fee, backdated, statutory",
	"limit": "at most this many (default 100, at most 1000)", "offset": "skip this many",
}

var schemas = map[string]any{
	"Error": obj(map[string]any{"error": obj(map[string]any{"code": enumStr("invalid", "not_found", "conflict", "forbidden", "unauthorized", "too_large", "rate_limited", "unavailable", "internal"),
		"message": str("Chinese message"), "message_en": str("English message"), "field": str("the offending field")}, "code", "message", "message_en")}, "error"),
	"Login":       obj(map[string]any{"login": str(""), "password": str("")}, "login", "password"),
	"Token":       obj(map[string]any{"token": str("bearer token"), "expires_at": dt(), "user": ref("User")}),
	"User":        obj(map[string]any{"id": integer(), "login": str(""), "name": str(""), "department": str(""), "roles": arr(enumStr("intake", "dispatcher", "handler", "head", "supervisor", "leader", "admin")), "phone": str(""), "disabled": boolean(), "created_at": dt()}),
	"Users":       obj(map[string]any{"users": arr(ref("User"))}),
	"UserInput":   obj(map[string]any{"login": str("create only"), "name": str(""), "department": str(""), "roles": arr(str("")), "phone": str(""), "password": str("8-128 characters"), "disabled": boolean()}),
	"Department":  obj(map[string]any{"id": integer(), "code": str("a-z0-9-_"), "name": str(""), "kind": enumStr("bureau", "street", "centre", "supervision"), "parent": str(""), "keywords": arr(str("")), "disabled": boolean()}),
	"Departments": obj(map[string]any{"departments": arr(ref("Department"))}),
	"Category": obj(map[string]any{"code": str("Open311 service_code"), "name": str(""), "description": str(""), "department": str("usual lead department"),
		"limits": map[string]any{"type": "object", "additionalProperties": integer(), "description": "working days per request type"}, "limit_hours": integer(),
		"reply_needs_approval": boolean(), "keywords": arr(str("")), "active": boolean(), "order": integer()}, "code", "name"),
	"Categories": obj(map[string]any{"categories": arr(ref("Category"))}),
	"Requester":  obj(map[string]any{"name": str(""), "phone": str("mainland mobile or landline"), "email": str("")}),
	"NewCase": obj(map[string]any{"type": str("consultation|help|complaint|report|suggestion or 咨询|求助|投诉|举报|建议"), "category": str("category code"),
		"title": str("at most 200 characters"), "body": str("at most 4000 characters"), "address": str("at most 200 characters"), "lat": num(), "long": num(),
		"requester": ref("Requester"), "confidential": boolean(), "channel": str("staff only: phone, window, street"),
		"attachments": arr(obj(map[string]any{"name": str(""), "content_base64": str("JPEG, PNG, GIF, WebP or PDF; at most 10 MB each, 9 in all")}))}, "type", "category", "title", "body"),
	"Case": obj(map[string]any{"id": integer(), "tracking_code": str("12 symbols with a check symbol"), "kind": str(""), "type": str(""), "channel": str(""), "category": str(""),
		"title": str(""), "body": str(""), "address": str(""), "lat": num(), "long": num(), "requester": ref("Requester"), "confidential": boolean(),
		"department": str("lead department"), "co_departments": arr(str("")), "first_department": str("首办 department"), "assignee": str(""),
		"step": str(""), "step_label": str(""), "status": enumStr("open", "closed"), "received_at": dt(), "deadline": dt(), "step_deadline": dt(), "closed_at": dt(),
		"reply": str(""), "rating": integer(), "returns": integer(), "reopens": integer(), "transfers": integer(), "extension_days": integer(), "version": integer(),
		"clock":   obj(map[string]any{"deadline": dt(), "left_work_seconds": integer(), "left_workdays": integer(), "state": enumStr("normal", "warning", "overdue", "closed")}),
		"actions": arr(str("the actions the caller may take now")), "action_forms": arr(obj(map[string]any{"name": str(""), "label": str(""), "fields": arr(obj(map[string]any{}))}))}),
	"CaseList": obj(map[string]any{"cases": arr(ref("Case")), "total": integer(), "page": integer(), "per_page": integer()}),
	"Action": map[string]any{"type": "object", "required": []string{"action"}, "additionalProperties": true, "properties": map[string]any{
		"action": str("the action name"), "version": integer(), "note": str("optional note, at most 1000 characters"),
		"department": str("dispatch"), "co_departments": arr(str("")), "reason": str("return, reject_*, request_transfer, request_extension, reopen"),
		"working_days": integer(), "text": str("reply, assist")}},
	"Event": obj(map[string]any{"seq": integer(), "action": str(""), "from_step": str(""), "to_step": str(""), "actor": str(""), "actor_department": str(""),
		"at": dt(), "reason": str(""), "note": str(""), "public": boolean(), "payload": obj(map[string]any{}), "prev_hash": str(""), "hash": str("")}),
	"Events": obj(map[string]any{"events": arr(ref("Event")), "chain_ok": boolean(), "first_bad_seq": integer()}),
	"Track": obj(map[string]any{"tracking_code": str(""), "type": str(""), "category": str(""), "title": str(""), "status": str(""), "step": str(""), "step_label": str(""),
		"received_at": dt(), "deadline": dt(), "department": str(""), "reply": str(""), "can_rate": boolean(), "rating": integer(),
		"timeline": arr(obj(map[string]any{"action": str(""), "label": str(""), "department": str(""), "at": dt(), "reason": str("")}))}),
	"Rating":   obj(map[string]any{"phone_last4": str(""), "level": integer(), "comment": str("at most 500 characters")}, "phone_last4", "level"),
	"Override": obj(map[string]any{"off": boolean(), "name": str("")}),
	"Name":     obj(map[string]any{"name": str("")}, "name"),
	"RatingFigures": obj(map[string]any{"ratings": integer(), "levels": map[string]any{"type": "object", "additionalProperties": integer(), "description": "1 非常不满意 … 5 非常满意"},
		"satisfaction_rate": num(), "bad": integer(), "verified": integer(), "called_back": integer(), "rectified": integer(), "rectified_on_time": integer(),
		"appealed": integer(), "removed": integer()}),
	"RatingGroup": map[string]any{"allOf": []any{ref("RatingFigures"), obj(map[string]any{"code": str(""), "name": str("")})}},
	"RatingSummary": obj(map[string]any{"from": str("YYYY-MM-DD"), "to": str("YYYY-MM-DD"), "total": ref("RatingFigures"),
		"departments": arr(ref("RatingGroup")), "matters": arr(ref("RatingGroup")), "categories": arr(ref("RatingGroup")), "computed_at": dt()}),
	"BadRatings": obj(map[string]any{"total": integer(), "ratings": arr(obj(map[string]any{"case_id": integer(), "tracking_code": str(""), "title": str(""),
		"no": integer(), "kind": str(""), "department": str(""), "category": str(""), "channel": enumStr("online", "window"), "level": integer(), "at": dt(),
		"state": enumStr("verify", "rectify", "callback", "appeal", "done", "removed"), "verified": boolean(), "called_back": boolean(), "rectified": boolean(),
		"rectified_on_time": boolean(), "appealed": boolean(), "removed": boolean(), "deadline": dt(), "overdue": boolean(), "left_seconds": integer()}))}),
}

func obj(props map[string]any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}
func str(desc string) map[string]any {
	if desc == "" {
		return map[string]any{"type": "string"}
	}
	return map[string]any{"type": "string", "description": desc}
}
func enumStr(vals ...string) map[string]any { return map[string]any{"type": "string", "enum": vals} }
func integer() map[string]any               { return map[string]any{"type": "integer"} }
func num() map[string]any                   { return map[string]any{"type": "number"} }
func boolean() map[string]any               { return map[string]any{"type": "boolean"} }
func dt() map[string]any                    { return map[string]any{"type": "string", "format": "date-time"} }
func arr(items any) map[string]any          { return map[string]any{"type": "array", "items": items} }
func ref(name string) map[string]any        { return map[string]any{"$ref": "#/components/schemas/" + name} }

var openapiOnce = sync.OnceValue(func() []byte {
	paths := map[string]map[string]any{}
	for _, op := range apiOps {
		o := map[string]any{"summary": op.summary, "tags": []string{op.tag}, "operationId": op.method + strings.NewReplacer("/", "_", "{", "", "}", "").Replace(op.path)}
		var params []any
		for _, p := range op.params {
			in := "query"
			if strings.Contains(op.path, "{"+p+"}") {
				in = "path"
			}
			params = append(params, map[string]any{"name": p, "in": in, "required": in == "path", "description": paramDocs[p], "schema": str("")})
		}
		if params != nil {
			o["parameters"] = params
		}
		if op.body != "" {
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": ref(op.body)}}}
		}
		okResp := map[string]any{"description": "success"}
		if op.result != "" {
			okResp["content"] = map[string]any{"application/json": map[string]any{"schema": ref(op.result)}}
		}
		errResp := map[string]any{"description": "error", "content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
		o["responses"] = map[string]any{itoa(op.ok): okResp, "400": errResp, "401": errResp, "403": errResp, "404": errResp, "409": errResp, "413": errResp, "429": errResp, "503": errResp}
		switch op.auth {
		case "staff", "admin":
			o["security"] = []any{map[string]any{"bearer": []string{}}, map[string]any{"cookie": []string{}}}
		case "apikey|staff|public":
			o["security"] = []any{map[string]any{"bearer": []string{}}, map[string]any{"apiKey": []string{}}, map[string]any{}}
		}
		if paths[op.path] == nil {
			paths[op.path] = map[string]any{}
		}
		paths[op.path][op.method] = o
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "tongban 通办 API", "version": "1",
			"description": "Cases (requests) of a district government: file, dispatch, handle, reply, rate. Errors are {\"error\": {code, message, message_en, field}}. Open311 GeoReport v2 is served under /open311/v2."},
		"servers": []any{map[string]any{"url": "/api/v1"}},
		"paths":   paths,
		"components": map[string]any{"schemas": schemas, "securitySchemes": map[string]any{
			"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "a session token from POST /auth/token, or an API key tbk_…"},
			"apiKey": map[string]any{"type": "apiKey", "in": "header", "name": "X-API-Key"},
			"cookie": map[string]any{"type": "apiKey", "in": "cookie", "name": "tb_session", "description": "browser session; unsafe methods need X-CSRF-Token"},
		}},
	}
	b, _ := json.MarshalIndent(doc, "", " ")
	return b
})

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func (s *Server) apiOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openapiOnce())
}
