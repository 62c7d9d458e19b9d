package tongban

import (
	"errors"
	"fmt"
)

// Error codes are part of the API contract: clients switch on them, and the
// HTTP layer maps each to one status in one place.
const (
	EInvalid      = "invalid"
	ENotFound     = "not_found"
	EConflict     = "conflict"
	EForbidden    = "forbidden"
	EUnauthorized = "unauthorized"
	ETooLarge     = "too_large"
	ERateLimited  = "rate_limited"
	EUnavailable  = "unavailable"
	EInternal     = "internal"
)

// Error is an application error with a machine code and a message in
// Chinese and English. Internal details never go in it; they are logged.
type Error struct {
	Code    string
	Message string // Chinese, shown to people first
	English string
	Field   string // the offending input field, when there is one
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.English)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.English)
}

// Errorf returns an *Error with the given code; zh and en are the two messages.
func Errorf(code, zh, en string) *Error { return &Error{Code: code, Message: zh, English: en} }

// FieldError is an invalid-input error about one named field.
func FieldError(field, zh, en string) *Error {
	return &Error{Code: EInvalid, Field: field, Message: zh, English: en}
}

// ErrorCode returns the code of an application error, or EInternal.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// AsError returns the *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Common errors.
var (
	ErrNotFound     = Errorf(ENotFound, "未找到", "not found")
	ErrForbidden    = Errorf(EForbidden, "无权进行此操作", "you are not allowed to do this")
	ErrUnauthorized = Errorf(EUnauthorized, "请先登录", "authentication required")
	ErrConflict     = Errorf(EConflict, "该办件已被他人更新，请刷新后重试", "the case was changed by someone else; reload and retry")
)
