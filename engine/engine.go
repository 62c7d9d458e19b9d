// Package engine is the case engine: it creates cases, takes actions on
// them through their workflow, computes every deadline from the calendar,
// decides who may see and do what, and writes each change with its
// hash-chained event through the store in one transaction.
package engine

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/supervise"
	"github.com/tongban/tongban/textproc"
	"github.com/tongban/tongban/workflow"
)

// Engine is safe for concurrent use by any number of requests and, through
// the store's optimistic concurrency, by any number of instances.
type Engine struct {
	Store     tongban.Store
	Workflows map[string]*workflow.Definition
	Now       func() time.Time
	Log       *slog.Logger
	// Supervision configures alarms and scorecards; nil: supervise.Default().
	Supervision *supervise.Config
	// Text is search, routing, duplicates and hot issues (text.go).
	Text     *Text
	cal      atomic.Pointer[calendar.Calendar]
	ref      refCache
	sessions tokenCache[sessionEntry]
	apiKeys  tokenCache[*tongban.APIKey]
	ratings  ratingCache
}

// New returns an engine over the store with the built-in workflows and the
// calendar with the store's overrides.
func New(ctx context.Context, store tongban.Store) (*Engine, error) {
	wfs, err := workflow.Builtin()
	if err != nil {
		return nil, err
	}
	e := &Engine{Store: store, Workflows: wfs, Now: tongban.Now, Log: slog.Default()}
	e.Text = newText(e)
	if err := e.ReloadCalendar(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// ReloadCalendar rebuilds the calendar from the embedded table and the
// store's overrides; call it after an override changes.
func (e *Engine) ReloadCalendar(ctx context.Context) error {
	ovs, err := e.Store.ListCalendarOverrides(ctx)
	if err != nil {
		return err
	}
	cos := make([]calendar.Override, len(ovs))
	for i, o := range ovs {
		cos[i] = calendar.Override{Date: o.Date, Off: o.Off, Name: o.Name}
	}
	cal, err := calendar.Build(cos, calendar.DefaultOfficeHours())
	if err != nil {
		return tongban.Errorf(tongban.EInvalid, "日历调整无效："+err.Error(), "invalid calendar override: "+err.Error())
	}
	e.cal.Store(cal)
	return nil
}

// Calendar returns the calendar in force.
func (e *Engine) Calendar() *calendar.Calendar { return e.cal.Load() }

type nowKey struct{}

// WithNow makes the engine act at time t for this context: imports and the
// demo file history in the past without touching the shared clock.
func WithNow(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, nowKey{}, t.UTC().Truncate(time.Microsecond))
}

func (e *Engine) now(ctx context.Context) time.Time {
	if t, ok := ctx.Value(nowKey{}).(time.Time); ok {
		return t
	}
	return e.Now()
}

// Actor is whoever acts: a staff user, a machine client with an API key,
// or the public (a requester proven by tracking code and phone digits).
type Actor struct {
	User   *tongban.User
	APIKey *tongban.APIKey
}

// Name is how events record the actor.
func (a Actor) Name() string {
	switch {
	case a.User != nil:
		return a.User.Login
	case a.APIKey != nil:
		return "apikey:" + a.APIKey.Name
	}
	return "public"
}

func (a Actor) dept() string {
	if a.User != nil {
		return a.User.Dept
	}
	return ""
}

func (a Actor) id() int64 {
	if a.User != nil {
		return a.User.ID
	}
	return 0
}

// Upload is an attachment as received, before it is checked.
type Upload struct {
	Name string
	Data []byte
}

// NewCase is the input for filing a request.
type NewCase struct {
	Kind         string
	Type         string
	Category     string
	Title        string
	Body         string
	Address      string
	Lat, Long    *float64
	Requester    tongban.Requester
	Confidential bool
	Channel      string
	Uploads      []Upload
	// ReceivedAt lets imports and the demo file cases in the past.
	ReceivedAt time.Time
}

var (
	mobileRe   = regexp.MustCompile(`^1[3-9]\d{9}$`)
	landlineRe = regexp.MustCompile(`^0\d{2,3}-?\d{7,8}$`)
	emailRe    = regexp.MustCompile(`^[^@\s]{1,64}@[^@\s]{1,190}\.[A-Za-z]{2,}$`)
)

// ValidPhone accepts a mainland mobile or a landline with area code.
func ValidPhone(s string) bool { return mobileRe.MatchString(s) || landlineRe.MatchString(s) }

func runes(s string) int { return utf8.RuneCountInString(s) }

// allowedTypes are the attachment types accepted, judged by content.
var allowedTypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"}

// Create validates and files a new request.
func (e *Engine) Create(ctx context.Context, actor Actor, in NewCase) (*tongban.Case, error) {
	if in.Kind == "" {
		in.Kind = tongban.KindRequest
	}
	if in.Kind != tongban.KindRequest {
		return nil, tongban.FieldError("kind", "暂不支持此类办件："+in.Kind, "unsupported case kind: "+in.Kind)
	}
	def := e.Workflows["request"]
	typ, ok := tongban.ParseType(strings.TrimSpace(in.Type))
	if !ok {
		return nil, tongban.FieldError("type", "诉求类型须为咨询、求助、投诉、举报或建议", "type must be one of consultation, help, complaint, report, suggestion")
	}
	in.Title, in.Body, in.Address = strings.TrimSpace(in.Title), strings.TrimSpace(in.Body), strings.TrimSpace(in.Address)
	switch {
	case in.Title == "":
		return nil, tongban.FieldError("title", "标题为必填项", "title is required")
	case runes(in.Title) > tongban.MaxTitle:
		return nil, tongban.FieldError("title", "标题不能超过200字", "title must be at most 200 characters")
	case in.Body == "":
		return nil, tongban.FieldError("body", "内容为必填项", "body is required")
	case runes(in.Body) > tongban.MaxBody:
		return nil, tongban.FieldError("body", "内容不能超过4000字", "body must be at most 4000 characters")
	case runes(in.Address) > tongban.MaxAddress:
		return nil, tongban.FieldError("address", "地址不能超过200字", "address must be at most 200 characters")
	}
	if (in.Lat == nil) != (in.Long == nil) {
		return nil, tongban.FieldError("lat", "经纬度须同时提供", "lat and long go together")
	}
	if in.Lat != nil && (*in.Lat < -90 || *in.Lat > 90 || *in.Long < -180 || *in.Long > 180) {
		return nil, tongban.FieldError("lat", "经纬度超出范围", "lat/long out of range")
	}
	r := tongban.Requester{Name: strings.TrimSpace(in.Requester.Name), Phone: strings.TrimSpace(in.Requester.Phone), Email: strings.TrimSpace(in.Requester.Email)}
	if runes(r.Name) > tongban.MaxName {
		return nil, tongban.FieldError("name", "姓名不能超过50字", "name must be at most 50 characters")
	}
	if r.Phone == "" && (in.Channel == tongban.ChannelWeb || in.Channel == "") {
		return nil, tongban.FieldError("phone", "请填写手机号码，用于查询进度", "a phone number is required to track the request")
	}
	if r.Phone != "" && !ValidPhone(r.Phone) {
		return nil, tongban.FieldError("phone", "电话号码格式不正确", "invalid phone number")
	}
	if r.Email != "" && !emailRe.MatchString(r.Email) {
		return nil, tongban.FieldError("email", "电子邮箱格式不正确", "invalid email address")
	}
	cat, err := e.Category(ctx, strings.TrimSpace(in.Category))
	if err != nil || !cat.Active {
		if err != nil && tongban.ErrorCode(err) != tongban.ENotFound {
			return nil, err
		}
		return nil, tongban.FieldError("category", "未知的诉求分类", "unknown category")
	}
	if in.Channel == "" {
		in.Channel = tongban.ChannelAPI
	}
	if !slices.Contains(tongban.Channels, in.Channel) {
		return nil, tongban.FieldError("channel", "未知渠道", "unknown channel")
	}
	if len(in.Uploads) > tongban.MaxAttachN {
		return nil, tongban.FieldError("attachments", "附件最多9个", "at most 9 attachments")
	}
	now := e.now(ctx)
	received := now
	if !in.ReceivedAt.IsZero() {
		received = in.ReceivedAt.UTC().Truncate(time.Microsecond)
	}
	c := &tongban.Case{
		Kind: in.Kind, Workflow: def.Name, TrackingCode: tongban.NewTrackingCode(), Type: typ, Channel: in.Channel,
		Category: cat.Code, Title: in.Title, Body: in.Body, Address: in.Address, Lat: in.Lat, Long: in.Long,
		Requester: r, Confidential: in.Confidential || typ == tongban.TypeReport,
		Step: def.Start, Status: tongban.StatusOpen, ReceivedAt: received, UpdatedAt: received, StepStarted: received,
	}
	for _, u := range in.Uploads {
		a, err := checkUpload(u, now)
		if err != nil {
			return nil, err
		}
		c.Attachments = append(c.Attachments, a)
	}
	c.Deadline = e.caseDeadline(cat, typ, received)
	c.StepDeadline = e.stepDeadline(def.Step(def.Start), c, received)
	payload, _ := json.Marshal(map[string]any{"channel": c.Channel, "type": c.Type, "category": c.Category, "deadline": c.Deadline})
	ev := &tongban.Event{Action: "create", FromStep: "", ToStep: c.Step, ActorID: actor.id(), Actor: actor.Name(), ActorDept: actor.dept(),
		At: received, Public: true, Payload: payload}
	if err := e.beforeWrite(ctx, actor, nil, c, ev); err != nil {
		return nil, err
	}
	// Signed once, for the store and the duplicate index.
	sig := textproc.SignCase(c.Title, c.Body)
	c.TextSig = sig.Bytes()
	if err := e.Store.CreateCase(ctx, c, ev); err != nil {
		return nil, err
	}
	e.Text.observeSigned(c, sig)
	e.Text.autoDispatch(ctx, c)
	return c, nil
}

func checkUpload(u Upload, now time.Time) (tongban.Attachment, error) {
	if len(u.Data) == 0 {
		return tongban.Attachment{}, tongban.FieldError("attachments", "附件为空", "empty attachment")
	}
	if len(u.Data) > tongban.MaxAttachment {
		return tongban.Attachment{}, &tongban.Error{Code: tongban.ETooLarge, Field: "attachments", Message: "单个附件不能超过10MB", English: "each attachment must be at most 10 MB"}
	}
	ct := http.DetectContentType(u.Data)
	if !slices.Contains(allowedTypes, ct) {
		return tongban.Attachment{}, tongban.FieldError("attachments", "附件只能是图片（JPEG、PNG、GIF、WebP）或PDF", "attachments must be images (JPEG, PNG, GIF, WebP) or PDF")
	}
	name := strings.TrimSpace(u.Name)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	if name == "" || runes(name) > 100 {
		name = "attachment"
	}
	return tongban.Attachment{Name: name, ContentType: ct, Size: int64(len(u.Data)), SHA256: sha256hex(u.Data), Data: u.Data, CreatedAt: now}, nil
}

func (e *Engine) caseDeadline(cat *tongban.Category, typ string, from time.Time) time.Time {
	cal := e.Calendar()
	if cat.LimitHours > 0 {
		return cal.AddWorkHours(from, time.Duration(cat.LimitHours)*time.Hour).UTC()
	}
	return cal.DeadlineAfterWorkdays(from, cat.LimitDays(typ)).UTC()
}

func (e *Engine) stepDeadline(s *workflow.Step, c *tongban.Case, from time.Time) *time.Time {
	var t time.Time
	switch {
	case s == nil || s.Final:
		return nil
	case s.CaseDeadline:
		t = c.Deadline
	case s.LimitDays > 0:
		t = e.Calendar().DeadlineAfterWorkdays(from, s.LimitDays).UTC()
	case s.LimitHours > 0:
		t = e.Calendar().AddWorkHours(from, time.Duration(s.LimitHours)*time.Hour).UTC()
	default:
		return nil
	}
	return &t
}

// Find loads a case by numeric ID or tracking code.
func (e *Engine) Find(ctx context.Context, ref string) (*tongban.Case, error) {
	ref = strings.TrimSpace(ref)
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil && id > 0 {
		return e.Store.Case(ctx, id)
	}
	code, ok := tongban.NormalizeTrackingCode(ref)
	if !ok {
		return nil, tongban.ErrNotFound
	}
	return e.Store.CaseByCode(ctx, code)
}

// CanView reports whether a staff user may see a case: centre, supervision,
// leaders and administrators see all; departments see their own.
func CanView(u *tongban.User, c *tongban.Case) bool {
	if u == nil || u.Disabled {
		return false
	}
	if u.HasAny(tongban.RoleIntake, tongban.RoleDispatcher, tongban.RoleSupervisor, tongban.RoleLeader, tongban.RoleAdmin) {
		return true
	}
	return u.HasAny(tongban.RoleHandler, tongban.RoleHead) && c.InDept(u.Dept)
}

// Get returns a case the actor may see; others get not_found, so the
// existence of cases elsewhere does not leak.
func (e *Engine) Get(ctx context.Context, actor Actor, ref string) (*tongban.Case, error) {
	c, err := e.Find(ctx, ref)
	if err != nil {
		return nil, err
	}
	if !CanView(actor.User, c) {
		return nil, tongban.ErrNotFound
	}
	return c, nil
}

// ActionInfo describes an action the caller may take now, with its form.
type ActionInfo struct {
	Name    string           `json:"name"`
	Label   string           `json:"label"`
	LabelEN string           `json:"label_en"`
	Fields  []workflow.Field `json:"fields,omitempty"`
}

// Allowed lists the actions the actor may take on the case now. A nil
// user means the public requester.
func (e *Engine) Allowed(actor Actor, c *tongban.Case) []ActionInfo {
	def := e.Workflows[c.Workflow]
	if def == nil {
		return nil
	}
	cat, _ := e.Category(context.Background(), c.Category)
	env := &workflow.Env{Now: e.Now(), Actor: actor.User, Category: cat}
	out := []ActionInfo{}
	for _, a := range def.ActionsFrom(c.Step) {
		if actor.User == nil && actor.APIKey != nil {
			break // machine clients file and read; people act
		}
		if !(workflow.Permitted(a, c, actor.User) || onBehalf(a, c, actor.User)) || !workflow.Holds(a, c, env) {
			continue
		}
		if slices.ContainsFunc(out, func(x ActionInfo) bool { return x.Name == a.Name }) {
			continue
		}
		out = append(out, ActionInfo{Name: a.Name, Label: a.Label, LabelEN: a.LabelEN, Fields: a.Fields})
	}
	return out
}

// Act takes the named action on a case with the given JSON fields.
func (e *Engine) Act(ctx context.Context, actor Actor, ref, action string, raw map[string]json.RawMessage) (*tongban.Case, *tongban.Event, error) {
	var c *tongban.Case
	var err error
	if actor.User == nil {
		c, err = e.Find(ctx, ref) // the public caller has been checked by tracking code
	} else {
		c, err = e.Get(ctx, actor, ref)
	}
	if err != nil {
		return nil, nil, err
	}
	_, pinned := raw["version"]
	for attempt := 0; ; attempt++ {
		c2, ev, err := e.act(ctx, actor, c, action, raw)
		// A caller who named no version acts on the case as it is now: if
		// someone else (or an alarm) changed it in between, judge the
		// action again against the new state rather than fail.
		// Parallel departments answer an application at once: let every
		// opinion through the joins rather than fail it after three tries.
		if err == nil || pinned || tongban.AsError(err) != tongban.ErrConflict || attempt == 2 && c.Kind != tongban.KindApplication || attempt == 30 {
			return c2, ev, err
		}
		if c, err = e.Store.Case(ctx, c.ID); err != nil {
			return nil, nil, err
		}
	}
}

func (e *Engine) act(ctx context.Context, actor Actor, c *tongban.Case, action string, raw map[string]json.RawMessage) (*tongban.Case, *tongban.Event, error) {
	def := e.Workflows[c.Workflow]
	if def == nil {
		return nil, nil, tongban.Errorf(tongban.EInternal, "未知流程", "unknown workflow")
	}
	a := def.Find(c.Step, action)
	if a == nil {
		known := slices.ContainsFunc(def.Actions, func(x workflow.Action) bool { return x.Name == action })
		if !known {
			return nil, nil, tongban.FieldError("action", "未知操作："+action, "unknown action: "+action)
		}
		return nil, nil, tongban.Errorf(tongban.EConflict, "办件当前环节不允许此操作", "this action is not allowed in the case's current step")
	}
	if actor.APIKey != nil && actor.User == nil {
		return nil, nil, tongban.ErrForbidden
	}
	if !workflow.Permitted(a, c, actor.User) && !onBehalf(a, c, actor.User) {
		return nil, nil, tongban.ErrForbidden
	}
	if v, ok := raw["version"]; ok {
		var want int64
		if err := json.Unmarshal(v, &want); err != nil {
			return nil, nil, tongban.FieldError("version", "版本号应为整数", "version must be an integer")
		}
		if want != c.Version {
			return nil, nil, tongban.ErrConflict
		}
	}
	var note string
	if v, ok := raw["note"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &note); err != nil {
			return nil, nil, tongban.FieldError("note", "备注应为文本", "note must be a string")
		}
		if runes(note) > tongban.MaxReason {
			return nil, nil, tongban.FieldError("note", "备注不能超过1000字", "note must be at most 1000 characters")
		}
	}
	in, err := workflow.ParseInput(a, applicationInput(c, raw))
	if err != nil {
		return nil, nil, err
	}
	cat, err := e.Category(ctx, c.Category)
	if err != nil && tongban.ErrorCode(err) != tongban.ENotFound {
		return nil, nil, err
	}
	now := e.now(ctx)
	env := &workflow.Env{Now: now, Actor: actor.User, Category: cat, Clock: e.Calendar(), Input: in,
		DeptExists: func(code string) bool {
			d, err := e.Department(ctx, code)
			return err == nil && !d.Disabled
		},
		FindCase: func(ref string) (*tongban.Case, error) { return e.Find(ctx, ref) },
		Matter: func() (*tongban.Matter, error) {
			var m workflow.AppMatter
			if !workflow.GetAttr(c, workflow.AttrMatter, &m) {
				return nil, tongban.Errorf(tongban.EConflict, "办件没有事项目录版本", "the case has no catalogue version")
			}
			return e.Matter(ctx, m.Code, m.Version)
		},
		RectifyWorkdays: e.SuperviseConfig().RectifyWorkdays, Centre: e.centre(ctx)}
	if !workflow.Holds(a, c, env) {
		return nil, nil, tongban.Errorf(tongban.EConflict, "当前条件下不能进行此操作", "this action's condition does not hold now")
	}
	from, version := c.Step, c.Version
	prev := *c
	prev.Attrs = maps.Clone(c.Attrs) // the effects change c's attrs in place
	to, err := workflow.Apply(a, c, env)
	if err != nil {
		return nil, nil, err
	}
	if to != from {
		c.Step, c.StepStarted = to, now
		c.StepDeadline = e.stepDeadline(def.Step(to), c, now)
	} else if def.Step(to).CaseDeadline {
		c.StepDeadline = e.stepDeadline(def.Step(to), c, now) // the case deadline may have moved
	}
	applicationStep(c)
	if def.Step(to).Final {
		// An action on a closed case (a 差评's steps) leaves it closed when it was.
		if c.ClosedAt == nil || from != to {
			c.ClosedAt = &now
		}
		c.Status, c.StepDeadline, c.Pending = tongban.StatusClosed, nil, nil
	} else {
		c.Status, c.ClosedAt = tongban.StatusOpen, nil
	}
	c.UpdatedAt = now
	payload, _ := json.Marshal(env.Payload)
	if len(env.Payload) == 0 {
		payload = nil
	}
	ev := &tongban.Event{CaseID: c.ID, Seq: version + 1, Action: a.Name, FromStep: from, ToStep: to,
		ActorID: actor.id(), Actor: actor.Name(), ActorDept: actor.dept(), At: now,
		Reason: env.Reason, Note: note, Public: a.Public, Payload: payload, PrevHash: c.LastHash}
	ev.Hash = ev.ComputeHash()
	c.Version, c.LastHash = version+1, ev.Hash
	if err := e.beforeWrite(ctx, actor, &prev, c, ev); err != nil {
		return nil, nil, err
	}
	if err := e.Store.UpdateCase(ctx, c, version, ev); err != nil {
		return nil, nil, err
	}
	e.Text.observe(c)
	e.propagateMerged(ctx, c, ev)
	return c, ev, nil
}
