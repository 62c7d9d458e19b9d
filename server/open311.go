package server

// Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) under
// /open311/v2, in JSON and XML chosen by the file extension:
//
//	GET  /open311/v2/discovery.{json|xml}
//	GET  /open311/v2/services.{json|xml}
//	GET  /open311/v2/services/{service_code}.{json|xml}
//	POST /open311/v2/requests.{json|xml}          (api_key required)
//	GET  /open311/v2/requests.{json|xml}          (public, rate-limited)
//	GET  /open311/v2/requests/{id}.{json|xml}     (id = tracking code)
//	GET  /open311/v2/tokens/{token}.{json|xml}
//
// Choices where the specification leaves room or tongban differs:
//
//   - service_request_id is the case's tracking code, never the numeric id.
//   - POST answers 201 Created (the spec's examples show 200) with a
//     Location header; the body is the spec's one-item list.
//   - Requests are created synchronously, so a token is never pending:
//     GET tokens/{token} answers for a token equal to a tracking code and
//     404 otherwise; POST never returns a token.
//   - A location is not required: many categories (labour, education) have
//     none. address_id, device_id and zipcode are accepted and not kept;
//     media_url is never fetched, only recorded at the end of the body.
//   - jurisdiction_id is accepted and ignored: one server, one district.
//   - Lists are public and carry no personal data: no requester fields at
//     all, phone numbers, e-mail addresses and ID numbers in free text are
//     masked, as is the requester's own name; confidential cases (reports,
//     and requests filed as confidential) are left out of lists and, when
//     asked for by id, show status only.
//   - GET requests answers at most page_size (default and maximum 1000)
//     requests, newest first, in a window of at most 90 days (default: the
//     last 90 days).
//   - Times are RFC 3339 in China Standard Time (+08:00).
//   - Every service has metadata=true: its definition offers the tongban
//     extensions "type" (诉求类型) and "title", which may also be sent as
//     plain form fields.

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"math"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/engine"
)

const (
	o311Base        = "/open311/v2"
	o311Spec        = "http://wiki.open311.org/GeoReport_v2"
	o311MaxPage     = 1000                // the spec's cap on one answer
	o311MaxWindow   = 90 * 24 * time.Hour // the spec's default and longest window
	o311MaxIDs      = 100                 // service_request_id list length
	o311MaxCodes    = 20                  // service_code list length
	o311MaxBody     = 2 << 20             // form bodies: no file uploads
	o311MaxMediaURL = 500
	o311TitleRunes  = 30
	o311XMLType     = "text/xml; charset=utf-8"
	o311JSONFormat  = "json"
	o311XMLFormat   = "xml"
	o311MediaPrefix = "\n\n附件链接 / Media URL: "
	o311StoreChunk  = 500 // stores cap one ListCases page at 500
)

func (s *Server) open311Routes() {
	m := s.mux
	m.HandleFunc("GET "+o311Base+"/{file}", s.o311Top)
	m.HandleFunc("POST "+o311Base+"/{file}", s.o311Top)
	m.HandleFunc("GET "+o311Base+"/services/{file}", s.o311ServiceDef)
	m.HandleFunc("GET "+o311Base+"/requests/{file}", s.o311Request)
	m.HandleFunc("GET "+o311Base+"/tokens/{file}", s.o311Token)
	// Anything else under /open311/ answers in the Open311 error format.
	// Each method is named so these never conflict with a site-wide "/".
	for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		m.HandleFunc(method+" /open311/", s.o311NotFound)
	}
}

// open311Error writes an error in the Open311 format, as XML when the path
// asks for XML and as JSON otherwise. The spec answers a missing or bad
// api_key with 403, so 401 becomes 403 here.
func (s *Server) open311Error(w http.ResponseWriter, r *http.Request, status int, e *tongban.Error) {
	if status == http.StatusUnauthorized {
		status = http.StatusForbidden
	}
	desc := e.Message + " / " + e.English
	if e.Field != "" {
		desc += " (" + o311Param(e.Field) + ")"
	}
	errs := []o311Error{{Code: status, Description: desc}}
	format := o311JSONFormat
	if strings.HasSuffix(strings.ToLower(r.URL.Path), "."+o311XMLFormat) {
		format = o311XMLFormat
	}
	o311Write(w, format, status, o311ErrorsXML{Errors: errs}, errs)
}

// o311Param names an engine input field by its Open311 parameter.
func o311Param(field string) string {
	switch field {
	case "category":
		return "service_code"
	case "body":
		return "description"
	case "address":
		return "address_string"
	case "name":
		return "first_name/last_name"
	case "lat":
		return "lat/long"
	}
	return field
}

// ---- wire types: one struct serves JSON and XML ----

// nullString is null in JSON when empty (the schemas allow null for
// optional fields; media_url "" would not be a valid URI) and an empty
// element in XML.
type nullString string

func (n nullString) MarshalJSON() ([]byte, error) {
	if n == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(n))
}

type o311Error struct {
	Code        int    `json:"code" xml:"code"`
	Description string `json:"description" xml:"description"`
}

type o311ErrorsXML struct {
	XMLName xml.Name    `xml:"errors"`
	Errors  []o311Error `xml:"error"`
}

type o311Endpoint struct {
	Specification string   `json:"specification" xml:"specification"`
	URL           string   `json:"url" xml:"url"`
	Changeset     string   `json:"changeset" xml:"changeset"`
	Type          string   `json:"type" xml:"type"`
	Formats       []string `json:"formats" xml:"formats>format"`
}

type o311Discovery struct {
	XMLName    xml.Name       `json:"-" xml:"discovery"`
	Changeset  string         `json:"changeset" xml:"changeset"`
	Contact    string         `json:"contact" xml:"contact"`
	KeyService string         `json:"key_service" xml:"key_service"`
	Endpoints  []o311Endpoint `json:"endpoints" xml:"endpoints>endpoint"`
}

type o311Service struct {
	ServiceCode string     `json:"service_code" xml:"service_code"`
	ServiceName string     `json:"service_name" xml:"service_name"`
	Description nullString `json:"description" xml:"description"`
	Metadata    bool       `json:"metadata" xml:"metadata"`
	Type        string     `json:"type" xml:"type"`
	Keywords    nullString `json:"keywords" xml:"keywords"`
	Group       nullString `json:"group" xml:"group"`
}

type o311ServicesXML struct {
	XMLName  xml.Name      `xml:"services"`
	Services []o311Service `xml:"service"`
}

type o311Value struct {
	Key  string `json:"key" xml:"key"`
	Name string `json:"name" xml:"name"`
}

type o311Attribute struct {
	Variable            bool        `json:"variable" xml:"variable"`
	Code                string      `json:"code" xml:"code"`
	Datatype            string      `json:"datatype" xml:"datatype"`
	Required            bool        `json:"required" xml:"required"`
	DatatypeDescription nullString  `json:"datatype_description" xml:"datatype_description"`
	Order               int         `json:"order" xml:"order"`
	Description         nullString  `json:"description" xml:"description"`
	Values              []o311Value `json:"values,omitempty" xml:"-"`
	// XMLValues carries Values in XML, where an empty list must not leave
	// an empty <values/> behind.
	XMLValues *o311ValuesXML `json:"-" xml:"values,omitempty"`
}

type o311ValuesXML struct {
	Values []o311Value `xml:"value"`
}

type o311Definition struct {
	XMLName     xml.Name        `json:"-" xml:"service_definition"`
	ServiceCode string          `json:"service_code" xml:"service_code"`
	Attributes  []o311Attribute `json:"attributes" xml:"attributes>attribute"`
}

// o311Req is one service request as the public sees it.
type o311Req struct {
	ServiceRequestID  string     `json:"service_request_id" xml:"service_request_id"`
	Status            string     `json:"status" xml:"status"`
	StatusNotes       nullString `json:"status_notes" xml:"status_notes"`
	ServiceName       nullString `json:"service_name" xml:"service_name"`
	ServiceCode       string     `json:"service_code" xml:"service_code"`
	Description       nullString `json:"description" xml:"description"`
	AgencyResponsible nullString `json:"agency_responsible" xml:"agency_responsible"`
	ServiceNotice     nullString `json:"service_notice" xml:"service_notice"`
	RequestedDatetime string     `json:"requested_datetime" xml:"requested_datetime"`
	UpdatedDatetime   nullString `json:"updated_datetime" xml:"updated_datetime"`
	ExpectedDatetime  nullString `json:"expected_datetime" xml:"expected_datetime"`
	Address           nullString `json:"address" xml:"address"`
	AddressID         nullString `json:"address_id" xml:"address_id"`
	Zipcode           nullString `json:"zipcode" xml:"zipcode"`
	Lat               *float64   `json:"lat" xml:"lat,omitempty"`
	Long              *float64   `json:"long" xml:"long,omitempty"`
	MediaURL          nullString `json:"media_url" xml:"media_url"`
}

type o311ReqsXML struct {
	XMLName  xml.Name  `xml:"service_requests"`
	Requests []o311Req `xml:"request"`
}

// o311Created answers a POST.
type o311Created struct {
	ServiceRequestID string     `json:"service_request_id" xml:"service_request_id"`
	ServiceNotice    nullString `json:"service_notice" xml:"service_notice"`
	AccountID        nullString `json:"account_id" xml:"account_id"`
}

type o311CreatedXML struct {
	XMLName  xml.Name      `xml:"service_requests"`
	Requests []o311Created `xml:"request"`
}

type o311TokenAnswer struct {
	ServiceRequestID string `json:"service_request_id" xml:"service_request_id"`
	Token            string `json:"token" xml:"token"`
}

type o311TokensXML struct {
	XMLName  xml.Name          `xml:"service_requests"`
	Requests []o311TokenAnswer `xml:"request"`
}

// o311Write writes v as XML (xv, a document with its root element) or as
// JSON (jv, the spec's bare array or object).
func o311Write(w http.ResponseWriter, format string, status int, xv, jv any) {
	if format != o311XMLFormat {
		writeJSON(w, status, jv)
		return
	}
	b, err := xml.MarshalIndent(xv, "", "  ")
	if err != nil { // only for types that cannot marshal: a programming error
		b, _ = xml.Marshal(o311ErrorsXML{Errors: []o311Error{{Code: 500, Description: "服务器内部错误 / internal error"}}})
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", o311XMLType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(b)
	w.Write([]byte("\n"))
}

// o311Split splits "services.json" into "services" and "json". Unknown
// formats are not found.
func o311Split(file string) (name, format string, err error) {
	i := strings.LastIndexByte(file, '.')
	if i <= 0 {
		return "", "", o311NotFoundErr
	}
	name, format = file[:i], strings.ToLower(file[i+1:])
	if format != o311JSONFormat && format != o311XMLFormat {
		return "", "", tongban.Errorf(tongban.ENotFound, "不支持的格式："+format+"（应为 .json 或 .xml）", "unsupported format "+strconv.Quote(format)+" (use .json or .xml)")
	}
	return name, format, nil
}

var o311NotFoundErr = tongban.Errorf(tongban.ENotFound, "未找到该 Open311 接口", "no such Open311 endpoint")

func (s *Server) o311NotFound(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
		s.fail(w, r, o311NotFoundErr)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		s.open311Error(w, r, http.StatusMethodNotAllowed, o311MethodErr)
	}
}

var o311MethodErr = tongban.Errorf(tongban.EInvalid, "不支持的请求方法", "method not allowed")

// o311Top serves the files directly under /open311/v2.
func (s *Server) o311Top(w http.ResponseWriter, r *http.Request) {
	name, format, err := o311Split(r.PathValue("file"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	post := r.Method == http.MethodPost
	switch {
	case name == "requests" && post:
		s.o311Create(w, r, format)
	case name == "requests":
		s.o311List(w, r, format)
	case name != "discovery" && name != "services":
		s.fail(w, r, o311NotFoundErr)
	case post:
		w.Header().Set("Allow", "GET, HEAD")
		s.open311Error(w, r, http.StatusMethodNotAllowed, o311MethodErr)
	case name == "discovery":
		s.o311Discovery(w, r, format)
	default:
		s.o311Services(w, r, format)
	}
}

// ---- discovery and services ----

var o311HostRe = regexp.MustCompile(`^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$`)

// o311BaseURL is this endpoint's URL as the client reached it.
func (s *Server) o311BaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if s.Opts.TrustProxy {
		if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
			scheme = p
		}
	}
	host := r.Host
	if !o311HostRe.MatchString(host) {
		host = "localhost"
	}
	return scheme + "://" + host + o311Base
}

func o311Time(t time.Time) string { return t.In(calendar.Shanghai).Format(time.RFC3339) }

func (s *Server) o311Discovery(w http.ResponseWriter, r *http.Request, format string) {
	cats, err := s.Store.ListCategories(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var changed time.Time // the last change to the list of services
	for _, c := range cats {
		if c.UpdatedAt.After(changed) {
			changed = c.UpdatedAt
		}
	}
	if changed.IsZero() {
		changed = s.started
	}
	d := o311Discovery{
		Changeset:  o311Time(changed),
		Contact:    "请联系区政务服务热线管理员 / Contact the administrators of the district service hotline",
		KeyService: "API 密钥由系统管理员发放（/api/v1/apikeys）/ API keys are issued by the administrators (/api/v1/apikeys)",
		Endpoints: []o311Endpoint{{Specification: o311Spec, URL: s.o311BaseURL(r), Changeset: o311Time(changed),
			Type: "production", Formats: []string{"text/xml", "application/json"}}},
	}
	o311Write(w, format, http.StatusOK, d, d)
}

// o311Names caches category and department names for one response.
type o311Names struct {
	list  []*tongban.Category // in display order
	cats  map[string]*tongban.Category
	depts map[string]string
}

func (s *Server) o311Names(r *http.Request) (*o311Names, error) {
	cats, err := s.Store.ListCategories(r.Context())
	if err != nil {
		return nil, err
	}
	ds, err := s.Store.ListDepartments(r.Context())
	if err != nil {
		return nil, err
	}
	n := &o311Names{list: cats, cats: map[string]*tongban.Category{}, depts: map[string]string{}}
	for _, c := range cats {
		n.cats[c.Code] = c
	}
	for _, d := range ds {
		n.depts[d.Code] = d.Name
	}
	return n, nil
}

func (s *Server) o311Services(w http.ResponseWriter, r *http.Request, format string) {
	n, err := s.o311Names(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []o311Service{}
	for _, c := range n.list {
		if !c.Active {
			continue
		}
		out = append(out, o311Service{ServiceCode: c.Code, ServiceName: c.Name, Description: nullString(c.Description),
			Metadata: true, Type: "realtime", Keywords: nullString(strings.Join(c.Keywords, ",")), Group: nullString(n.depts[c.Dept])})
	}
	o311Write(w, format, http.StatusOK, o311ServicesXML{Services: out}, out)
}

// o311Attributes are the same for every service: tongban's extensions.
func o311Attributes() []o311Attribute {
	var vals []o311Value
	for _, t := range tongban.RequestTypes {
		vals = append(vals, o311Value{Key: t, Name: tongban.TypeNames[t] + " / " + t})
	}
	return []o311Attribute{
		{Variable: true, Code: "type", Datatype: "singlevaluelist", Required: false, Order: 1,
			DatatypeDescription: "诉求类型，默认为投诉；也可用中文名 / request type, complaint by default; Chinese names are accepted too",
			Description:         "诉求类型 / Request type", Values: vals, XMLValues: &o311ValuesXML{Values: vals}},
		{Variable: true, Code: "title", Datatype: "string", Required: false, Order: 2,
			DatatypeDescription: "不超过200字，默认取描述的前30个字 / at most 200 characters; defaults to the first 30 characters of the description",
			Description:         "标题 / Title"},
	}
}

func (s *Server) o311ServiceDef(w http.ResponseWriter, r *http.Request) {
	code, format, err := o311Split(r.PathValue("file"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.Store.Category(r.Context(), code)
	if err == nil && !c.Active {
		err = tongban.ErrNotFound
	}
	if err != nil {
		if tongban.ErrorCode(err) == tongban.ENotFound {
			err = tongban.Errorf(tongban.ENotFound, "未知的服务类型："+code, "unknown service_code: "+code)
		}
		s.fail(w, r, err)
		return
	}
	d := o311Definition{ServiceCode: c.Code, Attributes: o311Attributes()}
	o311Write(w, format, http.StatusOK, d, d)
}

// ---- POST requests ----

func o311Invalid(param, zh, en string) error { return tongban.FieldError(param, zh, en) }

// o311Form parses a urlencoded or multipart body (and the query string).
func o311Form(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, o311MaxBody)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch mt {
	case "multipart/form-data":
		err = r.ParseMultipartForm(1 << 20)
		if r.MultipartForm != nil {
			r.MultipartForm.RemoveAll() // files are not accepted; drop any spilled to disk
		}
	case "application/x-www-form-urlencoded", "":
		err = r.ParseForm()
	default:
		return tongban.Errorf(tongban.EInvalid, "请求体须为表单（application/x-www-form-urlencoded 或 multipart/form-data）",
			"the body must be a form (application/x-www-form-urlencoded or multipart/form-data)")
	}
	if err != nil {
		var big *http.MaxBytesError
		if errors.As(err, &big) || strings.Contains(err.Error(), "too large") {
			return tongban.Errorf(tongban.ETooLarge, "请求体过大", "request body too large")
		}
		return tongban.Errorf(tongban.EInvalid, "表单无法解析", "cannot parse the form")
	}
	return nil
}

// o311Key resolves the caller's API key: the X-API-Key header or a bearer
// key (already checked by the middleware), or the api_key parameter.
func (s *Server) o311Key(r *http.Request) (*tongban.APIKey, error) {
	if a := authOf(r); a.APIKey != nil {
		return a.APIKey, nil
	}
	key := strings.TrimSpace(r.FormValue("api_key"))
	if key == "" {
		return nil, tongban.Errorf(tongban.EForbidden, "缺少 api_key", "api_key is required")
	}
	k, err := s.Engine.CheckAPIKey(r.Context(), key)
	if err != nil {
		if e := tongban.AsError(err); e != nil && e.Code == tongban.EUnauthorized {
			return nil, tongban.Errorf(tongban.EForbidden, "api_key 无效", "invalid api_key")
		}
		return nil, err
	}
	return k, nil
}

// o311FormValue returns a form value or, failing that, attribute[name].
func o311FormValue(r *http.Request, name string) string {
	if v := strings.TrimSpace(r.FormValue(name)); v != "" {
		return v
	}
	return strings.TrimSpace(r.FormValue("attribute[" + name + "]"))
}

func o311Coord(v, param string) (*float64, error) {
	if v == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, o311Invalid(param, param+" 应为数字", param+" must be a number")
	}
	return &f, nil
}

// o311Name joins first and last name: "Jane Doe", but 张三 family first.
func o311Name(first, last string) string {
	switch {
	case first == "":
		return last
	case last == "":
		return first
	case o311ASCII(first) && o311ASCII(last):
		return first + " " + last
	}
	return last + first
}

func o311ASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// o311Phone drops spaces and the +86 prefix; the engine validates the rest.
func o311Phone(p string) string {
	p = strings.NewReplacer(" ", "", "\u00a0", "").Replace(p)
	if rest, ok := strings.CutPrefix(p, "+86"); ok {
		return strings.TrimPrefix(rest, "-")
	}
	if len(p) == 13 && strings.HasPrefix(p, "86") {
		return p[2:]
	}
	return p
}

// o311Title is the first 30 characters of the description, on one line.
func o311Title(desc string) string {
	t := strings.Join(strings.Fields(desc), " ")
	if rs := []rune(t); len(rs) > o311TitleRunes {
		t = strings.TrimSpace(string(rs[:o311TitleRunes]))
	}
	return t
}

func o311MediaURLOK(v string) bool {
	if len(v) > o311MaxMediaURL || strings.ContainsAny(v, " \t\r\n") {
		return false
	}
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}

func (s *Server) o311Create(w http.ResponseWriter, r *http.Request, format string) {
	if err := o311Form(w, r); err != nil {
		s.fail(w, r, err)
		return
	}
	key, err := s.o311Key(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in, err := o311NewCase(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.Engine.Create(r.Context(), engine.Actor{APIKey: key}, in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var notice string
	if cat, err := s.Store.Category(r.Context(), c.Category); err == nil {
		notice = o311Notice(c, cat)
	}
	out := []o311Created{{ServiceRequestID: c.TrackingCode, ServiceNotice: nullString(notice),
		AccountID: nullString(strings.TrimSpace(r.FormValue("account_id")))}}
	w.Header().Set("Location", o311Base+"/requests/"+c.TrackingCode+"."+format)
	o311Write(w, format, http.StatusCreated, o311CreatedXML{Requests: out}, out)
}

// o311NewCase reads and checks a POSTed request; the engine checks the rest.
func o311NewCase(r *http.Request) (engine.NewCase, error) {
	var in engine.NewCase
	code := strings.TrimSpace(r.FormValue("service_code"))
	if code == "" {
		return in, o311Invalid("service_code", "service_code 为必填项", "service_code is required")
	}
	desc := strings.TrimSpace(r.FormValue("description"))
	switch {
	case desc == "":
		return in, o311Invalid("description", "description（诉求内容）为必填项", "description is required")
	case utf8.RuneCountInString(desc) > tongban.MaxBody:
		return in, o311Invalid("description", "description 不能超过4000字", "description must be at most 4000 characters")
	}
	latS, longS := strings.TrimSpace(r.FormValue("lat")), strings.TrimSpace(r.FormValue("long"))
	if (latS == "") != (longS == "") {
		return in, o311Invalid("lat/long", "lat 与 long 须同时提供", "lat and long go together")
	}
	lat, err := o311Coord(latS, "lat")
	if err != nil {
		return in, err
	}
	long, err := o311Coord(longS, "long")
	if err != nil {
		return in, err
	}
	body := desc
	if m := strings.TrimSpace(r.FormValue("media_url")); m != "" {
		if !o311MediaURLOK(m) {
			return in, o311Invalid("media_url", "media_url 须为 http(s) 地址，不超过500字符", "media_url must be an http(s) URL of at most 500 characters")
		}
		body += o311MediaPrefix + m
		if utf8.RuneCountInString(body) > tongban.MaxBody {
			return in, o311Invalid("description", "description 与 media_url 合计不能超过4000字", "description and media_url together must be at most 4000 characters")
		}
	}
	title := o311FormValue(r, "title")
	if title == "" {
		title = o311Title(desc)
	}
	typ := o311FormValue(r, "type")
	if typ == "" {
		typ = tongban.TypeComplaint
	}
	if t, ok := tongban.ParseType(strings.ToLower(typ)); ok {
		typ = t
	}
	in = engine.NewCase{
		Kind: tongban.KindRequest, Type: typ, Category: code, Title: title, Body: body,
		Address: strings.TrimSpace(r.FormValue("address_string")), Lat: lat, Long: long, Channel: tongban.ChannelOpen311,
		Requester: tongban.Requester{
			Name:  o311Name(strings.TrimSpace(r.FormValue("first_name")), strings.TrimSpace(r.FormValue("last_name"))),
			Phone: o311Phone(strings.TrimSpace(r.FormValue("phone"))),
			Email: strings.TrimSpace(r.FormValue("email")),
		},
	}
	return in, nil
}

// o311Notice says what to expect: the time limit and the deadline.
func o311Notice(c *tongban.Case, cat *tongban.Category) string {
	due := c.Deadline.In(calendar.Shanghai).Format("2006-01-02 15:04")
	if cat.LimitHours > 0 {
		n := strconv.Itoa(cat.LimitHours)
		return "须在" + n + "个工作小时内办理，时限至 " + due + " / to be handled within " + n + " office hours, by " + due + " (UTC+8)"
	}
	n := strconv.Itoa(cat.LimitDays(c.Type))
	notice := "须在" + n + "个工作日内答复，时限至 " + due + " / to be answered within " + n + " working days, by " + due + " (UTC+8)"
	if c.ExtensionDays > 0 {
		ext := strconv.Itoa(c.ExtensionDays)
		notice = "须在" + n + "个工作日内答复，经批准延期" + ext + "个工作日，时限至 " + due +
			" / to be answered within " + n + " working days, extended by " + ext + ", by " + due + " (UTC+8)"
	}
	return notice
}

// ---- GET requests ----

// o311View is a case as Open311 shows it: no requester, free text masked.
func (s *Server) o311View(c *tongban.Case, n *o311Names) o311Req {
	v := o311Req{ServiceRequestID: c.TrackingCode, Status: c.Status, ServiceCode: c.Category,
		RequestedDatetime: o311Time(c.ReceivedAt), ExpectedDatetime: nullString(o311Time(c.Deadline))}
	if c.Status != tongban.StatusClosed {
		v.Status = tongban.StatusOpen
	}
	updated := c.UpdatedAt
	if c.Status == tongban.StatusClosed && c.ClosedAt != nil {
		updated = *c.ClosedAt
	}
	v.UpdatedDatetime = nullString(o311Time(updated))
	if cat := n.cats[c.Category]; cat != nil {
		v.ServiceName = nullString(cat.Name)
		v.ServiceNotice = nullString(o311Notice(c, cat))
	}
	if c.Lead != "" {
		name := n.depts[c.Lead]
		if name == "" {
			name = c.Lead
		}
		v.AgencyResponsible = nullString(name)
	}
	// A draft awaiting approval, or a reply being redone, is not public.
	public := c.Reply != "" && c.Step != "review" && c.Step != "handle"
	if public && !c.Confidential {
		v.StatusNotes = nullString(o311Redact(c.Reply, c.Requester))
	} else {
		v.StatusNotes = nullString(s.o311StepNote(c))
	}
	if c.Confidential {
		return v // status only: what a report says stays with the departments
	}
	desc, media := c.Body, ""
	if c.Channel == tongban.ChannelOpen311 {
		if i := strings.LastIndex(desc, o311MediaPrefix); i >= 0 && o311MediaURLOK(desc[i+len(o311MediaPrefix):]) {
			desc, media = desc[:i], desc[i+len(o311MediaPrefix):]
		}
	}
	v.Description = nullString(o311Redact(desc, c.Requester))
	v.MediaURL = nullString(media)
	v.Address = nullString(o311Redact(c.Address, c.Requester))
	v.Lat, v.Long = c.Lat, c.Long
	return v
}

func (s *Server) o311StepNote(c *tongban.Case) string {
	if d := s.Engine.Workflows[c.Workflow]; d != nil {
		if st := d.Step(c.Step); st != nil {
			return st.Label + " / " + st.LabelEN
		}
	}
	return c.Step
}

// Free text is published, so what looks like a phone, ID or card number
// or an e-mail address is masked, and so is the requester's own name.
var (
	o311NumberRe = regexp.MustCompile(`1[3-9][0-9][- ][0-9]{4}[- ][0-9]{4}|[0-9０-９]{7,}[XxＸｘ]?`)
	o311EmailRe  = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
)

func o311Redact(text string, req tongban.Requester) string {
	if text == "" {
		return ""
	}
	if name := strings.TrimSpace(req.Name); utf8.RuneCountInString(name) >= 2 {
		text = strings.ReplaceAll(text, name, tongban.MaskName(name))
	}
	text = o311NumberRe.ReplaceAllStringFunc(text, o311MaskDigits)
	return o311EmailRe.ReplaceAllStringFunc(text, func(m string) string {
		at := strings.LastIndexByte(m, '@')
		return m[:1] + "***" + m[at:]
	})
}

// o311MaskDigits keeps the first three and last four digits of an 11-digit or
// longer number (138****5678) and only the last two of a shorter one.
func o311MaskDigits(m string) string {
	rs := []rune(m)
	var digits []int
	for i, r := range rs {
		if r >= '0' && r <= '9' || r >= '０' && r <= '９' {
			digits = append(digits, i)
		}
	}
	keepHead, keepTail := 0, 2
	if len(digits) >= 11 {
		keepHead, keepTail = 3, 4
	}
	for k, i := range digits {
		if k >= keepHead && k < len(digits)-keepTail {
			rs[i] = '*'
		}
	}
	if last := rs[len(rs)-1]; last == 'X' || last == 'x' || last == 'Ｘ' || last == 'ｘ' {
		rs[len(rs)-1] = '*'
	}
	return string(rs)
}

// o311Date parses a W3C datetime; a bare date is midnight in Shanghai.
// A "+" decoded as a space from an unescaped query is put back.
func o311Date(v, param string) (t time.Time, dateOnly bool, err error) {
	v = strings.ReplaceAll(strings.TrimSpace(v), " ", "+")
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, false, nil
	}
	if t, err := time.Parse("2006-01-02T15:04Z07:00", v); err == nil {
		return t, false, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", v, calendar.Shanghai); err == nil {
		return t, true, nil
	}
	return time.Time{}, false, o311Invalid(param, param+" 应为 W3C 日期时间，如 2026-03-01T08:00:00+08:00",
		param+" must be a W3C datetime such as 2026-03-01T08:00:00+08:00")
}

// o311Window reads start_date and end_date into [from, to): at most 90
// days, the last 90 days by default.
func (s *Server) o311Window(q url.Values) (from, to time.Time, err error) {
	var start, end time.Time
	var endDay time.Duration // a bare end date counts its whole day
	if v := q.Get("start_date"); v != "" {
		if start, _, err = o311Date(v, "start_date"); err != nil {
			return
		}
	}
	if v := q.Get("end_date"); v != "" {
		var dateOnly bool
		if end, dateOnly, err = o311Date(v, "end_date"); err != nil {
			return
		}
		if dateOnly {
			end, endDay = end.AddDate(0, 0, 1), 24*time.Hour
		} else {
			end = end.Add(time.Microsecond) // inclusive
		}
	}
	switch {
	case start.IsZero() && end.IsZero():
		end = s.Engine.Now().Add(time.Microsecond)
		start = end.Add(-o311MaxWindow)
	case end.IsZero():
		end = start.Add(o311MaxWindow)
	case start.IsZero():
		start = end.Add(-o311MaxWindow)
	}
	if !end.After(start) {
		return from, to, o311Invalid("end_date", "end_date 须晚于 start_date", "end_date must be after start_date")
	}
	if end.Sub(start)-endDay > o311MaxWindow {
		return from, to, o311Invalid("end_date", "查询时间范围不能超过90天", "the date range may not span more than 90 days")
	}
	return start, end, nil
}

func (s *Server) o311Limited(w http.ResponseWriter, r *http.Request) bool {
	if a := authOf(r); a.APIKey != nil || a.User != nil {
		return true
	}
	return s.limit(w, r, "open311", s.Opts.TrackPerMinute*5)
}

func (s *Server) o311List(w http.ResponseWriter, r *http.Request, format string) {
	if !s.o311Limited(w, r) {
		return
	}
	cases, err := s.o311Find(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.o311WriteCases(w, r, format, cases)
}

func (s *Server) o311WriteCases(w http.ResponseWriter, r *http.Request, format string, cases []*tongban.Case) {
	n, err := s.o311Names(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]o311Req, len(cases))
	for i, c := range cases {
		out[i] = s.o311View(c, n)
	}
	o311Write(w, format, http.StatusOK, o311ReqsXML{Requests: out}, out)
}

// o311Find runs a GET requests query.
func (s *Server) o311Find(r *http.Request) ([]*tongban.Case, error) {
	q := r.URL.Query()
	// service_request_id, when given, overrides every other parameter.
	if ids := q.Get("service_request_id"); ids != "" {
		parts := strings.Split(ids, ",")
		if len(parts) > o311MaxIDs {
			return nil, o311Invalid("service_request_id", "一次最多查询100个 service_request_id", "at most 100 service_request_id values at once")
		}
		out := []*tongban.Case{}
		for _, p := range parts {
			c, err := s.o311Case(r, p)
			if tongban.ErrorCode(err) == tongban.ENotFound {
				continue
			}
			if err != nil {
				return nil, err
			}
			if !slices.ContainsFunc(out, func(x *tongban.Case) bool { return x.ID == c.ID }) {
				out = append(out, c)
			}
		}
		return out, nil
	}
	size := o311MaxPage
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > o311MaxPage {
			return nil, o311Invalid("page_size", "page_size 须在1到1000之间", "page_size must be 1..1000")
		}
		size = n
	}
	status := q.Get("status")
	if status != "" && status != tongban.StatusOpen && status != tongban.StatusClosed {
		return nil, o311Invalid("status", "status 只能是 open 或 closed", "status must be open or closed")
	}
	from, to, err := s.o311Window(q)
	if err != nil {
		return nil, err
	}
	codes := []string{""}
	if v := q.Get("service_code"); v != "" {
		codes = nil
		for _, c := range strings.Split(v, ",") {
			if c = strings.TrimSpace(c); c != "" && !slices.Contains(codes, c) {
				codes = append(codes, c)
			}
		}
		if len(codes) > o311MaxCodes {
			return nil, o311Invalid("service_code", "一次最多查询20个 service_code", "at most 20 service_code values at once")
		}
	}
	var out []*tongban.Case
	for _, code := range codes {
		f := tongban.CaseFilter{Kind: tongban.KindRequest, Status: status, Category: code, From: from, To: to, Sort: "-received"}
		cs, err := s.o311Scan(r, f, size)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	if len(codes) > 1 {
		slices.SortStableFunc(out, func(a, b *tongban.Case) int {
			if c := b.ReceivedAt.Compare(a.ReceivedAt); c != 0 {
				return c
			}
			return int(b.ID - a.ID)
		})
	}
	if len(out) > size {
		out = out[:size]
	}
	return nonNil(out), nil
}

// o311Scan pages through the store (which caps a page at 500) until it
// has size public cases, skipping confidential ones.
func (s *Server) o311Scan(r *http.Request, f tongban.CaseFilter, size int) ([]*tongban.Case, error) {
	var out []*tongban.Case
	f.Limit = o311StoreChunk
	for pages := 0; len(out) < size && pages < 20; pages++ {
		page, err := s.Store.ListCases(r.Context(), f)
		if err != nil {
			return nil, err
		}
		for _, c := range page.Cases {
			if !c.Confidential && len(out) < size {
				out = append(out, c)
			}
		}
		f.Offset += len(page.Cases)
		if len(page.Cases) < f.Limit || f.Offset >= page.Total {
			break
		}
	}
	return out, nil
}

// o311Case finds a request by tracking code; anything else is not found.
func (s *Server) o311Case(r *http.Request, ref string) (*tongban.Case, error) {
	notFound := tongban.Errorf(tongban.ENotFound, "未找到该诉求："+strings.TrimSpace(ref), "no service request "+strings.TrimSpace(ref))
	code, ok := tongban.NormalizeTrackingCode(ref)
	if !ok {
		return nil, notFound
	}
	c, err := s.Store.CaseByCode(r.Context(), code)
	if err != nil {
		if tongban.ErrorCode(err) == tongban.ENotFound {
			return nil, notFound
		}
		return nil, err
	}
	if c.Kind != tongban.KindRequest {
		return nil, notFound
	}
	return c, nil
}

func (s *Server) o311Request(w http.ResponseWriter, r *http.Request) {
	id, format, err := o311Split(r.PathValue("file"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.o311Limited(w, r) {
		return
	}
	c, err := s.o311Case(r, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.o311WriteCases(w, r, format, []*tongban.Case{c})
}

// o311Token: requests are created at once, so the only tokens are the
// tracking codes themselves.
func (s *Server) o311Token(w http.ResponseWriter, r *http.Request) {
	token, format, err := o311Split(r.PathValue("file"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.o311Limited(w, r) {
		return
	}
	c, err := s.o311Case(r, token)
	if err != nil {
		if tongban.ErrorCode(err) == tongban.ENotFound {
			err = tongban.Errorf(tongban.ENotFound, "未找到该令牌（本系统同步受理，令牌即跟踪码）", "no such token (requests are created at once; the token is the tracking code)")
		}
		s.fail(w, r, err)
		return
	}
	out := []o311TokenAnswer{{ServiceRequestID: c.TrackingCode, Token: token}}
	o311Write(w, format, http.StatusOK, o311TokensXML{Requests: out}, out)
}
