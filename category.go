package tongban

import "time"

// Request types (诉求类型). The API speaks the English codes and accepts
// the Chinese names on input.
const (
	TypeConsultation = "consultation" // 咨询
	TypeHelp         = "help"         // 求助
	TypeComplaint    = "complaint"    // 投诉
	TypeReport       = "report"       // 举报
	TypeSuggestion   = "suggestion"   // 建议
)

// RequestTypes lists the types in display order.
var RequestTypes = []string{TypeConsultation, TypeHelp, TypeComplaint, TypeReport, TypeSuggestion}

// TypeNames gives each request type's Chinese name.
var TypeNames = map[string]string{
	TypeConsultation: "咨询", TypeHelp: "求助", TypeComplaint: "投诉", TypeReport: "举报", TypeSuggestion: "建议",
}

// DefaultTypeLimits are the working-day limits when a category sets none.
var DefaultTypeLimits = map[string]int{
	TypeConsultation: 2, TypeHelp: 10, TypeSuggestion: 10, TypeComplaint: 15, TypeReport: 15,
}

// ParseType accepts an English code or a Chinese name.
func ParseType(s string) (string, bool) {
	if _, ok := TypeNames[s]; ok {
		return s, true
	}
	for code, name := range TypeNames {
		if name == s {
			return code, true
		}
	}
	return "", false
}

// Channels by which a request arrives.
const (
	ChannelWeb     = "web"
	ChannelPhone   = "phone"
	ChannelWindow  = "window"
	ChannelStreet  = "street" // 街道服务站点
	ChannelOpen311 = "open311"
	ChannelAPI     = "api"
)

// Channels lists every channel; ChannelNames names them in Chinese.
var Channels = []string{ChannelWeb, ChannelPhone, ChannelWindow, ChannelStreet, ChannelOpen311, ChannelAPI}

var ChannelNames = map[string]string{
	ChannelWeb: "网站", ChannelPhone: "热线电话", ChannelWindow: "窗口", ChannelStreet: "街道服务站点",
	ChannelOpen311: "Open311", ChannelAPI: "接口",
}

// Category is a kind of request (and an Open311 service) with its time
// limits and workflow options.
type Category struct {
	Code        string `json:"code"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Dept is the department that usually leads; routing starts from it.
	Dept string `json:"department,omitempty"`
	// Limits overrides DefaultTypeLimits per request type, in working days.
	Limits map[string]int `json:"limits,omitempty"`
	// LimitHours > 0 makes the category urgent: its limit is in office hours.
	LimitHours         int       `json:"limit_hours,omitempty"`
	ReplyNeedsApproval bool      `json:"reply_needs_approval"`
	Keywords           []string  `json:"keywords,omitempty"`
	Active             bool      `json:"active"`
	Order              int       `json:"order"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// LimitDays returns the working-day limit for a request type in this category.
func (c *Category) LimitDays(typ string) int {
	if d, ok := c.Limits[typ]; ok && d > 0 {
		return d
	}
	return DefaultTypeLimits[typ]
}

// Validate checks a category definition.
func (c *Category) Validate() error {
	if !validCode(c.Code) {
		return FieldError("code", "编码只能包含小写字母、数字、-和_，长度1-40", "code must be 1-40 of a-z, 0-9, - and _")
	}
	if n := len([]rune(c.Name)); n == 0 || n > 50 {
		return FieldError("name", "名称必填，不超过50字", "name is required, at most 50 characters")
	}
	if len([]rune(c.Description)) > 500 {
		return FieldError("description", "说明不超过500字", "description at most 500 characters")
	}
	for t, d := range c.Limits {
		if _, ok := TypeNames[t]; !ok {
			return FieldError("limits", "未知诉求类型："+t, "unknown request type: "+t)
		}
		if d < 1 || d > 365 {
			return FieldError("limits", "时限须在1到365个工作日之间", "limits must be 1..365 working days")
		}
	}
	if c.LimitHours < 0 || c.LimitHours > 720 {
		return FieldError("limit_hours", "小时时限须在0到720之间", "limit_hours must be 0..720")
	}
	return nil
}

func validCode(s string) bool {
	if len(s) == 0 || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// ValidCode reports whether s is a valid department or category code.
func ValidCode(s string) bool { return validCode(s) }
