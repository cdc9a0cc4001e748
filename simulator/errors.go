package simulator

import (
	"errors"
	"fmt"
)

// Code is a machine-readable error code; the wire protocol uses the same strings.
type Code string

const (
	CodeBadJSON          Code = "bad_json"
	CodeUnknownType      Code = "unknown_type"
	CodeInvalid          Code = "invalid"
	CodeTooLarge         Code = "too_large"
	CodeRateLimited      Code = "rate_limited"
	CodeScenarioNotFound Code = "scenario_not_found"
	CodeNoSession        Code = "no_session"
	CodeBadToken         Code = "bad_token"
	CodeSessionEnded     Code = "session_ended"
	CodeUnavailable      Code = "unavailable"
	CodeInternal         Code = "internal"
)

// Error is an application error with a code and a user-safe message in both
// languages. Anything else that reaches a client is shown as internal.
type Error struct {
	Code    Code
	Message Text
	Err     error // the cause, for logs; never shown
}

func (e *Error) Error() string {
	msg := e.Message.In(LangEN)
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, msg, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error with an English and a Chinese message.
func Errorf(code Code, en, zh string) *Error {
	return &Error{Code: code, Message: Text{LangEN: en, LangZH: zh}}
}

// Wrap attaches a cause to an Error.
func (e *Error) Wrap(err error) *Error {
	c := *e
	c.Err = err
	return &c
}

// ErrorCode returns the code of err, or CodeInternal for errors without one.
func ErrorCode(err error) Code {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the user-safe message of err in lang.
func ErrorMessage(err error, lang Lang) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Message.In(lang)
	}
	if lang == LangZH {
		return "服务器内部错误,请稍后再试。"
	}
	return "Internal error; please try again."
}
