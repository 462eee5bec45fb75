package sdk

import (
	"errors"
	"fmt"
)

// Error codes carried in a result envelope. Codes are stable strings; the
// host decides from them whether a failure is the plugin's fault.
const (
	CodeInvalidInput     = "invalid_input"     // the request was wrong; not a plugin fault
	CodeNotFound         = "not_found"         // nothing matched; not a plugin fault
	CodeUnsupported      = "unsupported"       // the plugin does not implement the hook
	CodeInternal         = "internal"          // the plugin failed
	CodePanic            = "panic"             // the plugin panicked; the SDK recovered
	CodeCapabilityDenied = "capability_denied" // a host call was refused
	CodeUnavailable      = "unavailable"       // a dependency (insurer, host service) is down
	CodeForbidden        = "forbidden"         // the calling user may not do this; not a plugin fault
)

// Error is an error with a stable code, as carried in a result envelope.
// Plugins return *Error to choose the code; any other error is reported
// with CodeInternal.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if e.Code == "" {
		return e.Message
	}
	return e.Code + ": " + e.Message
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrNoHost is returned by host operations when the plugin runs where no
// host is reachable (a process plugin in SDK v1, or a unit test without
// sdktest).
var ErrNoHost = &Error{Code: CodeUnavailable, Message: "no host is available to this plugin"}

// CodeOf returns the code of err: the Code of an *Error in its chain,
// or CodeInternal.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	return CodeInternal
}
