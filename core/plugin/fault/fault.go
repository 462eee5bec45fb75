// Package fault classifies plugin failures that are the plugin's fault —
// traps, panics, timeouts, memory blow-ups, malformed output, capability
// violations, crashes — as opposed to errors a plugin returns on purpose
// (an *sdk.Error such as invalid_input). The registry's circuit breaker
// counts faults; the host runtimes (wasmhost, processhost) produce them.
//
// Imported by core/plugin and its runtimes only.
package fault

import (
	"context"
	"errors"
	"fmt"

	"github.com/pfinni/pfinni/sdk"
)

// Kind names what went wrong.
type Kind string

// Fault kinds.
const (
	Trap             Kind = "trap"              // WASM trap or guest exit
	Panic            Kind = "panic"             // guest panicked; the SDK recovered
	Timeout          Kind = "timeout"           // call exceeded its time limit
	Memory           Kind = "memory"            // guest ran past its memory limit
	Malformed        Kind = "malformed"         // output is not a valid envelope / result
	CapabilityDenied Kind = "capability_denied" // guest called a host op it was not granted
	Crash            Kind = "crash"             // process plugin died or its connection broke
	Unavailable      Kind = "unavailable"       // plugin is out of service (disabled, tripped, restarting)
)

// Error is a plugin fault. It names the plugin and the hook.
type Error struct {
	Plugin string
	Hook   string
	Kind   Kind
	Err    error
}

func (e *Error) Error() string {
	hook := ""
	if e.Hook != "" {
		hook = " " + e.Hook
	}
	if e.Err == nil {
		return fmt.Sprintf("plugin %q%s: %s", e.Plugin, hook, e.Kind)
	}
	return fmt.Sprintf("plugin %q%s: %s: %v", e.Plugin, hook, e.Kind, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns a fault.
func New(plugin, hook string, kind Kind, err error) *Error {
	return &Error{Plugin: plugin, Hook: hook, Kind: kind, Err: err}
}

// KindOf returns the kind of the fault in err's chain, or "".
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// Counts reports whether err should count against the plugin's circuit
// breaker: every fault except Unavailable (which the breaker itself or
// the admin caused).
func Counts(err error) bool {
	k := KindOf(err)
	return k != "" && k != Unavailable
}

// Label names err without its text, for telemetry and for records users
// read: the fault kind ("timeout"), or for an error the plugin returned
// on purpose its SDK code ("plugin_error:invalid_input"), or the
// context's ("canceled", "deadline_exceeded"); "" for nil. A plugin's own
// words (and a guest's stderr) never pass through it.
func Label(err error) string {
	var se *sdk.Error
	switch {
	case err == nil:
		return ""
	case KindOf(err) != "":
		return string(KindOf(err))
	case errors.As(err, &se):
		return "plugin_error:" + sdk.CodeOf(se)
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline_exceeded"
	}
	return "error"
}

// Redacted returns an error whose text is Label(err) and which still
// matches err's chain with errors.Is/As, or nil for nil.
func Redacted(err error) error {
	if err == nil {
		return nil
	}
	return &redacted{label: Label(err), err: err}
}

type redacted struct {
	label string
	err   error
}

func (r *redacted) Error() string { return r.label }
func (r *redacted) Unwrap() error { return r.err }
