// Package fault names the kinds of failure that callers decide on, so that
// domain packages can say "this was invalid" or "this conflicts" without
// knowing about HTTP, and the API maps each kind to a status code in one
// place. Domain errors wrap a kind: errors.Is(err, fault.ErrConflict).
package fault

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// The kinds.
var (
	ErrInvalid      = errors.New("invalid input")       // 400/422
	ErrNotFound     = errors.New("not found")           // 404
	ErrConflict     = errors.New("conflict")            // 409
	ErrForbidden    = errors.New("forbidden")           // 403
	ErrUnauthorized = errors.New("not signed in")       // 401
	ErrUnavailable  = errors.New("service unavailable") // 503
	ErrTooMany      = errors.New("too many requests")   // 429
	ErrTooLarge     = errors.New("payload too large")   // 413
	ErrLocked       = errors.New("account locked")      // 423
)

// Kind wraps kind with a message: errors.Is(New(ErrConflict, "..."), ErrConflict).
func New(kind error, msg string) error {
	return &kindError{kind: kind, msg: msg}
}

// Newf is New with formatting.
func Newf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// FieldError is one field's problem; Field uses the API's JSON names
// (dotted for nested: "address.postal_code").
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Fields is a set of per-field problems. It is an ErrInvalid. Messages
// must say what is wrong and what is expected, never echo PHI values.
type Fields []FieldError

// Add appends a problem for field.
func (f *Fields) Add(field, msg string) { *f = append(*f, FieldError{Field: field, Message: msg}) }

// Err returns f as an error, or nil when empty.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	sort.SliceStable(f, func(i, j int) bool { return f[i].Field < f[j].Field })
	return f
}

func (f Fields) Error() string {
	parts := make([]string, len(f))
	for i, e := range f {
		parts[i] = e.Field + ": " + e.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Unwrap makes Fields an ErrInvalid.
func (f Fields) Unwrap() error { return ErrInvalid }

// Field returns a one-field error.
func Field(field, msg string) error { return Fields{{Field: field, Message: msg}} }
