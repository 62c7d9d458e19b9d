package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/server"
	"github.com/tongban/tongban/sqlite"
)

// ---- fixture: the real engine over SQLite behind the real handler ----

type o311Fixture struct {
	t       *testing.T
	url     string
	e       *engine.Engine
	key     string
	disp    *tongban.User
	hand    *tongban.User
	schemas *o311Schemas
	bodies  []o311Body // every Open311 response, for the personal-data check
}

// The requester's personal data; none of it may appear in Open311 output.
const (
	o311Phone = "13812345678"
	o311Email = "zhangsan@example.com"
	o311First = "三丰"
	o311Last  = "张"
)

func newO311(t *testing.T, opts server.Options) *o311Fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "open311.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e, err := engine.New(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	e.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := e.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*tongban.Department{
		{Code: "centre", Name: "区指挥中心", Kind: tongban.DeptCentre},
		{Code: "cgj", Name: "区城市管理局", Kind: tongban.DeptBureau},
	} {
		if err := e.AddDepartment(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	user := func(login, name, dept, roles string) *tongban.User {
		pw := "open311-test-password"
		u, err := e.AddUser(ctx, login, engine.UserChange{Name: &name, Dept: &dept, Roles: &roles, Password: &pw})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	fx := &o311Fixture{t: t, e: e, schemas: loadO311Schemas(t),
		disp: user("disp", "派单员", "centre", "dispatcher"), hand: user("hand", "承办人", "cgj", "handler")}
	fx.key, _, err = e.NewAPIKey(ctx, "open311-app")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(e, opts).Handler())
	t.Cleanup(srv.Close)
	fx.url = srv.URL
	return fx
}

type o311Body struct{ method, path, body string }

type o311Resp struct {
	status int
	header http.Header
	body   []byte
}

func (fx *o311Fixture) do(method, path string, body io.Reader, header map[string]string) o311Resp {
	fx.t.Helper()
	req, err := http.NewRequest(method, fx.url+path, body)
	if err != nil {
		fx.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fx.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		fx.t.Fatal(err)
	}
	if strings.HasPrefix(path, "/open311/") {
		fx.bodies = append(fx.bodies, o311Body{method, path, string(b)})
	}
	return o311Resp{res.StatusCode, res.Header, b}
}

func (fx *o311Fixture) get(path string) o311Resp { return fx.do("GET", path, nil, nil) }

func (fx *o311Fixture) postForm(path string, form url.Values, header map[string]string) o311Resp {
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range header {
		h[k] = v
	}
	return fx.do("POST", path, strings.NewReader(form.Encode()), h)
}

func (fx *o311Fixture) postMultipart(path string, form url.Values) o311Resp {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	mw.Close()
	return fx.do("POST", path, &buf, map[string]string{"Content-Type": mw.FormDataContentType()})
}

// goodForm is a complete request with the requester's personal data.
func (fx *o311Fixture) goodForm(code, desc string) url.Values {
	return url.Values{"api_key": {fx.key}, "service_code": {code}, "description": {desc},
		"lat": {"31.2304"}, "long": {"121.4737"}, "address_string": {"人民路88号"}, "address_id": {"A-88"},
		"email": {o311Email}, "first_name": {o311First}, "last_name": {o311Last}, "phone": {o311Phone},
		"device_id": {"dev-1"}, "account_id": {"acct-7"}, "jurisdiction_id": {"district"}}
}

// create files a request and returns its tracking code.
func (fx *o311Fixture) create(form url.Values) string {
	fx.t.Helper()
	res := fx.postForm("/open311/v2/requests.json", form, nil)
	if res.status != http.StatusCreated {
		fx.t.Fatalf("POST requests.json: %d %s", res.status, res.body)
	}
	var out []map[string]any
	fx.decodeJSON(res, &out)
	fx.schemas.mustValidate(fx.t, "swagger.json#/definitions/RequestResponse", out[0], true)
	if len(out) != 1 {
		fx.t.Fatalf("want one item, got %s", res.body)
	}
	code, _ := out[0]["service_request_id"].(string)
	if _, ok := tongban.NormalizeTrackingCode(code); !ok {
		fx.t.Fatalf("service_request_id %q is not a tracking code", code)
	}
	if loc := res.header.Get("Location"); loc != "/open311/v2/requests/"+code+".json" {
		fx.t.Errorf("Location = %q", loc)
	}
	return code
}

func (fx *o311Fixture) act(u *tongban.User, code, action string, fields map[string]string) {
	fx.t.Helper()
	raw := map[string]json.RawMessage{}
	for k, v := range fields {
		raw[k], _ = json.Marshal(v)
	}
	if _, _, err := fx.e.Act(context.Background(), engine.Actor{User: u}, code, action, raw); err != nil {
		fx.t.Fatalf("%s %s: %v", action, code, err)
	}
}

func (fx *o311Fixture) caseByCode(code string) *tongban.Case {
	fx.t.Helper()
	c, err := fx.e.Store.CaseByCode(context.Background(), code)
	if err != nil {
		fx.t.Fatal(err)
	}
	return c
}

func (fx *o311Fixture) decodeJSON(res o311Resp, v any) {
	fx.t.Helper()
	if ct := res.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		fx.t.Errorf("Content-Type = %q, want JSON", ct)
	}
	if err := json.Unmarshal(res.body, v); err != nil {
		fx.t.Fatalf("bad JSON: %v: %s", err, res.body)
	}
}

func (fx *o311Fixture) decodeXML(res o311Resp, v any) {
	fx.t.Helper()
	if ct := res.header.Get("Content-Type"); ct != "text/xml; charset=utf-8" {
		fx.t.Errorf("Content-Type = %q, want XML", ct)
	}
	if !bytes.HasPrefix(res.body, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		fx.t.Errorf("XML without declaration: %.80s", res.body)
	}
	if err := xml.Unmarshal(res.body, v); err != nil {
		fx.t.Fatalf("bad XML: %v: %s", err, res.body)
	}
}

func o311NonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (fx *o311Fixture) requestsQ(path, query string) []o311xRequest {
	fx.t.Helper()
	var out []o311xRequest
	for _, format := range []string{"json", "xml"} {
		res := fx.get(path + "." + format + "?" + query)
		if res.status != http.StatusOK {
			fx.t.Fatalf("GET %s.%s?%s: %d %s", path, format, query, res.status, res.body)
		}
		if format == "json" {
			var raw any
			fx.decodeJSON(res, &raw)
			fx.schemas.mustValidate(fx.t, "requests.json", raw, false)
			fx.decodeJSON(res, &out)
			out = o311NonNil(out)
			continue
		}
		var xs o311xRequests
		fx.decodeXML(res, &xs)
		if !reflect.DeepEqual(out, o311NonNil(xs.Requests)) {
			fx.t.Errorf("XML differs from JSON:\njson %+v\nxml  %+v", out, xs.Requests)
		}
	}
	return out
}

// wantError checks an Open311 error in the format the path asks for.
func (fx *o311Fixture) wantError(res o311Resp, status int, contains ...string) {
	fx.t.Helper()
	if res.status != status {
		fx.t.Fatalf("status %d, want %d: %s", res.status, status, res.body)
	}
	var errs []o311xError
	if strings.HasPrefix(res.header.Get("Content-Type"), "text/xml") {
		var x o311xErrors
		fx.decodeXML(res, &x)
		errs = x.Errors
	} else {
		fx.decodeJSON(res, &errs)
	}
	if len(errs) != 1 || errs[0].Code != status {
		fx.t.Fatalf("want one error with code %d, got %s", status, res.body)
	}
	d := errs[0].Description
	if !strings.ContainsFunc(d, func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff }) || !strings.ContainsAny(d, "abcdefghijklmnopqrstuvwxyz") {
		fx.t.Errorf("description should be Chinese and English: %q", d)
	}
	for _, c := range contains {
		if !strings.Contains(d, c) {
			fx.t.Errorf("description %q lacks %q", d, c)
		}
	}
}

func (fx *o311Fixture) assertNoPII() {
	fx.t.Helper()
	if len(fx.bodies) == 0 {
		fx.t.Fatal("no Open311 responses recorded")
	}
	for _, b := range fx.bodies {
		pii := []string{o311Phone, o311Email, "zhangsan", o311Last + o311First, o311First, "dev-1"}
		if b.method != "POST" {
			pii = append(pii, "acct-7") // POST echoes the client's own account_id, as the spec has it
		}
		for _, p := range pii {
			if strings.Contains(b.body, p) {
				fx.t.Errorf("%s %s: output contains personal data %q: %.300s", b.method, b.path, p, b.body)
			}
		}
	}
}

// ---- XML/JSON shapes, as a client would declare them ----

type o311xService struct {
	Code        string `json:"service_code" xml:"service_code"`
	Name        string `json:"service_name" xml:"service_name"`
	Description string `json:"description" xml:"description"`
	Metadata    bool   `json:"metadata" xml:"metadata"`
	Type        string `json:"type" xml:"type"`
	Keywords    string `json:"keywords" xml:"keywords"`
	Group       string `json:"group" xml:"group"`
}

type o311xServices struct {
	XMLName  xml.Name       `xml:"services"`
	Services []o311xService `xml:"service"`
}

type o311xValue struct {
	Key  string `json:"key" xml:"key"`
	Name string `json:"name" xml:"name"`
}

type o311xAttribute struct {
	Variable            bool         `json:"variable" xml:"variable"`
	Code                string       `json:"code" xml:"code"`
	Datatype            string       `json:"datatype" xml:"datatype"`
	Required            bool         `json:"required" xml:"required"`
	DatatypeDescription string       `json:"datatype_description" xml:"datatype_description"`
	Order               int          `json:"order" xml:"order"`
	Description         string       `json:"description" xml:"description"`
	Values              []o311xValue `json:"values" xml:"values>value"`
}

type o311xDefinition struct {
	XMLName     xml.Name         `json:"-" xml:"service_definition"`
	ServiceCode string           `json:"service_code" xml:"service_code"`
	Attributes  []o311xAttribute `json:"attributes" xml:"attributes>attribute"`
}

type o311xDiscovery struct {
	XMLName    xml.Name `json:"-" xml:"discovery"`
	Changeset  string   `json:"changeset" xml:"changeset"`
	Contact    string   `json:"contact" xml:"contact"`
	KeyService string   `json:"key_service" xml:"key_service"`
	Endpoints  []struct {
		Specification string   `json:"specification" xml:"specification"`
		URL           string   `json:"url" xml:"url"`
		Changeset     string   `json:"changeset" xml:"changeset"`
		Type          string   `json:"type" xml:"type"`
		Formats       []string `json:"formats" xml:"formats>format"`
	} `json:"endpoints" xml:"endpoints>endpoint"`
}

type o311xRequest struct {
	ID                string   `json:"service_request_id" xml:"service_request_id"`
	Status            string   `json:"status" xml:"status"`
	StatusNotes       string   `json:"status_notes" xml:"status_notes"`
	ServiceName       string   `json:"service_name" xml:"service_name"`
	ServiceCode       string   `json:"service_code" xml:"service_code"`
	Description       string   `json:"description" xml:"description"`
	AgencyResponsible string   `json:"agency_responsible" xml:"agency_responsible"`
	ServiceNotice     string   `json:"service_notice" xml:"service_notice"`
	Requested         string   `json:"requested_datetime" xml:"requested_datetime"`
	Updated           string   `json:"updated_datetime" xml:"updated_datetime"`
	Expected          string   `json:"expected_datetime" xml:"expected_datetime"`
	Address           string   `json:"address" xml:"address"`
	AddressID         string   `json:"address_id" xml:"address_id"`
	Zipcode           string   `json:"zipcode" xml:"zipcode"`
	Lat               *float64 `json:"lat" xml:"lat"`
	Long              *float64 `json:"long" xml:"long"`
	MediaURL          string   `json:"media_url" xml:"media_url"`
}

type o311xRequests struct {
	XMLName  xml.Name       `xml:"service_requests"`
	Requests []o311xRequest `xml:"request"`
}

type o311xCreated struct {
	ID            string `xml:"service_request_id"`
	ServiceNotice string `xml:"service_notice"`
	AccountID     string `xml:"account_id"`
}

type o311xError struct {
	Code        int    `json:"code" xml:"code"`
	Description string `json:"description" xml:"description"`
}

type o311xErrors struct {
	XMLName xml.Name     `xml:"errors"`
	Errors  []o311xError `xml:"error"`
}

// ---- tests ----

func TestOpen311DiscoveryAndServices(t *testing.T) {
	fx := newO311(t, server.DefaultOptions())

	// discovery
	var dj, dx o311xDiscovery
	res := fx.get("/open311/v2/discovery.json")
	if res.status != http.StatusOK {
		t.Fatalf("discovery.json: %d %s", res.status, res.body)
	}
	fx.decodeJSON(res, &dj)
	fx.decodeXML(fx.get("/open311/v2/discovery.xml"), &dx)
	dx.XMLName = xml.Name{}
	if !reflect.DeepEqual(dj, dx) {
		t.Errorf("discovery XML differs from JSON:\n%+v\n%+v", dj, dx)
	}
	if len(dj.Endpoints) != 1 {
		t.Fatalf("endpoints: %+v", dj.Endpoints)
	}
	ep := dj.Endpoints[0]
	if ep.Specification != "http://wiki.open311.org/GeoReport_v2" || ep.URL != fx.url+"/open311/v2" ||
		!slices.Contains(ep.Formats, "application/json") || !slices.Contains(ep.Formats, "text/xml") {
		t.Errorf("endpoint: %+v", ep)
	}
	for _, s := range []string{dj.Changeset, ep.Changeset} {
		if _, err := time.Parse(time.RFC3339, s); err != nil || !strings.HasSuffix(s, "+08:00") {
			t.Errorf("changeset %q: %v", s, err)
		}
	}
	if dj.Contact == "" || dj.KeyService == "" {
		t.Errorf("contact/key_service empty: %+v", dj)
	}

	// services: every active category, valid against services.json
	res = fx.get("/open311/v2/services.json")
	var raw any
	fx.decodeJSON(res, &raw)
	fx.schemas.mustValidate(t, "services.json", raw, false)
	var sj []o311xService
	fx.decodeJSON(res, &sj)
	var sx o311xServices
	fx.decodeXML(fx.get("/open311/v2/services.xml"), &sx)
	if !reflect.DeepEqual(sj, sx.Services) {
		t.Errorf("services XML differs from JSON:\n%+v\n%+v", sj, sx.Services)
	}
	cats := engine.DefaultCategories()
	if len(sj) != len(cats) {
		t.Fatalf("%d services, want %d", len(sj), len(cats))
	}
	for i, c := range cats {
		s := sj[i]
		if s.Code != c.Code || s.Name != c.Name || s.Description != c.Description || s.Type != "realtime" || !s.Metadata ||
			s.Keywords != strings.Join(c.Keywords, ",") {
			t.Errorf("service %d = %+v, category %+v", i, s, c)
		}
	}

	// an inactive category is no service
	ctx := context.Background()
	other, _ := fx.e.Store.Category(ctx, "other")
	other.Active = false
	if err := fx.e.PutCategory(ctx, other); err != nil {
		t.Fatal(err)
	}
	sj = nil
	fx.decodeJSON(fx.get("/open311/v2/services.json"), &sj)
	if len(sj) != len(cats)-1 || slices.ContainsFunc(sj, func(s o311xService) bool { return s.Code == "other" }) {
		t.Errorf("inactive category listed: %+v", sj)
	}
	fx.wantError(fx.get("/open311/v2/services/other.json"), http.StatusNotFound)

	// service definition
	res = fx.get("/open311/v2/services/noise.json")
	if res.status != http.StatusOK {
		t.Fatalf("services/noise.json: %d %s", res.status, res.body)
	}
	fx.decodeJSON(res, &raw)
	fx.schemas.mustValidate(t, "service-definition.json", raw, false)
	var defj, defx o311xDefinition
	fx.decodeJSON(res, &defj)
	fx.decodeXML(fx.get("/open311/v2/services/noise.xml"), &defx)
	defx.XMLName = xml.Name{}
	if !reflect.DeepEqual(defj, defx) {
		t.Errorf("definition XML differs from JSON:\n%+v\n%+v", defj, defx)
	}
	if defj.ServiceCode != "noise" || len(defj.Attributes) != 2 || defj.Attributes[0].Code != "type" || len(defj.Attributes[0].Values) != 5 {
		t.Errorf("definition: %+v", defj)
	}
	fx.wantError(fx.get("/open311/v2/services/nope.json"), http.StatusNotFound, "nope")
	fx.wantError(fx.get("/open311/v2/services/nope.xml"), http.StatusNotFound, "nope")
	fx.assertNoPII()
}

func TestOpen311RoutingErrors(t *testing.T) {
	fx := newO311(t, server.DefaultOptions())
	for _, p := range []string{"/open311/v2/services.html", "/open311/v2/services", "/open311/v2/nothing.json",
		"/open311/v2/services/noise.csv", "/open311/v3/services.json", "/open311/", "/open311/v2/a/b/c.json"} {
		res := fx.get(p)
		fx.wantError(res, http.StatusNotFound)
		if !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: Content-Type %q", p, res.header.Get("Content-Type"))
		}
	}
	res := fx.get("/open311/v2/nothing.xml")
	fx.wantError(res, http.StatusNotFound)
	if !strings.HasPrefix(res.header.Get("Content-Type"), "text/xml") {
		t.Errorf("XML path answered %q", res.header.Get("Content-Type"))
	}
	fx.wantError(fx.postForm("/open311/v2/services.json", url.Values{}, nil), http.StatusMethodNotAllowed)
	fx.wantError(fx.do("DELETE", "/open311/v2/requests.xml", nil, nil), http.StatusMethodNotAllowed)
	fx.wantError(fx.get("/open311/v2/requests/NOTACODE.json"), http.StatusNotFound)
	fx.wantError(fx.get("/open311/v2/requests/"+tongban.NewTrackingCode()+".xml"), http.StatusNotFound)
	fx.wantError(fx.get("/open311/v2/tokens/"+tongban.NewTrackingCode()+".json"), http.StatusNotFound)
}

func TestOpen311PostValidation(t *testing.T) {
	fx := newO311(t, server.DefaultOptions())
	form := func(mod func(url.Values)) url.Values {
		f := fx.goodForm("noise", "夜间施工噪音")
		mod(f)
		return f
	}
	post := func(f url.Values) o311Resp { return fx.postForm("/open311/v2/requests.json", f, nil) }

	fx.wantError(post(form(func(f url.Values) { f.Del("api_key") })), http.StatusForbidden, "api_key")
	fx.wantError(fx.postForm("/open311/v2/requests.xml", form(func(f url.Values) { f.Del("api_key") }), nil), http.StatusForbidden, "api_key")
	fx.wantError(post(form(func(f url.Values) { f.Set("api_key", "tbk_wrong") })), http.StatusForbidden, "api_key")
	fx.wantError(fx.postForm("/open311/v2/requests.json", form(func(f url.Values) { f.Del("api_key") }),
		map[string]string{"X-API-Key": "tbk_wrong"}), http.StatusForbidden)
	fx.wantError(post(form(func(f url.Values) { f.Set("service_code", "no-such") })), http.StatusBadRequest,
		"未知的诉求分类", "unknown category", "service_code")
	fx.wantError(post(form(func(f url.Values) { f.Del("service_code") })), http.StatusBadRequest, "service_code")
	fx.wantError(post(form(func(f url.Values) { f.Del("description") })), http.StatusBadRequest, "description")
	fx.wantError(post(form(func(f url.Values) { f.Set("description", "   ") })), http.StatusBadRequest, "description")
	fx.wantError(post(form(func(f url.Values) { f.Set("description", strings.Repeat("噪", 4001)) })), http.StatusBadRequest, "4000")
	fx.wantError(post(form(func(f url.Values) { f.Del("long") })), http.StatusBadRequest, "lat", "long")
	fx.wantError(post(form(func(f url.Values) { f.Del("lat") })), http.StatusBadRequest, "lat", "long")
	fx.wantError(post(form(func(f url.Values) { f.Set("lat", "NaN") })), http.StatusBadRequest, "lat")
	fx.wantError(post(form(func(f url.Values) { f.Set("lat", "91") })), http.StatusBadRequest)
	fx.wantError(post(form(func(f url.Values) { f.Set("media_url", "javascript:alert(1)") })), http.StatusBadRequest, "media_url")
	fx.wantError(post(form(func(f url.Values) { f.Set("type", "gripe") })), http.StatusBadRequest, "type")
	fx.wantError(post(form(func(f url.Values) { f.Set("phone", "12345") })), http.StatusBadRequest, "phone")
	fx.wantError(post(form(func(f url.Values) { f.Set("email", "not-an-email") })), http.StatusBadRequest, "email")
	fx.wantError(fx.do("POST", "/open311/v2/requests.json", strings.NewReader(`{"service_code":"noise"}`),
		map[string]string{"Content-Type": "application/json"}), http.StatusBadRequest)
	fx.wantError(fx.postForm("/open311/v2/requests.xml", form(func(f url.Values) { f.Del("description") }), nil), http.StatusBadRequest, "description")

	// nothing was filed by the bad requests
	page, err := fx.e.Store.ListCases(context.Background(), tongban.CaseFilter{})
	if err != nil || page.Total != 0 {
		t.Fatalf("bad requests filed cases: %v %+v", err, page)
	}

	// the key also goes in X-API-Key or as a bearer token; +86 is dropped
	for _, h := range []map[string]string{{"X-API-Key": fx.key}, {"Authorization": "Bearer " + fx.key}} {
		res := fx.postForm("/open311/v2/requests.json", form(func(f url.Values) { f.Del("api_key"); f.Set("phone", "+86 138 1234 5678") }), h)
		if res.status != http.StatusCreated {
			t.Errorf("%v: %d %s", h, res.status, res.body)
		}
	}
	// multipart, XML answer, Chinese type name, no location
	res := fx.postMultipart("/open311/v2/requests.xml", url.Values{"api_key": {fx.key}, "service_code": {"labour"},
		"description": {"公司拖欠三个月工资"}, "type": {"求助"}, "title": {"拖欠工资"}})
	if res.status != http.StatusCreated {
		t.Fatalf("multipart: %d %s", res.status, res.body)
	}
	var created struct {
		XMLName  xml.Name       `xml:"service_requests"`
		Requests []o311xCreated `xml:"request"`
	}
	fx.decodeXML(res, &created)
	if len(created.Requests) != 1 || !strings.Contains(created.Requests[0].ServiceNotice, "10个工作日") {
		t.Fatalf("created: %+v", created)
	}
	c := fx.caseByCode(created.Requests[0].ID)
	if c.Type != tongban.TypeHelp || c.Title != "拖欠工资" || c.Channel != tongban.ChannelOpen311 || c.Lat != nil {
		t.Errorf("case: %+v", c)
	}
	// attribute[type] as the service definition offers it
	code := fx.create(form(func(f url.Values) { f.Set("attribute[type]", "suggestion") }))
	if c := fx.caseByCode(code); c.Type != tongban.TypeSuggestion {
		t.Errorf("attribute[type]: %q", c.Type)
	}
	fx.assertNoPII()
}

func TestOpen311RequestLifecycle(t *testing.T) {
	fx := newO311(t, server.DefaultOptions())
	xss := `<script>alert("x")</script> & <b>`
	desc := "楼下工地每晚十点后仍在施工，噪音很大 " + xss + " 请回电 " + o311Phone + " 或发邮件 " + o311Email + "，我是" + o311Last + o311First + "。备用 139-8765-4321，身份证 11010519491231002X"
	f := fx.goodForm("noise", desc)
	f.Set("media_url", "https://img.example.org/p/1.jpg?a=1&b=2")
	code := fx.create(f)

	// the case as filed
	c := fx.caseByCode(code)
	if c.Channel != tongban.ChannelOpen311 || c.Type != tongban.TypeComplaint || c.Title != string([]rune(desc)[:30]) ||
		c.Requester.Phone != o311Phone || c.Requester.Email != o311Email || c.Requester.Name != "张三丰" {
		t.Errorf("case: %+v", c)
	}
	evs, _ := fx.e.Store.Events(context.Background(), c.ID)
	if len(evs) != 1 || evs[0].Actor != "apikey:open311-app" {
		t.Errorf("creating actor: %+v", evs)
	}

	// the public tracking page finds it with the phone's last digits
	res := fx.get("/api/v1/track/" + code + "?phone_last4=" + o311Phone[7:])
	if res.status != http.StatusOK || !bytes.Contains(res.body, []byte(code)) {
		t.Fatalf("track: %d %s", res.status, res.body)
	}

	check := func(wantStatus, wantNotes, wantAgency string) o311xRequest {
		t.Helper()
		rs := fx.requestsQ("/open311/v2/requests/"+code, "")
		if len(rs) != 1 {
			t.Fatalf("want one request, got %+v", rs)
		}
		r := rs[0]
		if r.ID != code || r.Status != wantStatus || r.StatusNotes != wantNotes || r.AgencyResponsible != wantAgency ||
			r.ServiceCode != "noise" || r.ServiceName != "噪音扰民" {
			t.Errorf("request = %+v\nwant status %q notes %q agency %q", r, wantStatus, wantNotes, wantAgency)
		}
		return r
	}
	r := check("open", "待派单 / To dispatch", "")
	c = fx.caseByCode(code)
	exp, err := time.Parse(time.RFC3339, r.Expected)
	if err != nil || !exp.Equal(c.Deadline.Truncate(time.Second)) || !strings.HasSuffix(r.Expected, "+08:00") {
		t.Errorf("expected_datetime %q, deadline %v", r.Expected, c.Deadline)
	}
	req, err := time.Parse(time.RFC3339, r.Requested)
	if err != nil || !req.Equal(c.ReceivedAt.Truncate(time.Second)) || !strings.HasSuffix(r.Requested, "+08:00") {
		t.Errorf("requested_datetime %q, received %v", r.Requested, c.ReceivedAt)
	}
	wantDesc := "楼下工地每晚十点后仍在施工，噪音很大 " + xss + " 请回电 138****5678 或发邮件 z***@example.com，我是张**。备用 139-****-4321，身份证 110**********1002*"
	if r.Description != wantDesc {
		t.Errorf("description\n got %q\nwant %q", r.Description, wantDesc)
	}
	if r.MediaURL != "https://img.example.org/p/1.jpg?a=1&b=2" || r.Address != "人民路88号" || r.Lat == nil || *r.Lat != 31.2304 ||
		r.Long == nil || *r.Long != 121.4737 || !strings.Contains(r.ServiceNotice, "15个工作日") {
		t.Errorf("request = %+v", r)
	}

	// hostile text: escaped in XML, a plain (escaped) string in JSON
	for _, format := range []string{"json", "xml"} {
		body := string(fx.get("/open311/v2/requests/" + code + "." + format).body)
		if strings.Contains(body, "<script") || strings.Contains(body, "<b>") {
			t.Errorf("%s: raw markup in body: %s", format, body)
		}
		want := `\u003cscript\u003ealert(\"x\")\u003c/script\u003e \u0026 \u003cb\u003e`
		if format == "xml" {
			want = `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;`
		}
		if !strings.Contains(body, want) {
			t.Errorf("%s: escaped payload %q not in %s", format, want, body)
		}
	}

	// dispatched: the lead department is responsible
	fx.act(fx.disp, code, "dispatch", map[string]string{"department": "cgj"})
	check("open", "待签收 / To accept", "区城市管理局")
	fx.act(fx.hand, code, "accept", nil)
	check("open", "办理中 / In hand", "区城市管理局")
	reply := "已责令施工单位夜间停工，执法队员将持续巡查。"
	fx.act(fx.hand, code, "reply", map[string]string{"text": reply})
	check("open", reply, "区城市管理局")
	fx.act(fx.disp, code, "close", map[string]string{"reason": "已答复"})
	r = check("closed", reply, "区城市管理局")
	c = fx.caseByCode(code)
	if upd, err := time.Parse(time.RFC3339, r.Updated); err != nil || !upd.Equal(c.ClosedAt.Truncate(time.Second)) {
		t.Errorf("updated_datetime %q, closed %v", r.Updated, c.ClosedAt)
	}

	// tokens: the tracking code is the token
	res = fx.get("/open311/v2/tokens/" + code + ".json")
	var tok []map[string]any
	fx.decodeJSON(res, &tok)
	if res.status != http.StatusOK || len(tok) != 1 || tok[0]["service_request_id"] != code {
		t.Fatalf("token: %d %s", res.status, res.body)
	}
	fx.schemas.mustValidate(t, "swagger.json#/definitions/TokenResponse", tok[0], true)
	var tx struct {
		XMLName  xml.Name `xml:"service_requests"`
		Requests []struct {
			ID    string `xml:"service_request_id"`
			Token string `xml:"token"`
		} `xml:"request"`
	}
	fx.decodeXML(fx.get("/open311/v2/tokens/"+code+".xml"), &tx)
	if len(tx.Requests) != 1 || tx.Requests[0].ID != code || tx.Requests[0].Token != code {
		t.Errorf("token XML: %+v", tx)
	}
	fx.assertNoPII()
}

func TestOpen311RequestList(t *testing.T) {
	fx := newO311(t, server.DefaultOptions())
	noise := fx.create(fx.goodForm("noise", "广场舞音响太吵"))
	f := fx.goodForm("road", "人行道井盖缺失")
	f.Set("type", "suggestion")
	road := fx.create(f)
	f = fx.goodForm("building", "楼顶违建，举报人请求保密")
	f.Set("type", "举报") // reports are confidential
	report := fx.create(f)
	fx.act(fx.disp, road, "close", map[string]string{"reason": "重复件"})

	ids := func(rs []o311xRequest) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }

	all := fx.requestsQ("/open311/v2/requests", "")
	if got := ids(all); !reflect.DeepEqual(got, sorted(noise, road)) {
		t.Errorf("list = %v, want noise and road but not the confidential report", got)
	}
	if all[0].ID != road { // newest first
		t.Errorf("order: %v", ids(all))
	}
	beijingNow := time.Now().In(time.FixedZone("CST", 8*3600))
	for q, want := range map[string][]string{
		"service_code=noise":                              {noise},
		"service_code=noise,road":                         sorted(noise, road),
		"service_code=water":                              nil,
		"status=open":                                     {noise},
		"status=closed":                                   {road},
		"status=closed&service_code=noise":                nil,
		"page_size=1":                                     {road},
		"jurisdiction_id=x&service_code=road":             {road},
		"service_request_id=" + noise + ",NOPE," + report: sorted(noise, report),
		"service_request_id=" + strings.ToLower(road) + "&status=open":                    {road}, // other parameters are ignored
		"start_date=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339)):   nil,
		"start_date=" + time.Now().Add(-time.Hour).Format("2006-01-02T15:04:05+08:00"):    sorted(noise, road), // unescaped "+"
		"end_date=" + url.QueryEscape(time.Now().Add(-24*time.Hour).Format(time.RFC3339)): nil,
		// Dates without a time are Beijing dates (the test may run after 16:00 UTC).
		"start_date=" + beijingNow.AddDate(0, 0, -10).Format("2006-01-02") + "&end_date=" + beijingNow.Format("2006-01-02"): sorted(noise, road),
		"start_date=" + beijingNow.AddDate(0, 0, -90).Format("2006-01-02") + "&end_date=" + beijingNow.Format("2006-01-02"): sorted(noise, road), // 90 days exactly
	} {
		if got := ids(fx.requestsQ("/open311/v2/requests", q)); !reflect.DeepEqual(o311NonNil(got), o311NonNil(want)) {
			t.Errorf("%s: got %v, want %v", q, got, want)
		}
	}

	// a confidential request asked for by id shows its status only
	rs := fx.requestsQ("/open311/v2/requests/"+report, "")
	if len(rs) != 1 || rs[0].Description != "" || rs[0].Address != "" || rs[0].Lat != nil || rs[0].StatusNotes != "待派单 / To dispatch" {
		t.Errorf("confidential: %+v", rs)
	}

	for _, q := range []string{"status=pending", "page_size=0", "page_size=1001", "page_size=x", "start_date=yesterday",
		"start_date=2026-01-01&end_date=2025-12-01", "start_date=2025-01-01&end_date=2025-12-01", "start_date=2025-01-01&end_date=2025-04-02",
		"service_request_id=" + strings.Repeat("A,", 100) + "A"} {
		fx.wantError(fx.get("/open311/v2/requests.json?"+q), http.StatusBadRequest)
		fx.wantError(fx.get("/open311/v2/requests.xml?"+q), http.StatusBadRequest)
	}
	fx.assertNoPII()
}

func TestOpen311RateLimit(t *testing.T) {
	opts := server.DefaultOptions()
	opts.TrackPerMinute = 1 // 5 Open311 lookups a minute
	fx := newO311(t, opts)
	for i := range 5 {
		if res := fx.get("/open311/v2/requests.json"); res.status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, res.status, res.body)
		}
	}
	res := fx.get("/open311/v2/requests.xml")
	fx.wantError(res, http.StatusTooManyRequests)
	if res.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// a client with a key is not limited
	if res := fx.do("GET", "/open311/v2/requests.json", nil, map[string]string{"X-API-Key": fx.key}); res.status != http.StatusOK {
		t.Errorf("with key: %d %s", res.status, res.body)
	}
	// discovery and services are not rate-limited
	if res := fx.get("/open311/v2/services.json"); res.status != http.StatusOK {
		t.Errorf("services: %d", res.status)
	}
}

// ---- a minimal JSON Schema validator for the subset the Open311 schemas
// use: $ref, anyOf, type, required, properties, items, enum, maxLength and
// the formats date-time and uri. Properties a schema does not declare are
// errors too, so a misspelt field shows. ----

type o311Schemas struct {
	docs map[string]map[string]any
}

func loadO311Schemas(t *testing.T) *o311Schemas {
	t.Helper()
	ss := &o311Schemas{docs: map[string]map[string]any{}}
	files, err := filepath.Glob(filepath.Join("testdata", "open311", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas in testdata/open311: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		ss.docs[filepath.Base(f)] = doc
	}
	return ss
}

// resolve finds "file.json", "file.json#/definitions/X" or "#/definitions/X".
func (ss *o311Schemas) resolve(doc, ref string) (string, map[string]any, error) {
	file, frag, _ := strings.Cut(ref, "#")
	if file == "" {
		file = doc
	}
	node, ok := ss.docs[file]
	if !ok {
		return "", nil, fmt.Errorf("unknown schema %q", file)
	}
	for _, p := range strings.Split(strings.Trim(frag, "/"), "/") {
		if p == "" {
			continue
		}
		next, ok := node[p].(map[string]any)
		if !ok {
			return "", nil, fmt.Errorf("no %q in %s", frag, file)
		}
		node = next
	}
	return file, node, nil
}

func (ss *o311Schemas) mustValidate(t *testing.T, ref string, v any, nullOK bool) {
	t.Helper()
	doc, sch, err := ss.resolve("", ref)
	if err != nil {
		t.Fatal(err)
	}
	var errs []string
	ss.check(doc, sch, v, "$", nullOK, &errs)
	if len(errs) > 0 {
		b, _ := json.Marshal(v)
		t.Errorf("%s: %d schema errors:\n  %s\nvalue: %.600s", ref, len(errs), strings.Join(errs, "\n  "), b)
	}
}

// check validates v; nullOK accepts null for any property (Swagger 2.0
// cannot say "nullable").
func (ss *o311Schemas) check(doc string, sch map[string]any, v any, path string, nullOK bool, errs *[]string) {
	fail := func(f string, a ...any) { *errs = append(*errs, path+": "+fmt.Sprintf(f, a...)) }
	if ref, ok := sch["$ref"].(string); ok {
		d, target, err := ss.resolve(doc, ref)
		if err != nil {
			fail("%v", err)
			return
		}
		ss.check(d, target, v, path, nullOK, errs)
		return
	}
	if v == nil && nullOK && path != "$" {
		return
	}
	if anyOf, ok := sch["anyOf"].([]any); ok {
		matched := false
		for _, alt := range anyOf {
			var sub []string
			ss.check(doc, alt.(map[string]any), v, path, nullOK, &sub)
			if len(sub) == 0 {
				matched = true
				break
			}
		}
		if !matched {
			fail("matches no alternative of anyOf: %v", v)
		}
	}
	if typ, ok := sch["type"].(string); ok {
		good := false
		switch x := v.(type) {
		case nil:
			good = typ == "null"
		case string:
			good = typ == "string"
		case bool:
			good = typ == "boolean"
		case float64:
			good = typ == "number" || typ == "integer" && x == float64(int64(x))
		case []any:
			good = typ == "array"
		case map[string]any:
			good = typ == "object"
		}
		if !good {
			fail("want %s, got %T %v", typ, v, v)
			return
		}
	}
	if enum, ok := sch["enum"].([]any); ok && !slices.Contains(enum, v) {
		fail("%v not in %v", v, enum)
	}
	if s, ok := v.(string); ok {
		if n, ok := sch["maxLength"].(float64); ok && utf8.RuneCountInString(s) > int(n) {
			fail("longer than %v", n)
		}
		switch sch["format"] {
		case "date-time":
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				fail("not a date-time: %q", s)
			}
		case "uri":
			if u, err := url.Parse(s); err != nil || u.Scheme == "" || u.Host == "" {
				fail("not a URI: %q", s)
			}
		}
	}
	if arr, ok := v.([]any); ok {
		if items, ok := sch["items"].(map[string]any); ok {
			for i, it := range arr {
				ss.check(doc, items, it, fmt.Sprintf("%s[%d]", path, i), nullOK, errs)
			}
		}
	}
	props, hasProps := sch["properties"].(map[string]any)
	req, _ := sch["required"].([]any)
	if !hasProps && req == nil {
		return
	}
	obj, ok := v.(map[string]any)
	if !ok {
		fail("want an object, got %T", v)
		return
	}
	for _, r := range req {
		if _, ok := obj[r.(string)]; !ok {
			fail("missing required %q", r)
		}
	}
	for k, val := range obj {
		p, ok := props[k].(map[string]any)
		if !ok {
			fail("property %q is not in the schema", k)
			continue
		}
		ss.check(doc, p, val, path+"."+k, nullOK, errs)
	}
}
