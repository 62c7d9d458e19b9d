package tongban

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// A matter (事项) is one entry of the service catalogue (办事指南): what
// may be applied for, on which legal basis, with which materials, within
// which limits, and which departments review it in which order. Each
// change makes a new version; an application keeps the version it was
// filed under.
type Matter struct {
	Code       string     `json:"code"`
	Version    int        `json:"version"`
	Name       string     `json:"name"`
	LegalBasis string     `json:"legal_basis"`
	Conditions []string   `json:"conditions,omitempty"`
	Materials  []Material `json:"materials,omitempty"`
	Free       bool       `json:"free"`
	Fees       []Fee      `json:"fees,omitempty"`
	// StatutoryDays (法定时限) and PromisedDays (承诺时限, never longer)
	// are working days from acceptance (Administrative Licensing Law
	// Art. 42, 82).
	StatutoryDays int `json:"statutory_days"`
	PromisedDays  int `json:"promised_days"`
	// Joint marks joint or centralised handling (统一办理、联合办理、集中办理):
	// 45 working days, extendable by 15 (Art. 42 para. 2), instead of 20 + 10.
	Joint bool `json:"joint,omitempty"`
	// Lead is the department that accepts, rules on objections and decides.
	Lead  string       `json:"lead_department"`
	Steps []MatterStep `json:"steps"`
	Place string       `json:"place,omitempty"`
	Hours string       `json:"hours,omitempty"`
	Form  []FormField  `json:"form,omitempty"`
	// Withdrawn matters stay in the catalogue's history but take no new
	// applications.
	Withdrawn bool `json:"withdrawn,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
}

// Material is one document an applicant hands in.
type Material struct {
	Name     string `json:"name"`
	Required bool   `json:"required"`
	// Form is "original" (原件) or "copy" (复印件).
	Form   string `json:"form"`
	Copies int    `json:"copies,omitempty"`
	// Sample is the text of a sample or blank form (样表) to download.
	Sample string `json:"sample,omitempty"`
}

// Fee is a charge with its legal basis; a matter with none is free.
type Fee struct {
	Name       string `json:"name"`
	Amount     string `json:"amount"` // yuan, e.g. "50.00"
	LegalBasis string `json:"legal_basis"`
}

// Step modes.
const (
	StepSerial   = "serial"
	StepParallel = "parallel"
)

// MatterStep is one review step: serial departments answer one after
// another, each within the step's limit; parallel ones (并联) all at once,
// the step joining when all have answered.
type MatterStep struct {
	Name        string   `json:"name"`
	Mode        string   `json:"mode"`
	Departments []string `json:"departments"`
	LimitDays   int      `json:"limit_days"`
}

// Form field types of an online application form.
var FormFieldTypes = []string{"text", "number", "date", "select", "bool", "usci", "id_card", "phone"}

// FormField is one field of an online application form, defined as data.
type FormField struct {
	Name     string   `json:"name"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Required bool     `json:"required,omitempty"`
	MaxLen   int      `json:"max_length,omitempty"`
	Options  []string `json:"options,omitempty"` // for select
}

// Limits of a matter definition.
const (
	MaxMatterText  = 4000
	MaxMatterItems = 100
	MaxFormFields  = 100
	MaxStepDepts   = 30
)

var (
	matterCodeRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	fieldNameRe  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
	amountRe     = regexp.MustCompile(`^(0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?$`)
	mobileRe     = regexp.MustCompile(`^1[3-9]\d{9}$`)
	landlineRe   = regexp.MustCompile(`^0\d{2,3}-?\d{7,8}$`)
)

// ExtensionDays is how far the overall limit may be extended once.
func (m *Matter) ExtensionDays() int {
	if m.Joint {
		return 15
	}
	return 10
}

// Departments lists every department named in the steps, in order, once.
func (m *Matter) Departments() []string {
	var out []string
	for _, s := range m.Steps {
		for _, d := range s.Departments {
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out
}

func mfield(field, zh, en string, args ...any) error {
	return FieldError(field, fmt.Sprintf(zh, args...), fmt.Sprintf(en, args...))
}

func tooLong(s string, n int) bool { return utf8.RuneCountInString(s) > n }

// Validate checks a definition completely and trims its text. Whether the
// departments exist is checked by the engine, which knows them.
func (m *Matter) Validate() error {
	m.Code, m.Name, m.LegalBasis = strings.TrimSpace(m.Code), strings.TrimSpace(m.Name), strings.TrimSpace(m.LegalBasis)
	m.Lead, m.Place, m.Hours = strings.TrimSpace(m.Lead), strings.TrimSpace(m.Place), strings.TrimSpace(m.Hours)
	switch {
	case !matterCodeRe.MatchString(m.Code):
		return mfield("code", "事项编码须为1到64位字母、数字、点、横线或下划线", "code must be 1-64 letters, digits, '.', '-' or '_'")
	case m.Name == "" || tooLong(m.Name, MaxTitle):
		return mfield("name", "事项名称为必填项，且不超过200字", "name is required, at most 200 characters")
	case m.LegalBasis == "" || tooLong(m.LegalBasis, MaxMatterText):
		return mfield("legal_basis", "设定依据为必填项，且不超过4000字", "legal_basis is required, at most 4000 characters")
	case tooLong(m.Place, MaxAddress) || tooLong(m.Hours, MaxAddress):
		return mfield("place", "办理地点和时间不能超过200字", "place and hours must be at most 200 characters")
	case len(m.Conditions) > MaxMatterItems || len(m.Materials) > MaxMatterItems || len(m.Fees) > MaxMatterItems:
		return mfield("materials", "条件、材料或收费项目过多", "too many conditions, materials or fees")
	}
	maxDays := 20
	if m.Joint {
		maxDays = 45
	}
	if m.StatutoryDays < 1 || m.StatutoryDays > maxDays {
		// Art. 42: 20 working days (45 for joint handling) unless a law
		// or regulation provides otherwise — shorter, which we accept.
		return mfield("statutory_days", "法定时限须在1到%d个工作日之间", "statutory_days must be 1..%d working days", maxDays)
	}
	if m.PromisedDays < 1 || m.PromisedDays > m.StatutoryDays {
		return mfield("promised_days", "承诺时限须为1个工作日以上，且不得长于法定时限", "promised_days must be at least 1 and not longer than statutory_days")
	}
	for i, c := range m.Conditions {
		m.Conditions[i] = strings.TrimSpace(c)
		if m.Conditions[i] == "" || tooLong(c, MaxMatterText) {
			return mfield("conditions", "申请条件第%d项为空或过长", "condition %d is empty or too long", i+1)
		}
	}
	for i := range m.Materials {
		mt := &m.Materials[i]
		mt.Name = strings.TrimSpace(mt.Name)
		if mt.Form == "" {
			mt.Form = "original"
		}
		switch {
		case mt.Name == "" || tooLong(mt.Name, MaxTitle):
			return mfield("materials", "材料第%d项名称为空或过长", "material %d: name empty or too long", i+1)
		case mt.Form != "original" && mt.Form != "copy":
			return mfield("materials", "材料第%d项须为原件（original）或复印件（copy）", "material %d: form must be original or copy", i+1)
		case mt.Copies < 0 || mt.Copies > 100:
			return mfield("materials", "材料第%d项份数无效", "material %d: invalid number of copies", i+1)
		case tooLong(mt.Sample, 20000):
			return mfield("materials", "材料第%d项样表过长", "material %d: sample too long", i+1)
		}
	}
	if m.Free && len(m.Fees) > 0 {
		return mfield("fees", "免费事项不能列收费项目", "a free matter has no fees")
	}
	if !m.Free && len(m.Fees) == 0 {
		return mfield("fees", "请列出收费项目及其依据，或标明不收费（free）", "list the fees with their legal basis, or mark the matter free")
	}
	for i := range m.Fees {
		f := &m.Fees[i]
		f.Name, f.Amount, f.LegalBasis = strings.TrimSpace(f.Name), strings.TrimSpace(f.Amount), strings.TrimSpace(f.LegalBasis)
		switch {
		case f.Name == "" || tooLong(f.Name, MaxTitle):
			return mfield("fees", "收费第%d项名称为空或过长", "fee %d: name empty or too long", i+1)
		case !amountRe.MatchString(f.Amount):
			return mfield("fees", "收费第%d项金额须为元，如 50.00", "fee %d: amount must be yuan, e.g. 50.00", i+1)
		case f.LegalBasis == "" || tooLong(f.LegalBasis, MaxMatterText):
			return mfield("fees", "收费第%d项须写明收费依据", "fee %d: the legal basis is required", i+1)
		}
	}
	if m.Lead == "" {
		return mfield("lead_department", "请指定牵头部门", "lead_department is required")
	}
	if len(m.Steps) == 0 || len(m.Steps) > 20 {
		return mfield("steps", "审查环节须有1到20个", "steps: 1 to 20 required")
	}
	total := 0
	for i := range m.Steps {
		s := &m.Steps[i]
		s.Name = strings.TrimSpace(s.Name)
		if s.Name == "" {
			s.Name = fmt.Sprintf("第%d环节", i+1)
		}
		if s.Mode == "" {
			s.Mode = StepSerial
		}
		switch {
		case tooLong(s.Name, MaxName):
			return mfield("steps", "环节%d名称过长", "step %d: name too long", i+1)
		case s.Mode != StepSerial && s.Mode != StepParallel:
			return mfield("steps", "环节%d方式须为 serial（串联）或 parallel（并联）", "step %d: mode must be serial or parallel", i+1)
		case len(s.Departments) == 0 || len(s.Departments) > MaxStepDepts:
			return mfield("steps", "环节%d须有1到30个部门", "step %d: 1 to 30 departments", i+1)
		case s.LimitDays < 1 || s.LimitDays > m.StatutoryDays:
			return mfield("steps", "环节%d时限须在1个工作日到法定时限之间", "step %d: limit_days must be 1..statutory_days", i+1)
		}
		for j, d := range s.Departments {
			s.Departments[j] = strings.TrimSpace(d)
			if s.Departments[j] == "" || slices.Contains(s.Departments[:j], s.Departments[j]) {
				return mfield("steps", "环节%d的部门为空或重复", "step %d: empty or repeated department", i+1)
			}
		}
		if s.Mode == StepSerial {
			total += s.LimitDays * len(s.Departments)
		} else {
			total += s.LimitDays
		}
	}
	if total > m.StatutoryDays {
		return mfield("steps", "各环节时限之和（%d个工作日）超过法定时限", "the steps' limits add up to %d working days, more than statutory_days", total)
	}
	if len(m.Form) > MaxFormFields {
		return mfield("form", "表单字段最多100个", "at most 100 form fields")
	}
	names := map[string]bool{}
	for i := range m.Form {
		f := &m.Form[i]
		f.Label = strings.TrimSpace(f.Label)
		switch {
		case !fieldNameRe.MatchString(f.Name) || names[f.Name]:
			return mfield("form", "表单字段%d名称须为小写字母开头的标识符且不重复", "form field %d: name must be a lowercase identifier, not repeated", i+1)
		case f.Label == "" || tooLong(f.Label, MaxName):
			return mfield("form", "表单字段%d须有标签（不超过50字）", "form field %d: label required, at most 50 characters", i+1)
		case !slices.Contains(FormFieldTypes, f.Type):
			return mfield("form", "表单字段%d类型未知：%s", "form field %d: unknown type %q", i+1, f.Type)
		case f.MaxLen < 0 || f.MaxLen > MaxMatterText:
			return mfield("form", "表单字段%d长度上限无效", "form field %d: invalid max_length", i+1)
		case f.Type == "select" && (len(f.Options) == 0 || len(f.Options) > 100):
			return mfield("form", "表单字段%d（下拉）须有1到100个选项", "form field %d: a select needs 1 to 100 options", i+1)
		case f.Type != "select" && len(f.Options) > 0:
			return mfield("form", "表单字段%d只有下拉类型可设选项", "form field %d: only select fields have options", i+1)
		}
		names[f.Name] = true
	}
	return nil
}

// ValidateForm checks an application's form values against the matter's
// fields and returns them normalised: strings trimmed, numbers as
// float64, dates as YYYY-MM-DD, USCI upper-cased. Unknown fields, missing
// required ones, wrong types and failed check characters are errors
// naming the field.
func (m *Matter) ValidateForm(raw map[string]json.RawMessage) (map[string]any, error) {
	out := map[string]any{}
	for k := range raw {
		if !slices.ContainsFunc(m.Form, func(f FormField) bool { return f.Name == k }) {
			return nil, mfield("form."+k, "未知表单字段：%s", "unknown form field: %s", k)
		}
	}
	for _, f := range m.Form {
		name := "form." + f.Name
		v, ok := raw[f.Name]
		if !ok || string(v) == "null" || string(v) == `""` {
			if f.Required {
				return nil, mfield(name, "%s为必填项", "%s is required", f.Label)
			}
			continue
		}
		var s string
		if f.Type != "number" && f.Type != "bool" {
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, mfield(name, "%s应为文本", "%s must be a string", f.Label)
			}
			s = strings.TrimSpace(s)
			if s == "" {
				if f.Required {
					return nil, mfield(name, "%s为必填项", "%s is required", f.Label)
				}
				continue
			}
			limit := f.MaxLen
			if limit == 0 {
				limit = MaxMatterText
			}
			if tooLong(s, limit) {
				return nil, mfield(name, "%s不能超过%d字", "%s must be at most %d characters", f.Label, limit)
			}
		}
		switch f.Type {
		case "text":
			out[f.Name] = s
		case "number":
			var n float64
			if err := json.Unmarshal(v, &n); err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
				return nil, mfield(name, "%s应为数字", "%s must be a number", f.Label)
			}
			if f.MaxLen > 0 && len(strconv.FormatFloat(n, 'f', -1, 64)) > f.MaxLen {
				return nil, mfield(name, "%s位数过多", "%s has too many digits", f.Label)
			}
			out[f.Name] = n
		case "bool":
			var b bool
			if err := json.Unmarshal(v, &b); err != nil {
				return nil, mfield(name, "%s应为是或否", "%s must be true or false", f.Label)
			}
			out[f.Name] = b
		case "date":
			if _, err := time.Parse("2006-01-02", s); err != nil {
				return nil, mfield(name, "%s日期格式应为 YYYY-MM-DD", "%s must be a date YYYY-MM-DD", f.Label)
			}
			out[f.Name] = s
		case "select":
			if !slices.Contains(f.Options, s) {
				return nil, mfield(name, "%s不是可选项之一", "%s is not one of the options", f.Label)
			}
			out[f.Name] = s
		case "usci":
			s = strings.ToUpper(s)
			if !ValidUSCI(s) {
				return nil, mfield(name, "%s不是有效的统一社会信用代码（校验位不符）", "%s is not a valid unified social credit code", f.Label)
			}
			out[f.Name] = s
		case "id_card":
			s = strings.ToUpper(s)
			if !ValidIDCard(s) {
				return nil, mfield(name, "%s不是有效的居民身份证号码（校验码不符）", "%s is not a valid resident ID number", f.Label)
			}
			out[f.Name] = s
		case "phone":
			if !ValidPhoneNumber(s) {
				return nil, mfield(name, "%s电话号码格式不正确", "%s is not a valid phone number", f.Label)
			}
			out[f.Name] = s
		}
	}
	return out, nil
}

// ValidPhoneNumber accepts a mainland mobile or a landline with area code.
func ValidPhoneNumber(s string) bool { return mobileRe.MatchString(s) || landlineRe.MatchString(s) }

// usciChars are the 31 characters of a unified social credit code
// (GB 32100-2015): digits and upper-case letters without I, O, Z, S, V.
const usciChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usciWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// USCICheck returns the check character for the first 17 characters of a
// unified social credit code, or 0 if one of them is not allowed.
func USCICheck(s17 string) byte {
	if len(s17) != 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(usciChars, s17[i])
		if v < 0 {
			return 0
		}
		sum += v * usciWeights[i]
	}
	return usciChars[(31-sum%31)%31]
}

// ValidUSCI reports whether s is an 18-character unified social credit
// code whose 18th character is the GB 32100-2015 check character (and
// whose 3rd–8th, the administrative division code, are digits).
func ValidUSCI(s string) bool {
	if len(s) != 18 {
		return false
	}
	for i := 2; i < 8; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	c := USCICheck(s[:17])
	return c != 0 && c == s[17]
}

// IDCardCheck returns the ISO 7064 MOD 11-2 check character ('0'–'9' or
// 'X') of the first 17 digits of a resident ID number, or 0.
func IDCardCheck(s17 string) byte {
	if len(s17) != 17 {
		return 0
	}
	sum, w := 0, 1
	for i := 16; i >= 0; i-- {
		if s17[i] < '0' || s17[i] > '9' {
			return 0
		}
		w = w * 2 % 11
		sum += int(s17[i]-'0') * w
	}
	c := (12 - sum%11) % 11
	if c == 10 {
		return 'X'
	}
	return byte('0' + c)
}

// ValidIDCard reports whether s is an 18-digit resident ID number (GB
// 11643-1999) with a real birth date and the right check character.
func ValidIDCard(s string) bool {
	if len(s) != 18 {
		return false
	}
	if _, err := time.Parse("20060102", s[6:14]); err != nil || s[6:8] < "18" {
		return false
	}
	c := IDCardCheck(s[:17])
	return c != 0 && c == s[17]
}

// Applicant types.
const (
	ApplicantPerson  = "person"
	ApplicantCompany = "company"
)

// Applicant is who applies: a person with a resident ID number, or a
// company (or other organisation) with its unified social credit code.
type Applicant struct {
	Type     string `json:"type"`
	Name     string `json:"name"`
	IDNumber string `json:"id_number,omitempty"`
	USCI     string `json:"usci,omitempty"`
	Phone    string `json:"phone"`
	Address  string `json:"address,omitempty"`
	// Contact is the person handling it for a company (经办人).
	Contact string `json:"contact,omitempty"`
	Email   string `json:"email,omitempty"`
}

// Validate trims and checks an applicant.
func (a *Applicant) Validate() error {
	a.Type, a.Name, a.Phone = strings.TrimSpace(a.Type), strings.TrimSpace(a.Name), strings.TrimSpace(a.Phone)
	a.IDNumber, a.USCI = strings.ToUpper(strings.TrimSpace(a.IDNumber)), strings.ToUpper(strings.TrimSpace(a.USCI))
	a.Address, a.Contact, a.Email = strings.TrimSpace(a.Address), strings.TrimSpace(a.Contact), strings.TrimSpace(a.Email)
	switch {
	case a.Type != ApplicantPerson && a.Type != ApplicantCompany:
		return mfield("applicant.type", "申请人类型须为 person（自然人）或 company（法人或其他组织）", "applicant.type must be person or company")
	case a.Name == "" || tooLong(a.Name, MaxTitle):
		return mfield("applicant.name", "申请人名称为必填项，且不超过200字", "applicant.name is required, at most 200 characters")
	case a.Phone == "" || !ValidPhoneNumber(a.Phone):
		return mfield("applicant.phone", "请填写正确的联系电话，用于查询进度", "a valid phone number is required to track the application")
	case tooLong(a.Address, MaxAddress) || tooLong(a.Contact, MaxName) || tooLong(a.Email, 200):
		return mfield("applicant.address", "地址、经办人或邮箱过长", "address, contact or email too long")
	}
	if a.Type == ApplicantPerson {
		if !ValidIDCard(a.IDNumber) {
			return mfield("applicant.id_number", "居民身份证号码无效（校验码不符）", "invalid resident ID number")
		}
		if a.USCI != "" {
			return mfield("applicant.usci", "自然人不填统一社会信用代码", "a person has no unified social credit code")
		}
	} else {
		if !ValidUSCI(a.USCI) {
			return mfield("applicant.usci", "统一社会信用代码无效（校验位不符）", "invalid unified social credit code")
		}
		if a.IDNumber != "" && !ValidIDCard(a.IDNumber) {
			return mfield("applicant.id_number", "经办人身份证号码无效", "invalid ID number of the contact")
		}
	}
	return nil
}

// Masked hides a person's ID number but the first 6 and last 4 characters;
// a company's code is public (it is printed on its licence).
func (a Applicant) Masked() Applicant {
	if n := len(a.IDNumber); n > 10 {
		a.IDNumber = a.IDNumber[:6] + strings.Repeat("*", n-10) + a.IDNumber[n-4:]
	}
	a.Phone = MaskPhone(a.Phone)
	if a.Type == ApplicantPerson {
		a.Name = MaskName(a.Name)
		a.Address = ""
	}
	return a
}

// AlarmScopeStatutory is the red flag of an application still open past
// its statutory limit (法定时限), which must never be exceeded;
// AlarmScopeAutoAccept is not an alarm but the instant an application
// not answered within 5 working days counts as accepted (Art. 32).
const (
	AlarmScopeStatutory  = "statutory"
	AlarmScopeAutoAccept = "auto_accept"
	AlarmScopeStage      = "stage"
)

// MatterStore keeps the service catalogue. The sqlite and postgres stores
// implement it; it is apart from Store so other stores need not.
type MatterStore interface {
	// PutMatter stores m as the next version of its code, setting
	// m.Version and m.CreatedAt.
	PutMatter(ctx context.Context, m *Matter) error
	// Matter returns one version of a matter; version 0 is the latest.
	Matter(ctx context.Context, code string, version int) (*Matter, error)
	// ListMatters returns the latest version of every matter, by code.
	ListMatters(ctx context.Context) ([]*Matter, error)
}
